//! The translation of IAM statements for the peers: one Cedar policy and one Rego rule per
//! statement.

use iamc::request::{ContextValue, Request};
use serde_json::Value;
use std::str::FromStr;

use crate::*;

/// A condition the peers can express: the (operator, key) pairs of tier S3.
#[derive(Clone, Debug)]
pub(crate) enum Cond {
    TeamEquals(Vec<String>),
    AgentLike(Vec<String>),
    SecureTransport(bool),
    SourceIp(Vec<String>),
    TimeBefore(Vec<String>),
}

/// One IAM statement, as the peers see it.
#[derive(Clone, Debug)]
pub(crate) struct Stmt {
    pub(crate) allow: bool,
    pub(crate) not_action: bool,
    pub(crate) actions: Vec<String>,
    pub(crate) not_resource: bool,
    pub(crate) resources: Vec<String>,
    pub(crate) conds: Vec<Cond>,
}

pub(crate) fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// Reads a statement, or says why a peer cannot express it.
pub(crate) fn read_stmt(s: &Value) -> Result<Stmt, String> {
    let allow = s.get("Effect").and_then(Value::as_str) == Some("Allow");
    let (not_action, actions) = match (s.get("Action"), s.get("NotAction")) {
        (Some(a), None) => (false, strings(a)),
        (None, Some(a)) => (true, strings(a)),
        _ => return Err("no Action or NotAction".into()),
    };
    let (not_resource, resources) = match (s.get("Resource"), s.get("NotResource")) {
        (Some(r), None) => (false, strings(r)),
        (None, Some(r)) => (true, strings(r)),
        _ => return Err("no Resource or NotResource".into()),
    };
    if s.get("Principal").is_some() || s.get("NotPrincipal").is_some() {
        return Err("a principal".into());
    }
    for p in actions.iter().chain(&resources) {
        // `?` has no Cedar counterpart; `${...}` variables (and `${*}`, a literal `*`) neither.
        if p.contains('?') || p.contains("${") {
            return Err(format!("pattern {p:?}"));
        }
        if p.contains(['"', '\\', '[', ']', '{', '}']) {
            return Err(format!(
                "pattern {p:?} has a character the peers treat specially"
            ));
        }
    }
    let mut conds = Vec::new();
    if let Some(c) = s.get("Condition").and_then(Value::as_object) {
        for (op, kv) in c {
            let Some(kv) = kv.as_object() else {
                return Err(format!("condition {op}"));
            };
            for (key, v) in kv {
                let vals = strings(v);
                conds.push(match (op.as_str(), key.as_str()) {
                    ("StringEquals", "aws:PrincipalTag/team") => Cond::TeamEquals(vals),
                    ("StringLike", "aws:UserAgent") => Cond::AgentLike(vals),
                    ("Bool", "aws:SecureTransport") if vals.len() == 1 => {
                        Cond::SecureTransport(vals[0] == "true")
                    }
                    ("IpAddress", "aws:SourceIp") => Cond::SourceIp(vals),
                    ("DateLessThan", "aws:CurrentTime") => Cond::TimeBefore(vals),
                    _ => return Err(format!("condition {op} on {key}")),
                });
            }
        }
    }
    Ok(Stmt {
        allow,
        not_action,
        actions,
        not_resource,
        resources,
        conds,
    })
}

/// The request's fields the peers look at.
pub(crate) struct Fields {
    pub(crate) action: String,
    pub(crate) resource: String,
    pub(crate) team: String,
    pub(crate) agent: String,
    pub(crate) secure: bool,
    pub(crate) ip: String,
    pub(crate) time: String,
}

pub(crate) fn fields(r: &Request) -> Fields {
    let text = |k: &str| match r.context.get(k) {
        Some(ContextValue::One(s)) => s.text().to_string(),
        _ => String::new(),
    };
    Fields {
        action: r.action.to_ascii_lowercase(),
        resource: r.resource.clone(),
        team: text("aws:PrincipalTag/team"),
        agent: text("aws:UserAgent"),
        secure: text("aws:SecureTransport") == "true",
        ip: text("aws:SourceIp"),
        time: text("aws:CurrentTime"),
    }
}

