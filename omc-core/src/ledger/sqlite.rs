//! [`SqliteLedger`]: the run ledger in a SQLite file, with its lock in a file beside it.

use super::{
    EntryState, EntryUpdate, LedgerError, LedgerLock, LedgerSummary, LockHolder, RunId, RunKind,
    RunLedger, RunOutcome, RunRecord,
};
use crate::registry::{RegistrantId, WriteDates};
use crate::time::Timestamp;
use async_trait::async_trait;
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use std::collections::BTreeMap;
use std::fmt;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// The schema version this code reads and writes (`PRAGMA user_version`).
const SCHEMA_VERSION: i64 = 1;

/// How long a call waits for another connection's write to end before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Schema version 1. `entries_by_state` (with the implicit rowid, the registrant) serves the
/// `pending` and `failed` pages and the summary; `runs_by_outcome` (with the implicit id) the
/// newest completed run of a kind; `runs_by_end` the pruning.
const SCHEMA: &str = "
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    started INTEGER NOT NULL,
    ended INTEGER,
    outcome TEXT NOT NULL,
    watermark INTEGER,
    report TEXT,
    error TEXT
) STRICT;
CREATE INDEX runs_by_outcome ON runs (outcome, kind);
CREATE INDEX runs_by_end ON runs (ended);
CREATE TABLE entries (
    registrant INTEGER PRIMARY KEY,
    state TEXT NOT NULL,
    since INTEGER,
    attempts INTEGER,
    code TEXT,
    at INTEGER,
    partner_written TEXT,
    ids_written TEXT,
    CHECK ((state = 'pending' AND since IS NOT NULL AND attempts BETWEEN 0 AND 4294967295
            AND code IS NULL)
        OR (state = 'failed' AND code IS NOT NULL AND at IS NOT NULL
            AND since IS NULL AND attempts IS NULL))
) STRICT;
CREATE INDEX entries_by_state ON entries (state);
";

const RUN_COLUMNS: &str = "id, kind, started, ended, outcome, watermark, report, error";

/// A run ledger in a SQLite file: durable, nothing to install.
///
/// The file is in WAL mode with `synchronous = NORMAL`: every call is one transaction, and a
/// committed one survives the death of the process (even by `SIGKILL`) because it is in the
/// operating system's hands when the call returns; a power loss keeps the file consistent but
/// may roll back the last transactions before it. Several processes may open one file; runs
/// on it never overlap because each takes the [lock](RunLedger::lock) first, an OS file lock
/// on `<path>.lock` that the OS releases when its process dies.
///
/// Calls run on tokio's blocking threads, so they need a tokio runtime. Clones share one
/// connection.
#[derive(Clone)]
pub struct SqliteLedger {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    lock_path: PathBuf,
    location: String,
    conn: Mutex<Connection>,
}

impl fmt::Debug for SqliteLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteLedger")
            .field("path", &self.inner.path)
            .finish()
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn storage(location: &str, message: &str, source: Option<BoxError>) -> LedgerError {
    LedgerError::Storage {
        location: location.to_owned(),
        message: message.to_owned(),
        source,
    }
}

