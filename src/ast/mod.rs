//! One AST for both front ends (IAM JSON and, later, the text form).
//!
//! Everything here is already checked for shape: the parser builds an AST only from a document
//! that follows the grammar of spec §1. Values are pre-parsed for their operator (numbers, dates,
//! CIDRs, base64), so evaluation never meets an unparsable policy value.

mod doc;
pub mod template;
pub mod value;

use serde::Serialize;
use std::fmt;

use crate::diag::Code;
use crate::glob::Glob;
pub use doc::{Inputs, PolicyDoc, ResourceSide};
pub use template::{Piece, Template, TemplateMode};
pub use value::{Cidr, Decimal, Instant};

/// Where something is in its source: a JSON pointer and a 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Loc {
    /// JSON pointer from the policy document's root, e.g. `/Statement/1/Condition/StringEquals`.
    pub pointer: String,
    /// 1-based line in the source text (0 when unknown).
    pub line: u32,
    /// 1-based column in the source text (0 when unknown).
    pub column: u32,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ptr = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        if self.line > 0 {
            write!(f, "{ptr} (line {}, column {})", self.line, self.column)
        } else {
            write!(f, "{ptr}")
        }
    }
}

/// The kinds of policy, which decide what a document may contain and where it applies.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyType {
    /// An identity-based policy (inline or managed) of a user, group or role.
    Identity,
    /// A permissions boundary.
    Boundary,
    /// A session policy.
    Session,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
    /// A resource-based policy of any service.
    Resource,
    /// A Kinesis Data Streams resource policy (stream or consumer), with Kinesis's limits.
    KinesisResource,
    /// An IAM role's trust policy: the resource-based policy of the role for `sts:AssumeRole`
    /// and its kin (spec §1.6, §5.3 step 4: it must grant explicitly).
    RoleTrust,
}

impl PolicyType {
    /// The name used on the command line and in output.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity",
            PolicyType::Boundary => "boundary",
            PolicyType::Session => "session",
            PolicyType::Scp => "scp",
            PolicyType::Rcp => "rcp",
            PolicyType::Resource => "resource",
            PolicyType::KinesisResource => "kinesis-resource",
            PolicyType::RoleTrust => "role-trust",
        }
    }

    /// Parses the command-line name.
    pub fn from_name(s: &str) -> Option<PolicyType> {
        Some(match s {
            "identity" => PolicyType::Identity,
            "boundary" => PolicyType::Boundary,
            "session" => PolicyType::Session,
            "scp" => PolicyType::Scp,
            "rcp" => PolicyType::Rcp,
            "resource" => PolicyType::Resource,
            "kinesis-resource" => PolicyType::KinesisResource,
            "role-trust" => PolicyType::RoleTrust,
            _ => return None,
        })
    }

    /// Whether statements of this type name a principal (resource policies and RCPs).
    pub fn has_principal(self) -> bool {
        matches!(
            self,
            PolicyType::Rcp
                | PolicyType::Resource
                | PolicyType::KinesisResource
                | PolicyType::RoleTrust
        )
    }
}

impl fmt::Display for PolicyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The policy language version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Version {
    /// `2012-10-17`: policy variables are substituted.
    V2012_10_17,
    /// `2008-10-17`: variables are literal text.
    V2008_10_17,
    /// No `Version`: like 2008, variables are literal text.
    Absent,
}

impl Version {
    /// Whether `${...}` is read as a variable.
    pub fn has_variables(self) -> bool {
        self == Version::V2012_10_17
    }

    /// The text form, `None` when absent.
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Version::V2012_10_17 => Some("2012-10-17"),
            Version::V2008_10_17 => Some("2008-10-17"),
            Version::Absent => None,
        }
    }
}

/// A policy document.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// `Version`.
    pub version: Version,
    /// `Id`.
    pub id: Option<String>,
    /// The statements, in document order.
    pub statements: Vec<Statement>,
    /// Whether `Statement` was a single object rather than an array.
    pub single_statement: bool,
    /// Size of the source document in bytes.
    pub source_bytes: usize,
}

