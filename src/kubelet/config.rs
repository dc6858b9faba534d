//! The kubelet settings that change behaviour between Kubernetes versions. The newest
//! behaviour is the default; older ones are selected with `--kubelet-version`.

use super::backoff::BackoffPolicy;
use super::worker::StartupHold;

pub const SECOND: u64 = 1_000_000_000;

/// A Kubernetes minor version, e.g. 1.35.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
}

impl Version {
    pub const NEWEST: Version = Version { major: 1, minor: 35 };
    /// The oldest version whose behaviour probebench models (startup probes, probe-level grace).
    pub const OLDEST: Version = Version { major: 1, minor: 20 };

    pub fn parse(s: &str) -> Option<Version> {
        let s = s.trim().trim_start_matches('v');
        let mut parts = s.split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(Version { major, minor })
    }

    /// A version given by a user (`--kubelet-version`, `kubeletVersion:`): MAJOR.MINOR within
    /// the modelled range, or why not.
    pub fn parse_supported(s: &str) -> Result<Version, String> {
        match Version::parse(s) {
            Some(v) if v >= Version::OLDEST && v <= Version::NEWEST => Ok(v),
            Some(v) => Err(format!(
                "{v} is outside the versions probebench models ({} … {})",
                Version::OLDEST,
                Version::NEWEST
            )),
            None => Err("expected MAJOR.MINOR, e.g. 1.35".to_string()),
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Which crash-loop back-off defaults the node uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashLoopProfile {
    /// 10 s doubling to 300 s.
    Default,
    /// The ReduceDefaultCrashLoopBackOffDecay gate (alpha, 1.33+): 1 s doubling to 60 s.
    Reduced,
    /// A node's `crashLoopBackOff.maxContainerRestartPeriod` (KubeletCrashLoopBackOffMax: alpha
    /// 1.32, beta and on by default in 1.35): the cap, 1 s – 300 s; if below 10 s the initial
    /// window is the cap too.
    MaxRestartPeriod(u64),
}

impl CrashLoopProfile {
    /// `default`, `reduced` or `max=DURATION` (`--crash-loop`, `crashLoop:`).
    pub fn parse(s: &str) -> Result<CrashLoopProfile, String> {
        match s.trim() {
            "default" => Ok(CrashLoopProfile::Default),
            "reduced" => Ok(CrashLoopProfile::Reduced),
            other => match other.strip_prefix("max=") {
                Some(d) => humantime::parse_duration(d)
                    .map(|d| CrashLoopProfile::MaxRestartPeriod(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)))
                    .map_err(|e| format!("{e} (use e.g. max=30s)")),
                None => Err("expected default, reduced or max=DURATION".to_string()),
            },
        }
    }
}

/// Everything about the node's kubelet that changes what the simulation shows.
#[derive(Debug, Clone, PartialEq)]
pub struct KubeletConfig {
    pub version: Version,
    pub crash_loop: CrashLoopProfile,
    /// How long ago the kubelet started when the pods arrive: the random initial probe delay
    /// only applies when this is less than a probe's period (PR #97126).
    pub uptime_ns: u64,
    /// `syncFrequency`: the re-sync after a successful sync (jittered by 0.5).
    pub sync_frequency_ns: u64,
    /// The node's name in events (`Successfully assigned default/p to <node>`).
    pub node_name: String,
}

impl Default for KubeletConfig {
    fn default() -> Self {
        KubeletConfig::for_version(Version::NEWEST)
    }
}

impl KubeletConfig {
    pub fn for_version(version: Version) -> Self {
        KubeletConfig {
            version,
            crash_loop: CrashLoopProfile::Default,
            uptime_ns: 24 * 3600 * SECOND,
            sync_frequency_ns: 60 * SECOND,
            node_name: "node-1".to_string(),
        }
    }

    /// The crash-loop back-off (pkg/kubelet/kubelet.go newCrashLoopBackOff).
    pub fn crash_loop_backoff(&self) -> BackoffPolicy {
        let (initial, max) = match self.crash_loop {
            CrashLoopProfile::Default => (10 * SECOND, 300 * SECOND),
            CrashLoopProfile::Reduced => (SECOND, 60 * SECOND),
            CrashLoopProfile::MaxRestartPeriod(max) => {
                let max = max.clamp(SECOND, 300 * SECOND);
                (max.min(10 * SECOND), max)
            }
        };
        // 1.32 replaced the flowcontrol default expiry (2 × max) with a flat 600 s.
        let expire = if self.version >= (Version { major: 1, minor: 32 }) { 600 * SECOND } else { 2 * max };
        BackoffPolicy { initial_ns: initial, max_ns: max, expire_after_ns: expire }
    }

    /// The image-pull back-off: 10 s doubling to MaxImageBackOff 300 s, expiring at 2 × max.
    pub fn image_pull_backoff(&self) -> BackoffPolicy {
        BackoffPolicy { initial_ns: 10 * SECOND, max_ns: 300 * SECOND, expire_after_ns: 600 * SECOND }
    }

    /// Since kubernetes#117153 (1.28) the startup worker holds after any publication.
    pub fn startup_hold(&self) -> StartupHold {
        if self.version >= (Version { major: 1, minor: 28 }) {
            StartupHold::AfterAnyPublication
        } else {
            StartupHold::AfterFailureOnly
        }
    }

    /// v1.35 (PR #133066): a sync refused by crash-loop back-off re-queues at the window's
    /// expiry instead of the generic 10–15 s error back-off.
    pub fn requeue_at_backoff_expiry(&self) -> bool {
        self.version >= Version::NEWEST
    }

    /// `Created container: <c>` (recent) or `Created container <c>` (older).
    pub fn created_with_colon(&self) -> bool {
        self.version >= (Version { major: 1, minor: 33 })
    }

    /// `Pulled` adds `(… including waiting)` since PR #111772 (~1.26) and the image size since
    /// ~1.30.
    pub fn pulled_with_waiting(&self) -> bool {
        self.version >= (Version { major: 1, minor: 26 })
    }

    pub fn pulled_with_size(&self) -> bool {
        self.version >= (Version { major: 1, minor: 30 })
    }

    /// `kube-probe/<major>.<minor>`.
    pub fn user_agent(&self) -> String {
        format!("kube-probe/{}", self.version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_and_order() {
        assert_eq!(Version::parse("1.35"), Some(Version::NEWEST));
        assert_eq!(Version::parse("v1.28.3"), Some(Version { major: 1, minor: 28 }));
        assert!(Version::parse("1.9").unwrap() < Version::parse("1.10").unwrap());
        assert_eq!(Version::parse("x"), None);
    }

    #[test]
    fn backoff_profiles() {
        let c = KubeletConfig::default();
        let b = c.crash_loop_backoff();
        assert_eq!((b.initial_ns, b.max_ns, b.expire_after_ns), (10 * SECOND, 300 * SECOND, 600 * SECOND));
        let old = KubeletConfig {
            crash_loop: CrashLoopProfile::Reduced,
            ..KubeletConfig::for_version(Version { major: 1, minor: 31 })
        };
        let b = old.crash_loop_backoff();
        assert_eq!((b.initial_ns, b.max_ns, b.expire_after_ns), (SECOND, 60 * SECOND, 120 * SECOND));
        let capped = KubeletConfig { crash_loop: CrashLoopProfile::MaxRestartPeriod(5 * SECOND), ..c };
        assert_eq!(capped.crash_loop_backoff().initial_ns, 5 * SECOND);
    }
}
