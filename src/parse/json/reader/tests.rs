//! Tests of `reader`.

use super::*;
use crate::diag::Code;

fn parse(text: &str) -> Result<JsonNode, Diagnostic> {
    parse_json(text, &Limits::default())
}

fn err(text: &str) -> Diagnostic {
    match parse(text) {
        Ok(n) => unreachable!("expected an error for {text:?}, got {n:?}"),
        Err(d) => d,
    }
}

#[test]
fn reads_values_with_positions() {
    let text =
        "{\n  \"a\": [1, -2.5e3, true, false, null],\n  \"b\": \"x\\u00e9\\ud83d\\ude00\\n\"\n}";
    let node = match parse(text) {
        Ok(n) => n,
        Err(d) => unreachable!("{d}"),
    };
    assert_eq!(node.kind_name(), "object");
    assert_eq!(
        (node.span.line, node.span.column, node.span.offset),
        (1, 1, 0)
    );
    let JsonValue::Object(members) = &node.value else {
        unreachable!("object")
    };
    assert_eq!(members.len(), 2);
    assert_eq!(members[0].0.name, "a");
    assert_eq!((members[0].0.span.line, members[0].0.span.column), (2, 3));
    let JsonValue::Array(items) = &members[0].1.value else {
        unreachable!("array")
    };
    assert_eq!(items[1].value, JsonValue::Number("-2.5e3".into()));
    assert_eq!((items[1].span.line, items[1].span.column), (2, 12));
    assert_eq!(items[2].kind_name(), "boolean");
    assert_eq!(items[4].kind_name(), "null");
    assert_eq!(node.get("b").and_then(JsonNode::as_str), Some("xé😀\n"));
    assert_eq!(
        node.to_serde(),
        serde_json::json!({"a": [1, -2500.0, true, false, null], "b": "xé😀\n"})
    );
}

#[test]
fn columns_count_characters() {
    let node = match parse("[\"éé\", 1]") {
        Ok(n) => n,
        Err(d) => unreachable!("{d}"),
    };
    let JsonValue::Array(items) = &node.value else {
        unreachable!("array")
    };
    assert_eq!(items[1].span.column, 8);
    assert_eq!(items[1].span.offset, 9);
}

#[test]
fn syntax_errors_have_code_and_place() {
    let cases: &[(&str, &str, u32, u32)] = &[
        ("", "", 1, 1),
        (
            "{\"Version\": \"2012-10-17\", \"Statement\": [",
            "/Statement/0",
            1,
            41,
        ),
        ("[1,]", "/1", 1, 4),
        ("{\"a\":1,}", "", 1, 8),
        ("{\"a\" 1}", "", 1, 6),
        ("[1 2]", "", 1, 4),
        ("{\"a\": [1 2]}", "/a", 1, 10),
        ("// c\n{}", "", 1, 1),
        ("{} x", "", 1, 4),
        ("{'a':1}", "", 1, 2),
        ("[01]", "", 1, 3),
        ("[1.]", "/0", 1, 4),
        ("[1e]", "/0", 1, 4),
        ("[-]", "/0", 1, 3),
        ("[tru]", "/0", 1, 2),
        ("[\"a\tb\"]", "/0", 1, 4),
        ("[\"a\\x\"]", "/0", 1, 5),
        ("[\"\\ud800\"]", "/0", 1, 3),
        ("[\"\\udc00\"]", "/0", 1, 3),
        ("[\"\\ud800\\u0041\"]", "/0", 1, 3),
        ("[\"\\u12\"]", "/0", 1, 7),
        ("{\"a\": {\"b\": [\"x", "/a/b/0", 1, 16),
        ("[NaN]", "/0", 1, 2),
    ];
    for (text, pointer, line, column) in cases {
        let d = err(text);
        assert_eq!(d.code, Code::InvalidJson, "{text:?}: {d}");
        assert_eq!(d.loc.pointer, *pointer, "{text:?}: {d}");
        assert_eq!(
            (d.loc.line, d.loc.column),
            (*line, *column),
            "{text:?}: {d}"
        );
    }
}

#[test]
fn valid_edge_cases() {
    for text in [
        "0",
        "-0",
        "1.5E+10",
        "\"\"",
        "[]",
        "{}",
        " [ [ ] ] ",
        "\u{feff}{}",
        "{\"a\":{\"a\":1}}",
        "[\"\\/\\b\\f\\r\\t\\\"\\\\\"]",
    ] {
        assert!(parse(text).is_ok(), "{text:?}");
    }
}

