//! The one place where iamc settles what AWS leaves open.
//!
//! The spec (`shared/spec/iam-semantics.md`) marks some rules **\[UNVERIFIED\]** or
//! **\[CONFLICT\]**. For each, iamc picks the safer reading (a wrong Allow is a security hole),
//! names it here, and tests it (the test named in the table, in `tests/semantics.rs` or the
//! module given). Nothing else in the crate decides these questions.
//!
//! | rule (spec §) | iamc's reading | switch | test |
//! | --- | --- | --- | --- |
//! | NotPrincipal layering (§2.4) | a Deny exempts a caller only if *every* layer of it (session, role, account; or user, account) is listed; an Allow grants only to callers no listed value relates to | [`NotPrincipalModel`] | `not_principal_*` |
//! | session-ARN grant vs session policy (§5.4, CONFLICT) | the docs: a resource policy naming the session ARN is not limited by the session policy | [`Semantics::session_policy_limits_session_arn_grant`] | `session_arn_grant_*` |
//! | wildcard-only actions that take a stream (§2.2 r7) | the SAR: Allow statements are matched against `*`; when the request also names a resource, Deny statements are matched against it too | [`Semantics::resource_scoped_actions`] | `wildcard_only_*` |
//! | negated operator, no qualifier, multi-valued request value (§3.12) | an evaluation error: fails closed (Allow does not match, Deny does) | [`NEGATED_ON_MULTI_VALUED_FAILS_CLOSED`] | `negated_on_multi_valued_*` |
//! | non-numeric / non-date / non-IP / non-boolean / non-ARN request values (§3.5–3.9) | an evaluation error: fails closed | [`MALFORMED_REQUEST_VALUE_FAILS_CLOSED`] | `malformed_request_value_*` |
//! | variables in `Bool` values (§4.2, CONFLICT) | substituted, as for String operators | [`VARIABLES_IN_BOOL`] | `bool_variable_*` |
//! | duplicate JSON keys (§1.1) | rejected at parse time | parser | `duplicate_key_*` |
//! | unknown condition operators (§1.9) | rejected, even with an empty block | parser | parser tests |
//! | operator-name case (§1.11) | exact spelling only | parser | parser tests |
//! | `aws:PrincipalType` of anonymous callers (§4.6) | not set (so positive operators are false, negated true) | [`Caller::principal_type`](crate::request::Caller::principal_type) | `anonymous_*` |
//! | resource account of `*` or an ARN without account | the caller's account (conformance README) | [`Request::resource_account`](crate::request::Request::resource_account) | conformance |
//! | RCPs for services not on the RCP list (§5.3) | applied when given: RCPs can only deny | always | `rcp_*` |
//! | root user against resource-policy denies (§5.3) | explicit denies apply to root | always | `root_*` |
//! | Kinesis 20 KB limit (§7.4) | 20,480 bytes of the document as written | validator | validator tests |
//! | variable value containing `*` (§4.5) | literal | [`Template`](crate::ast::Template) | `variables-07` |
//! | date epoch unit (§3.6, CONFLICT) | seconds, per the docs | [`Instant::parse`](crate::ast::Instant::parse) | `date_epoch_seconds` |
//! | short ARNs (§2.2 r4, settled by the docs for identity-side policies) | identity, boundary, session and SCP: completed with `*` in every missing field; resource policies and RCPs: no match where that would widen an Allow, completed where it makes a Deny apply | [`resource_reading`] | `short-arn-*`, `short_arn_*` |
//! | a wildcard spanning the colons of a short ARN (§2.2 r4, CONFLICT) | the safe split: where the statement must apply less, both the written glob and the completed form must match; where it must apply more, either | [`resource_reading`] | `short_arn_wildcard_*` |
//! | a wildcard in the resource type (§1.8, UNVERIFIED) | the safe split: never matches where the statement must apply less (an Allow's `Resource`, a Deny's `NotResource`), matches as a glob where it must apply more | [`resource_reading`] | `resource-type-wildcard-*`, `type_wildcard_*` |
//! | a bare role ARN as the caller (§5.4) | a session of that role: a resource-policy grant naming the role is limited by the boundary and session policy | [`BARE_ROLE_CALLER_IS_SESSION`] | `bare-role-boundary-01`, `bare_role_*` |
//! | `ForAnyValue:…IfExists` with the key absent (§3.11, CONFLICT) | the safe split: false in an Allow, true in a Deny | [`for_any_value_if_exists_absent`] | `foranyvalue-ifexists-*` |

/// How `NotPrincipal` exempts callers (spec §2.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum NotPrincipalModel {
    /// The safe choice per effect: with `Deny`, the layered model (the caller is exempt only
    /// when each of its identities is listed, so the Deny applies more often); with `Allow`,
    /// the lenient model (any listed value that relates to the caller exempts it, so the
    /// Allow grants less often).
    #[default]
    Safe,
    /// Layered for both effects.
    Layered,
    /// Lenient for both effects (what iam-simulate does).
    Lenient,
}

