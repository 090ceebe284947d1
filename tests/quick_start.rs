//! docs/OPERATIONS.md's quick start, walked command by command as a user types it: the
//! emulators as processes, the sample configuration copied, the secrets exported, `omc` run,
//! `/healthz` and `/metrics` fetched. Ports: the test starts each program on port 0 (free ports
//! on loopback) where the quick start names a fixed one, and rewrites the copied configuration
//! to match. Any other command in the quick start fails the test: it must be one a user can
//! type as written.

mod common;

use common::command::{isolated, omc_binary};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// The commands of the quick start's `sh` block.
fn quick_start() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("docs/OPERATIONS.md")).expect("the docs");
    let section = text
        .split("## Quick start")
        .nth(1)
        .expect("docs/OPERATIONS.md has a quick start");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the quick start has an sh block");
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// An example program built beside the tests.
fn example(name: &str) -> PathBuf {
    std::env::current_exe()
        .expect("the test's path")
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps")
        .join("examples")
        .join(name)
}

/// The user's shell: a working directory, exported variables, programs left running, and the
/// ports the quick start names mapped to the ones really bound.
struct Shell {
    dir: PathBuf,
    env: Vec<(String, String)>,
    background: Vec<Child>,
    ports: BTreeMap<String, String>,
}

impl Shell {
    /// `addr` with a quick-start port replaced by the one bound.
    fn mapped(&self, text: &str) -> String {
        self.ports
            .iter()
            .fold(text.to_owned(), |t, (from, to)| t.replace(from, to))
    }

    fn command(&self, program: &Path, args: &[String]) -> Command {
        let mut cmd = isolated(program, &self.env);
        cmd.args(args).current_dir(&self.dir);
        cmd
    }

    /// `cargo run --example NAME -- ARGS &`: the example on a free port; its first line is
    /// its URL, whose port replaces the one the quick start gave.
    async fn example(&mut self, name: &str, args: &[String]) {
        let mut args = args.to_vec();
        let at = args
            .iter()
            .position(|a| a == "--port")
            .expect("an emulator is started on a named port");
        let named = std::mem::replace(&mut args[at + 1], "0".to_owned());
        let mut child = self.command(&example(name), &args).spawn().expect("starts");
        let stdout = child.stdout.take().expect("piped");
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the emulator prints its URL")
            .expect("readable")
            .expect("a first line");
        let info = lines
            .next_line()
            .await
            .expect("readable")
            .unwrap_or_default();
        assert!(
            info.contains(&url),
            "{name} says what to connect with: {info}"
        );
        let bound = url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .expect("a port")
            .to_owned();
        self.ports
            .insert(format!("127.0.0.1:{named}"), format!("127.0.0.1:{bound}"));
        self.background.push(child);
    }
}

#[tokio::test]
async fn the_quick_start_runs_as_documented() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::temp_dir().join(format!("omc-quick-start-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a directory");
    let mut shell = Shell {
        dir: dir.clone(),
        env: Vec::new(),
        background: Vec::new(),
        ports: BTreeMap::new(),
    };
    let mut service: Option<(Child, String)> = None;
    let commands = quick_start();
    assert!(commands.len() >= 8, "{commands:#?}");
    for line in &commands {
        let words: Vec<String> = line
            .trim_end_matches('&')
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let background = line.ends_with('&');
        match words
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["cargo", "install", "--path", ".", "--features", "cli"] => {
                // The binary `cargo test` built with the same feature stands for the installed one.
                assert!(omc_binary().exists());
            }
            ["cargo", "run", "--example", name, "--", ..] if background => {
                shell.example(name, &words[5..]).await;
            }
            ["cp", from, to] => {
                let text = std::fs::read_to_string(root.join(from)).expect("the file to copy");
                std::fs::write(dir.join(to), shell.mapped(&text)).expect("copied");
            }
            ["export", assignments @ ..] => {
                for assignment in assignments {
                    let (name, value) = assignment.split_once('=').expect("NAME=value");
                    shell.env.push((name.to_owned(), value.to_owned()));
                }
            }
            ["omc", "run", _, "--http", addr] if background => {
                let mut args: Vec<String> = words[1..].to_vec();
                let last = args.len() - 1;
                args[last] = "127.0.0.1:0".into();
                let mut child = shell.command(&omc_binary(), &args).spawn().expect("starts");
                let stderr = child.stderr.take().expect("piped");
                let mut lines = BufReader::new(stderr).lines();
                let deadline = Instant::now() + Duration::from_secs(30);
                let bound = loop {
                    let line = tokio::time::timeout_at(deadline, lines.next_line())
                        .await
                        .expect("the service says where it serves")
                        .expect("readable")
                        .expect("the service is running");
                    if let Some(at) = line.find("address=") {
                        break line[at + "address=".len()..]
                            .split_whitespace()
                            .next()
                            .unwrap_or_default()
                            .to_owned();
                    }
                };
                tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
                shell.ports.insert((*addr).to_owned(), bound.clone());
                service = Some((child, bound));
            }
            ["omc", ..] if !background => {
                let out = shell
                    .command(&omc_binary(), &words[1..])
                    .output()
                    .await
                    .expect("omc runs");
                let stdout = String::from_utf8_lossy(&out.stdout);
                assert!(
                    out.status.success(),
                    "`{line}` exited {:?}: {}\n{stdout}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr)
                );
                if words[1] == "run" {
                    let report: serde_json::Value =
                        serde_json::from_str(stdout.trim()).expect("a report");
                    assert_eq!(report["tokenised"], 1000, "{report}");
                    assert_eq!(report["pending"], 0, "{report}");
                }
                if words[1] == "status" {
                    assert!(stdout.contains("completed"), "{stdout}");
                }
            }
            ["curl", "-s", url] => {
                let url = shell.mapped(url);
                let deadline = Instant::now() + Duration::from_secs(60);
                // The service runs its first delta at once; poll until it is healthy.
                let body = loop {
                    let response = reqwest::get(&url).await.expect("the service answers");
                    let status = response.status().as_u16();
                    let body = response.text().await.unwrap_or_default();
                    if status == 200 {
                        break body;
                    }
                    assert!(Instant::now() < deadline, "{url}: {status} {body}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                };
                if url.ends_with("/healthz") {
                    assert_eq!(body.trim(), "ok");
                } else {
                    assert!(body.contains("omc_runs_total"), "{body}");
                }
            }
            _ => panic!("the quick start has a command this walk does not know: `{line}`"),
        }
    }
    let (mut child, _) = service.expect("the quick start starts the service");
    let pid = child.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("the service ends after SIGTERM")
        .expect("its status");
    assert_eq!(status.code(), Some(0));
    drop(shell);
    let _ = std::fs::remove_dir_all(&dir);
}
