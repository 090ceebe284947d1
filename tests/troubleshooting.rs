//! docs/OPERATIONS.md's troubleshooting table says what `omc` prints: each registry fault an
//! operator can make is triggered against the emulators, and the line `omc run --once` prints
//! must be a row's message (its first backquoted text, `…` standing for what varies).

mod common;

use common::command::Omc;
use common::{DATABASE, emulators};
use omc::core::fixture::synthetic;

/// The first backquoted text of each row's first column in the Troubleshooting section.
fn documented_messages() -> Vec<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/OPERATIONS.md"))
        .expect("docs/OPERATIONS.md");
    let section = doc
        .split("## Troubleshooting")
        .nth(1)
        .expect("a Troubleshooting section");
    let section = section.split("\n## ").next().unwrap_or_default();
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|row| {
            let first = row.trim_start_matches('|').split(" | ").next()?;
            first.split('`').nth(1).map(str::to_owned)
        })
        .collect()
}

/// True when `line` is `message` with each `…` standing for some text.
fn matches(message: &str, line: &str) -> bool {
    let pieces: Vec<&str> = message.split('…').collect();
    let Some(rest) = line.strip_prefix(pieces[0]) else {
        return false;
    };
    let mut rest = rest;
    for (i, piece) in pieces.iter().enumerate().skip(1) {
        let last = i == pieces.len() - 1;
        if last {
            return rest.ends_with(piece);
        }
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// `omc run --once` with the `odoo` settings, token id type and MTS URL given (`ODOO` and `MTS`
/// stand for the emulators'); its stderr's last line.
async fn fault(
    name: &str,
    (odoo_url, mts_url): (&str, &str),
    database: &str,
    password: &str,
    token: &str,
) -> String {
    let (odoo, mts) = emulators(synthetic(5, 3), &[]).await;
    let odoo_url = odoo_url.replace("ODOO", odoo.base_url().as_str());
    let mts_url = mts_url.replace("MTS", mts.base_url().as_str());
    let omc = Omc::new(
        name,
        &format!(
            r#"name = "troubleshooting-test"
mts_url = "{mts_url}"
job_type = "one_time"
ledger = "ledger.sqlite"
token_id_type = "{token}"

[callback]
auth_type = "odoo"
database = "{DATABASE}"
username = "admin"
password_env = "TROUBLE_TEST_MTS_PASSWORD"

[odoo]
base_url = "{odoo_url}"
database = "{database}"
login = "admin"
password_env = "TROUBLE_TEST_ODOO_PASSWORD"
"#,
        ),
        &[
            ("TROUBLE_TEST_ODOO_PASSWORD", password),
            ("TROUBLE_TEST_MTS_PASSWORD", "admin"),
        ],
    );
    let (ok, _, stderr) = omc.run(&["run", omc.config(), "--once"]).await;
    assert!(!ok, "the fault stops the run: {stderr}");
    stderr.lines().last().unwrap_or_default().to_owned()
}

/// A loopback port nobody listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    listener.local_addr().expect("its address").port()
}

#[tokio::test]
async fn each_registry_fault_prints_its_documented_message() {
    let closed = format!("http://127.0.0.1:{}/", closed_port());
    let faults = [
        (
            "wrong password",
            fault(
                "trouble-password",
                ("ODOO", "MTS"),
                DATABASE,
                "wrong",
                "MOSIP UIN TOKEN",
            )
            .await,
            "check odoo.login, its password and odoo.database: ",
            "(database openg2p, login admin)",
        ),
        (
            "wrong database",
            fault(
                "trouble-database",
                ("ODOO", "MTS"),
                "nodb",
                "admin",
                "MOSIP UIN TOKEN",
            )
            .await,
            "check odoo.database: ",
            "(database nodb, login admin)",
        ),
        (
            "Odoo unreachable",
            fault(
                "trouble-closed",
                (&closed, "MTS"),
                DATABASE,
                "admin",
                "MOSIP UIN TOKEN",
            )
            .await,
            "check odoo.base_url and that Odoo is running: ",
            "Connection refused",
        ),
        (
            "missing token id type",
            fault(
                "trouble-token",
                ("ODOO", "MTS"),
                DATABASE,
                "admin",
                "MOSIP UIN TOKEN X",
            )
            .await,
            "create the id type 'MOSIP UIN TOKEN X' in the registry (g2p.id.type) or set \
             token_id_type: ",
            "the token id type 'MOSIP UIN TOKEN X' does not exist in the registry",
        ),
        (
            "MTS down",
            fault(
                "trouble-mts",
                ("ODOO", &closed),
                DATABASE,
                "admin",
                "MOSIP UIN TOKEN",
            )
            .await,
            "check mts_url and that MTS is running: MTS at ",
            "is not reachable",
        ),
    ];
    let documented = documented_messages();
    let mut seen = Vec::new();
    for (what, line, advice, detail) in faults {
        assert!(line.starts_with(advice), "{what}: {line}");
        assert!(line.contains(detail), "{what}: {line}");
        assert!(!line.contains("wrong"), "{what}: the password in {line}");
        assert!(
            documented.iter().any(|m| matches(m, &line)),
            "{what}: no row of docs/OPERATIONS.md's troubleshooting table says {line}\nrows: {documented:#?}"
        );
        assert!(
            !seen.contains(&line),
            "{what}: the same message as another fault: {line}"
        );
        seen.push(line);
    }
}

#[test]
fn the_wildcard_matches_what_varies_only() {
    assert!(matches("a … b …", "a x b y"));
    assert!(matches("a … (b)", "a x y (b)"));
    assert!(!matches("a … (b)", "z a x (b)"));
    assert!(!matches("a (b)", "a (b) c"));
}
