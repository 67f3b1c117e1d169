#![doc = "iamc: a compiler and decision engine for AWS IAM policies."]
#![warn(missing_docs)]

pub mod ast;
pub mod glob;
pub mod diag;
pub mod parse;
