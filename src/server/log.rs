//! The decision log: one JSON line per decision, written by a thread of its own (off the request
//! path) and rotated by size.
//!
//! The request path hands a record to a bounded queue and moves on; when the queue is full (the
//! disk is slower than the decisions) the record is dropped and counted
//! (`iamc_decision_log_dropped_total`), so logging never slows or blocks a decision. The writer
//! formats each record, appends it to the file and flushes whenever the queue runs empty. When
//! the next line would take the file past `max_bytes`, the file is rotated: `FILE.{keep-1}`
//! becomes `FILE.{keep}` (the oldest is overwritten), …, `FILE` becomes `FILE.1`, and a new
//! `FILE` is started.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use serde_json::{json, Value};

use super::live::rfc3339;
use super::metrics::Metrics;
use crate::request::RequestJson;

/// Where and how big the decision log is.
#[derive(Clone, Debug)]
pub struct LogConfig {
    /// The log file. Rotated files are `FILE.1` (the newest) to `FILE.{keep}`.
    pub path: PathBuf,
    /// Rotate before the file would grow past this many bytes (at least 4 KiB).
    pub max_bytes: u64,
    /// Rotated files kept (0: the full file is truncated instead).
    pub keep: usize,
    /// Records waiting to be written; past this, records are dropped and counted.
    pub queue: usize,
}

impl LogConfig {
    /// A log at `path`: rotated at 100 MiB, 5 rotated files kept, 65,536 records queued.
    pub fn new(path: impl Into<PathBuf>) -> LogConfig {
        LogConfig {
            path: path.into(),
            max_bytes: 100 * 1024 * 1024,
            keep: 5,
            queue: 65_536,
        }
    }
}

/// One decision, as logged.
pub(crate) struct Record {
    pub(crate) time: SystemTime,
    pub(crate) route: &'static str,
    pub(crate) store_version: u64,
    pub(crate) latency: Duration,
    pub(crate) request: RequestJson,
    /// The decision JSON as answered (with the determining statements).
    pub(crate) decision: Value,
}

impl Record {
    fn to_line(&self) -> String {
        let v = json!({
            "time": rfc3339(self.time),
            "route": self.route,
            "store_version": self.store_version,
            "latency_us": self.latency.as_secs_f64() * 1e6,
            "request": self.request,
            "decision": self.decision,
        });
        let mut s = v.to_string();
        s.push('\n');
        s
    }
}

/// The sending side, held by the server.
pub(crate) struct DecisionLog {
    tx: Mutex<Option<SyncSender<Record>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    metrics: Arc<Metrics>,
}

impl DecisionLog {
    /// Opens (appending to) the log file and starts the writer thread.
    pub(crate) fn start(cfg: &LogConfig, metrics: Arc<Metrics>) -> std::io::Result<DecisionLog> {
        if let Some(dir) = cfg.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = open_append(&cfg.path)?;
        let size = file.metadata().map(|m| m.len()).unwrap_or_default();
        let (tx, rx) = sync_channel(cfg.queue.max(1));
        let mut writer = Writer {
            path: cfg.path.clone(),
            max_bytes: cfg.max_bytes.max(4096),
            keep: cfg.keep,
            out: Some(BufWriter::with_capacity(64 * 1024, file)),
            size,
            metrics: Arc::clone(&metrics),
        };
        let thread = std::thread::Builder::new()
            .name("iamc-decision-log".into())
            .spawn(move || writer.run(rx))?;
        Ok(DecisionLog {
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
            metrics,
        })
    }

    /// Queues a record; never blocks.
    pub(crate) fn send(&self, rec: Record) {
        let sent = match self.tx.lock() {
            Ok(guard) => match guard.as_ref() {
                Some(tx) => match tx.try_send(rec) {
                    Ok(()) => true,
                    Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
                },
                None => false,
            },
            Err(_) => false,
        };
        if !sent {
            self.metrics.log_dropped.fetch_add(1, Relaxed);
        }
    }

    /// Stops taking records, writes what is queued, flushes and joins the writer. Blocking.
    pub(crate) fn close(&self) {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

fn open_append(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

struct Writer {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
    out: Option<BufWriter<File>>,
    size: u64,
    metrics: Arc<Metrics>,
}

impl Writer {
    fn run(&mut self, rx: Receiver<Record>) {
        while let Ok(rec) = rx.recv() {
            self.write(&rec);
            loop {
                match rx.try_recv() {
                    Ok(rec) => self.write(&rec),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => {
                        self.flush();
                        return;
                    }
                }
            }
            self.flush();
        }
        self.flush();
    }

    fn flush(&mut self) {
        if let Some(out) = &mut self.out {
            if out.flush().is_err() {
                self.metrics.log_write_errors.fetch_add(1, Relaxed);
            }
        }
    }

    fn write(&mut self, rec: &Record) {
        let line = rec.to_line();
        let len = line.len() as u64;
        if self.size > 0 && self.size + len > self.max_bytes {
            self.rotate();
        }
        if self.out.is_none() {
            // A failed rotation or open left no file: try again for this record.
            match open_append(&self.path) {
                Ok(f) => {
                    self.size = f.metadata().map(|m| m.len()).unwrap_or_default();
                    self.out = Some(BufWriter::with_capacity(64 * 1024, f));
                }
                Err(_) => {
                    self.metrics.log_write_errors.fetch_add(1, Relaxed);
                    self.metrics.log_dropped.fetch_add(1, Relaxed);
                    return;
                }
            }
        }
        let Some(out) = &mut self.out else { return };
        match out.write_all(line.as_bytes()) {
            Ok(()) => {
                self.size += len;
                self.metrics.log_records.fetch_add(1, Relaxed);
            }
            Err(_) => {
                self.metrics.log_write_errors.fetch_add(1, Relaxed);
                self.metrics.log_dropped.fetch_add(1, Relaxed);
                self.out = None;
            }
        }
    }

    fn rotated(&self, n: usize) -> PathBuf {
        let mut s = self.path.clone().into_os_string();
        s.push(format!(".{n}"));
        PathBuf::from(s)
    }

    fn rotate(&mut self) {
        if let Some(mut out) = self.out.take() {
            let _ = out.flush();
        }
        let mut ok = true;
        if self.keep == 0 {
            ok &= std::fs::remove_file(&self.path).is_ok();
        } else {
            for n in (1..self.keep).rev() {
                let from = self.rotated(n);
                if from.exists() {
                    ok &= std::fs::rename(&from, self.rotated(n + 1)).is_ok();
                }
            }
            ok &= std::fs::rename(&self.path, self.rotated(1)).is_ok();
        }
        if ok {
            self.metrics.log_rotations.fetch_add(1, Relaxed);
        } else {
            self.metrics.log_write_errors.fetch_add(1, Relaxed);
        }
        // After a rename the path is free and this starts a new file; after a failed one it
        // appends to the old file (and the failure is counted).
        match open_append(&self.path) {
            Ok(f) => {
                // After a failed rotation, try again only once the file has grown by another
                // `max_bytes`.
                self.size = if ok {
                    f.metadata().map(|m| m.len()).unwrap_or_default()
                } else {
                    0
                };
                self.out = Some(BufWriter::with_capacity(64 * 1024, f));
            }
            Err(_) => {
                self.metrics.log_write_errors.fetch_add(1, Relaxed);
                self.out = None;
            }
        }
    }
}
