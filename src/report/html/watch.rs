//! `watch.jsonl` (one object per `kubectl get pods --watch` line) turned into per-pod state
//! timelines for the lifecycle plot.

use serde::Deserialize;

/// One watch line as the run wrote it. `ready` and `restarts` are kubectl's strings.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct WatchLine {
    pub phase: String,
    pub t_s: f64,
    pub pod: String,
    pub ready: String,
    pub status: String,
    pub restarts: String,
}

/// What the timeline colours: kubectl's STATUS column grouped, with READY splitting Running.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PodState {
    /// Pending, ContainerCreating, PodInitializing, Init:…: not started yet.
    Waiting,
    /// Running with fewer ready containers than containers.
    RunningNotReady,
    /// Running, every container ready.
    Ready,
    CrashLoopBackOff,
    /// Error, OOMKilled, ErrImagePull, ImagePullBackOff, CreateContainerError, …
    Error,
    Terminating,
    /// Completed / Succeeded: ran to the end.
    Completed,
    /// A status this report does not know.
    Other,
}

impl PodState {
    pub const ALL: [PodState; 8] = [
        PodState::Waiting,
        PodState::RunningNotReady,
        PodState::Ready,
        PodState::CrashLoopBackOff,
        PodState::Error,
        PodState::Terminating,
        PodState::Completed,
        PodState::Other,
    ];

    pub fn label(self) -> &'static str {
        match self {
            PodState::Waiting => "Pending / ContainerCreating",
            PodState::RunningNotReady => "Running, not ready",
            PodState::Ready => "Running, ready",
            PodState::CrashLoopBackOff => "CrashLoopBackOff",
            PodState::Error => "Error / image pull error",
            PodState::Terminating => "Terminating",
            PodState::Completed => "Completed",
            PodState::Other => "other status",
        }
    }
}

/// `ready` is kubectl's `n/m`.
fn all_ready(ready: &str) -> bool {
    match ready.split_once('/').map(|(a, b)| (a.trim().parse::<u32>(), b.trim().parse::<u32>())) {
        Some((Ok(a), Ok(b))) => b > 0 && a == b,
        _ => false,
    }
}

pub fn classify(status: &str, ready: &str) -> PodState {
    match status {
        "Running" if all_ready(ready) => PodState::Ready,
        "Running" => PodState::RunningNotReady,
        "Pending" | "ContainerCreating" | "PodInitializing" => PodState::Waiting,
        s if s.starts_with("Init:") && !s.contains("Err") && !s.contains("BackOff") => PodState::Waiting,
        s if s.contains("CrashLoopBackOff") => PodState::CrashLoopBackOff,
        "Terminating" => PodState::Terminating,
        "Completed" | "Succeeded" => PodState::Completed,
        s if s.contains("Err") || s.contains("BackOff") || s == "OOMKilled" || s == "Failed" => PodState::Error,
        _ => PodState::Other,
    }
}

/// kubectl prints `3` or, since 1.28, `3 (12s ago)`.
pub fn restart_count(restarts: &str) -> Option<u64> {
    restarts.split_whitespace().next()?.parse().ok()
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub from_s: f64,
    pub to_s: f64,
    pub state: PodState,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PodTimeline {
    pub pod: String,
    pub spans: Vec<Span>,
    /// When the restart count went up.
    pub restarts_at: Vec<f64>,
}

/// Parse JSON lines; returns the lines and how many were not watch lines.
pub fn parse_jsonl(text: &str) -> (Vec<WatchLine>, usize) {
    let mut bad = 0;
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<WatchLine>(line) {
            Ok(w) if !w.pod.is_empty() => out.push(w),
            _ => bad += 1,
        }
    }
    (out, bad)
}

