//! The formatter: a syntax tree -> the text form, laid out one way only.
//!
//! Layout (two-space indent, [`WIDTH`] columns):
//!
//! - `policy "Id" version 2012-10-17 {` on the first line, `}` on the last; a blank line
//!   between statements.
//! - `sid "S"` on its own line above its statement.
//! - A statement without conditions that fits on one line is written on one line:
//!   `allow kinesis:ListStreams on *;`.
//! - Otherwise each clause starts a line: the first (`allow ...`) at the statement's indent,
//!   the others (`to`, `on`, `when`, `and`) two spaces further in. A clause's values follow on
//!   its line when they fit; if not, one value per line, aligned under the first.
//! - Values are bare when they are plain words, else JSON string literals; the Id and Sids are
//!   always quoted.
//! - Comments stay with the node they were attached to ([`Document::attach_comments`]): leading
//!   comments on their own lines above it, trailing comments after it on its line.
//!
//! The layout depends only on the tree and its comments, never on how the source was laid
//! out, so formatting is idempotent.

use super::cst::{Comments, Document, PrincipalKind, Statement, Value};
use super::token::{quote, text_value};

/// The widest line the formatter aims for.
pub const WIDTH: usize = 100;

/// One value of a clause as printed.
struct Item<'a> {
    text: String,
    comments: &'a Comments,
}

/// A clause as printed: its keywords and its values.
struct Clause<'a> {
    head: String,
    comments: &'a Comments,
    items: Vec<Item<'a>>,
}

fn width(s: &str) -> usize {
    s.chars().count()
}

fn leading(out: &mut String, indent: usize, comments: &[String]) {
    for c in comments {
        out.push_str(&" ".repeat(indent));
        out.push_str(c);
        out.push('\n');
    }
}

fn trailing(out: &mut String, comments: &[String]) {
    for c in comments {
        out.push(' ');
        out.push_str(c);
    }
}

fn value_item(v: &Value) -> Item<'_> {
    Item {
        text: text_value(&v.text),
        comments: &v.comments,
    }
}

/// Prints a document (call [`Document::normalize`] first for the canonical order).
pub fn print_document(doc: &Document) -> String {
    let mut out = String::new();
    leading(&mut out, 0, &doc.header_comments.leading);
    out.push_str("policy");
    if let Some(id) = &doc.id {
        out.push(' ');
        out.push_str(&quote(&id.text));
    }
    if let Some(v) = &doc.version {
        out.push_str(" version ");
        out.push_str(&text_value(&v.text));
    }
    out.push_str(" {");
    trailing(&mut out, &doc.header_comments.trailing);
    out.push('\n');
    for (i, st) in doc.statements.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        statement(&mut out, st, 2);
    }
    if !doc.close_comments.leading.is_empty() && !doc.statements.is_empty() {
        out.push('\n');
    }
    leading(&mut out, 2, &doc.close_comments.leading);
    out.push('}');
    trailing(&mut out, &doc.close_comments.trailing);
    out.push('\n');
    for c in &doc.end_comments {
        out.push_str(c);
        out.push('\n');
    }
    out
}

fn clauses(st: &Statement) -> Vec<Clause<'_>> {
    let mut out = Vec::new();
    let effect = st.effect.keyword();
    let except = |head: &str, negated: bool, what: &str| {
        if negated {
            format!("{head} {what} except")
        } else {
            head.to_string()
        }
    };
    let action_head = match &st.principals {
        Some(p) => {
            out.push(Clause {
                head: except(effect, p.negated, "anyone"),
                comments: &p.comments,
                items: p
                    .items
                    .iter()
                    .map(|x| Item {
                        text: match x.kind {
                            PrincipalKind::Anyone => "anyone".to_string(),
                            PrincipalKind::Aws if x.value.text == "*" => "anyone".to_string(),
                            kind => format!("{} {}", kind.keyword(), text_value(&x.value.text)),
                        },
                        comments: &x.value.comments,
                    })
                    .collect(),
            });
            "to"
        }
        None => effect,
    };
    out.push(Clause {
        head: except(action_head, st.actions.negated, "all"),
        comments: &st.actions.comments,
        items: st.actions.items.iter().map(value_item).collect(),
    });
    if let Some(r) = &st.resources {
        out.push(Clause {
            head: except("on", r.negated, "all"),
            comments: &r.comments,
            items: r.items.iter().map(value_item).collect(),
        });
    }
    for (i, c) in st.conditions.iter().enumerate() {
        let kw = if i == 0 { "when" } else { "and" };
        out.push(Clause {
            head: format!(
                "{kw} {} {}",
                text_value(&c.key.text),
                text_value(&c.operator.text)
            ),
            comments: &c.comments,
            items: c.values.iter().map(value_item).collect(),
        });
    }
    out
}

