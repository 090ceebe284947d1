//! The `omc` command: `cargo install --path . --features cli`, then `omc --help`.

fn main() -> std::process::ExitCode {
    omc::cli::main()
}
