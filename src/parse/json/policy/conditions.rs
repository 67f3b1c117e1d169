//! `Condition`: operators, keys and values, each value parsed for its operator (spec §1.9, §3).

use super::*;
use crate::ast::OperatorError;
use crate::diag::Code;

impl Builder<'_> {
    pub(super) fn conditions(&mut self, node: &JsonNode, ptr: &str) -> Option<Vec<Condition>> {
        let JsonValue::Object(ops) = &node.value else {
            self.error_help(
                Code::InvalidConditionBlock,
                format!("Condition must be an object, found {}", node.kind_name()),
                "write {\"Operator\": {\"prefix:key\": value}}",
                ptr,
                node.span,
            );
            return None;
        };
        let before = self.errors.len();
        let mut out = Vec::new();
        for (op_key, op_node) in ops {
            let op_ptr = child_pointer(ptr, &op_key.name);
            let op = match Operator::parse(&op_key.name) {
                Ok(op) => op,
                Err(e) => {
                    self.error_help(
                        OperatorError::CODE,
                        e.to_string(),
                        "operator names are exact and case-sensitive, e.g. StringEquals, \
                         ForAnyValue:StringLike, ArnLikeIfExists",
                        &op_ptr,
                        op_key.span,
                    );
                    continue;
                }
            };
            let JsonValue::Object(keys) = &op_node.value else {
                self.error_help(
                    Code::InvalidConditionBlock,
                    format!(
                        "the value of condition operator \"{}\" must be an object of key -> value, found {}",
                        op_key.name,
                        op_node.kind_name()
                    ),
                    "write {\"prefix:key\": value} or {\"prefix:key\": [value, ...]}",
                    &op_ptr,
                    op_node.span,
                );
                continue;
            };
            for (key, value_node) in keys {
                let key_ptr = child_pointer(&op_ptr, &key.name);
                if !is_condition_key(&key.name) {
                    self.error_help(
                        Code::InvalidConditionKey,
                        format!(
                            "condition key \"{}\" must have the form prefix:name",
                            key.name
                        ),
                        "for example aws:SourceIp or kinesis:ResourceTag/team",
                        &key_ptr,
                        key.span,
                    );
                }
                let Some(raws) = self.condition_values(value_node, &key_ptr) else {
                    continue;
                };
                let mut values = Vec::with_capacity(raws.len());
                for (raw, vptr, span) in raws {
                    match self.condition_value(op, &raw) {
                        Ok(parsed) => values.push(ConditionValue { raw, parsed }),
                        Err(msg) => self.error(Code::InvalidConditionValue, msg, &vptr, span),
                    }
                }
                out.push(Condition {
                    operator: op,
                    key: key.name.clone(),
                    key_lc: key.name.to_lowercase(),
                    values,
                    loc: loc(&key_ptr, key.span),
                });
            }
        }
        (self.errors.len() == before).then_some(out)
    }

    /// The values of one condition key: a scalar or a non-empty array of scalars, numbers and
    /// booleans in their text form.
    pub(super) fn condition_values(
        &mut self,
        node: &JsonNode,
        ptr: &str,
    ) -> Option<Vec<(String, String, Span)>> {
        fn scalar(node: &JsonNode) -> Option<String> {
            match &node.value {
                JsonValue::String(s) => Some(s.clone()),
                JsonValue::Number(n) => Some(n.clone()),
                JsonValue::Bool(b) => Some(b.to_string()),
                _ => None,
            }
        }
        const EXPECTED: &str =
            "a condition value must be a string, number or boolean, or a non-empty array of them";
        if let Some(s) = scalar(node) {
            return Some(vec![(s, ptr.to_string(), node.span)]);
        }
        let JsonValue::Array(items) = &node.value else {
            self.error(
                Code::InvalidConditionBlock,
                format!("{EXPECTED}; found {}", node.kind_name()),
                ptr,
                node.span,
            );
            return None;
        };
        if items.is_empty() {
            self.error(
                Code::InvalidConditionBlock,
                format!("{EXPECTED}; found an empty array"),
                ptr,
                node.span,
            );
            return None;
        }
        if !self.within_list_bound("the condition key", items.len(), ptr, node.span) {
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let iptr = child_pointer(ptr, &i.to_string());
            match scalar(item) {
                Some(s) => out.push((s, iptr, item.span)),
                None => self.error(
                    Code::InvalidConditionBlock,
                    format!("{EXPECTED}; found {}", item.kind_name()),
                    &iptr,
                    item.span,
                ),
            }
        }
        (out.len() == items.len()).then_some(out)
    }

    /// Parses one condition value for its operator's family.
    pub(super) fn condition_value(&self, op: Operator, raw: &str) -> Result<Parsed, String> {
        let name = op.base.name();
        let no_vars = |what: &str| {
            let mut msg = format!("{raw:?} is not {what}, as {name} requires");
            if raw.contains("${") {
                msg.push_str(&format!(
                    "; policy variables are not allowed in {} conditions",
                    family_name(op.base.family())
                ));
            }
            msg
        };
        match op.base.family() {
            Family::String | Family::Arn | Family::Bool => {
                let mode = TemplateMode {
                    wildcards: op.base.uses_wildcards(),
                    variables: self.version.has_variables() && op.base.allows_variables(),
                };
                let t = Template::parse(raw, mode);
                if op.base.family() == Family::Bool
                    && !t.has_variables()
                    && parse_bool(raw).is_none()
                {
                    return Err(format!(
                        "{raw:?} is not a boolean: Bool values are true or false"
                    ));
                }
                Ok(Parsed::Text(t))
            }
            Family::Numeric => Decimal::parse(raw)
                .map(Parsed::Number)
                .ok_or_else(|| no_vars("a number (an integer or a decimal)")),
            Family::Date => Instant::parse(raw).map(Parsed::Date).ok_or_else(|| {
                no_vars("a date (ISO 8601, e.g. 2024-01-01T00:00:00Z, or epoch seconds)")
            }),
            Family::Ip => Cidr::parse(raw)
                .map(Parsed::Cidr)
                .ok_or_else(|| no_vars("an IP address or CIDR range (e.g. 203.0.113.0/24)")),
            Family::Binary => decode_base64(raw)
                .map(Parsed::Binary)
                .ok_or_else(|| no_vars("base64")),
            Family::Null => parse_bool(raw)
                .map(Parsed::Null)
                .ok_or_else(|| no_vars("true or false")),
        }
    }
}

pub(super) fn family_name(f: Family) -> &'static str {
    match f {
        Family::String => "String",
        Family::Numeric => "Numeric",
        Family::Date => "Date",
        Family::Bool => "Bool",
        Family::Binary => "Binary",
        Family::Ip => "IpAddress",
        Family::Arn => "ARN",
        Family::Null => "Null",
    }
}

/// `prefix:name` with both parts non-empty (the name may hold more colons, e.g. in tag keys).
pub(super) fn is_condition_key(key: &str) -> bool {
    matches!(key.split_once(':'), Some((p, n)) if !p.is_empty() && !n.is_empty())
}
