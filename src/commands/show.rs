//! `probebench show` (being written).

use clap::Args;

#[derive(Debug, Args)]
pub struct ShowArgs {}