impl SqliteLedger {
    /// Opens the ledger at `path`, creating the file and its schema if absent.
    ///
    /// Refuses a file whose schema is newer than this code knows, and a SQLite file of another
    /// application. Blocks while it opens: from async code, call it on a blocking thread.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, LedgerError> {
        let path = path.as_ref().to_path_buf();
        let location = path.display().to_string();
        let fail = |message: &str| {
            let location = location.clone();
            let message = message.to_owned();
            move |e: rusqlite::Error| storage(&location, &message, Some(Box::new(e)))
        };
        let mut conn = Connection::open(&path).map_err(fail("cannot open"))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(fail("cannot set the busy timeout"))?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(fail("cannot switch to write-ahead logging"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            let message = "cannot switch to write-ahead logging (on a network file system?)";
            return Err(storage(&location, message, None));
        }
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail("cannot set synchronous = NORMAL"))?;
        migrate(&mut conn, &location)?;
        let mut lock_path = path.clone().into_os_string();
        lock_path.push(".lock");
        Ok(Self {
            inner: Arc::new(Inner {
                path,
                lock_path: lock_path.into(),
                location,
                conn: Mutex::new(conn),
            }),
        })
    }

    /// The ledger's file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The file that holds the ledger's lock, `<path>.lock`.
    pub fn lock_path(&self) -> &Path {
        &self.inner.lock_path
    }

    fn storage(&self, message: &str, source: Option<BoxError>) -> LedgerError {
        storage(&self.inner.location, message, source)
    }

    /// Runs `work` on a blocking thread with the connection; its failure reads `message`.
    async fn call<T, F>(&self, message: &'static str, work: F) -> Result<T, LedgerError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.blocking(move |inner| {
            let mut conn = inner.conn.lock().unwrap_or_else(PoisonError::into_inner);
            work(&mut conn).map_err(|e| storage(&inner.location, message, Some(Box::new(e))))
        })
        .await
    }

    /// Runs `work` on a blocking thread.
    async fn blocking<T, F>(&self, work: F) -> Result<T, LedgerError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, LedgerError> + Send + 'static,
    {
        let inner = self.inner.clone();
        match tokio::task::spawn_blocking(move || work(&inner)).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => Err(self.storage("the ledger's thread was stopped", Some(Box::new(e)))),
        }
    }
}

/// Creates the schema in an empty file, accepts the current one, refuses the others.
fn migrate(conn: &mut Connection, location: &str) -> Result<(), LedgerError> {
    let sql = |message: &'static str| {
        move |e: rusqlite::Error| storage(location, message, Some(Box::new(e)))
    };
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql("cannot read the schema version"))?;
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(sql("cannot read the schema version"))?;
    match version {
        SCHEMA_VERSION => return Ok(()),
        0 => {}
        newer if newer > SCHEMA_VERSION => {
            let message = format!(
                "its schema is version {newer}, newer than version {SCHEMA_VERSION} that this \
                 OMC knows; use the OMC that wrote it, or a newer one"
            );
            return Err(storage(location, &message, None));
        }
        other => {
            let message = format!("its schema version {other} is not one OMC ever wrote");
            return Err(storage(location, &message, None));
        }
    }
    let tables: i64 = tx
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .map_err(sql("cannot read the schema"))?;
    if tables > 0 {
        let message = "it holds tables of another application: it is not an OMC ledger";
        return Err(storage(location, message, None));
    }
    tx.execute_batch(SCHEMA)
        .map_err(sql("cannot create the schema"))?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(sql("cannot create the schema"))?;
    tx.commit().map_err(sql("cannot create the schema"))
}

/// A column that holds something this code never writes.
fn unreadable(column: usize, what: &'static str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, Type::Text, what.into())
}

fn read_run(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    let kind: String = row.get(1)?;
    let outcome: String = row.get(4)?;
    let report = row
        .get::<_, Option<String>>(6)?
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(6, Type::Text, Box::new(e)))?;
    Ok(RunRecord {
        id: RunId(row.get(0)?),
        kind: RunKind::parse(&kind).ok_or_else(|| unreadable(1, "an unknown run kind"))?,
        started: Timestamp(row.get(2)?),
        ended: row.get::<_, Option<i64>>(3)?.map(Timestamp),
        outcome: RunOutcome::parse(&outcome)
            .ok_or_else(|| unreadable(4, "an unknown run outcome"))?,
        watermark: row.get::<_, Option<i64>>(5)?.map(Timestamp),
        report,
        error: row.get(7)?,
    })
}

/// Reads `state, since, attempts, code, at, partner_written, ids_written`.
fn read_entry(row: &Row<'_>) -> rusqlite::Result<EntryState> {
    let state: String = row.get(0)?;
    match state.as_str() {
        "pending" => {
            let attempts: i64 = row.get(2)?;
            Ok(EntryState::Pending {
                since: Timestamp(row.get(1)?),
                attempts: u32::try_from(attempts)
                    .map_err(|_| unreadable(2, "an attempt count out of range"))?,
            })
        }
        "failed" => Ok(EntryState::Failed {
            code: row.get(3)?,
            at: Timestamp(row.get(4)?),
            written: WriteDates {
                partner: row.get(5)?,
                ids: row.get(6)?,
            },
        }),
        _ => Err(unreadable(0, "an unknown entry state")),
    }
}

