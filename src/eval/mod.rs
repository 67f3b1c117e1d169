//! Stage 4: evaluation. The reference evaluator reads the AST rule by rule; the compiled engine
//! (a later stage) must agree with it on every input.

pub mod condition;
pub mod decision;
pub mod explain;
pub mod flow;
pub mod inputs;
pub mod matching;
pub mod reference;

pub use decision::{Decision, EvalError, Layer, Outcome, PolicyDoc, StatementRef};
pub use inputs::{Inputs, ResourceSide};
