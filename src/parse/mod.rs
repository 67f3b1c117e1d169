//! Stage 1: source text -> AST, with located errors.
//!
//! The IAM JSON front end lives in [`json`]: a span-preserving JSON reader
//! (`json::reader`) and the builder that turns its tree into a [`crate::ast::Policy`]
//! ([`json::policy`]). The text front end lives in [`text`]: a logos lexer and a lalrpop parser
//! (`grammar/policy.lalrpop`) whose tree is lowered to the same JSON structure and built by the
//! same builder. Every input is bounded by [`Limits`].

pub mod json;
pub mod text;

pub use json::policy::{parse_policy, policy_from_node};
pub use text::{parse_text_policy, policy_to_json, policy_to_text, Form};

/// Reads a policy in either form: IAM JSON when its first character other than whitespace is
/// `{` (or `[`, an array of policies, which this function then rejects), else the text form
/// ([`text`]). Both give the same AST and the same errors for the same
/// content; text errors carry the line and column in the text.
pub fn parse_policy_any(
    text: &str,
    limits: &Limits,
) -> Result<crate::ast::Policy, Vec<crate::diag::Diagnostic>> {
    match Form::detect(text) {
        Form::Json => parse_policy(text, limits),
        Form::Text => parse_text_policy(text, limits),
    }
}

/// Bounds on what the parser accepts. Exceeding one is an error (code `IAM003`) that names the
/// bound and its value, never a panic or an unbounded allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest source document, in bytes (default 1 MiB).
    pub max_document_bytes: usize,
    /// Deepest nesting of JSON arrays and objects; the top-level value is depth 1 (default 64).
    pub max_depth: usize,
    /// Most statements in one policy (default 10,000).
    pub max_statements: usize,
    /// Most values in one list: an `Action`, `Resource` or principal array, or the values of one
    /// condition key (default 10,000).
    pub max_list_items: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_document_bytes: 1024 * 1024,
            max_depth: 64,
            max_statements: 10_000,
            max_list_items: 10_000,
        }
    }
}
