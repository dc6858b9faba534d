//! Every text the kubelet (and the scheduler) writes into events and statuses, in one place,
//! each with the source it follows (Kubernetes 1.35 unless a setting selects an older one;
//! docs/lifecycle-texts.md lists them with their versions).

use super::config::KubeletConfig;
use super::duration;
use crate::spec::ProbeType;

/// format.Pod: `<name>_<namespace>(<uid>)` (pkg/kubelet/util/format).
pub fn format_pod(name: &str, namespace: &str, uid: &str) -> String {
    format!("{name}_{namespace}({uid})")
}

/// Scheduled (default-scheduler, pkg/scheduler/schedule_one.go).
pub fn scheduled(namespace: &str, pod: &str, node: &str) -> String {
    format!("Successfully assigned {namespace}/{pod} to {node}")
}

/// FailedScheduling on a one-node cluster whose node is cordoned.
pub fn failed_scheduling_unschedulable() -> &'static str {
    "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
}

/// Pulling (images/image_manager.go).
pub fn pulling(image: &str) -> String {
    format!("Pulling image \"{image}\"")
}

/// Pulled after a pull: `in <pull> (<total> including waiting). Image size: <n> bytes.`,
/// both durations truncated to milliseconds (PR #111772; the size since ~1.30).
pub fn pulled(cfg: &KubeletConfig, image: &str, pull_ns: u64, total_ns: u64, size_bytes: u64) -> String {
    let pull = duration::go(duration::truncate_ms(pull_ns));
    let total = duration::go(duration::truncate_ms(total_ns));
    if !cfg.pulled_with_waiting() {
        return format!("Successfully pulled image \"{image}\" in {}", duration::go(pull_ns));
    }
    let mut s = format!("Successfully pulled image \"{image}\" in {pull} ({total} including waiting)");
    if cfg.pulled_with_size() {
        s.push_str(&format!(". Image size: {size_bytes} bytes."));
    }
    s
}

/// Pulled when no pull is needed. 1.35 turns on KubeletEnsureSecretPulledImages (beta), which
/// adds "and can be accessed by the pod".
pub fn already_present(cfg: &KubeletConfig, image: &str) -> String {
    if cfg.version >= super::config::Version::NEWEST {
        format!("Container image \"{image}\" already present on machine and can be accessed by the pod")
    } else {
        format!("Container image \"{image}\" already present on machine")
    }
}

pub fn failed_to_pull(image: &str, error: &str) -> String {
    format!("Failed to pull image \"{image}\": {error}")
}

/// BackOff (Normal) for an image, and the waiting message of ImagePullBackOff, which since
/// PR #127918 (~1.32) carries the previous pull error.
pub fn back_off_pulling(image: &str) -> String {
    format!("Back-off pulling image \"{image}\"")
}

pub fn image_pull_backoff_waiting(cfg: &KubeletConfig, image: &str, previous_error: Option<&str>) -> String {
    match previous_error {
        Some(e) if cfg.version >= (super::config::Version { major: 1, minor: 32 }) => {
            format!("Back-off pulling image \"{image}\": ErrImagePull: {e}")
        }
        _ => back_off_pulling(image),
    }
}

pub fn never_pull(image: &str) -> String {
    format!("Container image \"{image}\" is not present with pull policy of Never")
}

/// `Error: <reason>` (startContainer's Failed event).
pub fn error_event(reason: &str) -> String {
    format!("Error: {reason}")
}

pub fn created(cfg: &KubeletConfig, container: &str) -> String {
    if cfg.created_with_colon() {
        format!("Created container: {container}")
    } else {
        format!("Created container {container}")
    }
}

pub fn started(container: &str) -> String {
    format!("Started container {container}")
}

/// Killing after a failed liveness or startup probe (computePodActions).
pub fn killing_for_probe(container: &str, probe: ProbeType, restart: bool) -> String {
    let which = if probe == ProbeType::Startup { "startup" } else { "liveness" };
    let mut s = format!("Container {container} failed {which} probe");
    if restart {
        s.push_str(", will be restarted");
    }
    s
}

