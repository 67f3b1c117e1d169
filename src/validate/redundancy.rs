//! Suggestions: statements that add nothing.
//!
//! | Code | Severity | Meaning |
//! | --- | --- | --- |
//! | `IAM190` | suggestion | A statement made redundant by another statement of the same policy: same effect, and the other one's actions, resources and principals cover this one's, with no condition this one lacks. |
//! | `IAM191` | suggestion | A statement that can never match: none of its actions exists, or none of its actions acts on any resource it lists (each reason also has its own warning). |
//!
//! Coverage is decided on the patterns' text, soundly: a pattern covers another when every
//! string the second matches, the first matches too (`kinesis:*` covers `kinesis:Get*`). Two
//! patterns with policy variables cover each other only when they are the same text. The
//! pairwise comparison is bounded: policies with more than [`MAX_STATEMENTS`] statements are
//! not compared, and the comparison stops after [`MAX_WORK`] steps.

use crate::ast::{
    ActionElement, ActionPattern, Condition, PolicyType, ResourceElement, ResourcePattern,
    Statement,
};
use crate::catalog::ResourceRequirement;
use crate::diag::{Code, Diagnostic, Severity};
use crate::glob::Tok;

use super::resources::{possible_types, shape};
use super::Cx;

/// Policies with more statements than this are not compared pairwise.
pub(crate) const MAX_STATEMENTS: usize = 500;
/// Steps of pattern comparison per policy.
pub(crate) const MAX_WORK: usize = 4_000_000;

pub(super) fn check(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    never_match(cx, out);
    let st = &cx.policy.statements;
    if st.len() < 2 || st.len() > MAX_STATEMENTS {
        return;
    }
    let mut budget = MAX_WORK;
    let mut reported = vec![false; st.len()];
    for j in 1..st.len() {
        for i in 0..j {
            if budget == 0 {
                return;
            }
            let (Some(a), Some(b)) = (st.get(i), st.get(j)) else {
                continue;
            };
            let (redundant, by) = if covers(a, b, &mut budget) {
                (j, i)
            } else if covers(b, a, &mut budget) {
                (i, j)
            } else {
                continue;
            };
            if reported.get(redundant).copied().unwrap_or(true) {
                continue;
            }
            if let Some(r) = reported.get_mut(redundant) {
                *r = true;
            }
            let (Some(red), Some(other)) = (st.get(redundant), st.get(by)) else {
                continue;
            };
            out.push(
                Diagnostic::new(
                    Code::RedundantStatement,
                    Severity::Suggestion,
                    format!(
                        "{} is redundant: {} already {} everything it does",
                        name(red, redundant),
                        name(other, by),
                        if other.effect == crate::ast::Effect::Allow { "allows" } else { "denies" }
                    ),
                    red.loc.clone(),
                )
                .with_help("remove it, or narrow the other statement if this one was meant to be the narrower grant"),
            );
        }
    }
}

fn name(s: &Statement, i: usize) -> String {
    match &s.sid {
        Some(sid) => format!("statement {i} (\"{sid}\")"),
        None => format!("statement {i}"),
    }
}

/// Whether `outer` covers every request `inner` matches.
fn covers(outer: &Statement, inner: &Statement, budget: &mut usize) -> bool {
    outer.effect == inner.effect
        && principals_cover(outer, inner)
        && conditions_cover(&outer.conditions, &inner.conditions)
        && actions_cover(&outer.action, &inner.action, budget)
        && resources_cover(outer.resource.as_ref(), inner.resource.as_ref(), budget)
}

fn principals_cover(outer: &Statement, inner: &Statement) -> bool {
    match (&outer.principal, &inner.principal) {
        (None, None) => true,
        (Some(o), Some(i)) if o.negated || i.negated => o == i,
        (Some(o), Some(i)) => {
            o.values.contains(&crate::ast::PrincipalValue::Anyone)
                || i.values.iter().all(|v| o.values.contains(v))
        }
        _ => false,
    }
}

