//! The one glob matcher of the IAM language: `*` matches any run of characters (also none),
//! `?` exactly one character, everything else itself. Anchored at both ends.
//!
//! Used for actions (on lower-cased text), `Resource` ARNs, `StringLike` and each component of
//! `ArnLike`. Matching is iterative with single-star backtracking, so it runs in
//! O(pattern * text) at worst and never recurses.

/// One token of a compiled glob.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tok {
    /// A literal character.
    Lit(char),
    /// `*`: any run of characters.
    Star,
    /// `?`: exactly one character.
    One,
}

/// A glob pattern, compiled to tokens, with the cheapest way to match it chosen once (globset's
/// habit): plain text compares as a string, `prefix*` as a prefix test, anything else runs the
/// general matcher.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Glob {
    toks: Vec<Tok>,
    strategy: Strategy,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
enum Strategy {
    /// No wildcard: the text itself.
    Literal(Box<str>),
    /// Literal text followed by one `*`.
    Prefix(Box<str>),
    /// Anything else.
    #[default]
    General,
}

fn strategy(toks: &[Tok]) -> Strategy {
    let lits = |ts: &[Tok]| -> Option<String> {
        ts.iter()
            .map(|t| match t {
                Tok::Lit(c) => Some(*c),
                _ => None,
            })
            .collect()
    };
    if let Some(text) = lits(toks) {
        return Strategy::Literal(text.into());
    }
    if let Some((Tok::Star, head)) = toks.split_last() {
        if let Some(text) = lits(head) {
            return Strategy::Prefix(text.into());
        }
    }
    Strategy::General
}

impl Glob {
    /// Compiles `pattern`, reading `*` and `?` as wildcards.
    pub fn new(pattern: &str) -> Glob {
        let toks = pattern
            .chars()
            .map(|c| match c {
                '*' => Tok::Star,
                '?' => Tok::One,
                c => Tok::Lit(c),
            })
            .collect();
        Glob::from_toks(toks)
    }

    /// A glob that matches exactly `text` (wildcard characters are literal).
    pub fn literal(text: &str) -> Glob {
        Glob::from_toks(text.chars().map(Tok::Lit).collect())
    }

    /// Builds a glob from tokens.
    pub fn from_toks(toks: Vec<Tok>) -> Glob {
        let strategy = strategy(&toks);
        Glob { toks, strategy }
    }

    /// The tokens.
    pub fn toks(&self) -> &[Tok] {
        &self.toks
    }

    /// True when the glob has no wildcard.
    pub fn is_literal(&self) -> bool {
        self.toks.iter().all(|t| matches!(t, Tok::Lit(_)))
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        match &self.strategy {
            Strategy::Literal(l) => **l == *text,
            Strategy::Prefix(p) => text.starts_with(&**p),
            Strategy::General => glob_match(&self.toks, text),
        }
    }
}

/// Matches `text` against `toks`, anchored at both ends. Allocates nothing.
pub fn glob_match(toks: &[Tok], text: &str) -> bool {
    // `p` indexes tokens, `t` is a byte offset into `text` (always on a char boundary).
    let (mut p, mut t) = (0usize, 0usize);
    // The last `*` seen and the byte offset it was last tried at.
    let mut star: Option<(usize, usize)> = None;
    while let Some(c) = text.get(t..).and_then(|rest| rest.chars().next()) {
        match toks.get(p) {
            Some(Tok::Star) => {
                star = Some((p, t));
                p += 1;
                continue;
            }
            Some(Tok::One) => {
                p += 1;
                t += c.len_utf8();
                continue;
            }
            Some(Tok::Lit(x)) if *x == c => {
                p += 1;
                t += c.len_utf8();
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) => {
                // Let the last star swallow one more character and retry after it.
                let swallowed = text
                    .get(st..)
                    .and_then(|rest| rest.chars().next())
                    .map_or(1, char::len_utf8);
                p = sp + 1;
                t = st + swallowed;
                star = Some((sp, t));
            }
            None => return false,
        }
    }
    toks.get(p..)
        .is_some_and(|rest| rest.iter().all(|t| *t == Tok::Star))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(Glob::new("kinesis:get*").matches("kinesis:getrecords"));
        assert!(!Glob::new("kinesis:get*").matches("kinesis:describestream"));
        assert!(Glob::new("put?ecord").matches("putrecord"));
        assert!(!Glob::new("put?ecord").matches("putecord"));
        assert!(Glob::new("*").matches(""));
        assert!(Glob::new("a*b*c").matches("aXXbYYc"));
        assert!(!Glob::new("a*b*c").matches("aXXbYY"));
        assert!(Glob::new("bucket/*/test/*").matches("bucket//test/object.jpg"));
        assert!(!Glob::new("bucket/*/test/*").matches("bucket/test/object.jpg"));
        assert!(Glob::new("*stream*").matches("liststreams"));
        assert!(!Glob::literal("a*").matches("ab"));
        assert!(Glob::literal("a*").matches("a*"));
        assert!(Glob::new("").matches(""));
        assert!(!Glob::new("").matches("a"));
        assert!(Glob::new("**?").matches("x"));
        assert!(Glob::new("é*ü").matches("éaßü"));
        assert!(Glob::new("?").matches("ß"));
        assert!(!Glob::new("a*é").matches("aé b"));
        assert!(!Glob::new("**?").matches(""));
    }
}
