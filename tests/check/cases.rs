//! The table of cases: for every code, a policy that triggers it and a fixed one that does
//! not.

use super::*;

pub(super) fn cases() -> Vec<Case> {
    let trust_ok = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/alice"},"Action":"sts:AssumeRole"}]}"#;
    use PolicyType::{
        Identity as I, KinesisResource as K, Rcp, Resource as R, RoleTrust as T, Session,
    };
    let put = q("kinesis:PutRecord");
    let stream = q(STREAM);
    let ok = doc(&allow(&put, &stream, ""));
    let acct = r#"{"AWS":"210987654321"}"#;
    let seed = shared(acct, &put, &stream);
    let rcp = |m: &str| doc(&st(m));
    let rcp_ok =
        r#""Effect":"Deny","Principal":"*","Action":"kinesis:DeleteStream","Resource":"*""#;
    let cond = |c: &str| doc(&allow(&put, &stream, &format!(r#""Condition":{{{c}}}"#)));
    let tag = |c: &str| {
        doc(&allow(
            &q("kinesis:TagResource"),
            &stream,
            &format!(r#""Condition":{{{c}}}"#),
        ))
    };
    let deep = format!(
        r#""Condition":{{"StringEquals":{{"aws:username":{}"a"{}}}}}"#,
        "[".repeat(70),
        "]".repeat(70)
    );
    let roles = |n: usize| {
        let v: Vec<String> = (0..n)
            .map(|i| format!("\"arn:aws:iam::210987654321:role/reader-role-number-{i:04}\""))
            .collect();
        format!(r#"{{"AWS":[{}]}}"#, v.join(","))
    };
    let s3 = r#""Action":"s3:GetObject","Resource":"arn:aws:s3:::bucket/*""#;
    let mut v = vec![
        // Parser (IAM0xx).
        case(
            "IAM001",
            I,
            r#"{"Version":"2012-10-17","Statement":["#.into(),
            ok.clone(),
        ),
        case(
            "IAM002",
            I,
            cond(r#""StringEquals":{"aws:username":"a","aws:username":"b"}"#),
            cond(r#""StringEquals":{"aws:username":"a","aws:userid":"b"}"#),
        ),
        case("IAM003", I, doc(&allow(&put, &stream, &deep)), ok.clone()),
        case(
            "IAM004",
            I,
            doc(&allow(&put, &stream, r#""Sid":"Caf€""#)),
            doc(&allow(&put, &stream, r#""Sid":"Cafe""#)),
        ),
        case(
            "IAM005",
            I,
            "policy version 2012-10-17 {\n  allow kinesis:PutRecord on ;\n}\n".to_string(),
            "policy version 2012-10-17 {\n  allow kinesis:PutRecord on *;\n}\n".to_string(),
        ),
        case(
            "IAM010",
            I,
            doc(&st(
                r#""Effect":"Allow","Actions":"kinesis:PutRecord","Resource":"*""#,
            )),
            ok.clone(),
        ),
        case(
            "IAM011",
            I,
            doc(&allow(&put, &stream, r#""Sid":5"#)),
            doc(&allow(&put, &stream, r#""Sid":"S5""#)),
        ),
        case(
            "IAM012",
            I,
            ok.replace("2012-10-17", "2013-01-01"),
            ok.clone(),
        ),
        case(
            "IAM013",
            I,
            r#"{"Version":"2012-10-17","Statement":[]}"#.into(),
            ok.clone(),
        ),
        case(
            "IAM014",
            I,
            doc(&format!(
                "{},{}",
                allow(&put, &stream, r#""Sid":"A""#),
                allow(&q("kinesis:GetRecords"), &stream, r#""Sid":"A""#)
            )),
            doc(&format!(
                "{},{}",
                allow(&put, &stream, r#""Sid":"A""#),
                allow(&q("kinesis:GetRecords"), &stream, r#""Sid":"B""#)
            )),
        ),
        case(
            "IAM015",
            I,
            ok.replace("\"Allow\"", "\"allow\""),
            ok.clone(),
        ),
        case(
            "IAM016",
            I,
            doc(&st(&format!(r#""Effect":"Allow","Resource":{stream}"#))),
            ok.clone(),
        ),
        case(
            "IAM017",
            I,
            doc(&allow(&q("PutRecord"), &stream, "")),
            ok.clone(),
        ),
        case("IAM018", I, doc(&allow(&put, "[]", "")), ok.clone()),
        case(
            "IAM019",
            I,
            doc(&allow(&put, &q("stream/orders"), "")),
            ok.clone(),
        ),
        case(
            "IAM020",
            R,
            shared(&q("210987654321"), &put, &stream),
            shared(acct, &put, &stream),
        ),
        case(
            "IAM021",
            R,
            shared(
                r#"{"AWS":"arn:aws:iam::210987654321:user/*"}"#,
                &put,
                &stream,
            ),
            shared(
                r#"{"AWS":"arn:aws:iam::210987654321:user/alice"}"#,
                &put,
                &stream,
            ),
        ),
        case(
            "IAM022",
            I,
            doc(&allow(&put, &stream, r#""Condition":[]"#)),
            doc(&allow(&put, &stream, r#""Condition":{}"#)),
        ),
        case(
            "IAM023",
            I,
            cond(r#""StringEqualz":{"aws:username":"a"}"#),
            cond(r#""StringEquals":{"aws:username":"a"}"#),
        ),
        case(
            "IAM024",
            I,
            cond(r#""StringEquals":{"username":"a"}"#),
            cond(r#""StringEquals":{"aws:username":"a"}"#),
        ),
        case(
            "IAM025",
            I,
            cond(r#""IpAddress":{"aws:SourceIp":"10.0.0.0/33"}"#),
            cond(r#""IpAddress":{"aws:SourceIp":"10.0.0.0/8"}"#),
        ),
        // Policy types (IAM101–IAM109).
        case("IAM101", I, shared(acct, &put, &stream), ok.clone()),
        case(
            "IAM102",
            I,
            doc(&st(r#""Effect":"Allow","Action":"kinesis:PutRecord""#)),
            ok.clone(),
        ),
        case(
            "IAM103",
            I,
            doc(&allow(&put, &stream, r#""Sid":"read-only""#)),
            doc(&allow(&put, &stream, r#""Sid":"ReadOnly""#)),
        ),
        case("IAM104", R, ok.clone(), seed.clone()),
        case(
            "IAM105",
            Rcp,
            rcp(&rcp_ok.replace(
                r#""Principal":"*""#,
                r#""Principal":{"AWS":"111122223333"}"#,
            )),
            rcp(rcp_ok),
        ),
        case(
            "IAM106",
            Rcp,
            rcp(&rcp_ok.replace("Deny", "Allow")),
            rcp(rcp_ok),
        ),
        case(
            "IAM107",
            Rcp,
            rcp(&rcp_ok.replace("\"Action\"", "\"NotAction\"")),
            rcp(rcp_ok),
        ),
        case(
            "IAM108",
            Rcp,
            rcp(&rcp_ok.replace("kinesis:DeleteStream", "*")),
            rcp(rcp_ok),
        ),
        case(
            "IAM109",
            Rcp,
            rcp(rcp_ok).replace("2012-10-17", "2008-10-17"),
            rcp(rcp_ok),
        ),
        // Role trust policies (IAM130–IAM132).
        case(
            "IAM130",
            T,
            trust_ok.replace(r#""Action""#, r#""Resource":"*","Action""#),
            trust_ok.to_string(),
        ),
        case(
            "IAM131",
            T,
            trust_ok.replace("Principal", "NotPrincipal"),
            trust_ok.to_string(),
        ),
        case(
            "IAM132",
            T,
            trust_ok.replace("sts:AssumeRole", "kinesis:GetRecords"),
            trust_ok.to_string(),
        ),
        // Kinesis resource policies (IAM110–IAM118).
        case(
            "IAM110",
            K,
            shared(acct, &q("kinesis:*"), &stream),
            seed.clone(),
        ),
        case("IAM111", K, shared(&q("*"), &put, &stream), seed.clone()),
        case(
            "IAM112",
            K,
            shared(r#"{"Service":"lambda.amazonaws.com"}"#, &put, &stream),
            seed.clone(),
        ),
        case(
            "IAM113",
            K,
            seed.replace("\"Principal\"", "\"NotPrincipal\""),
            seed.clone(),
        ),
        case(
            "IAM114",
            K,
            shared(acct, &q("kinesis:DeleteStream"), &stream),
            seed.clone(),
        ),
        case(
            "IAM115",
            K,
            shared(acct, &q("kinesis:SubscribeToShard"), &stream),
            seed.clone(),
        ),
        case(
            "IAM116",
            K,
            shared(acct, &put, &q(&STREAM.replace("orders", "payments"))),
            seed.clone(),
        ),
        case(
            "IAM117",
            K,
            shared(&roles(700), &put, &stream),
            shared(&roles(10), &put, &stream),
        ),
        // Sizes.
        case(
            "IAM120",
            Session,
            doc(&allow(&many_actions(200), &q("*"), "")),
            doc(&allow(&many_actions(20), &q("*"), "")),
        ),
        case(
            "IAM121",
            I,
            doc(&allow(&many_actions(400), &q("*"), "")),
            doc(&allow(&many_actions(20), &q("*"), "")),
        ),
        // Actions.
        case(
            "IAM150",
            I,
            doc(&allow(&q("kinesis:PutRecordz"), &stream, "")),
            ok.clone(),
        ),
        case(
            "IAM151",
            I,
            doc(&allow(&q("kinesiss:PutRecord"), &stream, "")),
            ok.clone(),
        ),
        case(
            "IAM152",
            I,
            doc(&allow(&q("kinesis:Gett*"), &stream, "")),
            doc(&allow(&q("kinesis:Get*"), &stream, "")),
        ),
        // Resources.
        case(
            "IAM160",
            I,
            doc(&allow(
                &put,
                &q(&STREAM.replace("111122223333", "1111")),
                "",
            )),
            ok.clone(),
        ),
        case(
            "IAM161",
            I,
            doc(&allow(&put, &q("arn:aws:s3:::bucket"), "")),
            ok.clone(),
        ),
        case(
            "IAM162",
            I,
            doc(&allow(&q("kinesis:SubscribeToShard"), &stream, "")),
            doc(&allow(&q("kinesis:SubscribeToShard"), &q(CONSUMER), "")),
        ),
        case(
            "IAM153",
            I,
            doc(&allow(&q("kinesis:Update*"), &stream, "")),
            doc(&allow(
                r#"["kinesis:UpdateMaxRecordSize","kinesis:UpdateStreamWarmThroughput"]"#,
                &stream,
                "",
            )),
        ),
        case(
            "IAM163",
            I,
            doc(&allow(&q("kinesis:ListStreams"), &stream, "")),
            doc(&allow(&q("kinesis:ListStreams"), &q("*"), "")),
        ),
        case(
            "IAM164",
            I,
            doc(&allow(&put, &q("arn:aws:kinesis:us-east-1"), "")),
            doc(&allow(&put, &q("arn:aws:kinesis:us-east-1:*:*"), "")),
        ),
        case(
            "IAM165",
            R,
            shared(acct, &put, &q("arn:aws:kinesis")),
            seed.clone(),
        ),
        // Conditions.
        case(
            "IAM170",
            I,
            cond(r#""StringEquals":{"aws:RequestTag/team":"data"}"#),
            cond(r#""StringEquals":{"aws:ResourceTag/team":"data"}"#),
        ),
        case(
            "IAM171",
            I,
            cond(r#""NumericLessThan":{"aws:username":"5"}"#),
            cond(r#""StringEquals":{"aws:username":"5"}"#),
        ),
        case(
            "IAM172",
            I,
            cond(r#""StringEquals":{"aws:SourceIp":"203.0.113.5"}"#),
            cond(r#""IpAddress":{"aws:SourceIp":"203.0.113.5"}"#),
        ),
        case(
            "IAM173",
            I,
            cond(r#""IpAddress":{"aws:SourceIpp":"203.0.113.0/24"}"#),
            cond(r#""IpAddress":{"aws:SourceIp":"203.0.113.0/24"}"#),
        ),
        case(
            "IAM174",
            I,
            tag(r#""StringEquals":{"aws:TagKeys":"team"}"#),
            tag(r#""ForAnyValue:StringEquals":{"aws:TagKeys":"team"}"#),
        ),
        case(
            "IAM175",
            I,
            cond(r#""ForAnyValue:StringEquals":{"aws:username":"alice"}"#),
            cond(r#""StringEquals":{"aws:username":"alice"}"#),
        ),
        case(
            "IAM176",
            R,
            doc(&st(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:user/${{aws:username}}"}},{s3}"#
            ))),
            doc(&st(&format!(
                r#""Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111122223333:user/alice"}},{s3}"#
            ))),
        ),
        case(
            "IAM177",
            I,
            doc(&allow(&put, &q(&format!("{STREAM}-${{aws:username}}")), ""))
                .replace("2012-10-17", "2008-10-17"),
            doc(&allow(&put, &q(&format!("{STREAM}-${{aws:username}}")), "")),
        ),
        case(
            "IAM178",
            I,
            format!(r#"{{"Statement":[{}]}}"#, allow(&put, &stream, "")),
            ok.clone(),
        ),
        case(
            "IAM179",
            I,
            cond(
                r#""Null":{"aws:ResourceTag/team":"true"},"StringEquals":{"aws:ResourceTag/team":"data"}"#,
            ),
            cond(
                r#""Null":{"aws:ResourceTag/team":"false"},"StringEquals":{"aws:ResourceTag/team":"data"}"#,
            ),
        ),
        // Security warnings.
        case(
            "IAM187",
            I,
            doc(&allow(
                &put,
                &q("arn:aws:kinesis:us-east-1:111122223333:*/orders"),
                "",
            )),
            doc(&allow(
                &put,
                &q("arn:aws:kinesis:us-east-1:111122223333:stream/orders"),
                "",
            )),
        ),
        case(
            "IAM180",
            I,
            doc(&st(
                r#""Effect":"Allow","NotAction":"kinesis:DeleteStream","Resource":"*""#,
            )),
            doc(&st(
                r#""Effect":"Deny","NotAction":"kinesis:DeleteStream","Resource":"*""#,
            )),
        ),
        case(
            "IAM181",
            I,
            doc(&st(&format!(
                r#""Effect":"Allow","Action":{put},"NotResource":{stream}"#
            ))),
            doc(&st(&format!(
                r#""Effect":"Deny","Action":{put},"NotResource":{stream}"#
            ))),
        ),
        case(
            "IAM182",
            R,
            doc(&st(&format!(
                r#""Effect":"Allow","NotPrincipal":{acct},{s3}"#
            ))),
            doc(&st(&format!(
                r#""Effect":"Deny","NotPrincipal":{acct},{s3}"#
            ))),
        ),
        case(
            "IAM183",
            I,
            doc(&allow(&put, &q(&format!("{STREAM}*")), "")),
            ok.clone(),
        ),
        case(
            "IAM184",
            I,
            doc(&allow(
                &q("kinesis:TagResource"),
                &q("arn:aws:kinesis:us-east-1:111122223333:stream/*"),
                "",
            )),
            doc(&allow(&q("kinesis:TagResource"), &stream, "")),
        ),
        case(
            "IAM185",
            R,
            shared(acct, &q("kinesis:DeleteStream"), &stream),
            shared(
                r#"{"AWS":"111122223333"}"#,
                &q("kinesis:DeleteStream"),
                &stream,
            ),
        ),
        case(
            "IAM186",
            I,
            tag(r#""ForAllValues:StringEquals":{"aws:TagKeys":["team"]}"#),
            tag(
                r#""ForAllValues:StringEquals":{"aws:TagKeys":["team"]},"Null":{"aws:TagKeys":"false"}"#,
            ),
        ),
        // Suggestions.
        case(
            "IAM190",
            I,
            doc(&format!(
                "{},{}",
                allow(&q("kinesis:*"), &stream, ""),
                allow(&put, &stream, "")
            )),
            doc(&format!(
                "{},{}",
                allow(&q("kinesis:*"), &stream, ""),
                allow(&put, &q(&STREAM.replace("orders", "payments")), "")
            )),
        ),
        case(
            "IAM191",
            I,
            doc(&allow(&q("kinesis:SubscribeToShard"), &stream, "")),
            doc(&allow(&q("kinesis:SubscribeToShard"), &q(CONSUMER), "")),
        ),
    ];
    v.push(Case {
        code: "IAM118",
        ty: K,
        attached_to: Some("arn:aws:s3:::bucket"),
        trigger: seed.clone(),
        fixed: seed,
    });
    // Kinesis resource policies are checked against the stream they are attached to (IAM118's
    // fixed policy too, see the test).
    for c in &mut v {
        if c.ty == K && c.attached_to.is_none() {
            c.attached_to = Some(STREAM);
        }
    }
    v
}
