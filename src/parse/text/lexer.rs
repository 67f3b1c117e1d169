//! The logos lexer as lalrpop wants it: `(start, token, end)` triples, with comments and
//! lexical errors set aside.
//!
//! A lexical error is recorded and handed to the parser as [`Token::Error`], which no rule
//! accepts, so the parser's error recovery skips to the end of the statement and goes on: one
//! run reports every error.

use logos::{Logos, SpannedIter};

use super::cst::{Comment, Span};
use super::token::{LexError, Token};

/// A lexical error and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LexIssue {
    /// What is wrong.
    pub error: LexError,
    /// Where, in bytes.
    pub span: Span,
}

/// What the lexer collects on the side while the parser runs.
#[derive(Debug, Default)]
pub struct SideTable {
    /// The comments, in source order.
    pub comments: Vec<Comment>,
    /// The lexical errors, in source order.
    pub errors: Vec<LexIssue>,
}

/// The token stream for the parser.
pub struct Lexer<'s, 't> {
    tokens: SpannedIter<'s, Token>,
    source: &'s str,
    side: &'t mut SideTable,
}

impl<'s, 't> Lexer<'s, 't> {
    /// Lexes `source`, collecting comments and errors into `side`.
    pub fn new(source: &'s str, side: &'t mut SideTable) -> Lexer<'s, 't> {
        Lexer {
            tokens: Token::lexer(source).spanned(),
            source,
            side,
        }
    }
}

impl Iterator for Lexer<'_, '_> {
    type Item = Result<(usize, Token, usize), LexError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (token, range) = self.tokens.next()?;
            let span = Span {
                start: range.start,
                end: range.end,
            };
            match token {
                Ok(Token::LineComment) | Ok(Token::BlockComment) => {
                    let text = self.source.get(range.clone()).unwrap_or("");
                    self.side.comments.push(Comment {
                        text: text.trim_end().to_string(),
                        span,
                    });
                }
                Ok(token) => return Some(Ok((span.start, token, span.end))),
                Err(error) => {
                    self.side.errors.push(LexIssue { error, span });
                    return Some(Ok((span.start, Token::Error, span.end)));
                }
            }
        }
    }
}

/// Byte offsets to 1-based lines and columns (columns count characters).
#[derive(Clone, Debug)]
pub struct LineIndex<'s> {
    source: &'s str,
    /// Byte offset where each line starts.
    starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    /// Indexes `source`.
    pub fn new(source: &'s str) -> LineIndex<'s> {
        let mut starts = vec![0];
        starts.extend(
            source
                .bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { source, starts }
    }

    /// The 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> u32 {
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        u32::try_from(line + 1).unwrap_or(u32::MAX)
    }

    /// The 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        let line = self.line(offset);
        let start = self
            .starts
            .get(line as usize - 1)
            .copied()
            .unwrap_or_default();
        let offset = offset.min(self.source.len());
        let column = self
            .source
            .get(start..offset)
            .map_or(0, |s| s.chars().count());
        (line, u32::try_from(column + 1).unwrap_or(u32::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns() {
        let text = "ab\nçd\n\nx";
        let idx = LineIndex::new(text);
        assert_eq!(idx.line_col(0), (1, 1));
        assert_eq!(idx.line_col(2), (1, 3));
        assert_eq!(idx.line_col(3), (2, 1));
        // Columns count characters: `ç` is two bytes.
        assert_eq!(idx.line_col(5), (2, 2));
        assert_eq!(idx.line_col(7), (3, 1));
        assert_eq!(idx.line_col(8), (4, 1));
        // The end of the text, and past it.
        assert_eq!(idx.line_col(9), (4, 2));
        assert_eq!(idx.line_col(100), (4, 2));
    }

    #[test]
    fn comments_and_errors_are_set_aside() {
        let mut side = SideTable::default();
        let tokens: Vec<Token> = Lexer::new("\u{feff}a // c\n/ b /* d */", &mut side)
            .filter_map(|t| t.ok().map(|(_, t, _)| t))
            .collect();
        assert_eq!(
            tokens,
            [
                Token::Word("a".into()),
                Token::Error,
                Token::Word("b".into())
            ]
        );
        let comments: Vec<&str> = side.comments.iter().map(|c| c.text.as_str()).collect();
        assert_eq!(comments, ["// c", "/* d */"]);
        assert_eq!(side.errors.len(), 1);
        assert_eq!(side.errors[0].error, LexError::Unexpected('/'));
    }
}
