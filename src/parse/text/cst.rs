//! The text form's syntax tree: what was written, where, and the comments around it.
//!
//! The parser builds it from text; [`Document::from_policy`] builds it from an AST (without
//! positions or comments). The formatter prints it, and [`super::lower`] turns it into the IAM
//! JSON structure that the JSON front end's builder then checks, so both front ends validate
//! every value the same way.

use crate::ast::{Policy, PrincipalValue};

/// A byte range in the source (`0..0` for a tree built from an AST).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// `start..end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }
}

/// A comment as written (`// ...` or `/* ... */`), trailing whitespace removed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// The text, delimiters included.
    pub text: String,
    /// Where.
    pub span: Span,
}

/// The comments the formatter keeps with a node: those on the lines before it, and those after
/// it on its last line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Comments {
    /// On their own lines before the node.
    pub leading: Vec<String>,
    /// After the node, on the same line.
    pub trailing: Vec<String>,
}

impl Comments {
    /// No comments.
    pub fn is_empty(&self) -> bool {
        self.leading.is_empty() && self.trailing.is_empty()
    }
}

/// A value: a bare word or a string literal, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Value {
    /// The text (what IAM JSON would hold in a string).
    pub text: String,
    /// Where.
    pub span: Span,
    /// Comments kept with it.
    pub comments: Comments,
}

impl Value {
    /// A value with a place and no comments.
    pub fn new(text: impl Into<String>, span: Span) -> Value {
        Value {
            text: text.into(),
            span,
            comments: Comments::default(),
        }
    }
}

/// A policy document: `policy ["Id"] [version V] { statements }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    /// From `policy` to `{`.
    pub header: Span,
    /// Comments of the header line.
    pub header_comments: Comments,
    /// `Id`.
    pub id: Option<Value>,
    /// `Version`, as written (the JSON builder checks it).
    pub version: Option<Value>,
    /// The statements.
    pub statements: Vec<Statement>,
    /// The closing `}`.
    pub close: Span,
    /// Comments of the closing line.
    pub close_comments: Comments,
    /// Comments after the closing `}`, on lines of their own.
    pub end_comments: Vec<String>,
}

/// `Allow` or `Deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// `allow`
    Allow,
    /// `deny`
    Deny,
}

impl Effect {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Effect::Allow => "allow",
            Effect::Deny => "deny",
        }
    }

    /// The JSON spelling.
    pub fn json(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// A statement: `[sid "S"] allow|deny [principals to] actions [on resources] [when ...];`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    /// From its first token to its `;`.
    pub span: Span,
    /// `sid "S"`: the Sid, with the span of the whole clause.
    pub sid: Option<(Span, Value)>,
    /// Comments of the `sid` line.
    pub sid_comments: Comments,
    /// `allow` or `deny`.
    pub effect: Effect,
    /// `Principal` / `NotPrincipal`.
    pub principals: Option<PrincipalClause>,
    /// `Action` / `NotAction`.
    pub actions: ListClause,
    /// `Resource` / `NotResource`.
    pub resources: Option<ListClause>,
    /// The conditions, `when ... and ...`.
    pub conditions: Vec<ConditionClause>,
}

/// The kind of a principal, i.e. its key in a JSON `Principal` object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// `anyone`: `"*"`.
    Anyone,
    /// `aws V`: `{"AWS": V}`.
    Aws,
    /// `service V`: `{"Service": V}`.
    Service,
    /// `federated V`: `{"Federated": V}`.
    Federated,
    /// `canonical-user V`: `{"CanonicalUser": V}`.
    CanonicalUser,
}

impl PrincipalKind {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            PrincipalKind::Anyone => "anyone",
            PrincipalKind::Aws => "aws",
            PrincipalKind::Service => "service",
            PrincipalKind::Federated => "federated",
            PrincipalKind::CanonicalUser => "canonical-user",
        }
    }

    /// The key of the JSON `Principal` object it goes under (`anyone` next to other
    /// principals is `{"AWS": "*"}`).
    pub fn json_key(self) -> &'static str {
        match self {
            PrincipalKind::Anyone | PrincipalKind::Aws => "AWS",
            PrincipalKind::Service => "Service",
            PrincipalKind::Federated => "Federated",
            PrincipalKind::CanonicalUser => "CanonicalUser",
        }
    }
}

