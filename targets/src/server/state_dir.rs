//! Exec state directories: `<root>/<pod>/<container>/{healthy,exit-code}`, kept current
//! by a writer thread so file-system calls never block the async runtime.
//!
//! Exec probes run on this machine, where there is no container filesystem; they run
//! in the container's directory, so `cat healthy` follows the behaviour the way
//! `cat /tmp/healthy` does inside a container. While the behaviour hangs, both files are
//! FIFOs with no writer: reading them blocks, so the exec probe times out.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::behaviour::ExecView;

/// The file that exists while the container is healthy.
pub const HEALTHY_FILE: &str = "healthy";
/// The file holding the exit code an exec health check would give now.
pub const EXIT_CODE_FILE: &str = "exit-code";

/// The state directory of a container.
pub fn state_dir(root: &Path, pod: &str, container: &str) -> PathBuf {
    root.join(pod).join(container)
}

/// The environment an exec probe runs with.
pub fn exec_env(pod: &str, container: &str, pod_ip: std::net::Ipv4Addr) -> [(String, String); 3] {
    [
        ("PROBEBENCH_POD".to_string(), pod.to_string()),
        ("PROBEBENCH_CONTAINER".to_string(), container.to_string()),
        ("PROBEBENCH_POD_IP".to_string(), pod_ip.to_string()),
    ]
}

/// What a directory should show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FileState {
    /// The container runs; this is its exec view.
    View(ExecView),
    /// Not running: `healthy` absent, `exit-code` 1.
    Stopped,
}

enum Op {
    Set(PathBuf, FileState),
    Shutdown,
}

/// Handle to the writer thread.
pub(crate) struct StateWriter {
    tx: mpsc::Sender<Op>,
    thread: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl StateWriter {
    pub fn start() -> io::Result<StateWriter> {
        let (tx, rx) = mpsc::channel::<Op>();
        let thread = std::thread::Builder::new().name("probebench-state".to_string()).spawn(move || {
            while let Ok(op) = rx.recv() {
                match op {
                    Op::Set(dir, state) => {
                        if let Err(e) = write_state(&dir, state) {
                            tracing::warn!(dir = %dir.display(), "state files: {e}");
                        }
                    }
                    Op::Shutdown => break,
                }
            }
        })?;
        Ok(StateWriter { tx, thread: std::sync::Mutex::new(Some(thread)) })
    }

    pub fn set(&self, dir: &Path, state: FileState) {
        let _ = self.tx.send(Op::Set(dir.to_path_buf(), state));
    }

    /// Finishes pending writes and stops the thread.
    pub fn finish(&self) {
        let _ = self.tx.send(Op::Shutdown);
        let handle = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(t) = handle {
            let _ = t.join();
        }
    }
}

impl Drop for StateWriter {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Replaces `dir/name` atomically (write a temporary, rename over).
fn replace_file(dir: &Path, name: &str, content: Option<&[u8]>) -> io::Result<()> {
    let target = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    match content {
        // Truncates a leftover temporary, if any.
        Some(bytes) => fs::write(&tmp, bytes)?,
        None => {
            let _ = fs::remove_file(&tmp);
            nix::unistd::mkfifo(&tmp, nix::sys::stat::Mode::from_bits_truncate(0o644)).map_err(io::Error::from)?
        }
    }
    fs::rename(&tmp, &target)
}

fn remove(dir: &Path, name: &str) -> io::Result<()> {
    match fs::remove_file(dir.join(name)) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

pub(crate) fn write_state(dir: &Path, state: FileState) -> io::Result<()> {
    match state {
        FileState::View(ExecView::Healthy) => {
            replace_file(dir, EXIT_CODE_FILE, Some(b"0\n"))?;
            replace_file(dir, HEALTHY_FILE, Some(b"ok\n"))
        }
        FileState::View(ExecView::Unhealthy(code)) => {
            remove(dir, HEALTHY_FILE)?;
            replace_file(dir, EXIT_CODE_FILE, Some(format!("{code}\n").as_bytes()))
        }
        FileState::View(ExecView::Hang) => {
            replace_file(dir, HEALTHY_FILE, None)?;
            replace_file(dir, EXIT_CODE_FILE, None)
        }
        FileState::Stopped => {
            remove(dir, HEALTHY_FILE)?;
            replace_file(dir, EXIT_CODE_FILE, Some(b"1\n"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_follow_the_view() {
        let root = std::env::temp_dir().join(format!("pb-state-unit-{}", std::process::id()));
        let dir = state_dir(&root, "p", "c");
        fs::create_dir_all(&dir).unwrap();
        write_state(&dir, FileState::View(ExecView::Healthy)).unwrap();
        assert!(dir.join(HEALTHY_FILE).is_file());
        assert_eq!(fs::read_to_string(dir.join(EXIT_CODE_FILE)).unwrap(), "0\n");
        write_state(&dir, FileState::View(ExecView::Unhealthy(1))).unwrap();
        assert!(!dir.join(HEALTHY_FILE).exists());
        assert_eq!(fs::read_to_string(dir.join(EXIT_CODE_FILE)).unwrap(), "1\n");
        write_state(&dir, FileState::View(ExecView::Hang)).unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(fs::metadata(dir.join(HEALTHY_FILE)).unwrap().file_type().is_fifo());
        write_state(&dir, FileState::Stopped).unwrap();
        assert!(!dir.join(HEALTHY_FILE).exists());
        fs::remove_dir_all(&root).unwrap();
    }
}
