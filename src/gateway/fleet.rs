//! A fleet of gateways on one etcd cluster (feature `fleet`, `--state etcd://…`).
//!
//! Keys, under the prefix (default `/iamc/gateway/`):
//!
//! - `policy/ARN`: the resource policy of a stream or consumer, as the client sent it;
//! - `tags/ARN`: the mirrored tags of a stream or consumer, a JSON object;
//! - `iterator-key`: the shard-iterator key, made by the first gateway that needs it (unless
//!   `--iterator-key` gives one).
//!
//! A write reads the key, then commits in a transaction that compares the key's mod revision
//! with the one read, and tries again when another replica wrote in between: no update is lost.
//! It is acknowledged once etcd committed it and this gateway's watch has applied its revision
//! (read-your-writes). Every gateway watches the prefix from its applied revision, applies each
//! batch of events incrementally ([`super::state::apply`]), resumes from that revision after a
//! disconnect, and reloads a full snapshot when etcd compacted past it. Every second the watch
//! asks etcd for a progress notification: each one proves the gateway has every change up to
//! etcd's current revision, and the time since the last one is the staleness that
//! `--max-staleness` bounds.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, DeleteOptions, EventType, GetOptions, Txn, TxnOp,
    WatchOptions,
};

use super::iterator::IteratorKey;
use super::state::{apply, Change, Update, WriteError};
use super::{parse_resource_policy, State};
use crate::store::Tags;

/// How long one etcd call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the watch asks for a progress notification.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// How long a write waits for this gateway's watch to apply it.
const APPLY_WAIT: Duration = Duration::from_secs(5);
/// Attempts of a compare-and-write before it gives up (other replicas kept writing the key).
const ATTEMPTS: usize = 16;

/// What the watch knows of its health.
struct Health {
    /// When the gateway last knew it had every change (a progress notification).
    fresh_at: Instant,
    /// A change that could not be applied: decisions fail closed until a reload succeeds.
    broken: Option<String>,
    /// The last error talking to etcd, cleared by the next progress notification.
    last_error: Option<String>,
}

/// This gateway's view of the etcd cluster.
pub(super) struct Fleet {
    client: Client,
    prefix: String,
    endpoints: Vec<String>,
    /// The etcd revision applied to the live engine.
    applied: tokio::sync::watch::Sender<i64>,
    health: Mutex<Health>,
}

fn unavailable(e: impl std::fmt::Display) -> WriteError {
    WriteError::Unavailable(format!("etcd is not reachable: {e}"))
}

