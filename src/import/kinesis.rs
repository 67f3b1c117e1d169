//! Kinesis streams and consumers with their resource policies and tags.

use super::*;
use crate::catalog::ResourceType;

impl Importer {
    /// Reads one Kinesis file (see the module docs for its format). `file` names it in
    /// findings.
    pub fn kinesis(&mut self, file: &str, text: &str) {
        let Some(root) = self.parse_input(file, text) else {
            return;
        };
        let streams = member_items(&root, "", "streams");
        if streams.is_empty() && member(&root, "", "streams").is_none() {
            self.report(
                Code::ImportMissingField,
                "not a Kinesis input: an object with `streams` (see `iamc import --help`)",
                &Place {
                    file: file.to_string(),
                    pointer: String::new(),
                    span: root.span,
                },
            );
            return;
        }
        for (s, sptr) in streams {
            if self.resource(file, text, s, &sptr, "StreamARN", ResourceType::Stream) {
                for (c, cptr) in member_items(s, &sptr, "Consumers") {
                    self.resource(file, text, c, &cptr, "ConsumerARN", ResourceType::Consumer);
                }
            }
        }
    }

    /// A stream or consumer; whether it was read (a stream's consumers are read only then).
    fn resource(
        &mut self,
        file: &str,
        text: &str,
        node: &JsonNode,
        ptr: &str,
        arn_field: &str,
        ty: ResourceType,
    ) -> bool {
        let place = Place {
            file: file.to_string(),
            pointer: ptr.to_string(),
            span: node.span,
        };
        let Some(arn) = member_str(node, arn_field) else {
            self.report(
                Code::ImportMissingField,
                format!("a {} without `{arn_field}`; skipped", ty.as_str()),
                &place,
            );
            return false;
        };
        if ResourceType::of_arn(arn) != Some(ty) || arn.contains(['*', '?']) {
            self.report(
                Code::ImportWrongType,
                format!("`{arn}` is not a Kinesis {} ARN; skipped", ty.as_str()),
                &place,
            );
            return false;
        }
        let policy = match member(node, ptr, "Policy") {
            None => None,
            Some((
                JsonNode {
                    value: JsonValue::Null,
                    ..
                },
                _,
            )) => None,
            Some((p, pptr)) => {
                let pplace = Place {
                    file: file.to_string(),
                    pointer: pptr,
                    span: p.span,
                };
                match self.document(text, p, &pplace) {
                    Some(doc)
                        if self.valid(&doc, PolicyType::KinesisResource, Some(arn), &pplace) =>
                    {
                        Some(doc.json)
                    }
                    // Reported; the resource is kept without the policy it could not take.
                    _ => None,
                }
            }
        };
        let tags = self.tags(node, ptr, file);
        if self.resources.contains_key(arn) {
            self.report(
                Code::ImportConflict,
                format!("`{arn}` is in an earlier input too; the first is kept"),
                &place,
            );
            return true;
        }
        self.resources
            .insert(arn.to_string(), ResourceOut { policy, tags });
        true
    }
}
