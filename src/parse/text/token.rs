//! The tokens of the text policy language, lexed by logos.
//!
//! A *word* is any run of characters other than whitespace (a byte order mark counts as
//! whitespace), `,`, `;`, `{`, `}` and `"`, so ARNs, actions, account ids, dates, CIDRs and numbers need no quotes (`arn:aws:s3:::b/*`,
//! `kinesis:Get*`, `2001:DB8::/32`). A policy variable `${...}` may sit inside a word when it
//! holds no whitespace, comma, semicolon or quote. A word does not start with `//` or `/*`,
//! which open comments; a comment that follows a word needs whitespace before it. Anything else
//! (a reserved word, a value with a space, an empty value) is written as a JSON string literal:
//! `"on"`, `"a b"`, `""`.

use logos::Logos;
use std::fmt;

/// What went wrong while lexing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LexError {
    /// A character no token starts with.
    Unexpected(char),
    /// A `"` with no closing `"` on the same line.
    UnterminatedString,
    /// A string literal that is not a valid JSON string (a bad escape, a raw control character).
    BadString(String),
    /// A `/*` with no closing `*/`.
    UnterminatedComment,
    /// Nothing matched (logos's fallback; not expected in practice).
    #[default]
    Invalid,
}

impl LexError {
    fn unexpected(lex: &mut logos::Lexer<'_, Token>) -> LexError {
        match lex.slice().chars().next() {
            Some(c) => LexError::Unexpected(c),
            None => LexError::Invalid,
        }
    }
}

impl fmt::Display for LexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LexError::Unexpected(c) if c.is_control() || c.is_whitespace() => {
                write!(f, "unexpected character U+{:04X}", u32::from(*c))
            }
            LexError::Unexpected(c) => write!(f, "unexpected character `{c}`"),
            LexError::UnterminatedString => {
                f.write_str("unterminated string: a `\"` needs its closing `\"` on the same line")
            }
            LexError::BadString(msg) => write!(f, "invalid string literal: {msg}"),
            LexError::UnterminatedComment => {
                f.write_str("unterminated block comment: `/*` needs a closing `*/`")
            }
            LexError::Invalid => f.write_str("invalid token"),
        }
    }
}

/// Decodes a string literal (its quotes included) with JSON's escape rules.
fn decode_string(lex: &mut logos::Lexer<'_, Token>) -> Result<String, LexError> {
    serde_json::from_str::<String>(lex.slice()).map_err(|e| {
        // serde_json's messages end with " at line L column C"; the position is ours to give.
        let msg = e.to_string();
        let msg = match msg.find(" at line ") {
            Some(i) => msg.get(..i).unwrap_or(&msg).to_string(),
            None => msg,
        };
        LexError::BadString(msg)
    })
}

fn unterminated_string(_: &mut logos::Lexer<'_, Token>) -> Result<(), LexError> {
    Err(LexError::UnterminatedString)
}

fn unterminated_comment(_: &mut logos::Lexer<'_, Token>) -> Result<(), LexError> {
    Err(LexError::UnterminatedComment)
}

