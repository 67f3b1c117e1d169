//! Condition evaluation (spec §3): every operator, IfExists, set qualifiers, the missing-key
//! rules, multi-valued keys and policy variables in values.
//!
//! A condition evaluates to `Ok(true)`, `Ok(false)` or `Err(error)` (an [`EvalError`] with its
//! `IAM2xx` code); an error makes its statement fail closed (an Allow does not match, a Deny
//! does).

use std::cmp::Ordering;

use super::decision::EvalError;
use crate::arn::{Arn, ArnPattern};
use crate::ast::{
    value::{decode_base64, parse_bool, parse_ip},
    Condition, ConditionValue, Decimal, Effect, Family, Instant, OperatorBase, Parsed,
    SetQualifier,
};
use crate::diag::Code;

use crate::request::{Context, ContextValue, Scalar, ScalarKind};
use crate::semantics::{
    for_any_value_if_exists_absent, MALFORMED_REQUEST_VALUE_FAILS_CLOSED,
    NEGATED_ON_MULTI_VALUED_FAILS_CLOSED,
};

/// The result of one condition.
pub type CondResult = Result<bool, EvalError>;

/// Evaluates one condition of a statement of `effect` against the context. Keys that the
/// condition or its values' variables referred to but the context lacked are pushed to
/// `missing`. The effect matters only where the spec is contested
/// ([`for_any_value_if_exists_absent`]).
pub fn evaluate(
    cond: &Condition,
    effect: Effect,
    ctx: &Context,
    missing: &mut Vec<String>,
) -> CondResult {
    for v in &cond.values {
        if let Parsed::Text(t) = &v.parsed {
            missing.extend(
                t.variable_keys()
                    .filter(|k| ctx.variable(k).is_none())
                    .map(str::to_string),
            );
        }
    }
    let op = cond.operator;
    let value = ctx.get_lc(&cond.key_lc);
    if value.is_none() {
        missing.push(cond.key_lc.clone());
    }
    // INVARIANT: Null tests presence: "true" holds iff the key is absent (spec §3.10).
    if op.base == OperatorBase::Null {
        let absent = value.is_none();
        return Ok(cond.values.iter().any(|v| match v.parsed {
            Parsed::Null(want_absent) => want_absent == absent,
            _ => false,
        }));
    }
    match op.qualifier {
        None => match value {
            // INVARIANT: a missing key makes a positive operator false, a negated one true, and
            // any …IfExists true (spec §3.2).
            None => Ok(op.if_exists || op.base.is_negated()),
            Some(ContextValue::One(r)) => single(op.base, r, &cond.values, ctx),
            // A plain operator on a multi-valued request value (spec §3.12).
            Some(ContextValue::Many(_)) => {
                if op.base.is_negated() && NEGATED_ON_MULTI_VALUED_FAILS_CLOSED {
                    Err(EvalError::new(
                        Code::EvalNegatedOnMultiValued,
                        format!(
                            "`{}` on the multi-valued key `{}` needs ForAllValues: or ForAnyValue:",
                            op, cond.key
                        ),
                    ))
                } else {
                    Ok(false)
                }
            }
        },
        Some(q) => {
            let set: &[Scalar] = match value {
                None => {
                    return Ok(match q {
                        // INVARIANT: ForAllValues on an absent key is true (spec §3.11).
                        SetQualifier::ForAllValues => true,
                        SetQualifier::ForAnyValue if op.if_exists => {
                            for_any_value_if_exists_absent(effect)
                        }
                        SetQualifier::ForAnyValue => false,
                    });
                }
                Some(ContextValue::One(r)) => std::slice::from_ref(r),
                Some(ContextValue::Many(rs)) => rs,
            };
            // INVARIANT: ForAllValues over an empty set is true, ForAnyValue false (spec §3.11).
            let mut err = None;
            match q {
                SetQualifier::ForAllValues => {
                    for r in set {
                        match single(op.base, r, &cond.values, ctx) {
                            Ok(false) => return Ok(false),
                            Ok(true) => {}
                            Err(e) => err = Some(e),
                        }
                    }
                    err.map_or(Ok(true), Err)
                }
                SetQualifier::ForAnyValue => {
                    for r in set {
                        match single(op.base, r, &cond.values, ctx) {
                            Ok(true) => return Ok(true),
                            Ok(false) => {}
                            Err(e) => err = Some(e),
                        }
                    }
                    err.map_or(Ok(false), Err)
                }
            }
        }
    }
}

/// One request value against all policy values: OR for positive operators, "matches none" (an
/// AND of negations) for negated ones (spec §3.1).
// INVARIANT: values under a negated operator combine with AND: the request value must match none.
fn single(base: OperatorBase, r: &Scalar, values: &[ConditionValue], ctx: &Context) -> CondResult {
    let mut any = false;
    for p in values {
        if test(base, r, p, ctx)? {
            any = true;
            break;
        }
    }
    Ok(any != base.is_negated())
}