/// `Allow` or `Deny`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Effect {
    /// `"Allow"`.
    Allow,
    /// `"Deny"`.
    Deny,
}

impl Effect {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// `Sid` (shared, so decisions can name it without copying).
    pub sid: Option<std::sync::Arc<str>>,
    /// `Effect`.
    pub effect: Effect,
    /// `Principal` or `NotPrincipal`.
    pub principal: Option<PrincipalElement>,
    /// `Action` or `NotAction`.
    pub action: ActionElement,
    /// `Resource` or `NotResource` (absent only where the policy type allows).
    pub resource: Option<ResourceElement>,
    /// The conditions; all must hold (AND).
    pub conditions: Vec<Condition>,
    /// Where the statement is.
    pub loc: Loc,
}

/// `Principal` (or `NotPrincipal` when `negated`).
#[derive(Clone, Debug, PartialEq)]
pub struct PrincipalElement {
    /// `NotPrincipal`.
    pub negated: bool,
    /// The listed principals (OR).
    pub values: Vec<PrincipalValue>,
}

/// One principal in a `Principal` element.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum PrincipalValue {
    /// `"*"` or `{"AWS": "*"}`: everyone, anonymous callers included.
    Anyone,
    /// `{"AWS": ...}`: an account id, a `:root` ARN, a user, role, session or federated-user ARN,
    /// or a unique id (`AIDA…`, `AROA…`).
    Aws(String),
    /// `{"Service": "x.amazonaws.com"}`.
    Service(String),
    /// `{"Federated": ...}`.
    Federated(String),
    /// `{"CanonicalUser": ...}`.
    CanonicalUser(String),
}

/// `Action` (or `NotAction` when `negated`).
#[derive(Clone, Debug, PartialEq)]
pub struct ActionElement {
    /// `NotAction`.
    pub negated: bool,
    /// The patterns (OR).
    pub patterns: Vec<ActionPattern>,
}

/// One action pattern, e.g. `kinesis:Get*` or `*`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ActionPattern {
    /// As written.
    pub raw: String,
    /// The service prefix, lower-cased; `None` for `"*"`.
    pub service: Option<String>,
    /// The action-name glob over the lower-cased action name; `None` for `"*"`.
    pub name: Option<Glob>,
}

impl ActionPattern {
    /// Whether the pattern matches `action` (`service:Name`, any case). Spec §2.1.
    pub fn matches(&self, action: &str) -> bool {
        self.matches_lc(&action.to_lowercase())
    }

    /// Like [`ActionPattern::matches`] for an action already lower-cased.
    pub fn matches_lc(&self, action_lc: &str) -> bool {
        match action_lc.split_once(':') {
            Some((svc, act)) => self.matches_parts(svc, act),
            None => self.service.is_none(),
        }
    }

    /// Like [`ActionPattern::matches`] for a lower-cased action split at its colon.
    pub fn matches_parts(&self, service_lc: &str, name_lc: &str) -> bool {
        match (&self.service, &self.name) {
            (Some(service), Some(name)) => service == service_lc && name.matches(name_lc),
            _ => true,
        }
    }
}

/// `Resource` (or `NotResource` when `negated`).
#[derive(Clone, Debug, PartialEq)]
pub struct ResourceElement {
    /// `NotResource`.
    pub negated: bool,
    /// The patterns (OR).
    pub patterns: Vec<ResourcePattern>,
}

/// One resource pattern: `"*"` or an ARN glob, maybe with policy variables in its resource part.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResourcePattern {
    /// As written.
    pub raw: String,
    /// The pattern, wildcards and (in 2012-10-17 policies) variables parsed.
    pub template: Template,
    /// Whether the pattern has one of the forms AWS reads in a way the glob alone does not say
    /// (a short ARN, a wildcard in the resource type). How such a pattern matches depends on
    /// the policy type and the statement's effect:
    /// [`resource_reading`](crate::semantics::resource_reading) decides.
    pub form: ArnForm,
}

