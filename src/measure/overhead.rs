//! The prober's own cost, read from the kernel: CPU (user+sys, per thread kind), resident
//! memory, open fds, child processes, TIME_WAIT sockets, and the machine's noise (steal
//! time, CPU used by other processes). Linux /proc only; every reader degrades to "unknown"
//! (None or 0) rather than failing the run.

use std::collections::BTreeMap;
use std::fs;

use nix::sys::resource::{UsageWho, getrusage};
use serde::Serialize;

/// User and system CPU of this process and of its reaped children, nanoseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ProcessCpu {
    pub user_ns: u64,
    pub sys_ns: u64,
    /// Children that were waited for (exec probes): their CPU is the prober's cost too.
    pub children_user_ns: u64,
    pub children_sys_ns: u64,
}

fn tv_ns(tv: nix::sys::time::TimeVal) -> u64 {
    (tv.tv_sec().max(0) as u64) * 1_000_000_000 + (tv.tv_usec().max(0) as u64) * 1_000
}

impl ProcessCpu {
    pub fn now() -> Self {
        let own = getrusage(UsageWho::RUSAGE_SELF).ok();
        let kids = getrusage(UsageWho::RUSAGE_CHILDREN).ok();
        ProcessCpu {
            user_ns: own.map_or(0, |u| tv_ns(u.user_time())),
            sys_ns: own.map_or(0, |u| tv_ns(u.system_time())),
            children_user_ns: kids.map_or(0, |u| tv_ns(u.user_time())),
            children_sys_ns: kids.map_or(0, |u| tv_ns(u.system_time())),
        }
    }

    /// CPU used between `earlier` and `self`.
    pub fn since(&self, earlier: &ProcessCpu) -> ProcessCpu {
        ProcessCpu {
            user_ns: self.user_ns.saturating_sub(earlier.user_ns),
            sys_ns: self.sys_ns.saturating_sub(earlier.sys_ns),
            children_user_ns: self.children_user_ns.saturating_sub(earlier.children_user_ns),
            children_sys_ns: self.children_sys_ns.saturating_sub(earlier.children_sys_ns),
        }
    }

    pub fn own_ns(&self) -> u64 {
        self.user_ns + self.sys_ns
    }

    pub fn children_ns(&self) -> u64 {
        self.children_user_ns + self.children_sys_ns
    }
}

/// Which job a thread does, from the name probebench gives its threads.
pub fn thread_kind(comm: &str) -> &'static str {
    if comm.starts_with("pb-shard") {
        "timer_dispatch"
    } else if comm.starts_with("pb-io") {
        "probe_io"
    } else if comm.starts_with("pb-naive") {
        "naive_task_per_worker"
    } else if comm.starts_with("pb-collect") {
        "collector"
    } else {
        "other"
    }
}

/// CPU time on-CPU per thread kind (nanoseconds, from /proc/self/task/*/schedstat, which is
/// exact, unlike the tick-sampled utime/stime). Threads that exited are not included.
pub fn thread_cpu_by_kind() -> BTreeMap<&'static str, u64> {
    let mut out = BTreeMap::new();
    let Ok(dir) = fs::read_dir("/proc/self/task") else {
        return out;
    };
    for entry in dir.flatten() {
        let path = entry.path();
        let comm = fs::read_to_string(path.join("comm")).unwrap_or_default();
        let Ok(stat) = fs::read_to_string(path.join("schedstat")) else {
            continue;
        };
        let ns: u64 = stat.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0);
        *out.entry(thread_kind(comm.trim())).or_insert(0) += ns;
    }
    out
}

/// Difference of two per-kind samples.
pub fn kind_delta(later: &BTreeMap<&'static str, u64>, earlier: &BTreeMap<&'static str, u64>) -> BTreeMap<String, u64> {
    later.iter().map(|(k, v)| ((*k).to_string(), v.saturating_sub(earlier.get(k).copied().unwrap_or(0)))).collect()
}

/// Resident set size of this process, bytes.
pub fn rss_bytes() -> u64 {
    rss_of("self")
}

/// A `kB` field of /proc/PID/status, in bytes.
fn status_kb(pid: &str, field: &str) -> Option<u64> {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = s.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kb| kb * 1024)
}

/// Resident set size of process `pid` ("self" for this one), bytes (VmRSS); 0 if unreadable.
pub fn rss_of(pid: &str) -> u64 {
    status_kb(pid, "VmRSS:").unwrap_or(0)
}

/// Peak resident set size (VmHWM), bytes.
pub fn peak_rss_bytes() -> u64 {
    status_kb("self", "VmHWM:").unwrap_or(0)
}

/// Open file descriptors of this process.
pub fn fd_count() -> u64 {
    fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64)
}

/// Live child processes of this process (exec probes in flight, the targets process),
/// from /proc/self/task/*/children (one small read per thread, not a scan of /proc).
pub fn child_count() -> u64 {
    let Ok(dir) = fs::read_dir("/proc/self/task") else {
        return 0;
    };
    dir.flatten()
        .filter_map(|e| fs::read_to_string(e.path().join("children")).ok())
        .map(|s| s.split_whitespace().count() as u64)
        .sum()
}

