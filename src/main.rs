//! The `govsnap` command: wiring only. Parsing, dispatch, logging and
//! output live in [`cli`]; everything else is the library.

#![warn(clippy::pedantic)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
