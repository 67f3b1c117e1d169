//! Reading CloudTrail records from files, streaming: the delivered log files
//! (`{"Records": [...]}`, gzip or plain), JSON Lines of records, or a JSON array of records.
//!
//! A small scanner splits the bytes into records without parsing them (it tracks strings,
//! escapes and nesting only), so records are parsed later, in parallel, and memory holds one
//! batch of records at a time, never a whole file.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// Largest record read; a longer one is skipped and counted.
pub const MAX_RECORD_BYTES: usize = 4 * 1024 * 1024;

/// Records read together: their bytes one after another, and each record's range.
#[derive(Debug, Default)]
pub struct Batch {
    /// The records' bytes.
    pub buf: Vec<u8>,
    /// Each record's range in `buf`.
    pub spans: Vec<(usize, usize)>,
    /// Problems met while splitting (a truncated or oversized record, bytes between records
    /// that are not JSON): (reason, detail).
    pub problems: Vec<(&'static str, String)>,
    /// Bytes read from the files (compressed size for gzip).
    pub bytes: u64,
}

impl Batch {
    /// The bytes of each record.
    pub fn records(&self) -> impl Iterator<Item = &[u8]> {
        self.spans
            .iter()
            .map(|&(a, b)| self.buf.get(a..b).unwrap_or_default())
    }
}

/// Splits `data` into records as the reader does when it arrives in pieces of `chunk` bytes
/// (the fuzz target `cloudtrail` and the tests check that the pieces do not matter).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn split_all(data: &[u8], chunk: usize) -> Batch {
    let mut s = Scanner::new();
    let mut b = Batch::default();
    for c in data.chunks(chunk.max(1)) {
        s.feed(c, false, &mut b);
    }
    s.end(&mut b);
    b
}

/// The files under `paths`: files as given, folders searched recursively (sorted by path).
pub fn expand(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            let mut found = Vec::new();
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir)? {
                    let path = entry?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else {
                        found.push(path);
                    }
                }
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Where the scanner is in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// Not known yet (nothing but whitespace read).
    Start,
    /// Records one after another (JSON Lines).
    Sequence,
    /// Records are the elements of an array (`{"Records": [` or `[` was read).
    Array,
    /// The array ended; the rest of the file is ignored.
    Done,
}

/// Splits one file's bytes into records.
struct Scanner {
    layout: Layout,
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// Bytes of the record being read.
    cur: Vec<u8>,
    /// Whether the record being read is over the bound (its bytes are dropped).
    oversized: bool,
    /// Whether non-JSON bytes are being skipped between records.
    junk: bool,
    /// The first bytes of the file but whitespace, until the layout is known.
    head: Vec<u8>,
    /// The same with the whitespace after the first byte.
    head_raw: Vec<u8>,
}

/// The opening of a delivered CloudTrail file, whitespace removed.
const RECORDS_HEAD: &[u8] = b"{\"Records\":[";

impl Scanner {
    fn new() -> Scanner {
        Scanner {
            layout: Layout::Start,
            depth: 0,
            in_string: false,
            escaped: false,
            cur: Vec::new(),
            oversized: false,
            junk: false,
            head: Vec::new(),
            head_raw: Vec::new(),
        }
    }

    /// Decides the layout from the first bytes; returns how many bytes of `data` it consumed.
    /// In the sequence layout, the bytes read so far are fed again as the first record's.
    fn start(&mut self, data: &[u8], eof: bool, batch: &mut Batch) -> usize {
        for (i, &b) in data.iter().enumerate() {
            // Whitespace, and a byte order mark before anything else.
            let bom = self.head.is_empty() && matches!(b, 0xEF | 0xBB | 0xBF);
            if b.is_ascii_whitespace() || bom {
                if !self.head.is_empty() {
                    self.head_raw.push(b);
                }
                continue;
            }
            self.head.push(b);
            self.head_raw.push(b);
            if self.head.as_slice() == b"[" || self.head.as_slice() == RECORDS_HEAD {
                self.layout = Layout::Array;
                return i + 1;
            }
            if !RECORDS_HEAD.starts_with(&self.head) {
                self.begin_sequence(batch);
                return i + 1;
            }
        }
        if eof && !self.head.is_empty() {
            self.begin_sequence(batch);
        }
        data.len()
    }

