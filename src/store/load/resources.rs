//! Reading role and federated-user sessions, and resources with their policies and tags.

use super::*;
use crate::diag::Code;

impl Loader<'_> {
    /// `sessions`.
    pub(super) fn sessions(
        &mut self,
        node: &JsonNode,
        pointer: &str,
        accounts: &BTreeMap<String, Account>,
    ) -> BTreeMap<String, Session> {
        let mut out = BTreeMap::new();
        let Some(members) = self.w.map(node, pointer, "`sessions`") else {
            return out;
        };
        for (key, entry) in members {
            let ptr = child_pointer(pointer, &key.name);
            let caller = Caller::parse(&key.name);
            let Some(skey) = caller.as_ref().ok().and_then(session_key) else {
                let why = match &caller {
                    Err(e) => e.to_string(),
                    Ok(_) => "not a session".to_string(),
                };
                self.w.error_help(
                    Code::InvalidStoreArn,
                    format!("`{}` is not a session ARN: {why}", key.name),
                    "a `sessions` key is arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION or \
                     arn:aws:sts::ACCOUNT:federated-user/NAME",
                    &ptr,
                    key.span,
                );
                continue;
            };
            let Some(f) = self.w.object(entry, &ptr, SESSION_FIELDS, "a session") else {
                continue;
            };
            let mut user = None;
            if let Some((v, uptr)) = f.get("user") {
                if let Some(name) = self.w.string(v, &uptr, "`user`") {
                    match &caller {
                        Ok(Caller::FederatedUser { account, .. }) => {
                            if accounts.get(account).and_then(|a| a.user(name)).is_none() {
                                self.w.error(
                                    Code::UnknownGroupOrUser,
                                    format!(
                                        "unknown user `{name}`: account {account} has no such user"
                                    ),
                                    &uptr,
                                    v.span,
                                );
                            } else {
                                user = Some(name.to_string());
                            }
                        }
                        _ => self.w.error(
                            Code::StoreWrongType,
                            "`user` applies to federated-user sessions only (a role session's \
                             policies are its role's)",
                            &uptr,
                            v.span,
                        ),
                    }
                }
            }
            let policy = match f.get("policy") {
                Some((v, _)) if v.value == JsonValue::Null => None,
                Some((v, pptr)) => {
                    let slot = Slot {
                        ty: PolicyType::Session,
                        id: format!("session/{}", key.name),
                        attached_to: None,
                        names: Names::Allowed,
                    };
                    self.policy_ref(v, &pptr, &slot)
                }
                None => None,
            };
            let tags = self.tags(&f);
            let session = Session {
                arn: key.name.clone(),
                policy,
                tags,
                user,
            };
            if let Some(old) = out.insert(skey, session) {
                self.w.error(
                    Code::CaseCollision,
                    format!(
                        "sessions `{}` and `{}` differ only in the case of the role name; role \
                         names ignore case",
                        old.arn, key.name
                    ),
                    &ptr,
                    key.span,
                );
            }
        }
        out
    }

    /// `resources`.
    pub(super) fn resources(
        &mut self,
        node: &JsonNode,
        pointer: &str,
    ) -> BTreeMap<String, Resource> {
        let mut out = BTreeMap::new();
        let Some(members) = self.w.map(node, pointer, "`resources`") else {
            return out;
        };
        for (key, entry) in members {
            let ptr = child_pointer(pointer, &key.name);
            let arn = key.name.as_str();
            if let Err(why) = check_resource_arn(arn) {
                self.w.error(
                    Code::InvalidStoreArn,
                    format!("`{arn}` is not a resource ARN: {why}"),
                    &ptr,
                    key.span,
                );
                continue;
            }
            if crate::eval::flow::is_role_arn(arn) {
                self.w.error_help(
                    Code::InvalidStoreArn,
                    format!("`{arn}` is a role: its resource-based policy is its trust policy"),
                    "write the trust policy as the role's `trust` under `accounts`",
                    &ptr,
                    key.span,
                );
                continue;
            }
            let Some(f) = self.w.object(entry, &ptr, RESOURCE_FIELDS, "a resource") else {
                continue;
            };
            let default_ty = match ResourceType::of_arn(arn) {
                Some(ResourceType::Stream | ResourceType::Consumer) => PolicyType::KinesisResource,
                _ => PolicyType::Resource,
            };
            let ty = match f.get("type") {
                Some((v, tptr)) => self
                    .policy_type(
                        v,
                        &tptr,
                        &[PolicyType::Resource, PolicyType::KinesisResource],
                    )
                    .unwrap_or(default_ty),
                None => default_ty,
            };
            let policy = match f.get("policy") {
                Some((v, _)) if v.value == JsonValue::Null => None,
                Some((v, pptr)) => {
                    let slot = Slot {
                        ty,
                        id: format!("resource/{arn}"),
                        attached_to: Some(arn),
                        names: Names::Allowed,
                    };
                    self.policy_ref(v, &pptr, &slot)
                }
                None => None,
            };
            let tags = self.tags(&f);
            out.insert(
                arn.to_string(),
                Resource {
                    arn: arn.to_string(),
                    ty,
                    policy,
                    tags,
                },
            );
        }
        out
    }
}
