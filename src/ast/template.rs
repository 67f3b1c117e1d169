//! Text with policy variables: `Resource` ARNs and condition values.
//!
//! In a `2012-10-17` policy, `${key}` and `${key, 'default'}` are variables and `${*}`, `${?}`,
//! `${$}` stand for the literal characters. In `2008-10-17` and Version-less policies all of that
//! is literal text (spec §1.2, §4).

use std::borrow::Cow;

use crate::glob::{Glob, Tok};

/// A piece of a template.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Piece {
    /// Literal text (wildcard characters in it are literal).
    Lit(String),
    /// `*`, in a glob context.
    Star,
    /// `?`, in a glob context.
    One,
    /// `${key}` or `${key, 'default'}`.
    Var {
        /// The key, lower-cased (keys ignore case).
        key: String,
        /// The text that stands in when the key is absent.
        default: Option<String>,
    },
}

/// Parsed text with variables and, in glob contexts, wildcards.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Template {
    pieces: Vec<Piece>,
    /// For a template without variables: its glob and text, built once at parse time so that
    /// evaluation allocates nothing.
    fixed: Option<(Glob, String)>,
}

/// How to read a template.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TemplateMode {
    /// `*` and `?` are wildcards (Resource, StringLike, ArnLike).
    pub wildcards: bool,
    /// `${...}` is read (the policy is version 2012-10-17 and the place allows variables).
    pub variables: bool,
}

impl Template {
    /// Parses `text`.
    pub fn parse(text: &str, mode: TemplateMode) -> Template {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if mode.variables && rest.starts_with("${") {
                if let Some(end) = rest.find('}') {
                    let inner = rest.get(2..end).unwrap_or("");
                    if let Some(piece) = parse_variable(inner) {
                        match piece {
                            Piece::Lit(s) => lit.push_str(&s),
                            p => {
                                if !lit.is_empty() {
                                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                                }
                                pieces.push(p);
                            }
                        }
                        rest = rest.get(end + 1..).unwrap_or("");
                        continue;
                    }
                }
                // A `${` with no valid variable stays literal.
            }
            match c {
                '*' | '?' if mode.wildcards => {
                    if !lit.is_empty() {
                        pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                    }
                    pieces.push(if c == '*' { Piece::Star } else { Piece::One });
                }
                c => lit.push(c),
            }
            rest = rest.get(c.len_utf8()..).unwrap_or("");
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        let mut t = Template {
            pieces,
            fixed: None,
        };
        if !t.has_variables() {
            let glob = t.build_glob(|_| None);
            let text = t.build_text(|_| None);
            if let (Some(g), Some(s)) = (glob, text) {
                t.fixed = Some((g, s));
            }
        }
        t
    }

