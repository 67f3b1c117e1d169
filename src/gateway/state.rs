//! Where the gateway keeps the state it shares with the API's callers: resource policies set
//! with `PutResourcePolicy`, mirrored tags and the shard-iterator key. Either a SQLite file on
//! this node (`sqlite:PATH`, `--db PATH`: one gateway) or an etcd cluster that a fleet of
//! gateways shares (`etcd://HOST:PORT[,HOST:PORT…][/PREFIX]`, feature `fleet`).
//!
//! The proxy sees one seam: a [`Change`] is written with [`write`], which returns once the
//! change is durable *and* this gateway decides with it (read-your-writes), and the resulting
//! [`Update`]s go through [`apply`], which swaps in an engine where only the touched resource's
//! policy was compiled again. With etcd the updates come from the watch of every replica,
//! this one included ([`super::fleet`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::iterator::IteratorKey;
use super::{build_live, Live, Overlay, State};
use crate::ast::PolicyDoc;
use crate::store::Tags;

/// Where the shared state lives (`--state`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateUrl {
    /// A SQLite database file on this node.
    Sqlite(PathBuf),
    /// An etcd cluster: its client endpoints (`http://HOST:PORT`) and the key prefix, which
    /// ends with `/`.
    Etcd {
        /// `http://HOST:PORT` of each member.
        endpoints: Vec<String>,
        /// Every key of the gateway starts with it; it ends with `/`.
        prefix: String,
    },
}

/// The key prefix when an etcd URL names none.
pub const DEFAULT_ETCD_PREFIX: &str = "/iamc/gateway/";

impl StateUrl {
    /// Reads `sqlite:PATH` or `etcd://HOST:PORT[,HOST:PORT…][/PREFIX]`.
    pub fn parse(text: &str) -> Result<StateUrl, String> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(format!("--state `{text}`: sqlite:PATH needs a path"));
            }
            return Ok(StateUrl::Sqlite(PathBuf::from(path)));
        }
        let Some(rest) = text.strip_prefix("etcd://") else {
            return Err(format!(
                "--state `{text}`: expected sqlite:PATH or etcd://HOST:PORT[,HOST:PORT...][/PREFIX]"
            ));
        };
        let (hosts, prefix) = match rest.split_once('/') {
            Some((h, p)) => (h, p),
            None => (rest, ""),
        };
        let mut endpoints = Vec::new();
        for host in hosts.split(',') {
            let ok = host
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0));
            if !ok {
                return Err(format!(
                    "--state `{text}`: `{host}` is not HOST:PORT (etcd's client port, e.g. 127.0.0.1:2379)"
                ));
            }
            endpoints.push(format!("http://{host}"));
        }
        let prefix = match prefix.trim_matches('/') {
            "" => DEFAULT_ETCD_PREFIX.to_string(),
            p => format!("/{p}/"),
        };
        Ok(StateUrl::Etcd { endpoints, prefix })
    }
}

/// What a write asks for (from the policy API or from a successful tagging call).
#[derive(Debug, Clone)]
pub(super) enum Change {
    /// `PutResourcePolicy`: the text as sent, parsed and checked.
    PutPolicy {
        arn: String,
        text: String,
        doc: Arc<PolicyDoc>,
    },
    /// `DeleteResourcePolicy`.
    DeletePolicy { arn: String },
    /// Tags added (or changed) on a stream or consumer.
    AddTags { arn: String, tags: Tags },
    /// Tags removed.
    RemoveTags { arn: String, keys: Vec<String> },
    /// A deleted stream: its policy and tags, and those of its consumers, go.
    Forget { arn: String },
}

impl Change {
    pub(super) fn arn(&self) -> &str {
        match self {
            Change::PutPolicy { arn, .. }
            | Change::DeletePolicy { arn }
            | Change::AddTags { arn, .. }
            | Change::RemoveTags { arn, .. }
            | Change::Forget { arn } => arn,
        }
    }
}

/// One resource's new state, as the engine takes it.
#[derive(Debug, Clone)]
pub(super) enum Update {
    /// The resource policy of an ARN: set (text, parsed) or removed.
    Policy(String, Option<(String, Arc<PolicyDoc>)>),
    /// The mirrored tags of an ARN, whole: set or removed.
    Tags(String, Option<Tags>),
}

/// Why a write was not done (or not acknowledged).
#[derive(Debug)]
pub(super) enum WriteError {
    /// `DeleteResourcePolicy` of a resource without one.
    NoPolicy,
    /// The shared state cannot be reached now: retry (HTTP 503). Only etcd is ever unreachable.
    #[cfg_attr(not(feature = "fleet"), allow(dead_code))]
    Unavailable(String),
    /// Anything else (HTTP 500).
    Failed(String),
}