use crate::ast::{ArnForm, Effect, PolicyType};

/// How one `Resource`/`NotResource` pattern matches (the answer of [`resource_reading`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceReading {
    /// The pattern as written, one anchored glob over the ARN.
    Glob,
    /// The short ARN completed with `*` in every missing field.
    Completed,
    /// Never matches.
    Nothing,
    /// Matches when the written glob or the completed form matches.
    Either,
    /// Matches only when the written glob and the completed form both match.
    Both,
}

/// How a resource pattern of `form` matches in a statement of `effect` in a policy of type
/// `ty`, its element being `NotResource` when `negated`. The one place where iamc reads short
/// ARNs and wildcards in the resource type (spec §2.2 rule 4, §1.8).
///
/// Where AWS's reading is settled by its docs (a short ARN in an identity-side policy is
/// completed with `*`), that reading. Where it is not, the safe split: a statement must apply
/// *less* when it is an Allow with `Resource` or a Deny with `NotResource` (a matching pattern
/// widens an Allow; a matching `NotResource` pattern exempts from a Deny), and *more* otherwise;
/// the uncertain pattern then matches as little, or as much, as any reading would.
pub fn resource_reading(
    form: &ArnForm,
    ty: PolicyType,
    effect: Effect,
    negated: bool,
) -> ResourceReading {
    let apply_less = (effect == Effect::Allow) != negated;
    let identity_side = matches!(
        ty,
        PolicyType::Identity | PolicyType::Boundary | PolicyType::Session | PolicyType::Scp
    );
    match form {
        ArnForm::Plain => ResourceReading::Glob,
        // The IAM User Guide ("IAM identifiers"): an incomplete ARN in an identity-based
        // policy is completed with `*` (spec §2.2 rule 4, settled 2026-12-02).
        ArnForm::Short {
            wildcard: false, ..
        } if identity_side => ResourceReading::Completed,
        // In a resource policy AWS's reading is not documented (iam-simulate: no match).
        ArnForm::Short {
            wildcard: false, ..
        } => {
            if apply_less {
                ResourceReading::Nothing
            } else {
                ResourceReading::Completed
            }
        }
        // A wildcard may or may not span the colons the completion assumes are missing.
        ArnForm::Short { wildcard: true, .. } => {
            if apply_less {
                ResourceReading::Both
            } else {
                ResourceReading::Either
            }
        }
        ArnForm::TypeWildcard => {
            if apply_less {
                ResourceReading::Nothing
            } else {
                ResourceReading::Glob
            }
        }
    }
}

/// A request whose caller is a bare role ARN (`arn:aws:iam::A:role/R`, which no real request
/// carries but tools and simulators accept) is a session of that role for the same-account
/// grant table (spec §5.4, reading of 2026-12-02): a resource-policy grant naming the role ARN
/// is limited by the boundary and the session policy, as for any session. Reading it as a
/// direct, user-style grant would let it pass a boundary.
pub const BARE_ROLE_CALLER_IS_SESSION: bool = true;

/// `ForAnyValue:<Op>IfExists` when the key is absent (spec §3.11, CONFLICT): the generic
/// `IfExists` rule says true, iam-simulate and practitioners say AWS ignores `IfExists` there
/// (false). The safe split, as for NotPrincipal: false in an Allow, true in a Deny.
pub fn for_any_value_if_exists_absent(effect: Effect) -> bool {
    effect == Effect::Deny
}

/// Named choices for the rules AWS leaves open. `Semantics::default()` is iamc's reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Semantics {
    /// How `NotPrincipal` exempts callers.
    pub not_principal: NotPrincipalModel,
    /// Whether a resource-policy Allow naming a role *session* ARN is limited by an implicit
    /// deny in the session policy. The AWS docs say no (default `false`); iam-simulate says yes.
    pub session_policy_limits_session_arn_grant: bool,
    /// Actions the catalog lists as wildcard-only that should nevertheless be authorized
    /// against the resource the request names (e.g. `kinesis:UpdateShardCount` if AWS turns out
    /// to check the stream ARN). Lower-case `service:action`. Empty by default: the SAR.
    pub resource_scoped_actions: Vec<String>,
}

impl Default for Semantics {
    fn default() -> Semantics {
        Semantics {
            not_principal: NotPrincipalModel::Safe,
            session_policy_limits_session_arn_grant: false,
            resource_scoped_actions: Vec::new(),
        }
    }
}

/// A negated operator without a set qualifier applied to a multi-valued request value is
/// unverified on AWS (spec §3.12): iamc treats it as an evaluation error, which fails closed.
pub const NEGATED_ON_MULTI_VALUED_FAILS_CLOSED: bool = true;

/// A request value that its operator cannot read (a non-number for Numeric, a non-date for
/// Date, …) is an evaluation error, which fails closed (design.md).
pub const MALFORMED_REQUEST_VALUE_FAILS_CLOSED: bool = true;

/// Policy variables in `Bool` condition values are substituted (spec §4.2 conflict).
pub const VARIABLES_IN_BOOL: bool = true;
