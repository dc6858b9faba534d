//! exec probes: run the command's argv directly (never through a shell), keep up to 10 KiB
//! of stdout followed by stderr, exit 0 success, non-zero failure, timeout failure.
//!
//! Kubelet sources: pkg/probe/exec/exec.go (result mapping, 10 KiB limit writer),
//! pkg/kubelet/kuberuntime (RunInContainer appends stderr *after* stdout),
//! pkg/kubelet/cri/remote/remote_runtime.go (timeout text `command "<argv>" timed out`),
//! and runc's use of Go's `exec.LookPath` for the texts of a command that cannot start.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::{AccessFlags, Pid, access};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

use super::outcome::{Outcome, Timings};
use super::socket::micros_since;
use crate::gotext;

/// The kubelet's limit on captured output: `maxReadLength = 10 * 1 << 10` (exec.go).
pub const MAX_OUTPUT: usize = 10 * 1024;

/// The `$PATH` runc falls back to when the container defines none.
pub const DEFAULT_SEARCH_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A resolved exec probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecTarget {
    /// The command after `$(VAR)` expansion, exactly as it will be executed.
    pub argv: Vec<String>,
    /// Variables added to the inherited environment: the container's static `env` values
    /// and `PROBEBENCH_POD`, `PROBEBENCH_CONTAINER`, `PROBEBENCH_POD_IP`.
    pub env: Vec<(String, String)>,
    /// Working directory: the container's state dir when it has one.
    pub cwd: Option<PathBuf>,
    /// Where a bare command name is looked up: the container's static `PATH` if it sets
    /// one, else probebench's own.
    pub search_path: String,
    /// Word timeouts as the cri-client kubelets (≥ 1.31) do; older ones used the shorter text.
    pub cri_client_timeout_text: bool,
}

/// The exec probe timeout text: with the cri-client kubelets (staging/src/k8s.io/cri-client
/// remote_runtime.go, ≥ 1.31) `command timed out: "<argv>" timed out after 1s`; before,
/// `command "<argv>" timed out` (PR #106201).
pub fn timeout_text(cri_client: bool, argv: &[String], timeout: Duration) -> String {
    let joined = gotext::quote(&argv.join(" "));
    if cri_client {
        format!("command timed out: {joined} timed out after {}", gotext::duration(timeout))
    } else {
        format!("command {joined} timed out")
    }
}

/// Runs the command once. The process gets its own process group so that a timeout kills
/// the command *and* everything it started; it is always reaped before this returns (or,
/// if the future is dropped mid-run, its group is killed and tokio reaps it).
pub async fn run(target: &ExecTarget, timeout: Duration) -> Outcome {
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + timeout;
    let mut timings = Timings::default();
    let Some(name) = target.argv.first() else {
        return Outcome::errored("exec: no command").with_timings(finish(timings, start));
    };
    let program = match look_path(name, &target.search_path) {
        Ok(program) => program,
        Err(cause) => return Outcome::errored(cause).with_timings(finish(timings, start)),
    };

    let mut command = Command::new(&program);
    command
        .arg0(name)
        .args(&target.argv[1..])
        .envs(target.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Own process group, set through std's `process_group` (not `pre_exec`) so std
        // keeps its posix_spawn fast path.
        .process_group(0)
        .kill_on_drop(true);
    if let Some(cwd) = &target.cwd {
        command.current_dir(cwd);
    }
    let mut child = match command.spawn() {
        Ok(child) => child,
        // Go's `*os.PathError` from the exec itself, as runc reports it.
        Err(e) => {
            return Outcome::errored(format!("exec {}: {}", program.display(), gotext::errno_text(&e)))
                .with_timings(finish(timings, start));
        }
    };
    timings.spawn_us = Some(micros_since(start));
    let mut group = GroupKill::new(child.id());
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();

    let finished = tokio::time::timeout_at(deadline, async {
        tokio::join!(read_capped(stdout), read_capped(stderr), child.wait())
    })
    .await;
    match finished {
        Ok((mut out, err, status)) => {
            timings.exit_us = Some(micros_since(start));
            group.disarm();
            // stdout then stderr, not interleaved, cut at 10 KiB: RunInContainer returns
            // `append(stdout, stderr...)` and the prober's limit writer keeps the head.
            out.extend_from_slice(&err[..err.len().min(MAX_OUTPUT.saturating_sub(out.len()))]);
            out.truncate(MAX_OUTPUT);
            let output = into_text(out);
            match status {
                Ok(status) if status.success() => Outcome::success(output),
                Ok(_) => Outcome::failure(output),
                Err(e) => Outcome::errored(format!("wait: {}", gotext::errno_text(&e))),
            }
            .with_timings(finish(timings, start))
        }
        Err(_) => {
            // The pipes were dropped with the timed-out future; kill the whole group, then
            // reap the leader so no zombie is left behind.
            group.kill();
            let _ = child.wait().await;
            group.disarm();
            // ExecSync's DeadlineExceeded becomes this text, and the prober returns it as
            // the output because the captured output is empty on a timeout (PR #106201).
            Outcome::failure(timeout_text(target.cri_client_timeout_text, &target.argv, timeout))
                .with_timings(finish(timings, start))
        }
    }
}

fn finish(mut timings: Timings, start: Instant) -> Timings {
    timings.total_us = micros_since(start);
    timings
}

fn into_text(bytes: Vec<u8>) -> String {
    match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    }
}

