//! The human form of one finding: the source line cut to a window around it, rendered by miette.

use std::io::IsTerminal;

use crate::diag::Diagnostic;
use crate::validate::SourceSpan;

/// The most characters of a source line shown around a finding (with a `…` at a cut end).
const WINDOW: usize = 120;
/// Characters shown before the finding's column when the line is cut.
const BEFORE: usize = 40;

/// The part of `line` shown for a finding at character `col` (0-based) spanning `len`
/// characters: the whole line when it is short, else at most [`WINDOW`] characters around the
/// column with `…` where the line is cut. Returns the text, the caret's column in it and the
/// caret's length (at least 1, within the text). Works on characters, so it never splits one.
fn window(line: &str, col: usize, len: usize) -> (String, usize, usize) {
    let total = line.chars().count();
    let col = col.min(total);
    let (start, end) = if total <= WINDOW {
        (0, total)
    } else {
        let start = col.saturating_sub(BEFORE);
        let end = (start + WINDOW).min(total);
        // Near the end of the line, show a full window anyway.
        (end.saturating_sub(WINDOW).min(start), end)
    };
    let mut shown = String::new();
    if start > 0 {
        shown.push('…');
    }
    shown.extend(line.chars().skip(start).take(end - start));
    if end < total {
        shown.push('…');
    }
    let caret_at = col - start + usize::from(start > 0);
    let caret_len = len.clamp(1, end.saturating_sub(col).max(1));
    (shown, caret_at, caret_len)
}

/// One finding in the human form, rendered by miette: `severity[CODE]`, the message, the file
/// with line and column, the source line with the element underlined, and the help. Without
/// colour when standard output is not a terminal or `NO_COLOR` is set.
pub(crate) fn render(
    d: &Diagnostic,
    path: &str,
    text: Option<&str>,
    span: Option<SourceSpan>,
) -> String {
    let snippet = span.and_then(|s| {
        let text = text?;
        let n = usize::try_from(s.line).ok()?.checked_sub(1)?;
        // A syntax error at the very end of the text is on the line after the last one.
        let line = match text.lines().nth(n) {
            Some(l) => l,
            None if n == text.lines().count() => "",
            None => return None,
        };
        let col = usize::try_from(s.column).unwrap_or(1).max(1) - 1;
        let len = usize::try_from(s.len).unwrap_or(1);
        let (mut shown, caret_at, caret_len) = window(&line.replace('\t', " "), col, len);
        if shown.is_empty() {
            // miette draws nothing under an empty line.
            shown.push(' ');
        }
        // The caret's characters as bytes of the shown text.
        let byte = |chars: usize| {
            shown
                .char_indices()
                .nth(chars)
                .map_or(shown.len(), |(i, _)| i)
        };
        let (from, to) = (byte(caret_at), byte(caret_at + caret_len));
        Some(Snippet {
            name: path.to_string(),
            line: n,
            column: col,
            label: miette::SourceSpan::from((from, to.saturating_sub(from).max(1))),
            text: shown,
        })
    });
    let place = match (&snippet, d.loc.line) {
        (Some(_), _) => String::new(),
        (None, line) if line > 0 => format!("{path}:{line}:{}", d.loc.column),
        (None, _) => path.to_string(),
    };
    let shown = Located {
        diag: d,
        snippet,
        place,
    };
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let mut theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    // Carets under the element, as compilers (and iamc before miette) draw them.
    theme.characters.underline = '^';
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_context_lines(0)
        .with_wrap_lines(false);
    let mut out = String::new();
    if handler.render_report(&mut out, &shown).is_err() {
        // Never expected (the snippet always covers its label); the plain form then.
        out = format!("{d}\n");
    }
    out
}

/// The source line of a finding, as miette reads it: only the (windowed) line, numbered and
/// placed as in the file.
#[derive(Debug)]
struct Snippet {
    /// The file, as shown.
    name: String,
    /// The line shown (cut to [`WINDOW`] characters around the finding).
    text: String,
    /// 0-based line in the file.
    line: usize,
    /// 0-based column of the finding in the file's line.
    column: usize,
    /// The element, in bytes of `text`.
    label: miette::SourceSpan,
}

impl miette::SourceCode for Snippet {
    fn read_span<'a>(
        &'a self,
        _span: &miette::SourceSpan,
        _before: usize,
        _after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.clone(),
            self.text.as_bytes(),
            miette::SourceSpan::from((0, self.text.len())),
            self.line,
            self.column,
            1,
        )))
    }
}

/// A finding with the file it is in: the [`Diagnostic`]'s code, severity and help, and the
/// source line with the element labelled.
#[derive(Debug)]
struct Located<'a> {
    diag: &'a Diagnostic,
    snippet: Option<Snippet>,
    /// `file:line:column` (or the file) when there is no snippet to show it.
    place: String,
}

impl std::fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.diag.message)?;
        if !self.place.is_empty() {
            write!(f, "\n--> {}", self.place)?;
        }
        Ok(())
    }
}

impl std::error::Error for Located<'_> {}

impl miette::Diagnostic for Located<'_> {
    /// `severity[CODE]`: miette has no security warnings and suggestions, the word says it.
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        Some(Box::new(format!(
            "{}[{}]",
            self.diag.severity.as_str(),
            self.diag.code
        )))
    }

    fn severity(&self) -> Option<miette::Severity> {
        miette::Diagnostic::severity(self.diag)
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        miette::Diagnostic::help(self.diag)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.snippet.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let s = self.snippet.as_ref()?;
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_primary_with_span(None, s.label),
        )))
    }
}