#[test]
fn duplicate_keys_rejected_at_any_level() {
    let d = err("{\"a\": 1, \"b\": {\"k\": 1, \"k\": 2}}");
    assert_eq!(d.code, Code::DuplicateKey);
    assert_eq!(d.loc.pointer, "/b/k");
    assert_eq!((d.loc.line, d.loc.column), (1, 24));
    assert!(
        d.message.contains("\"k\"") && d.message.contains("column 16"),
        "{d}"
    );
    let d = err("{\"a\": 1, \"a\": 1}");
    assert_eq!((d.code, d.loc.pointer.as_str()), (Code::DuplicateKey, "/a"));
    // Escapes are decoded before comparing.
    let d = err("{\"a\": 1, \"\\u0061\": 1}");
    assert_eq!(d.code, Code::DuplicateKey);
    // The same key in different objects is fine.
    assert!(parse("[{\"a\": 1}, {\"a\": 1}]").is_ok());
}

#[test]
fn depth_is_bounded_without_recursion() {
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    assert!(parse_json("[[[1]]]", &limits).is_ok());
    let d = match parse_json("[[[[1]]]]", &limits) {
        Err(d) => d,
        Ok(_) => unreachable!("too deep"),
    };
    assert_eq!(d.code, Code::BoundExceeded);
    assert!(d.message.contains("max_depth = 3"), "{d}");
    assert_eq!(d.loc.pointer, "/0/0/0");
    // Far deeper than any call stack would allow, with the bound lifted: still no overflow.
    let deep = "[".repeat(200_000) + &"]".repeat(200_000);
    let limits = Limits {
        max_depth: usize::MAX,
        max_document_bytes: usize::MAX,
        ..Limits::default()
    };
    match parse_json(&deep, &limits) {
        // Dropping a tree this deep would recurse (the bound exists for that too), so leak it.
        Ok(node) => std::mem::forget(node),
        Err(d) => unreachable!("{d}"),
    }
    let unclosed = "[".repeat(200_000);
    assert!(parse_json(&unclosed, &limits).is_err_and(|d| d.code == Code::InvalidJson));
    assert_eq!(err(&"[".repeat(100)).code, Code::BoundExceeded);
}

#[test]
fn size_is_bounded() {
    let limits = Limits {
        max_document_bytes: 4,
        ..Limits::default()
    };
    assert!(parse_json("[12]", &limits).is_ok());
    let d = match parse_json("[123]", &limits) {
        Err(d) => d,
        Ok(_) => unreachable!("too big"),
    };
    assert_eq!(d.code, Code::BoundExceeded);
    assert!(d.message.contains("max_document_bytes = 4"), "{d}");
}

/// Arbitrary JSON values (object keys unique, as serde_json's maps hold them).
fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
    use proptest::prelude::*;
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::btree_map("[a-z~/\"\\\\]{0,3}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest::proptest! {
    /// Any document serde_json writes, compact or pretty, reads back to the same value.
    #[test]
    fn reads_what_serde_json_writes(v in json_value(), pretty in proptest::bool::ANY) {
        let text = if pretty {
            serde_json::to_string_pretty(&v)
        } else {
            serde_json::to_string(&v)
        };
        let text = match text {
            Ok(t) => t,
            Err(e) => return Err(proptest::test_runner::TestCaseError::fail(e.to_string())),
        };
        let theirs: serde_json::Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => return Err(proptest::test_runner::TestCaseError::fail(e.to_string())),
        };
        match parse(&text) {
            Ok(node) => proptest::prop_assert_eq!(node.to_serde(), theirs),
            Err(d) => proptest::prop_assert!(false, "{} in {}", d, text),
        }
    }

    /// Agrees with serde_json on JSON-like noise: what serde_json rejects is rejected, what
    /// is accepted reads the same, and the only extra rejections are duplicate keys and
    /// bounds. Never panics.
    #[test]
    fn agrees_with_serde_json(text in r#"[\[\]{}:, "\\/a-c0-2.eE+\-ufntrlsd]{0,60}"#) {
        let ours = parse(&text);
        match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(theirs) => match ours {
                Ok(node) => proptest::prop_assert_eq!(node.to_serde(), theirs),
                Err(d) => proptest::prop_assert!(d.code == Code::DuplicateKey || d.code == Code::BoundExceeded, "{}", d),
            },
            Err(_) => proptest::prop_assert!(ours.is_err()),
        }
    }

    #[test]
    fn never_panics_on_any_text(text in "\\PC{0,100}") {
        let _ = parse(&text);
    }
}

#[test]
fn pointers_escape_tokens() {
    assert_eq!(child_pointer("/a", "b/c~d"), "/a/b~1c~0d");
    let d = err("{\"a/b\": [1,]}");
    assert_eq!(d.loc.pointer, "/a~1b/1");
}
