//! `iamc import`: write a store folder from AWS account data (see [`crate::import`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::diag::Diagnostic;
use crate::import::{Importer, MAX_INPUT_BYTES};
use crate::parse::json::walk::{read_bounded, ReadError};

/// Write a store from what the AWS CLI prints.
///
///   aws iam get-account-authorization-details > acct-111122223333.json
///   iamc import --authorization-details acct-111122223333.json \
///     --authorization-details acct-210987654321.json \
///     --organization org.json --kinesis kinesis-111122223333-us-east-2.json -o store/
///   iamc check store/
///
/// --authorization-details: the output of `aws iam get-account-authorization-details` (users,
/// groups, roles, managed policies with their default version; documents URL-encoded as the API
/// returns them, or decoded as the CLI prints them). One file per account; several merge.
///
/// --organization: the SCP/RCP hierarchy, a JSON object
///   {"management_account": ID, "policies": [describe-policy's Policy, ...],
///    "root": {"id", "policies": [policy ids], "children": [{"id"|"account", "policies",
///    "children"}]}}.
///
/// --kinesis: streams of one account and region, a JSON object
///   {"streams": [{"StreamARN", "Policy" (get-resource-policy), "Tags" (list-tags-for-resource),
///    "Consumers": [{"ConsumerARN", "Policy", "Tags"}]}]}.
///
/// What the store cannot hold is reported with its place (IAM501-IAM506, warnings) and skipped,
/// never guessed: trust policies (counted), organization policy types other than SCP and RCP,
/// managed policies the dumps do not hold, malformed documents. The store written passes
/// `iamc check`.
///
/// Exit codes: 0 the store was written (warnings allowed), 1 an input cannot be read or is not
/// JSON, or STORE_DIR already holds a store.json and --force is not given (nothing is written),
/// 2 bad arguments.
#[derive(clap::Args, Debug)]
#[command(
    verbatim_doc_comment,
    about = "Write a store from AWS account data (IAM, SCPs, streams)."
)]
pub struct Args {
    /// Output of `aws iam get-account-authorization-details`. Repeatable (one per account).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    authorization_details: Vec<PathBuf>,
    /// The organization's SCP and RCP hierarchy (format above).
    #[arg(long, value_name = "FILE")]
    organization: Option<PathBuf>,
    /// Kinesis streams and consumers with their policies and tags (format above). Repeatable.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    kinesis: Vec<PathBuf>,
    /// The store folder to write (created if needed); the store is its store.json.
    #[arg(short = 'o', long, value_name = "STORE_DIR")]
    output: PathBuf,
    /// Replace an existing store.json in the folder.
    #[arg(long)]
    force: bool,
    /// Findings as JSON Lines on standard error instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    if args.authorization_details.is_empty()
        && args.organization.is_none()
        && args.kinesis.is_empty()
    {
        eprintln!(
            "error: nothing to import: give --authorization-details, --organization or --kinesis"
        );
        return ExitCode::from(super::USAGE);
    }
    let target = args.output.join("store.json");
    if target.exists() && !args.force {
        eprintln!(
            "error: {} exists; pass --force to replace it",
            target.display()
        );
        return ExitCode::from(1);
    }
    let mut importer = Importer::new();
    let mut unreadable = false;
    let mut feed = |path: &Path, f: &mut dyn FnMut(&mut Importer, &str, &str)| match read(path) {
        Ok(text) => f(&mut importer, &path.display().to_string(), &text),
        Err(e) => {
            eprintln!("error[IAM500]: {e}");
            unreadable = true;
        }
    };
    for p in &args.authorization_details {
        feed(p, &mut |i, name, text| i.authorization_details(name, text));
    }
    if let Some(p) = &args.organization {
        feed(p, &mut |i, name, text| i.organization(name, text));
    }
    for p in &args.kinesis {
        feed(p, &mut |i, name, text| i.kinesis(name, text));
    }
    let imported = importer.finish();
    print_findings(&imported.diagnostics, args.json);
    let Some(store) = imported.store.filter(|_| !unreadable) else {
        eprintln!("error: nothing was written");
        return ExitCode::from(1);
    };
    if let Err(e) = std::fs::create_dir_all(&args.output)
        .and_then(|()| std::fs::write(&target, format!("{store}\n")))
    {
        eprintln!("error: cannot write {}: {e}", target.display());
        return ExitCode::from(1);
    }
    let s = &imported.stats;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "wrote {}: {} accounts, {} users, {} groups, {} roles, {} managed and {} inline \
         policies, {} organization accounts, {} streams and consumers, {} role trust policies; {} \
         items skipped",
        target.display(),
        s.accounts,
        s.users,
        s.groups,
        s.roles,
        s.managed_policies,
        s.inline_policies,
        s.organization_accounts,
        s.resources,
        s.trust_policies,
        s.skipped
    );
    ExitCode::SUCCESS
}

fn read(path: &Path) -> Result<String, String> {
    let p = path.display();
    read_bounded(path, MAX_INPUT_BYTES).map_err(|e| match e {
        ReadError::Io(e) => format!("cannot read `{p}`: {e}"),
        ReadError::NotAFile => format!("cannot read `{p}`: it is not a file"),
        ReadError::TooBig(_) => format!("`{p}` is more than {MAX_INPUT_BYTES} bytes"),
        ReadError::NotUtf8(e) => format!("`{p}` is not UTF-8 text: {e}"),
    })
}

fn print_findings(diags: &[Diagnostic], json: bool) {
    let mut err = std::io::stderr().lock();
    for d in diags {
        let _ = if json {
            writeln!(err, "{}", serde_json::to_string(d).unwrap_or_default())
        } else {
            writeln!(err, "{d}")
        };
    }
}