/// Every condition of `outer` is also one of `inner`'s (so `inner` is at least as narrow).
fn conditions_cover(outer: &[Condition], inner: &[Condition]) -> bool {
    let key = |c: &Condition| {
        let mut v: Vec<&str> = c.values.iter().map(|v| v.raw.as_str()).collect();
        v.sort_unstable();
        (
            c.operator,
            c.key_lc.clone(),
            v.into_iter().map(str::to_string).collect::<Vec<_>>(),
        )
    };
    outer.iter().all(|o| {
        let ko = key(o);
        inner.iter().any(|i| key(i) == ko)
    })
}

/// One list of patterns covers another: for plain elements each inner pattern is covered by
/// some outer one; for negated elements (`NotAction`) the other way round.
fn list_covers<T>(
    outer: &[T],
    inner: &[T],
    negated: bool,
    one: &mut dyn FnMut(&T, &T) -> bool,
) -> bool {
    let (big, small) = if negated {
        (inner, outer)
    } else {
        (outer, inner)
    };
    small.iter().all(|s| big.iter().any(|b| one(b, s)))
}

fn actions_cover(outer: &ActionElement, inner: &ActionElement, budget: &mut usize) -> bool {
    if outer.negated != inner.negated {
        return false;
    }
    list_covers(
        &outer.patterns,
        &inner.patterns,
        outer.negated,
        &mut |o: &ActionPattern, i: &ActionPattern| match (&o.service, &i.service, &o.name, &i.name)
        {
            (None, _, _, _) => true,
            (Some(so), Some(si), Some(no), Some(ni)) => {
                so == si && glob_covers(no.toks(), ni.toks(), budget)
            }
            _ => false,
        },
    )
}

fn resources_cover(
    outer: Option<&ResourceElement>,
    inner: Option<&ResourceElement>,
    budget: &mut usize,
) -> bool {
    let (o, i) = match (outer, inner) {
        (None, None) => return true,
        (Some(o), Some(i)) => (o, i),
        _ => return false,
    };
    if o.negated != i.negated {
        return false;
    }
    list_covers(
        &o.patterns,
        &i.patterns,
        o.negated,
        &mut |a: &ResourcePattern, b: &ResourcePattern| {
            if a.raw == b.raw {
                return true;
            }
            match (a.template.as_glob(), b.template.as_glob()) {
                (Some(ga), Some(gb)) => glob_covers(ga.toks(), gb.toks(), budget),
                _ => false,
            }
        },
    )
}

/// Whether glob `outer` matches every string glob `inner` matches: `outer`'s `*` takes any
/// run of `inner`'s tokens, its `?` one literal or `?`, its literals the same literal. Sound
/// (never says yes wrongly); costs `outer.len() * inner.len()` steps from `budget`, and says no
/// when the budget is spent.
pub(crate) fn glob_covers(outer: &[Tok], inner: &[Tok], budget: &mut usize) -> bool {
    let cost = (outer.len() + 1).saturating_mul(inner.len() + 1);
    if cost > *budget {
        *budget = 0;
        return false;
    }
    *budget -= cost;
    // The literal runs at either end of `outer` must meet the same literals in `inner`, token
    // for token: the table would find exactly that (a literal covers only itself), so these
    // answers are the table's, found without it, and the table runs on the middle alone.
    let lead = outer
        .iter()
        .take_while(|t| matches!(t, Tok::Lit(_)))
        .count();
    if lead == outer.len() {
        return outer == inner;
    }
    if inner.get(..lead) != outer.get(..lead) {
        return false;
    }
    let trail = outer
        .iter()
        .rev()
        .take_while(|t| matches!(t, Tok::Lit(_)))
        .count();
    if inner.len() < lead + trail
        || inner.get(inner.len() - trail..) != outer.get(outer.len() - trail..)
    {
        return false;
    }
    match (
        outer.get(lead..outer.len() - trail),
        inner.get(lead..inner.len() - trail),
    ) {
        (Some(o), Some(i)) => covers_table(o, i),
        _ => false,
    }
}