// ---------------------------------------------------------------------------------------------
// Cedar

pub(crate) fn cedar_any(var: &str, pats: &[String], lower: bool) -> String {
    let alts: Vec<String> = pats
        .iter()
        .map(|p| {
            let p = if lower {
                p.to_ascii_lowercase()
            } else {
                p.clone()
            };
            format!("context.{var} like \"{p}\"")
        })
        .collect();
    format!("({})", alts.join(" || "))
}

pub(crate) fn cedar_policy(s: &Stmt) -> String {
    let mut parts = Vec::new();
    let a = cedar_any("action", &s.actions, true);
    parts.push(if s.not_action { format!("!{a}") } else { a });
    let r = cedar_any("resource", &s.resources, false);
    parts.push(if s.not_resource { format!("!{r}") } else { r });
    for c in &s.conds {
        let alts: Vec<String> = match c {
            Cond::TeamEquals(v) => v
                .iter()
                .map(|t| format!("context.team == \"{t}\""))
                .collect(),
            Cond::AgentLike(v) => v
                .iter()
                .map(|t| format!("context.agent like \"{t}\""))
                .collect(),
            Cond::SecureTransport(b) => vec![format!("context.secure == {b}")],
            Cond::SourceIp(v) => v
                .iter()
                .map(|t| format!("context.ip.isInRange(ip(\"{t}\"))"))
                .collect(),
            Cond::TimeBefore(v) => v
                .iter()
                .map(|t| format!("context.time < datetime(\"{t}\")"))
                .collect(),
        };
        parts.push(format!("({})", alts.join(" || ")));
    }
    format!(
        "{}(principal, action, resource) when {{ {} }};\n",
        if s.allow { "permit" } else { "forbid" },
        parts.join(" && ")
    )
}

pub(crate) struct Cedar {
    pub(crate) set: cedar_policy::PolicySet,
    pub(crate) auth: cedar_policy::Authorizer,
    pub(crate) entities: cedar_policy::Entities,
}

impl Cedar {
    /// The policy text: one policy per statement.
    pub(crate) fn text(stmts: &[Stmt]) -> String {
        stmts.iter().map(cedar_policy).collect()
    }

    pub(crate) fn new(text: &str) -> Result<Cedar, String> {
        let set = cedar_policy::PolicySet::from_str(text).map_err(|e| format!("{e:?}"))?;
        Ok(Cedar {
            set,
            auth: cedar_policy::Authorizer::new(),
            entities: cedar_policy::Entities::empty(),
        })
    }

    pub(crate) fn request(f: &Fields) -> Result<cedar_policy::Request, String> {
        use cedar_policy::{Context, EntityUid, RestrictedExpression as R};
        let uid = |s: &str| EntityUid::from_str(s).map_err(|e| e.to_string());
        let ext = |s: String| R::from_str(&s).map_err(|e| e.to_string());
        let context = Context::from_pairs([
            ("action".to_string(), R::new_string(f.action.clone())),
            ("resource".to_string(), R::new_string(f.resource.clone())),
            ("team".to_string(), R::new_string(f.team.clone())),
            ("agent".to_string(), R::new_string(f.agent.clone())),
            ("secure".to_string(), R::new_bool(f.secure)),
            ("ip".to_string(), ext(format!("ip(\"{}\")", f.ip))?),
            (
                "time".to_string(),
                ext(format!("datetime(\"{}\")", f.time))?,
            ),
        ])
        .map_err(|e| e.to_string())?;
        cedar_policy::Request::new(
            uid("User::\"caller\"")?,
            uid("Action::\"call\"")?,
            uid("Resource::\"target\"")?,
            context,
            None,
        )
        .map_err(|e| e.to_string())
    }

    pub(crate) fn allowed(&self, r: &cedar_policy::Request) -> bool {
        self.auth
            .is_authorized(r, &self.set, &self.entities)
            .decision()
            == cedar_policy::Decision::Allow
    }
}

// ---------------------------------------------------------------------------------------------
// regorus

pub(crate) fn rego_quote(s: &str) -> String {
    // The patterns have no `"` or `\` (read_stmt refuses them).
    format!("\"{s}\"")
}

