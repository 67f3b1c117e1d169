//! The Kinesis Data Streams resource-policy profile (spec §7.4): codes `IAM110`–`IAM118` (see
//! the table in [`super`]). The shareable actions and the level each is shared at come from
//! the catalog ([`crate::catalog::ActionInfo::shareable`]).

use crate::arn::Arn;
use crate::ast::{Policy, PrincipalValue, Statement};
use crate::catalog::{self, ResourceType};
use crate::diag::{Code, Diagnostic};

use super::{at, at_item, policy_loc, principal_name};

/// What a Kinesis resource policy is attached to, and the level at which an action is shared:
/// a data stream (`arn:P:kinesis:R:A:stream/NAME`) or a registered consumer
/// (`arn:P:kinesis:R:A:stream/NAME/consumer/CNAME:TIMESTAMP`).
type Level = ResourceType;

fn level_name(level: Level) -> &'static str {
    match level {
        ResourceType::Stream => "data stream",
        ResourceType::Consumer => "consumer",
        other => other.as_str(),
    }
}

/// The actions a Kinesis resource policy can share (spec §7.4 table), from the catalog.
fn shareable() -> impl Iterator<Item = (&'static str, Level)> {
    catalog::service_actions("kinesis")
        .iter()
        .filter_map(|a| Some((a.name, a.shareable?)))
}

/// Largest Kinesis resource policy, in bytes of source text. The docs say "20 KB"; whether that
/// is 20,000 or 20,480, bytes or characters, with or without whitespace, is unverified
/// (spec §7.4), so this takes the larger reading and counts the whole source.
const MAX_KINESIS_POLICY_BYTES: usize = 20_480;

/// Classifies an ARN without wildcards as a Kinesis stream or consumer ARN.
fn classify(arn: &str) -> Option<Level> {
    let arn = Arn::parse(arn).ok().filter(|a| a.service() == "kinesis")?;
    let name_ok = |s: &str| !s.is_empty() && !s.contains(['/', ':']);
    if arn.partition().is_empty() || arn.region().is_empty() || arn.account_id().is_none() {
        return None;
    }
    let rest = arn.resource().strip_prefix("stream/")?;
    match rest.split_once("/consumer/") {
        Some((stream, consumer)) => {
            let (cname, ts) = consumer.split_once(':')?;
            let ts_ok = !ts.is_empty() && ts.bytes().all(|b| b.is_ascii_digit());
            (name_ok(stream) && name_ok(cname) && ts_ok).then_some(ResourceType::Consumer)
        }
        None => name_ok(rest).then_some(ResourceType::Stream),
    }
}

