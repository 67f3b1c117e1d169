//! Tests of `arn`.
#![allow(clippy::unwrap_used)]

use super::*;
use crate::glob::Glob;
use proptest::prelude::*;

#[test]
fn six_fields_and_a_resource_with_colons() {
    let a = Arn::parse("arn:aws:kinesis:us-east-1:111122223333:stream/S/consumer/C:1674696300")
        .unwrap();
    assert_eq!(a.partition(), "aws");
    assert_eq!(a.service(), "kinesis");
    assert_eq!(a.region(), "us-east-1");
    assert_eq!(a.account(), "111122223333");
    assert_eq!(a.account_id(), Some("111122223333"));
    assert_eq!(a.resource(), "stream/S/consumer/C:1674696300");
    assert_eq!(a.resource_type(), Some("stream"));
    assert_eq!(a.resource_id(), "S/consumer/C:1674696300");
    assert_eq!(a.field(ArnField::Prefix), "arn");
    assert_eq!(a.field(ArnField::Resource), a.resource());
    assert!(!a.is_kinesis_stream());
    assert_eq!(a.to_string(), a.as_str());
}

#[test]
fn fewer_than_six_fields_is_an_error_before_the_prefix() {
    assert_eq!(
        Arn::parse("arn:aws:kinesis"),
        Err(ArnError::TooFewFields { found: 3 })
    );
    assert_eq!(Arn::parse(""), Err(ArnError::TooFewFields { found: 1 }));
    assert_eq!(
        Arn::parse("foo:a"),
        Err(ArnError::TooFewFields { found: 2 })
    );
    assert_eq!(Arn::parse("foo:a:b:c:d:e"), Err(ArnError::NotArn));
    assert_eq!(Arn::parse("ARN:a:b:c:d:e"), Err(ArnError::NotArn));
    assert_eq!(Arn::parse(" arn:a:b:c:d:e"), Err(ArnError::NotArn));
}

#[test]
fn empty_and_wildcard_fields_are_accepted_as_written() {
    let a = Arn::parse("arn:::::").unwrap();
    assert_eq!(a.fields(), ["arn", "", "", "", "", ""]);
    assert_eq!(a.account_id(), None);
    assert_eq!(a.resource_type(), None);
    assert_eq!(a.resource_id(), "");
    let s3 = Arn::parse("arn:aws:s3:::bucket/key").unwrap();
    assert_eq!((s3.region(), s3.account()), ("", ""));
    let w = Arn::parse("arn:*:kinesis:*:*:stream/*").unwrap();
    assert_eq!(w.partition(), "*");
    assert_eq!(w.resource(), "stream/*");
    // Case is kept: nothing is folded.
    let up = Arn::parse("arn:AWS:Kinesis:US-EAST-1:111122223333:Stream/X").unwrap();
    assert_eq!(up.service(), "Kinesis");
    assert_eq!(up.resource_type(), Some("Stream"));
}

#[test]
fn unicode_fields_split_on_char_boundaries() {
    let a = Arn::parse("arn:aws:s3:::bücket/ключ:é").unwrap();
    assert_eq!(a.resource(), "bücket/ключ:é");
    assert_eq!(a.resource_type(), Some("bücket"));
    assert_eq!(a.resource_id(), "ключ:é");
    assert_eq!(a.to_string(), "arn:aws:s3:::bücket/ключ:é");
}

#[test]
fn resource_types_by_the_catalog_convention() {
    fn t(s: &str) -> (Option<&str>, &str) {
        let a = Arn::parse(s).unwrap();
        (a.resource_type(), a.resource_id())
    }
    assert_eq!(
        t("arn:aws:kinesis:us-east-1:111122223333:stream/orders"),
        (Some("stream"), "orders")
    );
    assert_eq!(
        t("arn:aws:iam::111122223333:role/path/to/Admin"),
        (Some("role"), "path/to/Admin")
    );
    assert_eq!(
        t("arn:aws:iam::111122223333:user/alice"),
        (Some("user"), "alice")
    );
    assert_eq!(
        t("arn:aws:sts::111122223333:assumed-role/Admin/s1"),
        (Some("assumed-role"), "Admin/s1")
    );
    assert_eq!(
        t("arn:aws:lambda:us-east-1:111122223333:function:f"),
        (Some("function"), "f")
    );
    assert_eq!(t("arn:aws:iam::111122223333:root"), (None, "root"));
}

