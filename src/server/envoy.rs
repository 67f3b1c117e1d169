//! Envoy `ext_authz` in HTTP mode: Envoy forwards the original request's method, path (after its
//! `path_prefix`) and the allowed headers; a mapping file says how to read the principal, action,
//! resource and context from them.
//!
//! ```json
//! {
//!   "version": 1,
//!   "principal": "{header:x-iamc-principal|anonymous}",
//!   "id": "{header:x-request-id}",
//!   "context": { "aws:SourceIp": "{header:x-forwarded-for}" },
//!   "routes": [
//!     { "method": "POST", "path": "/streams/{stream}/records",
//!       "action": "kinesis:PutRecord",
//!       "resource": "arn:aws:kinesis:us-east-1:111122223333:stream/{stream}" },
//!     { "method": "GET", "path": "/streams", "action": "kinesis:ListStreams", "resource": "*" }
//!   ]
//! }
//! ```
//!
//! - `routes` are tried in order; the first whose `method` (omitted or `*`: any) and `path`
//!   match is used. A `path` is literal segments, `{name}` (one non-empty segment, captured
//!   and percent-decoded) and, last, `{name*}` (the rest of the path, at least one character).
//! - Every value is a template: text with placeholders `{name}` (a captured path segment),
//!   `{header:NAME}` (a request header, any case), `{query:NAME}` (a query parameter),
//!   `{method}` and `{path}` (the original request's). `{…|DEFAULT}` gives a default for a
//!   missing value; `{{` and `}}` are literal braces.
//! - `principal` (required at the top or in every route) and `context` are given at the top and
//!   may be overridden per route (a route's `context` keys are added to, and replace, the top
//!   ones). `id` is optional and echoed in the decision log.
//! - A missing value without a default makes the request **unmappable** when it is the
//!   principal, action or resource (answered 403, fail closed); a context key whose value is
//!   missing is left out of the request, as an absent key.
//!
//! The principal header must be set by something the server trusts (Envoy's JWT filter, an
//! authenticating proxy) and stripped from client requests; iamc does not authenticate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hyper::HeaderMap;
use serde::Deserialize;

use crate::request::RequestJson;

/// The longest mapping file, in bytes.
const MAX_MAPPING_BYTES: u64 = 4 * 1024 * 1024;
/// The most routes in a mapping.
const MAX_ROUTES: usize = 10_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingJson {
    version: u32,
    #[serde(default)]
    principal: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    context: BTreeMap<String, String>,
    routes: Vec<RouteJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RouteJson {
    #[serde(default)]
    method: Option<String>,
    path: String,
    action: String,
    resource: String,
    #[serde(default)]
    principal: Option<String>,
    #[serde(default)]
    context: BTreeMap<String, String>,
}

/// Where a placeholder's value comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    Param(String),
    Header(String),
    Query(String),
    Method,
    Path,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Var {
        source: Source,
        default: Option<String>,
    },
}

/// A parsed template.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Template {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Rest(String),
}

#[derive(Clone, Debug)]
struct Route {
    method: Option<String>,
    segments: Vec<Segment>,
    action: Template,
    resource: Template,
    principal: Template,
    context: Vec<(String, Template)>,
}

/// A loaded mapping.
#[derive(Clone, Debug)]
pub struct Mapping {
    id: Option<Template>,
    routes: Vec<Route>,
}

/// What Envoy forwarded.
pub(crate) struct Forwarded<'a> {
    pub(crate) method: &'a str,
    /// The original path (after the prefix), without the query.
    pub(crate) path: &'a str,
    pub(crate) query: Option<&'a str>,
    pub(crate) headers: &'a HeaderMap,
}