/// Reads a pipe to its end, keeping the first [`MAX_OUTPUT`] bytes and discarding the rest
/// (the command must not block on a full pipe just because we stopped listening).
async fn read_capped<R: AsyncRead + Unpin>(pipe: Option<R>) -> Vec<u8> {
    let mut kept = Vec::new();
    let Some(mut pipe) = pipe else {
        return kept;
    };
    let mut chunk = [0u8; 4096];
    loop {
        match pipe.read(&mut chunk).await {
            Ok(0) | Err(_) => return kept,
            Ok(n) => {
                let room = MAX_OUTPUT - kept.len().min(MAX_OUTPUT);
                kept.extend_from_slice(&chunk[..n.min(room)]);
            }
        }
    }
}

/// Kills the child's process group when dropped while armed: a probe future dropped
/// mid-run (the scheduler gave up on it) leaves nothing running.
struct GroupKill {
    pgid: Option<Pid>,
}

impl GroupKill {
    fn new(pid: Option<u32>) -> Self {
        GroupKill { pgid: pid.and_then(|p| i32::try_from(p).ok()).map(Pid::from_raw) }
    }

    fn kill(&self) {
        if let Some(pgid) = self.pgid {
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }

    fn disarm(&mut self) {
        self.pgid = None;
    }
}

impl Drop for GroupKill {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Go's `exec.LookPath`, which runc uses to find the command inside the container: a name
/// with a slash is checked as a path, a bare name is searched in `$PATH`. The error texts
/// are Go's: `exec: "ls /tmp/abc": stat ls /tmp/abc: no such file or directory`,
/// `exec: "nope": executable file not found in $PATH`.
pub fn look_path(file: &str, search_path: &str) -> Result<PathBuf, String> {
    if file.contains('/') {
        return match find_executable(Path::new(file)) {
            Ok(()) => Ok(PathBuf::from(file)),
            Err(cause) => Err(format!("exec: {}: {cause}", gotext::quote(file))),
        };
    }
    for dir in search_path.split(':') {
        let dir = if dir.is_empty() { "." } else { dir };
        let candidate = Path::new(dir).join(file);
        if find_executable(&candidate).is_ok() {
            return Ok(candidate);
        }
    }
    Err(format!("exec: {}: executable file not found in $PATH", gotext::quote(file)))
}

/// Go's `findExecutable` (os/exec/lp_unix.go): stat, refuse directories, then ask the
/// kernel whether we may execute it.
fn find_executable(path: &Path) -> Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("stat {}: {}", path.display(), gotext::errno_text(&e)))?;
    if meta.is_dir() {
        return Err("is a directory".to_owned());
    }
    access(path, AccessFlags::X_OK).map_err(|errno| gotext::errno_text(&std::io::Error::from(errno)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_path_words_errors_like_go() {
        assert_eq!(
            look_path("ls /tmp/abc", DEFAULT_SEARCH_PATH).unwrap_err(),
            r#"exec: "ls /tmp/abc": stat ls /tmp/abc: no such file or directory"#
        );
        assert_eq!(
            look_path("no-such-command-here", DEFAULT_SEARCH_PATH).unwrap_err(),
            r#"exec: "no-such-command-here": executable file not found in $PATH"#
        );
        assert_eq!(look_path("/tmp", DEFAULT_SEARCH_PATH).unwrap_err(), r#"exec: "/tmp": is a directory"#);
        assert!(look_path("sh", DEFAULT_SEARCH_PATH).unwrap().is_absolute());
    }
}
