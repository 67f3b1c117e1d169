//! The live engine, and how a new one is built aside: load and validate the store, compile it,
//! and only then swap it in whole.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::diag::Diagnostic;
use crate::semantics::Semantics;
use crate::store::{resolve_inside, Escape, FileRefs, Store, MAX_POLICIES, MAX_STORE_BYTES};
use crate::{Authorizer, EngineBuilder};

/// What made the server (re)load its store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// The first load, at start.
    Startup,
    /// `SIGHUP`.
    Sighup,
    /// The store file or one of the files it refers to changed.
    FileChange,
    /// `PUT /v1/store`.
    Api,
}

impl Trigger {
    pub(crate) const ALL: [Trigger; 4] = [
        Trigger::Startup,
        Trigger::Sighup,
        Trigger::FileChange,
        Trigger::Api,
    ];

    /// The name used in responses and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Startup => "startup",
            Trigger::Sighup => "sighup",
            Trigger::FileChange => "file-change",
            Trigger::Api => "api",
        }
    }

    pub(crate) fn index(self) -> usize {
        Trigger::ALL
            .iter()
            .position(|t| *t == self)
            .unwrap_or_default()
    }
}

/// The store and engine serving requests. Immutable: a reload builds a new one and swaps it in.
#[derive(Debug)]
pub struct Live {
    /// The store and the engine compiled from it (requests are prepared with the store).
    pub authorizer: Authorizer,
    /// 1 for the first store loaded, then one more for each store swapped in.
    pub version: u64,
    /// When it was swapped in.
    pub loaded_at: SystemTime,
    /// What loaded it.
    pub trigger: Trigger,
    /// Where it came from: the store path, or `None` for a store given by `PUT /v1/store`.
    pub path: Option<PathBuf>,
    /// `fnv1a64:` and 16 hex digits: a digest of the store text and the files it refers to.
    pub digest: String,
    /// How long loading and compiling took.
    pub build_time: Duration,
}

impl Live {
    /// `loaded_at` as Unix seconds.
    pub fn loaded_unix(&self) -> f64 {
        self.loaded_at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or_default()
    }

    /// `loaded_at` in RFC 3339 (UTC, seconds).
    pub fn loaded_rfc3339(&self) -> String {
        rfc3339(self.loaded_at)
    }

    /// What `GET /v1/store` answers.
    pub fn info(&self) -> Value {
        json!({
            "version": self.version,
            "loaded_at": self.loaded_rfc3339(),
            "loaded_at_unix": self.loaded_unix(),
            "trigger": self.trigger.as_str(),
            "source": if self.path.is_some() { "file" } else { "api" },
            "path": self.path.as_ref().map(|p| p.display().to_string()),
            "digest": self.digest,
            "build_ms": (self.build_time.as_secs_f64() * 1e6).round() / 1e3,
            "store": self.authorizer.store().stats(),
            "engine": self.authorizer.stats(),
            "warnings": self.authorizer.store().warnings(),
        })
    }
}

/// RFC 3339 in UTC, to the second.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    let nanos = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    crate::ast::Instant(i128::try_from(nanos).unwrap_or_default()).to_string()
}

/// The store file of a store path: the path itself, or `store.json` in a folder.
pub(crate) fn store_file(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("store.json")
    } else {
        path.to_path_buf()
    }
}

/// The folder `file` references are relative to.
pub(crate) fn base_dir(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    }
}

/// A store built aside, not yet live.
pub(crate) struct Built {
    pub(crate) authorizer: Authorizer,
    pub(crate) digest: String,
    pub(crate) build_time: Duration,
}

/// Loads (validating every policy) and compiles a store from disk, reusing the compiled sets of
/// `previous` whose policies are unchanged. Blocking: run it off the async workers.
pub(crate) fn build_from_path(
    path: &Path,
    sem: &Semantics,
    previous: Option<&Authorizer>,
) -> Result<Built, Vec<Diagnostic>> {
    let t = Instant::now();
    let store = Store::load(path)?;
    let file = store_file(path);
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let digest = digest_of(&text, &base_dir(path));
    compile(store, digest, sem, t, previous)
}

