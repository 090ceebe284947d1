//! docs/OPERATIONS.md's troubleshooting table says what `omc` prints: each fault an operator can
//! make is triggered against the emulators, and the line `omc run --once` prints must be a
//! row's message (its first backquoted text, `…` standing for what varies), its own, with the
//! documented exit status: within 10 s of the start for what the pre-flight check catches, and
//! within 10 s of the first batch's read-back deadline, with no further batch sent, for
//! callbacks that cannot arrive.

mod common;

use common::command::Omc;
use common::docs::{documented_messages, matches};
use common::{DATABASE, closed_url, emulators};
use omc::testing::synthetic;
use std::time::Duration;
use tokio::time::Instant;

/// A fault to make: the `odoo` settings, the token id type, MTS's URL and MTS's callback login
/// and URLs (`ODOO` and `MTS` stand for the emulators', `CALLBACK` for the callback path's base).
#[derive(Debug, Clone)]
struct Fault {
    name: &'static str,
    odoo_url: String,
    mts_url: String,
    database: &'static str,
    password: &'static str,
    token: &'static str,
    callback_password: &'static str,
    callback_base: Option<String>,
}

impl Fault {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            odoo_url: "ODOO".into(),
            mts_url: "MTS".into(),
            database: DATABASE,
            password: "admin",
            token: "MOSIP UIN TOKEN",
            callback_password: "admin",
            callback_base: None,
        }
    }
}

/// How `omc run --once` ended under a fault.
#[derive(Debug)]
struct Ended {
    /// Its exit status.
    code: Option<i32>,
    /// Its stderr's last line.
    line: String,
    /// From its start to its end.
    took: Duration,
    /// The requests MTS received.
    requests: usize,
}

/// `omc run --once` under `fault`, over 6 registrants in batches of 2 (the first goes alone).
async fn run(fault: Fault) -> Ended {
    let (odoo, mts) = emulators(synthetic(6, 3), &[]).await;
    let odoo_url = fault.odoo_url.replace("ODOO", odoo.base_url().as_str());
    let mts_url = fault.mts_url.replace("MTS", mts.base_url().as_str());
    let callback = match &fault.callback_base {
        None => String::new(),
        Some(base) => {
            let base = base.replace("ODOO", odoo.base_url().as_str());
            format!(
                "auth_url = \"{base}web/session/authenticate\"\n\
                 url = \"{base}web/dataset/call_kw/g2p.reg.id/create\"\n"
            )
        }
    };
    let (database, token) = (fault.database, fault.token);
    let omc = Omc::new(
        fault.name,
        &format!(
            r#"name = "troubleshooting-test"
mts_url = "{mts_url}"
job_type = "one_time"
ledger = "ledger.sqlite"
token_id_type = "{token}"
batch_size = 2

[callback]
auth_type = "odoo"
database = "{DATABASE}"
username = "admin"
password_env = "TROUBLE_TEST_MTS_PASSWORD"
{callback}
[odoo]
base_url = "{odoo_url}"
database = "{database}"
login = "admin"
password_env = "TROUBLE_TEST_ODOO_PASSWORD"
"#,
        ),
        &[
            ("TROUBLE_TEST_ODOO_PASSWORD", fault.password),
            ("TROUBLE_TEST_MTS_PASSWORD", fault.callback_password),
        ],
    );
    let started = Instant::now();
    let out = omc.output(&["run", omc.config(), "--once"]).await;
    let took = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    Ended {
        code: out.status.code(),
        line: stderr.lines().last().unwrap_or_default().to_owned(),
        took,
        requests: mts.received().len(),
    }
}

/// A loopback port that accepts connections and never answers (kept open while the returned
/// task runs).
async fn black_hole() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let port = listener.local_addr().expect("its address").port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (port, task)
}

/// Checks that `ended` printed a documented message of its own that starts with `advice` and
/// holds `detail`, with exit status `code`, and returns the line.
fn check(what: &str, ended: &Ended, code: i32, advice: &str, detail: &str) -> String {
    let line = &ended.line;
    assert_eq!(ended.code, Some(code), "{what}: exit status ({line})");
    assert!(line.starts_with(advice), "{what}: {line}");
    assert!(line.contains(detail), "{what}: {line}");
    assert!(!line.contains("wrong"), "{what}: the password in {line}");
    let documented = documented_messages();
    assert!(
        documented.iter().any(|m| matches(m, line)),
        "{what}: no row of docs/OPERATIONS.md's troubleshooting table says {line}\nrows: \
         {documented:#?}"
    );
    line.clone()
}