/// The updates that make the overlay `overlay` show `change`, as the SQLite path applies it.
pub(super) fn updates_of(overlay: &Overlay, change: &Change) -> Vec<Update> {
    match change {
        Change::PutPolicy { arn, text, doc } => vec![Update::Policy(
            arn.clone(),
            Some((text.clone(), Arc::clone(doc))),
        )],
        Change::DeletePolicy { arn } => vec![Update::Policy(arn.clone(), None)],
        Change::AddTags { arn, tags } => {
            let mut t = overlay.tags.get(arn).cloned().unwrap_or_default();
            t.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
            vec![Update::Tags(arn.clone(), Some(t))]
        }
        Change::RemoveTags { arn, keys } => {
            let mut t = overlay.tags.get(arn).cloned().unwrap_or_default();
            for k in keys {
                t.remove(k);
            }
            vec![Update::Tags(arn.clone(), Some(t))]
        }
        Change::Forget { arn } => {
            let consumers = format!("{arn}/consumer/");
            let hit = |a: &String| a == arn || a.starts_with(&consumers);
            let mut out: Vec<Update> = overlay
                .policies
                .keys()
                .filter(|a| hit(a))
                .map(|a| Update::Policy(a.clone(), None))
                .collect();
            out.extend(
                overlay
                    .tags
                    .keys()
                    .filter(|a| hit(a))
                    .map(|a| Update::Tags(a.clone(), None)),
            );
            out
        }
    }
}

/// Applies `updates` to the overlay and swaps in the engine that decides with them, under the
/// update lock `writer`. Policy changes recompile only the touched resource's policy; a tag
/// change rebuilds from the live engine (only new lists of policies are compiled). On error
/// nothing is published and the overlay is unchanged.
pub(super) fn apply(
    state: &State,
    writer: &mut crate::runtime::engine::Locked<'_, Arc<Live>, super::Writer>,
    updates: Vec<Update>,
) -> Result<(), String> {
    if updates.is_empty() {
        return Ok(());
    }
    let live = writer.live();
    let mut overlay = writer.overlay.clone();
    let mut tags_changed = false;
    let mut policies = Vec::new();
    for u in updates {
        match u {
            Update::Policy(arn, Some(p)) => {
                policies.push((arn.clone(), Some(Arc::clone(&p.1))));
                overlay.policies.insert(arn, p);
            }
            Update::Policy(arn, None) => {
                overlay.policies.remove(&arn);
                policies.push((arn, None));
            }
            Update::Tags(arn, Some(t)) if !t.is_empty() => {
                tags_changed = true;
                overlay.tags.insert(arn, t);
            }
            Update::Tags(arn, _) => {
                tags_changed |= overlay.tags.remove(&arn).is_some();
            }
        }
    }
    // A policy the store file sets wins (build_live skips the overlay's there).
    let in_file = policies
        .iter()
        .any(|(arn, _)| live.base.resource(arn).is_some_and(|r| r.policy.is_some()));
    let next = if tags_changed || in_file {
        build_live(
            live.version,
            Arc::clone(&live.base),
            Arc::clone(&live.credentials),
            &overlay,
            state.config.semantics.clone(),
            Some(&live.authorizer),
        )
        .map_err(|e| e.0)?
    } else {
        let mut next: Option<Live> = None;
        for (arn, doc) in policies {
            let from = next.as_ref().unwrap_or(&live);
            next = Some(
                from.with_resource_policy(&arn, doc)
                    .map_err(|e| format!("the policy of {arn} was not applied: {e}"))?,
            );
        }
        match next {
            Some(n) => n,
            None => return Ok(()),
        }
    };
    writer.overlay = overlay;
    writer.publish(Arc::new(next));
    Ok(())
}

/// Writes `change` to the shared state and returns once this gateway decides with it.
pub(super) async fn write(state: &State, change: Change) -> Result<(), WriteError> {
    match &state.shared {
        Shared::Sqlite => write_sqlite(state, change).await,
        #[cfg(feature = "fleet")]
        Shared::Etcd(fleet) => {
            let revision = fleet.commit(&change).await?;
            fleet.wait_applied(revision).await
        }
    }
}

