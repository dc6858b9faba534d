//! One module per command: its clap arguments and the code that runs it. Commands write
//! results to the `out` writer they are given (stdout in the binary) and return an [`Exit`].

pub mod compare;
pub mod completions;
pub mod explain;
pub mod probe;
pub mod report;
pub mod run;
pub mod show;
pub mod simulate;
pub mod targets;
pub mod tune;
pub mod validate;

use std::io;

/// The exit-code contract (README, `--help`): 0 ran and passed, 1 a probe or threshold
/// failed, 2 invalid input, usage, or refused to start, 3 the schedule could not be held,
/// 130 interrupted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok,
    Failed,
    Invalid,
    ScheduleNotHeld,
    Interrupted,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::Invalid => 2,
            Exit::ScheduleNotHeld => 3,
            Exit::Interrupted => 130,
        }
    }
}

/// A command that could not do its job. `Invalid` is the user's input (exit 2); `Io` and
/// `Internal` are the harness's own faults (exit 1), reported with their cause.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Io(#[from] io::Error),
    #[error("{0}")]
    Internal(String),
}

impl CommandError {
    pub fn exit(&self) -> Exit {
        match self {
            CommandError::Invalid(_) => Exit::Invalid,
            CommandError::Io(_) | CommandError::Internal(_) => Exit::Failed,
        }
    }
}

pub type CommandResult = Result<Exit, CommandError>;
