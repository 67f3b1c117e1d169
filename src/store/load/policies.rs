//! Reading policies in a store: named ones, references to them, inline documents, files inside
//! the store's folder, and each parsed and validated for the type of its place.

use super::*;
use crate::diag::Code;

impl Loader<'_> {
    /// `policies`.
    pub(super) fn named_policies(&mut self, node: &JsonNode, pointer: &str) {
        let Some(members) = self.w.map(node, pointer, "`policies`") else {
            return;
        };
        for (key, entry) in members {
            let ptr = child_pointer(pointer, &key.name);
            let mut named = Named {
                ty: None,
                doc: None,
                origin: Origin {
                    pointer: ptr.clone(),
                    file: None,
                    span: entry.span,
                },
                attached: false,
                key: loc(&ptr, key.span),
            };
            if key.name.trim().is_empty() {
                self.w.error(
                    Code::StoreWrongType,
                    "a policy name must not be empty",
                    &ptr,
                    key.span,
                );
            }
            if let Some(f) = self
                .w
                .object(entry, &ptr, NAMED_POLICY_FIELDS, "a policy entry")
            {
                named.ty = match f.get("type") {
                    None => {
                        self.w.error_help(
                            Code::StoreMissingField,
                            format!("policy `{}` has no `type` (it is required)", key.name),
                            types_help(),
                            &ptr,
                            entry.span,
                        );
                        None
                    }
                    Some((t, tptr)) => self.policy_type(t, &tptr, ALL_TYPES),
                };
                let (document, file) = (f.get("document"), f.get("file"));
                match (&document, &file) {
                    (Some(_), Some((_, fptr))) => self.w.error(
                        Code::FileReferenceRefused,
                        format!(
                            "policy `{}` has both `document` and `file`; give one",
                            key.name
                        ),
                        fptr,
                        entry.span,
                    ),
                    (None, None) => self.w.error(
                        Code::StoreMissingField,
                        format!(
                            "policy `{}` has neither `document` nor `file` (one is required)",
                            key.name
                        ),
                        &ptr,
                        entry.span,
                    ),
                    _ => {}
                }
                if let Some(ty) = named.ty {
                    let prefix = match ty {
                        PolicyType::Scp => "scp",
                        PolicyType::Rcp => "rcp",
                        _ => "policy",
                    };
                    let slot = Slot {
                        ty,
                        id: format!("{prefix}/{}", key.name),
                        attached_to: None,
                        names: Names::Forbidden,
                    };
                    // A Kinesis resource policy is checked where it is attached (it needs the ARN).
                    let validate = ty != PolicyType::KinesisResource;
                    match (document, file) {
                        (Some((d, dptr)), None) => {
                            named.origin.pointer.clone_from(&dptr);
                            named.origin.span = d.span;
                            named.doc = self.inline(d, &dptr, &slot, validate);
                        }
                        (None, Some((fnode, fptr))) => {
                            if let Some(rel) = self.w.string(fnode, &fptr, "`file`") {
                                named.origin = Origin {
                                    pointer: fptr.clone(),
                                    file: Some(rel.to_string()),
                                    span: Span::default(),
                                };
                                if let Some((doc, span)) =
                                    self.file(rel, &fptr, fnode.span, &slot, validate)
                                {
                                    named.origin.span = span;
                                    named.doc = Some(doc);
                                }
                            }
                        }
                        _ => {}
                    }
                }
            }
            self.named.insert(key.name.clone(), named);
        }
    }

    /// A policy type name, which must be one of `allowed`.
    pub(super) fn policy_type(
        &mut self,
        node: &JsonNode,
        pointer: &str,
        allowed: &[PolicyType],
    ) -> Option<PolicyType> {
        let name = self.w.string(node, pointer, "`type`")?;
        match PolicyType::from_name(name).filter(|t| allowed.contains(t)) {
            Some(t) => Some(t),
            None => {
                let names: Vec<&str> = allowed.iter().map(|t| t.as_str()).collect();
                self.w.error(
                    Code::StoreWrongType,
                    format!(
                        "unknown policy type `{name}`; expected one of: {}",
                        names.join(", ")
                    ),
                    pointer,
                    node.span,
                );
                None
            }
        }
    }

    /// A place that holds a policy: a document, `{"file": …}`, or (where allowed) a name.
    pub(super) fn policy_ref(
        &mut self,
        node: &JsonNode,
        pointer: &str,
        slot: &Slot<'_>,
    ) -> Option<Arc<PolicyDoc>> {
        match &node.value {
            JsonValue::String(name) if slot.names == Names::Allowed => {
                self.resolve_named(name, pointer, node.span, slot)
            }
            JsonValue::Object(members) if members.iter().any(|(k, _)| k.name == "file") => {
                let f = self
                    .w
                    .object(node, pointer, FILE_REF_FIELDS, "a file reference")?;
                let (fnode, fptr) = f.get("file")?;
                let rel = self.w.string(fnode, &fptr, "`file`")?;
                self.file(rel, &fptr, fnode.span, slot, true)
                    .map(|(d, _)| d)
            }
            JsonValue::Object(_) => self.inline(node, pointer, slot, true),
            _ => {
                let expected = match slot.names {
                    Names::Allowed => {
                        "a policy document (an object), {\"file\": \"path\"}, or the name of an \
                         entry of `policies`"
                    }
                    Names::Forbidden => "a policy document (an object) or {\"file\": \"path\"}",
                };
                self.w.wrong_type("a policy", expected, node, pointer);
                None
            }
        }
    }

    /// A reference to an entry of `policies`.
    pub(super) fn resolve_named(
        &mut self,
        name: &str,
        pointer: &str,
        span: Span,
        slot: &Slot<'_>,
    ) -> Option<Arc<PolicyDoc>> {
        let Some(named) = self.named.get_mut(name) else {
            let lc = name.to_lowercase();
            let near = self.named.keys().find(|k| k.to_lowercase() == lc).cloned();
            let msg = format!("unknown policy `{name}`: `policies` has no entry of that name");
            match near {
                Some(n) => self.w.error_help(
                    Code::UnknownPolicyName,
                    msg,
                    format!("did you mean `{n}`? policy names are exact"),
                    pointer,
                    span,
                ),
                None => self.w.error(Code::UnknownPolicyName, msg, pointer, span),
            }
            return None;
        };
        named.attached = true;
        let ty = named.ty?;
        let doc = named.doc.clone();
        let origin = named.origin.clone();
        if ty != slot.ty {
            self.w.error(
                Code::PolicyTypeMismatch,
                format!(
                    "policy `{name}` is a `{ty}` policy; this place needs a `{}` policy",
                    slot.ty
                ),
                pointer,
                span,
            );
            return None;
        }
        let doc = doc?;
        if ty == PolicyType::KinesisResource {
            let found = check_policy(&doc.policy, ty, slot.attached_to);
            let note = slot.attached_to.map(|a| format!("attached to {a}"));
            self.report(found, &origin, note.as_deref());
        }
        Some(doc)
    }

    /// An inline document at `pointer`.
    pub(super) fn inline(
        &mut self,
        node: &JsonNode,
        pointer: &str,
        slot: &Slot<'_>,
        validate: bool,
    ) -> Option<Arc<PolicyDoc>> {
        let origin = Origin {
            pointer: pointer.to_string(),
            file: None,
            span: node.span,
        };
        let bytes = value_end(self.text, node.span.offset).saturating_sub(node.span.offset);
        self.build(node, bytes, slot, &origin, validate)
    }

    /// A policy read from `rel` (relative to the base folder); `pointer` is the `file` member's.
    /// Returns the policy and where its document starts in the file.
    pub(super) fn file(
        &mut self,
        rel: &str,
        pointer: &str,
        span: Span,
        slot: &Slot<'_>,
        validate: bool,
    ) -> Option<(Arc<PolicyDoc>, Span)> {
        let base = match self.files {
            FileRefs::In(base) => base,
            FileRefs::Refused { why, help } => {
                self.w.error_help(
                    Code::FileReferenceRefused,
                    format!("`{rel}`: {why}"),
                    help,
                    pointer,
                    span,
                );
                return None;
            }
        };
        if rel.is_empty() || Path::new(rel).is_absolute() {
            self.w.error(
                Code::FileReferenceRefused,
                format!("`{rel}`: a file reference is a path relative to the store's folder"),
                pointer,
                span,
            );
            return None;
        }
        // Resolved and checked before anything is read: a file outside the folder is never
        // opened, so no error can quote it.
        let path = match resolve_inside(base, rel) {
            Ok(p) => p,
            Err(Escape::Outside) => {
                self.w.error_help(
                    Code::FileReferenceRefused,
                    format!("`{rel}`: a file reference must stay inside the store's folder"),
                    "write the path relative to the folder the store file is in, without `..` \
                     or symbolic links that lead out of it",
                    pointer,
                    span,
                );
                return None;
            }
            Err(Escape::Io(msg)) => {
                self.w.error(
                    Code::StoreFileUnreadable,
                    format!("{rel}: {msg}"),
                    pointer,
                    span,
                );
                return None;
            }
        };
        let text = match read_bounded(&path) {
            Ok(t) => t,
            Err((code, msg)) => {
                self.w.error(code, format!("{rel}: {msg}"), pointer, span);
                return None;
            }
        };
        let mut origin = Origin {
            pointer: pointer.to_string(),
            file: Some(rel.to_string()),
            span: Span::default(),
        };
        // A referenced file may hold the text policy language; it reads into the same JSON
        // structure, with positions in the text.
        let parsed = if crate::parse::Form::detect(&text) == crate::parse::Form::Text {
            crate::parse::text::parse_text(&text, &self.limits).and_then(|p| {
                if p.lowering_errors.is_empty() {
                    Ok(p.json)
                } else {
                    Err(p.lowering_errors)
                }
            })
        } else {
            parse_json(&text, &self.limits).map_err(|d| vec![d])
        };
        let node = match parsed {
            Ok(n) => n,
            Err(d) => {
                self.report(d, &origin, None);
                return None;
            }
        };
        origin.span = node.span;
        let doc = self.build(&node, text.len(), slot, &origin, validate)?;
        Some((doc, node.span))
    }

    /// Builds (and validates) one policy; counts it against the store's bounds.
    pub(super) fn build(
        &mut self,
        node: &JsonNode,
        bytes: usize,
        slot: &Slot<'_>,
        origin: &Origin,
        validate: bool,
    ) -> Option<Arc<PolicyDoc>> {
        if self.bound_reported {
            return None;
        }
        if self.all.len() >= self.bounds.policies {
            self.bound_reported = true;
            self.w.error(
                Code::BoundExceeded,
                format!(
                    "the store has more than the bound max_policies = {} policies",
                    self.bounds.policies
                ),
                &origin.pointer,
                node.span,
            );
            return None;
        }
        let policy = match policy_from_node(node, bytes, &self.limits) {
            Ok(p) => p,
            Err(found) => {
                self.report(found, origin, None);
                return None;
            }
        };
        if validate {
            let found = check_policy(&policy, slot.ty, slot.attached_to);
            self.report(found, origin, None);
        }
        self.statements += policy.statements.len();
        if self.statements > self.bounds.statements {
            self.bound_reported = true;
            self.w.error(
                Code::BoundExceeded,
                format!(
                    "the store has more than the bound max_statements = {} statements in all",
                    self.bounds.statements
                ),
                &origin.pointer,
                node.span,
            );
        }
        let doc = PolicyDoc::new(slot.id.clone(), slot.ty, policy);
        self.all.push(Arc::clone(&doc));
        Some(doc)
    }
}