/// Why a mapping file was refused ([`Mapping::load`], [`Mapping::parse`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MappingError {
    /// The file cannot be read.
    #[error("{}: cannot read: {source}", .path.display())]
    Read {
        /// The mapping file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is larger than the bound.
    #[error("{}: the mapping is larger than {limit} bytes", .path.display())]
    TooLarge {
        /// The mapping file.
        path: PathBuf,
        /// The bound, in bytes.
        limit: u64,
    },
    /// The file was read; its content is refused.
    #[error("{}: {source}", .path.display())]
    InFile {
        /// The mapping file.
        path: PathBuf,
        /// Why the content is refused.
        #[source]
        source: Box<MappingError>,
    },
    /// Not JSON, or not of the mapping's shape (an unknown field, a wrong type, a field
    /// missing).
    #[error("{0}")]
    Json(#[source] serde_json::Error),
    /// A `version` other than 1.
    #[error("version {0} is not supported (expected 1)")]
    Version(u32),
    /// No routes: every request would be unmappable.
    #[error("`routes` is empty: every request would be unmappable")]
    NoRoutes,
    /// More routes than the bound.
    #[error("more than {limit} routes")]
    TooManyRoutes {
        /// The bound.
        limit: usize,
    },
    /// The top-level `principal` or `id` uses path parameters, which only a route has.
    #[error("top-level templates cannot use path parameters: {}", .params.join(", "))]
    TopLevelParams {
        /// The parameters used.
        params: Vec<String>,
    },
    /// A route without a `principal`, and none at the top.
    #[error("routes[{route}]: no `principal`, here or at the top of the mapping")]
    NoPrincipal {
        /// The route's index.
        route: usize,
    },
    /// A template or path that is not valid, or a template that uses a parameter its route's
    /// path does not have.
    #[error("{}{message}", located(.at))]
    Invalid {
        /// Where: `routes[2]`, `context `aws:SourceIp``, `routes[2]: context `k``; empty for
        /// the top-level `principal` and `id`.
        at: String,
        /// What is wrong, with the text it is about.
        message: String,
    },
}

/// `at: ` when `at` is not empty.
fn located(at: &str) -> String {
    if at.is_empty() {
        String::new()
    } else {
        format!("{at}: ")
    }
}

impl Mapping {
    /// Reads a mapping file.
    pub fn load(path: &Path) -> Result<Mapping, MappingError> {
        let read = |source| MappingError::Read {
            path: path.to_path_buf(),
            source,
        };
        let meta = std::fs::metadata(path).map_err(read)?;
        if meta.len() > MAX_MAPPING_BYTES {
            return Err(MappingError::TooLarge {
                path: path.to_path_buf(),
                limit: MAX_MAPPING_BYTES,
            });
        }
        let text = std::fs::read_to_string(path).map_err(read)?;
        Mapping::parse(&text).map_err(|e| MappingError::InFile {
            path: path.to_path_buf(),
            source: Box::new(e),
        })
    }

    /// Reads a mapping from its JSON text.
    pub fn parse(text: &str) -> Result<Mapping, MappingError> {
        let m: MappingJson = serde_json::from_str(text).map_err(MappingError::Json)?;
        if m.version != 1 {
            return Err(MappingError::Version(m.version));
        }
        if m.routes.is_empty() {
            return Err(MappingError::NoRoutes);
        }
        if m.routes.len() > MAX_ROUTES {
            return Err(MappingError::TooManyRoutes { limit: MAX_ROUTES });
        }
        let invalid = |at: String| {
            move |message: String| MappingError::Invalid {
                at: at.clone(),
                message,
            }
        };
        let top_principal = m
            .principal
            .as_deref()
            .map(Template::parse)
            .transpose()
            .map_err(invalid(String::new()))?;
        let mut top_context = Vec::new();
        for (k, v) in &m.context {
            top_context.push((
                k.clone(),
                Template::parse(v).map_err(invalid(format!("context `{k}`")))?,
            ));
        }
        let id =
            m.id.as_deref()
                .map(Template::parse)
                .transpose()
                .map_err(invalid(String::new()))?;
        if let Some(t) = id
            .iter()
            .chain(top_principal.iter())
            .find(|t| t.has_params())
        {
            return Err(MappingError::TopLevelParams {
                params: t.params().into_iter().map(String::from).collect(),
            });
        }
        let mut routes = Vec::new();
        for (i, r) in m.routes.into_iter().enumerate() {
            let at = invalid(format!("routes[{i}]"));
            let segments = parse_path(&r.path).map_err(&at)?;
            let principal = match (&r.principal, &top_principal) {
                (Some(p), _) => Template::parse(p).map_err(&at)?,
                (None, Some(t)) => t.clone(),
                (None, None) => return Err(MappingError::NoPrincipal { route: i }),
            };
            let mut context = top_context.clone();
            for (k, v) in &r.context {
                let t =
                    Template::parse(v).map_err(invalid(format!("routes[{i}]: context `{k}`")))?;
                context.retain(|(key, _)| !key.eq_ignore_ascii_case(k));
                context.push((k.clone(), t));
            }
            let route = Route {
                method: r
                    .method
                    .filter(|m| m != "*")
                    .map(|m| m.to_ascii_uppercase()),
                action: Template::parse(&r.action).map_err(&at)?,
                resource: Template::parse(&r.resource).map_err(&at)?,
                principal,
                context,
                segments,
            };
            let captured: Vec<&str> = route
                .segments
                .iter()
                .filter_map(|s| match s {
                    Segment::Param(n) | Segment::Rest(n) => Some(n.as_str()),
                    Segment::Literal(_) => None,
                })
                .collect();
            let used = [&route.action, &route.resource, &route.principal]
                .into_iter()
                .chain(route.context.iter().map(|(_, t)| t))
                .flat_map(Template::params);
            for p in used {
                if !captured.contains(&p) {
                    return Err(at(format!(
                        "`{{{p}}}` is not a parameter of the path `{}`",
                        r.path
                    )));
                }
            }
            routes.push(route);
        }
        Ok(Mapping { id, routes })
    }

    /// The request Envoy's check stands for, or why it cannot be built.
    pub(crate) fn map(&self, f: &Forwarded<'_>) -> Result<RequestJson, String> {
        let (route, params) = self
            .routes
            .iter()
            .find_map(|r| {
                if r.method.as_deref().is_some_and(|m| m != f.method) {
                    return None;
                }
                match_path(&r.segments, f.path).map(|p| (r, p))
            })
            .ok_or_else(|| format!("no mapping route matches {} {}", f.method, f.path))?;
        let ctx = Ctx { f, params: &params };
        let need = |t: &Template, what: &str| {
            t.render(&ctx)
                .map_err(|missing| format!("the {what} needs {missing}, which the request lacks"))
        };
        let mut context = serde_json::Map::new();
        for (k, t) in &route.context {
            if let Ok(v) = t.render(&ctx) {
                context.insert(k.clone(), serde_json::Value::String(v));
            }
        }
        Ok(RequestJson {
            id: self
                .id
                .as_ref()
                .and_then(|t| t.render(&ctx).ok())
                .map(serde_json::Value::String),
            principal: need(&route.principal, "principal")?,
            action: need(&route.action, "action")?,
            resource: need(&route.resource, "resource")?,
            extra_resources: Vec::new(),
            context,
        })
    }
}

struct Ctx<'a> {
    f: &'a Forwarded<'a>,
    params: &'a [(String, String)],
}

