//! Container events with sequence numbers, so a driver learns of exits by long-polling
//! (`GET /events?after=N`) rather than polling state in a tight loop.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use tokio::sync::watch;

/// Events kept; older ones are dropped (a reader that falls behind is told so).
const CAPACITY: usize = 100_000;

/// Why a container ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// The app exited by itself (its behaviour's exit phase).
    Exited,
    /// It exited on SIGTERM within the grace period.
    Sigterm,
    /// It was killed with SIGKILL at the end of the grace period.
    Sigkill,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventKind {
    /// A new instance started.
    Started,
    /// SIGTERM was delivered; SIGKILL follows after `grace_ms` if it is still running.
    Stopping {
        /// Grace period in milliseconds.
        grace_ms: u64,
    },
    /// The instance ended.
    Exited {
        /// Exit code.
        exit_code: i32,
        /// Why.
        reason: ExitReason,
    },
    /// The exec view (state directory) changed health.
    Health {
        /// Healthy now.
        healthy: bool,
    },
    /// The behaviour was replaced live.
    BehaviourReplaced,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// Sequence number, from 1, without gaps.
    pub seq: u64,
    /// Wall-clock time (ms since the Unix epoch).
    pub unix_ms: u64,
    /// Pod name.
    pub pod: String,
    /// Container name.
    pub container: String,
    /// Instance number (0 = first start).
    pub instance: u32,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// A batch of events after some sequence number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventBatch {
    /// The events, oldest first.
    pub events: Vec<Event>,
    /// Pass this as `after` next time.
    pub next: u64,
    /// Events between `after` and the first returned were dropped (reader too slow).
    pub dropped: u64,
}

pub(crate) struct EventLog {
    ring: Mutex<VecDeque<Event>>,
    last: watch::Sender<u64>,
}

pub(crate) fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)).unwrap_or(0)
}

impl EventLog {
    pub fn new() -> EventLog {
        EventLog { ring: Mutex::new(VecDeque::new()), last: watch::Sender::new(0) }
    }

    pub fn push(&self, pod: &str, container: &str, instance: u32, kind: EventKind) {
        let mut ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let seq = *self.last.borrow() + 1;
        if ring.len() == CAPACITY {
            ring.pop_front();
        }
        ring.push_back(Event {
            seq,
            unix_ms: unix_ms(SystemTime::now()),
            pod: pod.to_string(),
            container: container.to_string(),
            instance,
            kind,
        });
        // Published while the ring is locked, so sequence numbers stay in order.
        self.last.send_replace(seq);
    }

    pub fn after(&self, after: u64, limit: usize) -> EventBatch {
        let ring = self.ring.lock().unwrap_or_else(|e| e.into_inner());
        let first_kept = ring.front().map_or(after.saturating_add(1), |e| e.seq);
        let dropped = first_kept.saturating_sub(after.saturating_add(1));
        let events: Vec<Event> = ring.iter().skip_while(|e| e.seq <= after).take(limit).cloned().collect();
        let next = events.last().map_or(after, |e| e.seq);
        EventBatch { events, next, dropped }
    }

    /// The sequence number of the newest event (0: none yet).
    pub fn last_seq(&self) -> u64 {
        *self.last.borrow()
    }

    /// Waits up to `wait` for events after `after`.
    pub async fn wait_after(&self, after: u64, limit: usize, wait: Duration) -> EventBatch {
        let mut rx = self.last.subscribe();
        let _ = tokio::time::timeout(wait, rx.wait_for(|last| *last > after)).await;
        self.after(after, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_and_after() {
        let log = EventLog::new();
        log.push("p", "c", 0, EventKind::Started);
        log.push("p", "c", 0, EventKind::Health { healthy: true });
        let b = log.after(0, 10);
        assert_eq!(b.events.len(), 2);
        assert_eq!(b.next, 2);
        assert_eq!(b.dropped, 0);
        let b = log.after(2, 10);
        assert!(b.events.is_empty());
        assert_eq!(b.next, 2);
        let b = log.after(1, 10);
        assert_eq!(b.events[0].seq, 2);
    }

    #[tokio::test]
    async fn long_poll_wakes_on_push() {
        let log = std::sync::Arc::new(EventLog::new());
        let l2 = log.clone();
        let waiter = tokio::spawn(async move { l2.wait_after(0, 10, Duration::from_secs(60)).await });
        tokio::task::yield_now().await;
        log.push("p", "c", 0, EventKind::Started);
        let b = waiter.await.unwrap();
        assert_eq!(b.events.len(), 1);
    }
}
