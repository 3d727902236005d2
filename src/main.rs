//! The `govsnap` command: wiring only. Parsing, dispatch and output live in
//! [`cli`]; everything else is the library.

#![warn(clippy::pedantic)]

mod cli;

use std::io::IsTerminal;

fn main() -> std::process::ExitCode {
    // logs to stderr, filtered by RUST_LOG (default: warnings); colour only
    // for a person at a terminal, never into a log file, and never with
    // NO_COLOR set (no-color.org)
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .init();
    cli::main()
}
