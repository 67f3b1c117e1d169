//! Syntax tree -> IAM JSON structure ([`JsonNode`]), positions kept.
//!
//! The JSON front end's builder ([`crate::parse::policy_from_node`]) then checks and builds the
//! AST, so a text policy and its JSON form are validated by the same code and give the same AST.
//! Each node carries the line and column of the text it came from, so the builder's errors
//! point into the text.
//!
//! The mapping:
//!
//! - `policy "I" version V { ... }`: `{"Version": "V", "Id": "I", "Statement": [...]}`
//!   (`Statement` is always an array).
//! - A list of one value is a string, a longer list an array.
//! - `anyone` alone is `"Principal": "*"`; otherwise principals are grouped by kind into an
//!   object, in the order each kind first appears, `anyone` as `"AWS": "*"`.
//! - Conditions are grouped by operator, in the order each operator first appears; the keys of
//!   one operator keep their order. A key given twice under one operator is an error (`IAM002`),
//!   as a duplicate JSON key is.
//! - Every value is a JSON string (IAM reads `10` and `"10"`, `true` and `"true"` alike).

use crate::ast::Loc;
use crate::diag::{Code, Diagnostic};
use crate::parse::json::reader::child_pointer;
use crate::parse::json::{JsonKey, JsonNode, JsonValue, Span as JsonSpan};

use super::cst::{Document, ListClause, PrincipalKind, Span, Statement, Value};
use super::lexer::LineIndex;

struct Lower<'a> {
    lines: &'a LineIndex<'a>,
    errors: Vec<Diagnostic>,
}

/// Lowers a document. `lines` indexes the text it was parsed from (an empty index for a tree
/// built from an AST). The errors (a condition key given twice under one operator, whose
/// second occurrence is left out of the node) are returned with the node, so that the
/// builder's errors can be reported with them.
pub fn document_to_json(doc: &Document, lines: &LineIndex<'_>) -> (JsonNode, Vec<Diagnostic>) {
    let mut l = Lower {
        lines,
        errors: Vec::new(),
    };
    let node = l.document(doc);
    (node, l.errors)
}

