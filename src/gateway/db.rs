//! The gateway's durable store: Kinesis resource policies set through the gateway
//! (`PutResourcePolicy` / `DeleteResourcePolicy`) and the mirrored tags of streams and consumers,
//! kept in an embedded SQLite database (one file, plus SQLite's `-wal` / `-shm` side files).
//!
//! # File format
//!
//! The file is an ordinary SQLite 3 database, readable with the `sqlite3` shell. Its header
//! carries `PRAGMA application_id = 0x69616d63` (`"iamc"`) and `PRAGMA user_version = 1` (the
//! schema version, see below). Tables:
//!
//! ```sql
//! -- One row per resource (stream or consumer ARN) that has a resource policy.
//! CREATE TABLE policies (
//!     arn        TEXT PRIMARY KEY,
//!     policy     TEXT NOT NULL,      -- the policy document, exactly as given
//!     updated_at TEXT NOT NULL,      -- UTC, e.g. 2024-05-01T12:00:00.000Z
//!     revision   INTEGER NOT NULL    -- the revision of the write that stored it
//! );
//! -- One row per tag of a resource.
//! CREATE TABLE tags (
//!     arn   TEXT NOT NULL,
//!     key   TEXT NOT NULL,
//!     value TEXT NOT NULL,
//!     PRIMARY KEY (arn, key)
//! ) WITHOUT ROWID;
//! -- Bookkeeping; one row today: ('revision', n).
//! CREATE TABLE meta (
//!     key   TEXT PRIMARY KEY,
//!     value INTEGER NOT NULL
//! ) WITHOUT ROWID;
//! ```
//!
//! The *revision* is a counter over all writes: every call that changes the stored state bumps it
//! by one in the same transaction as the change ([`PolicyDb::put_policy`] always does, since it at
//! least rewrites `updated_at`; a removal or a tag write that changes nothing leaves it alone). A
//! new database is at revision 0.
//!
//! # Durability
//!
//! The database runs with `journal_mode = WAL` and `synchronous = FULL`. In that mode SQLite
//! appends each transaction's pages to the `-wal` file and `fsync`s it before `COMMIT` returns, so
//! a transaction is durable on disk as soon as a write method of [`PolicyDb`] returns `Ok`; the
//! process keeps no committed state in memory that is not already in the database files.
//! Consequently:
//!
//! * a `SIGKILL` (or power loss, given a disk that honours `fsync`) *between* writes loses nothing
//!   that was acknowledged: the next [`PolicyDb::open`] replays the `-wal` file;
//! * a `SIGKILL` *during* a write loses at most that write, which had not been acknowledged: a
//!   transaction whose commit record is not complete in the `-wal` file is ignored as a whole, so
//!   a write is never half applied;
//! * every write is a single `BEGIN IMMEDIATE … COMMIT` transaction (the change and the revision
//!   bump together); on any error it is rolled back and nothing of it is stored.
//!
//! Copying a live database therefore needs the main file *and* its `-wal` file (the `-shm` file is
//! an index SQLite rebuilds); better, use `sqlite3 FILE .backup COPY`.
//!
//! # Versioning
//!
//! `PRAGMA user_version` is the schema version; this code writes and reads version
//! [`SCHEMA_VERSION`] (1). [`PolicyDb::open`] creates the schema (in one transaction) in a new or
//! empty file, opens a version-1 file as is, and refuses — without writing anything to it — a
//! file with a newer version, a file that is not a SQLite database, and a SQLite database that
//! belongs to another application (a different `application_id`, or tables but no version). A
//! future schema version will migrate version 1 in one transaction on open.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

/// The schema version this code reads and writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

/// The `PRAGMA application_id` that marks a gateway database: the bytes `"iamc"`.
pub const APPLICATION_ID: i64 = 0x6961_6d63;

/// The longest resource ARN accepted, in bytes.
pub const MAX_ARN_BYTES: usize = 2048;

/// The longest policy document accepted, in bytes (1 MiB).
pub const MAX_POLICY_BYTES: usize = 1 << 20;

/// The longest tag key accepted, in bytes (AWS allows 128 characters, at most 4 bytes each).
pub const MAX_TAG_KEY_BYTES: usize = 512;