/// The table of [`glob_covers`]: `row[j]` says `outer[..i]` covers `inner[..j]`.
fn covers_table(outer: &[Tok], inner: &[Tok]) -> bool {
    let mut row = vec![false; inner.len() + 1];
    let mut next = vec![false; inner.len() + 1];
    if let Some(r) = row.first_mut() {
        *r = true;
    }
    for o in outer {
        for j in 0..=inner.len() {
            let here = match o {
                Tok::Star => {
                    row.get(j).copied().unwrap_or(false)
                        || (j > 0 && next.get(j - 1).copied().unwrap_or(false))
                }
                _ => {
                    j > 0
                        && row.get(j - 1).copied().unwrap_or(false)
                        && match (o, inner.get(j - 1)) {
                            (Tok::One, Some(Tok::Lit(_) | Tok::One)) => true,
                            (Tok::Lit(a), Some(Tok::Lit(b))) => a == b,
                            _ => false,
                        }
                }
            };
            if let Some(n) = next.get_mut(j) {
                *n = here;
            }
        }
        std::mem::swap(&mut row, &mut next);
    }
    row.last().copied().unwrap_or(false)
}

/// `IAM191`.
fn never_match(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    if cx.ty == PolicyType::KinesisResource {
        return;
    }
    for (i, stmt, acts) in cx.statements() {
        let Some(infos) = acts.known.as_deref() else {
            continue;
        };
        let Some(res) = &stmt.resource else {
            continue;
        };
        if res.negated {
            continue;
        }
        let reason = if infos.is_empty() {
            "none of its actions exists"
        } else {
            let possible = infos.iter().any(|a| {
                res.patterns.iter().any(|p| {
                    if p.is_star() {
                        return true;
                    }
                    if a.resources == ResourceRequirement::WildcardOnly {
                        return false;
                    }
                    match possible_types(&shape(p)) {
                        None => true,
                        Some(ts) => ts.iter().any(|t| a.resources.types().contains(t)),
                    }
                })
            });
            if possible {
                continue;
            }
            "none of its actions acts on any resource it lists"
        };
        out.push(
            Diagnostic::new(
                Code::UnmatchableStatement,
                Severity::Suggestion,
                format!("{} can never match a request: {reason}", name(stmt, i)),
                stmt.loc.clone(),
            )
            .with_help("fix it (see the warnings on its actions and resources) or remove it"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glob::Glob;

    #[test]
    fn coverage() {
        let c = |o: &str, i: &str| {
            let mut b = MAX_WORK;
            glob_covers(Glob::new(o).toks(), Glob::new(i).toks(), &mut b)
        };
        assert!(c("*", "anything*"));
        assert!(c("kinesis:*", "kinesis:get*"));
        assert!(c("get*", "get?ecords"));
        assert!(c("a*b", "a*x*b"));
        assert!(c("a?c", "abc"));
        assert!(!c("abc", "a?c"));
        assert!(!c("get*", "*"));
        assert!(!c("a*b", "a*"));
        assert!(c("", ""));
        let mut b = 3;
        assert!(!glob_covers(
            Glob::new("abc").toks(),
            Glob::new("abc").toks(),
            &mut b
        ));
        assert_eq!(b, 0);
    }

    /// Every pair of patterns over `a`, `b`, `*`, `?` up to four tokens: the shortcuts of
    /// [`glob_covers`] give the table's answer.
    #[test]
    fn shortcuts_agree_with_the_table() {
        let mut pats = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = last
                .iter()
                .flat_map(|p| ["a", "b", "*", "?"].map(|c| format!("{p}{c}")))
                .collect();
            pats.extend(longer.iter().cloned());
            last = longer;
        }
        let globs: Vec<Glob> = pats.iter().map(|p| Glob::new(p)).collect();
        let mut yes = 0;
        for o in &globs {
            for i in &globs {
                let mut b = MAX_WORK;
                let fast = glob_covers(o.toks(), i.toks(), &mut b);
                assert_eq!(fast, covers_table(o.toks(), i.toks()), "{o:?} {i:?}");
                yes += usize::from(fast);
            }
        }
        assert!(yes > 1_000, "{yes} of {} pairs covered", globs.len().pow(2));
    }
}
