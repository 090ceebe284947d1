//! The run ledgers: the conformance suite against both, and what only the file ledger can
//! show — reopening, its lock across processes, surviving a killed process, schema versions.
//!
//! The cross-process tests re-execute this test binary as a child (the same test, told its
//! part by an environment variable) and talk to it over its stdin and stdout.

use omc_core::conformance::ledger::run_ledger_suite;
use omc_core::ledger::{
    EntryState, EntryUpdate, LedgerError, LockHolder, MemoryLedger, RunKind, RunLedger, RunOutcome,
    SqliteLedger,
};
use omc_core::registry::RegistrantId;
use omc_core::time::Timestamp;
use serde_json::json;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// Set in a child that takes the lock and holds it until its stdin closes.
const HOLD_VAR: &str = "OMC_LEDGER_TEST_HOLD";
/// Set in a child that applies updates until it is killed.
const CHURN_VAR: &str = "OMC_LEDGER_TEST_CHURN";
/// How long a child may take to report.
const PATIENCE: Duration = Duration::from_secs(60);
/// Registrants written per transaction by the churning child.
const GROUP: i64 = 10;

/// A ledger file under the temp dir, removed (with its WAL, shared memory and lock files)
/// when dropped.
struct TempLedger {
    path: PathBuf,
}

impl TempLedger {
    fn new(label: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let name = format!("omc-ledger-{}-{label}-{n}.sqlite", std::process::id());
        let path = std::env::temp_dir().join(name);
        let this = Self { path };
        this.remove();
        this
    }