/// The longest tag value accepted, in bytes (AWS allows 256 characters, at most 4 bytes each).
pub const MAX_TAG_VALUE_BYTES: usize = 1024;

/// The most tags one resource may have in the database (Kinesis itself allows 50), and the most
/// keys one [`PolicyDb::remove_tags`] call may name.
pub const MAX_TAGS_PER_RESOURCE: usize = 1000;

/// How long a statement waits for a lock held by another connection before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The first 16 bytes of every SQLite 3 database file.
const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// Timestamp expression for `updated_at` (UTC, millisecond precision).
const NOW_SQL: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

const SCHEMA_SQL: &str = "
CREATE TABLE IF NOT EXISTS policies (
    arn        TEXT PRIMARY KEY,
    policy     TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    revision   INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tags (
    arn   TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (arn, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (key, value) VALUES ('revision', 0);
";

/// An error of the policy database. Its message names the database file and what failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// SQLite failed (opening, querying or committing).
    #[error("policy database {}: {op} failed: {source}", .path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// What was being done.
        op: &'static str,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },
    /// Reading the file (to check its header before opening it) failed.
    #[error("policy database {}: cannot read the file: {source}", .path.display())]
    Io {
        /// The database file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file exists, is not empty and is not a SQLite database; it was left untouched.
    #[error(
        "policy database {}: the file is not a SQLite database; refusing to use or overwrite it",
        .path.display()
    )]
    NotSqlite {
        /// The database file.
        path: PathBuf,
    },
    /// The file is a SQLite database of some other application; it was left untouched.
    #[error(
        "policy database {}: the file is a SQLite database of another application ({detail}); \
         refusing to use or overwrite it",
        .path.display()
    )]
    Foreign {
        /// The database file.
        path: PathBuf,
        /// Why it is not a gateway database.
        detail: String,
    },
    /// The database has a schema version newer than this program knows; it was left untouched.
    #[error(
        "policy database {}: schema version {found} is newer than the version {supported} this \
         program supports; refusing to open it (use a newer iamc)",
        .path.display()
    )]
    NewerVersion {
        /// The database file.
        path: PathBuf,
        /// `PRAGMA user_version` of the file.
        found: i64,
        /// The newest version this program supports.
        supported: i64,
    },
    /// The database is damaged (failed `PRAGMA quick_check`, missing table, bad revision).
    #[error("policy database {}: the database is damaged: {detail}", .path.display())]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// SQLite would not switch the database to write-ahead logging.
    #[error(
        "policy database {}: cannot enable write-ahead logging (journal mode stayed {mode:?}); \
         is the file on a filesystem without shared-memory support?",
        .path.display()
    )]
    JournalMode {
        /// The database file.
        path: PathBuf,
        /// The journal mode SQLite reported.
        mode: String,
    },
    /// An input exceeds a size bound.
    #[error(
        "policy database {}: {what} is {len} bytes, over the limit of {max} bytes",
        .path.display()
    )]
    TooLarge {
        /// The database file.
        path: PathBuf,
        /// Which input.
        what: &'static str,
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An input is otherwise invalid (empty ARN, empty tag key, too many tags).
    #[error("policy database {}: invalid {what}: {reason}", .path.display())]
    Invalid {
        /// The database file.
        path: PathBuf,
        /// Which input.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// The gateway's policy and tag store: one SQLite connection to one database file.
///
/// Every write method runs one transaction and returns only once it is committed to disk (see the
/// [module documentation](self)). The type is `Send` but not `Sync`; the gateway keeps it under
/// a mutex and calls it from blocking tasks.
#[derive(Debug)]
pub struct PolicyDb {
    conn: Connection,
    path: PathBuf,
}

/// What the header pragmas and the schema of an opened file say.
enum FileState {
    /// No schema yet: an empty or new database.
    Empty,
    /// A gateway database of the current version.
    Current,
}

impl PolicyDb {
    /// Opens the database file at `path`, creating it (not its directory) when missing.
    ///
    /// Sets `journal_mode = WAL`, `synchronous = FULL` and a busy timeout, creates the schema in
    /// one transaction when the file is new, and runs `PRAGMA quick_check`. A non-empty file that
    /// is not a SQLite database, a SQLite database of another application, and a database with a
    /// newer schema version are refused with an error and left unmodified.
    pub fn open(path: &Path) -> Result<PolicyDb, DbError> {
        let path_buf = path.to_path_buf();
        let existed = check_header(path)?;

        // No SQLITE_OPEN_URI: a path that starts with "file:" is a file name, not a URI.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(sql(path, "open"))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(sql(path, "setting the busy timeout"))?;
        // The schema is ours; never run functions a crafted schema might name.
        conn.pragma_update(None, "trusted_schema", false)
            .map_err(sql(path, "setting trusted_schema"))?;

        // Look before writing anything: a foreign or newer file is refused untouched.
        inspect(&conn, path)?;

        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(sql(path, "setting journal_mode=WAL"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(DbError::JournalMode {
                path: path_buf,
                mode,
            });
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sql(path, "setting synchronous=FULL"))?;

        quick_check(&conn, path)?;

        let mut db = PolicyDb {
            conn,
            path: path_buf,
        };
        db.init_schema()?;
        if !existed {
            sync_parent_dir(path);
        }
        Ok(db)
    }

    /// The database file this was opened with.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Stores (inserts or replaces) the policy document of the resource `arn`, and returns the new
    /// revision once the write is committed to disk.
    pub fn put_policy(&mut self, arn: &str, policy_json: &str) -> Result<u64, DbError> {
        self.check_arn(arn)?;
        if policy_json.len() > MAX_POLICY_BYTES {
            return Err(self.too_large("policy document", policy_json.len(), MAX_POLICY_BYTES));
        }
        if policy_json.trim().is_empty() {
            return Err(self.invalid("policy document", "it is empty"));
        }
        let path = &self.path;
        let tx = begin(&mut self.conn, path)?;
        let revision = bump_revision(&tx, path)?;
        let stored = i64::try_from(revision).map_err(|_| corrupt(path, "revision overflow"))?;
        tx.execute(
            &format!(
                "INSERT INTO policies (arn, policy, updated_at, revision) \
                 VALUES (?1, ?2, {NOW_SQL}, ?3) \
                 ON CONFLICT (arn) DO UPDATE SET policy = excluded.policy, \
                 updated_at = excluded.updated_at, revision = excluded.revision"
            ),
            params![arn, policy_json, stored],
        )
        .map_err(sql(path, "storing a policy"))?;
        tx.commit().map_err(sql(path, "committing a policy"))?;
        Ok(revision)
    }

    /// Removes the policy of the resource `arn`; `Ok(false)` when it had none (and then nothing
    /// is written).
    pub fn delete_policy(&mut self, arn: &str) -> Result<bool, DbError> {
        self.check_arn(arn)?;
        let path = &self.path;
        let tx = begin(&mut self.conn, path)?;
        let removed = tx
            .execute("DELETE FROM policies WHERE arn = ?1", params![arn])
            .map_err(sql(path, "deleting a policy"))?;
        if removed == 0 {
            return Ok(false); // dropping `tx` rolls back the empty transaction
        }
        bump_revision(&tx, path)?;
        tx.commit()
            .map_err(sql(path, "committing a policy deletion"))?;
        Ok(true)
    }

    /// Every stored `(arn, policy document)`, ordered by ARN.
    pub fn policies(&self) -> Result<Vec<(String, String)>, DbError> {
        let read = || -> rusqlite::Result<Vec<(String, String)>> {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT arn, policy FROM policies ORDER BY arn")?;
            let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect()
        };
        read().map_err(sql(&self.path, "listing policies"))
    }

    /// Adds tags to the resource `arn` (a stream or consumer ARN), overwriting the values of keys
    /// it already has, in one transaction.
    pub fn add_tags(&mut self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), DbError> {
        self.check_arn(arn)?;
        if tags.len() > MAX_TAGS_PER_RESOURCE {
            return Err(self.too_many_tags(tags.len()));
        }
        for (key, value) in tags {
            self.check_tag_key(key)?;
            if value.len() > MAX_TAG_VALUE_BYTES {
                return Err(self.too_large("tag value", value.len(), MAX_TAG_VALUE_BYTES));
            }
        }
        if tags.is_empty() {
            return Ok(());
        }
        let path = &self.path;
        let tx = begin(&mut self.conn, path)?;
        let mut changed = 0usize;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO tags (arn, key, value) VALUES (?1, ?2, ?3) \
                     ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value \
                     WHERE value IS NOT excluded.value",
                )
                .map_err(sql(path, "storing tags"))?;
            for (key, value) in tags {
                changed += stmt
                    .execute(params![arn, key, value])
                    .map_err(sql(path, "storing tags"))?;
            }
        }
        if changed == 0 {
            return Ok(()); // every tag was already there with that value
        }
        let count: i64 = tx
            .query_row(
                "SELECT count(*) FROM tags WHERE arn = ?1",
                params![arn],
                |row| row.get(0),
            )
            .map_err(sql(path, "counting tags"))?;
        let count = usize::try_from(count).unwrap_or(usize::MAX);
        if count > MAX_TAGS_PER_RESOURCE {
            drop(tx); // roll back
            return Err(self.too_many_tags(count));
        }
        bump_revision(&tx, path)?;
        tx.commit().map_err(sql(path, "committing tags"))?;
        Ok(())
    }

    /// Removes the tags with exactly these keys from the resource `arn`, in one transaction; keys
    /// it does not have are ignored.
    pub fn remove_tags(&mut self, arn: &str, keys: &[String]) -> Result<(), DbError> {
        self.check_arn(arn)?;
        if keys.len() > MAX_TAGS_PER_RESOURCE {
            return Err(self.too_many_tags(keys.len()));
        }
        for key in keys {
            self.check_tag_key(key)?;
        }
        if keys.is_empty() {
            return Ok(());
        }
        let path = &self.path;
        let tx = begin(&mut self.conn, path)?;
        let mut removed = 0usize;
        {
            let mut stmt = tx
                .prepare_cached("DELETE FROM tags WHERE arn = ?1 AND key = ?2")
                .map_err(sql(path, "removing tags"))?;
            for key in keys {
                removed += stmt
                    .execute(params![arn, key])
                    .map_err(sql(path, "removing tags"))?;
            }
        }
        if removed == 0 {
            return Ok(());
        }
        bump_revision(&tx, path)?;
        tx.commit().map_err(sql(path, "committing a tag removal"))?;
        Ok(())
    }

    /// The tags of every resource that has any: ARN → (key → value), ordered.
    pub fn all_tags(&self) -> Result<BTreeMap<String, BTreeMap<String, String>>, DbError> {
        let read = || -> rusqlite::Result<BTreeMap<String, BTreeMap<String, String>>> {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT arn, key, value FROM tags ORDER BY arn, key")?;
            let mut rows = stmt.query([])?;
            let mut all: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
            while let Some(row) = rows.next()? {
                let arn: String = row.get(0)?;
                let key: String = row.get(1)?;
                let value: String = row.get(2)?;
                all.entry(arn).or_default().insert(key, value);
            }
            Ok(all)
        };
        read().map_err(sql(&self.path, "listing tags"))
    }

    /// Forgets the resource `arn` — its policy and its tags — in one transaction, e.g. after
    /// `DeleteStream`. With a stream ARN it also forgets that stream's consumers (the resources
    /// whose ARN starts with `<arn>/consumer/`).
    pub fn forget_resource(&mut self, arn: &str) -> Result<(), DbError> {
        self.check_arn(arn)?;
        // Consumer ARNs are exactly the strings in [lo, hi): `lo` is the prefix and `hi` the
        // prefix with its last byte ('/') raised to '0'. SQLite compares TEXT bytewise.
        let lo = format!("{arn}/consumer/");
        let hi = format!("{arn}/consumer0");
        let path = &self.path;
        let tx = begin(&mut self.conn, path)?;
        let mut removed = 0usize;
        for (table, op) in [
            ("policies", "forgetting a resource's policy"),
            ("tags", "forgetting a resource's tags"),
        ] {
            removed += tx
                .execute(
                    &format!("DELETE FROM {table} WHERE arn = ?1 OR (arn >= ?2 AND arn < ?3)"),
                    params![arn, lo, hi],
                )
                .map_err(sql(path, op))?;
        }
        if removed == 0 {
            return Ok(());
        }
        bump_revision(&tx, path)?;
        tx.commit()
            .map_err(sql(path, "committing a resource removal"))?;
        Ok(())
    }

    /// The current revision: how many state-changing writes the database has seen (0 when new).
    pub fn revision(&self) -> Result<u64, DbError> {
        read_revision(&self.conn, &self.path)
    }

    /// Creates the schema of a new database, in one transaction; checks it in an existing one.
    fn init_schema(&mut self) -> Result<(), DbError> {
        let path = &self.path;
        let tx = begin(&mut self.conn, path)?;
        // Look again under the write lock: another process may have initialised it meanwhile.
        match inspect(&tx, path)? {
            FileState::Empty => {
                tx.execute_batch(SCHEMA_SQL)
                    .map_err(sql(path, "creating the schema"))?;
                tx.pragma_update(None, "application_id", APPLICATION_ID)
                    .map_err(sql(path, "setting application_id"))?;
                tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                    .map_err(sql(path, "setting user_version"))?;
                tx.commit().map_err(sql(path, "committing the schema"))?;
            }
            FileState::Current => {
                for table in ["policies", "tags", "meta"] {
                    let found: Option<String> = tx
                        .query_row(
                            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name = ?1",
                            params![table],
                            |row| row.get(0),
                        )
                        .optional()
                        .map_err(sql(path, "reading the schema"))?;
                    if found.is_none() {
                        return Err(corrupt(path, &format!("table {table:?} is missing")));
                    }
                }
                read_revision(&tx, path)?;
                // Nothing written: dropping `tx` ends the transaction.
            }
        }
        Ok(())
    }

    fn check_arn(&self, arn: &str) -> Result<(), DbError> {
        if arn.is_empty() {
            return Err(self.invalid("resource ARN", "it is empty"));
        }
        if arn.len() > MAX_ARN_BYTES {
            return Err(self.too_large("resource ARN", arn.len(), MAX_ARN_BYTES));
        }
        Ok(())
    }

    fn check_tag_key(&self, key: &str) -> Result<(), DbError> {
        if key.is_empty() {
            return Err(self.invalid("tag key", "it is empty"));
        }
        if key.len() > MAX_TAG_KEY_BYTES {
            return Err(self.too_large("tag key", key.len(), MAX_TAG_KEY_BYTES));
        }
        Ok(())
    }

    fn too_large(&self, what: &'static str, len: usize, max: usize) -> DbError {
        DbError::TooLarge {
            path: self.path.clone(),
            what,
            len,
            max,
        }
    }

    fn invalid(&self, what: &'static str, reason: &str) -> DbError {
        DbError::Invalid {
            path: self.path.clone(),
            what,
            reason: reason.to_owned(),
        }
    }

    fn too_many_tags(&self, count: usize) -> DbError {
        self.invalid(
            "tags",
            &format!("{count} tags on one resource, over the limit of {MAX_TAGS_PER_RESOURCE}"),
        )
    }
}

/// Maps a SQLite error to [`DbError::Sqlite`].
fn sql<'a>(path: &'a Path, op: &'static str) -> impl FnOnce(rusqlite::Error) -> DbError + 'a {
    move |source| DbError::Sqlite {
        path: path.to_path_buf(),
        op,
        source,
    }
}

fn corrupt(path: &Path, detail: &str) -> DbError {
    DbError::Corrupt {
        path: path.to_path_buf(),
        detail: detail.to_owned(),
    }
}

/// Starts a write transaction, taking the write lock at once (so it cannot fail half-way on a
/// lock upgrade).
fn begin<'c>(conn: &'c mut Connection, path: &Path) -> Result<rusqlite::Transaction<'c>, DbError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql(path, "starting a transaction"))
}