impl Template {
    fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if let Some(r) = rest.strip_prefix("{{") {
                lit.push('{');
                rest = r;
            } else if let Some(r) = rest.strip_prefix("}}") {
                lit.push('}');
                rest = r;
            } else if c == '{' {
                let end = rest
                    .find('}')
                    .ok_or_else(|| format!("`{text}`: a `{{` is not closed"))?;
                let inner = rest.get(1..end).unwrap_or_default();
                rest = rest.get(end + 1..).unwrap_or_default();
                if !lit.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut lit)));
                }
                let (name, default) = match inner.split_once('|') {
                    Some((n, d)) => (n.trim(), Some(d.to_string())),
                    None => (inner.trim(), None),
                };
                let source = match name.split_once(':') {
                    Some(("header", h)) if !h.trim().is_empty() => {
                        Source::Header(h.trim().to_ascii_lowercase())
                    }
                    Some(("query", q)) if !q.trim().is_empty() => Source::Query(q.trim().into()),
                    Some(_) => return Err(format!("`{text}`: unknown placeholder `{{{inner}}}` (expected {{NAME}}, {{header:NAME}}, {{query:NAME}}, {{method}} or {{path}})")),
                    None if name == "method" => Source::Method,
                    None if name == "path" => Source::Path,
                    None if is_name(name) => Source::Param(name.into()),
                    None => return Err(format!("`{text}`: `{{{inner}}}` is not a placeholder")),
                };
                parts.push(Part::Var { source, default });
            } else if c == '}' {
                return Err(format!("`{text}`: a `}}` without `{{` (write `}}}}`)"));
            } else {
                lit.push(c);
                rest = rest.get(c.len_utf8()..).unwrap_or_default();
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Text(lit));
        }
        Ok(Template { parts })
    }

    fn params(&self) -> Vec<&str> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Var {
                    source: Source::Param(n),
                    ..
                } => Some(n.as_str()),
                _ => None,
            })
            .collect()
    }

    fn has_params(&self) -> bool {
        !self.params().is_empty()
    }

    /// The text, or the first placeholder that has no value and no default.
    fn render(&self, ctx: &Ctx<'_>) -> Result<String, String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var { source, default } => {
                    let value = match source {
                        Source::Param(n) => ctx
                            .params
                            .iter()
                            .find(|(k, _)| k == n)
                            .map(|(_, v)| v.clone()),
                        Source::Header(h) => ctx
                            .f
                            .headers
                            .get(h.as_str())
                            .and_then(|v| v.to_str().ok())
                            .map(|v| v.trim().to_string())
                            .filter(|v| !v.is_empty()),
                        Source::Query(q) => ctx.f.query.and_then(|qs| query_param(qs, q)),
                        Source::Method => Some(ctx.f.method.to_string()),
                        Source::Path => Some(ctx.f.path.to_string()),
                    };
                    match (value, default) {
                        (Some(v), _) => out.push_str(&v),
                        (None, Some(d)) => out.push_str(d),
                        (None, None) => {
                            return Err(match source {
                                Source::Header(h) => format!("the header `{h}`"),
                                Source::Query(q) => format!("the query parameter `{q}`"),
                                Source::Param(n) => format!("the path parameter `{n}`"),
                                Source::Method | Source::Path => "a value".into(),
                            })
                        }
                    }
                }
            }
        }
        Ok(out)
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn parse_path(p: &str) -> Result<Vec<Segment>, String> {
    let Some(rest) = p.strip_prefix('/') else {
        return Err(format!("the path `{p}` does not start with `/`"));
    };
    let raw: Vec<&str> = rest.split('/').collect();
    let mut out = Vec::new();
    for (i, s) in raw.iter().enumerate() {
        if let Some(inner) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if let Some(name) = inner.strip_suffix('*') {
                if i + 1 != raw.len() {
                    return Err(format!("`{{{inner}}}` must be the last segment of `{p}`"));
                }
                if !is_name(name) {
                    return Err(format!("`{{{inner}}}` in `{p}` is not a parameter name"));
                }
                out.push(Segment::Rest(name.into()));
            } else if is_name(inner) {
                out.push(Segment::Param(inner.into()));
            } else {
                return Err(format!("`{{{inner}}}` in `{p}` is not a parameter name"));
            }
        } else if s.contains(['{', '}']) {
            return Err(format!(
                "the segment `{s}` of `{p}` mixes text and a parameter"
            ));
        } else {
            out.push(Segment::Literal((*s).to_string()));
        }
    }
    Ok(out)
}