    fn open(&self) -> SqliteLedger {
        SqliteLedger::open(&self.path).expect("open the ledger")
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm", ".lock"] {
            let mut path = self.path.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Drop for TempLedger {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A child running one test of this binary in the part `var` names; killed when dropped.
struct ChildTest {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl ChildTest {
    fn spawn(test: &str, var: &str, path: &Path) -> Self {
        let exe = std::env::current_exe().expect("this test binary");
        let mut child = Command::new(exe)
            .args([test, "--exact", "--nocapture", "--test-threads=1"])
            .env(var, path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the child");
        let stdout = child.stdout.take().expect("the child's stdout");
        let (send, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// Waits, up to [`PATIENCE`], for a line of the child's that `pick` accepts.
    fn wait_for<T>(&self, what: &str, mut pick: impl FnMut(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(found) = pick(&line) {
                        return found;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("timed out waiting for {what}"),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("the child ended before {what}")
                }
            }
        }
    }

    /// Kills the child (`SIGKILL` on Unix) and waits for its end.
    fn kill(&mut self) {
        self.child.kill().expect("kill the child");
        self.child.wait().expect("wait for the child");
    }

    /// The lines the child wrote after those already read, up to its end.
    fn rest(&self) -> Vec<String> {
        self.lines.iter().collect()
    }
}

impl Drop for ChildTest {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Writes a line for the parent, past libtest's own output.
fn tell_parent(line: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "\n{line}").expect("write to the parent");
    out.flush().expect("flush to the parent");
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_ledger_conforms() {
    run_ledger_suite(|| async { Arc::new(MemoryLedger::new()) as Arc<dyn RunLedger> }).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_ledger_conforms() {
    let files = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&files);
    run_ledger_suite(move || {
        let file = TempLedger::new("suite");
        let ledger = file.open();
        kept.lock().expect("files").push(file);
        async move { Arc::new(ledger) as Arc<dyn RunLedger> }
    })
    .await;
}

#[tokio::test]
async fn reopening_keeps_runs_and_entries() {
    let file = TempLedger::new("reopen");
    let ledger = file.open();
    assert_eq!(
        format!("{ledger:?}"),
        format!("SqliteLedger {{ path: {:?} }}", file.path),
        "Debug shows the path only"
    );
    let run = ledger
        .begin_run(RunKind::Delta, Timestamp(100), Some(Timestamp(50)))
        .await
        .expect("begin");
    let report = json!({"selected": 2});
    ledger
        .finish_run(run, Timestamp(200), RunOutcome::Completed, &report, None)
        .await
        .expect("finish");
    let updates = [
        EntryUpdate::Sent {
            id: RegistrantId(1),
            at: Timestamp(150),
        },
        EntryUpdate::Unanswered {
            id: RegistrantId(2),
            at: Timestamp(160),
            counted: true,
        },
    ];
    ledger.apply(&updates).await.expect("apply");
    let runs = ledger.runs(10).await.expect("runs");
    let ids = [RegistrantId(1), RegistrantId(2)];
    let entries = ledger.entries(&ids).await.expect("entries");
    drop(ledger);

    let reopened = file.open();
    assert_eq!(
        reopened.runs(10).await.expect("runs"),
        runs,
        "runs after reopening"
    );
    assert_eq!(
        reopened.entries(&ids).await.expect("entries"),
        entries,
        "entries after reopening"
    );
    assert_eq!(entries.len(), 2, "both entries were written");
    let next = reopened
        .begin_run(RunKind::Full, Timestamp(300), None)
        .await
        .expect("begin");
    assert!(next > run, "run numbers keep rising after reopening");
}

#[tokio::test]
async fn a_newer_schema_or_a_foreign_file_is_refused() {
    let file = TempLedger::new("schema");
    drop(file.open());
    let conn = rusqlite::Connection::open(&file.path).expect("open with rusqlite");
    conn.pragma_update(None, "user_version", 2)
        .expect("bump the version");
    drop(conn);
    match SqliteLedger::open(&file.path) {
        Err(e @ LedgerError::Storage { .. }) => {
            let text = e.to_string();
            assert!(
                text.contains("version 2"),
                "the refusal names the version: {text}"
            );
        }
        other => panic!("a newer schema: got {other:?}, want a storage error"),
    }

    let foreign = TempLedger::new("foreign");
    let conn = rusqlite::Connection::open(&foreign.path).expect("open with rusqlite");
    conn.execute_batch("CREATE TABLE t (x INTEGER)")
        .expect("a foreign table");
    drop(conn);
    let refused = SqliteLedger::open(&foreign.path);
    assert!(
        matches!(refused, Err(LedgerError::Storage { .. })),
        "a foreign SQLite file: got {refused:?}, want a storage error"
    );
}

/// The child's part: take the lock, say so, and hold it until stdin closes.
async fn hold_the_lock(path: &Path) {
    let ledger = SqliteLedger::open(path).expect("open the ledger");
    let holder = LockHolder::this_process("ledger test child", Timestamp::now());
    let _guard = ledger.lock(holder).await.expect("the child takes the lock");
    tell_parent("omc-test: locked");
    let mut line = String::new();
    while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {}
}

#[tokio::test]
async fn the_lock_is_released_when_its_holder_is_killed() {
    if let Some(path) = std::env::var_os(HOLD_VAR) {
        return hold_the_lock(Path::new(&path)).await;
    }
    let file = TempLedger::new("lock");
    let ledger = file.open();
    let mut child = ChildTest::spawn(
        "the_lock_is_released_when_its_holder_is_killed",
        HOLD_VAR,
        &file.path,
    );
    child.wait_for("the child to take the lock", |l| {
        (l == "omc-test: locked").then_some(())
    });
    let me = LockHolder::this_process("ledger test parent", Timestamp::now());
    match ledger.lock(me.clone()).await {
        Err(LedgerError::Locked { holder }) => {
            assert_eq!(holder.pid, child.child.id(), "Locked names the child's pid");
            assert_eq!(
                holder.what, "ledger test child",
                "Locked names what the child runs"
            );
        }
        other => panic!("locking a ledger a child holds: got {other:?}, want Locked"),
    }
    let seen = ledger.holder().await.expect("holder").map(|h| h.pid);
    assert_eq!(seen, Some(child.child.id()), "holder() names the child");

    child.kill();
    let guard = ledger.lock(me.clone()).await;
    assert!(
        guard.is_ok(),
        "the lock after its holder was killed: got {guard:?}"
    );
    assert_eq!(
        ledger.holder().await.expect("holder"),
        Some(me),
        "holder() names us now"
    );
}

/// The child's part: apply groups of updates, one transaction each, until killed (or until its
/// stdin closes, should the parent die first).
async fn churn(path: &Path) {
    std::thread::spawn(|| {
        let mut line = String::new();
        while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {}
        std::process::exit(0);
    });
    let ledger = SqliteLedger::open(path).expect("open the ledger");
    for group in 0..i64::from(u32::MAX) {
        let ids = (group * GROUP + 1..=group * GROUP + GROUP).map(RegistrantId);
        let updates: Vec<EntryUpdate> = ids
            .flat_map(|id| {
                [
                    EntryUpdate::Sent {
                        id,
                        at: Timestamp(group),
                    },
                    EntryUpdate::Unanswered {
                        id,
                        at: Timestamp(group),
                        counted: true,
                    },
                ]
            })
            .collect();
        ledger.apply(&updates).await.expect("apply a group");
        if group % 25 == 0 {
            tell_parent(&format!("omc-test: committed {group}"));
        }
    }
}

fn committed(line: &str) -> Option<i64> {
    line.strip_prefix("omc-test: committed ")?.parse().ok()
}

#[tokio::test]
async fn a_killed_writer_leaves_whole_transactions() {
    if let Some(path) = std::env::var_os(CHURN_VAR) {
        return churn(Path::new(&path)).await;
    }
    let file = TempLedger::new("crash");
    drop(file.open());
    let mut child = ChildTest::spawn(
        "a_killed_writer_leaves_whole_transactions",
        CHURN_VAR,
        &file.path,
    );
    let seen = child.wait_for("500 transactions", |l| committed(l).filter(|&g| g >= 500));
    child.kill();
    let last_told = child
        .rest()
        .iter()
        .filter_map(|l| committed(l))
        .fold(seen, i64::max);

    let ledger = file.open();
    let conn = rusqlite::Connection::open(&file.path).expect("open with rusqlite");
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("integrity_check");
    assert_eq!(check, "ok", "integrity_check after the kill");
    drop(conn);

    let pending = ledger.pending(None, usize::MAX).await.expect("pending");
    let n = i64::try_from(pending.len()).expect("a count");
    assert_eq!(n % GROUP, 0, "{n} entries: whole groups of {GROUP} only");
    let want: Vec<RegistrantId> = (1..=n).map(RegistrantId).collect();
    assert!(
        pending == want,
        "the entries are groups 0.. in order, none missing in between"
    );
    assert!(
        n / GROUP > last_told,
        "{} groups kept, but the child had committed group {last_told}",
        n / GROUP
    );
    let entries = ledger.entries(&pending).await.expect("entries");
    for (id, entry) in entries {
        let group = (id.0 - 1) / GROUP;
        let want = EntryState::Pending {
            since: Timestamp(group),
            attempts: 1,
        };
        assert_eq!(
            entry, want,
            "registrant {id}: both updates of its transaction"
        );
    }
}