/// killContainer's default message (pod deletion, pod kill).
pub fn stopping(container: &str) -> String {
    format!("Stopping container {container}")
}

/// BackOff for a crash loop (doBackOff).
pub fn back_off_restarting(container: &str, pod: &str) -> String {
    format!("Back-off restarting failed container {container} in pod {pod}")
}

/// The CrashLoopBackOff waiting message.
pub fn crash_loop_waiting(window_ns: u64, container: &str, pod: &str) -> String {
    format!("back-off {} restarting failed container={container} pod={pod}", duration::go(window_ns))
}

/// The error containerd + runc return for an exec whose program cannot be found
/// (containerd CRI container_execsync.go, runc setns_init via os/exec.LookPath): a path with
/// a slash is stat'ed, a bare name is searched in $PATH. `exec_id` is containerd's random
/// 64-hex exec ID.
pub fn exec_not_found(program: &str, exec_id: &str) -> String {
    let cause = if program.contains('/') {
        format!("exec: \"{program}\": stat {program}: no such file or directory")
    } else {
        format!("exec: \"{program}\": executable file not found in $PATH")
    };
    format!(
        "rpc error: code = Unknown desc = failed to exec in container: failed to start exec \"{exec_id}\": OCI runtime exec failed: exec failed: unable to start container process: {cause}: unknown"
    )
}

/// FailedPostStartHook / FailedPreStopHook (recent: a fixed text; older kubelets put the
/// handler's message there).
pub const POST_START_HOOK_FAILED: &str = "PostStartHook failed";
pub const PRE_STOP_HOOK_FAILED: &str = "PreStopHook failed";

/// The waiting message of PostStartHookError (pkg/kubelet/lifecycle/handlers.go).
pub fn post_start_error_message(kind: &str, container: &str, pod: &str, error: &str) -> String {
    match kind {
        "exec" => format!(
            "Exec lifecycle hook for Container \"{container}\" in Pod \"{pod}\" failed - error: {error}, message: \"\""
        ),
        _ => format!("HTTP lifecycle hook for Container \"{container}\" in Pod \"{pod}\" failed - error: {error}"),
    }
}

/// FailedMount from the volume manager for a ConfigMap that does not exist.
pub fn failed_mount_configmap(volume: &str, configmap: &str) -> String {
    format!("MountVolume.SetUp failed for volume \"{volume}\" : configmap \"{configmap}\" not found")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubelet::config::{SECOND, Version};

    #[test]
    fn exec_errors_name_the_cause_as_containerd_does() {
        let m = exec_not_found("ls /tmp/abc", "ab");
        assert!(m.ends_with("exec: \"ls /tmp/abc\": stat ls /tmp/abc: no such file or directory: unknown"), "{m}");
        assert!(
            m.starts_with("rpc error: code = Unknown desc = failed to exec in container: failed to start exec \"ab\"")
        );
        assert!(exec_not_found("nosuchcmd", "ab").contains("executable file not found in $PATH"));
    }

    #[test]
    fn pulled_text_by_version() {
        let new = KubeletConfig::default();
        assert_eq!(
            pulled(&new, "httpd", 1_930_400_000, 1_930_900_000, 58_000_000),
            "Successfully pulled image \"httpd\" in 1.93s (1.93s including waiting). Image size: 58000000 bytes."
        );
        let old = KubeletConfig::for_version(Version { major: 1, minor: 19 });
        assert_eq!(pulled(&old, "httpd", 1_930_400_000, 0, 0), "Successfully pulled image \"httpd\" in 1.9304s");
    }

    #[test]
    fn crash_loop_texts() {
        assert_eq!(
            crash_loop_waiting(80 * SECOND, "myweb", "p_default(u)"),
            "back-off 1m20s restarting failed container=myweb pod=p_default(u)"
        );
        assert_eq!(
            killing_for_probe("myweb", ProbeType::Liveness, true),
            "Container myweb failed liveness probe, will be restarted"
        );
        assert_eq!(killing_for_probe("myweb", ProbeType::Startup, false), "Container myweb failed startup probe");
    }
}
