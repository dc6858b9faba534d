//! `probebench completions` (being written).

use clap::Args;

#[derive(Debug, Args)]
pub struct CompletionsArgs {}
