//! A small, strict JSON reader (RFC 8259) that keeps the position of every value and key.
//!
//! serde_json can give neither per-node line/column nor a duplicate-key error, and both matter
//! here: a duplicate condition key silently widens a policy when the last one wins (spec §1.1),
//! and every diagnostic names the place it is about.
//!
//! - Strict: no comments, no trailing commas, no single quotes, no leading zeros, control
//!   characters must be escaped, `\uXXXX` surrogates must pair up. A leading byte order mark is
//!   skipped (RFC 8259 §8.1 allows that).
//! - Duplicate keys in any object are an error (`IAM002`) naming the key and both positions.
//! - Bounded: the document size (`Limits::max_document_bytes`) is checked before reading, the
//!   nesting depth (`Limits::max_depth`) before a container is opened. The reader keeps its own
//!   stack of open containers and never recurses, so no input can overflow the call stack.
//! - Never panics: every byte access is checked.

use std::collections::HashMap;

use crate::ast::Loc;
use crate::diag::{Code, Diagnostic};
use crate::parse::Limits;

/// A position in the source text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Byte offset from the start of the text.
    pub offset: usize,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in characters (not bytes).
    pub column: u32,
}

/// A JSON value, with the positions of its children.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonValue {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, kept as its exact source text (`10`, `-1.50`, `1e3`).
    Number(String),
    /// A string, escapes decoded.
    String(String),
    /// An array.
    Array(Vec<JsonNode>),
    /// An object; members in source order (keys are unique, the reader rejects duplicates).
    Object(Vec<(JsonKey, JsonNode)>),
}

/// An object key and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonKey {
    /// The key, escapes decoded.
    pub name: String,
    /// Position of the key's opening quote.
    pub span: Span,
}

/// A JSON value and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonNode {
    /// The value.
    pub value: JsonValue,
    /// Position of the value's first character.
    pub span: Span,
}

impl JsonNode {
    /// The JSON type name, for messages: `null`, `boolean`, `number`, `string`, `array`, `object`.
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            JsonValue::Null => "null",
            JsonValue::Bool(_) => "boolean",
            JsonValue::Number(_) => "number",
            JsonValue::String(_) => "string",
            JsonValue::Array(_) => "array",
            JsonValue::Object(_) => "object",
        }
    }

    /// The string, when this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            JsonValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The member `key`, when this is an object that has it.
    pub fn get(&self, key: &str) -> Option<&JsonNode> {
        match &self.value {
            JsonValue::Object(members) => {
                members.iter().find(|(k, _)| k.name == key).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// Converts to a `serde_json::Value` (positions are dropped). Numbers that serde_json cannot
    /// represent become strings holding their source text. Recurses once per nesting level, which
    /// [`parse_json`] bounds by `Limits::max_depth`.
    pub fn to_serde(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.value {
            JsonValue::Null => Value::Null,
            JsonValue::Bool(b) => Value::Bool(*b),
            JsonValue::Number(text) => match text.parse::<serde_json::Number>() {
                Ok(n) => Value::Number(n),
                Err(_) => Value::String(text.clone()),
            },
            JsonValue::String(s) => Value::String(s.clone()),
            JsonValue::Array(items) => Value::Array(items.iter().map(JsonNode::to_serde).collect()),
            JsonValue::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_serde()))
                    .collect(),
            ),
        }
    }
}

/// Appends one reference token to a JSON pointer, escaping `~` as `~0` and `/` as `~1`
/// (RFC 6901).
pub fn child_pointer(parent: &str, token: &str) -> String {
    let mut out = String::with_capacity(parent.len() + token.len() + 1);
    out.push_str(parent);
    out.push('/');
    for c in token.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

/// Reads `text` as one JSON document.
///
/// Errors: `IAM001` (syntax), `IAM002` (duplicate key), `IAM003` (size or depth bound). The
/// error's location is the JSON pointer of the value being read (as far as known) and the
/// line/column of the offending character.
pub fn parse_json(text: &str, limits: &Limits) -> Result<JsonNode, Diagnostic> {
    if text.len() > limits.max_document_bytes {
        return Err(Diagnostic::error(
            Code::BoundExceeded,
            format!(
                "the document is {} bytes, more than the bound max_document_bytes = {}",
                text.len(),
                limits.max_document_bytes
            ),
            Loc::default(),
        ));
    }
    let mut reader = Reader {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
        column: 1,
        max_depth: limits.max_depth,
    };
    if text.starts_with('\u{feff}') {
        reader.pos = '\u{feff}'.len_utf8();
    }
    reader.document()
}

/// A container that is open while its contents are read.
enum Frame {
    Array {
        span: Span,
        items: Vec<JsonNode>,
    },
    Object {
        span: Span,
        members: Vec<(JsonKey, JsonNode)>,
        /// Keys seen so far and where, for the duplicate check.
        seen: HashMap<String, Span>,
        /// The key whose value is being read.
        key: JsonKey,
    },
}

/// The JSON pointer of the place being read, from the open containers.
fn pointer_of(stack: &[Frame]) -> String {
    let mut ptr = String::new();
    for frame in stack {
        match frame {
            Frame::Array { items, .. } => ptr = child_pointer(&ptr, &items.len().to_string()),
            Frame::Object { key, .. } => ptr = child_pointer(&ptr, &key.name),
        }
    }
    ptr
}

struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    column: u32,
    max_depth: usize,
}

