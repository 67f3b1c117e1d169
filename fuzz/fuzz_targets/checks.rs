//! The fuzz targets' checks, one module per target: each target (`<name>.rs` beside this
//! file) calls its module's `check`, and `tests/fuzz_regressions.rs` replays the checked-in
//! crashing inputs (`tests/fuzz/<target>/`) through the same functions.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "common.rs"]
pub mod common;
#[path = "gen.rs"]
pub mod gen;

/// The IAM JSON policy reader and the validator (`iamc check`'s path).
///
/// Input: one byte choosing the policy type, then the document's text. Asserts no panic; that
/// the validator reports an error exactly when the document does not parse; and that a
/// document that parses round-trips through its JSON and text forms to the same AST.
pub mod json_policy {

    use iamc::ast::PolicyType;
    use iamc::diag::Severity;
    use iamc::parse::{parse_policy, parse_text_policy, policy_to_json, policy_to_text, Limits};
    use iamc::validate::check_text;

    use super::common::strip;

    const TYPES: [PolicyType; 7] = [
        PolicyType::Identity,
        PolicyType::Resource,
        PolicyType::Boundary,
        PolicyType::Session,
        PolicyType::Scp,
        PolicyType::Rcp,
        PolicyType::KinesisResource,
    ];

    /// The target's check of one input.
    pub fn check(data: &[u8]) {
        let Some((&sel, rest)) = data.split_first() else {
            return;
        };
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        let ty = TYPES[usize::from(sel) % TYPES.len()];
        let attached = (ty == PolicyType::KinesisResource)
            .then_some("arn:aws:kinesis:us-east-1:111122223333:stream/orders");
        let limits = Limits::default();
        let parsed = parse_policy(text, &limits);
        // Only JSON-form input: check_text reads text-form input with the text parser.
        if iamc::parse::Form::detect(text) == iamc::parse::Form::Json {
            let found = check_text(text, ty, attached);
            if parsed.is_err() {
                assert!(
                    found.iter().any(|d| d.severity == Severity::Error),
                    "a document that does not parse is checked without an error"
                );
            }
        }
        let Ok(policy) = parsed else {
            return;
        };
        let json = policy_to_json(&policy);
        let again = parse_policy(&json, &limits).expect("the JSON a policy prints parses");
        assert_eq!(
            strip(&again),
            strip(&policy),
            "JSON -> AST -> JSON -> AST\n{json}"
        );
        let text_form = policy_to_text(&policy);
        let from_text =
            parse_text_policy(&text_form, &limits).expect("the text a policy prints parses");
        assert_eq!(
            strip(&from_text),
            strip(&policy),
            "JSON -> AST -> text -> AST\n{text_form}"
        );
    }
}

/// The text policy language: lexer, parser, lowering, printer and formatter.
///
/// Asserts no panic, and for every input that parses the round trip of tests/text.rs: its
/// printed text parses to the same AST, converting that to JSON and back gives the same AST
/// and the same text, and formatting the printed text changes nothing. The formatter on the
/// input itself succeeds exactly when the input parses.
pub mod text_policy {

    use iamc::parse::text::{format_as_json, format_as_text};
    use iamc::parse::{
        parse_policy, parse_text_policy, policy_to_json, policy_to_text, Form, Limits,
    };

    use super::common::strip;