fn read_revision(conn: &Connection, path: &Path) -> Result<u64, DbError> {
    let value: Option<i64> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'revision' AND typeof(value) = 'integer'",
            [],
            |row| row.get(0),
        )
        .optional()
        .map_err(sql(path, "reading the revision"))?;
    let value = value.ok_or_else(|| corrupt(path, "the revision is missing from table meta"))?;
    u64::try_from(value).map_err(|_| corrupt(path, &format!("the revision {value} is negative")))
}

/// Adds one to the revision inside the transaction `conn` and returns the new value.
fn bump_revision(conn: &Connection, path: &Path) -> Result<u64, DbError> {
    let current = read_revision(conn, path)?;
    let next = current
        .checked_add(1)
        .filter(|next| i64::try_from(*next).is_ok())
        .ok_or_else(|| corrupt(path, "the revision counter is exhausted"))?;
    let stored = i64::try_from(next).map_err(|_| corrupt(path, "revision overflow"))?;
    conn.execute(
        "UPDATE meta SET value = ?1 WHERE key = 'revision'",
        params![stored],
    )
    .map_err(sql(path, "updating the revision"))?;
    Ok(next)
}

/// Refuses, before SQLite touches it, a non-empty file that does not start with the SQLite
/// header (SQLite would treat a short one as empty and overwrite it). Returns whether the file
/// existed.
fn check_header(path: &Path) -> Result<bool, DbError> {
    let io_err = |source| DbError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io_err(e)),
    };
    let meta = file.metadata().map_err(io_err)?;
    if !meta.is_file() {
        return Err(DbError::NotSqlite {
            path: path.to_path_buf(),
        });
    }
    if meta.len() == 0 {
        return Ok(true);
    }
    let mut header = Vec::with_capacity(SQLITE_MAGIC.len());
    file.by_ref()
        .take(SQLITE_MAGIC.len() as u64)
        .read_to_end(&mut header)
        .map_err(io_err)?;
    if header.as_slice() != SQLITE_MAGIC.as_slice() || meta.len() < 100 {
        return Err(DbError::NotSqlite {
            path: path.to_path_buf(),
        });
    }
    Ok(true)
}