fn has_wildcard(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// The Kinesis Data Streams resource-policy profile (spec §7.4).
pub(super) fn check_kinesis_resource(
    policy: &Policy,
    attached_to: Option<&str>,
    out: &mut Vec<Diagnostic>,
) {
    if policy.source_bytes > MAX_KINESIS_POLICY_BYTES {
        out.push(
            Diagnostic::error(
                Code::KinesisPolicyTooLarge,
                format!(
                    "a Kinesis resource policy cannot exceed 20 KB; this one is {} bytes (limit taken as {MAX_KINESIS_POLICY_BYTES} bytes of source)",
                    policy.source_bytes
                ),
                policy_loc(""),
            )
            .with_help("split the grants, or remove whitespace and repeated principals"),
        );
    }
    let attached_level = match attached_to {
        Some(arn) => {
            let level = classify(arn);
            if level.is_none() {
                out.push(Diagnostic::error(
                    Code::KinesisAttachedTo,
                    format!("\"{arn}\" is neither a Kinesis stream ARN nor a consumer ARN, so it cannot carry a Kinesis resource policy"),
                    policy_loc(""),
                ));
            }
            level
        }
        None => None,
    };
    for stmt in &policy.statements {
        check_statement(stmt, attached_to, attached_level, out);
    }
}

fn check_statement(
    stmt: &Statement,
    attached_to: Option<&str>,
    attached_level: Option<Level>,
    out: &mut Vec<Diagnostic>,
) {
    let not_supported = |element: &str| {
        Diagnostic::error(
            Code::KinesisNotElement,
            format!("{element} is not supported in a Kinesis resource policy"),
            at(stmt, element),
        )
    };

    // Principal.
    match &stmt.principal {
        None => out.push(
            Diagnostic::error(
                Code::PrincipalMissing,
                "a Kinesis resource policy statement must specify a Principal",
                stmt.loc.clone(),
            )
            .with_help("name the account, IAM user or IAM role, e.g. \"Principal\": {\"AWS\": \"111122223333\"}"),
        ),
        Some(p) if p.negated => out.push(not_supported("NotPrincipal")),
        Some(p) => {
            let loc = at(stmt, principal_name(stmt));
            for v in &p.values {
                let kind = match v {
                    PrincipalValue::Aws(_) => continue,
                    PrincipalValue::Anyone => {
                        out.push(
                            Diagnostic::error(
                                Code::KinesisWildcardPrincipal,
                                "wildcard (*) principals are not supported in a Kinesis resource policy",
                                loc.clone(),
                            )
                            .with_help("name accounts, IAM users or IAM roles"),
                        );
                        continue;
                    }
                    PrincipalValue::Service(_) => "service principals",
                    PrincipalValue::Federated(_) => "federated principals",
                    PrincipalValue::CanonicalUser(_) => "canonical user IDs",
                };
                out.push(
                    Diagnostic::error(
                        Code::KinesisPrincipalKind,
                        format!("{kind} are not supported in a Kinesis resource policy"),
                        loc.clone(),
                    )
                    .with_help("only account IDs, IAM users and IAM roles can be named"),
                );
            }
        }
    }

    // Resource: the attached ARN, exactly.
    let mut levels: Vec<Level> = attached_level.into_iter().collect();
    match &stmt.resource {
        None => out.push(Diagnostic::error(
            Code::ResourceMissing,
            "Policy statement must contain resources: a Kinesis resource policy statement needs Resource",
            stmt.loc.clone(),
        )),
        Some(r) if r.negated => out.push(not_supported("NotResource")),
        Some(r) => {
            let n = r.patterns.len();
            for (i, pat) in r.patterns.iter().enumerate() {
                let loc = at_item(stmt, "Resource", i, n);
                let problem = if has_wildcard(&pat.raw) {
                    Some("wildcards are not supported in the Resource of a Kinesis resource policy".to_string())
                } else if let Some(att) = attached_to.filter(|att| *att != pat.raw) {
                    Some(format!("Resource \"{}\" must be the ARN the policy is attached to, \"{att}\"", pat.raw))
                } else {
                    match classify(&pat.raw) {
                        Some(level) => {
                            if attached_to.is_none() {
                                levels.push(level);
                            }
                            None
                        }
                        None => Some(format!("Resource \"{}\" is not a Kinesis stream or consumer ARN", pat.raw)),
                    }
                };
                if let Some(msg) = problem {
                    out.push(Diagnostic::error(Code::KinesisResourceNotAttached, msg, loc));
                }
            }
        }
    }

    // Actions: only the shareable ones, without wildcards, at the right level.
    if stmt.action.negated {
        out.push(not_supported("NotAction"));
        return;
    }
    let n = stmt.action.patterns.len();
    for (i, a) in stmt.action.patterns.iter().enumerate() {
        let loc = at_item(stmt, "Action", i, n);
        if has_wildcard(&a.raw) {
            out.push(
                Diagnostic::error(
                    Code::KinesisWildcardAction,
                    format!("action \"{}\": wildcards are not supported for actions in a Kinesis resource policy", a.raw),
                    loc,
                )
                .with_help("list the actions to share by name"),
            );
            continue;
        }
        let name = a.raw.split_once(':').map_or("", |(_, n)| n);
        let shared = shareable()
            .find(|(s, _)| a.service.as_deref() == Some("kinesis") && s.eq_ignore_ascii_case(name));
        let Some((canonical, level)) = shared else {
            out.push(
                Diagnostic::error(
                    Code::KinesisUnshareableAction,
                    format!(
                        "action \"{}\" cannot be shared through a Kinesis resource policy",
                        a.raw
                    ),
                    loc,
                )
                .with_help(format!(
                    "shareable actions: {}",
                    shareable()
                        .map(|(s, _)| format!("kinesis:{s}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            );
            continue;
        };
        if let Some(wrong) = levels.iter().find(|l| **l != level) {
            out.push(Diagnostic::error(
                Code::KinesisActionLevel,
                format!(
                    "kinesis:{canonical} is shared on a {}, but this policy is on a {}",
                    level_name(level),
                    level_name(*wrong)
                ),
                loc,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::PolicyType;
    use crate::validate::tests::{assert_finding, check};

    const STREAM: &str = "arn:aws:kinesis:us-east-2:123456789012:stream/orders";
    const CONSUMER: &str =
        "arn:aws:kinesis:us-east-2:123456789012:stream/orders/consumer/c1:1674696300";

    fn policy(principal: &str, action: &str, resource: &str) -> String {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":{action},"Resource":{resource}}}]}}"#
        )
    }

    fn kinesis(text: &str, attached: Option<&str>) -> Vec<Diagnostic> {
        check(text, PolicyType::KinesisResource, attached)
    }

    const ACCT: &str = r#"{"AWS":"210987654321"}"#;

    #[test]
    fn action_list_is_complete() {
        assert_eq!(catalog::service_actions("kinesis").len(), 46);
        assert_eq!(shareable().count(), 8);
        for (s, _) in shareable() {
            assert!(catalog::lookup(&format!("kinesis:{s}")).is_some());
        }
    }

    #[test]
    fn classifies_stream_and_consumer_arns() {
        assert_eq!(classify(STREAM), Some(ResourceType::Stream));
        assert_eq!(classify(CONSUMER), Some(ResourceType::Consumer));
        for bad in [
            "arn:aws:kinesis:us-east-2:123456789012:stream/",
            "arn:aws:kinesis:us-east-2:12345:stream/x",
            "arn:aws:s3:us-east-2:123456789012:stream/x",
            "arn:aws:kinesis:us-east-2:123456789012:stream/x/consumer/c",
            "arn:aws:kinesis:us-east-2:123456789012:stream/x/consumer/c:abc",
            "arn:aws:kinesis:us-east-2:123456789012:channel/x",
            "arn:aws:kinesis::123456789012:stream/x",
            "arn:aws:kinesis:us-east-2:123456789012",
        ] {
            assert_eq!(classify(bad), None, "{bad}");
        }
    }

    #[test]
    fn valid_kinesis_policies() {
        let stream = format!("\"{STREAM}\"");
        let text = policy(
            r#"{"AWS":["210987654321","arn:aws:iam::210987654321:role/r","arn:aws:iam::210987654321:user/u"]}"#,
            r#"["kinesis:PutRecord","KINESIS:getrecords","kinesis:ListShards"]"#,
            &stream,
        );
        assert!(kinesis(&text, Some(STREAM)).is_empty());
        assert!(kinesis(&text, None).is_empty());
        let text = policy(
            ACCT,
            r#"["kinesis:SubscribeToShard","kinesis:DescribeStreamConsumer"]"#,
            &format!("\"{CONSUMER}\""),
        );
        assert!(kinesis(&text, Some(CONSUMER)).is_empty());
        assert!(kinesis(&text, None).is_empty());
    }

    #[test]
    fn kinesis_rules() {
        let stream = format!("\"{STREAM}\"");
        let put = r#""kinesis:PutRecord""#;
        let k = |p: &str, a: &str, r: &str| kinesis(&policy(p, a, r), Some(STREAM));

        assert_finding(
            &k(ACCT, r#""kinesis:*""#, &stream),
            Code::KinesisWildcardAction,
            "/Statement/0/Action",
        );
        assert_finding(
            &k(ACCT, r#"["kinesis:PutRecord","kinesis:Get*"]"#, &stream),
            Code::KinesisWildcardAction,
            "/Statement/0/Action/1",
        );
        assert_finding(
            &k(ACCT, r#""*""#, &stream),
            Code::KinesisWildcardAction,
            "/Statement/0/Action",
        );
        assert_finding(
            &k(r#""*""#, put, &stream),
            Code::KinesisWildcardPrincipal,
            "/Statement/0/Principal",
        );
        assert_finding(
            &k(r#"{"AWS":"*"}"#, put, &stream),
            Code::KinesisWildcardPrincipal,
            "/Statement/0/Principal",
        );
        for p in [
            r#"{"Service":"lambda.amazonaws.com"}"#,
            r#"{"Federated":"cognito-identity.amazonaws.com"}"#,
            r#"{"CanonicalUser":"79a5"}"#,
        ] {
            assert_finding(
                &k(p, put, &stream),
                Code::KinesisPrincipalKind,
                "/Statement/0/Principal",
            );
        }
        let f = kinesis(
            &policy(ACCT, put, &stream).replace("\"Principal\"", "\"NotPrincipal\""),
            Some(STREAM),
        );
        assert_finding(&f, Code::KinesisNotElement, "/Statement/0/NotPrincipal");
        let f = kinesis(
            &policy(ACCT, put, &stream).replace("\"Action\"", "\"NotAction\""),
            Some(STREAM),
        );
        assert_finding(&f, Code::KinesisNotElement, "/Statement/0/NotAction");
        let f = kinesis(
            &policy(ACCT, put, &stream).replace("\"Resource\"", "\"NotResource\""),
            Some(STREAM),
        );
        assert_finding(&f, Code::KinesisNotElement, "/Statement/0/NotResource");
        assert_finding(
            &k(ACCT, r#""kinesis:DeleteStream""#, &stream),
            Code::KinesisUnshareableAction,
            "/Statement/0/Action",
        );
        assert_finding(
            &k(ACCT, r#""kinesis:PutRecordz""#, &stream),
            Code::KinesisUnshareableAction,
            "/Statement/0/Action",
        );
        assert_finding(
            &k(ACCT, r#""s3:GetObject""#, &stream),
            Code::KinesisUnshareableAction,
            "/Statement/0/Action",
        );
        assert_finding(
            &k(ACCT, r#""kinesis:SubscribeToShard""#, &stream),
            Code::KinesisActionLevel,
            "/Statement/0/Action",
        );
        let f = kinesis(
            &policy(ACCT, put, &format!("\"{CONSUMER}\"")),
            Some(CONSUMER),
        );
        assert_finding(&f, Code::KinesisActionLevel, "/Statement/0/Action");
        // Without attached_to the level comes from the Resource.
        let f = kinesis(&policy(ACCT, put, &format!("\"{CONSUMER}\"")), None);
        assert_finding(&f, Code::KinesisActionLevel, "/Statement/0/Action");

        let other = "\"arn:aws:kinesis:us-east-2:123456789012:stream/other\"";
        assert_finding(
            &k(ACCT, put, other),
            Code::KinesisResourceNotAttached,
            "/Statement/0/Resource",
        );
        assert_finding(
            &k(ACCT, put, &format!("[{stream},{other}]")),
            Code::KinesisResourceNotAttached,
            "/Statement/0/Resource/1",
        );
        assert_finding(
            &k(
                ACCT,
                put,
                "\"arn:aws:kinesis:us-east-2:123456789012:stream/*\"",
            ),
            Code::KinesisResourceNotAttached,
            "/Statement/0/Resource",
        );
        assert_finding(
            &k(ACCT, put, "\"*\""),
            Code::KinesisResourceNotAttached,
            "/Statement/0/Resource",
        );
        let f = kinesis(&policy(ACCT, put, "\"arn:aws:s3:::bucket\""), None);
        assert_finding(
            &f,
            Code::KinesisResourceNotAttached,
            "/Statement/0/Resource",
        );
        let f = kinesis(
            &policy(ACCT, put, "\"arn:aws:s3:::bucket\""),
            Some("arn:aws:s3:::bucket"),
        );
        assert_finding(&f, Code::KinesisAttachedTo, "");
        let f = kinesis(
            &policy(ACCT, put, &stream).replace(r#""Principal":{"AWS":"210987654321"},"#, ""),
            Some(STREAM),
        );
        assert_finding(&f, Code::PrincipalMissing, "/Statement/0");
    }

    #[test]
    fn kinesis_size_limit() {
        let roles: Vec<String> = (0..600)
            .map(|i| format!("\"arn:aws:iam::210987654321:role/reader-{i:04}\""))
            .collect();
        let big = policy(
            &format!(r#"{{"AWS":[{}]}}"#, roles.join(",")),
            r#""kinesis:PutRecord""#,
            &format!("\"{STREAM}\""),
        );
        assert!(big.len() > MAX_KINESIS_POLICY_BYTES);
        assert_finding(
            &kinesis(&big, Some(STREAM)),
            Code::KinesisPolicyTooLarge,
            "",
        );
        let small: Vec<String> = roles.into_iter().take(100).collect();
        let ok = policy(
            &format!(r#"{{"AWS":[{}]}}"#, small.join(",")),
            r#""kinesis:PutRecord""#,
            &format!("\"{STREAM}\""),
        );
        assert!(kinesis(&ok, Some(STREAM)).is_empty());
    }

    #[test]
    fn unknown_kinesis_actions_warn() {
        use crate::diag::Severity;
        let text = |a: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":{a},"Resource":"*"}}]}}"#
            )
        };
        let f = check(
            &text(r#"["kinesis:PutRecord","kinesis:PutRecordz"]"#),
            PolicyType::Identity,
            None,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert_finding(&f, Code::UnknownAction, "/Statement/0/Action/1");
        let f = check(&text(r#""kinesis:Put*z""#), PolicyType::Identity, None);
        assert_finding(&f, Code::ActionPatternMatchesNothing, "/Statement/0/Action");
        for fine in [
            r#""kinesis:putrecords""#,
            r#""kinesis:Put*""#,
            r#""s3:GetObjectz""#,
            r#""*""#,
        ] {
            assert!(
                check(&text(fine), PolicyType::Identity, None).is_empty(),
                "{fine}"
            );
        }
    }
}