fn statement(out: &mut String, st: &Statement, indent: usize) {
    let pad = " ".repeat(indent);
    if let Some((_, sid)) = &st.sid {
        leading(out, indent, &st.sid_comments.leading);
        out.push_str(&pad);
        out.push_str("sid ");
        out.push_str(&quote(&sid.text));
        trailing(out, &st.sid_comments.trailing);
        out.push('\n');
    }
    let clauses = clauses(st);
    let last_clause = clauses.len().saturating_sub(1);

    // One line, when nothing but a leading comment (above) or a trailing one (after `;`)
    // is in the way.
    let inner_comments = clauses.iter().enumerate().any(|(ci, c)| {
        (ci > 0 && !c.comments.leading.is_empty())
            || !c.comments.trailing.is_empty()
            || c.items.iter().enumerate().any(|(ii, item)| {
                let last = ci == last_clause && ii + 1 == c.items.len();
                !item.comments.leading.is_empty() || (!last && !item.comments.trailing.is_empty())
            })
    });
    if st.conditions.is_empty() && !inner_comments {
        let line = clauses
            .iter()
            .map(|c| {
                let items: Vec<&str> = c.items.iter().map(|i| i.text.as_str()).collect();
                format!("{} {}", c.head, items.join(", "))
            })
            .collect::<Vec<_>>()
            .join(" ");
        if indent + width(&line) < WIDTH {
            if let Some(first) = clauses.first() {
                leading(out, indent, &first.comments.leading);
            }
            out.push_str(&pad);
            out.push_str(&line);
            out.push(';');
            if let Some(last) = clauses.last().and_then(|c| c.items.last()) {
                trailing(out, &last.comments.trailing);
            }
            out.push('\n');
            return;
        }
    }

    for (ci, clause) in clauses.iter().enumerate() {
        let at = if ci == 0 { indent } else { indent + 2 };
        let is_last_clause = ci == last_clause;
        leading(out, at, &clause.comments.leading);
        out.push_str(&" ".repeat(at));
        out.push_str(&clause.head);
        let n = clause.items.len();
        let sep = |i: usize| {
            if i + 1 < n {
                ","
            } else if is_last_clause {
                ";"
            } else {
                ""
            }
        };

        // All values on the head's line?
        let head_alone = !clause.comments.trailing.is_empty()
            || clause
                .items
                .first()
                .is_some_and(|i| !i.comments.leading.is_empty());
        let inline_ok = !head_alone
            && clause.items.iter().enumerate().all(|(i, item)| {
                item.comments.leading.is_empty()
                    && (i + 1 == n || item.comments.trailing.is_empty())
            });
        if inline_ok {
            let items: Vec<&str> = clause.items.iter().map(|i| i.text.as_str()).collect();
            let line = format!(" {}{}", items.join(", "), sep(n.saturating_sub(1)));
            if at + width(&clause.head) + width(&line) <= WIDTH {
                out.push_str(&line);
                if let Some(last) = clause.items.last() {
                    trailing(out, &last.comments.trailing);
                }
                out.push('\n');
                continue;
            }
        }

        // One value per line, aligned under the first.
        let column = if head_alone {
            trailing(out, &clause.comments.trailing);
            out.push('\n');
            at + 4
        } else {
            out.push(' ');
            at + width(&clause.head) + 1
        };
        for (i, item) in clause.items.iter().enumerate() {
            if i > 0 || head_alone {
                leading(out, column, &item.comments.leading);
                out.push_str(&" ".repeat(column));
            }
            out.push_str(&item.text);
            out.push_str(sep(i));
            trailing(out, &item.comments.trailing);
            out.push('\n');
        }
    }
}
