//! `probebench validate` (being written).

use clap::Args;

#[derive(Debug, Args)]
pub struct ValidateArgs {}
