//! The `probebench` binary: parse the command line, run the command, map the outcome to the
//! documented exit code. Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;
use probebench::cli::{Cli, Command};
use probebench::commands::{self, Exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = match cli.command {
        Command::Validate(_) | Command::Explain(_) | Command::Show(_) | Command::Completions(_) => {
            Ok(Exit::Ok)
        }
        Command::Probe(args) => commands::probe::run(&args, &mut out),
    };
    let _ = &mut out;
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(commands::CommandError::exit(&e).code())
        }
    }
}