    /// The target's check of one input.
    pub fn check(data: &[u8]) {
        let Ok(src) = std::str::from_utf8(data) else {
            return;
        };
        if Form::detect(src) != Form::Text {
            return;
        }
        let limits = Limits::default();
        let parsed = parse_text_policy(src, &limits);
        let formatted = format_as_text(src, &limits);
        assert_eq!(
            parsed.is_ok(),
            formatted.is_ok(),
            "parse and fmt disagree on validity"
        );
        let Ok(policy) = parsed else {
            return;
        };
        // The formatted input is a fixed point of the formatter, and means the same.
        if let Ok(f) = formatted {
            let p2 = parse_text_policy(&f, &limits).expect("formatted text parses");
            assert_eq!(strip(&p2), strip(&policy), "fmt changes the AST\n{f}");
            assert_eq!(
                format_as_text(&f, &limits).ok().as_deref(),
                Some(f.as_str()),
                "fmt is not idempotent"
            );
        }
        let text = policy_to_text(&policy);
        let from_text = parse_text_policy(&text, &limits).expect("printed text parses");
        assert_eq!(
            strip(&from_text),
            strip(&policy),
            "text -> AST -> text -> AST\n{text}"
        );
        let json = policy_to_json(&from_text);
        let back = parse_policy(&json, &limits).expect("JSON from text parses");
        assert_eq!(strip(&back), strip(&policy), "text -> JSON -> AST\n{json}");
        assert_eq!(policy_to_text(&back), text, "text -> JSON -> text");
        assert_eq!(
            format_as_text(&text, &limits).ok().as_deref(),
            Some(text.as_str()),
            "fmt changes printed text"
        );
        assert_eq!(
            format_as_json(&text, &limits).ok().as_deref(),
            Some(json.as_str()),
            "text -> JSON"
        );
    }
}

/// The store loader from a string (`Store::from_str`), then the authorizer built on it.
///
/// Asserts no panic; a store that loads compiles (or fails with a `BuildError`, not a panic);
/// for each of its first users and roles, a request decides the same through `authorize` and
/// the outcome-only `decide`, and the same as the reference evaluator over the store's inputs.
pub mod store {

    use std::sync::Arc;

    use iamc::eval::reference;
    use iamc::request::{Caller, Request};
    use iamc::{Authorizer, Semantics, Store};

    /// The target's check of one input.
    pub fn check(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let Ok(store) = Store::from_str(text, None) else {
            return;
        };
        let _ = store.stats();
        let store = Arc::new(store);
        let sem = Semantics::default();
        let Ok(auth) = Authorizer::new(Arc::clone(&store), sem.clone()) else {
            return;
        };
        let mut callers: Vec<String> = vec!["anonymous".into()];
        for acct in store.accounts().take(2) {
            let id = &acct.id;
            callers.push(format!("arn:aws:iam::{id}:root"));
            for u in acct.users().take(2) {
                callers.push(format!("arn:aws:iam::{id}:user{}{}", u.path, u.name));
            }
            for r in acct.roles().take(2) {
                callers.push(format!("arn:aws:sts::{id}:assumed-role/{}/s1", r.name));
            }
        }
        let resources: Vec<String> = store
            .resources()
            .take(2)
            .map(|r| r.arn.clone())
            .chain(["*".to_string()])
            .collect();
        for c in callers {
            let Ok(caller) = Caller::parse(&c) else {
                continue;
            };
            for res in &resources {
                for action in ["kinesis:PutRecord", "kinesis:ListStreams"] {
                    let req = Request::new(caller.clone(), action, res.clone()).with_derived_keys();
                    let d = auth.authorize(&req);
                    assert_eq!(
                        auth.decide(&req),
                        d.decision,
                        "decide != authorize for {req:?}"
                    );
                    let mut prepared = req.clone();
                    store.prepare(&mut prepared);
                    let want = reference::evaluate(&store.inputs_for(&prepared), &prepared, &sem);
                    assert_eq!(d, want, "authorizer != reference for {req:?}");
                }
            }
        }
    }
}

/// The gateway's credentials file reader.
///
/// Asserts no panic; no secret in a credential's `Debug` output (checked by the facade); and an
/// accepted file's warnings are warnings, a refused file has an error.
pub mod credentials {

    use iamc::diag::Severity;

    /// The target's check of one input.
    pub fn check(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        match iamc::fuzzing::credentials(text) {
            Ok((_, warnings)) => assert!(warnings.iter().all(|d| d.severity != Severity::Error)),
            Err(errors) => assert!(errors.iter().any(|d| d.severity == Severity::Error)),
        }
    }
}

