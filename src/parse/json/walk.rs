//! Reading a configuration file (the policy store, the gateway's credentials file) from the
//! reader's tree: typed access to objects, maps and strings that reports every unknown field
//! and wrong type with a stable code, a JSON pointer and a line and column, and keeps going so
//! that one pass collects all errors.

use std::io::Read;
use std::path::Path;

use crate::ast::Loc;
use crate::diag::{Code, Diagnostic};

use super::reader::{child_pointer, JsonKey, JsonNode, JsonValue, Span};

/// Why [`read_bounded`] could not read a file; each format words it with its own codes.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The file cannot be opened or read.
    Io(std::io::Error),
    /// The path is not a regular file.
    NotAFile,
    /// The file is over the bound; its size when known before reading.
    TooBig(Option<u64>),
    /// The file is not UTF-8.
    NotUtf8(std::string::FromUtf8Error),
}

/// Reads a file of at most `max` bytes as UTF-8. The size is checked before reading, and the
/// read stops one byte past the bound (the file may grow in between).
pub(crate) fn read_bounded(path: &Path, max: usize) -> Result<String, ReadError> {
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotAFile);
    }
    if meta.len() > max as u64 {
        return Err(ReadError::TooBig(Some(meta.len())));
    }
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() > max {
        return Err(ReadError::TooBig(None));
    }
    String::from_utf8(bytes).map_err(ReadError::NotUtf8)
}

/// The codes a file format uses for the two errors every format has.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Codes {
    /// A value of the wrong JSON type.
    pub wrong_type: Code,
    /// A field the format does not have.
    pub unknown_field: Code,
}

/// The members of an object, with its pointer.
pub(crate) struct Fields<'n> {
    pub members: &'n [(JsonKey, JsonNode)],
    pub pointer: String,
}

impl<'n> Fields<'n> {
    /// Member `name` and its pointer.
    pub fn get(&self, name: &str) -> Option<(&'n JsonNode, String)> {
        self.members
            .iter()
            .find(|(k, _)| k.name == name)
            .map(|(_, v)| (v, child_pointer(&self.pointer, name)))
    }
}

/// The location of a node for a diagnostic.
pub(crate) fn loc(pointer: &str, span: Span) -> Loc {
    Loc {
        pointer: pointer.to_string(),
        line: span.line,
        column: span.column,
    }
}

/// The allowed field nearest to a misspelt one: the same in another case, or at most two
/// edits away.
pub(crate) fn suggest<'k>(name: &str, allowed: &[&'k str]) -> Option<&'k str> {
    let lc = name.to_ascii_lowercase();
    if let Some(a) = allowed.iter().find(|a| a.to_ascii_lowercase() == lc) {
        return Some(a);
    }
    if lc.len() > 32 {
        return None;
    }
    allowed
        .iter()
        .map(|a| (crate::diag::edit_distance(&lc, a), *a))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, a)| a)
}

/// Collects the errors of one file while it is read.
pub(crate) struct Walker {
    /// Every error so far.
    pub errors: Vec<Diagnostic>,
    codes: Codes,
}

impl Walker {
    /// A walker that reports with `codes`.
    pub fn new(codes: Codes) -> Walker {
        Walker {
            errors: Vec::new(),
            codes,
        }
    }

    /// Reports an error at `pointer`.
    pub fn error(&mut self, code: Code, msg: impl Into<String>, pointer: &str, span: Span) {
        self.errors
            .push(Diagnostic::error(code, msg, loc(pointer, span)));
    }

    /// Reports an error with a help text.
    pub fn error_help(
        &mut self,
        code: Code,
        msg: impl Into<String>,
        help: impl Into<String>,
        pointer: &str,
        span: Span,
    ) {
        self.errors
            .push(Diagnostic::error(code, msg, loc(pointer, span)).with_help(help));
    }

    /// Reports that `what` is not of the `expected` type.
    pub fn wrong_type(&mut self, what: &str, expected: &str, node: &JsonNode, pointer: &str) {
        let msg = format!("{what} must be {expected}, found {}", node.kind_name());
        self.error(self.codes.wrong_type, msg, pointer, node.span);
    }

    /// The members of an object whose fields are `allowed`; reports every other field (with
    /// the nearest allowed one, if any).
    pub fn object<'n>(
        &mut self,
        node: &'n JsonNode,
        pointer: &str,
        allowed: &[&str],
        what: &str,
    ) -> Option<Fields<'n>> {
        let JsonValue::Object(members) = &node.value else {
            self.wrong_type(what, "an object", node, pointer);
            return None;
        };
        for (k, _) in members {
            if !allowed.contains(&k.name.as_str()) {
                let ptr = child_pointer(pointer, &k.name);
                let msg = match suggest(&k.name, allowed) {
                    Some(a) => format!("unknown field `{}` in {what}; did you mean `{a}`?", k.name),
                    None => format!("unknown field `{}` in {what}", k.name),
                };
                let help = format!("allowed fields: {}", allowed.join(", "));
                self.error_help(self.codes.unknown_field, msg, help, &ptr, k.span);
            }
        }
        Some(Fields {
            members,
            pointer: pointer.to_string(),
        })
    }

    /// The members of an object with free keys (a map).
    pub fn map<'n>(
        &mut self,
        node: &'n JsonNode,
        pointer: &str,
        what: &str,
    ) -> Option<&'n [(JsonKey, JsonNode)]> {
        match &node.value {
            JsonValue::Object(members) => Some(members),
            _ => {
                self.wrong_type(what, "an object", node, pointer);
                None
            }
        }
    }

    /// A string.
    pub fn string<'n>(&mut self, node: &'n JsonNode, pointer: &str, what: &str) -> Option<&'n str> {
        match &node.value {
            JsonValue::String(s) => Some(s),
            _ => {
                self.wrong_type(what, "a string", node, pointer);
                None
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_take_case_then_two_edits() {
        let allowed = ["version", "keys", "principal"];
        assert_eq!(suggest("Version", &allowed), Some("version"));
        assert_eq!(suggest("pincipal", &allowed), Some("principal"));
        assert_eq!(suggest("zzzzzz", &allowed), None);
    }
}
