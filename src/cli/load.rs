//! Reading policy files for the command line, with errors that name the file and place.

use std::path::Path;
use std::sync::Arc;

use crate::ast::{PolicyDoc, PolicyType};
use crate::diag::Diagnostic;
use crate::parse::json::reader::{parse_json, JsonValue};
use crate::parse::{policy_from_node, Limits};

/// Largest file the command line reads as a policy.
const MAX_POLICY_FILE: u64 = 16 * 1024 * 1024;

/// A failure to load a file: a message for stderr.
pub struct LoadError(pub String);

fn render(path: &Path, diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| format!("{}: {d}", path.display()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Reads a text file with a size bound.
pub fn read_text(path: &Path, max: u64) -> Result<String, LoadError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| LoadError(format!("{}: cannot read: {e}", path.display())))?;
    if meta.len() > max {
        return Err(LoadError(format!(
            "{}: {} bytes is more than the {max}-byte limit for this file",
            path.display(),
            meta.len()
        )));
    }
    std::fs::read_to_string(path)
        .map_err(|e| LoadError(format!("{}: cannot read: {e}", path.display())))
}

/// Loads one policy document of type `ty`, parsed and checked for its type.
pub fn policy(path: &Path, ty: PolicyType) -> Result<Arc<PolicyDoc>, LoadError> {
    let mut docs = policies(path, ty, false)?;
    match docs.pop() {
        Some(d) => Ok(d),
        None => Err(LoadError(format!("{}: no policy", path.display()))),
    }
}

/// Loads one policy document, or (when `allow_array`) a JSON array of them (one SCP/RCP level).
pub fn policies(
    path: &Path,
    ty: PolicyType,
    allow_array: bool,
) -> Result<Vec<Arc<PolicyDoc>>, LoadError> {
    let text = read_text(path, MAX_POLICY_FILE)?;
    let limits = Limits {
        max_document_bytes: MAX_POLICY_FILE as usize,
        ..Limits::default()
    };
    // The text policy language holds one policy; it is read into the same JSON structure.
    let root = if crate::parse::Form::detect(&text) == crate::parse::Form::Text {
        let parsed = crate::parse::text::parse_text(&text, &limits)
            .map_err(|d| LoadError(render(path, &d)))?;
        if !parsed.lowering_errors.is_empty() {
            return Err(LoadError(render(path, &parsed.lowering_errors)));
        }
        parsed.json
    } else {
        parse_json(&text, &limits).map_err(|d| LoadError(render(path, &[d])))?
    };
    let name = path.display().to_string();
    let nodes: Vec<(String, &crate::parse::json::JsonNode)> = match &root.value {
        JsonValue::Array(items) if allow_array => items
            .iter()
            .enumerate()
            .map(|(i, n)| (format!("{name}[{i}]"), n))
            .collect(),
        _ => vec![(name, &root)],
    };
    let check_ty = if ty == PolicyType::KinesisResource {
        // Without the ARN it is attached to, the Kinesis profile cannot check `Resource`; the
        // generic resource-policy rules still apply. `iamc check` runs the full profile.
        PolicyType::Resource
    } else {
        ty
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (id, node) in nodes {
        match policy_from_node(node, text.len(), &limits) {
            Ok(p) => {
                let diags: Vec<Diagnostic> = crate::validate::check_policy(&p, check_ty, None)
                    .into_iter()
                    .filter(Diagnostic::is_error)
                    .collect();
                if diags.is_empty() {
                    out.push(PolicyDoc::new(id, ty, p));
                } else {
                    errors.extend(diags);
                }
            }
            Err(d) => errors.extend(d),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(LoadError(render(path, &errors)))
    }
}

/// `--context KEY=VALUE` pairs into `ctx`: a value is a string, or a JSON array for a
/// multi-valued key (`aws:TagKeys=["a","b"]`).
pub fn context_pairs(pairs: &[String], ctx: &mut crate::request::Context) -> Result<(), LoadError> {
    use crate::request::{ContextValue, Scalar};
    for kv in pairs {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| LoadError(format!("--context `{kv}`: expected KEY=VALUE")))?;
        let value = if v.trim_start().starts_with('[') {
            let json: serde_json::Value = serde_json::from_str(v)
                .map_err(|e| LoadError(format!("--context `{kv}`: not a JSON array: {e}")))?;
            ContextValue::from_json(&json)
                .map_err(|e| LoadError(format!("--context `{kv}`: {e}")))?
        } else {
            ContextValue::One(Scalar::string(v))
        };
        if k.trim().is_empty() {
            return Err(LoadError(format!("--context `{kv}`: the key is empty")));
        }
        ctx.insert(k.trim(), value);
    }
    Ok(())
}