/// The shape of a resource pattern that decides how it is read (spec §2.2 rule 4, §1.8).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub enum ArnForm {
    /// `"*"`, or an ARN with all six fields and no wildcard in its resource type: one anchored
    /// glob over the whole ARN.
    #[default]
    Plain,
    /// An ARN with fewer than six fields (`arn:aws:kinesis`, `arn:aws:kinesis:us-east-1`).
    Short {
        /// The pattern completed with `:*` for every missing field
        /// (`arn:aws:kinesis` -> `arn:aws:kinesis:*:*:*`), as the IAM User Guide says AWS
        /// completes it in identity-based policies.
        completed: Template,
        /// Whether the pattern as written has a wildcard (which might span the colons that
        /// the completion assumes are missing: the spec's contested case).
        wildcard: bool,
    },
    /// A full ARN of a service whose resources are all `type/…` or `type:…` (Kinesis, KMS,
    /// IAM) with a wildcard in the resource type (`…:111122223333:*/orders`,
    /// `arn:aws:iam::123456789012:u*`), which IAM says is not allowed.
    TypeWildcard,
}

impl ResourcePattern {
    /// True for the literal `"*"`, the only pattern that matches the resource `*` of a
    /// wildcard-only action (spec §2.2 rule 7).
    pub fn is_star(&self) -> bool {
        self.raw == "*"
    }
}

/// A set qualifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum SetQualifier {
    /// `ForAllValues:`
    ForAllValues,
    /// `ForAnyValue:`
    ForAnyValue,
}

/// The family of an operator, which decides how values are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// String operators.
    String,
    /// Numeric operators.
    Numeric,
    /// Date operators.
    Date,
    /// `Bool`.
    Bool,
    /// `BinaryEquals`.
    Binary,
    /// `IpAddress`, `NotIpAddress`.
    Ip,
    /// ARN operators.
    Arn,
    /// `Null`.
    Null,
}

macro_rules! operators {
    ($($name:ident => $family:ident, $negated:expr;)*) => {
        /// A condition operator without its qualifier and `IfExists`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
        #[allow(missing_docs)]
        pub enum OperatorBase { $($name,)* }

        impl OperatorBase {
            /// Every operator.
            pub const ALL: &'static [OperatorBase] = &[$(OperatorBase::$name,)*];

            /// The exact name.
            pub fn name(self) -> &'static str {
                match self { $(OperatorBase::$name => stringify!($name),)* }
            }

            /// Looks up an exact (case-sensitive) name.
            pub fn from_name(s: &str) -> Option<OperatorBase> {
                match s { $(stringify!($name) => Some(OperatorBase::$name),)* _ => None }
            }

            /// The operator's family.
            pub fn family(self) -> Family {
                match self { $(OperatorBase::$name => Family::$family,)* }
            }

            /// Negated operators: true when the key is missing; their values combine with AND.
            pub fn is_negated(self) -> bool {
                match self { $(OperatorBase::$name => $negated,)* }
            }
        }
    };
}

operators! {
    StringEquals => String, false;
    StringNotEquals => String, true;
    StringEqualsIgnoreCase => String, false;
    StringNotEqualsIgnoreCase => String, true;
    StringLike => String, false;
    StringNotLike => String, true;
    NumericEquals => Numeric, false;
    NumericNotEquals => Numeric, true;
    NumericLessThan => Numeric, false;
    NumericLessThanEquals => Numeric, false;
    NumericGreaterThan => Numeric, false;
    NumericGreaterThanEquals => Numeric, false;
    DateEquals => Date, false;
    DateNotEquals => Date, true;
    DateLessThan => Date, false;
    DateLessThanEquals => Date, false;
    DateGreaterThan => Date, false;
    DateGreaterThanEquals => Date, false;
    Bool => Bool, false;
    BinaryEquals => Binary, false;
    IpAddress => Ip, false;
    NotIpAddress => Ip, true;
    ArnEquals => Arn, false;
    ArnLike => Arn, false;
    ArnNotEquals => Arn, true;
    ArnNotLike => Arn, true;
    Null => Null, false;
}