/// A token. Comments are tokens too; the lexer adapter sets them aside for the formatter.
#[derive(Logos, Clone, Debug, PartialEq, Eq)]
#[logos(error(LexError, LexError::unexpected))]
#[logos(skip r"[ \t\r\n\f\u{feff}]+")]
pub enum Token {
    /// `policy`
    #[token("policy")]
    Policy,
    /// `version`
    #[token("version")]
    Version,
    /// `sid`
    #[token("sid")]
    Sid,
    /// `allow`
    #[token("allow")]
    Allow,
    /// `deny`
    #[token("deny")]
    Deny,
    /// `anyone`
    #[token("anyone")]
    Anyone,
    /// `except`
    #[token("except")]
    Except,
    /// `all`
    #[token("all")]
    All,
    /// `to`
    #[token("to")]
    To,
    /// `on`
    #[token("on")]
    On,
    /// `when`
    #[token("when")]
    When,
    /// `and`
    #[token("and")]
    And,
    /// `aws`
    #[token("aws")]
    Aws,
    /// `service`
    #[token("service")]
    Service,
    /// `federated`
    #[token("federated")]
    Federated,
    /// `canonical-user`
    #[token("canonical-user")]
    CanonicalUser,
    /// `{`
    #[token("{")]
    LBrace,
    /// `}`
    #[token("}")]
    RBrace,
    /// `,`
    #[token(",")]
    Comma,
    /// `;`
    #[token(";")]
    Semi,
    /// A bare word: an action, an ARN, a key, a number, a date...
    #[regex(
        r#"([^\s,;{}"/$\u{feff}]|/[^\s,;{}"/*$\u{feff}]|\$\{[^\s,;{}"\u{feff}]*\}|\$)([^\s,;{}"$\u{feff}]|\$\{[^\s,;{}"\u{feff}]*\}|\$)*"#,
        |lex| lex.slice().to_string()
    )]
    Word(String),
    /// A JSON string literal, decoded.
    #[regex(r#""([^"\\\n]|\\[^\n])*""#, decode_string)]
    Str(String),
    /// A string with no closing quote on its line (always an error).
    #[regex(r#""([^"\\\n]|\\[^\n])*"#, unterminated_string)]
    UnterminatedString,
    /// `// ...` to the end of the line.
    #[regex(r"//[^\n]*", allow_greedy = true)]
    LineComment,
    /// `/* ... */` (not nested).
    #[regex(r"/\*([^*]|\*+[^*/])*\*+/")]
    BlockComment,
    /// A `/*` with no closing `*/` (always an error).
    #[regex(r"/\*([^*]|\*+[^*/])*\**", unterminated_comment, allow_greedy = true)]
    UnterminatedComment,
    /// Stands in for a lexical error, so that the parser can recover and go on.
    Error,
}

impl Token {
    /// The reserved words, as written.
    pub const RESERVED: &'static [&'static str] = &[
        "policy",
        "version",
        "sid",
        "allow",
        "deny",
        "anyone",
        "except",
        "all",
        "to",
        "on",
        "when",
        "and",
        "aws",
        "service",
        "federated",
        "canonical-user",
    ];

    /// How the token reads in a message.
    pub fn describe(&self) -> String {
        match self {
            Token::Word(w) => format!("`{w}`"),
            Token::Str(s) => format!("the string {}", quote(s)),
            Token::Error | Token::UnterminatedString | Token::UnterminatedComment => {
                "an invalid token".to_string()
            }
            Token::LineComment | Token::BlockComment => "a comment".to_string(),
            other => format!("`{}`", other.keyword().unwrap_or("?")),
        }
    }

    /// The spelling of a keyword or punctuation token.
    pub fn keyword(&self) -> Option<&'static str> {
        Some(match self {
            Token::Policy => "policy",
            Token::Version => "version",
            Token::Sid => "sid",
            Token::Allow => "allow",
            Token::Deny => "deny",
            Token::Anyone => "anyone",
            Token::Except => "except",
            Token::All => "all",
            Token::To => "to",
            Token::On => "on",
            Token::When => "when",
            Token::And => "and",
            Token::Aws => "aws",
            Token::Service => "service",
            Token::Federated => "federated",
            Token::CanonicalUser => "canonical-user",
            Token::LBrace => "{",
            Token::RBrace => "}",
            Token::Comma => ",",
            Token::Semi => ";",
            _ => return None,
        })
    }
}

/// `s` as a JSON string literal (the text form's quoted form).
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("\"{s}\""))
}

/// Whether `s` can be written bare: it lexes as exactly one word, spelled exactly as `s`.
pub fn is_bare_word(s: &str) -> bool {
    let mut lex = Token::lexer(s);
    match lex.next() {
        Some(Ok(Token::Word(w))) => w == s && lex.next().is_none(),
        _ => false,
    }
}

/// `s` as written in the text form: bare when it is a plain word, else quoted.
pub fn text_value(s: &str) -> String {
    if is_bare_word(s) {
        s.to_string()
    } else {
        quote(s)
    }
}
