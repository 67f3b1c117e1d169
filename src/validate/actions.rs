//! Actions: names the catalog does not know (spec §1.10: IAM accepts them; they never match).
//!
//! | Code | Severity | Meaning |
//! | --- | --- | --- |
//! | `IAM150` | warning | `kinesis:PutRecordz`: an action of a catalog service that does not exist; names the nearest action. |
//! | `IAM151` | warning | `kinesiss:PutRecord`: a service prefix that is no known service but close to one; names it. |
//! | `IAM152` | warning | `kinesis:Gett*`: a pattern with wildcards that matches no action of its catalog service. |
//! | `IAM153` | warning | `kinesis:Update*` (or `kinesis:List*`, …) in an `Allow` whose `Resource` lists only specific ARNs: the pattern also covers wildcard-only actions (`kinesis:UpdateShardCount`, `kinesis:ListStreams`, …), which are authorized against `"*"` and so are not granted; names those that no statement of the policy grants on `"*"`. |
//!
//! `IAM153` is for patterns that cover both kinds of actions; a pattern or a name that covers
//! only wildcard-only actions is `IAM163`'s (resources), so no action is reported twice. The
//! whole-service `kinesis:*` is left alone: on specific streams it reads as "everything on
//! these streams" (the AWS documentation's example, which the shared validation corpus requires
//! to pass with no finding); a denied wildcard-only action says what it needs at decision time.
//! In a Kinesis resource policy an unknown or wildcard action is already an error (`IAM114`,
//! `IAM110`), so these do not repeat it.

use crate::ast::{Effect, PolicyType, Statement};
use crate::catalog::{self, ActionInfo, ResourceRequirement};
use crate::diag::{Code, Diagnostic, Severity};

use super::{action_name, at_item, list_names, nearest, Cx};

pub(super) fn check(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    if cx.ty == PolicyType::KinesisResource {
        return;
    }
    not_granted_wildcard_only(cx, out);
    for (_, stmt, _) in cx.statements() {
        let element = action_name(stmt);
        let n = stmt.action.patterns.len();
        for (i, a) in stmt.action.patterns.iter().enumerate() {
            let Some(service) = a.service.as_deref() else {
                continue;
            };
            let name = a.raw.split_once(':').map_or("", |(_, n)| n);
            let loc = || at_item(stmt, element, i, n);
            if catalog::knows_service(service) {
                let wildcard = name.contains(['*', '?']);
                if !catalog::matching_actions(a).is_empty() {
                    continue;
                }
                let actions = catalog::service_actions(service);
                if wildcard {
                    out.push(
                        Diagnostic::new(
                            Code::ActionPatternMatchesNothing,
                            Severity::Warning,
                            format!(
                                "\"{}\" matches no {service} action, so it never matches a request",
                                a.raw
                            ),
                            loc(),
                        )
                        .with_help(format!(
                            "{service} actions are named like {}",
                            actions
                                .iter()
                                .take(3)
                                .map(|a| a.full_name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    );
                    continue;
                }
                let near = nearest(name, actions.iter().map(|a| a.name));
                let help = match near {
                    Some(s) => format!("did you mean \"{service}:{s}\"?"),
                    None => format!(
                        "check the spelling against the {service} actions list (names ignore case)"
                    ),
                };
                out.push(
                    Diagnostic::new(
                        Code::UnknownAction,
                        Severity::Warning,
                        format!(
                            "\"{}\" is not a known {service} action; IAM accepts it, but it never matches a request",
                            a.raw
                        ),
                        loc(),
                    )
                    .with_help(help),
                );
            } else if !catalog::is_known_service_prefix(service) {
                let Some(near) = nearest(service, catalog::service_prefixes().iter().copied())
                else {
                    continue;
                };
                out.push(
                    Diagnostic::new(
                        Code::UnknownService,
                        Severity::Warning,
                        format!(
                            "\"{service}\" in \"{}\" is not a known AWS service prefix",
                            a.raw
                        ),
                        loc(),
                    )
                    .with_help(format!("did you mean \"{near}:{name}\"?")),
                );
            }
        }
    }
}

/// Whether `stmt` allows `action` on `"*"`: an `Allow` whose `Action` matches it and whose
/// `Resource` has `"*"` (or whose `NotResource` does not). Conditions are not looked at.
fn allows_on_star(stmt: &Statement, action: &ActionInfo) -> bool {
    let name = action.name.to_ascii_lowercase();
    let action_matches = stmt
        .action
        .patterns
        .iter()
        .any(|p| p.matches_parts(action.service, &name));
    let on_star = match &stmt.resource {
        Some(r) if r.negated => !r.patterns.iter().any(|p| p.is_star()),
        Some(r) => r.patterns.iter().any(|p| p.is_star()),
        None => false,
    };
    stmt.effect == Effect::Allow && action_matches != stmt.action.negated && on_star
}

/// `IAM153`: a pattern that covers resource-scoped and wildcard-only actions, in an `Allow`
/// with only specific resources: the wildcard-only ones are not granted.
fn not_granted_wildcard_only(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    for (stmt, i, n, a) in cx.catalog_actions_on_specific_resources() {
        if stmt.effect != Effect::Allow {
            continue;
        }
        // `kinesis:*` on specific resources reads as "everything on these streams" (the
        // AWS documentation's own example, which the shared validation corpus requires to
        // pass with no finding: identity-seed-4); narrower patterns are the surprise.
        if a.raw.split_once(':').is_some_and(|(_, name)| name == "*") {
            continue;
        }
        let matched = catalog::matching_actions(a);
        let (wildcard_only, scoped): (Vec<&ActionInfo>, Vec<&ActionInfo>) = matched
            .iter()
            .partition(|m| m.resources == ResourceRequirement::WildcardOnly);
        // Only wildcard-only actions: IAM163. None: nothing to say.
        if wildcard_only.is_empty() || scoped.is_empty() {
            continue;
        }
        let missing: Vec<String> = wildcard_only
            .iter()
            .filter(|w| {
                !cx.policy
                    .statements
                    .iter()
                    .any(|other| allows_on_star(other, w))
            })
            .map(|w| w.full_name())
            .collect();
        if missing.is_empty() {
            continue;
        }
        out.push(
            Diagnostic::new(
                Code::PatternMissesWildcardOnlyActions,
                Severity::Warning,
                format!(
                    "\"{}\" with only specific resources does not grant the wildcard-only {} {}: {} authorized against \"*\", and none of these resources is \"*\"",
                    a.raw,
                    if missing.len() == 1 { "action" } else { "actions" },
                    list_names(&missing, 3),
                    if missing.len() == 1 { "it is" } else { "they are" },
                ),
                at_item(stmt, "Action", i, n),
            )
            .with_help(
                "if they are meant, grant them by name in a statement of their own with \"Resource\": \"*\"",
            ),
        );
    }
}