#[test]
fn kinesis_streams() {
    let s = |t: &str| Arn::parse(t).unwrap().is_kinesis_stream();
    assert!(s("arn:aws:kinesis:us-east-1:111122223333:stream/orders"));
    assert!(!s("arn:aws:kinesis:us-east-1:111122223333:stream/"));
    assert!(!s(
        "arn:aws:kinesis:us-east-1:111122223333:stream/o/consumer/c:1"
    ));
    assert!(!s("arn:aws:kinesis:us-east-1:111122223333:channel/c"));
    assert!(!s("arn:aws:kms:us-east-1:111122223333:stream/orders"));
}

#[test]
fn text_patterns_keep_short_forms() {
    let p = ArnPattern::parse("arn:aws:kinesis");
    assert_eq!(p.field_count(), 3);
    assert!(!p.is_complete());
    assert!(p.is_arn());
    assert_eq!(p.fields(), ["arn", "aws", "kinesis"]);
    assert_eq!(p.service(), Some("kinesis"));
    assert_eq!(p.region(), None);
    assert_eq!(p.wildcard_fields(), 0);

    let star = ArnPattern::parse("*");
    assert_eq!(star.fields(), ["*"]);
    assert!(!star.is_arn());
    assert!(star.has_wildcard(ArnField::Prefix));
    assert!(!star.has_wildcard(ArnField::Service));

    let full = ArnPattern::parse("arn:aws:kinesis:*:111122223333:stream/a:b*");
    assert!(full.is_complete());
    assert_eq!(full.resource(), Some("stream/a:b*"));
    assert_eq!(
        full.wildcard_fields(),
        (1 << ArnField::Region.index()) | (1 << ArnField::Resource.index())
    );
    assert_eq!(ArnPattern::parse("").fields(), [""]);
}

#[test]
fn token_patterns_split_at_literal_colons() {
    let g = Glob::new("arn:aws:kinesis:*:111122223333:stream/a:b*");
    let p = ArnPattern::from_toks(g.toks());
    assert!(p.is_complete());
    assert_eq!(p.field(ArnField::Region), Some(&[Tok::Star][..]));
    assert!(p.has_wildcard(ArnField::Region));
    assert!(!p.has_wildcard(ArnField::Account));
    assert_eq!(
        p.resource().map(<[Tok]>::len),
        Some("stream/a:b*".chars().count())
    );
    // A literal `*` (from a variable's value) is not a wildcard.
    let lit = Glob::from_toks(vec![Tok::Lit('a'), Tok::Lit('*')]);
    assert!(!ArnPattern::from_toks(lit.toks()).has_wildcard(ArnField::Prefix));
    assert_eq!(ArnPattern::from_toks(&[]).field_count(), 1);
}

#[test]
fn arn_like_matches_field_by_field() {
    let m = |p: &str, v: &str| {
        let g = Glob::new(p);
        ArnPattern::from_toks(g.toks()).matches(&Arn::parse(v).unwrap())
    };
    // Spec §3.9's example: the first `*` may not swallow colons.
    assert!(!m(
        "arn:aws:someservice:*:111122223333:finance/*",
        "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"
    ));
    assert!(m(
        "arn:aws:kinesis:*:111122223333:stream/*",
        "arn:aws:kinesis:us-east-1:111122223333:stream/s/consumer/c:1"
    ));
    assert!(m("*:*:*:*:*:*", "arn:aws:s3:::b"));
    assert!(!m(
        "arn:aws:kinesis",
        "arn:aws:kinesis:us-east-1:111122223333:stream/s"
    ));
    assert!(!m(
        "arn:aws:*",
        "arn:aws:kinesis:us-east-1:111122223333:stream/s"
    ));
    assert!(!m(
        "arn:aws:kinesis:*:111122223333:stream/S",
        "arn:aws:kinesis:us-east-1:111122223333:stream/s"
    ));
    assert!(m("arn:a?s:s3:::b", "arn:aws:s3:::b"));
}