/// SigV4 verification: the `Authorization` header, `X-Amz-Date`, the scope, the security token,
/// the signed headers and the query (presigned URLs), up to recomputing the signature.
///
/// Input, as text: `METHOD path?query` on the first line, then `name: value` header lines, then
/// an empty line and the body. The clock is set to the request's own `X-Amz-Date`. Asserts no
/// panic; `X-Amz-Date` parsing and formatting round-trip; a request without `Authorization`
/// is anonymous unless it is presigned.
pub mod sigv4 {

    /// The target's check of one input.
    pub fn check(data: &[u8]) {
        let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
            Some(i) => (&data[..i], &data[i + 2..]),
            None => (data, &b""[..]),
        };
        let mut lines = head.split(|&b| b == b'\n');
        let request_line = String::from_utf8_lossy(lines.next().unwrap_or_default()).into_owned();
        let (method, target) = request_line
            .split_once(' ')
            .unwrap_or((request_line.as_str(), "/"));
        let headers: Vec<(&[u8], &[u8])> = lines
            .filter_map(|l| {
                let i = l.iter().position(|&b| b == b':')?;
                let v = &l[i + 1..];
                let v = v.strip_prefix(b" ").unwrap_or(v);
                Some((&l[..i], v))
            })
            .collect();
        for (n, v) in &headers {
            if n.eq_ignore_ascii_case(b"x-amz-date") {
                if let Some(secs) = std::str::from_utf8(v)
                    .ok()
                    .and_then(iamc::fuzzing::parse_amz_date)
                {
                    let back = iamc::fuzzing::format_amz_date(secs);
                    assert_eq!(iamc::fuzzing::parse_amz_date(&back), Some(secs), "{back}");
                }
            }
        }
        let result = iamc::fuzzing::sigv4_verify(method, target, &headers, body);
        let has_auth = headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(b"authorization"));
        // A query naming a presigning parameter is refused (see `presigned`), whatever it holds.
        let lower = target.to_ascii_lowercase();
        let presigned = ["x-amz-signature", "x-amz-credential", "x-amz-algorithm"]
            .iter()
            .any(|p| lower.contains(p));
        if !has_auth && !presigned {
            assert!(
                matches!(result, Ok(false)),
                "no Authorization header: {result:?}"
            );
        }
    }
}

/// The gateway's mapping of a Kinesis request (operation, JSON body) to actions and resources.
///
/// Input: the operation on the first line (with an optional `@account` caller suffix), the
/// body after it. Asserts no panic; every check's action is `kinesis:` + the operation; every
/// checked resource is `*` or an ARN in the `aws` partition.
pub mod kinesis_plan {

    /// The target's check of one input.
    pub fn check(data: &[u8]) {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let (line, body) = super::common::first_line(text);
        let (op, account) = match line.split_once('@') {
            Some((op, a)) => (op, Some(a)),
            None => (line, None),
        };
        let Ok(body) = serde_json::from_str::<serde_json::Value>(body) else {
            return;
        };
        let Ok(plan) = iamc::fuzzing::kinesis_plan(op, &body, account) else {
            return;
        };
        for c in &plan.checks {
            // CreateStream with Tags is also checked as AddTagsToStream (as AWS does).
            assert!(
                c.action == format!("kinesis:{op}")
                    || (op == "CreateStream" && c.action == "kinesis:AddTagsToStream"),
                "{plan:?}"
            );
            for r in std::iter::once(&c.resource).chain(&c.extra_resources) {
                assert!(
                    r == "*" || r.starts_with("arn:aws:"),
                    "resource {r:?} in {plan:?}"
                );
            }
        }
    }
}