fn match_path(segments: &[Segment], path: &str) -> Option<Vec<(String, String)>> {
    let rest = path.strip_prefix('/')?;
    let mut parts = rest.split('/');
    let mut params = Vec::new();
    let mut remaining = rest;
    for seg in segments {
        match seg {
            Segment::Rest(name) => {
                if remaining.is_empty() {
                    return None;
                }
                params.push((name.clone(), percent_decode(remaining)));
                return Some(params);
            }
            _ => {
                let part = parts.next()?;
                remaining = remaining.get(part.len()..).unwrap_or_default();
                remaining = remaining.strip_prefix('/').unwrap_or(remaining);
                match seg {
                    Segment::Literal(l) if l == part => {}
                    Segment::Param(name) if !part.is_empty() => {
                        params.push((name.clone(), percent_decode(part)));
                    }
                    _ => return None,
                }
            }
        }
    }
    parts.next().is_none().then_some(params)
}

fn query_param(qs: &str, name: &str) -> Option<String> {
    qs.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(k) == name).then(|| form_decode(v))
    })
}

fn form_decode(s: &str) -> String {
    percent_decode(&s.replace('+', " "))
}

/// Decodes `%XX` escapes; a malformed escape or a result that is not UTF-8 stays as written.
pub(crate) fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = |j: usize| b.get(j).and_then(|h| char::from(*h).to_digit(16));
        match (c, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const MAPPING: &str = r#"{
      "version": 1,
      "principal": "{header:x-principal|anonymous}",
      "id": "{header:x-request-id}",
      "context": {"aws:SourceIp": "{header:x-forwarded-for}"},
      "routes": [
        {"method": "POST", "path": "/streams/{stream}/records", "action": "kinesis:PutRecord",
         "resource": "arn:aws:kinesis:us-east-1:111122223333:stream/{stream}"},
        {"path": "/raw/{rest*}", "action": "kinesis:{query:op}", "resource": "{rest}",
         "context": {"aws:SourceIp": "{header:x-real-ip|10.0.0.1}"}}
      ]
    }"#;

    fn fwd<'a>(
        method: &'a str,
        path: &'a str,
        q: Option<&'a str>,
        h: &'a HeaderMap,
    ) -> Forwarded<'a> {
        Forwarded {
            method,
            path,
            query: q,
            headers: h,
        }
    }

    #[test]
    fn maps_routes_and_templates() {
        let m = Mapping::parse(MAPPING).unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            "x-principal",
            "arn:aws:iam::111122223333:user/alice".parse().unwrap(),
        );
        h.insert("x-forwarded-for", "203.0.113.9".parse().unwrap());
        let r = m
            .map(&fwd("POST", "/streams/orders/records", None, &h))
            .unwrap();
        assert_eq!(r.principal, "arn:aws:iam::111122223333:user/alice");
        assert_eq!(r.action, "kinesis:PutRecord");
        assert_eq!(
            r.resource,
            "arn:aws:kinesis:us-east-1:111122223333:stream/orders"
        );
        assert_eq!(r.context["aws:SourceIp"], "203.0.113.9");
        assert!(r.id.is_none());
        // Wrong method, too many segments, an empty parameter: no route.
        assert!(m
            .map(&fwd("GET", "/streams/orders/records", None, &h))
            .is_err());
        assert!(m
            .map(&fwd("POST", "/streams/orders/records/x", None, &h))
            .is_err());
        assert!(m.map(&fwd("POST", "/streams//records", None, &h)).is_err());
        // The rest of a path, a query parameter, a default, the route's context.
        let empty = HeaderMap::new();
        let r = m
            .map(&fwd(
                "GET",
                "/raw/arn%3Aaws/x",
                Some("op=GetRecords&z=1"),
                &empty,
            ))
            .unwrap();
        assert_eq!(r.principal, "anonymous");
        assert_eq!(r.action, "kinesis:GetRecords");
        assert_eq!(r.resource, "arn:aws/x");
        assert_eq!(r.context["aws:SourceIp"], "10.0.0.1");
        // A missing value without a default: unmappable.
        let e = m.map(&fwd("GET", "/raw/x", None, &empty)).unwrap_err();
        assert!(e.contains("query parameter `op`"), "{e}");
    }

    #[test]
    fn refuses_bad_mappings() {
        for bad in [
            r#"{"version": 2, "routes": []}"#,
            r#"{"version": 1, "routes": []}"#,
            r#"{"version": 1, "routes": [{"path": "/a", "action": "x", "resource": "*"}]}"#,
            r#"{"version": 1, "principal": "p", "routes": [{"path": "a", "action": "x", "resource": "*"}]}"#,
            r#"{"version": 1, "principal": "p", "routes": [{"path": "/a/{b}", "action": "{c}", "resource": "*"}]}"#,
            r#"{"version": 1, "principal": "p", "routes": [{"path": "/{r*}/a", "action": "x", "resource": "*"}]}"#,
            r#"{"version": 1, "principal": "{bogus:x}", "routes": [{"path": "/", "action": "x", "resource": "*"}]}"#,
            r#"{"version": 1, "principal": "{unclosed", "routes": [{"path": "/", "action": "x", "resource": "*"}]}"#,
            r#"{"version": 1, "principal": "p", "extra": 1, "routes": [{"path": "/", "action": "x", "resource": "*"}]}"#,
        ] {
            assert!(Mapping::parse(bad).is_err(), "{bad}");
        }
        let e = Mapping::parse(r#"{"version": 2, "routes": []}"#).unwrap_err();
        assert!(matches!(e, MappingError::Version(2)), "{e}");
        let e = Mapping::parse(
            r#"{"version": 1, "routes": [{"path": "/a", "action": "x", "resource": "*"}]}"#,
        )
        .unwrap_err();
        assert!(matches!(e, MappingError::NoPrincipal { route: 0 }), "{e}");
        assert_eq!(
            e.to_string(),
            "routes[0]: no `principal`, here or at the top of the mapping"
        );
        let e = Mapping::parse(
            r#"{"version": 1, "principal": "p", "routes": [{"path": "/a/{b}", "action": "{c}", "resource": "*"}]}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "routes[0]: `{c}` is not a parameter of the path `/a/{b}`"
        );
        let e = Mapping::parse(
            r#"{"version": 1, "principal": "{unclosed", "routes": [{"path": "/", "action": "x", "resource": "*"}]}"#,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "`{unclosed`: a `{` is not closed");
        let t = Template::parse("{{literal}}").unwrap();
        assert_eq!(t.parts, vec![Part::Text("{literal}".into())]);
    }

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(percent_decode("a%2Fb"), "a/b");
        assert_eq!(percent_decode("a%zz"), "a%zz");
        assert_eq!(percent_decode("%ff"), "%ff");
        assert_eq!(query_param("a=1&b=x+y", "b").as_deref(), Some("x y"));
    }
}