    /// The pieces.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// True when the template holds at least one variable.
    pub fn has_variables(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Var { .. }))
    }

    /// Keys the template refers to (lower-cased).
    pub fn variable_keys(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Var { key, .. } => Some(key.as_str()),
            _ => None,
        })
    }

    /// Fills the variables from `lookup` and returns the glob to match, or `None` when a variable
    /// has no value and no default (then the template matches nothing, spec §4.3). Substituted
    /// text is literal: a `*` in a tag value is not a wildcard (spec §4.5).
    pub fn resolve<'a>(&self, lookup: impl Fn(&str) -> Option<&'a str>) -> Option<Cow<'_, Glob>> {
        match &self.fixed {
            Some((g, _)) => Some(Cow::Borrowed(g)),
            None => self.build_glob(lookup).map(Cow::Owned),
        }
    }

    fn build_glob<'a>(&self, lookup: impl Fn(&str) -> Option<&'a str>) -> Option<Glob> {
        let mut toks = Vec::new();
        for p in &self.pieces {
            match p {
                Piece::Lit(s) => toks.extend(s.chars().map(Tok::Lit)),
                Piece::Star => toks.push(Tok::Star),
                Piece::One => toks.push(Tok::One),
                Piece::Var { key, default } => {
                    let v = lookup(key).or(default.as_deref())?;
                    toks.extend(v.chars().map(Tok::Lit));
                }
            }
        }
        Some(Glob::from_toks(toks))
    }

    /// Like [`Template::resolve`], but for non-glob contexts: the resolved text.
    pub fn resolve_text<'a>(
        &self,
        lookup: impl Fn(&str) -> Option<&'a str>,
    ) -> Option<Cow<'_, str>> {
        match &self.fixed {
            Some((_, s)) => Some(Cow::Borrowed(s)),
            None => self.build_text(lookup).map(Cow::Owned),
        }
    }

    fn build_text<'a>(&self, lookup: impl Fn(&str) -> Option<&'a str>) -> Option<String> {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Lit(s) => out.push_str(s),
                Piece::Star => out.push('*'),
                Piece::One => out.push('?'),
                Piece::Var { key, default } => out.push_str(lookup(key).or(default.as_deref())?),
            }
        }
        Some(out)
    }

    /// The template as a glob when it has no variables.
    pub fn as_glob(&self) -> Option<&Glob> {
        self.fixed.as_ref().map(|(g, _)| g)
    }

    /// The text before the first wildcard or variable: every string the template can match
    /// starts with it (used by indexes).
    pub fn literal_prefix(&self) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Lit(s) => out.push_str(s),
                _ => break,
            }
        }
        out
    }

    /// The template as glob text with every variable written `*` (it can stand for anything):
    /// what its shape allows, for checks that look at ARN fields.
    pub fn shape(&self) -> String {
        let mut s = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Lit(t) => s.push_str(t),
                Piece::Star | Piece::Var { .. } => s.push('*'),
                Piece::One => s.push('?'),
            }
        }
        s
    }

    /// Whether the template is plain text: no wildcard, no variable.
    pub fn is_literal(&self) -> bool {
        self.pieces.iter().all(|p| matches!(p, Piece::Lit(_)))
    }
}

/// Reads the inside of `${...}`: a special escape, `key`, or `key, 'default'`.
fn parse_variable(inner: &str) -> Option<Piece> {
    match inner {
        "*" => return Some(Piece::Lit("*".into())),
        "?" => return Some(Piece::Lit("?".into())),
        "$" => return Some(Piece::Lit("$".into())),
        _ => {}
    }
    let (key, default) = match inner.split_once(", ") {
        Some((k, d)) => {
            let d = d.strip_prefix('\'')?.strip_suffix('\'')?;
            (k, Some(d.to_string()))
        }
        None => (inner, None),
    };
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '-' | '_' | '.' | '@'));
    if !valid {
        return None;
    }
    Some(Piece::Var {
        key: key.to_ascii_lowercase(),
        default,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLOB_VARS: TemplateMode = TemplateMode {
        wildcards: true,
        variables: true,
    };

    #[test]
    fn variables_and_escapes() {
        let t = Template::parse("stream/${aws:PrincipalTag/team}-*", GLOB_VARS);
        let g = t.resolve(|k| (k == "aws:principaltag/team").then_some("data"));
        assert!(g.is_some_and(|g| g.matches("stream/data-events")));
        assert!(t.resolve(|_| None).is_none());
        let t = Template::parse("stream/${aws:PrincipalTag/team, 'shared'}-*", GLOB_VARS);
        assert!(t
            .resolve(|_| None)
            .is_some_and(|g| g.matches("stream/shared-x")));
        let t = Template::parse("literal${*}star/*", GLOB_VARS);
        let g = t.resolve(|_| None);
        assert!(g
            .as_ref()
            .is_some_and(|g| g.matches("literal*star/anything")));
        assert!(g.is_some_and(|g| !g.matches("literalXstar/anything")));
        // A substituted value is literal.
        let t = Template::parse("stream/${aws:PrincipalTag/team}-*", GLOB_VARS);
        let g = t.resolve(|_| Some("*"));
        assert!(g.is_some_and(|g| !g.matches("stream/anything-x")));
        // 2008: literal.
        let t = Template::parse(
            "stream/${aws:username}",
            TemplateMode {
                wildcards: true,
                variables: false,
            },
        );
        assert!(t
            .resolve(|_| Some("alice"))
            .is_some_and(|g| g.matches("stream/${aws:username}")));
        // Unclosed stays literal.
        let t = Template::parse("a${b", GLOB_VARS);
        assert!(t.resolve(|_| None).is_some_and(|g| g.matches("a${b")));
    }
}
