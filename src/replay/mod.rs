//! Replaying CloudTrail through a store (`iamc replay`): each recorded Kinesis call is turned
//! back into a request and decided by the same [`Authorizer`] every front end uses.
//!
//! Alone, replay measures how far the store agrees with what AWS recorded (a call with no
//! `errorCode` was allowed, one with `AccessDenied…` was denied); against a second store it
//! lists the calls whose decision the change would flip: newly denied (it would break them)
//! and newly allowed (new access), grouped by principal and action.
//!
//! # What is read
//!
//! Files or folders (searched recursively) of CloudTrail records, each file in any of these
//! layouts, gzip-compressed or not (detected by its first bytes): a delivered log file
//! `{"Records": [...]}`, a JSON array of records, or JSON Lines (one record per line). Files are
//! split into records by a scanner that does not parse them, and records are parsed in batches
//! on all cores, so memory holds one batch (16,384 records by default), whatever the file size.
//!
//! # From a record to a request
//!
//! | Request | CloudTrail field |
//! | --- | --- |
//! | which records | `eventSource` = `kinesis.amazonaws.com` (others are counted as another service) |
//! | action | `kinesis:` + `eventName`, which must be in the catalog |
//! | caller | `userIdentity`: see below |
//! | resource | `requestParameters.consumerARN`, `resourceARN`, `streamARN`, then `streamName` as `arn:PARTITION:kinesis:awsRegion:recipientAccountId:stream/NAME` (`recipientAccountId` falls back on `userIdentity.accountId`), then `resources[].ARN`, the first of the type the action takes (catalog); `*` for actions that take none; for StartStreamEncryption / StopStreamEncryption also `requestParameters.keyId` when it is a KMS key ARN |
//! | `aws:CurrentTime`, `aws:EpochTime` | `eventTime` |
//! | `aws:RequestedRegion` | `awsRegion` |
//! | `aws:SourceIp` | `sourceIPAddress`, when it is an IP address (not a service's name) |
//! | `aws:SecureTransport` | `true` when `tlsDetails` is present (absent: the key is not set) |
//! | `aws:MultiFactorAuthPresent` | `userIdentity.sessionContext.attributes.mfaAuthenticated` |
//! | `aws:TokenIssueTime` | `userIdentity.sessionContext.attributes.creationDate` |
//! | `aws:userid` | `userIdentity.principalId` |
//! | `aws:UserAgent` | `userAgent` |
//! | `aws:SourceVpce` | `vpcEndpointId` |
//! | what AWS decided | `errorCode`: absent = allowed; `AccessDenied…` or `…UnauthorizedOperation` = denied; any other = not compared |
//! | examples | `eventID`, `eventTime` |
//!
//! The store then adds what CloudTrail does not carry: principal tags, resource tags, the
//! derived keys (`aws:PrincipalArn`, `aws:PrincipalAccount`, …).
//!
//! | `userIdentity.type` | Replayed as |
//! | --- | --- |
//! | `IAMUser` | the user of `arn`, which the store must have (same path) |
//! | `AssumedRole` | the role session of `arn`; its role is `sessionContext.sessionIssuer.arn` (with its path), which the store must have; the session name is the last part of `arn` |
//! | `FederatedUser` | the federated user of `arn`, which the store's `sessions` must have with its `user` |
//! | `Root` | the account root (`accountId`), whose account the store must have (in `accounts` or the organization) |
//! | `AWSService` | the service principal `invokedBy` |
//! | `AWSAccount` and any other (`SAMLUser`, `WebIdentityUser`, `IdentityCenterUser`, `Unknown`) | not replayed: counted as "identity type not modeled" |
//!
//! A record that cannot be reconstructed is counted under its reason (another service, a
//! missing field, a principal the store does not know, …) with a few examples, and never
//! decided.

pub(crate) mod read;
mod record;

pub mod gen;
#[cfg(test)]
mod tests;

pub use read::{expand, Batch, Records, MAX_RECORD_BYTES};
pub use record::{reconstruct, Event, Record, Recorded, Skip};

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;

use crate::compile::Scratch;
use crate::eval::Outcome;
use crate::Authorizer;

/// How to replay.
#[derive(Clone, Debug)]
pub struct Options {
    /// Records per batch (parsed and decided together).
    pub batch: usize,
    /// Decide the events (`false`: read and reconstruct only, to measure decoding).
    pub decide: bool,
    /// Examples kept per group and kind, and per skip reason.
    pub examples: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            batch: 16_384,
            decide: true,
            examples: 3,
        }
    }
}

/// Records skipped for one reason.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Skipped {
    /// How many.
    pub count: u64,
    /// A few of them: the eventID (when there is one) and the detail.
    pub examples: Vec<String>,
}

