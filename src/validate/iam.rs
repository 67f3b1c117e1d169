//! Rules of the IAM policy types (identity, boundary, session, SCP), generic resource-based
//! policies and RCPs (spec §1.4, §1.6, §1.8).

use crate::ast::{Effect, Policy, PolicyType, PrincipalValue, Statement, Version};
use crate::diag::{Code, Diagnostic};

use super::{at, policy_loc, principal_name, type_phrase};

/// `Resource` or `NotResource` is required (IAM102).
fn require_resource(stmt: &Statement, ty: PolicyType, out: &mut Vec<Diagnostic>) {
    if stmt.resource.is_none() {
        out.push(
            Diagnostic::error(
                Code::ResourceMissing,
                format!("Policy statement must contain resources: a statement of {} needs Resource or NotResource", type_phrase(ty)),
                stmt.loc.clone(),
            )
            .with_help("add \"Resource\": \"*\" or the ARNs the statement is about"),
        );
    }
}

/// `Principal` or `NotPrincipal` is required (IAM104).
fn require_principal(stmt: &Statement, ty: PolicyType, out: &mut Vec<Diagnostic>) {
    if stmt.principal.is_none() {
        out.push(
            Diagnostic::error(
                Code::PrincipalMissing,
                format!("a statement of {} must specify a Principal", type_phrase(ty)),
                stmt.loc.clone(),
            )
            .with_help("name who the statement applies to, e.g. \"Principal\": {\"AWS\": \"111122223333\"}"),
        );
    }
}

/// Identity policies, permissions boundaries, session policies and SCPs.
pub(super) fn check_iam(policy: &Policy, ty: PolicyType, out: &mut Vec<Diagnostic>) {
    for stmt in &policy.statements {
        if stmt.principal.is_some() {
            out.push(
                Diagnostic::error(
                    Code::PrincipalNotAllowed,
                    format!("Policy document should not specify a principal: {} applies to the identity it is attached to", type_phrase(ty)),
                    at(stmt, principal_name(stmt)),
                )
                .with_help("remove the element; if this is a resource-based policy, check it as one (iamc check --type resource, or kinesis-resource)"),
            );
        }
        require_resource(stmt, ty, out);
        if let Some(sid) = &stmt.sid {
            if !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
                out.push(
                    Diagnostic::error(
                        Code::InvalidSid,
                        format!(
                            "Sid \"{sid}\" may contain only ASCII letters and digits in {}",
                            type_phrase(ty)
                        ),
                        at(stmt, "Sid"),
                    )
                    .with_help("remove spaces, dashes and other punctuation"),
                );
            }
        }
    }
}

/// Generic resource-based policies.
pub(super) fn check_resource(policy: &Policy, out: &mut Vec<Diagnostic>) {
    for stmt in &policy.statements {
        require_principal(stmt, PolicyType::Resource, out);
        require_resource(stmt, PolicyType::Resource, out);
    }
}

/// The actions a role trust policy is about: assuming the role, and what the caller may set
/// on the session it gets (lower-case).
pub(crate) const TRUST_ACTIONS: &[&str] = &[
    "sts:assumerole",
    "sts:assumerolewithsaml",
    "sts:assumerolewithwebidentity",
    "sts:tagsession",
    "sts:setsourceidentity",
    "sts:setcontext",
];

/// Role trust policies (spec §1.6 table): Principal required, NotPrincipal and Resource
/// forbidden (IAM: "Has prohibited field Resource"); actions other than the `sts:` ones of
/// assuming a role never apply (a warning).
pub(super) fn check_trust(policy: &Policy, out: &mut Vec<Diagnostic>) {
    for stmt in &policy.statements {
        require_principal(stmt, PolicyType::RoleTrust, out);
        if stmt.principal.as_ref().is_some_and(|p| p.negated) {
            out.push(Diagnostic::error(
                Code::TrustNotPrincipal,
                "a role trust policy may not use NotPrincipal",
                at(stmt, "NotPrincipal"),
            ));
        }
        if let Some(r) = &stmt.resource {
            let name = if r.negated { "NotResource" } else { "Resource" };
            out.push(
                Diagnostic::error(
                    Code::TrustResource,
                    format!("Has prohibited field {name}: a role trust policy applies to its role"),
                    at(stmt, name),
                )
                .with_help("remove the element"),
            );
        }
        if stmt.action.negated {
            continue;
        }
        for a in &stmt.action.patterns {
            let lc = a.raw.to_ascii_lowercase();
            let applies = lc == "*"
                || TRUST_ACTIONS
                    .iter()
                    .any(|t| crate::glob::Glob::new(&lc).matches(t));
            if !applies {
                out.push(
                    Diagnostic::new(
                        Code::TrustAction,
                        crate::diag::Severity::Warning,
                        format!(
                            "`{}` never applies in a role trust policy: it is about assuming the \
                             role (sts:AssumeRole, sts:AssumeRoleWithWebIdentity, \
                             sts:AssumeRoleWithSAML, sts:TagSession, sts:SetSourceIdentity, \
                             sts:SetContext)",
                            a.raw
                        ),
                        at(stmt, "Action"),
                    )
                    .with_help("grant other actions in the role's identity policies"),
                );
            }
        }
    }
}

