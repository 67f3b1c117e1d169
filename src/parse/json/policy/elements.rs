//! `Action`, `Resource` and `Principal`: each value read and checked (spec §1.6-§1.8, §2.2).

use super::*;
use crate::arn::{ArnField, ArnPattern};
use crate::diag::Code;

impl Builder<'_> {
    pub(super) fn actions(
        &mut self,
        node: &JsonNode,
        ptr: &str,
        element: &str,
        negated: bool,
    ) -> Option<ActionElement> {
        let items = self.string_list(node, ptr, element, Code::InvalidActionElement)?;
        let items_len = items.len();
        let mut patterns = Vec::with_capacity(items_len);
        for item in items {
            match parse_action(item.text) {
                Ok(a) => patterns.push(a),
                Err(msg) => self.error(Code::InvalidAction, msg, &item.pointer, item.span),
            }
        }
        (patterns.len() == items_len).then_some(ActionElement { negated, patterns })
    }

    pub(super) fn resources(
        &mut self,
        node: &JsonNode,
        ptr: &str,
        element: &str,
        negated: bool,
    ) -> Option<ResourceElement> {
        let items = self.string_list(node, ptr, element, Code::InvalidResourceElement)?;
        let mut patterns = Vec::with_capacity(items.len());
        for item in &items {
            match parse_resource(item.text, self.version) {
                Ok(r) => patterns.push(r),
                Err(msg) => self.error(Code::InvalidResource, msg, &item.pointer, item.span),
            }
        }
        (patterns.len() == items.len()).then_some(ResourceElement { negated, patterns })
    }

    pub(super) fn principal(
        &mut self,
        node: &JsonNode,
        ptr: &str,
        negated: bool,
    ) -> Option<PrincipalElement> {
        let element = if negated { "NotPrincipal" } else { "Principal" };
        let members = match &node.value {
            JsonValue::String(s) if s == "*" => {
                return Some(PrincipalElement {
                    negated,
                    values: vec![PrincipalValue::Anyone],
                })
            }
            JsonValue::String(s) => {
                self.error_help(
                    Code::InvalidPrincipalElement,
                    format!("{element} must be \"*\" or an object such as {{\"AWS\": ...}}, found \"{s}\""),
                    format!("write {{\"AWS\": \"{s}\"}} for an AWS account or ARN"),
                    ptr,
                    node.span,
                );
                return None;
            }
            JsonValue::Object(members) => members,
            _ => {
                self.wrong_type(
                    element,
                    "\"*\" or an object of principal type -> values",
                    node,
                    ptr,
                );
                return None;
            }
        };
        if members.is_empty() {
            self.error(
                Code::InvalidPrincipalElement,
                format!("{element} must name at least one principal"),
                ptr,
                node.span,
            );
            return None;
        }
        let before = self.errors.len();
        let mut values = Vec::new();
        for (k, v) in members {
            let kptr = child_pointer(ptr, &k.name);
            if !PRINCIPAL_TYPES.contains(&k.name.as_str()) {
                let msg = match suggest(&k.name, PRINCIPAL_TYPES) {
                    Some(s) => format!(
                        "unknown principal type \"{}\"; did you mean \"{s}\"?",
                        k.name
                    ),
                    None => format!("unknown principal type \"{}\"", k.name),
                };
                self.error_help(
                    Code::InvalidPrincipal,
                    msg,
                    "principal types are AWS, Service, Federated and CanonicalUser (exact case)",
                    &kptr,
                    k.span,
                );
                continue;
            }
            let Some(items) = self.string_list(v, &kptr, element, Code::InvalidPrincipalElement)
            else {
                continue;
            };
            for item in items {
                match principal_value(&k.name, item.text) {
                    Ok(pv) => values.push(pv),
                    Err((msg, help)) => {
                        self.error_help(Code::InvalidPrincipal, msg, help, &item.pointer, item.span)
                    }
                }
            }
        }
        (self.errors.len() == before).then_some(PrincipalElement { negated, values })
    }
}

/// Parses one `Action`/`NotAction` value (spec §1.7, §2.1 rule 6).
pub(crate) fn parse_action(raw: &str) -> Result<ActionPattern, String> {
    if raw == "*" {
        return Ok(ActionPattern {
            raw: raw.to_string(),
            service: None,
            name: None,
        });
    }
    if let Some(c) = raw.chars().find(|c| c.is_whitespace() || *c == ',') {
        let what = if c == ',' { "a comma" } else { "whitespace" };
        return Err(format!(
            "action \"{raw}\" contains {what}; list several actions as separate array values"
        ));
    }
    let Some((service, name)) = raw.split_once(':') else {
        return Err(format!(
            "action \"{raw}\" has no service prefix: actions are written service:Action, e.g. kinesis:PutRecord"
        ));
    };
    if name.contains(':') {
        return Err(format!("action \"{raw}\" has more than one colon"));
    }
    if service.contains(['*', '?']) {
        return Err(format!(
            "action \"{raw}\": wildcards are not allowed in the service prefix"
        ));
    }
    if service.is_empty()
        || !service
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(format!(
            "action \"{raw}\": the service prefix \"{service}\" must be letters, digits and '-'"
        ));
    }
    if name.is_empty() {
        return Err(format!("action \"{raw}\" has an empty action name"));
    }
    Ok(ActionPattern {
        raw: raw.to_string(),
        service: Some(service.to_ascii_lowercase()),
        name: Some(Glob::new(&name.to_lowercase())),
    })
}