/// The decision server's request bodies: `POST /v1/authorize` (one `RequestJson`) and
/// `POST /v1/authorize/batch` (`{"requests": [...]}` or an array), read as the server reads
/// them, then built (`to_request`), completed from the example store and decided.
///
/// Input: one byte choosing the route (even: authorize, odd: batch), then the body. Asserts no
/// panic; a `RequestJson` serializes and reads back to the same JSON; the full decision and the
/// outcome-only path agree; the decision JSON names the decision.
pub mod server_bodies {

    use std::sync::{Arc, OnceLock};
    use std::time::{Duration, UNIX_EPOCH};

    use iamc::compile::Scratch;
    use iamc::request::RequestJson;
    use iamc::{Authorizer, Semantics, Store};

    fn authorizer() -> &'static Authorizer {
        static A: OnceLock<Authorizer> = OnceLock::new();
        A.get_or_init(|| {
            // fuzz/ (the targets) or the repository (tests/fuzz_regressions.rs).
            let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            let mut path = here.join("examples/kinesis/store.json");
            if !path.exists() {
                path = here.join("../examples/kinesis/store.json");
            }
            let store = Store::load(&path).expect("the example store loads");
            Authorizer::new(Arc::new(store), Semantics::default())
                .expect("the example store compiles")
        })
    }

    fn decide(rj: &RequestJson) {
        let v = serde_json::to_value(rj).expect("a RequestJson serializes");
        let back: RequestJson =
            serde_json::from_value(v.clone()).expect("a serialized RequestJson reads back");
        assert_eq!(serde_json::to_value(&back).ok(), Some(v));
        let Ok(mut req) = rj.to_request() else {
            return;
        };
        req.add_time_keys(UNIX_EPOCH + Duration::from_secs(1_780_000_000));
        let auth = authorizer();
        let prepared = auth.prepare(req);
        let mut scratch = Scratch::default();
        let d = auth.authorize_prepared(&mut scratch, &prepared);
        assert_eq!(auth.decide_prepared(&mut scratch, &prepared), d.decision);
        let json = iamc::server::decision_json(&d, &prepared);
        assert!(json.get("decision").is_some(), "{json}");
    }

    /// The target's check of one input.
    pub fn check(data: &[u8]) {
        let Some((&sel, body)) = data.split_first() else {
            return;
        };
        if sel % 2 == 0 {
            if let Ok(rj) = serde_json::from_slice::<RequestJson>(body) {
                decide(&rj);
            }
        } else if let Ok(items) = iamc::fuzzing::batch_requests(body) {
            for rj in items.iter().flatten().take(64) {
                decide(rj);
            }
        }
    }
}

/// The condition value parsers: numbers, dates, IP addresses and CIDR blocks, booleans, base64,
/// ARNs and ARN patterns, callers, operators and policy-variable templates.
///
/// Input: one byte choosing the parser, then the text. Asserts no panic and each parser's
/// round trip where it has one: a date printed and read again is the same second (years 1 to
/// 9999); a CIDR block printed reads back and contains its own address; base64 decoded and
/// encoded again decodes to the same bytes; a parsed ARN's fields are pieces of the text.
pub mod condition_values {

    use iamc::arn::{Arn, ArnPattern};
    use iamc::ast::template::{Template, TemplateMode};
    use iamc::ast::value::{decode_base64, parse_bool, parse_ip, Cidr, Decimal, Instant};
    use iamc::ast::Operator;
    use iamc::request::{Caller, Scalar};

