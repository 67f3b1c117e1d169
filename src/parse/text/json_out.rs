//! Writes a [`JsonNode`] as IAM JSON, laid out the way policies are usually written: objects
//! one member per line, two-space indent, a list of strings on one line when it fits in
//! [`WIDTH`] columns. Deterministic, so `iamc fmt --to json --check` can compare.

use crate::parse::json::{JsonNode, JsonValue};

/// The widest line the writer aims for.
pub const WIDTH: usize = 100;

/// The document as pretty JSON, ending in a newline.
pub fn write_pretty(node: &JsonNode) -> String {
    let mut out = String::new();
    value(&mut out, node, 0, 0);
    out.push('\n');
    out
}

fn scalar(node: &JsonNode) -> Option<String> {
    match &node.value {
        JsonValue::Null => Some("null".to_string()),
        JsonValue::Bool(b) => Some(b.to_string()),
        JsonValue::Number(n) => Some(n.clone()),
        JsonValue::String(s) => Some(super::token::quote(s)),
        JsonValue::Array(_) | JsonValue::Object(_) => None,
    }
}

/// Writes `node` at `indent` spaces; `column` is where it starts on the current line.
fn value(out: &mut String, node: &JsonNode, indent: usize, column: usize) {
    if let Some(s) = scalar(node) {
        out.push_str(&s);
        return;
    }
    let pad = " ".repeat(indent + 2);
    match &node.value {
        JsonValue::Array(items) => {
            let inline: Option<Vec<String>> = items.iter().map(scalar).collect();
            if let Some(parts) = inline {
                let line = format!("[{}]", parts.join(", "));
                // The comma that may follow counts too.
                if column + line.len() < WIDTH {
                    out.push_str(&line);
                    return;
                }
            }
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push_str("[\n");
            for (i, item) in items.iter().enumerate() {
                out.push_str(&pad);
                value(out, item, indent + 2, indent + 2);
                if i + 1 < items.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&" ".repeat(indent));
            out.push(']');
        }
        JsonValue::Object(members) => {
            if members.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{\n");
            for (i, (k, v)) in members.iter().enumerate() {
                let key = super::token::quote(&k.name);
                out.push_str(&pad);
                out.push_str(&key);
                out.push_str(": ");
                value(out, v, indent + 2, indent + 2 + key.len() + 2);
                if i + 1 < members.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&" ".repeat(indent));
            out.push('}');
        }
        _ => {}
    }
}
