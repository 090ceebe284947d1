//! Runs the Odoo emulator until killed.
//!
//! ```text
//! cargo run --example odoo_emulator -- --port 8069 --sample 1000 --seed 7
//! ```
//!
//! Flags: `--host` (127.0.0.1), `--port` (0: a free port), `--db` (omc), `--login` (admin),
//! `--password` (admin), `--sample N` (N synthetic registrants with a VID each, default 0),
//! `--seed S` (0). Prints the base URL.

// Printing goes through `output`, which a closed stdout or stderr does not make panic.
#[macro_use]
#[path = "common/output.rs"]
mod output;
#[path = "common/logging.rs"]
mod logging;

use omc_odoo::emulator::OdooEmulator;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

struct Options {
    host: IpAddr,
    port: u16,
    db: String,
    login: String,
    password: String,
    sample: usize,
    seed: u64,
}

const USAGE: &str = "usage: odoo_emulator [--host 127.0.0.1] [--port 0] [--db omc] \
                     [--login admin] [--password admin] [--sample N] [--seed S] [--log-format text|json]";

fn parse(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut options = Options {
        host: IpAddr::from([127, 0, 0, 1]),
        port: 0,
        db: "omc".into(),
        login: "admin".into(),
        password: "admin".into(),
        sample: 0,
        seed: 0,
    };
    while let Some(flag) = args.next() {
        if flag == "--help" || flag == "-h" {
            outln!("{USAGE}");
            std::process::exit(0);
        }
        let value = args
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let bad = |what: &str| format!("{flag}: {what} expected, got '{value}'");
        match flag.as_str() {
            "--host" => options.host = value.parse().map_err(|_| bad("an IP address"))?,
            "--port" => options.port = value.parse().map_err(|_| bad("a port"))?,
            "--db" => options.db = value,
            "--login" => options.login = value,
            "--password" => options.password = value,
            "--sample" => options.sample = value.parse().map_err(|_| bad("a count"))?,
            "--seed" => options.seed = value.parse().map_err(|_| bad("a number"))?,
            _ => return Err(format!("unknown flag {flag}\n{USAGE}")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match logging::init().and_then(|args| parse(args.into_iter())) {
        Ok(options) => options,
        Err(message) => {
            errln!("{message}");
            return ExitCode::FAILURE;
        }
    };
    let odoo = OdooEmulator::builder()
        .database(options.db)
        .user(options.login, options.password)
        .bind(SocketAddr::new(options.host, options.port))
        .start()
        .await;
    let odoo = match odoo {
        Ok(odoo) => odoo,
        Err(error) => {
            errln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    odoo.seed_sample(options.sample, options.seed);
    outln!("{}", odoo.base_url());
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}