/// Loads and compiles an uploaded store from its text. With `file_refs`, its `file`
/// references are read relative to `base` (and only inside it); without, a `file` reference is
/// refused: an uploaded store carries inline documents only.
pub(crate) fn build_from_text(
    text: &str,
    base: &Path,
    file_refs: bool,
    sem: &Semantics,
    previous: Option<&Authorizer>,
) -> Result<Built, Vec<Diagnostic>> {
    let t = Instant::now();
    let files = if file_refs {
        FileRefs::In(base)
    } else {
        FileRefs::Refused {
            why: "a store sent to PUT /v1/store may carry only inline documents",
            help: "write the policy inline (\"document\"), or start iamc serve with \
                   --allow-store-file-refs to let uploaded stores refer to files in the \
                   store's folder",
        }
    };
    let store = Store::from_str_with(text, files)?;
    let digest = digest_of(text, base);
    compile(store, digest, sem, t, previous)
}

fn compile(
    store: Store,
    digest: String,
    sem: &Semantics,
    t: Instant,
    previous: Option<&Authorizer>,
) -> Result<Built, Vec<Diagnostic>> {
    let builder = EngineBuilder::new().semantics(sem.clone());
    let store = Arc::new(store);
    let authorizer = match previous {
        Some(p) => builder.rebuild(p, store),
        None => builder.authorizer(store),
    }
    .map_err(|e| vec![e.to_diagnostic()])?;
    Ok(Built {
        authorizer,
        digest,
        build_time: t.elapsed(),
    })
}

/// FNV-1a, 64 bits.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A digest of the store text and of each file it refers to, in the order referred to.
fn digest_of(text: &str, base: &Path) -> String {
    let mut h = Fnv::new();
    h.write(text.as_bytes());
    for rel in referenced_files(text) {
        h.write(&[0]);
        h.write(rel.as_bytes());
        h.write(&[0]);
        // Only files the loader accepted (inside the folder) are read.
        if let Ok(bytes) = resolve_inside(base, &rel)
            .and_then(|p| read_bounded(&p).map_err(|e| Escape::Io(e.to_string())))
        {
            h.write(&bytes);
        }
    }
    format!("fnv1a64:{:016x}", h.0)
}

fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path)?;
    let mut out = Vec::new();
    f.take(MAX_STORE_BYTES as u64).read_to_end(&mut out)?;
    Ok(out)
}

/// The `file` references of a store text: every string member named `file` (policy places and
/// named policies), deduplicated, in order. A text that is not JSON has none.
pub(crate) fn referenced_files(text: &str) -> Vec<String> {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    let mut stack = vec![&v];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(f)) = m.get("file") {
                    if !out.contains(f) && out.len() < MAX_POLICIES {
                        out.push(f.clone());
                    }
                }
                stack.extend(m.values().rev());
            }
            Value::Array(a) => stack.extend(a.iter().rev()),
            _ => {}
        }
    }
    out
}

/// What the file watcher compares: each file's modification time and length (`None` when the
/// file cannot be read).
pub(crate) type Fingerprint = Vec<(PathBuf, Option<(SystemTime, u64)>)>;

/// The fingerprint of a store on disk: its store file, then every file it refers to.
pub(crate) fn fingerprint(path: &Path) -> Fingerprint {
    let file = store_file(path);
    let stat = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| (m.modified().unwrap_or(UNIX_EPOCH), m.len()))
    };
    let mut out = vec![(file.clone(), stat(&file))];
    let text = match std::fs::metadata(&file) {
        Ok(m) if m.len() <= MAX_STORE_BYTES as u64 => {
            std::fs::read_to_string(&file).unwrap_or_default()
        }
        _ => String::new(),
    };
    let base = base_dir(path);
    for rel in referenced_files(&text) {
        // A reference that leads out of the folder is refused by the loader; it is not
        // watched either.
        let p = match resolve_inside(&base, &rel) {
            Ok(p) => p,
            Err(Escape::Outside) => continue,
            Err(Escape::Io(_)) => base.join(rel),
        };
        let s = stat(&p);
        out.push((p, s));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn finds_file_references_once_in_order() {
        let text = r#"{"version": 1, "policies": {"A": {"type": "identity", "file": "a.json"},
            "B": {"type": "identity", "file": "b.json"}},
            "resources": {"arn:x": {"policy": {"file": "a.json"}}}}"#;
        assert_eq!(referenced_files(text), vec!["a.json", "b.json"]);
        assert!(referenced_files("not json").is_empty());
    }

    #[test]
    fn formats_times() {
        let t = UNIX_EPOCH + Duration::from_secs(86_400 + 3_661);
        assert_eq!(rfc3339(t), "1970-01-02T01:01:01Z");
    }
}