impl Fleet {
    /// Connects (lazily: the first call fails when no member answers).
    pub(super) async fn connect(endpoints: &[String], prefix: &str) -> Result<Fleet, String> {
        let options = ConnectOptions::new()
            .with_connect_timeout(CALL_TIMEOUT)
            .with_timeout(CALL_TIMEOUT)
            .with_keep_alive(Duration::from_secs(1), CALL_TIMEOUT);
        let client = Client::connect(endpoints, Some(options))
            .await
            .map_err(|e| format!("etcd {}: {e}", endpoints.join(",")))?;
        Ok(Fleet {
            client,
            prefix: prefix.to_string(),
            endpoints: endpoints.to_vec(),
            applied: tokio::sync::watch::Sender::new(0),
            health: Mutex::new(Health {
                fresh_at: Instant::now(),
                broken: None,
                last_error: None,
            }),
        })
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        match self.health.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Sets the revision the live engine was built at (at the start).
    pub(super) fn set_applied(&self, revision: i64) {
        self.applied.send_replace(revision);
        self.health().fresh_at = Instant::now();
    }

    /// The revision applied to the live engine.
    pub(super) fn applied(&self) -> i64 {
        *self.applied.borrow()
    }

    fn key(&self, kind: &str, arn: &str) -> String {
        format!("{}{kind}/{arn}", self.prefix)
    }

    /// The update a key's new value (`None`: deleted) makes, or `None` for keys that are not
    /// policies or tags. A value that does not pass the checks is an error: ignoring it could
    /// drop a Deny.
    fn decode(&self, key: &[u8], value: Option<&[u8]>) -> Result<Option<Update>, String> {
        let Some(rest) = key.strip_prefix(self.prefix.as_bytes()) else {
            return Ok(None);
        };
        let rest = String::from_utf8_lossy(rest);
        if let Some(arn) = rest.strip_prefix("policy/") {
            let policy = match value {
                None => None,
                Some(v) => {
                    let text = String::from_utf8_lossy(v).into_owned();
                    let doc = parse_resource_policy(arn, &text).map_err(|errs| {
                        format!(
                            "the resource policy of {arn} in etcd fails the Kinesis rules: {}",
                            errs.join("; ")
                        )
                    })?;
                    Some((text, doc))
                }
            };
            return Ok(Some(Update::Policy(arn.to_string(), policy)));
        }
        if let Some(arn) = rest.strip_prefix("tags/") {
            let tags = match value {
                None => None,
                Some(v) => Some(
                    serde_json::from_slice::<Tags>(v)
                        .map_err(|e| format!("the tags of {arn} in etcd are not valid: {e}"))?,
                ),
            };
            return Ok(Some(Update::Tags(arn.to_string(), tags)));
        }
        Ok(None)
    }

    /// Every policy and tag set under the prefix, and the revision they are at.
    pub(super) async fn snapshot(&self) -> Result<(i64, Vec<Update>), String> {
        let mut kv = self.client.kv_client();
        let got = kv
            .get(self.prefix.clone(), Some(GetOptions::new().with_prefix()))
            .await
            .map_err(|e| format!("cannot read {} from etcd: {e}", self.prefix))?;
        let revision = got.header().map(|h| h.revision()).unwrap_or(0);
        let mut updates = Vec::new();
        for kv in got.kvs() {
            if let Some(u) = self.decode(kv.key(), Some(kv.value()))? {
                updates.push(u);
            }
        }
        Ok((revision, updates))
    }

    /// Replaces the whole overlay with a snapshot (at the start, and after a compaction).
    pub(super) async fn reload(&self, state: &State) -> Result<(), String> {
        let (revision, updates) = self.snapshot().await?;
        let mut writer = state.live.lock().await;
        let mut all = Vec::new();
        let (mut policies, mut tags) = (
            std::collections::BTreeSet::new(),
            std::collections::BTreeSet::new(),
        );
        for u in &updates {
            match u {
                Update::Policy(a, _) => policies.insert(a.clone()),
                Update::Tags(a, _) => tags.insert(a.clone()),
            };
        }
        for a in writer
            .overlay
            .policies
            .keys()
            .filter(|a| !policies.contains(*a))
        {
            all.push(Update::Policy(a.clone(), None));
        }
        for a in writer.overlay.tags.keys().filter(|a| !tags.contains(*a)) {
            all.push(Update::Tags(a.clone(), None));
        }
        all.extend(updates);
        apply(state, &mut writer, all)?;
        self.applied.send_replace(revision);
        let mut h = self.health();
        h.broken = None;
        h.fresh_at = Instant::now();
        Ok(())
    }

    /// The shared shard-iterator key: the one in etcd, or a new random one stored there when
    /// there is none (the first gateway's wins).
    pub(super) async fn iterator_key(&self) -> Result<IteratorKey, String> {
        let key = format!("{}iterator-key", self.prefix);
        let fresh = IteratorKey::random_text()?;
        let txn = Txn::new()
            .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key.clone(), fresh, None)]);
        let mut kv = self.client.kv_client();
        kv.txn(txn)
            .await
            .map_err(|e| format!("cannot store the shard-iterator key in etcd: {e}"))?;
        let got = kv
            .get(key.clone(), None)
            .await
            .map_err(|e| format!("cannot read the shard-iterator key from etcd: {e}"))?;
        let value = got
            .kvs()
            .first()
            .map(|kv| kv.value().to_vec())
            .ok_or_else(|| format!("etcd has no {key}"))?;
        IteratorKey::from_text(&value).map_err(|e| format!("etcd {key}: {e}"))
    }

    /// Commits `change`; returns the revision to wait for (`None`: nothing changed).
    pub(super) async fn commit(&self, change: &Change) -> Result<Option<i64>, WriteError> {
        let mut kv = self.client.kv_client();
        if let Change::Forget { arn } = change {
            let mut ops = Vec::new();
            for kind in ["policy", "tags"] {
                ops.push(TxnOp::delete(self.key(kind, arn), None));
                ops.push(TxnOp::delete(
                    format!("{}/consumer/", self.key(kind, arn)),
                    Some(DeleteOptions::new().with_prefix()),
                ));
            }
            let r = kv
                .txn(Txn::new().and_then(ops))
                .await
                .map_err(unavailable)?;
            let deleted: i64 = r
                .op_responses()
                .iter()
                .map(|o| match o {
                    etcd_client::TxnOpResponse::Delete(d) => d.deleted(),
                    _ => 0,
                })
                .sum();
            return Ok((deleted > 0).then(|| r.header().map(|h| h.revision()).unwrap_or(0)));
        }
        let (kind, arn) = match change {
            Change::PutPolicy { arn, .. } | Change::DeletePolicy { arn } => {
                ("policy", arn.as_str())
            }
            _ => ("tags", change.arn()),
        };
        let key = self.key(kind, arn);
        for _ in 0..ATTEMPTS {
            let got = kv.get(key.clone(), None).await.map_err(unavailable)?;
            let (seen, old) = match got.kvs().first() {
                Some(kv) => (kv.mod_revision(), Some(kv.value().to_vec())),
                None => (0, None),
            };
            let new = next_value(change, old.as_deref())?;
            let op = match new {
                Some(v) => TxnOp::put(key.clone(), v, None),
                None => TxnOp::delete(key.clone(), None),
            };
            // Committed only if nobody wrote the key since it was read (0: it still does not
            // exist).
            let txn = Txn::new()
                .when([Compare::mod_revision(key.clone(), CompareOp::Equal, seen)])
                .and_then([op]);
            let r = kv.txn(txn).await.map_err(unavailable)?;
            if r.succeeded() {
                return Ok(Some(r.header().map(|h| h.revision()).unwrap_or(0)));
            }
        }
        Err(WriteError::Unavailable(format!(
            "{key} kept changing under {ATTEMPTS} attempts to write it; retry"
        )))
    }

    /// Waits until the live engine has applied `revision`.
    pub(super) async fn wait_applied(&self, revision: Option<i64>) -> Result<(), WriteError> {
        let Some(revision) = revision else {
            return Ok(());
        };
        let mut rx = self.applied.subscribe();
        let applied = tokio::time::timeout(APPLY_WAIT, rx.wait_for(|a| *a >= revision))
            .await
            .is_ok_and(|r| r.is_ok());
        match applied {
            true => Ok(()),
            false => Err(WriteError::Unavailable(format!(
                "etcd committed the change at revision {revision}, but this gateway has not \
                 applied it within {APPLY_WAIT:?} (it is at {}); retry",
                self.applied()
            ))),
        }
    }

    /// Why decisions must fail closed now, if they must.
    pub(super) fn refuse_decisions(&self, max: Duration) -> Option<String> {
        let h = self.health();
        if let Some(b) = &h.broken {
            return Some(format!(
                "the gateway's shared policy state could not be applied: {b}"
            ));
        }
        let age = h.fresh_at.elapsed();
        (age > max).then(|| {
            format!(
                "the gateway's shared policy state (etcd {}, revision {}) was last confirmed {:.1} s \
                 ago, more than --max-staleness {} s: requests are refused until etcd is reachable{}",
                self.endpoints.join(","),
                self.applied(),
                age.as_secs_f64(),
                max.as_secs(),
                h.last_error
                    .as_ref()
                    .map(|e| format!(" (last error: {e})"))
                    .unwrap_or_default()
            )
        })
    }

    /// `/-/status`'s `state`.
    pub(super) fn status(&self, max: Duration) -> serde_json::Value {
        let h = self.health();
        let age = h.fresh_at.elapsed();
        serde_json::json!({
            "backend": "etcd",
            "endpoints": self.endpoints,
            "prefix": self.prefix,
            "applied_revision": self.applied(),
            "staleness_ms": u64::try_from(age.as_millis()).unwrap_or(u64::MAX),
            "max_staleness_ms": u64::try_from(max.as_millis()).unwrap_or(u64::MAX),
            "fresh": h.broken.is_none() && age <= max,
            "broken": h.broken,
            "last_error": h.last_error,
        })
    }

    fn note_error(&self, e: impl std::fmt::Display) {
        self.health().last_error = Some(e.to_string());
    }

    /// Watches the prefix until `shutdown`, applying every change (see the module's doc).
    pub(super) async fn watch(
        self: Arc<Self>,
        state: Arc<State>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut backoff = Duration::from_millis(50);
        loop {
            if *shutdown.borrow() {
                return;
            }
            // A change that could not be applied: decisions stay refused until a snapshot that
            // applies whole (the bad value fixed in etcd) is loaded.
            let broken = self.health().broken.is_some();
            let ended = if broken {
                match self.reload(&state).await {
                    Ok(()) => {
                        eprintln!(
                            "iamc gateway: the shared state applies again at etcd revision {}",
                            self.applied()
                        );
                        Ok(false)
                    }
                    Err(e) => Err(e),
                }
            } else {
                self.watch_once(&state, &mut shutdown).await
            };
            match ended {
                Ok(true) => return,
                Ok(false) => backoff = Duration::from_millis(50),
                Err(e) => {
                    self.note_error(&e);
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
        }
    }

    /// One watch stream, from the applied revision: `Ok(true)` at shutdown, `Ok(false)` when
    /// it should be opened again at once (after a reload), `Err` when etcd failed.
    async fn watch_once(
        &self,
        state: &State,
        shutdown: &mut tokio::sync::watch::Receiver<bool>,
    ) -> Result<bool, String> {
        let options = WatchOptions::new()
            .with_prefix()
            .with_start_revision(self.applied() + 1)
            .with_progress_notify();
        let stream = self
            .client
            .watch_client()
            .watch(self.prefix.clone(), Some(options))
            .await
            .map_err(|e| format!("cannot watch {}: {e}", self.prefix))?;
        let (mut sender, mut stream) = stream.split();
        let mut tick = tokio::time::interval(PROGRESS_EVERY);
        loop {
            tokio::select! {
                _ = shutdown.changed() => return Ok(true),
                _ = tick.tick() => {
                    sender.request_progress().await.map_err(|e| format!("watch: {e}"))?;
                }
                message = stream.message() => {
                    let Some(resp) = message.map_err(|e| format!("watch: {e}"))? else {
                        return Err("the watch stream ended".into());
                    };
                    if resp.compact_revision() > 0 || resp.canceled() {
                        // Compacted past the applied revision: a full snapshot, then a new watch.
                        let from = self.applied();
                        self.reload(state).await.inspect_err(|e| {
                            self.health().broken = Some(e.clone());
                        })?;
                        eprintln!(
                            "iamc gateway: etcd compacted its history past revision {from} \
                             (to {}); reloaded a snapshot at revision {}",
                            resp.compact_revision(),
                            self.applied()
                        );
                        return Ok(false);
                    }
                    if resp.events().is_empty() {
                        if !resp.created() {
                            // A progress notification: every change up to its revision is here.
                            let rev = resp.header().map(|h| h.revision()).unwrap_or(0);
                            self.applied.send_if_modified(|a| {
                                let newer = rev > *a;
                                if newer {
                                    *a = rev;
                                }
                                newer
                            });
                            let mut h = self.health();
                            h.fresh_at = Instant::now();
                            h.last_error = None;
                        }
                        continue;
                    }
                    self.apply_events(state, &resp).await?;
                }
            }
        }
    }

    /// Applies one watch response's events; on error decisions are refused (fail closed) and
    /// the error is returned, so that the watch reloads.
    async fn apply_events(
        &self,
        state: &State,
        resp: &etcd_client::WatchResponse,
    ) -> Result<(), String> {
        let mut updates = Vec::new();
        let mut last = self.applied();
        let mut failed = None;
        for ev in resp.events() {
            let Some(kv) = ev.kv() else { continue };
            last = last.max(kv.mod_revision());
            let value = match ev.event_type() {
                EventType::Put => Some(kv.value()),
                EventType::Delete => None,
            };
            match self.decode(kv.key(), value) {
                Ok(Some(u)) => updates.push(u),
                Ok(None) => {}
                Err(e) => failed = Some(e),
            }
        }
        let mut writer = state.live.lock().await;
        if failed.is_none() {
            if let Err(e) = apply(state, &mut writer, updates) {
                failed = Some(e);
            }
        }
        drop(writer);
        if let Some(e) = failed {
            // Fail closed: this change is not in the engine, so no decision may be made until a
            // reload takes the state whole.
            eprintln!("iamc gateway: error: etcd revision {last}: {e}; decisions are refused");
            self.health().broken = Some(e.clone());
            return Err(e);
        }
        self.applied.send_replace(last);
        Ok(())
    }
}

/// The value `change` leaves in its key, from the value there now (`None`: absent);
/// `Ok(None)` deletes the key.
fn next_value(change: &Change, old: Option<&[u8]>) -> Result<Option<String>, WriteError> {
    use super::db::{MAX_POLICY_BYTES, MAX_TAGS_PER_RESOURCE};
    let tags = |old: Option<&[u8]>| -> Result<Tags, WriteError> {
        match old {
            None => Ok(Tags::new()),
            Some(v) => serde_json::from_slice(v)
                .map_err(|e| WriteError::Failed(format!("the tags in etcd are not valid: {e}"))),
        }
    };
    let encode = |t: Tags| -> Result<Option<String>, WriteError> {
        if t.len() > MAX_TAGS_PER_RESOURCE {
            return Err(WriteError::Failed(format!(
                "a resource has at most {MAX_TAGS_PER_RESOURCE} mirrored tags"
            )));
        }
        if t.is_empty() {
            return Ok(None);
        }
        serde_json::to_string(&t)
            .map(Some)
            .map_err(|e| WriteError::Failed(e.to_string()))
    };
    match change {
        Change::PutPolicy { text, .. } => {
            if text.len() > MAX_POLICY_BYTES {
                return Err(WriteError::Failed(format!(
                    "the policy has {} bytes; at most {MAX_POLICY_BYTES} are stored",
                    text.len()
                )));
            }
            Ok(Some(text.clone()))
        }
        Change::DeletePolicy { .. } => match old {
            Some(_) => Ok(None),
            None => Err(WriteError::NoPolicy),
        },
        Change::AddTags { tags: add, .. } => {
            let mut t = tags(old)?;
            t.extend(add.iter().map(|(k, v)| (k.clone(), v.clone())));
            encode(t)
        }
        Change::RemoveTags { keys, .. } => {
            let mut t = tags(old)?;
            for k in keys {
                t.remove(k);
            }
            encode(t)
        }
        Change::Forget { .. } => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const ARN: &str = "arn:aws:kinesis:us-east-1:111122223333:stream/s";

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn tag_writes_merge_with_what_etcd_holds() {
        let add = Change::AddTags {
            arn: ARN.into(),
            tags: tags(&[("env", "dev"), ("team", "a")]),
        };
        let first = next_value(&add, None).unwrap().unwrap();
        let held = br#"{"env":"prod","owner":"x"}"#;
        let merged: Tags =
            serde_json::from_str(&next_value(&add, Some(held)).unwrap().unwrap()).unwrap();
        assert_eq!(
            merged,
            tags(&[("env", "dev"), ("owner", "x"), ("team", "a")])
        );
        let remove = Change::RemoveTags {
            arn: ARN.into(),
            keys: vec!["env".into(), "team".into()],
        };
        // Removing the last tags deletes the key.
        assert_eq!(next_value(&remove, Some(first.as_bytes())).unwrap(), None);
        assert!(matches!(
            next_value(&add, Some(b"not json")),
            Err(WriteError::Failed(_))
        ));
    }

    #[test]
    fn deleting_an_absent_policy_is_not_found() {
        let del = Change::DeletePolicy { arn: ARN.into() };
        assert!(matches!(next_value(&del, None), Err(WriteError::NoPolicy)));
        assert_eq!(next_value(&del, Some(b"{}")).unwrap(), None);
    }
}