// The splitters the type replaced, kept here as oracles.

fn old_split_arn(text: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    (parts.len() == 6 && parts.first() == Some(&"arn")).then_some(parts)
}

fn old_arn_like(pattern: &Glob, value: &[&str]) -> bool {
    let mut comps: Vec<Vec<Tok>> = vec![Vec::new()];
    for t in pattern.toks() {
        match t {
            Tok::Lit(':') if comps.len() < 6 => comps.push(Vec::new()),
            t => {
                if let Some(last) = comps.last_mut() {
                    last.push(t.clone());
                }
            }
        }
    }
    comps.len() == 6 && comps.into_iter().zip(value).all(|(c, v)| glob_match(&c, v))
}

/// `validate/resources.rs`'s old `split`: service, region, account, resource.
fn old_validate_split(shape: &str) -> Option<(&str, &str, &str, &str)> {
    let mut parts = shape.splitn(6, ':');
    let (Some("arn"), Some(_), Some(s), Some(r), Some(a), Some(res)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    Some((s, r, a, res))
}

/// `validate/resources.rs`'s old `service_of`, before its wildcard test.
fn old_service_field(shape: &str) -> Option<&str> {
    shape.strip_prefix("arn:")?.split(':').nth(1)
}

/// `gateway/proxy.rs`'s old `arn_account`, `workload.rs`'s and `security.rs`'s account field.
fn old_account_field(arn: &str) -> Option<&str> {
    arn.split(':').nth(4)
}

/// `gateway/ops.rs`'s old `kms_arn` fields: region and account of a stream ARN.
fn old_region_account(stream: &str) -> (Option<&str>, Option<&str>) {
    let mut parts = stream.splitn(6, ':');
    let region = parts.nth(3);
    (region, parts.next())
}

/// `request.rs`'s old `arn_field` (the resource account is field 4).
fn old_arn_field(arn: &str, n: usize) -> Option<&str> {
    let bytes = arn.as_bytes();
    let mut start = 0usize;
    let mut field = 0usize;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b':' {
            if field == n {
                return arn.get(start..i);
            }
            field += 1;
            start = i + 1;
        }
    }
    (field == n).then(|| arn.get(start..)).flatten()
}

/// `elements.rs`'s old `parse_resource` reads: partition and service after `arn:`, and whether
/// a `${` is in the text before the fifth colon.
fn old_parse_resource_fields(raw: &str) -> Option<(&str, Option<&str>, bool)> {
    let rest = raw.strip_prefix("arn:")?;
    let mut segments = rest.splitn(3, ':');
    let partition = segments.next().unwrap_or("");
    let service = segments.next();
    let end = raw.match_indices(':').nth(4).map_or(raw.len(), |(i, _)| i);
    let var = raw.get(..end).is_some_and(|head| head.contains("${"));
    Some((partition, service, var))
}

/// Texts made of the characters that matter to the split.
fn arnish() -> impl Strategy<Value = String> {
    proptest::string::string_regex("(arn|ar|ARN|\\*)?(:[a-z0-9/*?:é{}$-]{0,5}){0,8}").unwrap()
}

