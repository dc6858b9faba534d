//! What the tests that drive the `probebench` binary share.

use std::path::PathBuf;
use std::process::Command;

/// The binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_probebench"))
}

/// A fresh directory for one test, unique per test binary and process, so tests run in
/// parallel: `/tmp/pb-<suite>-<name>-<pid>`.
pub fn temp_dir(suite: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("pb-{suite}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}
