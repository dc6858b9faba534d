//! The `probebench` binary: parse the command line, set up logging, run the command, map
//! the outcome to the documented exit code. Everything else lives in the library.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use probebench::cli::{Cli, Command, GlobalArgs};
use probebench::commands::{self, CommandError, Exit};
use tracing_subscriber::EnvFilter;

/// Logs go to stderr; RUST_LOG wins over -v/-q. Colour only on a terminal and never when
/// NO_COLOR is set (https://no-color.org).
fn init_logging(global: &GlobalArgs) {
    let default = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .without_time()
        .init();
}

fn run(cli: &Cli, out: &mut dyn Write) -> Result<Exit, CommandError> {
    match &cli.command {
        Command::Validate(a) => commands::validate::run(a, out),
        Command::Explain(a) => commands::explain::run(a, out),
        Command::Show(a) => commands::show::run(a, out),
        Command::Compare(a) => commands::compare::run(a, out),
        Command::Simulate(a) => commands::simulate::run(a, out),
        Command::Tune(a) => commands::tune::run(a, out),
        Command::Targets(a) => commands::targets::run(a, out),
        Command::Probe(a) => commands::probe::run(a, out),
        Command::Completions(a) => commands::completions::run(a, out),
        Command::Run(a) => commands::run::run(a, out),
        Command::Report(a) => commands::report::run(a, out),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.global);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = run(&cli, &mut out).and_then(|exit| {
        out.flush()?;
        Ok(exit)
    });
    match result {
        Ok(exit) => ExitCode::from(exit.code()),
        // A closed pipe (`probebench show x | head`) is the reader's choice, not an error.
        Err(CommandError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let err = anyhow::Error::new(e);
            eprintln!("error: {err:#}");
            let exit = err.downcast_ref::<CommandError>().map_or(Exit::Failed, CommandError::exit);
            ExitCode::from(exit.code())
        }
    }
}
