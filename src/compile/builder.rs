//! Building an engine: the configuration (semantics, limits), the typed errors a build can
//! fail with, and the running totals that keep every build and update inside the limits.
//!
//! | code | meaning |
//! | --- | --- |
//! | `IAM360` | the engine would pass one of its [`EngineLimits`] (a [`BuildError`]) |

use std::sync::Arc;

use rustc_hash::FxHashSet;

use super::set::CompiledSet;
use super::Engine;
use crate::ast::Inputs;
use crate::ast::Loc;
use crate::diag::{Code, Diagnostic};
use crate::semantics::Semantics;

/// Bounds on what one engine holds. A build or an update that would pass one fails with a
/// [`BuildError`] and changes nothing; the defaults are far above the organization workload
/// (23,000 statements) and the 100,000-statement benchmark tiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineLimits {
    /// Distinct compiled policy sets (principals with the same policies share one).
    pub max_sets: usize,
    /// Statements across the distinct compiled sets.
    pub max_statements: usize,
    /// Approximate heap bytes of the compiled indexes.
    pub max_index_bytes: usize,
}

impl Default for EngineLimits {
    fn default() -> EngineLimits {
        EngineLimits {
            max_sets: 1_000_000,
            max_statements: 5_000_000,
            max_index_bytes: 4 << 30,
        }
    }
}

/// Why an engine was not built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// More distinct compiled sets than [`EngineLimits::max_sets`].
    #[error("the engine would hold more than {limit} compiled policy sets")]
    TooManySets {
        /// The limit.
        limit: usize,
    },
    /// More statements than [`EngineLimits::max_statements`].
    #[error("the engine would hold more than {limit} statements (at least {statements})")]
    TooManyStatements {
        /// The limit.
        limit: usize,
        /// Statements counted when the limit was passed.
        statements: usize,
    },
    /// Larger indexes than [`EngineLimits::max_index_bytes`].
    #[error("the engine's indexes would take more than {limit} bytes (at least {bytes})")]
    IndexTooLarge {
        /// The limit.
        limit: usize,
        /// Bytes counted when the limit was passed.
        bytes: usize,
    },
}

impl BuildError {
    /// The diagnostic code of every build error.
    pub const CODE: Code = Code::EngineLimit;

    /// This error as a diagnostic (it has no place in a file: the whole store is over).
    pub fn to_diagnostic(&self) -> Diagnostic {
        Diagnostic::error(Self::CODE, self.to_string(), Loc::default()).with_help(
            "split the store, or raise the limit where the front end offers one \
             (EngineBuilder::limits in the library)",
        )
    }
}

/// How to build an engine: the semantics it decides with and the limits it must stay in.
///
/// ```
/// use std::sync::Arc;
/// use iamc::{BuildError, EngineBuilder, EngineLimits, Store};
///
/// let store = Arc::new(Store::from_str(
///     r#"{"version": 1, "accounts": {"111122223333": {"users": {"alice": {"inline": {"p": {
///         "Version": "2012-10-17",
///         "Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}]}}}}}}}"#,
///     None,
/// ).expect("a valid store"));
/// let authorizer = EngineBuilder::new().authorizer(Arc::clone(&store)).expect("within limits");
/// assert_eq!(authorizer.stats().statements, 1);
///
/// // Over a limit, the build fails with a typed error (and never panics).
/// let tiny = EngineLimits { max_statements: 0, ..EngineLimits::default() };
/// let err = EngineBuilder::new().limits(tiny).authorizer(store).unwrap_err();
/// assert!(matches!(err, BuildError::TooManyStatements { limit: 0, .. }));
/// assert_eq!(err.to_diagnostic().code.as_str(), "IAM360");
/// ```
#[derive(Clone, Debug, Default)]
pub struct EngineBuilder {
    pub(crate) sem: Semantics,
    pub(crate) limits: EngineLimits,
}

impl EngineBuilder {
    /// The default semantics and limits.
    pub fn new() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// Decide with `sem`.
    pub fn semantics(mut self, sem: Semantics) -> EngineBuilder {
        self.sem = sem;
        self
    }

    /// Stay within `limits`.
    pub fn limits(mut self, limits: EngineLimits) -> EngineBuilder {
        self.limits = limits;
        self
    }

    /// Compiles one fixed set of inputs, used for every request (ad hoc policies, like
    /// `aws iam simulate-custom-policy`). For a store, use [`EngineBuilder::authorizer`].
    pub fn engine(&self, inputs: &Inputs) -> Result<Engine, BuildError> {
        Engine::fixed(inputs, self)
    }
}

/// What an engine holds, counted once per distinct compiled set, checked against its limits
/// as sets are added (so a build over a limit stops there).
#[derive(Clone, Debug, Default)]
pub(crate) struct Totals {
    pub(crate) sets: usize,
    pub(crate) statements: usize,
    pub(crate) index_bytes: usize,
}

impl Totals {
    fn check(&self, limits: &EngineLimits) -> Result<(), BuildError> {
        if self.sets > limits.max_sets {
            return Err(BuildError::TooManySets {
                limit: limits.max_sets,
            });
        }
        if self.statements > limits.max_statements {
            return Err(BuildError::TooManyStatements {
                limit: limits.max_statements,
                statements: self.statements,
            });
        }
        if self.index_bytes > limits.max_index_bytes {
            return Err(BuildError::IndexTooLarge {
                limit: limits.max_index_bytes,
                bytes: self.index_bytes,
            });
        }
        Ok(())
    }

    /// These totals with `set` added, if they stay within `limits`.
    pub(crate) fn add(
        &mut self,
        set: &CompiledSet,
        limits: &EngineLimits,
    ) -> Result<(), BuildError> {
        self.sets += 1;
        self.statements += set.len();
        self.index_bytes += set.index_bytes();
        self.check(limits)
    }

    /// These totals with `set` taken out (a replaced resource policy).
    pub(crate) fn remove(&mut self, set: &CompiledSet) {
        self.sets = self.sets.saturating_sub(1);
        self.statements = self.statements.saturating_sub(set.len());
        self.index_bytes = self.index_bytes.saturating_sub(set.index_bytes());
    }
}

/// Counts each distinct set once (sets are shared between principals with the same policies).
#[derive(Debug, Default)]
pub(crate) struct Counter {
    seen: FxHashSet<usize>,
    pub(crate) totals: Totals,
    limits: EngineLimits,
}

impl Counter {
    pub(crate) fn new(limits: EngineLimits) -> Counter {
        Counter {
            limits,
            ..Counter::default()
        }
    }

    /// Counts `set` unless it was counted already.
    pub(crate) fn count(&mut self, set: &Arc<CompiledSet>) -> Result<(), BuildError> {
        if self.seen.insert(Arc::as_ptr(set) as usize) {
            self.totals.add(set, &self.limits)?;
        }
        Ok(())
    }
}
