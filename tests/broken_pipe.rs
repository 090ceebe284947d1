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
    // Its usage went nowhere; the exit code still says it failed (not 101, a panic).
    assert_eq!(output.status.code(), Some(1));
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
    for program in ["omc", "odoo_emulator", "mts_emulator"] {
        let binary = std::env::current_exe()
            .expect("the test's path")
            .parent()
            .and_then(std::path::Path::parent)
            .expect("target/<profile>/deps")
            .join("examples")
            .join(program);
        let out = std::process::Command::new(&binary)
            .arg("--help")
            .output()
            .unwrap_or_else(|e| panic!("{}: {e}", binary.display()));
        assert!(out.status.success(), "{program} --help: {:?}", out.status);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("usage:"),
            "{program} --help prints its usage on stdout"
        );
    }
}
