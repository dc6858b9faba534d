//! How a shard thread sleeps until its next deadline and is woken early by a completion.
//!
//! Why not tokio's timer: it rounds every deadline up to its 1 ms tick, so a task-per-worker
//! scheduler lags ~1.1 ms at p50 by construction (the `naive` scheduler shows it). The
//! shards therefore run on their own threads and sleep in the kernel on an absolute
//! CLOCK_MONOTONIC deadline, with the thread's timer slack lowered from the default 50 µs
//! (`PR_SET_TIMERSLACK`), so the kernel's hrtimer wakes them within microseconds:
//!
//! - `timerfd` (the default): epoll on a timerfd armed with TFD_TIMER_ABSTIME (re-armed only
//!   when the earliest deadline changes) plus an eventfd that completions write to. An
//!   absolute deadline never drifts, and both wake sources go through one syscall.
//! - `park`: `std::thread::park_timeout` (a futex wait with a relative timeout), woken by
//!   `unpark`. No fds, but the relative timeout is computed from a clock read a little
//!   before the futex call.
//!
//! Measured on the 2-core VM, 100,000 noop workers at 10k probes/s (docs/performance-notes.md):
//! the two are within noise of each other on p50/p99 dispatch lag; timerfd is the default
//! because its deadline is absolute, and a spurious wake cannot shift it.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::Thread;
use std::time::Duration;

use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::eventfd::{EfdFlags, EventFd};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use serde::Serialize;

use super::clock::mono_now_ns;

/// Which wait primitive the shard threads use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TimerBackend {
    #[default]
    Timerfd,
    Park,
}

