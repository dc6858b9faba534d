//! Starting the sample targets in their own process, so their CPU never blurs the
//! prober's: `run` re-runs its own executable as `probebench targets serve --pods FILE`
//! (the subcommand lives in the main binary), waits until the pods' ports accept
//! connections, and stops it by PID at the end.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum TargetsError {
    #[error("cannot find this program's executable to start the targets: {0}")]
    Exe(std::io::Error),
    #[error("cannot start the targets process: {0}")]
    Spawn(std::io::Error),
    #[error("the targets process exited before serving ({0})")]
    Exited(String),
    #[error("the targets did not accept connections on {addr} within {secs}s")]
    NotReady { addr: SocketAddr, secs: u64 },
}

/// How to start the targets beyond the pods file.
#[derive(Debug, Clone, Default)]
pub struct TargetsOptions {
    /// Containers wait for a start through the admin endpoint (the live lifecycle).
    pub no_start: bool,
    /// Serve the admin endpoint on a loopback port (reported back).
    pub admin: bool,
    /// The run's seed: the targets draw the same behaviour timelines as the simulator.
    pub seed: u64,
    /// Where exec state directories go.
    pub state_dir: Option<std::path::PathBuf>,
    /// A behaviour file (`--behaviour`).
    pub behaviour: Option<std::path::PathBuf>,
}

/// The running targets process; stopped (SIGTERM, then SIGKILL) when dropped.
#[derive(Debug)]
pub struct TargetsProcess {
    child: Child,
    admin: Option<SocketAddr>,
}

impl TargetsProcess {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The admin endpoint's address, when asked for.
    pub fn admin_addr(&self) -> Option<SocketAddr> {
        self.admin
    }

    /// Stop the process by its PID and reap it.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(2);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

impl Drop for TargetsProcess {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Start `probebench targets serve --pods <pods_file>` from this executable, and wait until
/// it prints `# ready` (every pod's listeners are up), then until every address in
/// `probe_addrs` (a sample of the pods' ports) accepts a connection. Its stdout is drained
/// by a thread for as long as it runs, so it never blocks on a full pipe.
pub fn start(
    pods_file: &Path,
    probe_addrs: &[SocketAddr],
    ready_within: Duration,
    options: &TargetsOptions,
) -> Result<TargetsProcess, TargetsError> {
    let exe = std::env::current_exe().map_err(TargetsError::Exe)?;
    let mut cmd = Command::new(exe);
    cmd.args(["targets", "serve", "--pods"]).arg(pods_file).arg("--seed").arg(options.seed.to_string());
    if options.no_start {
        cmd.arg("--no-start");
    }
    if options.admin {
        cmd.args(["--admin", "127.0.0.1:0"]);
    }
    if let Some(d) = &options.state_dir {
        cmd.arg("--state-dir").arg(d);
    }
    if let Some(b) = &options.behaviour {
        cmd.arg("--behaviour").arg(b);
    }
    // Die with this process, even if it is killed: no orphaned listeners.
    cmd.env("PROBEBENCH_PARENT_PID", std::process::id().to_string());
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(TargetsError::Spawn)?;
    let mut t = TargetsProcess { child, admin: None };
    let deadline = Instant::now() + ready_within;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    if let Some(stdout) = t.child.stdout.take() {
        let _ = std::thread::Builder::new().name("pb-targets-out".into()).spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.trim().strip_prefix("# admin http://") {
                    let _ = ready_tx.send(addr.parse().ok());
                }
                if line.trim() == "# ready" {
                    let _ = ready_tx.send(None);
                }
            }
        });
    }
    loop {
        if let Ok(Some(status)) = t.child.try_wait() {
            return Err(TargetsError::Exited(status.to_string()));
        }
        match ready_rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Some(admin)) => t.admin = Some(admin),
            Ok(None) => break,
            // Stdout closed without `# ready`: fall back to probing the addresses.
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
        }
        if Instant::now() >= deadline {
            return Err(TargetsError::NotReady {
                addr: probe_addrs.first().copied().unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0))),
                secs: ready_within.as_secs(),
            });
        }
    }
    for addr in probe_addrs {
        loop {
            if let Ok(Some(status)) = t.child.try_wait() {
                return Err(TargetsError::Exited(status.to_string()));
            }
            if TcpStream::connect_timeout(addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            if Instant::now() >= deadline {
                return Err(TargetsError::NotReady { addr: *addr, secs: ready_within.as_secs() });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    Ok(t)
}