/// The error for a request value the operator cannot read. It fails closed
/// ([`MALFORMED_REQUEST_VALUE_FAILS_CLOSED`]).
fn malformed(what: &str, r: &Scalar) -> EvalError {
    const _: () = assert!(MALFORMED_REQUEST_VALUE_FAILS_CLOSED);
    EvalError::new(
        Code::EvalMalformedRequestValue,
        format!("the request value `{}` is not {what}", r.text()),
    )
}

/// The positive test of `base` (for negated operators, of their positive counterpart) between
/// one request value and one policy value. An unresolvable variable in the policy value makes it
/// match nothing (spec §4.3).
fn test(base: OperatorBase, r: &Scalar, p: &ConditionValue, ctx: &Context) -> CondResult {
    use OperatorBase as O;
    let lookup = |k: &str| ctx.variable(k);
    match (&p.parsed, base.family()) {
        (Parsed::Text(t), Family::String) => {
            let text = r.text();
            Ok(match base {
                O::StringEquals | O::StringNotEquals => {
                    t.resolve_text(lookup).is_some_and(|v| v == text)
                }
                O::StringEqualsIgnoreCase | O::StringNotEqualsIgnoreCase => t
                    .resolve_text(lookup)
                    .is_some_and(|v| eq_ignore_case(&v, text)),
                _ => t.resolve(lookup).is_some_and(|g| g.matches(text)),
            })
        }
        (Parsed::Text(t), Family::Arn) => {
            let Some(glob) = t.resolve(lookup) else {
                return Ok(false);
            };
            let Ok(arn) = Arn::parse(r.text()) else {
                return Err(malformed("an ARN", r));
            };
            Ok(ArnPattern::from_toks(glob.toks()).matches(&arn))
        }
        (Parsed::Text(t), Family::Bool) => {
            let want = t.resolve_text(lookup).and_then(|v| parse_bool(&v));
            let got = match r.kind() {
                ScalarKind::Bool(b) => Some(*b),
                _ => parse_bool(r.text()),
            };
            match (want, got) {
                (_, None) => Err(malformed("a boolean", r)),
                (None, _) => Ok(false),
                (Some(w), Some(g)) => Ok(w == g),
            }
        }
        (Parsed::Number(p), Family::Numeric) => {
            let Some(n) = Decimal::parse(r.text()) else {
                return Err(malformed("a number", r));
            };
            Ok(compare(base, n.cmp(p)))
        }
        (Parsed::Date(p), Family::Date) => {
            let d = match r.kind() {
                ScalarKind::Date(d) => Some(*d),
                _ => Instant::parse(r.text()),
            };
            let Some(d) = d else {
                return Err(malformed("a date", r));
            };
            Ok(compare(base, d.cmp(p)))
        }
        (Parsed::Cidr(c), Family::Ip) => {
            let ip = match r.kind() {
                ScalarKind::Ip(ip) => Some(*ip),
                _ => parse_ip(r.text()),
            };
            let Some(ip) = ip else {
                return Err(malformed("an IP address", r));
            };
            Ok(c.contains(ip))
        }
        (Parsed::Binary(p), Family::Binary) => {
            let bytes = match r.kind() {
                ScalarKind::Binary(b) => Some(b.clone()),
                _ => decode_base64(r.text()),
            };
            let Some(bytes) = bytes else {
                return Err(malformed("base64 data", r));
            };
            Ok(&bytes == p)
        }
        _ => Err(EvalError::new(
            Code::EvalValueDoesNotFit,
            format!(
                "the policy value `{}` does not fit the operator {}",
                p.raw,
                base.name()
            ),
        )),
    }
}

/// `StringEqualsIgnoreCase`: equal after simple lower-casing (spec §3.4: no normalisation, no
/// full case folding).
fn eq_ignore_case(a: &str, b: &str) -> bool {
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

fn compare(base: OperatorBase, ord: Ordering) -> bool {
    use OperatorBase as O;
    match base {
        O::NumericEquals | O::NumericNotEquals | O::DateEquals | O::DateNotEquals => {
            ord == Ordering::Equal
        }
        O::NumericLessThan | O::DateLessThan => ord == Ordering::Less,
        O::NumericLessThanEquals | O::DateLessThanEquals => ord != Ordering::Greater,
        O::NumericGreaterThan | O::DateGreaterThan => ord == Ordering::Greater,
        O::NumericGreaterThanEquals | O::DateGreaterThanEquals => ord != Ordering::Less,
        _ => false,
    }
}
