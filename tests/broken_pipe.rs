//! `omc config check FILE | head -1`: the example programs stop writing quietly when their
//! reader goes away, and end with their own exit code instead of panicking (`println!` panics
//! on a closed pipe, exit code 101).

mod common;

use common::command::omc_binary;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// `omc config check` of the sample configuration, with the secrets it names.
fn check() -> Command {
    let config = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/config/connector.toml");
    let mut cmd = Command::new(omc_binary());
    cmd.arg("config")
        .arg("check")
        .arg(config)
        .env("OMC_ODOO__PASSWORD", "admin")
        .env("OMC_CALLBACK__PASSWORD", "admin")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    cmd
}

/// A pipe whose reader is already gone: every write to it fails with EPIPE.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    Stdio::from(writer)
}

fn assert_no_panic(output: &Output, code: i32) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(output.status.code(), Some(code), "{stderr}");
}

#[test]
fn a_closed_stdout_ends_omc_with_its_own_exit_code() {
    let output = check()
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .expect("omc runs");
    assert_no_panic(&output, 0);
    assert!(
        output.stderr.is_empty(),
        "a closed pipe is not worth a word"
    );
}

#[test]
fn a_closed_stderr_keeps_a_failure_a_failure() {
    let output = Command::new(omc_binary())
        .arg("no-such-command")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(closed_pipe())
        .output()
        .expect("omc runs");
    // Its usage went nowhere; the exit code still says the command line is wrong (2, not 101,
    // a panic).
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn omc_piped_into_head_1() {
    let mut child = check()
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("omc runs");
    let mut first = String::new();
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    stdout.read_line(&mut first).expect("a first line");
    assert!(first.starts_with("connector 'openg2p-mosip'"), "{first}");
    drop(stdout);
    let output = child.wait_with_output().expect("omc ends");
    assert_no_panic(&output, 0);
}

#[test]
fn help_is_an_answer_not_an_error() {
    let examples = std::env::current_exe()
        .expect("the test's path")
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>/deps")
        .join("examples");
    let programs = [
        omc_binary(),
        examples.join("odoo_emulator"),
        examples.join("mts_emulator"),
        examples.join("callback_server"),
        examples.join("demo"),
    ];
    for binary in programs {
        for flag in ["--help", "--version"] {
            let out = Command::new(&binary)
                .arg(flag)
                .output()
                .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
            let shown = binary.display();
            assert!(out.status.success(), "{shown} {flag}: {:?}", out.status);
            let stdout = String::from_utf8_lossy(&out.stdout);
            let wanted = if flag == "--help" { "Usage:" } else { "0.1.0" };
            assert!(stdout.contains(wanted), "{shown} {flag}: {stdout}");
        }
    }
}

#[test]
fn flags_go_in_any_order_and_a_wrong_command_line_says_how_to_use_it() {
    // Flags before the file: the command line is read, and the missing file is the error (1).
    let out = Command::new(omc_binary())
        .args(["status", "--json", "/nonexistent/connector.toml"])
        .output()
        .expect("omc runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("/nonexistent/connector.toml"), "{stderr}");
    // Two ways to choose registrants at once: a usage error (2) naming both.
    let out = Command::new(omc_binary())
        .args(["import", "c.toml", "--ids", "1", "--csv", "f.csv"])
        .output()
        .expect("omc runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--ids") && stderr.contains("--csv") && stderr.contains("Usage:"),
        "{stderr}"
    );
}
