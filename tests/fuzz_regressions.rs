//! Fuzzing's findings, kept: every input a fuzz target (`fuzz/`, see the README's Fuzzing
//! section) crashed on is checked in under `tests/fuzz/<target>/` and replayed here through the
//! target's own check (`fuzz/fuzz_targets/checks.rs`), so `cargo test` holds it fixed without
//! a nightly compiler or cargo-fuzz.
//!
//! `IAMC_FUZZ_CORPUS=1` also replays the checked-in corpora (`fuzz/corpus/<target>/`).

#![allow(clippy::panic)]

#[path = "../fuzz/fuzz_targets/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Runs `check` on every input of `tests/fuzz/<target>/` (and of the corpus, on demand).
fn replay(target: &str, check: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut inputs = files(&root.join("tests/fuzz").join(target));
    if std::env::var_os("IAMC_FUZZ_CORPUS").is_some() {
        inputs.extend(files(&root.join("fuzz/corpus").join(target)));
    }
    for path in inputs {
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("{target}: {}", path.display());
        check(&data);
    }
}

#[test]
fn json_policy() {
    replay("json_policy", checks::json_policy::check);
}

#[test]
fn text_policy() {
    replay("text_policy", checks::text_policy::check);
}

#[test]
fn store() {
    replay("store", checks::store::check);
}

#[test]
fn credentials() {
    replay("credentials", checks::credentials::check);
}

#[test]
fn sigv4() {
    replay("sigv4", checks::sigv4::check);
}

#[test]
fn kinesis_plan() {
    replay("kinesis_plan", checks::kinesis_plan::check);
}

#[test]
fn server_bodies() {
    replay("server_bodies", checks::server_bodies::check);
}

#[test]
fn condition_values() {
    replay("condition_values", checks::condition_values::check);
}

#[test]
fn differential() {
    replay("differential", checks::differential::check);
}

#[test]
fn cloudtrail() {
    replay("cloudtrail", checks::cloudtrail::check);
}

#[test]
fn import() {
    replay("import", checks::import::check);
}
