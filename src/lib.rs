#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

mod authorizer;

pub mod analysis;
pub mod arn;
pub mod ast;
pub(crate) mod catalog;
#[cfg(feature = "cli")]
pub mod cli;
pub mod compile;
pub mod diag;
pub mod eval;
#[doc(hidden)]
pub mod fuzzing;
#[cfg(feature = "gateway")]
pub mod gateway;
pub(crate) mod glob;
pub mod import;
pub mod parse;
#[cfg(feature = "replay")]
pub mod replay;
pub mod request;
#[cfg(feature = "server")]
mod runtime;
pub mod semantics;
#[cfg(feature = "server")]
pub mod server;
pub mod store;
pub mod validate;
#[cfg(feature = "bench")]
pub mod workload;

// The front door: a store, its compiled engine, requests and decisions.
pub use authorizer::{Authorizer, Prepared};
pub use compile::{BuildError, Engine, EngineBuilder, EngineLimits, Scratch};
pub use eval::{Decision, Outcome};
pub use request::Request;
pub use semantics::Semantics;
pub use store::Store;
