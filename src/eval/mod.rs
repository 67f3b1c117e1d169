//! Stage 4: evaluation. The reference evaluator reads the AST rule by rule; the compiled engine
//! (a later stage) must agree with it on every input.

pub(crate) mod compiled;
pub(crate) mod condition;
pub mod decision;
// `--explain` of the CLI and the decision server.
#[cfg(any(feature = "cli", feature = "server"))]
pub(crate) mod explain;
pub(crate) mod flow;
pub(crate) mod matching;
pub mod reference;

pub use decision::{Decision, EvalError, Layer, Outcome, StatementRef};
