//! Properties over generated policies: text and JSON agree, printing is a fixed point.

use super::*;

// ---------------------------------------------------------------------------------------------
// Generated policies

/// Strings of the characters IAM accepts, weighted towards the ones the text form must quote.
fn any_string() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        Just("on".to_string()),
        Just("all".to_string()),
        Just("anyone".to_string()),
        Just(" ".to_string()),
        Just(",".to_string()),
        Just(";".to_string()),
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just("{".to_string()),
        Just("}".to_string()),
        Just("${aws:username}".to_string()),
        Just("${x, 'd'}".to_string()),
        Just("$".to_string()),
        Just("//".to_string()),
        Just("/*".to_string()),
        Just("*/".to_string()),
        Just("\t".to_string()),
        Just("\n".to_string()),
        Just("é".to_string()),
        Just("ÿ".to_string()),
        "[a-zA-Z0-9:/*?._-]{1,6}",
    ];
    prop::collection::vec(pieces, 0..5).prop_map(|v| v.concat())
}

fn action() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_string()),
        ("[a-z][a-z0-9-]{0,8}", "[A-Za-z*?]{1,12}").prop_map(|(s, n)| format!("{s}:{n}")),
    ]
}

fn resource() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("*".to_string()),
        (
            prop::sample::select(vec!["aws", "aws-cn", "a*"]),
            "[a-z0-9-]{1,8}",
            "[a-z0-9*-]{0,10}",
            "[0-9*]{0,12}",
            any_string(),
        )
            .prop_map(|(p, s, r, a, rest)| format!("arn:{p}:{s}:{r}:{a}:{rest}")),
    ]
}

fn principal() -> impl Strategy<Value = Value> {
    let aws = prop_oneof![
        Just("*".to_string()),
        "[0-9]{12}",
        "[0-9]{12}".prop_map(|a| format!("arn:aws:iam::{a}:role/r")),
        "[A-Z0-9]{8}".prop_map(|u| format!("AROA{u}")),
    ];
    let text = || "[a-z][a-z0-9.-]{0,12}";
    prop_oneof![
        Just(json!("*")),
        (
            prop::collection::vec(aws, 0..3),
            prop::collection::vec(text(), 0..2),
            prop::collection::vec(text(), 0..2),
            prop::collection::vec("[0-9a-f]{8}", 0..2),
        )
            .prop_filter_map("at least one principal", |(a, s, f, c)| {
                let mut m = serde_json::Map::new();
                for (k, v) in [
                    ("AWS", a),
                    ("Service", s),
                    ("Federated", f),
                    ("CanonicalUser", c),
                ] {
                    match v.len() {
                        0 => {}
                        1 => {
                            m.insert(k.into(), json!(v[0]));
                        }
                        _ => {
                            m.insert(k.into(), json!(v));
                        }
                    }
                }
                (!m.is_empty()).then_some(Value::Object(m))
            }),
    ]
}

fn condition_values(base: &'static str) -> BoxedStrategy<Vec<Value>> {
    let one: BoxedStrategy<Value> = match base {
        b if b.starts_with("Numeric") => prop_oneof![
            (-1000i64..1000).prop_map(|n| json!(n)),
            "-?[0-9]{1,4}(\\.[0-9]{1,2})?".prop_map(|s| json!(s)),
        ]
        .boxed(),
        b if b.starts_with("Date") => prop_oneof![
            (0u32..2_000_000_000).prop_map(|n| json!(n)),
            Just(json!("2024-01-01T00:00:00Z")),
            Just(json!("2020-02-29")),
        ]
        .boxed(),
        "Bool" => prop_oneof![
            Just(json!(true)),
            Just(json!("false")),
            Just(json!("${aws:x}"))
        ]
        .boxed(),
        "Null" => prop_oneof![Just(json!(true)), Just(json!("false"))].boxed(),
        "BinaryEquals" => "[A-Za-z0-9+/]{4}".prop_map(|s| json!(s)).boxed(),
        "IpAddress" | "NotIpAddress" => prop_oneof![
            Just(json!("203.0.113.0/24")),
            Just(json!("10.1.2.3")),
            Just(json!("2001:DB8::/32")),
        ]
        .boxed(),
        _ => any_string().prop_map(|s| json!(s)).boxed(),
    };
    prop::collection::vec(one, 1..4).boxed()
}

