//! The IAM JSON front end: a strict, span-preserving JSON reader and the policy builder.

pub mod policy;
pub(crate) mod reader;
pub(crate) mod walk;

pub use policy::{parse_policy, policy_from_node};
pub use reader::{parse_json, JsonKey, JsonNode, JsonValue, Span};