pub(crate) fn rego_any(field: &str, pats: &[String], lower: bool) -> String {
    let pats: Vec<String> = pats
        .iter()
        .map(|p| {
            rego_quote(&if lower {
                p.to_ascii_lowercase()
            } else {
                p.clone()
            })
        })
        .collect();
    if pats.len() == 1 {
        format!("glob.match({}, null, input.{field})", pats[0])
    } else {
        format!("any_glob([{}], input.{field})", pats.join(", "))
    }
}

pub(crate) fn rego_rule(s: &Stmt) -> String {
    let mut body = Vec::new();
    let a = rego_any("action", &s.actions, true);
    body.push(if s.not_action { format!("not {a}") } else { a });
    let r = rego_any("resource", &s.resources, false);
    body.push(if s.not_resource {
        format!("not {r}")
    } else {
        r
    });
    for c in &s.conds {
        let quoted = |v: &[String]| {
            v.iter()
                .map(|t| rego_quote(t))
                .collect::<Vec<_>>()
                .join(", ")
        };
        body.push(match c {
            Cond::TeamEquals(v) => format!("input.team in [{}]", quoted(v)),
            Cond::AgentLike(v) => format!("any_glob([{}], input.agent)", quoted(v)),
            Cond::SecureTransport(b) => format!("input.secure == {b}"),
            Cond::SourceIp(v) => format!("any_cidr([{}], input.ip)", quoted(v)),
            // RFC 3339 times in UTC with the same layout compare as strings.
            Cond::TimeBefore(v) => format!("any_before([{}], input.time)", quoted(v)),
        });
    }
    format!(
        "{} if {{\n\t{}\n}}\n\n",
        if s.allow { "any_allow" } else { "any_deny" },
        body.join("\n\t")
    )
}

pub(crate) const REGO_HEAD: &str = r#"package iam

import rego.v1

default allow := false

default any_allow := false

default any_deny := false

allow if {
	any_allow
	not any_deny
}

any_glob(ps, v) if {
	some p in ps
	glob.match(p, null, v)
}

any_cidr(cs, v) if {
	some c in cs
	net.cidr_contains(c, v)
}

any_before(ts, v) if {
	some t in ts
	time.parse_rfc3339_ns(v) < time.parse_rfc3339_ns(t)
}

"#;

pub(crate) struct Rego {
    pub(crate) engine: regorus::Engine,
}

impl Rego {
    /// The module texts: the head, then modules of `PER_MODULE` statements.
    pub(crate) fn modules(stmts: &[Stmt]) -> Vec<String> {
        // Rules of one package may span modules; an empty set still defines the rule names.
        let mut chunks: Vec<&[Stmt]> = stmts.chunks(PER_MODULE).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        let mut out = vec![REGO_HEAD.to_string()];
        for chunk in chunks {
            let mut text = String::from("package iam\n\nimport rego.v1\n\n");
            for s in chunk {
                text.push_str(&rego_rule(s));
            }
            out.push(text);
        }
        out
    }

    /// Loads the modules; regorus keeps its own copy of each text (counted in its memory).
    pub(crate) fn new(modules: &[String]) -> Result<Rego, String> {
        let mut engine = regorus::Engine::new();
        for (k, text) in modules.iter().enumerate() {
            engine
                .add_policy(format!("module-{k}.rego"), text.clone())
                .map_err(|e| e.to_string())?;
        }
        Ok(Rego { engine })
    }

    pub(crate) fn input(f: &Fields) -> Result<regorus::Value, String> {
        let v = serde_json::json!({
            "action": f.action, "resource": f.resource, "team": f.team, "agent": f.agent,
            "secure": f.secure, "ip": f.ip, "time": f.time,
        });
        regorus::Value::from_json_str(&v.to_string()).map_err(|e| e.to_string())
    }

    pub(crate) fn allowed(&mut self, input: &regorus::Value) -> Result<bool, String> {
        self.engine.set_input(input.clone());
        let v = self
            .engine
            .eval_rule("data.iam.allow".into())
            .map_err(|e| e.to_string())?;
        Ok(v == regorus::Value::from(true))
    }
}