    /// The target's check of one input.
    pub fn check(data: &[u8]) {
        let Some((&sel, rest)) = data.split_first() else {
            return;
        };
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        match sel % 10 {
            0 => {
                if let Some(d) = Decimal::parse(text) {
                    assert_eq!(d.cmp(&d), std::cmp::Ordering::Equal);
                }
            }
            1 => {
                if let Some(t) = Instant::parse(text) {
                    let shown = t.to_string();
                    let year: i128 = shown.get(..4).and_then(|y| y.parse().ok()).unwrap_or(-1);
                    if (1..=9999).contains(&year) && !shown.starts_with('-') && shown.len() == 20 {
                        let back = Instant::parse(&shown).expect("a printed date reads back");
                        assert_eq!(
                            back.epoch_seconds(),
                            t.epoch_seconds(),
                            "{text:?} -> {shown}"
                        );
                    }
                }
            }
            2 => {
                if let Some(c) = Cidr::parse(text) {
                    let shown = c.to_string();
                    let back = Cidr::parse(&shown).expect("a printed CIDR reads back");
                    assert_eq!(back.to_string(), shown);
                    let addr = shown
                        .split('/')
                        .next()
                        .and_then(parse_ip)
                        .expect("a CIDR's address");
                    assert!(c.contains(addr), "{shown} does not contain its own address");
                }
            }
            3 => {
                let _ = parse_ip(text);
            }
            4 => {
                let _ = parse_bool(text);
            }
            5 => {
                if let Some(bytes) = decode_base64(text) {
                    let enc = Scalar::binary(bytes.clone());
                    assert_eq!(decode_base64(enc.text()), Some(bytes), "{text:?}");
                }
            }
            6 => {
                if let Ok(a) = Arn::parse(text) {
                    assert_eq!(a.as_str(), text);
                    for f in &a.fields()[1..] {
                        assert!(text.contains(f), "{f:?} is not in {text:?}");
                    }
                    let _ = (a.resource_type(), a.resource_id(), a.account_id());
                }
                let p = ArnPattern::parse(text);
                let _ = (p.region(), p.account());
            }
            7 => {
                if let Ok(c) = Caller::parse(text) {
                    let _ = format!("{c:?}");
                }
            }
            8 => {
                let _ = Operator::parse(text);
            }
            _ => {
                for (wildcards, variables) in [(true, true), (false, true), (true, false)] {
                    let _ = Template::parse(
                        text,
                        TemplateMode {
                            wildcards,
                            variables,
                        },
                    );
                }
            }
        }
    }
}

/// Compiled engine == reference evaluator, on structure-aware policy sets and requests.
///
/// The fuzzer's bytes steer the agreement tests' generator (fuzz_targets/gen.rs, a copy of
/// tests/common/gen.rs reading its choices from `arbitrary::Unstructured`): identity policies,
/// a boundary, a session policy, SCP levels, resource policies and RCPs, and up to 8 requests.
/// Asserts, per request, the whole `Decision` of `Engine::authorize` equals
/// `reference::evaluate`, the outcome-only `decide_with` equals its decision, the batch equals
/// one by one, and `reference::outcome` agrees.
pub mod differential {

    use iamc::compile::{Engine, Scratch};
    use iamc::eval::reference;
    use iamc::semantics::Semantics;

    use super::gen;

    /// The target's check of one input.
    pub fn check(data: &[u8]) {
        let (inputs, reqs) = gen::case(data);
        let sem = Semantics::default();
        let engine = Engine::from_inputs(&inputs, sem.clone()).expect("generated inputs compile");
        let batch = engine.authorize_batch(&reqs);
        let mut scratch = Scratch::default();
        for (i, r) in reqs.iter().enumerate() {
            let want = reference::evaluate(&inputs, r, &sem);
            let got = engine.authorize(r);
            assert_eq!(
                got, want,
                "compiled != reference, request {i}: {r:?}\ninputs: {inputs:?}"
            );
            assert_eq!(
                engine.decide_with(&mut scratch, r),
                want.decision,
                "compiled outcome != reference, request {i}: {r:?}"
            );
            assert_eq!(
                reference::outcome(&inputs, r, &sem),
                want.decision,
                "reference outcome, request {i}"
            );
            assert_eq!(batch.get(i), Some(&want), "batch != reference, request {i}");
        }
    }
}