/// One event, as an example of a group.
#[derive(Clone, Debug, Serialize)]
pub struct Example {
    /// `aws-allowed-iamc-denied`, `aws-denied-iamc-allowed`, `newly-denied` or `newly-allowed`.
    pub kind: &'static str,
    /// `eventID`.
    pub event_id: String,
    /// `eventTime`.
    pub event_time: String,
    /// The caller's ARN (the session's, for a role session).
    pub caller: String,
    /// The resource.
    pub resource: String,
    /// What AWS recorded: `allowed`, `denied`, or the other `errorCode`.
    pub recorded: String,
    /// The store's decision.
    pub decision: Outcome,
    /// The other store's decision, under `--against`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub against: Option<Outcome>,
}

/// The events of one principal and action.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Group {
    /// The principal: the role's ARN for role sessions, else the caller's.
    pub principal: String,
    /// The action.
    pub action: String,
    /// Events decided.
    pub events: u64,
    /// Events where the store decided as AWS recorded.
    pub agree: u64,
    /// AWS allowed, the store denies.
    pub aws_allowed_iamc_denied: u64,
    /// AWS denied, the store allows.
    pub aws_denied_iamc_allowed: u64,
    /// AWS recorded another error: not compared.
    pub other_error: u64,
    /// Under `--against`: allowed by the store, denied by the other.
    pub newly_denied: u64,
    /// Under `--against`: denied by the store, allowed by the other.
    pub newly_allowed: u64,
    /// A few events of each kind above.
    pub examples: Vec<Example>,
}

/// Where the time went, in seconds of wall time.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Timing {
    /// Waiting for the reader (splitting files into records, gunzip).
    pub read_wait: f64,
    /// Parsing records and reconstructing requests (all cores).
    pub decode: f64,
    /// Completing and deciding the requests (all cores), with both stores under `--against`.
    pub decide: f64,
    /// Counting.
    pub tally: f64,
    /// Everything.
    pub total: f64,
}

/// What a replay found.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Files read.
    pub files: usize,
    /// Bytes read (compressed size for gzip files).
    pub bytes: u64,
    /// Records read.
    pub records: u64,
    /// Events decided.
    pub decided: u64,
    /// Records not decided, by reason.
    pub skipped: BTreeMap<String, Skipped>,
    /// Totals of the groups' counts.
    pub totals: Group,
    /// Whether a second store was compared (`--against`).
    pub against: bool,
    /// Per principal and action, ordered by principal then action.
    pub groups: Vec<Group>,
    /// Where the time went.
    pub timing: Timing,
}

impl Report {
    /// Whether the other store would deny an event the store allows.
    pub fn breaks(&self) -> bool {
        self.totals.newly_denied > 0
    }

    /// Events per second over the whole run.
    pub fn rate(&self) -> f64 {
        if self.timing.total > 0.0 {
            self.records as f64 / self.timing.total
        } else {
            0.0
        }
    }

    fn skip(&mut self, reason: String, detail: String, keep: usize) {
        let s = self.skipped.entry(reason).or_default();
        s.count += 1;
        if s.examples.len() < keep {
            s.examples.push(detail);
        }
    }
}

fn recorded_str(r: &Recorded) -> String {
    match r {
        Recorded::Allowed => "allowed".into(),
        Recorded::Denied => "denied".into(),
        Recorded::OtherError(c) => c.clone(),
    }
}