/// Reads the header pragmas and the schema, refusing files that are not ours or too new. Writes
/// nothing.
fn inspect(conn: &Connection, path: &Path) -> Result<FileState, DbError> {
    let read = || -> rusqlite::Result<(i64, i64, i64)> {
        let app: i64 = conn.pragma_query_value(None, "application_id", |row| row.get(0))?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let objects: i64 = conn.query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
            [],
            |row| row.get(0),
        )?;
        Ok((app, version, objects))
    };
    let (app, version, objects) = read().map_err(|source| {
        if source.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
            DbError::NotSqlite {
                path: path.to_path_buf(),
            }
        } else {
            DbError::Sqlite {
                path: path.to_path_buf(),
                op: "reading the database header",
                source,
            }
        }
    })?;
    let foreign = |detail: String| DbError::Foreign {
        path: path.to_path_buf(),
        detail,
    };
    if app != 0 && app != APPLICATION_ID {
        return Err(foreign(format!("application_id {app:#x}")));
    }
    if version > SCHEMA_VERSION {
        return Err(DbError::NewerVersion {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    match (app, version) {
        (0, 0) if objects == 0 => Ok(FileState::Empty),
        (0, 0) => Err(foreign(format!(
            "{objects} schema objects but no iamc schema version"
        ))),
        (APPLICATION_ID, SCHEMA_VERSION) => Ok(FileState::Current),
        (APPLICATION_ID, _) => Err(corrupt(
            path,
            &format!("iamc database with invalid schema version {version}"),
        )),
        _ => Err(foreign(format!(
            "user_version {version} without the iamc application_id"
        ))),
    }
}

fn quick_check(conn: &Connection, path: &Path) -> Result<(), DbError> {
    let mut messages: Vec<String> = Vec::new();
    conn.pragma_query(None, "quick_check", |row| {
        if messages.len() < 5 {
            messages.push(row.get(0)?);
        }
        Ok(())
    })
    .map_err(sql(path, "PRAGMA quick_check"))?;
    if messages.len() == 1 && messages[0] == "ok" {
        Ok(())
    } else {
        Err(corrupt(
            path,
            &format!("PRAGMA quick_check: {}", messages.join("; ")),
        ))
    }
}

/// Makes a newly created file's directory entry durable (best effort; SQLite also syncs the
/// directory when it creates the `-wal` file).
fn sync_parent_dir(path: &Path) {
    #[cfg(unix)]
    {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        if let Ok(dir) = File::open(parent) {
            let _ = dir.sync_all();
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
    }
}

#[cfg(test)]
mod tests;