async fn write_sqlite(state: &State, change: Change) -> Result<(), WriteError> {
    let mut writer = state.live.lock().await;
    let w = &mut *writer;
    let Some(db) = w.db.as_mut() else {
        return Err(WriteError::Failed("no database is open".into()));
    };
    let stored = tokio::task::block_in_place(|| match &change {
        Change::PutPolicy { arn, text, .. } => db.put_policy(arn, text).map(|_| true),
        Change::DeletePolicy { arn } => db.delete_policy(arn),
        Change::AddTags { arn, tags } => db.add_tags(arn, tags).map(|_| true),
        Change::RemoveTags { arn, keys } => db.remove_tags(arn, keys).map(|_| true),
        Change::Forget { arn } => db.forget_resource(arn).map(|_| true),
    });
    match stored {
        Ok(true) => {}
        Ok(false) => return Err(WriteError::NoPolicy),
        Err(e) => return Err(WriteError::Failed(e.to_string())),
    }
    let updates = updates_of(&writer.overlay, &change);
    // The database has the change: were the engine not to follow, the next start would.
    apply(state, &mut writer, updates).map_err(|e| {
        WriteError::Failed(format!(
            "stored, but the engine was not updated (it will be at the next start): {e}"
        ))
    })
}

/// Which shared state a running gateway uses.
pub(super) enum Shared {
    /// The SQLite database (in the update lock's [`super::Writer`]).
    Sqlite,
    /// An etcd cluster.
    #[cfg(feature = "fleet")]
    Etcd(Arc<super::fleet::Fleet>),
}

impl Shared {
    /// `None` when decisions may use the applied state; else why not (the request fails
    /// closed): the shared state is older than `--max-staleness`, or could not be applied.
    pub(super) fn refuse_decisions(&self, _max: Duration) -> Option<String> {
        match self {
            Shared::Sqlite => None,
            #[cfg(feature = "fleet")]
            Shared::Etcd(fleet) => fleet.refuse_decisions(_max),
        }
    }

    /// The etcd revision applied (0 for SQLite, whose revision the database keeps).
    pub(super) fn revision(&self) -> u64 {
        match self {
            Shared::Sqlite => 0,
            #[cfg(feature = "fleet")]
            Shared::Etcd(fleet) => u64::try_from(fleet.applied()).unwrap_or(0),
        }
    }

    /// What `/-/status` says of the shared state.
    pub(super) fn status(&self, _max: Duration) -> serde_json::Value {
        match self {
            Shared::Sqlite => serde_json::json!({"backend": "sqlite"}),
            #[cfg(feature = "fleet")]
            Shared::Etcd(fleet) => fleet.status(_max),
        }
    }
}

/// The shard-iterator key for a SQLite gateway without `--iterator-key`: the file beside the
/// database (`DB.iterator-key`), made with a random key when missing.
pub(super) fn local_iterator_key(db: &Path) -> Result<IteratorKey, String> {
    let mut name = db.as_os_str().to_owned();
    name.push(".iterator-key");
    let path = PathBuf::from(name);
    match std::fs::read(&path) {
        Ok(bytes) => IteratorKey::from_text(&bytes).map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let text = IteratorKey::random_text()?;
            write_private(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
            IteratorKey::from_text(text.as_bytes())
        }
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// The key in `--iterator-key FILE`.
pub(super) fn file_iterator_key(path: &Path) -> Result<IteratorKey, String> {
    let bytes =
        std::fs::read(path).map_err(|e| format!("--iterator-key {}: {e}", path.display()))?;
    IteratorKey::from_text(&bytes).map_err(|e| format!("--iterator-key {}: {e}", path.display()))
}

/// Creates `path` (it must not exist) readable by its owner only, with `text`.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn state_urls() {
        assert_eq!(
            StateUrl::parse("sqlite:/var/lib/gw.db").unwrap(),
            StateUrl::Sqlite("/var/lib/gw.db".into())
        );
        assert_eq!(
            StateUrl::parse("etcd://10.0.0.1:2379,10.0.0.2:2379/prod/kinesis").unwrap(),
            StateUrl::Etcd {
                endpoints: vec!["http://10.0.0.1:2379".into(), "http://10.0.0.2:2379".into()],
                prefix: "/prod/kinesis/".into()
            }
        );
        assert_eq!(
            StateUrl::parse("etcd://localhost:2379").unwrap(),
            StateUrl::Etcd {
                endpoints: vec!["http://localhost:2379".into()],
                prefix: DEFAULT_ETCD_PREFIX.into()
            }
        );
        for bad in [
            "",
            "sqlite:",
            "etcd://",
            "etcd://host",
            "etcd://h:0",
            "redis://h:1",
            "etcd://:1",
        ] {
            assert!(StateUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
