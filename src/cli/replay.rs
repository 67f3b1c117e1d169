//! `iamc replay`: decide recorded CloudTrail calls with a store, alone or against a changed
//! store (see [`crate::replay`]).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crate::replay::{self, Group, Options, Report};
use crate::semantics::Semantics;
use crate::store::Store;
use crate::Authorizer;

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable summary.
    Text,
    /// The whole report as one JSON object.
    Json,
    /// One row per principal and action (alone: agreement counts; with --against: the changes).
    Csv,
}

/// Replay CloudTrail: decide every recorded Kinesis call with a store.
///
///   iamc replay --store store/ trail/                 does the store agree with AWS?
///   iamc replay --store store/ --against new-store/ trail/   what would the change break?
///
/// EVENTS are CloudTrail files or folders (searched recursively): delivered log files
/// ({"Records": [...]}, gzip or plain), JSON arrays of records, or JSON Lines of records. They
/// are read as a stream, a batch at a time, on all cores.
///
/// Each kinesis.amazonaws.com record becomes a request: kinesis:<eventName>; the caller from
/// userIdentity (IAMUser, AssumedRole through sessionContext.sessionIssuer, FederatedUser,
/// Root, AWSService; AWSAccount and the other types are not replayed); the resource from
/// requestParameters (consumerARN, resourceARN, streamARN, streamName) in recipientAccountId
/// and awsRegion; aws:CurrentTime and aws:EpochTime from eventTime, aws:SourceIp from
/// sourceIPAddress, aws:SecureTransport from tlsDetails, aws:MultiFactorAuthPresent from
/// sessionContext.attributes.mfaAuthenticated (the full table is in the crate docs of
/// iamc::replay). Records that cannot be reconstructed (another service, a missing field, a
/// principal the store does not know) are counted by reason, never decided.
///
/// Alone: how many events the store decides as AWS recorded them (no errorCode = allowed,
/// AccessDenied… = denied; other errors are not compared), per principal and action, with
/// examples of the events where it disagrees.
///
/// With --against NEW: the events whose decision changes from STORE to NEW, per principal and
/// action: newly denied (the change would break them) and newly allowed (new access).
///
/// Exit codes: 0 done (and, with --against, nothing newly denied); 1 with --against, some
/// event would be newly denied (a CI gate); 2 the replay could not run (bad arguments, a store
/// that does not load).
#[derive(clap::Args, Debug)]
#[command(
    verbatim_doc_comment,
    about = "Replay CloudTrail calls: agreement with AWS, or a change."
)]
pub struct Args {
    /// The store (a store file, or a folder with store.json).
    #[arg(long, value_name = "STORE")]
    store: PathBuf,
    /// A changed store: report the events whose decision it changes.
    #[arg(long, value_name = "NEW")]
    against: Option<PathBuf>,
    /// CloudTrail files or folders.
    #[arg(value_name = "EVENTS", required_unless_present = "generate")]
    events: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Examples kept per principal, action and kind, and per skip reason.
    #[arg(long, value_name = "N", default_value_t = 3)]
    examples: usize,
    /// Read and reconstruct the events without deciding them (measures decoding).
    #[arg(long)]
    decode_only: bool,
    /// Records parsed and decided together.
    #[arg(long, value_name = "N", default_value_t = 16_384, hide = true)]
    batch: usize,
    /// Benchmarking: write N synthetic CloudTrail records for the store's principals to
    /// standard output (JSON Lines, or a delivered file with --delivered) and exit.
    #[arg(long, value_name = "N", hide = true)]
    generate: Option<u64>,
    /// With --generate: write one {"Records": [...]} object.
    #[arg(long, hide = true, requires = "generate")]
    delivered: bool,
    /// With --generate: the random seed.
    #[arg(long, hide = true, default_value_t = 1, requires = "generate")]
    seed: u64,
}

fn authorizer(path: &std::path::Path) -> Result<Authorizer, String> {
    let store = Store::load(path).map_err(|diags| {
        diags
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{}: {d}", path.display()))
            .collect::<Vec<_>>()
            .join("\n")
    })?;
    Authorizer::new(Arc::new(store), Semantics::default())
        .map_err(|e| format!("{}: the engine was not built: {e}", path.display()))
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    match run_inner(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: &Args) -> Result<ExitCode, String> {
    let base = authorizer(&args.store)?;
    if let Some(n) = args.generate {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let allowed = replay::gen::generate(&base, n, args.seed, args.delivered, &mut out)
            .and_then(|a| out.flush().map(|()| a))
            .map_err(|e| format!("cannot write the records: {e}"))?;
        eprintln!("{n} records written, {allowed} allowed by the store");
        return Ok(ExitCode::SUCCESS);
    }
    let against = args.against.as_deref().map(authorizer).transpose()?;
    let files = replay::expand(&args.events).map_err(|e| format!("cannot list the events: {e}"))?;
    let opts = Options {
        batch: args.batch,
        decide: !args.decode_only,
        examples: args.examples,
    };
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg} ({per_sec})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        b
    });
    let mut progress = |r: &Report| {
        if let Some(b) = &bar {
            b.set_position(r.records);
            b.set_message(format!("{} records, {} files", r.records, r.files));
        }
    };
    let report = replay::run(files, &base, against.as_ref(), &opts, &mut progress);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let text = match args.format {
        Format::Json => serde_json::to_string_pretty(&report).unwrap_or_default() + "\n",
        Format::Csv => csv(&report),
        Format::Text => human(&report, args.decode_only),
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write the output: {e}"))?;
    Ok(if report.breaks() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        "-".into()
    } else {
        format!("{:.2}%", part as f64 * 100.0 / whole as f64)
    }
}