    /// The file is a sequence of records: the bytes read so far start the first one.
    fn begin_sequence(&mut self, batch: &mut Batch) {
        self.layout = Layout::Sequence;
        for b in std::mem::take(&mut self.head_raw) {
            self.byte(b, batch);
        }
    }

    /// Feeds one chunk of the file; complete records go to `batch`.
    fn feed(&mut self, data: &[u8], eof: bool, batch: &mut Batch) {
        let mut data = data;
        if self.layout == Layout::Start {
            let used = self.start(data, eof, batch);
            data = data.get(used..).unwrap_or_default();
        }
        if matches!(self.layout, Layout::Start | Layout::Done) {
            return;
        }
        let mut i = 0;
        while let Some(&b) = data.get(i) {
            if self.in_string {
                // Fast path: copy the run of plain string bytes at once.
                let run = data
                    .get(i..)
                    .unwrap_or_default()
                    .iter()
                    .position(|&c| c == b'"' || c == b'\\')
                    .unwrap_or(data.len() - i);
                if run > 0 && !self.escaped {
                    self.push(data.get(i..i + run).unwrap_or_default());
                    i += run;
                    continue;
                }
            }
            if !self.in_string && self.depth > 0 {
                // Fast path: copy the run of bytes that change no state (numbers, literals,
                // `:`, `,`, whitespace) at once.
                let run = data
                    .get(i..)
                    .unwrap_or_default()
                    .iter()
                    .position(|&c| matches!(c, b'"' | b'{' | b'}' | b'[' | b']'))
                    .unwrap_or(data.len() - i);
                if run > 0 {
                    self.push(data.get(i..i + run).unwrap_or_default());
                    i += run;
                    continue;
                }
            }
            self.byte(b, batch);
            i += 1;
            if self.layout == Layout::Done {
                return;
            }
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.oversized {
            return;
        }
        if self.cur.len() + bytes.len() > MAX_RECORD_BYTES {
            self.oversized = true;
            self.cur.clear();
            return;
        }
        self.cur.extend_from_slice(bytes);
    }

    fn byte(&mut self, b: u8, batch: &mut Batch) {
        if self.in_string {
            self.push(&[b]);
            if self.escaped {
                self.escaped = false;
            } else if b == b'\\' {
                self.escaped = true;
            } else if b == b'"' {
                self.in_string = false;
            }
            return;
        }
        if self.depth == 0 {
            match b {
                b'{' => {
                    self.junk = false;
                    self.depth = 1;
                    self.push(&[b]);
                }
                b']' if self.layout == Layout::Array => self.layout = Layout::Done,
                b',' if self.layout == Layout::Array => {}
                _ if b.is_ascii_whitespace() => {}
                _ => {
                    if !self.junk {
                        batch.problems.push((
                            "bytes between records that are not a record",
                            format!("byte 0x{b:02x}"),
                        ));
                        self.junk = true;
                    }
                }
            }
            return;
        }
        self.push(&[b]);
        match b {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth -= 1;
                if self.depth == 0 {
                    self.finish(batch);
                }
            }
            _ => {}
        }
    }

    /// A record ended.
    fn finish(&mut self, batch: &mut Batch) {
        if self.oversized {
            batch.problems.push((
                "record larger than the bound",
                format!("more than {MAX_RECORD_BYTES} bytes"),
            ));
            self.oversized = false;
        } else {
            let start = batch.buf.len();
            batch.buf.extend_from_slice(&self.cur);
            batch.spans.push((start, batch.buf.len()));
        }
        self.cur.clear();
    }

    /// The file ended.
    fn end(&mut self, batch: &mut Batch) {
        if self.layout == Layout::Start {
            self.start(&[], true, batch);
        }
        if self.depth > 0 || self.in_string {
            batch
                .problems
                .push(("truncated record", "the file ends inside a record".into()));
        } else if self.layout == Layout::Array {
            batch.problems.push((
                "truncated record",
                "the file ends inside the Records array".into(),
            ));
        }
    }
}

/// Reads records from files, one batch at a time.
pub struct Records {
    files: std::vec::IntoIter<PathBuf>,
    current: Option<(Box<dyn Read + Send>, Scanner, String)>,
    chunk: Vec<u8>,
    /// Files opened so far.
    pub files_read: usize,
}