proptest! {
    #[test]
    fn the_byte_splitter_splits_as_splitn_does(s in arnish()) {
        let (fields, n) = split(&s);
        let want: Vec<&str> = s.splitn(6, ':').collect();
        prop_assert_eq!(n, want.len());
        prop_assert_eq!(&fields[..n], &want[..]);
        prop_assert!(fields[n..].iter().all(|f| f.is_empty()));
    }

    #[test]
    fn display_round_trips(s in arnish()) {
        if let Ok(a) = Arn::parse(&s) {
            prop_assert_eq!(a.to_string(), s.clone());
            prop_assert_eq!(a.as_str(), s.as_str());
            prop_assert_eq!(a.fields().join(":"), s.clone());
        }
        let p = ArnPattern::parse(&s);
        prop_assert_eq!(p.fields().join(":"), s);
    }

    #[test]
    fn parse_agrees_with_the_old_splitters(s in arnish()) {
        let new = Arn::parse(&s).ok();
        prop_assert_eq!(old_split_arn(&s), new.map(|a| a.fields().to_vec()));
        // caller.rs / store/load.rs / matching.rs: six fields (then their own checks).
        prop_assert_eq!(s.splitn(6, ':').count() == 6 && s.starts_with("arn:"), new.is_some());
        let p = ArnPattern::parse(&s);
        let v = old_validate_split(&s);
        prop_assert_eq!(
            v,
            (p.is_complete() && p.is_arn()).then(|| (
                p.service().unwrap_or(""),
                p.region().unwrap_or(""),
                p.account().unwrap_or(""),
                p.resource().unwrap_or(""),
            ))
        );
        prop_assert_eq!(
            old_service_field(&s),
            if s.starts_with("arn:") { p.service() } else { None }
        );
        prop_assert_eq!(old_account_field(&s), p.account());
        prop_assert_eq!(old_region_account(&s), (p.region(), p.account()));
        prop_assert_eq!(s.split(':').nth(2), p.service());
        prop_assert_eq!(old_arn_field(&s, 4), p.account());
        let head = p.fields().get(..5).unwrap_or(p.fields());
        prop_assert_eq!(
            old_parse_resource_fields(&s),
            s.starts_with("arn:").then(|| (
                p.field(ArnField::Partition).unwrap_or(""),
                p.service(),
                head.iter().any(|f| f.contains("${")),
            ))
        );
        // elements.rs `arn_form`: the field count and the service/resource of a full one.
        prop_assert_eq!(s.splitn(6, ':').count(), p.field_count());
    }

    #[test]
    fn arn_like_agrees_with_the_old_matcher(pat in arnish(), val in arnish()) {
        let g = Glob::new(&pat);
        let new = Arn::parse(&val).ok().map(|a| ArnPattern::from_toks(g.toks()).matches(&a));
        let old = old_split_arn(&val).map(|parts| old_arn_like(&g, &parts));
        prop_assert_eq!(old, new);
    }

    #[test]
    fn arn_like_agrees_on_matching_pairs(val in arnish(), cut in 0usize..8) {
        // Patterns made from the value itself, so that many pairs match.
        let pat: String = val
            .split(':')
            .enumerate()
            .map(|(i, f)| if i == cut { "*".to_string() } else { f.to_string() })
            .collect::<Vec<_>>()
            .join(":");
        let g = Glob::new(&pat);
        let new = Arn::parse(&val).ok().map(|a| ArnPattern::from_toks(g.toks()).matches(&a));
        let old = old_split_arn(&val).map(|parts| old_arn_like(&g, &parts));
        prop_assert_eq!(old, new);
    }

    #[test]
    fn token_split_equals_text_split_without_variables(s in arnish()) {
        let g = Glob::new(&s);
        let toks = ArnPattern::from_toks(g.toks());
        let text = ArnPattern::parse(&s);
        prop_assert_eq!(toks.field_count(), text.field_count());
        for (t, x) in toks.fields().iter().zip(text.fields()) {
            let g = Glob::new(x);
            prop_assert_eq!(*t, g.toks());
        }
    }
}