/// Whether `stmt` is the AWS-managed `RCPFullAWSAccess` statement: Allow `*` on `*`.
fn is_full_access(stmt: &Statement) -> bool {
    let all_actions = !stmt.action.negated
        && stmt.action.patterns.len() == 1
        && stmt.action.patterns.iter().all(|a| a.raw == "*");
    let all_resources = stmt.resource.as_ref().is_some_and(|r| {
        !r.negated && r.patterns.len() == 1 && r.patterns.iter().all(|p| p.is_star())
    });
    all_actions && all_resources
}

/// Resource control policies (spec §1.6 table).
pub(super) fn check_rcp(policy: &Policy, out: &mut Vec<Diagnostic>) {
    if policy.version != Version::V2012_10_17 {
        let pointer = if policy.version == Version::Absent {
            ""
        } else {
            "/Version"
        };
        out.push(Diagnostic::error(
            Code::RcpVersion,
            "an RCP must have \"Version\": \"2012-10-17\"",
            policy_loc(pointer),
        ));
    }
    for stmt in &policy.statements {
        require_principal(stmt, PolicyType::Rcp, out);
        require_resource(stmt, PolicyType::Rcp, out);
        if let Some(p) = &stmt.principal {
            if p.negated || p.values.iter().any(|v| *v != PrincipalValue::Anyone) {
                out.push(
                    Diagnostic::error(
                        Code::RcpPrincipal,
                        "an RCP statement must have \"Principal\": \"*\" (NotPrincipal and named principals are not allowed)",
                        at(stmt, principal_name(stmt)),
                    )
                    .with_help("use \"Principal\": \"*\" and narrow with conditions such as aws:PrincipalAccount"),
                );
            }
        }
        if stmt.action.negated {
            out.push(Diagnostic::error(
                Code::RcpNotAction,
                "an RCP statement may not use NotAction",
                at(stmt, "NotAction"),
            ));
        }
        match stmt.effect {
            Effect::Allow if !is_full_access(stmt) => out.push(
                Diagnostic::error(
                    Code::RcpAllow,
                    "an RCP statement must have \"Effect\": \"Deny\"; Allow is reserved for RCPFullAWSAccess (Allow \"*\" on \"*\")",
                    at(stmt, "Effect"),
                ),
            ),
            Effect::Deny if !stmt.action.negated && stmt.action.patterns.iter().any(|a| a.raw == "*") => {
                out.push(
                    Diagnostic::error(
                        Code::RcpDenyAll,
                        "an RCP Deny statement may not have \"Action\": \"*\"",
                        at(stmt, "Action"),
                    )
                    .with_help("list the service actions to deny, e.g. \"kinesis:*\""),
                )
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::ast::PolicyType;
    use crate::diag::Code;
    use crate::validate::tests::{assert_finding, check};

    fn stmt(members: &str) -> String {
        format!(r#"{{"Version":"2012-10-17","Statement":[{{{members}}}]}}"#)
    }

    const BASE: &str = r#""Effect":"Allow","Action":"kinesis:PutRecord","Resource":"*""#;
    const IAM_TYPES: [PolicyType; 4] = [
        PolicyType::Identity,
        PolicyType::Boundary,
        PolicyType::Session,
        PolicyType::Scp,
    ];

    #[test]
    fn iam_types_forbid_principal() {
        for ty in IAM_TYPES {
            let f = check(&stmt(&format!(r#"{BASE},"Principal":"*""#)), ty, None);
            assert_finding(&f, Code::PrincipalNotAllowed, "/Statement/0/Principal");
            let f = check(
                &stmt(&format!(
                    r#"{BASE},"NotPrincipal":{{"AWS":"111122223333"}}"#
                )),
                ty,
                None,
            );
            assert_finding(&f, Code::PrincipalNotAllowed, "/Statement/0/NotPrincipal");
            assert!(check(&stmt(BASE), ty, None).is_empty());
        }
    }

    #[test]
    fn resource_required() {
        let no_resource = stmt(r#""Effect":"Allow","Action":"kinesis:PutRecord","Principal":"*""#);
        for ty in [
            PolicyType::Resource,
            PolicyType::Rcp,
            PolicyType::KinesisResource,
        ] {
            assert_finding(
                &check(&no_resource, ty, None),
                Code::ResourceMissing,
                "/Statement/0",
            );
        }
        for ty in IAM_TYPES {
            let f = check(
                &stmt(r#""Effect":"Allow","Action":"kinesis:PutRecord""#),
                ty,
                None,
            );
            assert_finding(&f, Code::ResourceMissing, "/Statement/0");
            let f = check(
                &stmt(r#""Effect":"Allow","Action":"kinesis:PutRecord","NotResource":"*""#),
                ty,
                None,
            );
            // Accepted; Allow with NotResource is only a security warning (IAM181).
            assert!(f.iter().all(|d| d.code == Code::AllowNotResource), "{f:?}");
        }
    }

    #[test]
    fn iam_sid_characters() {
        for ty in IAM_TYPES {
            let f = check(&stmt(&format!(r#"{BASE},"Sid":"read-only""#)), ty, None);
            assert_finding(&f, Code::InvalidSid, "/Statement/0/Sid");
            assert!(check(&stmt(&format!(r#"{BASE},"Sid":"ReadOnly1""#)), ty, None).is_empty());
        }
        // Other types allow more characters.
        let f = check(
            &stmt(&format!(r#"{BASE},"Sid":"read only","Principal":"*""#)),
            PolicyType::Resource,
            None,
        );
        assert!(f.is_empty());
    }

    #[test]
    fn resource_policies_need_a_principal() {
        let f = check(&stmt(BASE), PolicyType::Resource, None);
        assert_finding(&f, Code::PrincipalMissing, "/Statement/0");
        let f = check(
            &stmt(&format!(
                r#"{BASE},"NotPrincipal":{{"AWS":"111122223333"}}"#
            )),
            PolicyType::Resource,
            None,
        );
        // Accepted; Allow with NotPrincipal is only a security warning (IAM182).
        assert!(f.iter().all(|d| d.code == Code::AllowNotPrincipal), "{f:?}");
        let f = check(
            &stmt(&format!(
                r#"{BASE},"Principal":{{"Service":"s3.amazonaws.com"}}"#
            )),
            PolicyType::Resource,
            None,
        );
        assert!(f.is_empty());
    }

    #[test]
    fn rcp_rules() {
        let rcp = |members: &str| check(&stmt(members), PolicyType::Rcp, None);
        let good =
            r#""Effect":"Deny","Principal":"*","Action":"kinesis:DeleteStream","Resource":"*""#;
        assert!(rcp(good).is_empty());
        // RCPFullAWSAccess.
        assert!(rcp(r#""Effect":"Allow","Principal":"*","Action":"*","Resource":"*""#).is_empty());

        assert_finding(
            &rcp(&good.replace(
                r#""Principal":"*""#,
                r#""Principal":{"AWS":"111122223333"}"#,
            )),
            Code::RcpPrincipal,
            "/Statement/0/Principal",
        );
        assert_finding(
            &rcp(&good.replace(r#""Principal":"*""#, r#""NotPrincipal":"*""#)),
            Code::RcpPrincipal,
            "/Statement/0/NotPrincipal",
        );
        assert_finding(
            &rcp(&good.replace("Deny", "Allow")),
            Code::RcpAllow,
            "/Statement/0/Effect",
        );
        assert_finding(
            &rcp(r#""Effect":"Allow","Principal":"*","Action":"*","Resource":"arn:aws:s3:::b""#),
            Code::RcpAllow,
            "/Statement/0/Effect",
        );
        assert_finding(
            &rcp(&good.replace(r#""Action""#, r#""NotAction""#)),
            Code::RcpNotAction,
            "/Statement/0/NotAction",
        );
        assert_finding(
            &rcp(&good.replace("kinesis:DeleteStream", "*")),
            Code::RcpDenyAll,
            "/Statement/0/Action",
        );
        assert_finding(
            &rcp(&good.replace(r#""Principal":"*","#, "")),
            Code::PrincipalMissing,
            "/Statement/0",
        );

        let f = check(
            &stmt(good).replace("2012-10-17", "2008-10-17"),
            PolicyType::Rcp,
            None,
        );
        assert_finding(&f, Code::RcpVersion, "/Version");
        let f = check(
            &format!(r#"{{"Statement":[{{{good}}}]}}"#),
            PolicyType::Rcp,
            None,
        );
        assert_finding(&f, Code::RcpVersion, "");
    }
}
