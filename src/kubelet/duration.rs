//! Durations written the way Kubernetes writes them, so messages match byte for byte:
//! Go's `time.Duration.String()` (event and waiting messages: `10s`, `1m20s`, `5m0s`,
//! `1.93s`) and kubectl's `duration.HumanDuration` (AGE columns: `68s`, `2m3s`, `11m`).

const NS: u64 = 1;
const US: u64 = 1_000 * NS;
const MS: u64 = 1_000 * US;
const S: u64 = 1_000 * MS;
const MIN: u64 = 60 * S;
const H: u64 = 60 * MIN;

/// Go's `time.Duration.String()`, for nanoseconds.
pub fn go(d_ns: u64) -> String {
    crate::gotext::duration(std::time::Duration::from_nanos(d_ns))
}

/// Go's `Duration.Truncate(time.Millisecond)`, used by the Pulled event's durations.
pub fn truncate_ms(d_ns: u64) -> u64 {
    d_ns - d_ns % MS
}

/// kubectl's `duration.HumanDuration` (k8s.io/apimachinery/pkg/util/duration).
pub fn human(d_ns: u64) -> String {
    let seconds = d_ns / S;
    if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = d_ns / MIN;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 { format!("{minutes}m") } else { format!("{minutes}m{s}s") };
    }
    if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = d_ns / H;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 { format!("{hours}h") } else { format!("{hours}h{m}m") };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 { format!("{}d", hours / 24) } else { format!("{}d{h}h", hours / 24) };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 { format!("{}y", hours / 24 / 365) } else { format!("{}y{dy}d", hours / 24 / 365) };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_duration_strings() {
        assert_eq!(go(10 * S), "10s");
        assert_eq!(go(80 * S), "1m20s");
        assert_eq!(go(160 * S), "2m40s");
        assert_eq!(go(300 * S), "5m0s");
        assert_eq!(go(1_930 * MS), "1.93s");
        assert_eq!(go(49_657_983_991), "49.657983991s");
        assert_eq!(go(H), "1h0m0s");
        assert_eq!(go(1_500 * US), "1.5ms");
        assert_eq!(go(0), "0s");
    }

    #[test]
    fn human_durations_match_the_walkthrough_watch() {
        for (secs, want) in
            [(5, "5s"), (68, "68s"), (123, "2m3s"), (212, "3m32s"), (379, "6m19s"), (660, "11m"), (120, "2m")]
        {
            assert_eq!(human(secs * S), want, "{secs}s");
        }
        assert_eq!(human(3 * H + 20 * MIN), "3h20m");
        assert_eq!(human(30 * H), "30h");
        assert_eq!(human(50 * H), "2d2h");
    }
}
