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

/// A glob pattern, compiled to tokens.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Glob {
    toks: Vec<Tok>,
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
        Glob { toks }
    }

    /// A glob that matches exactly `text` (wildcard characters are literal).
    pub fn literal(text: &str) -> Glob {
        Glob {
            toks: text.chars().map(Tok::Lit).collect(),
        }
    }

    /// Builds a glob from tokens.
    pub fn from_toks(toks: Vec<Tok>) -> Glob {
        Glob { toks }
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
        glob_match(&self.toks, text)
    }
}

/// Matches `text` against `toks`, anchored at both ends.
pub fn glob_match(toks: &[Tok], text: &str) -> bool {
    let chars: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0usize, 0usize);
    // Position of the last `*` seen and the text position it was tried at.
    let mut star: Option<(usize, usize)> = None;
    while t < chars.len() {
        match toks.get(p) {
            Some(Tok::Star) => {
                star = Some((p, t));
                p += 1;
                continue;
            }
            Some(Tok::One) => {
                p += 1;
                t += 1;
                continue;
            }
            Some(Tok::Lit(c)) if chars.get(t) == Some(c) => {
                p += 1;
                t += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, st)) => {
                // Let the last star swallow one more character and retry.
                p = sp + 1;
                t = st + 1;
                star = Some((sp, st + 1));
            }
            None => return false,
        }
    }
    toks.get(p..)
        .map(|rest| rest.iter().all(|t| *t == Tok::Star))
        .unwrap_or(false)
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
        assert!(!Glob::new("**?").matches(""));
    }
}
