//! Stage 5: questions about a whole store, answered exactly by the engine: who can do an action
//! on a resource, directly or through a chain of role assumptions ([`who_can`]); what one
//! principal can do ([`what_can`]); whether a policy change grants anything new ([`diff`]); and
//! which resources a resource policy opens to other accounts or to anyone, and whether actions are granted at all ([`checks`]).
//!
//! Every answer is a set of concrete requests that the [`Authorizer`] decided: the analysis
//! never re-implements a rule of the decision flow. Where the space of requests is infinite
//! (names, context values), an answer that cannot be proved over it says so (`unknown`, with
//! the reason), never a false "no".
//!
//! The principals are the store's: every user, role (as the bare role ARN, which the engine
//! treats as a session of the role) and session it lists, and each account's root user.
//! Principals the store does not hold (another account's, anyone) are reported symbolically,
//! from the resource policies that let them in.

pub mod checks;
pub mod diff;
pub mod graph;
pub mod what_can;
pub mod who_can;

use std::sync::Arc;

use serde::Serialize;

use crate::compile::Scratch;
use crate::eval::Decision;
use crate::request::{Caller, Context, Request};
use crate::store::Store;
use crate::Authorizer;

pub use graph::PrincipalGraph;

/// What kind of principal a store entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrincipalKind {
    /// The account's root user.
    Root,
    /// An IAM user.
    User,
    /// An IAM role (its sessions act with its permissions).
    Role,
    /// A role session or federated-user session the store lists.
    Session,
}

/// A principal of the store.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Principal {
    /// Its ARN: `arn:aws:iam::A:user/P/N`, `…:role/P/N`, `…:root`, or the session's ARN.
    pub arn: String,
    /// Its kind.
    pub kind: PrincipalKind,
    /// Its account.
    pub account: String,
}

/// Every principal of `store`, sorted by ARN.
pub fn principals(store: &Store) -> Vec<Principal> {
    let mut out = Vec::new();
    for acct in store.accounts() {
        let account = acct.id.clone();
        out.push(Principal {
            arn: format!("arn:aws:iam::{account}:root"),
            kind: PrincipalKind::Root,
            account: account.clone(),
        });
        for u in acct.users() {
            out.push(Principal {
                arn: format!("arn:aws:iam::{account}:user{}{}", u.path, u.name),
                kind: PrincipalKind::User,
                account: account.clone(),
            });
        }
        for r in acct.roles() {
            out.push(Principal {
                arn: r.arn(&account),
                kind: PrincipalKind::Role,
                account: account.clone(),
            });
        }
    }
    for s in store.sessions() {
        if let Ok(c) = Caller::parse(&s.arn) {
            if let Some(account) = c.account() {
                out.push(Principal {
                    arn: s.arn.clone(),
                    kind: PrincipalKind::Session,
                    account: account.to_string(),
                });
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The engine, the store's principals and the context every question is asked in.
pub struct Analyzer<'a> {
    auth: &'a Authorizer,
    principals: Vec<Principal>,
    context: Arc<Context>,
}

impl<'a> Analyzer<'a> {
    /// An analyzer over `auth`'s store; every request it decides carries `context` (plus the
    /// keys the store and the caller give).
    pub fn new(auth: &'a Authorizer, context: Context) -> Analyzer<'a> {
        Analyzer {
            principals: principals(auth.store()),
            auth,
            context: Arc::new(context),
        }
    }

    /// The store's principals.
    pub fn principals(&self) -> &[Principal] {
        &self.principals
    }

    /// The engine.
    pub fn authorizer(&self) -> &Authorizer {
        self.auth
    }

    /// The request `caller` asks for `action` on `resource`, in the analysis' context.
    pub fn request(&self, caller: Caller, action: &str, resource: &str) -> Request {
        let mut req = Request::new(caller, action, resource);
        req.context.push_layer(Arc::clone(&self.context));
        req
    }

    /// [`Analyzer::request`] completed from the store ([`Store::prepare`]).
    pub fn auth_request(&self, caller: Caller, action: &str, resource: &str) -> Request {
        let mut req = self.request(caller, action, resource);
        self.auth.store().prepare(&mut req);
        req
    }

    /// Decides `principal`'s request for `action` on `resource` with the engine.
    pub fn decide(
        &self,
        scratch: &mut Scratch,
        principal: &str,
        action: &str,
        resource: &str,
    ) -> Option<Decision> {
        let caller = Caller::parse(principal).ok()?;
        let prepared = self.auth.prepare(self.request(caller, action, resource));
        Some(self.auth.authorize_prepared(scratch, &prepared))
    }
}