impl TimerBackend {
    pub fn as_str(self) -> &'static str {
        match self {
            TimerBackend::Timerfd => "timerfd",
            TimerBackend::Park => "park",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "timerfd" => Some(TimerBackend::Timerfd),
            "park" => Some(TimerBackend::Park),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TimerError {
    #[error("cannot create the {what} for the shard timer: {source}")]
    Create { what: &'static str, source: nix::Error },
}

/// The sending side's handle: wakes the shard if (and only if) it is parked.
#[derive(Debug)]
pub struct ShardWaker {
    parked: AtomicBool,
    eventfd: Option<EventFd>,
    thread: OnceLock<Thread>,
}

impl ShardWaker {
    /// Called after a completion was queued. Cheap when the shard is awake (one atomic).
    pub fn wake(&self) {
        if self.parked.swap(false, Ordering::SeqCst) {
            if let Some(e) = &self.eventfd {
                let _ = e.write(1);
            } else if let Some(t) = self.thread.get() {
                t.unpark();
            }
        }
    }
}

/// The shard thread's side.
pub struct ShardTimer {
    waker: Arc<ShardWaker>,
    inner: Inner,
}

enum Inner {
    Timerfd { epoll: Epoll, timer: TimerFd, armed: u64 },
    Park,
}

const TIMER_TOKEN: u64 = 1;
const WAKE_TOKEN: u64 = 2;

impl ShardTimer {
    pub fn new(backend: TimerBackend) -> Result<Self, TimerError> {
        match backend {
            TimerBackend::Park => Ok(ShardTimer {
                waker: Arc::new(ShardWaker { parked: AtomicBool::new(false), eventfd: None, thread: OnceLock::new() }),
                inner: Inner::Park,
            }),
            TimerBackend::Timerfd => {
                let err = |what| move |source| TimerError::Create { what, source };
                let timer = TimerFd::new(ClockId::CLOCK_MONOTONIC, TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC)
                    .map_err(err("timerfd"))?;
                let eventfd =
                    EventFd::from_flags(EfdFlags::EFD_NONBLOCK | EfdFlags::EFD_CLOEXEC).map_err(err("eventfd"))?;
                let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).map_err(err("epoll"))?;
                epoll
                    .add(&timer, EpollEvent::new(EpollFlags::EPOLLIN, TIMER_TOKEN))
                    .map_err(err("epoll registration"))?;
                epoll
                    .add(&eventfd, EpollEvent::new(EpollFlags::EPOLLIN, WAKE_TOKEN))
                    .map_err(err("epoll registration"))?;
                Ok(ShardTimer {
                    waker: Arc::new(ShardWaker {
                        parked: AtomicBool::new(false),
                        eventfd: Some(eventfd),
                        thread: OnceLock::new(),
                    }),
                    inner: Inner::Timerfd { epoll, timer, armed: 0 },
                })
            }
        }
    }

    pub fn waker(&self) -> Arc<ShardWaker> {
        Arc::clone(&self.waker)
    }

    /// Call on the shard thread before the first wait (the park backend needs its handle),
    /// and lower this thread's timer slack to `slack_ns` (0 keeps the default 50 µs).
    pub fn bind_thread(&self, slack_ns: u64) {
        let _ = self.waker.thread.set(std::thread::current());
        if slack_ns > 0 {
            // Failure leaves the default slack: precision degrades, nothing breaks.
            let _ = nix::sys::prctl::set_timerslack(slack_ns);
        }
    }

    /// Announce the intent to sleep. After this, check for queued work once more; if there
    /// is some, call [`ShardTimer::cancel_park`] instead of waiting. (A completion queued
    /// after the check finds `parked` set and wakes the wait; one queued before it is seen
    /// by the check: no wake-up is lost.)
    pub fn prepare_park(&self) {
        self.waker.parked.store(true, Ordering::SeqCst);
    }

    pub fn cancel_park(&self) {
        self.waker.parked.store(false, Ordering::SeqCst);
    }

    /// Sleep until `deadline_ns` (monotonic) or a wake, whichever comes first.
    pub fn wait_until(&mut self, deadline_ns: u64) {
        match &mut self.inner {
            Inner::Park => {
                let now = mono_now_ns();
                if deadline_ns > now {
                    std::thread::park_timeout(Duration::from_nanos(deadline_ns - now));
                }
            }
            Inner::Timerfd { epoll, timer, armed } => {
                if *armed != deadline_ns {
                    // TFD_TIMER_ABSTIME on CLOCK_MONOTONIC: the kernel fires at this exact
                    // instant however late this call runs. (0 would disarm; deadlines are
                    // never 0 on a running system's monotonic clock.)
                    let ts = TimeSpec::new((deadline_ns / 1_000_000_000) as _, (deadline_ns % 1_000_000_000) as _);
                    if timer.set(Expiration::OneShot(ts), TimerSetTimeFlags::TFD_TIMER_ABSTIME).is_ok() {
                        *armed = deadline_ns;
                    }
                }
                let mut events = [EpollEvent::empty(); 2];
                let n = epoll.wait(&mut events, EpollTimeout::NONE).unwrap_or(0);
                for ev in &events[..n] {
                    let mut buf = [0u8; 8];
                    match ev.data() {
                        TIMER_TOKEN => {
                            let _ = nix::unistd::read(&*timer, &mut buf);
                            *armed = 0;
                        }
                        _ => {
                            if let Some(e) = &self.waker.eventfd {
                                let _ = e.read();
                            }
                        }
                    }
                }
            }
        }
        self.waker.parked.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wakes_at_deadline_and_on_demand(backend: TimerBackend) {
        let mut t = ShardTimer::new(backend).unwrap();
        t.bind_thread(1);
        let start = mono_now_ns();
        t.prepare_park();
        t.wait_until(start + 2_000_000);
        assert!(mono_now_ns() >= start + 2_000_000, "never wakes before the deadline");
        // A wake from another thread ends a long wait early.
        let waker = t.waker();
        let h = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            waker.wake();
        });
        let before = mono_now_ns();
        t.prepare_park();
        t.wait_until(before + 60_000_000_000);
        assert!(mono_now_ns() < before + 60_000_000_000);
        h.join().unwrap();
    }

    #[test]
    fn timerfd_backend() {
        wakes_at_deadline_and_on_demand(TimerBackend::Timerfd);
    }

    #[test]
    fn park_backend() {
        wakes_at_deadline_and_on_demand(TimerBackend::Park);
    }
}
