//! Container and pod status as the API shows them, and as kubectl prints them:
//! the kubelet's getPhase (pkg/kubelet/kubelet_pods.go) and kubectl's printPod
//! (pkg/printers/internalversion/printers.go) for `kubectl get pods`.

use serde::Serialize;

use super::duration;

/// A container instance's state (v1.ContainerState).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerState {
    Waiting { reason: String, message: String },
    Running { started_at_ns: u64 },
    Terminated(Terminated),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Terminated {
    pub exit_code: i32,
    /// The runtime's reason: `Completed` (exit 0), `Error`, `StartError`, `OOMKilled`.
    pub reason: String,
    pub started_at_ns: u64,
    pub finished_at_ns: u64,
    /// The container instance (runtime container ID) that ended.
    pub instance: u32,
}

impl Terminated {
    /// containerd's reason for an exit code.
    pub fn reason_for(exit_code: i32) -> &'static str {
        if exit_code == 0 { "Completed" } else { "Error" }
    }
}

/// One container's status in the pod status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContainerStatus {
    pub name: String,
    pub state: ContainerState,
    /// The previous instance's termination (`lastState.terminated`).
    pub last_terminated: Option<Terminated>,
    pub ready: bool,
    pub started: bool,
    pub restart_count: u32,
    /// The runtime instance the status describes (its container ID); 0 before the first.
    pub instance: u32,
}

impl ContainerStatus {
    pub fn waiting(name: &str, reason: &str) -> Self {
        ContainerStatus {
            name: name.to_string(),
            state: ContainerState::Waiting { reason: reason.to_string(), message: String::new() },
            last_terminated: None,
            ready: false,
            started: false,
            restart_count: 0,
            instance: 0,
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self.state, ContainerState::Running { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Phase {
    Pending,
    Running,
    Succeeded,
    Failed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Running => "Running",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, Phase::Succeeded | Phase::Failed)
    }
}

/// getPhase over regular containers (init containers are not modelled): counts running,
/// waiting (never terminated), stopped (terminated, or waiting after a termination) and
/// succeeded containers.
pub fn phase(statuses: &[ContainerStatus], restart_policy: &str, pod_terminal: bool) -> Phase {
    let (mut running, mut waiting, mut stopped, mut succeeded) = (0, 0, 0, 0);
    for s in statuses {
        match &s.state {
            ContainerState::Running { .. } => running += 1,
            ContainerState::Terminated(t) => {
                stopped += 1;
                if t.exit_code == 0 {
                    succeeded += 1;
                }
            }
            ContainerState::Waiting { .. } => {
                if s.last_terminated.is_some() {
                    stopped += 1;
                } else {
                    waiting += 1;
                }
            }
        }
    }
    if waiting > 0 {
        return Phase::Pending;
    }
    if running > 0 {
        return Phase::Running;
    }
    if stopped > 0 {
        if pod_terminal {
            return if succeeded == stopped { Phase::Succeeded } else { Phase::Failed };
        }
        return match restart_policy {
            "Always" => Phase::Running,
            _ if succeeded == stopped => Phase::Succeeded,
            "Never" => Phase::Failed,
            _ => Phase::Running,
        };
    }
    Phase::Pending
}

/// The columns of `kubectl get pods` for one pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PodLine {
    pub ready: String,
    pub status: String,
    pub restarts: String,
    pub restarts_n: u32,
}

/// printPod's READY, STATUS and RESTARTS for regular containers.
pub fn kubectl_line(
    phase: Phase,
    statuses: &[ContainerStatus],
    pod_ready: bool,
    deleting: bool,
    now_ns: u64,
) -> PodLine {
    let mut reason = phase.as_str().to_string();
    let mut restarts = 0;
    let mut ready = 0;
    let mut has_running = false;
    let mut last_restart: Option<u64> = None;
    for s in statuses.iter().rev() {
        restarts += s.restart_count;
        if let Some(t) = &s.last_terminated {
            last_restart = Some(last_restart.map_or(t.finished_at_ns, |l: u64| l.max(t.finished_at_ns)));
        }
        match &s.state {
            ContainerState::Waiting { reason: r, .. } if !r.is_empty() => reason = r.clone(),
            ContainerState::Terminated(t) if !t.reason.is_empty() => reason = t.reason.clone(),
            ContainerState::Terminated(t) => reason = format!("ExitCode:{}", t.exit_code),
            ContainerState::Running { .. } if s.ready => {
                has_running = true;
                ready += 1;
            }
            _ => {}
        }
    }
    if reason == "Completed" && has_running {
        reason = if pod_ready { "Running".to_string() } else { "NotReady".to_string() };
    }
    if deleting && !phase.is_terminal() {
        reason = "Terminating".to_string();
    }
    let restarts_text = match (restarts, last_restart) {
        (n, Some(at)) if n > 0 => format!("{n} ({} ago)", duration::human(now_ns.saturating_sub(at))),
        (n, _) => n.to_string(),
    };
    PodLine {
        ready: format!("{ready}/{}", statuses.len()),
        status: reason,
        restarts: restarts_text,
        restarts_n: restarts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn running(ready: bool) -> ContainerStatus {
        ContainerStatus {
            name: "c".into(),
            state: ContainerState::Running { started_at_ns: 0 },
            last_terminated: None,
            ready,
            started: true,
            restart_count: 0,
            instance: 1,
        }
    }

    fn terminated(code: i32) -> Terminated {
        Terminated {
            exit_code: code,
            reason: Terminated::reason_for(code).into(),
            started_at_ns: 0,
            finished_at_ns: 10 * S,
            instance: 1,
        }
    }

    #[test]
    fn phase_rules() {
        assert_eq!(phase(&[ContainerStatus::waiting("c", "ContainerCreating")], "Always", false), Phase::Pending);
        assert_eq!(phase(&[running(false)], "Always", false), Phase::Running);
        let mut crashed = ContainerStatus::waiting("c", "CrashLoopBackOff");
        crashed.last_terminated = Some(terminated(1));
        assert_eq!(phase(std::slice::from_ref(&crashed), "Always", false), Phase::Running, "restarting");
        let done = ContainerStatus { state: ContainerState::Terminated(terminated(0)), ..running(false) };
        assert_eq!(phase(std::slice::from_ref(&done), "OnFailure", false), Phase::Succeeded);
        let failed = ContainerStatus { state: ContainerState::Terminated(terminated(2)), ..running(false) };
        assert_eq!(phase(std::slice::from_ref(&failed), "Never", false), Phase::Failed);
        assert_eq!(phase(&[failed], "OnFailure", false), Phase::Running);
    }

    #[test]
    fn kubectl_columns() {
        let mut c = running(true);
        c.restart_count = 2;
        c.last_terminated = Some(terminated(137));
        let line = kubectl_line(Phase::Running, &[c], true, false, 75 * S);
        assert_eq!(line.ready, "1/1");
        assert_eq!(line.status, "Running");
        assert_eq!(line.restarts, "2 (65s ago)");
        let mut w = ContainerStatus::waiting("c", "CrashLoopBackOff");
        w.restart_count = 3;
        w.last_terminated = Some(terminated(137));
        let line = kubectl_line(Phase::Running, &[w], false, true, 20 * S);
        assert_eq!((line.ready.as_str(), line.status.as_str()), ("0/1", "Terminating"));
    }
}