fn condition() -> impl Strategy<Value = (String, String, Vec<Value>)> {
    let bases: Vec<&'static str> = iamc::ast::OperatorBase::ALL
        .iter()
        .map(|b| b.name())
        .collect();
    (
        prop::sample::select(bases),
        0..3usize,
        any::<bool>(),
        prop_oneof![
            Just("aws:username".to_string()),
            Just("aws:PrincipalTag/team".to_string()),
            "[a-z]{1,4}:[A-Za-z/ .,;{}\"]{1,8}",
        ],
    )
        .prop_flat_map(|(base, q, if_exists, key)| {
            let mut name = String::new();
            if base != "Null" {
                name.push_str(["", "ForAllValues:", "ForAnyValue:"][q]);
            }
            name.push_str(base);
            if base != "Null" && if_exists {
                name.push_str("IfExists");
            }
            (Just(name), Just(key), condition_values(base))
        })
}

fn statement() -> impl Strategy<Value = Value> {
    (
        prop::option::of("[A-Za-z0-9]{1,8}"),
        any::<bool>(),
        prop::option::of((any::<bool>(), principal())),
        (any::<bool>(), prop::collection::vec(action(), 1..4)),
        prop::option::of((any::<bool>(), prop::collection::vec(resource(), 1..3))),
        prop::collection::vec(condition(), 0..4),
    )
        .prop_map(|(sid, allow, principal, actions, resources, conditions)| {
            let mut m = serde_json::Map::new();
            if let Some(s) = sid {
                m.insert("Sid".into(), json!(s));
            }
            m.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
            if let Some((not, p)) = principal {
                m.insert(if not { "NotPrincipal" } else { "Principal" }.into(), p);
            }
            let one_or_many = |v: Vec<String>| {
                if v.len() == 1 {
                    json!(v[0])
                } else {
                    json!(v)
                }
            };
            let (not, a) = actions;
            m.insert(
                if not { "NotAction" } else { "Action" }.into(),
                one_or_many(a),
            );
            if let Some((not, r)) = resources {
                m.insert(
                    if not { "NotResource" } else { "Resource" }.into(),
                    one_or_many(r),
                );
            }
            if !conditions.is_empty() {
                let mut ops = serde_json::Map::new();
                for (op, key, values) in conditions {
                    let entry = ops.entry(op).or_insert_with(|| json!({}));
                    if let Some(keys) = entry.as_object_mut() {
                        keys.entry(key).or_insert_with(|| {
                            if values.len() == 1 {
                                values[0].clone()
                            } else {
                                Value::Array(values)
                            }
                        });
                    }
                }
                m.insert("Condition".into(), Value::Object(ops));
            }
            Value::Object(m)
        })
}

fn policy() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(vec![Some("2012-10-17"), Some("2008-10-17"), None]),
        prop::option::of(any_string()),
        prop::collection::vec(statement(), 1..4),
        any::<bool>(),
    )
        .prop_map(|(version, id, statements, single)| {
            let mut m = serde_json::Map::new();
            if let Some(v) = version {
                m.insert("Version".into(), json!(v));
            }
            if let Some(id) = id {
                m.insert("Id".into(), json!(id));
            }
            let statements = if single && statements.len() == 1 {
                statements[0].clone()
            } else {
                Value::Array(statements)
            };
            m.insert("Statement".into(), statements);
            Value::Object(m)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn generated_policies_round_trip(doc in policy()) {
        let text = serde_json::to_string_pretty(&doc).unwrap();
        // A few generated documents are invalid (`${aws:x}` in a Bool of a 2008 policy): they
        // have no AST.
        if let Ok(policy) = parse_policy(&text, &limits()) {
            assert_round_trip(&text, &policy);
        }
    }

    #[test]
    fn any_string_is_written_so_that_it_reads_back(s in any_string()) {
        let written = text_value(&s);
        let mut lex = Token::lexer(&written);
        let token = lex.next();
        prop_assert!(lex.next().is_none(), "{written} is more than one token");
        match token {
            Some(Ok(Token::Word(w))) | Some(Ok(Token::Str(w))) => prop_assert_eq!(w, s),
            other => prop_assert!(false, "{written} lexes as {other:?}"),
        }
    }

    #[test]
    fn the_parser_never_panics(words in prop::collection::vec(prop_oneof![
        Just("policy"), Just("{"), Just("}"), Just(";"), Just(","), Just("allow"), Just("deny"),
        Just("sid"), Just("anyone"), Just("except"), Just("all"), Just("to"), Just("on"),
        Just("when"), Just("and"), Just("aws"), Just("x:y"), Just("*"), Just("\"s\""),
        Just("\"open"), Just("/*"), Just("//"), Just("\n"), Just("version"),
        Just("2012-10-17"), Just("StringEquals"), Just("aws:k"),
    ], 0..40)) {
        let text = words.join(" ");
        if let Err(e) = parse_text_policy(&text, &limits()) {
            prop_assert!(!e.is_empty());
            prop_assert!(e.iter().all(|d| d.loc.line >= 1 && d.loc.column >= 1));
        }
    }
}