/// One principal: `anyone` or `KIND value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The kind.
    pub kind: PrincipalKind,
    /// From the kind keyword to the end of the value.
    pub span: Span,
    /// The value (`"*"` for `anyone`); its comments are the principal's.
    pub value: Value,
}

/// The principals of a statement: `[anyone except] P, P, ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrincipalClause {
    /// The keywords before the first principal (`allow`, `deny`, `anyone except`).
    pub head: Span,
    /// Comments of the head.
    pub comments: Comments,
    /// `anyone except`: `NotPrincipal`.
    pub negated: bool,
    /// The principals.
    pub items: Vec<Principal>,
}

/// Actions or resources: `[all except] V, V, ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListClause {
    /// The keywords before the first value (`allow`, `to`, `on`, `all except`).
    pub head: Span,
    /// Comments of the head.
    pub comments: Comments,
    /// `all except`: `NotAction` / `NotResource`.
    pub negated: bool,
    /// The values.
    pub items: Vec<Value>,
}

/// One condition: `when|and KEY OPERATOR V, V, ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionClause {
    /// From `when`/`and` to the operator.
    pub head: Span,
    /// Comments of the head.
    pub comments: Comments,
    /// The condition key.
    pub key: Value,
    /// The operator, as written (`StringEquals`, `ForAnyValue:StringLikeIfExists`).
    pub operator: Value,
    /// The values.
    pub values: Vec<Value>,
}

impl Document {
    /// The text form of an AST, without comments. Principals and conditions are listed in the
    /// AST's order, which is already grouped as JSON groups them.
    pub fn from_policy(policy: &Policy) -> Document {
        let v = |s: &str| Value::new(s, Span::default());
        let statements = policy
            .statements
            .iter()
            .map(|st| Statement {
                span: Span::default(),
                sid: st.sid.as_ref().map(|s| (Span::default(), v(s))),
                sid_comments: Comments::default(),
                effect: match st.effect {
                    crate::ast::Effect::Allow => Effect::Allow,
                    crate::ast::Effect::Deny => Effect::Deny,
                },
                principals: st.principal.as_ref().map(|p| PrincipalClause {
                    head: Span::default(),
                    comments: Comments::default(),
                    negated: p.negated,
                    items: p
                        .values
                        .iter()
                        .map(|pv| {
                            let (kind, value) = match pv {
                                PrincipalValue::Anyone => (PrincipalKind::Anyone, "*"),
                                PrincipalValue::Aws(s) => (PrincipalKind::Aws, s.as_str()),
                                PrincipalValue::Service(s) => (PrincipalKind::Service, s.as_str()),
                                PrincipalValue::Federated(s) => {
                                    (PrincipalKind::Federated, s.as_str())
                                }
                                PrincipalValue::CanonicalUser(s) => {
                                    (PrincipalKind::CanonicalUser, s.as_str())
                                }
                            };
                            Principal {
                                kind,
                                span: Span::default(),
                                value: v(value),
                            }
                        })
                        .collect(),
                }),
                actions: ListClause {
                    head: Span::default(),
                    comments: Comments::default(),
                    negated: st.action.negated,
                    items: st.action.patterns.iter().map(|a| v(&a.raw)).collect(),
                },
                resources: st.resource.as_ref().map(|r| ListClause {
                    head: Span::default(),
                    comments: Comments::default(),
                    negated: r.negated,
                    items: r.patterns.iter().map(|p| v(&p.raw)).collect(),
                }),
                conditions: st
                    .conditions
                    .iter()
                    .map(|c| ConditionClause {
                        head: Span::default(),
                        comments: Comments::default(),
                        key: v(&c.key),
                        operator: v(&c.operator.name()),
                        values: c.values.iter().map(|x| v(&x.raw)).collect(),
                    })
                    .collect(),
            })
            .collect();
        Document {
            header: Span::default(),
            header_comments: Comments::default(),
            id: policy.id.as_deref().map(v),
            version: policy.version.as_str().map(v),
            statements,
            close: Span::default(),
            close_comments: Comments::default(),
            end_comments: Vec::new(),
        }
    }