/// Applies one update inside `tx`, as [`apply_one`](super::apply_one) does to a map.
fn apply_update(tx: &Transaction<'_>, update: &EntryUpdate) -> rusqlite::Result<()> {
    let _changed = match update {
        EntryUpdate::Sent { id, at } => tx
            .prepare_cached(
                "INSERT INTO entries (registrant, state, since, attempts) \
                 VALUES (?1, 'pending', ?2, 0) \
                 ON CONFLICT (registrant) DO UPDATE SET state = 'pending', \
                 since = excluded.since, attempts = 0, code = NULL, at = NULL, \
                 partner_written = NULL, ids_written = NULL \
                 WHERE entries.state <> 'pending'",
            )?
            .execute(params![id.0, at.0])?,
        EntryUpdate::Done { id } => tx
            .prepare_cached("DELETE FROM entries WHERE registrant = ?1")?
            .execute([id.0])?,
        EntryUpdate::Failed {
            id,
            code,
            at,
            written,
        } => tx
            .prepare_cached(
                "INSERT INTO entries (registrant, state, code, at, partner_written, ids_written) \
                 VALUES (?1, 'failed', ?2, ?3, ?4, ?5) \
                 ON CONFLICT (registrant) DO UPDATE SET state = 'failed', since = NULL, \
                 attempts = NULL, code = excluded.code, at = excluded.at, \
                 partner_written = excluded.partner_written, ids_written = excluded.ids_written",
            )?
            .execute(params![id.0, code, at.0, written.partner, written.ids])?,
        EntryUpdate::Unanswered { id, at, counted } => tx
            .prepare_cached(
                "INSERT INTO entries (registrant, state, since, attempts) \
                 VALUES (?1, 'pending', ?2, ?3) \
                 ON CONFLICT (registrant) DO UPDATE SET \
                 attempts = min(entries.attempts + excluded.attempts, 4294967295) \
                 WHERE entries.state = 'pending'",
            )?
            .execute(params![id.0, at.0, i64::from(*counted)])?,
    };
    Ok(())
}

fn to_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// `registrant > after` as `registrant >= start`; `None` when nothing can follow `after`.
fn page_start(after: Option<RegistrantId>) -> Option<i64> {
    match after {
        None => Some(i64::MIN),
        Some(after) => after.0.checked_add(1),
    }
}

fn read_holder(file: &mut File) -> LockHolder {
    let mut text = String::new();
    match file.read_to_string(&mut text) {
        Ok(_) => serde_json::from_str(&text).ok(),
        Err(_) => None,
    }
    .unwrap_or_else(|| LockHolder {
        pid: 0,
        what: "unknown".into(),
        since: Timestamp(0),
    })
}

/// The open, locked lock file; dropping it empties the file and closes it, which releases
/// the OS lock.
struct HeldLock(File);

impl Drop for HeldLock {
    fn drop(&mut self) {
        // Best effort: a stale holder in an unlocked file is never reported anyway.
        let _ = self.0.set_len(0);
    }
}

