//! The `govsnap` command: wiring only. Parsing, dispatch and output live in
//! [`cli`]; everything else is the library.

#![warn(clippy::pedantic)]

mod cli;

fn main() -> std::process::ExitCode {
    // logs to stderr, filtered by RUST_LOG (default: warnings)
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    cli::main()
}
