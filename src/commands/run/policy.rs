//! The run's rules around the measurement: which exec commands it may run, and what it
//! exits with (thresholds, the schedule held or not, interrupted).

use std::collections::BTreeSet;

use super::super::Exit;
use crate::report::summary::Summary;
use crate::sched::fleet::Fleet;
use crate::sched::mechanism::MechanismKind;
use crate::sched::stop::StopReason;
use crate::thresholds::{Evaluation, Verdict};

/// The distinct commands the plan's exec probes would run on this machine, as a shell
/// would show them.
pub fn exec_commands(fleets: &[Fleet]) -> Vec<String> {
    let mut out = BTreeSet::new();
    for f in fleets {
        for t in &f.templates {
            if t.kind != MechanismKind::Exec {
                continue;
            }
            if let Some(crate::spec::Action::Exec(e)) = t.probe.handler.action() {
                out.insert(e.command.iter().map(|a| shell_word(a)).collect::<Vec<_>>().join(" "));
            }
        }
    }
    out.into_iter().collect()
}

/// `a` quoted for a shell when it needs it (so `["ls /tmp/abc"]` shows as one word).
fn shell_word(a: &str) -> String {
    let plain = !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain { a.to_string() } else { format!("'{}'", a.replace('\'', r"'\''")) }
}

/// Why exec probes refuse to start without permission, naming what would run.
pub fn exec_refusal(commands: &[String]) -> String {
    let list = commands.iter().map(|c| format!("  {c}")).collect::<Vec<_>>().join("\n");
    format!(
        "refusing to start: the exec probes would run {} command{} on this machine:\n{list}\nexec probes run their command here, not in a container; allow it with --allow-exec (or `allowExec: true` in the scenario)",
        commands.len(),
        if commands.len() == 1 { "" } else { "s" }
    )
}

/// What decides the exit status.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A phase whose dispatch lag p99 exceeds this did not hold the schedule.
    pub max_lag_ns: u64,
    /// More missed ticks than this (over the run) did not hold the schedule.
    pub max_missed: Option<u64>,
}

/// The exit status and the reasons for it (printed under the summary).
pub fn decide(
    summary: &Summary,
    evaluations: &[Evaluation],
    stopped: Option<StopReason>,
    limits: Limits,
) -> (Exit, Vec<String>) {
    let mut reasons = Vec::new();
    let max_lag_us = limits.max_lag_ns as f64 / 1e3;
    let mut not_held = false;
    for p in &summary.phases {
        if p.total.counters.dispatched > 0 && p.total.dispatch_lag.p99_us > max_lag_us {
            not_held = true;
            reasons.push(format!(
                "phase {}: dispatch lag p99 {} is over --max-lag {}",
                p.name,
                crate::report::run_table::fmt_us(p.total.dispatch_lag.p99_us),
                crate::report::run_table::fmt_us(max_lag_us)
            ));
        }
    }
    if let Some(max) = limits.max_missed {
        let missed: u64 = summary.phases.iter().map(|p| p.total.counters.missed_ticks).sum();
        if missed > max {
            not_held = true;
            reasons.push(format!("{missed} ticks missed, over --max-missed {max}"));
        }
    }
    let failed: Vec<&Evaluation> = evaluations.iter().filter(|e| e.verdict != Verdict::Pass).collect();
    for e in &failed {
        reasons.push(format!("threshold failed: {}", e.threshold));
    }
    let exit = match stopped {
        Some(StopReason::Interrupted) => {
            reasons.insert(0, "interrupted: the results cover the time it ran (partial)".to_string());
            Exit::Interrupted
        }
        Some(StopReason::Lag) => {
            reasons
                .insert(0, "stopped early: an interval's dispatch lag p99 went over --max-lag (--abort-on-lag)".into());
            Exit::ScheduleNotHeld
        }
        None if not_held => Exit::ScheduleNotHeld,
        None if !failed.is_empty() => Exit::Failed,
        None => Exit::Ok,
    };
    (exit, reasons)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_listed_once_and_quoted_like_a_shell() {
        assert_eq!(shell_word("/bin/true"), "/bin/true");
        assert_eq!(shell_word("ls /tmp/abc"), "'ls /tmp/abc'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        let text = exec_refusal(&["'ls /tmp/abc'".to_string()]);
        assert!(text.contains("1 command on this machine"), "{text}");
        assert!(text.contains("--allow-exec"));
    }
}
