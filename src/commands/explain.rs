//! `probebench explain FIELD` (being written).

use std::io::Write;

use clap::Args;

use super::{CommandResult, Exit};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// A field path such as pods.spec.containers.livenessProbe.periodSeconds.
    pub field: String,
}

pub fn run(_args: &ExplainArgs, _out: &mut dyn Write) -> CommandResult {
    Ok(Exit::Ok)
}
