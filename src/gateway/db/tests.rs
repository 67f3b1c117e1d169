//! Tests of `db`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Reads of one resource, which only these tests need: the gateway reads everything at
/// once (`policies`, `all_tags`).
impl PolicyDb {
    /// The policy document of the resource `arn`, if it has one.
    fn policy(&self, arn: &str) -> Result<Option<String>, DbError> {
        self.conn
            .prepare_cached("SELECT policy FROM policies WHERE arn = ?1")
            .and_then(|mut stmt| stmt.query_row(params![arn], |row| row.get(0)).optional())
            .map_err(sql(&self.path, "reading a policy"))
    }

    /// The tags of the resource `arn` (empty when it has none).
    fn tags(&self, arn: &str) -> Result<BTreeMap<String, String>, DbError> {
        let read = || -> rusqlite::Result<BTreeMap<String, String>> {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT key, value FROM tags WHERE arn = ?1")?;
            let rows = stmt.query_map(params![arn], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect()
        };
        read().map_err(sql(&self.path, "reading tags"))
    }
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "iamc-db-test-{}-{}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            nanos,
            name
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const STREAM: &str = "arn:aws:kinesis:us-east-1:123456789012:stream/orders";
const POLICY: &str = r#"{"Version":"2012-10-17","Statement":[]}"#;

fn tagmap(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn consumer(stream: &str, name: &str) -> String {
    format!("{stream}/consumer/{name}:1700000000")
}

#[test]
fn create_reopen_keeps_policies_and_tags() {
    let dir = TempDir::new("reopen");
    let path = dir.file("gw.db");
    {
        let mut db = PolicyDb::open(&path).unwrap();
        assert_eq!(db.path(), path.as_path());
        assert_eq!(db.revision().unwrap(), 0);
        assert!(db.policies().unwrap().is_empty());
        assert!(db.all_tags().unwrap().is_empty());
        db.put_policy(STREAM, POLICY).unwrap();
        db.add_tags(STREAM, &tagmap(&[("env", "prod"), ("team", "a")]))
            .unwrap();
    }
    let db = PolicyDb::open(&path).unwrap();
    assert_eq!(db.policy(STREAM).unwrap().as_deref(), Some(POLICY));
    assert_eq!(
        db.policies().unwrap(),
        vec![(STREAM.to_string(), POLICY.to_string())]
    );
    assert_eq!(
        db.tags(STREAM).unwrap(),
        tagmap(&[("env", "prod"), ("team", "a")])
    );
    assert_eq!(db.revision().unwrap(), 2);
    let meta = |name: &str| -> i64 {
        db.conn
            .pragma_query_value(None, name, |row| row.get(0))
            .unwrap()
    };
    assert_eq!(meta("user_version"), SCHEMA_VERSION);
    assert_eq!(meta("application_id"), APPLICATION_ID);
    let mode: String = db
        .conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = db
        .conn
        .pragma_query_value(None, "synchronous", |row| row.get(0))
        .unwrap();
    assert_eq!(sync, 2, "synchronous=FULL");
}

#[test]
fn empty_existing_file_is_initialised() {
    let dir = TempDir::new("emptyfile");
    let path = dir.file("gw.db");
    std::fs::write(&path, b"").unwrap();
    let mut db = PolicyDb::open(&path).unwrap();
    assert_eq!(db.put_policy(STREAM, POLICY).unwrap(), 1);
}

#[test]
fn put_replaces_and_lists_in_order() {
    let dir = TempDir::new("put");
    let mut db = PolicyDb::open(&dir.file("gw.db")).unwrap();
    let other = "arn:aws:kinesis:us-east-1:123456789012:stream/alpha";
    assert_eq!(db.put_policy(STREAM, POLICY).unwrap(), 1);
    assert_eq!(db.put_policy(STREAM, "{\"v\":2}").unwrap(), 2);
    assert_eq!(db.put_policy(other, POLICY).unwrap(), 3);
    assert_eq!(db.policy(STREAM).unwrap().as_deref(), Some("{\"v\":2}"));
    assert_eq!(db.policy("arn:none").unwrap(), None);
    assert_eq!(
        db.policies().unwrap(),
        vec![
            (other.to_string(), POLICY.to_string()),
            (STREAM.to_string(), "{\"v\":2}".to_string()),
        ]
    );
    let stored_rev: i64 = db
        .conn
        .query_row(
            "SELECT revision FROM policies WHERE arn = ?1",
            [STREAM],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored_rev, 2);
}

#[test]
fn delete_returns_false_for_none() {
    let dir = TempDir::new("delete");
    let mut db = PolicyDb::open(&dir.file("gw.db")).unwrap();
    assert!(!db.delete_policy(STREAM).unwrap());
    assert_eq!(db.revision().unwrap(), 0);
    db.put_policy(STREAM, POLICY).unwrap();
    assert!(db.delete_policy(STREAM).unwrap());
    assert_eq!(db.revision().unwrap(), 2);
    assert_eq!(db.policy(STREAM).unwrap(), None);
    assert!(!db.delete_policy(STREAM).unwrap());
    assert_eq!(db.revision().unwrap(), 2);
}

#[test]
fn tags_add_overwrite_remove() {
    let dir = TempDir::new("tags");
    let mut db = PolicyDb::open(&dir.file("gw.db")).unwrap();
    db.add_tags(STREAM, &tagmap(&[("a", "1"), ("b", "2")]))
        .unwrap();
    assert_eq!(db.revision().unwrap(), 1);
    db.add_tags(STREAM, &tagmap(&[("b", "3"), ("c", "4")]))
        .unwrap();
    assert_eq!(db.revision().unwrap(), 2);
    assert_eq!(
        db.tags(STREAM).unwrap(),
        tagmap(&[("a", "1"), ("b", "3"), ("c", "4")])
    );
    // Same values again: nothing changes, no revision bump.
    db.add_tags(STREAM, &tagmap(&[("b", "3")])).unwrap();
    db.add_tags(STREAM, &BTreeMap::new()).unwrap();
    assert_eq!(db.revision().unwrap(), 2);
    db.remove_tags(STREAM, &["a".to_string(), "zz".to_string()])
        .unwrap();
    assert_eq!(db.revision().unwrap(), 3);
    db.remove_tags(STREAM, &["A".to_string()]).unwrap(); // exact keys only
    assert_eq!(db.revision().unwrap(), 3);
    assert_eq!(db.tags(STREAM).unwrap(), tagmap(&[("b", "3"), ("c", "4")]));
    assert!(db.tags("arn:none").unwrap().is_empty());
    let c = consumer(STREAM, "c1");
    db.add_tags(&c, &tagmap(&[("x", "y")])).unwrap();
    let all = db.all_tags().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[STREAM], tagmap(&[("b", "3"), ("c", "4")]));
    assert_eq!(all[&c], tagmap(&[("x", "y")]));
}

#[test]
fn forget_resource_removes_consumers_too() {
    let dir = TempDir::new("forget");
    let mut db = PolicyDb::open(&dir.file("gw.db")).unwrap();
    let c1 = consumer(STREAM, "c1");
    let c2 = consumer(STREAM, "c2");
    // Shares a prefix with STREAM but is another stream: must survive.
    let sibling = format!("{STREAM}-2");
    let sibling_consumer = consumer(&sibling, "c1");
    let sibling_like = format!("{STREAM}/consumerx"); // not under "/consumer/"
    for arn in [
        STREAM,
        c1.as_str(),
        c2.as_str(),
        &sibling,
        &sibling_consumer,
    ] {
        db.put_policy(arn, POLICY).unwrap();
        db.add_tags(arn, &tagmap(&[("k", "v")])).unwrap();
    }
    db.add_tags(&sibling_like, &tagmap(&[("k", "v")])).unwrap();
    let before = db.revision().unwrap();
    db.forget_resource(STREAM).unwrap();
    assert_eq!(db.revision().unwrap(), before + 1);
    let arns: Vec<String> = db.policies().unwrap().into_iter().map(|p| p.0).collect();
    assert_eq!(arns, vec![sibling.clone(), sibling_consumer.clone()]);
    let tagged: Vec<String> = db.all_tags().unwrap().into_keys().collect();
    assert_eq!(
        tagged,
        vec![sibling.clone(), sibling_consumer.clone(), sibling_like]
    );
    // Forgetting a single consumer leaves its stream.
    db.forget_resource(&sibling_consumer).unwrap();
    assert_eq!(db.policy(&sibling).unwrap().as_deref(), Some(POLICY));
    assert_eq!(db.policy(&sibling_consumer).unwrap(), None);
    // Forgetting something unknown writes nothing.
    let rev = db.revision().unwrap();
    db.forget_resource("arn:aws:kinesis:us-east-1:1:stream/none")
        .unwrap();
    assert_eq!(db.revision().unwrap(), rev);
}

#[test]
fn revision_increments_and_persists() {
    let dir = TempDir::new("revision");
    let path = dir.file("gw.db");
    {
        let mut db = PolicyDb::open(&path).unwrap();
        for i in 1..=5u64 {
            assert_eq!(db.put_policy(STREAM, &format!("{{\"n\":{i}}}")).unwrap(), i);
            assert_eq!(db.revision().unwrap(), i);
        }
        db.add_tags(STREAM, &tagmap(&[("a", "b")])).unwrap();
        assert_eq!(db.revision().unwrap(), 6);
    }
    let mut db = PolicyDb::open(&path).unwrap();
    assert_eq!(db.revision().unwrap(), 6);
    assert_eq!(db.put_policy(STREAM, POLICY).unwrap(), 7);
}

fn assert_refused_untouched(path: &Path, content: &[u8]) -> DbError {
    std::fs::write(path, content).unwrap();
    let err = PolicyDb::open(path).unwrap_err();
    assert_eq!(std::fs::read(path).unwrap(), content, "file was modified");
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    assert!(!wal.exists(), "a -wal file was created");
    err
}

#[test]
fn non_sqlite_file_is_refused_and_not_modified() {
    let dir = TempDir::new("notsqlite");
    let path = dir.file("gw.db");
    let mut text = b"this is not a database\n".repeat(300);
    let err = assert_refused_untouched(&path, &text);
    assert!(matches!(err, DbError::NotSqlite { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("gw.db") && msg.contains("not a SQLite database"),
        "{msg}"
    );
    // A short file (SQLite alone would treat it as empty and overwrite it).
    let err = assert_refused_untouched(&path, b"{}\n");
    assert!(matches!(err, DbError::NotSqlite { .. }), "{err:?}");
    // The magic, but garbage after it.
    text.splice(0..0, SQLITE_MAGIC.iter().copied());
    let err = assert_refused_untouched(&path, &text);
    assert!(
        matches!(
            err,
            DbError::NotSqlite { .. } | DbError::Sqlite { .. } | DbError::Corrupt { .. }
        ),
        "{err:?}"
    );
    // A directory.
    let err = PolicyDb::open(&dir.0).unwrap_err();
    assert!(err.to_string().contains(&dir.0.display().to_string()));
}

#[test]
fn newer_version_is_refused_and_not_modified() {
    let dir = TempDir::new("newer");
    let path = dir.file("gw.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(SCHEMA_SQL).unwrap();
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = PolicyDb::open(&path).unwrap_err();
    assert!(
        matches!(
            err,
            DbError::NewerVersion {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("gw.db") && msg.contains("version 2"), "{msg}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    // Same for a bare user_version (no application_id).
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "application_id", 0).unwrap();
        conn.pragma_update(None, "user_version", 7).unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = PolicyDb::open(&path).unwrap_err();
    assert!(
        matches!(err, DbError::NewerVersion { found: 7, .. }),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn foreign_sqlite_database_is_refused_and_not_modified() {
    let dir = TempDir::new("foreign");
    let path = dir.file("other.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = PolicyDb::open(&path).unwrap_err();
    assert!(matches!(err, DbError::Foreign { .. }), "{err:?}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "application_id", 42).unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = PolicyDb::open(&path).unwrap_err();
    assert!(err.to_string().contains("application_id 0x2a"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn missing_directory_is_a_clear_error() {
    let dir = TempDir::new("nodir");
    let path = dir.file("no/such/dir/gw.db");
    let err = PolicyDb::open(&path).unwrap_err();
    assert!(err.to_string().contains("no/such/dir/gw.db"), "{err}");
}

#[test]
fn bounds_are_enforced() {
    let dir = TempDir::new("bounds");
    let mut db = PolicyDb::open(&dir.file("gw.db")).unwrap();
    let long_arn = "a".repeat(MAX_ARN_BYTES + 1);
    let err = db.put_policy(&long_arn, POLICY).unwrap_err();
    assert!(
        matches!(
            err,
            DbError::TooLarge {
                what: "resource ARN",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("2049 bytes"), "{err}");
    let ok_arn = "a".repeat(MAX_ARN_BYTES);
    db.put_policy(&ok_arn, POLICY).unwrap();
    let big = format!("\"{}\"", "x".repeat(MAX_POLICY_BYTES));
    let err = db.put_policy(STREAM, &big).unwrap_err();
    assert!(
        matches!(
            err,
            DbError::TooLarge {
                what: "policy document",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(matches!(
        db.put_policy(STREAM, " ").unwrap_err(),
        DbError::Invalid { .. }
    ));
    assert!(matches!(
        db.put_policy("", POLICY).unwrap_err(),
        DbError::Invalid { .. }
    ));
    assert!(db.delete_policy(&long_arn).is_err());
    assert!(db.forget_resource("").is_err());
    let err = db
        .add_tags(
            STREAM,
            &tagmap(&[("k", &"v".repeat(MAX_TAG_VALUE_BYTES + 1))]),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            DbError::TooLarge {
                what: "tag value",
                ..
            }
        ),
        "{err:?}"
    );
    let long_key = "k".repeat(MAX_TAG_KEY_BYTES + 1);
    assert!(db.add_tags(STREAM, &tagmap(&[(&long_key, "v")])).is_err());
    assert!(db.add_tags(STREAM, &tagmap(&[("", "v")])).is_err());
    assert!(db.remove_tags(STREAM, &[long_key]).is_err());
    // Too many tags on one resource, across calls: the offending call is rolled back.
    let half: BTreeMap<String, String> = (0..MAX_TAGS_PER_RESOURCE / 2 + 1)
        .map(|i| (format!("a{i}"), String::new()))
        .collect();
    db.add_tags(STREAM, &half).unwrap();
    let rev = db.revision().unwrap();
    let other_half: BTreeMap<String, String> = (0..MAX_TAGS_PER_RESOURCE / 2)
        .map(|i| (format!("b{i}"), String::new()))
        .collect();
    let err = db.add_tags(STREAM, &other_half).unwrap_err();
    assert!(
        matches!(err, DbError::Invalid { what: "tags", .. }),
        "{err:?}"
    );
    assert_eq!(db.tags(STREAM).unwrap().len(), half.len());
    assert_eq!(db.revision().unwrap(), rev);
    // Failed writes stored nothing.
    assert_eq!(db.policies().unwrap().len(), 1);
}

#[test]
fn odd_text_round_trips() {
    let dir = TempDir::new("odd");
    let mut db = PolicyDb::open(&dir.file("gw.db")).unwrap();
    let arn = "arn:aws:kinesis:us-east-1:1:stream/ü'\";--%_\\";
    let policy = "{\"a\":\"\u{0}\u{1F600}'\"}";
    db.put_policy(arn, policy).unwrap();
    db.add_tags(arn, &tagmap(&[("k%_'", "v\u{0}")])).unwrap();
    assert_eq!(db.policy(arn).unwrap().as_deref(), Some(policy));
    assert_eq!(db.tags(arn).unwrap(), tagmap(&[("k%_'", "v\u{0}")]));
    db.forget_resource(arn).unwrap();
    assert!(db.policies().unwrap().is_empty());
}

/// Committed writes live in the database files, not in process memory: a second connection,
/// and a copy of the files taken while the first connection is still open (and never closed,
/// as after a SIGKILL), see every acknowledged write.
#[test]
fn acknowledged_writes_survive_a_crash() {
    const N: usize = 200;
    let dir = TempDir::new("crash");
    let path = dir.file("gw.db");
    let arn = |i: usize| format!("arn:aws:kinesis:us-east-1:1:stream/s{i:04}");
    let mut db = PolicyDb::open(&path).unwrap();
    for i in 0..N {
        db.put_policy(&arn(i), &format!("{{\"n\":{i}}}")).unwrap();
        db.add_tags(&arn(i), &tagmap(&[("i", &i.to_string())]))
            .unwrap();
    }
    // "Crash": the connection is never closed, so SQLite never checkpoints or cleans up.
    std::mem::forget(db);

    let wal = PathBuf::from(format!("{}-wal", path.display()));
    assert!(wal.exists(), "expected a -wal file next to the database");
    let snapshot = TempDir::new("crash-copy");
    let copy = snapshot.file("gw.db");
    std::fs::copy(&path, &copy).unwrap();
    std::fs::copy(&wal, snapshot.file("gw.db-wal")).unwrap();

    for p in [&path, &copy] {
        let db = PolicyDb::open(p).unwrap();
        assert_eq!(db.revision().unwrap(), (2 * N) as u64, "{}", p.display());
        let policies = db.policies().unwrap();
        assert_eq!(policies.len(), N);
        for (i, (a, text)) in policies.iter().enumerate() {
            assert_eq!(a, &arn(i));
            assert_eq!(text, &format!("{{\"n\":{i}}}"));
        }
        let tags = db.all_tags().unwrap();
        assert_eq!(tags.len(), N);
        assert_eq!(tags[&arn(7)], tagmap(&[("i", "7")]));
    }
    // The second connection can write too (one writer at a time).
    let mut second = PolicyDb::open(&path).unwrap();
    assert_eq!(
        second.put_policy(&arn(0), POLICY).unwrap(),
        (2 * N + 1) as u64
    );
}

#[test]
fn errors_are_send_sync_and_name_the_file() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync::<DbError>();
    assert_send::<PolicyDb>();
    let err = DbError::Sqlite {
        path: PathBuf::from("/var/lib/iamc/gw.db"),
        op: "committing a policy",
        source: rusqlite::Error::InvalidQuery,
    };
    let msg = err.to_string();
    assert!(msg.contains("/var/lib/iamc/gw.db") && msg.contains("committing a policy"));
}