impl Lower<'_> {
    fn pos(&self, span: Span) -> JsonSpan {
        let (line, column) = self.lines.line_col(span.start);
        JsonSpan {
            offset: span.start,
            line,
            column,
        }
    }

    fn string(&self, v: &Value) -> JsonNode {
        JsonNode {
            value: JsonValue::String(v.text.clone()),
            span: self.pos(v.span),
        }
    }

    fn key(&self, name: &str, span: Span) -> JsonKey {
        JsonKey {
            name: name.to_string(),
            span: self.pos(span),
        }
    }

    /// One value as a string, several as an array.
    fn one_or_many(&self, values: &[&Value], span: Span) -> JsonNode {
        match values {
            [one] => self.string(one),
            many => JsonNode {
                value: JsonValue::Array(many.iter().map(|v| self.string(v)).collect()),
                span: self.pos(span),
            },
        }
    }

    fn document(&mut self, doc: &Document) -> JsonNode {
        let mut members = Vec::new();
        if let Some(v) = &doc.version {
            members.push((self.key("Version", v.span), self.string(v)));
        }
        if let Some(id) = &doc.id {
            members.push((self.key("Id", id.span), self.string(id)));
        }
        let statements = doc
            .statements
            .iter()
            .enumerate()
            .map(|(i, st)| self.statement(i, st))
            .collect();
        let brace = doc.header;
        members.push((
            self.key("Statement", brace),
            JsonNode {
                value: JsonValue::Array(statements),
                span: self.pos(brace),
            },
        ));
        JsonNode {
            value: JsonValue::Object(members),
            span: self.pos(doc.header),
        }
    }

    fn statement(&mut self, index: usize, st: &Statement) -> JsonNode {
        let mut m = Vec::new();
        if let Some((span, sid)) = &st.sid {
            m.push((self.key("Sid", *span), self.string(sid)));
        }
        let effect_span = match &st.principals {
            Some(p) => p.head,
            None => st.actions.head,
        };
        m.push((
            self.key("Effect", effect_span),
            JsonNode {
                value: JsonValue::String(st.effect.json().to_string()),
                span: self.pos(effect_span),
            },
        ));
        if let Some(p) = &st.principals {
            let name = if p.negated {
                "NotPrincipal"
            } else {
                "Principal"
            };
            let value = match p.items.as_slice() {
                [only] if only.kind == PrincipalKind::Anyone => JsonNode {
                    value: JsonValue::String("*".to_string()),
                    span: self.pos(only.value.span),
                },
                items => {
                    let mut groups: Vec<(&'static str, Vec<&Value>)> = Vec::new();
                    for item in items {
                        let k = item.kind.json_key();
                        match groups.iter_mut().find(|(g, _)| *g == k) {
                            Some((_, vs)) => vs.push(&item.value),
                            None => groups.push((k, vec![&item.value])),
                        }
                    }
                    let members = groups
                        .into_iter()
                        .map(|(k, vs)| {
                            let first = vs.first().map_or(p.head, |v| v.span);
                            (self.key(k, first), self.one_or_many(&vs, first))
                        })
                        .collect();
                    JsonNode {
                        value: JsonValue::Object(members),
                        span: self.pos(p.head),
                    }
                }
            };
            m.push((self.key(name, p.head), value));
        }
        let list = |l: &Self, c: &ListClause, plain: &str, not: &str| {
            let name = if c.negated { not } else { plain };
            let items: Vec<&Value> = c.items.iter().collect();
            (l.key(name, c.head), l.one_or_many(&items, c.head))
        };
        m.push(list(self, &st.actions, "Action", "NotAction"));
        if let Some(r) = &st.resources {
            m.push(list(self, r, "Resource", "NotResource"));
        }
        if let Some(first) = st.conditions.first() {
            // operator -> [(key, values node)], operators in order of first appearance.
            let mut ops: Vec<(&Value, Vec<(JsonKey, JsonNode)>)> = Vec::new();
            for c in &st.conditions {
                let values: Vec<&Value> = c.values.iter().collect();
                let entry = (
                    self.key(&c.key.text, c.key.span),
                    self.one_or_many(&values, c.key.span),
                );
                let slot = match ops.iter().position(|(op, _)| op.text == c.operator.text) {
                    Some(i) => i,
                    None => {
                        ops.push((&c.operator, Vec::new()));
                        ops.len() - 1
                    }
                };
                if let Some((op, keys)) = ops.get_mut(slot) {
                    if let Some((k, _)) = keys.iter().find(|(k, _)| k.name == c.key.text) {
                        let (line, column) = (k.span.line, k.span.column);
                        let (l2, c2) = self.lines.line_col(c.key.span.start);
                        self.errors.push(
                            Diagnostic::error(
                                Code::DuplicateKey,
                                format!(
                                    "condition key `{}` appears twice under `{}` (first at line {line}, column {column})",
                                    c.key.text, op.text
                                ),
                                Loc {
                                    pointer: child_pointer(
                                        &child_pointer(
                                            &format!("/Statement/{index}/Condition"),
                                            &op.text,
                                        ),
                                        &c.key.text,
                                    ),
                                    line: l2,
                                    column: c2,
                                },
                            )
                            .with_help("list all its values in one condition: KEY OPERATOR V1, V2"),
                        );
                    } else {
                        keys.push(entry);
                    }
                }
            }
            let members = ops
                .into_iter()
                .map(|(op, keys)| {
                    (
                        self.key(&op.text, op.span),
                        JsonNode {
                            value: JsonValue::Object(keys),
                            span: self.pos(op.span),
                        },
                    )
                })
                .collect();
            m.push((
                self.key("Condition", first.head),
                JsonNode {
                    value: JsonValue::Object(members),
                    span: self.pos(first.head),
                },
            ));
        }
        JsonNode {
            value: JsonValue::Object(m),
            span: self.pos(st.span),
        }
    }
}
