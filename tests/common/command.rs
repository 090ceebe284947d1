//! The `omc` command as an operator runs it: the binary built beside the test, started
//! as a process with a configuration file (and its run ledger) in a directory of its own.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::process::{Child, Command};

/// How long one `omc` command may take in a test.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(180);

/// The `omc` binary `cargo test` builds beside the tests (feature `cli`).
pub(crate) fn omc_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_omc"))
}

/// `program` with `env` and none of the test's own `OMC_*` variables nor `RUST_LOG`, stdin
/// closed, stdout and stderr piped, killed when dropped.
pub(crate) fn isolated<'a>(
    program: &Path,
    env: impl IntoIterator<Item = &'a (String, String)>,
) -> Command {
    let mut cmd = Command::new(program);
    for (name, _) in std::env::vars() {
        if name.starts_with("OMC_") {
            cmd.env_remove(name);
        }
    }
    cmd.envs(env.into_iter().map(|(k, v)| (k, v)))
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// A connector's configuration file in a directory of its own (removed when dropped), and the
/// environment `omc` gets: the variables its `*_env` settings name.
#[derive(Debug)]
pub(crate) struct Omc {
    dir: PathBuf,
    config: PathBuf,
    env: Vec<(String, String)>,
}

impl Omc {
    /// Writes `toml` as `connector.toml` in a new directory named after `name`.
    pub(crate) fn new(name: &str, toml: &str, env: &[(&str, &str)]) -> Self {
        let dir = std::env::temp_dir().join(format!("omc-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a test directory");
        let config = dir.join("connector.toml");
        std::fs::write(&config, toml).expect("the configuration is written");
        Self {
            dir,
            config,
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// The directory holding the configuration and the ledger.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// The environment `omc` gets (the variables the configuration's `*_env` settings name).
    pub(crate) fn environment(&self) -> &[(String, String)] {
        &self.env
    }

    /// The configuration file's path.
    pub(crate) fn config(&self) -> &str {
        self.config.to_str().expect("a UTF-8 path")
    }

    /// `omc args`, with no `OMC_*` variable of the test's own environment and no `RUST_LOG`.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut cmd = isolated(&omc_binary(), &self.env);
        cmd.args(args);
        cmd
    }

    /// Runs `omc args` to its end.
    pub(crate) async fn output(&self, args: &[&str]) -> std::process::Output {
        tokio::time::timeout(COMMAND_TIMEOUT, self.command(args).output())
            .await
            .unwrap_or_else(|_| panic!("omc {args:?} took over {COMMAND_TIMEOUT:?}"))
            .expect("omc runs")
    }

    /// Runs `omc args` to its end: (success, stdout, stderr).
    pub(crate) async fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = self.output(args).await;
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// `omc run CONFIG --once extra…` to its end; its report. The exit status is the
    /// documented one: 0 when nothing is left pending, 3 when some registrants are.
    pub(crate) async fn run_once(&self, extra: &[&str]) -> Value {
        let mut args = vec!["run", self.config(), "--once"];
        args.extend(extra);
        let out = self.output(&args).await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let report: Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("{e}: {stdout}\nstderr: {stderr}"));
        let pending = report["pending"].as_u64().unwrap_or_default();
        let expected = if pending > 0 { 3 } else { 0 };
        assert_eq!(
            out.status.code(),
            Some(expected),
            "exit status with {pending} pending: {stderr}"
        );
        report
    }

    /// `omc run CONFIG --once`, started and left running.
    pub(crate) fn spawn_run(&self) -> Child {
        self.command(&["run", self.config(), "--once"])
            .spawn()
            .expect("omc starts")
    }

    /// The runs in the ledger, as `omc status --json` gives them (newest first).
    pub(crate) async fn runs(&self) -> Vec<Value> {
        let (ok, stdout, stderr) = self.run(&["status", self.config(), "--json"]).await;
        assert!(ok, "omc status failed: {stderr}");
        let status: Value = serde_json::from_str(stdout.trim()).expect("status is JSON");
        status["runs"].as_array().cloned().unwrap_or_default()
    }

    /// Asserts each run's (number, kind, outcome) in the ledger, newest first.
    pub(crate) async fn assert_runs(&self, expected: &[(i64, &str, &str)]) {
        let runs = self.runs().await;
        let seen: Vec<(i64, &str, &str)> = runs
            .iter()
            .map(|r| {
                let text = |key: &str| r[key].as_str().unwrap_or_default();
                (
                    r["id"].as_i64().unwrap_or_default(),
                    text("kind"),
                    text("outcome"),
                )
            })
            .collect();
        assert_eq!(seen, expected, "the runs in the ledger");
    }
}

impl Drop for Omc {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