fn examples(g: &Group, kind: &str, out: &mut String) {
    for e in g.examples.iter().filter(|e| e.kind == kind) {
        out.push_str(&format!(
            "      e.g. {} {} {} on {} (AWS: {})\n",
            e.event_id, e.event_time, e.caller, e.resource, e.recorded
        ));
    }
}

/// A kind of event the summary lists: its title, its count in a group, its examples' kind.
type Kind = (&'static str, fn(&Group) -> u64, &'static str);

fn human(r: &Report, decode_only: bool) -> String {
    let t = &r.totals;
    let skipped: u64 = r.skipped.values().map(|s| s.count).sum();
    let mut s = format!(
        "{} records in {} files: {} {}, {} not reconstructed\n",
        r.records,
        r.files,
        r.decided,
        if decode_only {
            "reconstructed"
        } else {
            "decided"
        },
        skipped
    );
    if !decode_only {
        let compared = t.agree + t.aws_allowed_iamc_denied + t.aws_denied_iamc_allowed;
        s.push_str(&format!(
            "agreement with AWS: {} of {compared} compared events ({}); AWS allowed and the store \
             denies: {}; AWS denied and the store allows: {}; other errors (not compared): {}\n",
            t.agree,
            pct(t.agree, compared),
            t.aws_allowed_iamc_denied,
            t.aws_denied_iamc_allowed,
            t.other_error
        ));
    }
    if r.against {
        s.push_str(&format!(
            "against the new store: {} events newly denied (would break), {} newly allowed\n",
            t.newly_denied, t.newly_allowed
        ));
    }
    if !r.skipped.is_empty() {
        s.push_str("not reconstructed, by reason:\n");
        for (reason, k) in &r.skipped {
            s.push_str(&format!("  {:>10}  {reason}\n", k.count));
            for e in &k.examples {
                s.push_str(&format!("      e.g. {e}\n"));
            }
        }
    }
    let kinds: &[Kind] = if r.against {
        &[
            ("NEWLY DENIED", |g| g.newly_denied, "newly-denied"),
            ("newly allowed", |g| g.newly_allowed, "newly-allowed"),
        ]
    } else {
        &[
            (
                "AWS allowed, store denies",
                |g| g.aws_allowed_iamc_denied,
                "aws-allowed-iamc-denied",
            ),
            (
                "AWS denied, store allows",
                |g| g.aws_denied_iamc_allowed,
                "aws-denied-iamc-allowed",
            ),
        ]
    };
    for (title, count, kind) in kinds {
        let rows: Vec<&Group> = r.groups.iter().filter(|g| count(g) > 0).collect();
        if rows.is_empty() {
            continue;
        }
        s.push_str(&format!("{title}, by principal and action:\n"));
        for g in rows {
            s.push_str(&format!(
                "  {:>10}  {} {} (of {} events)\n",
                count(g),
                g.principal,
                g.action,
                g.events
            ));
            examples(g, kind, &mut s);
        }
    }
    let tm = &r.timing;
    s.push_str(&format!(
        "time: {:.2} s ({:.0} records/s); waiting for the reader {:.2} s, decoding {:.2} s, \
         deciding {:.2} s, counting {:.2} s\n",
        tm.total,
        r.rate(),
        tm.read_wait,
        tm.decode,
        tm.decide,
        tm.tally
    ));
    s
}

/// A CSV field, quoted when it needs to be (RFC 4180).
fn field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

fn csv(r: &Report) -> String {
    let mut s = String::new();
    if r.against {
        s.push_str("principal,action,change,events,example_event_ids\n");
        for g in &r.groups {
            for (change, n, kind) in [
                ("newly-denied", g.newly_denied, "newly-denied"),
                ("newly-allowed", g.newly_allowed, "newly-allowed"),
            ] {
                if n == 0 {
                    continue;
                }
                let ids: Vec<&str> = g
                    .examples
                    .iter()
                    .filter(|e| e.kind == kind)
                    .map(|e| e.event_id.as_str())
                    .collect();
                s.push_str(&format!(
                    "{},{},{change},{n},{}\n",
                    field(&g.principal),
                    field(&g.action),
                    field(&ids.join(" "))
                ));
            }
        }
    } else {
        s.push_str(
            "principal,action,events,agree,aws_allowed_iamc_denied,aws_denied_iamc_allowed,\
             other_error\n",
        );
        for g in &r.groups {
            s.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                field(&g.principal),
                field(&g.action),
                g.events,
                g.agree,
                g.aws_allowed_iamc_denied,
                g.aws_denied_iamc_allowed,
                g.other_error
            ));
        }
    }
    s
}
