//! client-go's `flowcontrol.Backoff` as the kubelet uses it, for one key (one container's
//! crash loop, or one pod's image): pure, with event times and `now` passed in.
//! Source: staging/src/k8s.io/client-go/util/flowcontrol/backoff.go; the kubelet builds it
//! with jitter 0 (no jitter in crash-loop back-off, kubernetes#123201).

/// Initial and maximum window and when an entry expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffPolicy {
    pub initial_ns: u64,
    pub max_ns: u64,
    /// An entry expires when an event comes more than this long after its last update:
    /// 600 s flat in recent kubelets (HasExpiredFunc), 2 × max in older ones.
    pub expire_after_ns: u64,
}

/// One key's state: the current window and when it was last advanced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffEntry {
    pub window_ns: u64,
    pub last_update_ns: u64,
}

impl BackoffPolicy {
    fn expired(&self, entry: &BackoffEntry, event_ns: u64) -> bool {
        event_ns.saturating_sub(entry.last_update_ns) > self.expire_after_ns
    }

    /// `IsInBackOffSince(key, eventTime)`: the entry is live and less than one window has
    /// passed since the event (for a crash loop, the previous instance's FinishedAt).
    pub fn in_backoff_since(&self, entry: Option<&BackoffEntry>, event_ns: u64, now_ns: u64) -> bool {
        match entry {
            None => false,
            Some(e) if self.expired(e, event_ns) => false,
            Some(e) => now_ns.saturating_sub(event_ns) < e.window_ns,
        }
    }

    /// `IsInBackOffSinceUpdate(key, now)`: the image-pull variant, measured from the last
    /// update instead of an event.
    pub fn in_backoff_since_update(&self, entry: Option<&BackoffEntry>, now_ns: u64) -> bool {
        match entry {
            None => false,
            Some(e) if self.expired(e, now_ns) => false,
            Some(e) => now_ns.saturating_sub(e.last_update_ns) < e.window_ns,
        }
    }

    /// `Next(key, eventTime)`: a new or expired entry starts at the initial window, a live
    /// one doubles up to the maximum; the update time is `now`.
    pub fn next(&self, entry: &mut Option<BackoffEntry>, event_ns: u64, now_ns: u64) {
        let window_ns = match entry {
            Some(e) if !self.expired(e, event_ns) => e.window_ns.saturating_mul(2).min(self.max_ns),
            _ => self.initial_ns.min(self.max_ns),
        };
        *entry = Some(BackoffEntry { window_ns, last_update_ns: now_ns });
    }

    /// When the window that started at `event_ns` ends (the v1.35 BackoffError expiry).
    pub fn expiry(&self, entry: Option<&BackoffEntry>, event_ns: u64) -> u64 {
        event_ns + entry.map_or(0, |e| e.window_ns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn crash_loop() -> BackoffPolicy {
        BackoffPolicy { initial_ns: 10 * S, max_ns: 300 * S, expire_after_ns: 600 * S }
    }

    #[test]
    fn windows_double_to_the_cap() {
        let p = crash_loop();
        let mut e = None;
        let mut windows = Vec::new();
        let mut t = 0;
        for _ in 0..8 {
            p.next(&mut e, t, t);
            windows.push(e.unwrap().window_ns / S);
            t += 5 * S;
        }
        assert_eq!(windows, [10, 20, 40, 80, 160, 300, 300, 300]);
    }

    #[test]
    fn an_exit_long_after_the_last_update_resets() {
        let p = crash_loop();
        let mut e = None;
        p.next(&mut e, 0, 0);
        p.next(&mut e, S, S);
        assert_eq!(e.unwrap().window_ns, 20 * S);
        assert!(!p.in_backoff_since(e.as_ref(), 602 * S, 603 * S), "expired entries never hold back");
        p.next(&mut e, 602 * S, 603 * S);
        assert_eq!(e.unwrap().window_ns, 10 * S);
    }

    #[test]
    fn in_backoff_until_one_window_after_the_event() {
        let p = crash_loop();
        let mut e = None;
        p.next(&mut e, 0, 0);
        assert!(p.in_backoff_since(e.as_ref(), 100 * S, 109 * S));
        assert!(!p.in_backoff_since(e.as_ref(), 100 * S, 110 * S));
        assert!(p.in_backoff_since_update(e.as_ref(), 9 * S));
        assert!(!p.in_backoff_since_update(e.as_ref(), 10 * S));
    }
}