    /// Puts principals of one kind together and conditions of one operator together, each group
    /// where its first member was: the order the JSON form (and so the AST) has. `anyone` goes
    /// with `aws`, as `{"AWS": "*"}`.
    pub fn normalize(&mut self) {
        for st in &mut self.statements {
            if let Some(p) = &mut st.principals {
                group_by(&mut p.items, |x| x.kind.json_key().to_string());
            }
            group_by(&mut st.conditions, |c| c.operator.text.clone());
        }
    }

    /// Attaches each comment to the node it belongs with: a comment on the same line as the end
    /// of a node trails that node; any other comment leads the next node.
    pub fn attach_comments(&mut self, comments: &[Comment], lines: &super::lexer::LineIndex<'_>) {
        if comments.is_empty() {
            return;
        }
        let mut end_comments = Vec::new();
        let mut anchors = self.anchors();
        for c in comments {
            let next = anchors.iter().position(|(span, _)| span.end > c.span.start);
            let prev = match next {
                Some(i) => i.checked_sub(1),
                None => anchors.len().checked_sub(1),
            };
            let same_line =
                |span: &Span| lines.line(span.end.saturating_sub(1)) == lines.line(c.span.start);
            match (prev, next) {
                (Some(p), _) if anchors.get(p).is_some_and(|(s, _)| same_line(s)) => {
                    if let Some((_, cm)) = anchors.get_mut(p) {
                        cm.trailing.push(c.text.clone());
                    }
                }
                (_, Some(n)) => {
                    if let Some((_, cm)) = anchors.get_mut(n) {
                        cm.leading.push(c.text.clone());
                    }
                }
                (_, None) => end_comments.push(c.text.clone()),
            }
        }
        drop(anchors);
        self.end_comments.extend(end_comments);
    }

    /// Every node that can hold comments, in source order, with its span.
    fn anchors(&mut self) -> Vec<(Span, &mut Comments)> {
        let mut out: Vec<(Span, &mut Comments)> = vec![(self.header, &mut self.header_comments)];
        for st in &mut self.statements {
            if let Some((span, _)) = &st.sid {
                out.push((*span, &mut st.sid_comments));
            }
            if let Some(p) = &mut st.principals {
                out.push((p.head, &mut p.comments));
                for item in &mut p.items {
                    out.push((item.span, &mut item.value.comments));
                }
            }
            out.push((st.actions.head, &mut st.actions.comments));
            for item in &mut st.actions.items {
                out.push((item.span, &mut item.comments));
            }
            if let Some(r) = &mut st.resources {
                out.push((r.head, &mut r.comments));
                for item in &mut r.items {
                    out.push((item.span, &mut item.comments));
                }
            }
            for c in &mut st.conditions {
                out.push((c.head, &mut c.comments));
                for item in &mut c.values {
                    out.push((item.span, &mut item.comments));
                }
            }
        }
        out.push((self.close, &mut self.close_comments));
        out
    }
}

/// Stable grouping: every element moves up to just after the last earlier element of its group.
fn group_by<T, K: PartialEq>(items: &mut Vec<T>, key: impl Fn(&T) -> K) {
    let mut groups: Vec<(K, Vec<T>)> = Vec::new();
    for item in items.drain(..) {
        let k = key(&item);
        match groups.iter_mut().find(|(g, _)| *g == k) {
            Some((_, members)) => members.push(item),
            None => groups.push((k, vec![item])),
        }
    }
    items.extend(groups.into_iter().flat_map(|(_, members)| members));
}

#[cfg(test)]
mod tests {
    use super::group_by;

    #[test]
    fn grouping_is_stable_and_keeps_first_positions() {
        let mut v = vec![("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5)];
        group_by(&mut v, |x| x.0);
        assert_eq!(v, [("a", 1), ("a", 3), ("b", 2), ("b", 5), ("c", 4)]);
    }
}
