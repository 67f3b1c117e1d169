//! Diagnostics as data: every error or finding has a stable code, a severity, a location,
//! a message and (where there is one) a help text.

use serde::Serialize;
use std::fmt;

use crate::ast::Loc;

mod code;

pub use code::{Code, UnknownCode};

/// How bad a finding is (IAM Access Analyzer's four levels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// The policy is rejected.
    Error,
    /// Accepted, but grants more than it seems to.
    SecurityWarning,
    /// Accepted, but probably not what was meant.
    Warning,
    /// Accepted; could be simpler.
    Suggestion,
}

impl Severity {
    /// miette's level: security warnings are warnings, suggestions advice.
    #[cfg(feature = "cli")]
    pub fn to_miette(self) -> miette::Severity {
        match self {
            Severity::Error => miette::Severity::Error,
            Severity::SecurityWarning | Severity::Warning => miette::Severity::Warning,
            Severity::Suggestion => miette::Severity::Advice,
        }
    }

    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::SecurityWarning => "security-warning",
            Severity::Warning => "warning",
            Severity::Suggestion => "suggestion",
        }
    }
}

/// One diagnostic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stable code, e.g. `IAM012` ([`Code::InvalidVersion`]). Codes never change meaning.
    pub code: Code,
    /// Severity.
    pub severity: Severity,
    /// What is wrong, naming the rule.
    pub message: String,
    /// Where.
    #[serde(flatten)]
    pub loc: Loc,
    /// How to fix it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error.
    pub fn error(code: Code, message: impl Into<String>, loc: Loc) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            loc,
            help: None,
        }
    }

    /// A finding of another severity.
    pub fn new(code: Code, severity: Severity, message: impl Into<String>, loc: Loc) -> Diagnostic {
        Diagnostic {
            code,
            severity,
            message: message.into(),
            loc,
            help: None,
        }
    }

    /// Adds a help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: {} at {}",
            self.severity.as_str(),
            self.code,
            self.message,
            self.loc
        )?;
        if let Some(h) = &self.help {
            write!(f, "\n  help: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// For miette: the code, the severity (security warnings are miette's warnings, suggestions its
/// advice) and the help. A `Diagnostic` holds no source text; `iamc check` adds the snippet.
#[cfg(feature = "cli")]
impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity.to_miette())
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }
}

/// How many findings a [`Listed`] shows; the rest are counted.
#[cfg(any(feature = "cli", feature = "gateway"))]
const LISTED: usize = 20;

/// Findings as the servers print them on standard error (a refused store, the gateway's
/// warnings): one per line, indented by two spaces, the first 20, then how many more there are.
#[cfg(any(feature = "cli", feature = "gateway"))]
pub(crate) struct Listed<'a>(pub(crate) &'a [Diagnostic]);

#[cfg(any(feature = "cli", feature = "gateway"))]
impl fmt::Display for Listed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().take(LISTED).enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "  {d}")?;
        }
        if self.0.len() > LISTED {
            write!(f, "\n  … and {} more", self.0.len() - LISTED)?;
        }
        Ok(())
    }
}

/// Levenshtein distance over characters, for did-you-mean suggestions (callers bound the
/// lengths: the cost is the product of the two).
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.get(j).copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}