#[async_trait]
impl RunLedger for SqliteLedger {
    /// Takes an OS lock on `<path>.lock` and writes `holder` in it. A [`holder`](Self::holder)
    /// probe at the same instant can make this refuse naming an unknown holder (pid 0): retry.
    async fn lock(&self, holder: LockHolder) -> Result<LedgerLock, LedgerError> {
        self.blocking(move |inner| {
            let fail = |message: &str, e: std::io::Error| {
                storage(&inner.location, message, Some(Box::new(e)))
            };
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&inner.lock_path)
                .map_err(|e| fail("cannot open the lock file", e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    return Err(LedgerError::Locked {
                        holder: read_holder(&mut file),
                    });
                }
                Err(TryLockError::Error(e)) => return Err(fail("cannot lock the lock file", e)),
            }
            let text = serde_json::to_vec(&holder).map_err(|e| {
                storage(
                    &inner.location,
                    "cannot write the lock's holder",
                    Some(Box::new(e)),
                )
            })?;
            let held = HeldLock(file);
            held.0
                .set_len(0)
                .and_then(|()| (&held.0).write_all(&text))
                .map_err(|e| fail("cannot write the lock's holder", e))?;
            Ok(LedgerLock::new(held))
        })
        .await
    }

    async fn holder(&self) -> Result<Option<LockHolder>, LedgerError> {
        self.blocking(|inner| {
            let mut file = match File::open(&inner.lock_path) {
                Ok(file) => file,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => {
                    let message = "cannot open the lock file";
                    return Err(storage(&inner.location, message, Some(Box::new(e))));
                }
            };
            match file.try_lock_shared() {
                Ok(()) => Ok(None),
                Err(TryLockError::WouldBlock) => Ok(Some(read_holder(&mut file))),
                Err(TryLockError::Error(e)) => {
                    let message = "cannot probe the lock file";
                    Err(storage(&inner.location, message, Some(Box::new(e))))
                }
            }
        })
        .await
    }

    async fn begin_run(
        &self,
        kind: RunKind,
        started: Timestamp,
        watermark: Option<Timestamp>,
    ) -> Result<RunId, LedgerError> {
        self.call("cannot record the start of a run", move |conn| {
            conn.prepare_cached(
                "INSERT INTO runs (kind, started, outcome, watermark) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![
                kind.as_str(),
                started.0,
                RunOutcome::Running.as_str(),
                watermark.map(|w| w.0)
            ])?;
            Ok(RunId(conn.last_insert_rowid()))
        })
        .await
    }

    async fn finish_run(
        &self,
        id: RunId,
        ended: Timestamp,
        outcome: RunOutcome,
        report: &serde_json::Value,
        error: Option<&str>,
    ) -> Result<(), LedgerError> {
        let report = report.to_string();
        let error = error.map(str::to_owned);
        let changed = self
            .call("cannot record the end of a run", move |conn| {
                conn.prepare_cached(
                    "UPDATE runs SET ended = ?2, outcome = ?3, report = ?4, error = ?5 \
                     WHERE id = ?1",
                )?
                .execute(params![id.0, ended.0, outcome.as_str(), report, error])
            })
            .await?;
        if changed == 0 {
            return Err(self.storage(&format!("run {id} is not in the ledger"), None));
        }
        Ok(())
    }

    async fn interrupt_unfinished(&self, at: Timestamp) -> Result<u64, LedgerError> {
        let changed = self
            .call("cannot mark unfinished runs interrupted", move |conn| {
                conn.prepare_cached(
                    "UPDATE runs SET outcome = 'interrupted', ended = ?1, \
                     error = 'its process ended before the run did' WHERE outcome = 'running'",
                )?
                .execute([at.0])
            })
            .await?;
        Ok(changed as u64)
    }

    async fn runs(&self, limit: usize) -> Result<Vec<RunRecord>, LedgerError> {
        self.call("cannot read the runs", move |conn| {
            let sql = format!("SELECT {RUN_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?1");
            let mut stmt = conn.prepare_cached(&sql)?;
            let rows = stmt.query_map([to_limit(limit)], read_run)?;
            rows.collect()
        })
        .await
    }

    async fn last_completed(&self, kinds: &[RunKind]) -> Result<Option<RunRecord>, LedgerError> {
        let kinds = kinds.to_vec();
        self.call("cannot read the runs", move |conn| {
            let tx = conn.transaction()?;
            let sql = format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE outcome = 'completed' AND kind = ?1 \
                 ORDER BY id DESC LIMIT 1"
            );
            let mut newest: Option<RunRecord> = None;
            {
                let mut stmt = tx.prepare_cached(&sql)?;
                for kind in kinds {
                    let run = stmt.query_row([kind.as_str()], read_run).optional()?;
                    if let Some(run) = run.filter(|r| newest.as_ref().is_none_or(|n| r.id > n.id)) {
                        newest = Some(run);
                    }
                }
            }
            tx.commit()?;
            Ok(newest)
        })
        .await
    }

    async fn apply(&self, updates: &[EntryUpdate]) -> Result<(), LedgerError> {
        let updates = updates.to_vec();
        self.call("cannot write the registrants' entries", move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for update in &updates {
                apply_update(&tx, update)?;
            }
            tx.commit()
        })
        .await
    }

    async fn entries(
        &self,
        ids: &[RegistrantId],
    ) -> Result<BTreeMap<RegistrantId, EntryState>, LedgerError> {
        let ids = ids.to_vec();
        self.call("cannot read the registrants' entries", move |conn| {
            let tx = conn.transaction()?;
            let mut found = BTreeMap::new();
            {
                let mut stmt = tx.prepare_cached(
                    "SELECT state, since, attempts, code, at, partner_written, ids_written \
                     FROM entries WHERE registrant = ?1",
                )?;
                for id in ids {
                    if let Some(entry) = stmt.query_row([id.0], read_entry).optional()? {
                        found.insert(id, entry);
                    }
                }
            }
            tx.commit()?;
            Ok(found)
        })
        .await
    }

    async fn pending(
        &self,
        after: Option<RegistrantId>,
        limit: usize,
    ) -> Result<Vec<RegistrantId>, LedgerError> {
        let Some(start) = page_start(after) else {
            return Ok(Vec::new());
        };
        self.call("cannot read the pending registrants", move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT registrant FROM entries WHERE state = 'pending' AND registrant >= ?1 \
                 ORDER BY registrant LIMIT ?2",
            )?;
            let rows = stmt.query_map([start, to_limit(limit)], |row| row.get(0))?;
            rows.map(|id| id.map(RegistrantId)).collect()
        })
        .await
    }

    async fn failed(
        &self,
        after: Option<RegistrantId>,
        limit: usize,
    ) -> Result<Vec<(RegistrantId, String)>, LedgerError> {
        let Some(start) = page_start(after) else {
            return Ok(Vec::new());
        };
        self.call("cannot read the failed registrants", move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT registrant, code FROM entries WHERE state = 'failed' \
                 AND registrant >= ?1 ORDER BY registrant LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![start, to_limit(limit)], |row| {
                Ok((RegistrantId(row.get(0)?), row.get(1)?))
            })?;
            rows.collect()
        })
        .await
    }

    async fn summary(&self) -> Result<LedgerSummary, LedgerError> {
        self.call("cannot count the registrants' entries", |conn| {
            let tx = conn.transaction()?;
            let pending: i64 = tx.query_row(
                "SELECT count(*) FROM entries WHERE state = 'pending'",
                [],
                |row| row.get(0),
            )?;
            let failed = {
                let mut stmt = tx.prepare_cached(
                    "SELECT code, count(*) FROM entries WHERE state = 'failed' GROUP BY code",
                )?;
                let rows = stmt.query_map([], |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)?.unsigned_abs(),
                    ))
                })?;
                rows.collect::<rusqlite::Result<BTreeMap<_, _>>>()?
            };
            tx.commit()?;
            Ok(LedgerSummary {
                pending: pending.unsigned_abs(),
                failed,
            })
        })
        .await
    }

    async fn prune_runs(&self, before: Timestamp) -> Result<u64, LedgerError> {
        let dropped = self
            .call("cannot prune the runs", move |conn| {
                // The newest completed run of each kind stays: it is the delta's watermark and
                // the full sweep's reference, however old.
                conn.prepare_cached(
                    "DELETE FROM runs WHERE ended IS NOT NULL AND ended < ?1 AND id NOT IN \
                     (SELECT MAX(id) FROM runs WHERE outcome = 'completed' GROUP BY kind)",
                )?
                .execute([before.0])
            })
            .await?;
        Ok(dropped as u64)
    }
}
