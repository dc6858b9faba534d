//! Stopping a run early: Ctrl-C / SIGTERM, or `--abort-on-lag`. One process-wide flag with
//! the moment it was raised; every scheduler checks it at least once a second (their
//! interval wake-ups) and then fires nothing more, lets in-flight probes finish within the
//! drain, and ends the phase. A second signal exits at once (the targets process dies with
//! its parent, so nothing is left behind).

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::clock::mono_now_ns;

/// Monotonic time the stop was asked for (0: not asked).
static STOP_AT_NS: AtomicU64 = AtomicU64::new(0);
/// Signals received.
static SIGNALS: AtomicU32 = AtomicU32::new(0);
/// Why the stop was asked for: 1 signal, 2 lag.
static REASON: AtomicU32 = AtomicU32::new(0);

/// Why a run stopped early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    Interrupted,
    Lag,
}

/// Ask every scheduler to stop (the first ask wins the reason and the time).
pub fn request(reason: StopReason) {
    let code = match reason {
        StopReason::Interrupted => 1,
        StopReason::Lag => 2,
    };
    if REASON.compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
        STOP_AT_NS.store(mono_now_ns().max(1), Ordering::SeqCst);
    }
}

/// Whether a stop was asked for.
#[inline]
pub fn requested() -> bool {
    STOP_AT_NS.load(Ordering::Relaxed) != 0
}

/// When the stop was asked for.
pub fn requested_at() -> Option<u64> {
    match STOP_AT_NS.load(Ordering::SeqCst) {
        0 => None,
        t => Some(t),
    }
}

pub fn reason() -> Option<StopReason> {
    match REASON.load(Ordering::SeqCst) {
        1 => Some(StopReason::Interrupted),
        2 => Some(StopReason::Lag),
        _ => None,
    }
}

extern "C" fn on_signal(_: nix::libc::c_int) {
    // Async-signal-safe only: atomics, clock_gettime, write, _exit.
    if SIGNALS.fetch_add(1, Ordering::SeqCst) >= 1 {
        let msg = b"\nsecond interrupt: exiting now\n";
        // SAFETY: write(2) and _exit(2) are async-signal-safe; the buffer is static.
        unsafe {
            nix::libc::write(2, msg.as_ptr().cast(), msg.len());
            nix::libc::_exit(130);
        }
    }
    request(StopReason::Interrupted);
}

/// Route SIGINT and SIGTERM to the stop flag (the second one exits with 130).
pub fn install_signal_handlers() -> nix::Result<()> {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    let action = SigAction::new(SigHandler::Handler(on_signal), SaFlags::SA_RESTART, SigSet::empty());
    // SAFETY: the handler only touches atomics and async-signal-safe calls.
    unsafe {
        sigaction(Signal::SIGINT, &action)?;
        sigaction(Signal::SIGTERM, &action)?;
    }
    Ok(())
}
