//! The lexer: words, keywords, strings, its errors, bare words and quoting.

use super::*;

// ---------------------------------------------------------------------------------------------
// The lexer

/// Asserts the tokens of `source`: (token or error, slice, span), then the end.
fn assert_lex(source: &str, expected: &[(Result<Token, LexError>, &str, std::ops::Range<usize>)]) {
    let mut lex = Token::lexer(source);
    for (token, slice, span) in expected {
        assert_eq!(
            lex.next().as_ref(),
            Some(token),
            "token at {span:?} in {source:?}"
        );
        assert_eq!(lex.slice(), *slice);
        assert_eq!(lex.span(), *span);
    }
    assert_eq!(lex.next(), None, "more tokens in {source:?}");
}

fn w(s: &str) -> Result<Token, LexError> {
    Ok(Token::Word(s.to_string()))
}

#[test]
fn lexer_words_keywords_and_strings() {
    assert_lex(
        "allow kinesis:Get*, x on arn:aws:s3:::b/*;",
        &[
            (Ok(Token::Allow), "allow", 0..5),
            (w("kinesis:Get*"), "kinesis:Get*", 6..18),
            (Ok(Token::Comma), ",", 18..19),
            (w("x"), "x", 20..21),
            (Ok(Token::On), "on", 22..24),
            (w("arn:aws:s3:::b/*"), "arn:aws:s3:::b/*", 25..41),
            (Ok(Token::Semi), ";", 41..42),
        ],
    );
    // Keywords are whole words only; a word may hold `${...}`, `//` and `/*`.
    assert_lex(
        "once policy-x canonical-user arn:aws:s3:::${aws:username}/a//b/*c",
        &[
            (w("once"), "once", 0..4),
            (w("policy-x"), "policy-x", 5..13),
            (Ok(Token::CanonicalUser), "canonical-user", 14..28),
            (
                w("arn:aws:s3:::${aws:username}/a//b/*c"),
                "arn:aws:s3:::${aws:username}/a//b/*c",
                29..65,
            ),
        ],
    );
    // Strings are JSON string literals.
    assert_lex(
        r#""on" "a \"b\"\t\u00e9" """#,
        &[
            (Ok(Token::Str("on".into())), r#""on""#, 0..4),
            (
                Ok(Token::Str("a \"b\"\t\u{e9}".into())),
                r#""a \"b\"\t\u00e9""#,
                5..22,
            ),
            (Ok(Token::Str(String::new())), r#""""#, 23..25),
        ],
    );
    // Comments start at a token boundary.
    assert_lex(
        "a // c\n/* d\n e */ b/c",
        &[
            (w("a"), "a", 0..1),
            (Ok(Token::LineComment), "// c", 2..6),
            (Ok(Token::BlockComment), "/* d\n e */", 7..17),
            (w("b/c"), "b/c", 18..21),
        ],
    );
}

#[test]
fn lexer_errors() {
    assert_lex(
        "\"abc\nx",
        &[
            (Err(LexError::UnterminatedString), "\"abc", 0..4),
            (w("x"), "x", 5..6),
        ],
    );
    assert_lex(
        "a /* b",
        &[
            (w("a"), "a", 0..1),
            (Err(LexError::UnterminatedComment), "/* b", 2..6),
        ],
    );
    assert_lex(
        r#""\q""#,
        &[(
            Err(LexError::BadString("invalid escape".into())),
            r#""\q""#,
            0..4,
        )],
    );
    assert_lex(
        "/ x",
        &[
            (Err(LexError::Unexpected('/')), "/", 0..1),
            (w("x"), "x", 2..3),
        ],
    );
    assert_eq!(
        LexError::Unexpected('\u{a0}').to_string(),
        "unexpected character U+00A0"
    );
}

#[test]
fn bare_words_and_quoting() {
    for bare in [
        "kinesis:Get*",
        "arn:aws:s3:::b/${aws:username}/*",
        "2001:DB8::/32",
        "2024-01-01T00:00:00Z",
        "-1.5",
        "true",
        "/home/*",
        "x//y",
        "$",
        "é",
    ] {
        assert!(is_bare_word(bare), "{bare} should be bare");
        assert_eq!(text_value(bare), bare);
    }
    for quoted in [
        "",
        "on",
        "all",
        "canonical-user",
        "a b",
        "a,b",
        "a;b",
        "{",
        "}",
        "\"",
        "//x",
        "/*x",
        "/",
        "${aws:username, 'x'}",
        "a${b",
        "tab\t",
        "new\nline",
    ] {
        assert!(!is_bare_word(quoted), "{quoted:?} should be quoted");
        assert_eq!(text_value(quoted), quote(quoted));
    }
}
