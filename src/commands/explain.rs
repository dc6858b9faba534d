//! `probebench explain` (being written).

use clap::Args;

#[derive(Debug, Args)]
pub struct ExplainArgs {}
