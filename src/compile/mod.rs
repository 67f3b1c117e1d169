//! Stage 3: compile policies into an immutable, indexed [`Engine`] (its request path is
//! `crate::eval::compiled`).
//!
//! Each policy set that is evaluated together (a caller's identity policies, a boundary, a
//! session policy, an SCP or RCP level, a resource policy) becomes a compiled set with an
//! action index and a resource index. A request asks each set's index for candidates and checks
//! them with the reference evaluator's own statement matcher, inside the one decision flow
//! (`crate::eval::flow`); so the engine agrees with the reference by construction wherever
//! the index keeps its promise: extra candidates allowed, never fewer.

mod builder;
pub(crate) mod engine;
mod radix;
pub(crate) mod set;
mod store_sets;

pub use builder::{BuildError, EngineBuilder, EngineLimits};
pub use engine::{Engine, EngineStats};
pub use set::Scratch;
