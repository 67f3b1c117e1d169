//! From a finding's JSON pointer back to the place in the source text.
//!
//! The AST keeps the position of each statement only; the span-preserving reader
//! ([`crate::parse::json::reader`]) knows where every key and value starts. [`Locator`] reads the
//! text once and answers, for a pointer, the line, column and length of the element it names,
//! so that a finding can underline exactly the value (or the condition key with its value).

use crate::diag::Diagnostic;
use crate::parse::json::reader::{parse_json, value_end, JsonNode, JsonValue, Span};
use crate::parse::Limits;

/// A place in the source: 1-based line and column (in characters) and the length in characters
/// of the text to underline, never past the end of the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceSpan {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// Characters to underline (at least 1).
    pub len: u32,
}

/// Answers "where is this pointer" for one source text.
pub struct Locator<'t> {
    text: &'t str,
    root: Option<JsonNode>,
}

impl<'t> Locator<'t> {
    /// Reads `text` (when it is not valid JSON, nothing can be located).
    pub fn new(text: &'t str) -> Locator<'t> {
        let limits = Limits {
            max_document_bytes: text.len().max(1),
            ..Limits::default()
        };
        Locator {
            text,
            root: parse_json(text, &limits).ok(),
        }
    }

    /// The JSON node at `pointer`, when it exists.
    pub fn node(&self, pointer: &str) -> Option<&JsonNode> {
        let mut node = self.root.as_ref()?;
        for token in tokens(pointer) {
            node = child(node, &token)?.1;
        }
        Some(node)
    }

    /// Where the element `pointer` names is. A pointer that goes further than the document
    /// (a finding about a part the text does not have) gives the deepest element that exists.
    ///
    /// What is underlined: a value; for a condition key (`…/Condition/Op/key`), the key with
    /// its value; for a member whose value spans several lines, the member's key.
    pub fn span(&self, pointer: &str) -> Option<SourceSpan> {
        let root = self.root.as_ref()?;
        let toks = tokens(pointer);
        let mut node = root;
        let mut key: Option<Span> = None;
        let mut depth = 0;
        for token in &toks {
            match child(node, token) {
                Some((k, n)) => {
                    key = k;
                    node = n;
                    depth += 1;
                }
                None => break,
            }
        }
        let is_condition_key = depth >= 3
            && depth == toks.len()
            && toks.get(depth - 3).is_some_and(|t| t == "Condition");
        let end = value_end(self.text, node.span.offset);
        let start = match key {
            Some(k) if is_condition_key => k,
            Some(k) if self.multi_line(node.span.offset, end) => {
                // Underline the key alone: `"Principal"`.
                let key_end = value_end(self.text, k.offset);
                return Some(self.make(k, key_end));
            }
            _ => node.span,
        };
        Some(self.make(start, end))
    }

    /// Gives `d` the line and column of the element its pointer names. Parse errors
    /// (`IAM0xx`) keep the position the parser found, which is already exact.
    pub fn place(&self, d: &mut Diagnostic) {
        if d.code.is_parse() {
            return;
        }
        if let Some(s) = self.span(&d.loc.pointer) {
            d.loc.line = s.line;
            d.loc.column = s.column;
        }
    }

    fn multi_line(&self, start: usize, end: usize) -> bool {
        self.text.get(start..end).is_some_and(|s| s.contains('\n'))
    }

    fn make(&self, start: Span, end: usize) -> SourceSpan {
        let chars = self
            .text
            .get(start.offset..end.max(start.offset))
            .unwrap_or("")
            .chars()
            .take_while(|c| *c != '\n' && *c != '\r')
            .count();
        SourceSpan {
            line: start.line,
            column: start.column,
            len: u32::try_from(chars).unwrap_or(u32::MAX).max(1),
        }
    }
}

/// The reference tokens of a JSON pointer, unescaped (RFC 6901).
fn tokens(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    pointer
        .split('/')
        .skip(1)
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// The child `token` of `node`: a member (with its key's span) or an array item.
fn child<'n>(node: &'n JsonNode, token: &str) -> Option<(Option<Span>, &'n JsonNode)> {
    match &node.value {
        JsonValue::Object(members) => members
            .iter()
            .find(|(k, _)| k.name == token)
            .map(|(k, v)| (Some(k.span), v)),
        JsonValue::Array(items) => {
            let i: usize = token.parse().ok()?;
            items.get(i).map(|v| (None, v))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:Nope"],
     "Resource": "*",
     "Condition": {"StringEquals": {"aws:TagKeys": "team"}}},
    {
      "Effect": "Deny",
      "Principal": {
        "AWS": "*"
      },
      "Action": "kinesis:*", "Resource": "a/b"
    }
  ]
}"#;

    #[test]
    fn spans() {
        let l = Locator::new(TEXT);
        let s = |p: &str| l.span(p).map(|s| (s.line, s.column, s.len));
        assert_eq!(s("/Statement/0/Action/1"), Some((4, 57, 14)));
        assert_eq!(s("/Statement/0/Resource"), Some((5, 18, 3)));
        // A condition key with its value.
        assert_eq!(
            s("/Statement/0/Condition/StringEquals/aws:TagKeys"),
            Some((6, 37, 21))
        );
        // A multi-line value: the key.
        assert_eq!(s("/Statement/1/Principal"), Some((9, 7, 11)));
        // A pointer past the document: the deepest element.
        assert_eq!(s("/Statement/1/Action/3"), Some((12, 17, 11)));
        // The whole statement (multi-line): its first line.
        assert_eq!(s("/Statement/1"), Some((7, 5, 1)));
        assert_eq!(s(""), Some((1, 1, 1)));
        assert_eq!(s("/Statement/1/Resource"), Some((12, 42, 5)));
        assert!(Locator::new("{").span("").is_none());
    }
}