/// Parses one `Resource`/`NotResource` value (spec §1.8, §2.2).
pub(crate) fn parse_resource(raw: &str, version: Version) -> Result<ResourcePattern, String> {
    let mode = TemplateMode {
        wildcards: true,
        variables: version.has_variables(),
    };
    let pattern = || {
        let template = Template::parse(raw, mode);
        let form = arn_form(&template, raw, mode);
        ResourcePattern {
            raw: raw.to_string(),
            template,
            form,
        }
    };
    if raw == "*" {
        return Ok(pattern());
    }
    let format = "arn:partition:service:region:account-id:resource";
    if !raw.starts_with("arn:") {
        return Err(format!(
            "resource \"{raw}\" must be \"*\" or an ARN ({format})"
        ));
    }
    let fields = ArnPattern::parse(raw);
    let partition = fields.field(ArnField::Partition).unwrap_or("");
    let Some(service) = fields.service() else {
        return Err(format!(
            "resource \"{raw}\" has no service segment; an ARN is {format}"
        ));
    };
    if !partition.contains(['*', '?']) && !PARTITIONS.contains(&partition) {
        return Err(format!(
            "partition \"{partition}\" of resource \"{raw}\" is not valid (one of {})",
            PARTITIONS.join(", ")
        ));
    }
    if service.is_empty() {
        return Err(format!("resource \"{raw}\" has an empty service segment"));
    }
    if service.contains(['*', '?']) {
        return Err(format!(
            "resource \"{raw}\": wildcards are not allowed in the service segment"
        ));
    }
    if version.has_variables() {
        // Everything before the fifth colon: arn, partition, service, region, account (a `${`
        // cannot straddle a colon).
        let head = fields.fields().get(..5).unwrap_or(fields.fields());
        if head.iter().any(|f| f.contains("${")) {
            return Err(format!(
                "resource \"{raw}\": policy variables are allowed only in the resource part of an ARN (after the fifth colon)"
            ));
        }
    }
    Ok(pattern())
}

/// The form of an ARN pattern (spec §2.2 rule 4, §1.8): short (fewer than six fields, counted
/// on the literal text so a variable's `aws:` does not count), a wildcard in the resource type
/// of a service whose resources are typed, or plain. `"*"` is plain.
pub(super) fn arn_form(template: &Template, raw: &str, mode: TemplateMode) -> ArnForm {
    let shape = template.shape();
    if shape == "*" {
        return ArnForm::Plain;
    }
    let fields = ArnPattern::parse(&shape);
    let (Some(service), Some(resource)) = (fields.service(), fields.resource()) else {
        let missing = 6 - fields.field_count();
        let completed = format!("{raw}{}", ":*".repeat(missing));
        return ArnForm::Short {
            completed: Template::parse(&completed, mode),
            wildcard: shape.contains(['*', '?']),
        };
    };
    let type_part = resource.split(['/', ':']).next().unwrap_or("");
    if resource != "*" && type_part.contains(['*', '?']) && catalog::resources_are_typed(service) {
        return ArnForm::TypeWildcard;
    }
    ArnForm::Plain
}

/// Checks one principal value of type `kind` (spec §1.6).
pub(super) fn principal_value(kind: &str, v: &str) -> Result<PrincipalValue, (String, String)> {
    let wildcard_help =
        "use \"*\" with an aws:PrincipalArn condition (e.g. ArnLike) instead".to_string();
    if kind == "AWS" && v == "*" {
        return Ok(PrincipalValue::Anyone);
    }
    if v.contains(['*', '?']) {
        let msg = if kind == "AWS" {
            format!("\"{v}\": a principal may not contain a partial wildcard; only \"*\" on its own is allowed")
        } else {
            format!("\"{v}\": wildcards are not allowed in a {kind} principal")
        };
        return Err((msg, wildcard_help));
    }
    if v.is_empty() {
        return Err((
            format!("an empty {kind} principal"),
            "name a principal".to_string(),
        ));
    }
    Ok(match kind {
        "AWS" => {
            let account = v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit());
            let unique_id = UNIQUE_ID_PREFIXES.iter().any(|p| {
                v.strip_prefix(p).is_some_and(|rest| {
                    !rest.is_empty()
                        && rest
                            .bytes()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
                })
            });
            if !(account || unique_id || v.starts_with("arn:")) {
                return Err((
                    format!("\"{v}\" is not a valid AWS principal"),
                    "an AWS principal is \"*\", a 12-digit account id, an ARN \
                     (arn:aws:iam::123456789012:role/name) or a unique id (AIDA…, AROA…)"
                        .to_string(),
                ));
            }
            PrincipalValue::Aws(v.to_string())
        }
        "Service" => PrincipalValue::Service(v.to_string()),
        "Federated" => PrincipalValue::Federated(v.to_string()),
        _ => PrincipalValue::CanonicalUser(v.to_string()),
    })
}
