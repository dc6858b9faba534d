//! Process plumbing: die with the parent, enough file descriptors.

use nix::sys::resource::{Resource, getrlimit, setrlimit};
use nix::sys::signal::Signal;
use nix::unistd::getppid;

use crate::error::TargetsError;

/// Arms PR_SET_PDEATHSIG so this process gets SIGKILL when its parent dies: a target
/// process started by `probebench run` never outlives it with listeners open.
///
/// `expected_parent` closes the race where the parent died before the signal was armed
/// (we would then have been re-parented already): pass the parent's pid (e.g. from an
/// environment variable the parent set). Without it, being re-parented to pid 1 is
/// taken as the parent being gone.
///
/// Caveat for the parent: the signal fires when the *thread* that forked us exits, so
/// spawn targets from a long-lived thread (the main thread or a runtime worker), not
/// from `spawn_blocking`, whose threads exit when idle.
pub fn die_with_parent(expected_parent: Option<u32>) -> Result<(), TargetsError> {
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)
        .map_err(|source| TargetsError::Sys { call: "prctl(PR_SET_PDEATHSIG)", source })?;
    let now = u32::try_from(getppid().as_raw()).unwrap_or(0);
    match expected_parent {
        Some(expected) if expected != now => Err(TargetsError::ParentGone { expected, now }),
        None if now == 1 => Err(TargetsError::ParentGone { expected: 0, now }),
        _ => Ok(()),
    }
}

/// Raises RLIMIT_NOFILE so `listeners + allowance` descriptors fit: the soft limit up to
/// the hard one, and the hard one too when privileged (root may go up to
/// /proc/sys/fs/nr_open). Returns the soft limit in force.
pub fn ensure_fd_limit(listeners: u64, allowance: u64) -> Result<u64, TargetsError> {
    let needed = listeners + allowance;
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)
        .map_err(|source| TargetsError::Sys { call: "getrlimit(RLIMIT_NOFILE)", source })?;
    if soft >= needed {
        return Ok(soft);
    }
    let fail = |reason: String| TargetsError::FdLimit { needed, listeners, allowance, soft, hard, reason };
    let new_hard = hard.max(needed);
    match setrlimit(Resource::RLIMIT_NOFILE, needed, new_hard) {
        Ok(()) => Ok(needed),
        Err(e) if new_hard > hard => {
            let nr_open = std::fs::read_to_string("/proc/sys/fs/nr_open")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "unknown".to_string());
            Err(fail(format!("{e} (raising the hard limit needs root or CAP_SYS_RESOURCE; fs.nr_open is {nr_open})")))
        }
        Err(e) => Err(fail(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_needs_are_already_met() {
        let soft = ensure_fd_limit(10, 10).unwrap();
        assert!(soft >= 20);
    }
}
