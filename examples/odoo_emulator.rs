//! Runs the Odoo emulator (Odoo 17's JSON-RPC with OpenG2P's registry, and OpenG2P's REST API)
//! until interrupted.
//!
//! ```text
//! cargo run --example odoo_emulator -- --port 8069 --sample 1000 --seed 7
//! ```
//!
//! Prints the base URL on its first line, then what a user needs to connect: the database,
//! the login and the registrants it holds.

// Printing goes through `output`, which a closed stdout or stderr does not make panic.
#[macro_use]
#[path = "../src/cli/output.rs"]
mod output;
#[path = "../src/cli/logging.rs"]
mod logging;

use clap::Parser;
use omc_odoo::emulator::OdooEmulator;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

/// The Odoo emulator: OpenG2P's registry over Odoo 17's JSON-RPC, on loopback by default.
#[derive(Debug, Parser)]
#[command(name = "odoo_emulator", version)]
struct Options {
    #[command(flatten)]
    log: logging::LogArgs,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// The port (0: a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The database's name.
    #[arg(long, default_value = "omc")]
    db: String,
    /// The user's login.
    #[arg(long, default_value = "admin")]
    login: String,
    /// The user's password.
    #[arg(long, default_value = "admin")]
    password: String,
    /// Synthetic registrants to create, each with a VID.
    #[arg(long, default_value_t = 0)]
    sample: usize,
    /// The synthetic registrants' seed.
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = Options::parse();
    options.log.install();
    let odoo = OdooEmulator::builder()
        .database(options.db.clone())
        .user(options.login.clone(), options.password)
        .bind(SocketAddr::new(options.host, options.port))
        .start()
        .await;
    let odoo = match odoo {
        Ok(odoo) => odoo,
        Err(error) => {
            errln!("cannot start the Odoo emulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    odoo.seed_sample(options.sample, options.seed);
    outln!("{}", odoo.base_url());
    outln!(
        "Odoo emulator at {}: database {}, login {} (password as given); {} registrants with a \
         VID; id types 'MOSIP VID' and 'MOSIP UIN TOKEN'",
        odoo.base_url(),
        options.db,
        options.login,
        options.sample
    );
    // Serve until the process is interrupted (Ctrl-C ends it).
    std::future::pending::<()>().await;
    ExitCode::SUCCESS
}