/// CPU time of the calling thread, nanoseconds (CLOCK_THREAD_CPUTIME_ID: exact, user+sys).
pub fn thread_cpu_ns() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID)
        .map_or(0, |t| (t.tv_sec().max(0) as u64) * 1_000_000_000 + t.tv_nsec().max(0) as u64)
}

/// CPU (utime+stime) of another process, nanoseconds, from /proc/PID/stat (tick-sampled).
pub fn process_cpu_ns(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); utime is field 14, stime 15.
    let utime: u64 = f.get(11)?.parse().ok()?;
    let stime: u64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) * (1_000_000_000 / clock_ticks()))
}

/// USER_HZ, the unit of /proc's tick counts: 100 on every Linux architecture (a fixed
/// ABI value, independent of the kernel's CONFIG_HZ).
fn clock_ticks() -> u64 {
    100
}

/// TCP sockets in TIME_WAIT whose either end is a pod address (127.x.y.z with x ≥ 1): the
/// ones probes leave behind. TIME_WAIT sockets have no owning process, so this counts both
/// sides (prober and targets).
pub fn time_wait_to_pods() -> u64 {
    let Ok(text) = fs::read_to_string("/proc/net/tcp") else {
        return 0;
    };
    count_time_wait(&text)
}

/// Parse /proc/net/tcp text (see proc(5)): `sl local rem st ...`, addresses as
/// little-endian hex `0100007F:1F90`, state 06 = TIME_WAIT.
pub fn count_time_wait(text: &str) -> u64 {
    let is_pod = |addr: &str| {
        let hex = addr.split(':').next().unwrap_or("");
        u32::from_str_radix(hex, 16).is_ok_and(|v| {
            let octets = v.to_le_bytes();
            octets[0] == 127 && octets[1] != 0
        })
    };
    text.lines()
        .skip(1)
        .filter(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            f.len() > 3 && f[3] == "06" && (is_pod(f[1]) || is_pod(f[2]))
        })
        .count() as u64
}

/// Whole-machine CPU counters from /proc/stat, in USER_HZ ticks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MachineCpu {
    pub total: u64,
    pub idle: u64,
    pub steal: u64,
}

impl MachineCpu {
    pub fn now() -> Self {
        let text = fs::read_to_string("/proc/stat").unwrap_or_default();
        Self::parse(&text)
    }

    pub fn parse(text: &str) -> Self {
        let Some(line) = text.lines().find(|l| l.starts_with("cpu ")) else {
            return MachineCpu::default();
        };
        let v: Vec<u64> = line.split_whitespace().skip(1).map(|x| x.parse().unwrap_or(0)).collect();
        let get = |i: usize| v.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq softirq steal guest guest_nice; guest time is
        // already inside user, so it is not added again.
        let total = (0..8).map(get).sum();
        MachineCpu { total, idle: get(3) + get(4), steal: get(7) }
    }
}

/// The machine's noise while a window ran: what other processes and the hypervisor took.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Noise {
    /// Cores' worth of time stolen by the hypervisor.
    pub steal_cores: f64,
    /// Cores' worth of busy time not spent by the prober or its targets.
    pub other_busy_cores: f64,
    /// Cores' worth of busy time of the whole machine.
    pub machine_busy_cores: f64,
}

/// Noise between two machine samples, given the prober's and the targets' CPU over the
/// same `wall_ns`. Busy time is derived from idle time (exact on NO_HZ kernels, as the
/// peers kit found), not from the tick-sampled busy fields.
pub fn noise(before: &MachineCpu, after: &MachineCpu, wall_ns: u64, prober_ns: u64, targets_ns: u64) -> Noise {
    let tick_ns = 1_000_000_000 / clock_ticks();
    let wall = wall_ns.max(1) as f64;
    let total = after.total.saturating_sub(before.total) * tick_ns;
    let idle = after.idle.saturating_sub(before.idle) * tick_ns;
    let steal = after.steal.saturating_sub(before.steal) * tick_ns;
    let busy = total.saturating_sub(idle).saturating_sub(steal);
    Noise {
        steal_cores: steal as f64 / wall,
        other_busy_cores: (busy as f64 - prober_ns as f64 - targets_ns as f64).max(0.0) / wall,
        machine_busy_cores: busy as f64 / wall,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_time_wait_to_pod_addresses_only() {
        // 127.1.0.5:8080 <- 127.0.0.1:40000 TIME_WAIT; 127.0.0.1 <-> 127.0.0.1 TIME_WAIT;
        // a pod address ESTABLISHED.
        let text = "  sl  local_address rem_address   st\n\
            0: 0100007F:9C40 0500017F:1F90 06 0\n\
            1: 0100007F:9C41 0100007F:1F90 06 0\n\
            2: 0100007F:9C42 0500017F:1F90 01 0\n";
        assert_eq!(count_time_wait(text), 1);
    }

    #[test]
    fn machine_cpu_parses_proc_stat() {
        let m = MachineCpu::parse("cpu  10 0 5 100 3 0 1 7 0 0\ncpu0 1 1 1 1\n");
        assert_eq!(m.total, 126);
        assert_eq!(m.idle, 103);
        assert_eq!(m.steal, 7);
    }

    #[test]
    fn own_process_is_readable() {
        assert!(rss_bytes() > 0);
        assert!(fd_count() >= 3);
        let kinds = thread_cpu_by_kind();
        assert!(kinds.values().sum::<u64>() > 0, "{kinds:?}");
    }
}
