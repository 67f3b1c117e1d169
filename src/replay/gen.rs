//! Synthetic CloudTrail records for measuring replay (`iamc replay --generate`): Kinesis calls
//! by the store's users and role sessions on its streams and on made-up ones, with the fields a
//! real record has (about 1 KB each). Each record's `errorCode` is what the store decides, so a
//! replay of them through the same store agrees on every event.

use std::io::Write;

use crate::compile::Scratch;
use crate::eval::Outcome;
use crate::Authorizer;

/// The actions generated, with their weight (data-plane calls dominate real trails).
const ACTIONS: &[(&str, u32)] = &[
    ("PutRecord", 30),
    ("PutRecords", 25),
    ("GetRecords", 20),
    ("GetShardIterator", 10),
    ("DescribeStreamSummary", 5),
    ("ListShards", 5),
    ("ListStreams", 3),
    ("DeleteStream", 1),
    ("AddTagsToStream", 1),
];

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A caller: its `userIdentity` JSON and its account.
struct Who {
    identity: String,
    account: String,
}

fn callers(auth: &Authorizer) -> Vec<Who> {
    let mut out = Vec::new();
    for acct in auth.store().accounts() {
        let id = &acct.id;
        for u in acct.users() {
            let arn = format!("arn:aws:iam::{id}:user{}{}", u.path, u.name);
            out.push(Who {
                identity: format!(
                    r#"{{"type":"IAMUser","principalId":"{}","arn":"{arn}","accountId":"{id}","accessKeyId":"AKIAEXAMPLEKEY00001","userName":"{}"}}"#,
                    u.id.as_deref().unwrap_or("AIDAEXAMPLEUSERID0001"),
                    u.name
                ),
                account: id.clone(),
            });
        }
        for r in acct.roles() {
            let role_id = r.id.as_deref().unwrap_or("AROAEXAMPLEROLEID0001");
            for s in ["i-0abc123", "app-session"] {
                out.push(Who {
                    identity: format!(
                        r#"{{"type":"AssumedRole","principalId":"{role_id}:{s}","arn":"arn:aws:sts::{id}:assumed-role/{}/{s}","accountId":"{id}","accessKeyId":"ASIAEXAMPLEKEY00001","sessionContext":{{"sessionIssuer":{{"type":"Role","principalId":"{role_id}","arn":"arn:aws:iam::{id}:role{}{}","accountId":"{id}","userName":"{}"}},"attributes":{{"creationDate":"2026-11-30T08:00:00Z","mfaAuthenticated":"false"}}}}}}"#,
                        r.name, r.path, r.name, r.name
                    ),
                    account: id.clone(),
                });
            }
        }
    }
    out
}

/// Writes `n` records to `out`: JSON Lines, or one delivered-file object
/// `{"Records": [...]}` when `delivered`. Returns how many the store allows.
pub fn generate(
    auth: &Authorizer,
    n: u64,
    seed: u64,
    delivered: bool,
    out: &mut dyn Write,
) -> std::io::Result<u64> {
    let who = callers(auth);
    if who.is_empty() {
        return Err(std::io::Error::other(
            "the store has no users or roles to generate calls for",
        ));
    }
    let streams: Vec<String> = auth
        .store()
        .resources()
        .map(|r| r.arn.clone())
        .filter(|a| {
            crate::catalog::ResourceType::of_arn(a) == Some(crate::catalog::ResourceType::Stream)
        })
        .collect();
    let total: u32 = ACTIONS.iter().map(|(_, w)| w).sum();
    let mut rng = Rng(seed.max(1));
    let mut scratch = Scratch::default();
    let mut allowed = 0;
    if delivered {
        out.write_all(b"{\"Records\":[\n")?;
    }
    for i in 0..n {
        let w = who
            .get(rng.below(who.len()))
            .ok_or_else(|| std::io::Error::other("no caller"))?;
        let mut pick = rng.below(total as usize) as u32;
        let mut action = "PutRecord";
        for (a, weight) in ACTIONS {
            if pick < *weight {
                action = a;
                break;
            }
            pick -= weight;
        }
        let region = ["us-east-1", "us-east-2", "eu-west-1"][rng.below(3)];
        let stream = match streams.get(rng.below(streams.len() * 2 + 1)) {
            Some(s) => s.clone(),
            None => format!(
                "arn:aws:kinesis:{region}:{}:stream/stream{}",
                w.account,
                rng.below(8)
            ),
        };
        // The record's region and account are the stream's.
        let parts: Vec<&str> = stream.split(':').collect();
        let (region, account) = (
            parts.get(3).copied().unwrap_or(region),
            parts.get(4).copied().unwrap_or(&w.account),
        );
        let params = if action == "ListStreams" {
            r#"{"limit":100}"#.to_string()
        } else if i % 2 == 0 {
            format!(r#"{{"streamARN":"{stream}","partitionKey":"pk-{i}"}}"#)
        } else {
            let name = stream.rsplit('/').next().unwrap_or("stream0");
            format!(r#"{{"streamName":"{name}","shardId":"shardId-000000000000"}}"#)
        };
        let secs = 1_764_489_600 + i / 1000;
        let time = crate::ast::Instant(i128::from(secs) * 1_000_000_000);
        let ip = format!(
            "10.{}.{}.{}",
            rng.below(256),
            rng.below(256),
            rng.below(256)
        );
        let body = format!(
            r#"{{"eventVersion":"1.09","userIdentity":{},"eventTime":"{time}","eventSource":"kinesis.amazonaws.com","eventName":"{action}","awsRegion":"{region}","sourceIPAddress":"{ip}","userAgent":"aws-sdk-java/2.25.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.9","requestParameters":{params},"responseElements":null,"requestID":"{:016x}-{:08x}","eventID":"{:016x}-{:016x}","readOnly":false,"resources":[{{"accountId":"{account}","type":"AWS::Kinesis::Stream","ARN":"{stream}"}}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"{account}","eventCategory":"Data","tlsDetails":{{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"kinesis.{region}.amazonaws.com"}}"#,
            w.identity,
            rng.next(),
            i,
            rng.next(),
            i
        );
        // Decide the record as replay will read it, and record that as AWS's answer.
        let whole = format!("{body}}}");
        let rec: super::Record<'_> = serde_json::from_str(&whole).map_err(std::io::Error::other)?;
        let ok = super::reconstruct(&rec, auth.store())
            .map(|ev| {
                let p = auth.prepare(ev.request);
                auth.decide_prepared(&mut scratch, &p) == Outcome::Allow
            })
            .unwrap_or(true);
        if ok {
            allowed += 1;
        }
        let sep = if delivered && i + 1 < n { "," } else { "" };
        if ok {
            writeln!(out, "{body}}}{sep}")?;
        } else {
            writeln!(
                out,
                r#"{body},"errorCode":"AccessDeniedException","errorMessage":"User is not authorized to perform: kinesis:{action}"}}{sep}"#
            )?;
        }
    }
    if delivered {
        out.write_all(b"]}\n")?;
    }
    Ok(allowed)
}