impl OperatorBase {
    /// Whether `*` and `?` in values are wildcards.
    pub fn uses_wildcards(self) -> bool {
        matches!(
            self,
            OperatorBase::StringLike
                | OperatorBase::StringNotLike
                | OperatorBase::ArnEquals
                | OperatorBase::ArnLike
                | OperatorBase::ArnNotEquals
                | OperatorBase::ArnNotLike
        )
    }

    /// Whether values may hold policy variables (spec §4.2). `Bool` is a documented conflict;
    /// iamc substitutes there too (see `Semantics`).
    pub fn allows_variables(self) -> bool {
        matches!(self.family(), Family::String | Family::Arn | Family::Bool)
    }
}

/// Why a name is not a condition operator ([`Operator::parse`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OperatorError {
    /// Not a known operator, with or without its qualifier and suffix (the name as written).
    #[error("unknown condition operator `{0}`")]
    Unknown(String),
    /// `NullIfExists`.
    #[error("`Null` cannot take the `IfExists` suffix")]
    NullIfExists,
    /// `ForAllValues:Null` or `ForAnyValue:Null`.
    #[error("`Null` cannot take a set qualifier (`ForAllValues:`/`ForAnyValue:`)")]
    NullQualifier,
}

impl OperatorError {
    /// The diagnostic code of every operator error.
    pub const CODE: Code = Code::InvalidOperator;
}

/// A full condition operator: `[ForAllValues:|ForAnyValue:]Base[IfExists]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Operator {
    /// The base operator.
    pub base: OperatorBase,
    /// `ForAllValues:` / `ForAnyValue:`.
    pub qualifier: Option<SetQualifier>,
    /// `…IfExists`.
    pub if_exists: bool,
}

impl Operator {
    /// Parses an operator name exactly as written (names are case-sensitive).
    pub fn parse(name: &str) -> Result<Operator, OperatorError> {
        let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else {
            (None, name)
        };
        let (if_exists, base) = match rest.strip_suffix("IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let base =
            OperatorBase::from_name(base).ok_or_else(|| OperatorError::Unknown(name.into()))?;
        if base == OperatorBase::Null && if_exists {
            return Err(OperatorError::NullIfExists);
        }
        if base == OperatorBase::Null && qualifier.is_some() {
            return Err(OperatorError::NullQualifier);
        }
        Ok(Operator {
            base,
            qualifier,
            if_exists,
        })
    }

    /// The name as written in a policy.
    pub fn name(&self) -> String {
        let q = match self.qualifier {
            Some(SetQualifier::ForAllValues) => "ForAllValues:",
            Some(SetQualifier::ForAnyValue) => "ForAnyValue:",
            None => "",
        };
        let s = if self.if_exists { "IfExists" } else { "" };
        format!("{q}{}{s}", self.base.name())
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// One condition: an operator applied to one key with its values.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// The operator.
    pub operator: Operator,
    /// The key as written.
    pub key: String,
    /// The key lower-cased: keys, and the tag-key part of `…Tag/<k>`, ignore case.
    pub key_lc: String,
    /// The values (OR for positive operators, AND of negations for negated ones).
    pub values: Vec<ConditionValue>,
    /// Where the operator block is.
    pub loc: Loc,
}

/// A policy value of a condition, parsed for its operator.
#[derive(Clone, Debug, PartialEq)]
pub struct ConditionValue {
    /// As written (numbers and booleans in their JSON text form).
    pub raw: String,
    /// Parsed.
    pub parsed: Parsed,
}

/// A policy value parsed for its operator family.
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    /// String, ARN and Bool operators: text with variables (and wildcards for Like/Arn).
    Text(Template),
    /// Numeric operators.
    Number(Decimal),
    /// Date operators.
    Date(Instant),
    /// `IpAddress`, `NotIpAddress`.
    Cidr(Cidr),
    /// `BinaryEquals`.
    Binary(Vec<u8>),
    /// `Null`: `true` tests that the key is absent.
    Null(bool),
}