/// What was found at the current position, for messages.
fn describe(found: Option<char>) -> String {
    match found {
        None => "the end of the input".to_string(),
        Some(c) if c.is_control() => format!("the control character U+{:04X}", u32::from(c)),
        Some(c) => format!("'{c}'"),
    }
}

impl Reader<'_> {
    fn span(&self) -> Span {
        Span {
            offset: self.pos,
            line: self.line,
            column: self.column,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn peek_char(&self) -> Option<char> {
        self.text.get(self.pos..).and_then(|s| s.chars().next())
    }

    /// Moves past one byte, keeping line and column (columns count characters, so UTF-8
    /// continuation bytes do not advance them).
    fn bump(&mut self) {
        if let Some(b) = self.peek() {
            self.pos += 1;
            if b == b'\n' {
                self.line = self.line.saturating_add(1);
                self.column = 1;
            } else if b & 0xC0 != 0x80 {
                self.column = self.column.saturating_add(1);
            }
        }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    fn error_at(&self, span: Span, stack: &[Frame], code: Code, msg: String) -> Diagnostic {
        Diagnostic::error(
            code,
            msg,
            Loc {
                pointer: pointer_of(stack),
                line: span.line,
                column: span.column,
            },
        )
    }

    fn syntax(&self, stack: &[Frame], msg: String) -> Diagnostic {
        self.error_at(
            self.span(),
            stack,
            Code::InvalidJson,
            format!("invalid JSON: {msg}"),
        )
    }

    fn unexpected(&self, stack: &[Frame], expected: &str) -> Diagnostic {
        self.syntax(
            stack,
            format!("expected {expected}, found {}", describe(self.peek_char())),
        )
    }

    fn check_depth(&self, stack: &[Frame]) -> Result<(), Diagnostic> {
        // INVARIANT: the new container would be at depth stack.len() + 1.
        if stack.len() >= self.max_depth {
            return Err(self.error_at(
                self.span(),
                stack,
                Code::BoundExceeded,
                format!(
                    "JSON nesting is deeper than the bound max_depth = {}",
                    self.max_depth
                ),
            ));
        }
        Ok(())
    }

    /// Reads the whole document: one value and nothing after it but whitespace.
    fn document(&mut self) -> Result<JsonNode, Diagnostic> {
        let mut stack: Vec<Frame> = Vec::new();
        loop {
            // Read the start of a value. Containers are pushed and their contents read by the
            // next turns of this loop; scalars complete at once.
            self.skip_ws();
            let span = self.span();
            let mut node = match self.peek() {
                Some(b'{') => {
                    self.check_depth(&stack)?;
                    self.bump();
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.bump();
                        JsonNode {
                            value: JsonValue::Object(Vec::new()),
                            span,
                        }
                    } else {
                        let key = self.key(&stack, None)?;
                        let mut seen = HashMap::new();
                        seen.insert(key.name.clone(), key.span);
                        stack.push(Frame::Object {
                            span,
                            members: Vec::new(),
                            seen,
                            key,
                        });
                        continue;
                    }
                }
                Some(b'[') => {
                    self.check_depth(&stack)?;
                    self.bump();
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        self.bump();
                        JsonNode {
                            value: JsonValue::Array(Vec::new()),
                            span,
                        }
                    } else {
                        stack.push(Frame::Array {
                            span,
                            items: Vec::new(),
                        });
                        continue;
                    }
                }
                Some(b'"') => JsonNode {
                    value: JsonValue::String(self.string(&stack)?),
                    span,
                },
                Some(b'-' | b'0'..=b'9') => JsonNode {
                    value: JsonValue::Number(self.number(&stack)?),
                    span,
                },
                Some(b't') => self.literal(&stack, "true", JsonValue::Bool(true))?,
                Some(b'f') => self.literal(&stack, "false", JsonValue::Bool(false))?,
                Some(b'n') => self.literal(&stack, "null", JsonValue::Null)?,
                _ => return Err(self.unexpected(&stack, "a JSON value")),
            };
            // A value is complete: hand it to its container, closing containers as they end.
            // The container is taken off the stack while it is updated, and put back if it
            // stays open; errors found meanwhile point at the container.
            loop {
                self.skip_ws();
                let next = self.peek();
                match stack.pop() {
                    None => {
                        if next.is_some() {
                            return Err(self.unexpected(&stack, "the end of the document"));
                        }
                        return Ok(node);
                    }
                    Some(Frame::Array { span, mut items }) => {
                        items.push(node);
                        match next {
                            Some(b',') => {
                                self.bump();
                                stack.push(Frame::Array { span, items });
                                break;
                            }
                            Some(b']') => {
                                self.bump();
                                node = JsonNode {
                                    value: JsonValue::Array(items),
                                    span,
                                };
                            }
                            _ => {
                                return Err(
                                    self.unexpected(&stack, "',' or ']' after an array element")
                                )
                            }
                        }
                    }
                    Some(Frame::Object {
                        span,
                        mut members,
                        mut seen,
                        key,
                    }) => {
                        members.push((key, node));
                        match next {
                            Some(b',') => {
                                self.bump();
                                self.skip_ws();
                                let key = self.key(&stack, Some(&seen))?;
                                seen.insert(key.name.clone(), key.span);
                                stack.push(Frame::Object {
                                    span,
                                    members,
                                    seen,
                                    key,
                                });
                                break;
                            }
                            Some(b'}') => {
                                self.bump();
                                node = JsonNode {
                                    value: JsonValue::Object(members),
                                    span,
                                };
                            }
                            _ => {
                                return Err(
                                    self.unexpected(&stack, "',' or '}' after an object member")
                                )
                            }
                        }
                    }
                }
            }
        }
    }

    /// Reads `"key" :` (whitespace allowed around the colon) and checks it against the keys
    /// already `seen` in the same object.
    /// `stack` holds the containers around the object (not the object itself).
    fn key(
        &mut self,
        stack: &[Frame],
        seen: Option<&HashMap<String, Span>>,
    ) -> Result<JsonKey, Diagnostic> {
        if self.peek() != Some(b'"') {
            return Err(self.unexpected(stack, "a string key"));
        }
        let span = self.span();
        let name = self.string(stack)?;
        if let Some(first) = seen.and_then(|s| s.get(&name)) {
            return Err(Diagnostic::error(
                Code::DuplicateKey,
                format!(
                    "duplicate key \"{name}\": first at line {}, column {}, again at line {}, column {} \
                     (duplicate keys are rejected, never \"last one wins\")",
                    first.line, first.column, span.line, span.column
                ),
                Loc {
                    pointer: child_pointer(&pointer_of(stack), &name),
                    line: span.line,
                    column: span.column,
                },
            ));
        }
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.unexpected(stack, "':' after an object key"));
        }
        self.bump();
        Ok(JsonKey { name, span })
    }

    /// Reads a string starting at its opening quote, decoding escapes.
    fn string(&mut self, stack: &[Frame]) -> Result<String, Diagnostic> {
        self.bump(); // the opening quote
        let mut out = String::new();
        loop {
            // Copy a run of plain characters at once. The run ends at an ASCII byte, so both
            // ends are character boundaries.
            let start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.bump();
            }
            out.push_str(self.text.get(start..self.pos).unwrap_or(""));
            match self.peek() {
                Some(b'"') => {
                    self.bump();
                    return Ok(out);
                }
                Some(b'\\') => {
                    let esc_span = self.span();
                    self.bump();
                    let c = match self.peek() {
                        Some(b'"') => '"',
                        Some(b'\\') => '\\',
                        Some(b'/') => '/',
                        Some(b'b') => '\u{8}',
                        Some(b'f') => '\u{c}',
                        Some(b'n') => '\n',
                        Some(b'r') => '\r',
                        Some(b't') => '\t',
                        Some(b'u') => {
                            self.bump();
                            out.push(self.unicode_escape(stack, esc_span)?);
                            continue;
                        }
                        _ => {
                            return Err(self.unexpected(
                                stack,
                                "an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
                            ))
                        }
                    };
                    self.bump();
                    out.push(c);
                }
                Some(_) => {
                    return Err(self.syntax(
                        stack,
                        format!(
                            "{} inside a string must be escaped",
                            describe(self.peek_char())
                        ),
                    ))
                }
                None => return Err(self.syntax(stack, "unterminated string".to_string())),
            }
        }
    }

    /// Reads the four hex digits after `\u` (and a second `\uXXXX` for a surrogate pair).
    fn unicode_escape(&mut self, stack: &[Frame], esc_span: Span) -> Result<char, Diagnostic> {
        let hi = self.hex4(stack)?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            if self.peek() != Some(b'\\') || self.bytes.get(self.pos + 1) != Some(&b'u') {
                return Err(self.error_at(
                    esc_span,
                    stack,
                    Code::InvalidJson,
                    format!("invalid JSON: \\u{hi:04X} is a high surrogate without a low surrogate after it"),
                ));
            }
            self.bump();
            self.bump();
            let lo = self.hex4(stack)?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(self.error_at(
                    esc_span,
                    stack,
                    Code::InvalidJson,
                    format!("invalid JSON: \\u{hi:04X} must be followed by a low surrogate, found \\u{lo:04X}"),
                ));
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else if (0xDC00..0xE000).contains(&hi) {
            return Err(self.error_at(
                esc_span,
                stack,
                Code::InvalidJson,
                format!("invalid JSON: \\u{hi:04X} is a low surrogate without a high surrogate before it"),
            ));
        } else {
            hi
        };
        char::from_u32(code).ok_or_else(|| {
            self.error_at(
                esc_span,
                stack,
                Code::InvalidJson,
                format!("invalid JSON: U+{code:04X} is not a character"),
            )
        })
    }

    fn hex4(&mut self, stack: &[Frame]) -> Result<u32, Diagnostic> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(b) => (b as char).to_digit(16),
                None => None,
            };
            match d {
                Some(d) => {
                    v = v * 16 + d;
                    self.bump();
                }
                None => return Err(self.unexpected(stack, "four hex digits after \\u")),
            }
        }
        Ok(v)
    }

    /// Reads a number: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, kept as text.
    fn number(&mut self, stack: &[Frame]) -> Result<String, Diagnostic> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.bump();
        }
        match self.peek() {
            Some(b'0') => self.bump(),
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.unexpected(stack, "a digit")),
        }
        if self.peek() == Some(b'.') {
            self.bump();
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.unexpected(stack, "a digit after the decimal point"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.bump();
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.bump();
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.unexpected(stack, "a digit in the exponent"));
            }
            self.digits();
        }
        Ok(self.text.get(start..self.pos).unwrap_or("").to_string())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.bump();
        }
    }

    fn literal(
        &mut self,
        stack: &[Frame],
        word: &str,
        value: JsonValue,
    ) -> Result<JsonNode, Diagnostic> {
        let span = self.span();
        let matches = self
            .bytes
            .get(self.pos..self.pos + word.len())
            .is_some_and(|b| b == word.as_bytes());
        if !matches {
            return Err(self.unexpected(stack, "a JSON value"));
        }
        for _ in 0..word.len() {
            self.bump();
        }
        Ok(JsonNode { value, span })
    }
}

/// The byte offset just past the JSON value (or object key) that starts at `start` in `text`,
/// which the reader has accepted: the closing quote of a string, the end of a number or
/// literal, the matching bracket of a container. A scalar inside a container ends before the
/// `,`, `:`, whitespace or bracket that follows it. On anything unexpected it stops at the end
/// of the text. (Spans record only where a value starts; this finds where it ends, for
/// underlines and for the size of inline documents.)
pub fn value_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut i = start;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
                if depth == 0 {
                    return i;
                }
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            // A scalar at the top ends before the bracket that closes its container.
            b'}' | b']' if depth == 0 => return i - 1,
            b'}' | b']' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
            }
            b',' | b':' | b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => return i - 1,
            _ => {}
        }
    }
    i
}

#[cfg(test)]
mod tests;
