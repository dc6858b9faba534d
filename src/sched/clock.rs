//! The one clock every timing is read from: CLOCK_MONOTONIC in nanoseconds, the clock
//! timerfd deadlines are set on and that std's and tokio's `Instant` wrap, so a deadline
//! computed here is the deadline the kernel sees. Logic that depends on time takes a
//! [`Clock`], so tests drive it with a virtual one.

use std::cell::Cell;
use std::time::Instant;

use nix::time::{ClockId, clock_gettime};

pub trait Clock {
    fn now_ns(&self) -> u64;
}

/// CLOCK_MONOTONIC (through the vDSO: tens of nanoseconds per read).
#[derive(Debug, Clone, Copy, Default)]
pub struct MonoClock;

/// Monotonic nanoseconds; 0 only if the clock cannot be read (it always can on Linux).
#[inline]
pub fn mono_now_ns() -> u64 {
    clock_gettime(ClockId::CLOCK_MONOTONIC)
        .map_or(0, |t| (t.tv_sec().max(0) as u64) * 1_000_000_000 + t.tv_nsec().max(0) as u64)
}

impl Clock for MonoClock {
    #[inline]
    fn now_ns(&self) -> u64 {
        mono_now_ns()
    }
}

/// A clock that moves only when told: timelines in tests.
#[derive(Debug, Default)]
pub struct VirtualClock {
    now: Cell<u64>,
}

impl VirtualClock {
    pub fn new(start_ns: u64) -> Self {
        VirtualClock { now: Cell::new(start_ns) }
    }

    pub fn set(&self, ns: u64) {
        self.now.set(ns);
    }

    pub fn advance(&self, ns: u64) {
        self.now.set(self.now.get() + ns);
    }
}

impl Clock for VirtualClock {
    fn now_ns(&self) -> u64 {
        self.now.get()
    }
}

/// Maps std/tokio `Instant`s to monotonic nanoseconds: both read CLOCK_MONOTONIC, so one
/// paired reading at start gives the offset (error: the few ns between the two reads).
#[derive(Debug, Clone, Copy)]
pub struct InstantMap {
    base: Instant,
    base_ns: u64,
}

impl InstantMap {
    pub fn new() -> Self {
        let base = Instant::now();
        InstantMap { base, base_ns: mono_now_ns() }
    }

    pub fn to_ns(&self, i: Instant) -> u64 {
        match i.checked_duration_since(self.base) {
            Some(d) => self.base_ns + d.as_nanos() as u64,
            None => self.base_ns.saturating_sub(self.base.duration_since(i).as_nanos() as u64),
        }
    }

    pub fn to_instant(&self, ns: u64) -> Instant {
        if ns >= self.base_ns {
            self.base + std::time::Duration::from_nanos(ns - self.base_ns)
        } else {
            self.base.checked_sub(std::time::Duration::from_nanos(self.base_ns - ns)).unwrap_or(self.base)
        }
    }
}

impl Default for InstantMap {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_map_to_the_monotonic_clock() {
        let m = InstantMap::new();
        let a = mono_now_ns();
        let i = Instant::now();
        let b = mono_now_ns();
        let ns = m.to_ns(i);
        // Generous: the two clocks are the same clock, read around the same moment.
        assert!(ns + 1_000_000 >= a && ns <= b + 1_000_000, "{a} {ns} {b}");
        assert_eq!(m.to_ns(m.to_instant(b)), b);
    }
}