/// Per pod, in order of first appearance: each line's state holds until the pod's next line
/// (kubectl prints a line only on change), the last one until `end_s`. `lines` are one
/// phase's.
pub fn timelines(lines: &[WatchLine], end_s: f64) -> Vec<PodTimeline> {
    let mut order: Vec<String> = Vec::new();
    let mut by_pod: std::collections::HashMap<&str, Vec<&WatchLine>> = std::collections::HashMap::new();
    for w in lines {
        let entry = by_pod.entry(w.pod.as_str()).or_default();
        if entry.is_empty() {
            order.push(w.pod.clone());
        }
        entry.push(w);
    }
    order
        .into_iter()
        .map(|pod| {
            let mut ws = by_pod.remove(pod.as_str()).unwrap_or_default();
            // Stable: lines at the same instant keep their printed order.
            ws.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
            let mut spans = Vec::with_capacity(ws.len());
            let mut restarts_at = Vec::new();
            let mut last_restarts = None;
            for (i, w) in ws.iter().enumerate() {
                let to_s = ws.get(i + 1).map_or(end_s.max(w.t_s), |n| n.t_s);
                spans.push(Span { from_s: w.t_s, to_s, state: classify(&w.status, &w.ready) });
                let n = restart_count(&w.restarts);
                if let (Some(prev), Some(now)) = (last_restarts, n)
                    && now > prev
                {
                    restarts_at.push(w.t_s);
                }
                last_restarts = n.or(last_restarts);
            }
            PodTimeline { pod, spans, restarts_at }
        })
        .collect()
}

/// At most `max` indices out of `0..n`, spread evenly and always including the first.
pub fn sample_evenly(n: usize, max: usize) -> Vec<usize> {
    if n <= max {
        return (0..n).collect();
    }
    (0..max).map(|i| i * n / max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(t_s: f64, pod: &str, ready: &str, status: &str, restarts: &str) -> WatchLine {
        WatchLine {
            phase: "main".into(),
            t_s,
            pod: pod.into(),
            ready: ready.into(),
            status: status.into(),
            restarts: restarts.into(),
        }
    }

    #[test]
    fn statuses_group_into_states() {
        assert_eq!(classify("Running", "1/1"), PodState::Ready);
        assert_eq!(classify("Running", "1/2"), PodState::RunningNotReady);
        assert_eq!(classify("Running", "0/0"), PodState::RunningNotReady);
        assert_eq!(classify("ContainerCreating", "0/1"), PodState::Waiting);
        assert_eq!(classify("Init:0/1", "0/1"), PodState::Waiting);
        assert_eq!(classify("Init:CrashLoopBackOff", "0/1"), PodState::CrashLoopBackOff);
        assert_eq!(classify("ImagePullBackOff", "0/1"), PodState::Error);
        assert_eq!(classify("ErrImagePull", "0/1"), PodState::Error);
        assert_eq!(classify("Error", "0/1"), PodState::Error);
        assert_eq!(classify("Terminating", "1/1"), PodState::Terminating);
        assert_eq!(classify("Completed", "0/1"), PodState::Completed);
        assert_eq!(classify("Unknown", "0/1"), PodState::Other);
        assert_eq!(restart_count("3 (12s ago)"), Some(3));
        assert_eq!(restart_count("0"), Some(0));
        assert_eq!(restart_count(""), None);
    }

    #[test]
    fn each_state_holds_until_the_pods_next_line_and_restarts_are_marked() {
        let lines = vec![
            w(0.0, "a", "0/1", "Pending", "0"),
            w(0.0, "b", "0/1", "ContainerCreating", "0"),
            w(2.0, "a", "1/1", "Running", "0"),
            w(30.0, "a", "0/1", "Error", "0"),
            w(31.0, "a", "0/1", "Running", "1"),
        ];
        let t = timelines(&lines, 60.0);
        assert_eq!(t.iter().map(|p| p.pod.as_str()).collect::<Vec<_>>(), vec!["a", "b"]);
        let a = &t[0];
        let states: Vec<(f64, f64, PodState)> = a.spans.iter().map(|s| (s.from_s, s.to_s, s.state)).collect();
        assert_eq!(
            states,
            vec![
                (0.0, 2.0, PodState::Waiting),
                (2.0, 30.0, PodState::Ready),
                (30.0, 31.0, PodState::Error),
                (31.0, 60.0, PodState::RunningNotReady),
            ]
        );
        assert_eq!(a.restarts_at, vec![31.0]);
        assert_eq!(t[1].spans, vec![Span { from_s: 0.0, to_s: 60.0, state: PodState::Waiting }]);
    }

    #[test]
    fn sampling_is_even_and_bounded() {
        assert_eq!(sample_evenly(3, 50), vec![0, 1, 2]);
        let s = sample_evenly(1000, 50);
        assert_eq!(s.len(), 50);
        assert_eq!(s[0], 0);
        assert_eq!(s[1], 20);
        assert_eq!(*s.last().unwrap(), 980);
        let (lines, bad) = parse_jsonl("{\"pod\":\"x\",\"t_s\":1}\nnot json\n\n{\"t_s\":2}\n");
        assert_eq!((lines.len(), bad), (1, 2));
    }
}