/// How long a fault the pre-flight check catches may take to be told, from the run's start.
const PREFLIGHT_WITHIN: Duration = Duration::from_secs(10);

#[tokio::test]
async fn each_registry_fault_prints_its_documented_message_within_10_s() {
    let closed = closed_url();
    let faults = [
        (
            Fault {
                password: "wrong",
                ..Fault::new("trouble-password")
            },
            "check odoo.login, its password and odoo.database: ",
            "(database openg2p, login admin)",
        ),
        (
            Fault {
                database: "nodb",
                ..Fault::new("trouble-database")
            },
            "check odoo.database: ",
            "(database nodb, login admin)",
        ),
        (
            Fault {
                odoo_url: closed.clone(),
                ..Fault::new("trouble-closed")
            },
            "check odoo.base_url and that Odoo is running: ",
            "Connection refused",
        ),
        (
            Fault {
                token: "MOSIP UIN TOKEN X",
                ..Fault::new("trouble-token")
            },
            "create the id type 'MOSIP UIN TOKEN X' in the registry (g2p.id.type) or set \
             token_id_type: ",
            "the token id type 'MOSIP UIN TOKEN X' does not exist in the registry",
        ),
        (
            Fault {
                mts_url: closed.clone(),
                ..Fault::new("trouble-mts")
            },
            "check mts_url and that MTS is running: MTS at ",
            "is not reachable",
        ),
        (
            Fault {
                callback_password: "wrong",
                ..Fault::new("trouble-callback-password")
            },
            "check callback.username, its password and callback.database: ",
            "refused MTS's login (database openg2p, login admin)",
        ),
    ];
    let mut seen = Vec::new();
    for (fault, advice, detail) in faults {
        let what = fault.name;
        let ended = run(fault).await;
        assert!(
            ended.took < PREFLIGHT_WITHIN,
            "{what}: told after {:?}",
            ended.took
        );
        assert_eq!(ended.requests, 0, "{what}: nothing is sent");
        let line = check(what, &ended, 1, advice, detail);
        assert!(
            !seen.contains(&line),
            "{what}: the same message as another fault: {line}"
        );
        seen.push(line);
    }
}

#[tokio::test]
async fn callbacks_that_cannot_arrive_stop_the_run_after_the_first_batch_with_the_reason() {
    let refused = closed_url();
    let (hole, _held) = black_hole().await;
    let hole = format!("http://127.0.0.1:{hole}/");
    // The first batch's read-back deadline: counted from its processing, which takes
    // milliseconds here; the pre-flight and the diagnosis each wait at most 5 s for a URL that
    // does not answer.
    let readback = omc::engine::WaitPolicy::default().readback_deadline(2);
    let within = readback + Duration::from_secs(10) + 2 * omc::odoo::CHECK_TIMEOUT;
    let (refused, black_holed) = tokio::join!(
        run(Fault {
            callback_base: Some(refused),
            ..Fault::new("trouble-callback-refused")
        }),
        run(Fault {
            callback_base: Some(hole),
            ..Fault::new("trouble-callback-black-holed")
        }),
    );
    let refused_line = check(
        "callback URL refused",
        &refused,
        3,
        "the run stopped early: callbacks are not arriving: MTS could not connect to the \
         callback URL",
        "error_making_callback_request",
    );
    let hole_line = check(
        "callback URL black-holed",
        &black_holed,
        3,
        "the run stopped early: callbacks are not arriving: the callback login URL ",
        "did not answer within 5 s",
    );
    assert_ne!(refused_line, hole_line);
    for (what, ended) in [("refused", &refused), ("black-holed", &black_holed)] {
        assert_eq!(ended.requests, 1, "{what}: no batch after the first");
        assert!(ended.took < within, "{what}: told after {:?}", ended.took);
    }
}

#[test]
fn the_wildcard_matches_what_varies_only() {
    assert!(matches("a … b …", "a x b y"));
    assert!(matches("a … (b)", "a x y (b)"));
    assert!(!matches("a … (b)", "z a x (b)"));
    assert!(!matches("a (b)", "a (b) c"));
}