/// The CloudTrail reader of `iamc replay`: the record splitter, a record's fields, and its
/// reconstruction into a request, decided by the authorizer of the store `iamc import` writes
/// from the fixtures of `tests/import/`.
///
/// Input: one byte choosing the size of the pieces the bytes arrive in (1 to 64), then the
/// bytes of a trail (JSON Lines, an array, or a delivered file's `{"Records": [...]}`).
/// Asserts no panic; that the records and problems found do not depend on how the bytes are
/// cut; that no record is over the bound; and that a reconstructed request's action is
/// `kinesis:` and the record's `eventName`, and the authorizer's full decision and outcome
/// agree on it.
pub mod cloudtrail {
    use std::sync::{Arc, OnceLock};

    use iamc::import::Importer;
    use iamc::replay::{reconstruct, Record, MAX_RECORD_BYTES};
    use iamc::{Authorizer, Semantics, Store};

    fn fixture_store() -> &'static (Arc<Store>, Authorizer) {
        static S: OnceLock<(Arc<Store>, Authorizer)> = OnceLock::new();
        S.get_or_init(|| {
            let mut imp = Importer::new();
            imp.authorization_details(
                "a1.json",
                include_str!("../../tests/import/authz-111122223333.json"),
            );
            imp.authorization_details(
                "a2.json",
                include_str!("../../tests/import/authz-210987654321.json"),
            );
            imp.organization("org.json", include_str!("../../tests/import/org.json"));
            imp.kinesis(
                "k.json",
                include_str!("../../tests/import/kinesis-111122223333-us-east-2.json"),
            );
            let text = imp.finish().store.expect("the fixtures import");
            let store = Arc::new(Store::from_str(&text, None).expect("the imported store loads"));
            let auth = Authorizer::new(Arc::clone(&store), Semantics::default()).unwrap();
            (store, auth)
        })
    }

    /// The target's check of one input.
    pub fn check(data: &[u8]) {
        let Some((&c, trail)) = data.split_first() else {
            return;
        };
        let chunk = usize::from(c % 64) + 1;
        let whole = iamc::fuzzing::cloudtrail_records(trail, trail.len().max(1));
        let pieces = iamc::fuzzing::cloudtrail_records(trail, chunk);
        assert_eq!(whole, pieces, "the records depend on how the bytes are cut");
        let (store, auth) = fixture_store();
        for r in &whole.0 {
            assert!(r.len() <= MAX_RECORD_BYTES);
            let Ok(rec) = serde_json::from_slice::<Record<'_>>(r) else {
                continue;
            };
            match reconstruct(&rec, store) {
                Ok(event) => {
                    let name = rec.event_name.as_deref().unwrap_or_default();
                    assert_eq!(event.request.action, format!("kinesis:{name}"));
                    let d = auth.authorize(&event.request);
                    assert_eq!(auth.decide(&event.request), d.decision);
                }
                Err(skip) => {
                    let _ = (skip.reason(), skip.detail());
                }
            }
        }
    }
}

/// The readers of `iamc import`: an authorization-details dump, the organization file, a
/// Kinesis file.
///
/// Input: one byte choosing the reader, then the file's text. Asserts no panic; that the
/// import gives a store exactly when it reports no error; and that the store it gives loads.
pub mod import {
    use iamc::diag::Severity;
    use iamc::import::Importer;
    use iamc::Store;

    /// The target's check of one input.
    pub fn check(data: &[u8]) {
        let Some((&which, rest)) = data.split_first() else {
            return;
        };
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        let mut imp = Importer::new();
        match which % 3 {
            0 => imp.authorization_details("in.json", text),
            1 => imp.organization("in.json", text),
            _ => imp.kinesis("in.json", text),
        }
        let out = imp.finish();
        let error = out
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error);
        match &out.store {
            Some(s) => {
                assert!(!error, "a store and an error: {:?}", out.diagnostics);
                if let Err(e) = Store::from_str(s, None) {
                    panic!("the imported store does not load: {e:?}\n{s}");
                }
            }
            None => assert!(error, "no store and no error: {:?}", out.diagnostics),
        }
    }
}