impl Records {
    /// Records of these files (see [`expand`] for folders).
    pub fn new(files: Vec<PathBuf>) -> Records {
        Records {
            files: files.into_iter(),
            current: None,
            chunk: vec![0; 1 << 20],
            files_read: 0,
        }
    }

    /// Opens a file, through gzip when it starts with gzip's magic bytes.
    fn open(path: &Path) -> std::io::Result<Box<dyn Read + Send>> {
        let mut r = BufReader::with_capacity(1 << 16, File::open(path)?);
        let gz = r.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        Ok(if gz {
            Box::new(flate2::read::MultiGzDecoder::new(r))
        } else {
            Box::new(r)
        })
    }

    /// The next batch of at least `want` records (fewer at the end); `None` when every file
    /// is read. A file that cannot be opened or read is a problem of the batch.
    ///
    /// `recycled` is a batch the caller is done with: its buffers are reused (cleared), so
    /// steady-state reading allocates nothing and touches no fresh page.
    pub fn next_batch(&mut self, want: usize, recycled: Option<Batch>) -> Option<Batch> {
        let mut batch = match recycled {
            Some(mut b) => {
                b.buf.clear();
                b.spans.clear();
                b.problems.clear();
                b.bytes = 0;
                b
            }
            None => Batch {
                // Records are about 1-2 KB: room for most batches without growing.
                buf: Vec::with_capacity(want.saturating_mul(1536).min(64 << 20)),
                spans: Vec::with_capacity(want),
                ..Batch::default()
            },
        };
        while batch.spans.len() < want {
            if self.current.is_none() {
                let Some(path) = self.files.next() else {
                    let empty = batch.spans.is_empty() && batch.problems.is_empty();
                    return (!empty || batch.bytes > 0).then_some(batch);
                };
                self.files_read += 1;
                let name = path.display().to_string();
                match Records::open(&path) {
                    Ok(r) => self.current = Some((r, Scanner::new(), name)),
                    Err(e) => {
                        batch
                            .problems
                            .push(("file not readable", format!("{name}: {e}")));
                        if batch.spans.is_empty() && batch.problems.len() > 64 {
                            return Some(batch);
                        }
                        continue;
                    }
                }
            }
            let Some((reader, scanner, name)) = self.current.as_mut() else {
                continue;
            };
            match reader.read(&mut self.chunk) {
                Ok(0) => {
                    scanner.end(&mut batch);
                    self.current = None;
                }
                Ok(n) => {
                    batch.bytes += n as u64;
                    scanner.feed(self.chunk.get(..n).unwrap_or_default(), false, &mut batch);
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    batch
                        .problems
                        .push(("file not readable", format!("{name}: {e}")));
                    self.current = None;
                }
            }
        }
        Some(batch)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn split(text: &[u8], chunk: usize) -> (Vec<String>, Vec<&'static str>) {
        let b = split_all(text, chunk);
        let recs = b
            .records()
            .map(|r| String::from_utf8(r.to_vec()).unwrap())
            .collect();
        (recs, b.problems.iter().map(|p| p.0).collect())
    }

    #[test]
    fn splits_every_layout_at_every_chunk_size() {
        let a = r#"{"a":"x}\"{","b":[1,{"c":2}]}"#;
        let b = r#"{"d":"]"}"#;
        let delivered = format!("{{ \"Records\" : [ {a} ,\n{b} ] }}");
        let lines = format!("{a}\n{b}\n");
        let array = format!("\u{feff}[{a},{b}]");
        for text in [delivered, lines, array] {
            for chunk in [1, 2, 3, 7, 1000] {
                let (recs, problems) = split(text.as_bytes(), chunk);
                assert_eq!(recs, vec![a.to_string(), b.to_string()], "{text} / {chunk}");
                assert!(problems.is_empty(), "{text}: {problems:?}");
            }
        }
    }

    #[test]
    fn reports_truncation_and_junk() {
        let (recs, problems) = split(b"{\"a\":1}\nxyz\n{\"b\":", 4);
        assert_eq!(recs, vec!["{\"a\":1}".to_string()]);
        assert_eq!(
            problems,
            vec![
                "bytes between records that are not a record",
                "truncated record"
            ]
        );
        let (recs, problems) = split(b"{\"Records\":[{\"a\":1},", 5);
        assert_eq!(recs.len(), 1);
        assert_eq!(problems, vec!["truncated record"]);
    }
}
