//! `probebench completions SHELL`: shell completion scripts generated from the clap
//! definitions, so they never drift from the real options.

use std::io::Write;

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{CommandResult, Exit};

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  probebench completions bash > ~/.local/share/bash-completion/completions/probebench\n  probebench completions zsh > \"${fpath[1]}/_probebench\"\n  probebench completions fish > ~/.config/fish/completions/probebench.fish"
)]
pub struct CompletionsArgs {
    /// The shell to generate for.
    #[arg(value_parser = ["bash", "zsh", "fish"])]
    pub shell: String,
}

pub fn run(args: &CompletionsArgs, out: &mut dyn Write) -> CommandResult {
    let shell = match args.shell.as_str() {
        "zsh" => Shell::Zsh,
        "fish" => Shell::Fish,
        _ => Shell::Bash,
    };
    let mut cmd = crate::cli::Cli::command();
    clap_complete::generate(shell, &mut cmd, "probebench", out);
    Ok(Exit::Ok)
}