/// Replays the records of `files` through `base` (and `against`). `progress` is called after
/// each batch with the report so far.
pub fn run(
    files: Vec<PathBuf>,
    base: &Authorizer,
    against: Option<&Authorizer>,
    opts: &Options,
    progress: &mut dyn FnMut(&Report),
) -> Report {
    let started = Instant::now();
    let mut report = Report {
        against: against.is_some(),
        ..Report::default()
    };
    let mut groups: HashMap<(String, String), Group> = HashMap::new();
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Batch, usize)>(2);
    // Batches done with go back to the reader, which reuses their buffers.
    let (back_tx, back_rx) = std::sync::mpsc::sync_channel::<Batch>(4);
    let want = opts.batch.max(1);
    let reader = std::thread::spawn(move || {
        let mut records = Records::new(files);
        while let Some(batch) = records.next_batch(want, back_rx.try_recv().ok()) {
            if tx.send((batch, records.files_read)).is_err() {
                break;
            }
        }
    });
    let (mut wait, mut decode, mut decide, mut tally) = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    loop {
        let t0 = Instant::now();
        let Ok((batch, files)) = rx.recv() else {
            break;
        };
        wait += t0.elapsed();
        report.files = files;
        report.bytes += batch.bytes;
        report.records += batch.spans.len() as u64;
        for (reason, detail) in &batch.problems {
            report.skip((*reason).to_string(), detail.clone(), opts.examples);
        }
        let t1 = Instant::now();
        let store = base.store();
        let events: Vec<Result<Event, (Skip, Option<String>)>> = batch
            .spans
            .par_iter()
            .map(|&(a, b)| {
                let bytes = batch.buf.get(a..b).unwrap_or_default();
                match serde_json::from_slice::<Record<'_>>(bytes) {
                    Ok(rec) => reconstruct(&rec, store)
                        .map_err(|s| (s, rec.event_id.as_deref().map(str::to_string))),
                    Err(e) => Err((Skip::NotJson(e.to_string()), None)),
                }
            })
            .collect();
        decode += t1.elapsed();
        if !opts.decide {
            for e in events {
                match e {
                    Ok(_) => report.decided += 1,
                    Err((s, id)) => report.skip(s.reason(), example(&s, id), opts.examples),
                }
            }
            progress(&report);
            let _ = back_tx.try_send(batch);
            continue;
        }
        let t2 = Instant::now();
        let decisions: Vec<Option<(Outcome, Option<Outcome>)>> = events
            .par_iter()
            .map_init(Scratch::default, |scratch, e| {
                let ev = e.as_ref().ok()?;
                let new = against.map(|a| {
                    let p = a.prepare(ev.request.clone());
                    a.decide_prepared(scratch, &p)
                });
                let p = base.prepare(ev.request.clone());
                Some((base.decide_prepared(scratch, &p), new))
            })
            .collect();
        decide += t2.elapsed();
        let t3 = Instant::now();
        for (e, d) in events.into_iter().zip(decisions) {
            match (e, d) {
                (Ok(ev), Some((old, new))) => {
                    report.decided += 1;
                    tally_event(&mut groups, ev, old, new, opts.examples);
                }
                (Err((s, id)), _) => report.skip(s.reason(), example(&s, id), opts.examples),
                (Ok(_), None) => {}
            }
        }
        tally += t3.elapsed();
        progress(&report);
        let _ = back_tx.try_send(batch);
    }
    let _ = reader.join();
    let mut list: Vec<Group> = groups.into_values().collect();
    list.sort_by(|a, b| (&a.principal, &a.action).cmp(&(&b.principal, &b.action)));
    let t = &mut report.totals;
    for g in &list {
        t.events += g.events;
        t.agree += g.agree;
        t.aws_allowed_iamc_denied += g.aws_allowed_iamc_denied;
        t.aws_denied_iamc_allowed += g.aws_denied_iamc_allowed;
        t.other_error += g.other_error;
        t.newly_denied += g.newly_denied;
        t.newly_allowed += g.newly_allowed;
    }
    report.groups = list;
    report.timing = Timing {
        read_wait: wait.as_secs_f64(),
        decode: decode.as_secs_f64(),
        decide: decide.as_secs_f64(),
        tally: tally.as_secs_f64(),
        total: started.elapsed().as_secs_f64(),
    };
    report
}

fn example(s: &Skip, id: Option<String>) -> String {
    match id {
        Some(id) => format!("{id}: {}", s.detail()),
        None => s.detail(),
    }
}

/// Counts one decided event in its group.
fn tally_event(
    groups: &mut HashMap<(String, String), Group>,
    ev: Event,
    old: Outcome,
    new: Option<Outcome>,
    keep: usize,
) {
    let key = (ev.principal, ev.request.action);
    let g = groups.entry(key).or_insert_with_key(|(p, a)| Group {
        principal: p.clone(),
        action: a.clone(),
        ..Group::default()
    });
    g.events += 1;
    let allowed = old == Outcome::Allow;
    let mut kinds: Vec<&'static str> = Vec::new();
    match (&ev.recorded, allowed) {
        (Recorded::Allowed, true) | (Recorded::Denied, false) => g.agree += 1,
        (Recorded::Allowed, false) => {
            g.aws_allowed_iamc_denied += 1;
            kinds.push("aws-allowed-iamc-denied");
        }
        (Recorded::Denied, true) => {
            g.aws_denied_iamc_allowed += 1;
            kinds.push("aws-denied-iamc-allowed");
        }
        (Recorded::OtherError(_), _) => g.other_error += 1,
    }
    if let Some(n) = new {
        match (allowed, n == Outcome::Allow) {
            (true, false) => {
                g.newly_denied += 1;
                kinds.push("newly-denied");
            }
            (false, true) => {
                g.newly_allowed += 1;
                kinds.push("newly-allowed");
            }
            _ => {}
        }
    }
    for kind in kinds {
        if g.examples.iter().filter(|e| e.kind == kind).count() < keep {
            g.examples.push(Example {
                kind,
                event_id: ev.event_id.clone(),
                event_time: ev.event_time.clone(),
                caller: ev.request.caller.to_string(),
                resource: ev.request.resource.clone(),
                recorded: recorded_str(&ev.recorded),
                decision: old,
                against: new,
            });
        }
    }
}
