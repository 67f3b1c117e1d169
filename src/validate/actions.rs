//! Actions: names the catalog does not know (spec §1.10: IAM accepts them; they never match).
//!
//! | Code | Severity | Meaning |
//! | --- | --- | --- |
//! | `IAM150` | warning | `kinesis:PutRecordz`: an action of a catalog service that does not exist; names the nearest action. |
//! | `IAM151` | warning | `kinesiss:PutRecord`: a service prefix that is no known service but close to one; names it. |
//! | `IAM152` | warning | `kinesis:Gett*`: a pattern with wildcards that matches no action of its catalog service. |
//!
//! In a Kinesis resource policy an unknown or wildcard action is already an error (`IAM114`,
//! `IAM110`), so these do not repeat it.

use crate::ast::PolicyType;
use crate::catalog;
use crate::diag::{Diagnostic, Severity};

use super::{action_name, at_item, nearest, Cx};

pub(super) fn check(cx: &Cx<'_>, out: &mut Vec<Diagnostic>) {
    if cx.ty == PolicyType::KinesisResource {
        return;
    }
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
                            "IAM152",
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
                        "IAM150",
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
                        "IAM151",
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
