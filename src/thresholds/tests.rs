//! End-to-end: thresholds parsed, validated and evaluated against a summary built from real
//! HDR histograms, with a histogram source over the same series.

use super::*;
use crate::measure::hist::{Metric, new_histogram};
use crate::measure::{Counters, SeriesStats};
use crate::report::summary::{OverheadSummary, Percentiles, PhaseSummary, SeriesSummary, Summary};
use crate::sched::limits::{MachineLimits, Needs};

const MS: u64 = 1_000_000;

/// A series whose latency and dispatch lag are `values` (ns), with `failure` failures.
fn stats(values: &[u64], failure: u64, errored: u64) -> SeriesStats {
    let mut s = SeriesStats::default();
    for &v in values {
        s.metrics.record(Metric::Latency, v);
        s.metrics.record(Metric::DispatchLag, v / 10);
    }
    let n = values.len() as u64;
    s.counters =
        Counters { dispatched: n, probes: n, success: n - failure - errored, failure, errored, ..Counters::default() };
    s
}

fn series_summary(mechanism: &str, probe_type: &str, s: &SeriesStats, window_s: f64) -> SeriesSummary {
    let m = &s.metrics;
    SeriesSummary {
        mechanism: mechanism.into(),
        declared: mechanism.into(),
        probe_type: probe_type.into(),
        workers: 1,
        counters: s.counters,
        rate_per_s: s.counters.probes as f64 / window_s,
        dispatch_lag: Percentiles::of(m.get(Metric::DispatchLag)),
        overrun_delay: Percentiles::of(m.get(Metric::OverrunDelay)),
        start_lag: Percentiles::of(m.get(Metric::StartLag)),
        latency: Percentiles::of(m.get(Metric::Latency)),
        corrected_latency: Percentiles::of(m.get(Metric::CorrectedLatency)),
    }
}

fn phase(name: &str, window_s: f64, cpu_us_per_probe: f64, series: &[(&str, &str, &SeriesStats)]) -> PhaseSummary {
    let mut total = SeriesStats::default();
    for (_, _, s) in series {
        total.add(s);
    }
    PhaseSummary {
        name: name.into(),
        duration_s: window_s,
        warmup_s: 0.0,
        pods: 1,
        workers: series.len() as u64,
        scheduled_rate_per_s: 0.0,
        series: series.iter().map(|(m, p, s)| series_summary(m, p, s, window_s)).collect(),
        total: series_summary("all", "all", &total, window_s),
        overhead: OverheadSummary { cpu_us_per_probe, ..OverheadSummary::default() },
        calibration: None,
        intervals: Vec::new(),
        wakeups: 0,
        events_dropped: 0,
        intervals_dropped: 0,
        late_interval_sets: 0,
        stand_ins: Vec::new(),
        lifecycle: None,
    }
}

fn summary(phases: Vec<PhaseSummary>) -> Summary {
    Summary {
        schema: crate::report::summary::SCHEMA,
        run_id: String::new(),
        scenario: "test".into(),
        started_at: String::new(),
        scheduler: "hires".into(),
        timer: "timerfd".into(),
        shards: 1,
        seed: 1,
        limits: MachineLimits {
            nofile: 1024,
            nofile_hard: 1024,
            ephemeral_ports: 28_232,
            time_wait_s: 60,
            tw_reuse_loopback: true,
        },
        needs: Needs::default(),
        phases,
        notes: Vec::new(),
        results_dir: None,
        partial: None,
        preflight: None,
        thresholds: Vec::new(),
        exit_code: 0,
    }
}

/// Phase `steady` (10 s): http liveness fast (980 × 1 ms) with a slow tail (20 × 100 ms),
/// http readiness slow (500 × 40 ms, 1 errored), exec liveness (100 × 5 ms, 2 failures).
/// Phase `burst` (5.5 s): http liveness 1500 × 3 ms.
struct Run {
    steady: Vec<SeriesStats>,
    burst: Vec<SeriesStats>,
}

fn run() -> Run {
    let mut fast: Vec<u64> = vec![MS; 980];
    fast.extend(vec![100 * MS; 20]);
    Run {
        steady: vec![stats(&fast, 0, 0), stats(&vec![40 * MS; 500], 0, 1), stats(&vec![5 * MS; 100], 2, 0)],
        burst: vec![stats(&vec![3 * MS; 1500], 0, 0)],
    }
}

fn summary_of(r: &Run) -> Summary {
    summary(vec![
        phase(
            "steady",
            10.0,
            20.0,
            &[
                ("http", "liveness", &r.steady[0]),
                ("http", "readiness", &r.steady[1]),
                ("exec", "liveness", &r.steady[2]),
            ],
        ),
        phase("burst", 5.5, 50.0, &[("http", "liveness", &r.burst[0])]),
    ])
}

fn eval(text: &str, inputs: &Inputs<'_>) -> Evaluation {
    let t = parse_and_validate(text, &Catalogue::standard()).unwrap();
    evaluate(&[t], inputs).remove(0)
}

#[test]
fn one_series_uses_its_own_percentiles() {
    let r = run();
    let s = summary_of(&r);
    let inputs = Inputs { summary: &s, histograms: None, lifecycle: None };
    let e = eval("latency{phase=steady,mechanism=exec}.p99 < 6ms", &inputs);
    assert_eq!(e.verdict, Verdict::Pass, "{e:?}");
    let v = e.measured.unwrap();
    assert!((v - 5e6).abs() < 5e6 * 0.001, "5 ms within HDR precision: {v}");
    let e = eval("latency{phase=steady,mechanism=exec}.p99 < 4ms", &inputs);
    assert_eq!(e.verdict, Verdict::Fail);
    assert!(e.reason.as_deref().unwrap().starts_with("measured 5"), "{e:?}");
    assert!(e.reason.as_deref().unwrap().ends_with("needs < 4ms"), "{e:?}");
}

#[test]
fn several_series_are_merged_never_averaged() {
    let r = run();
    let s = summary_of(&r);
    let source = PhaseSeries(vec![&r.steady, &r.burst]);
    let inputs = Inputs { summary: &s, histograms: Some(&source), lifecycle: None };
    // http liveness in both phases: 1000 values from `steady` (2% at 100 ms, so its own p99
    // is 100 ms) + 1500 × 3 ms. Merged, 20/2500 = 0.8% are 100 ms, so p99 is 3 ms; the mean
    // of the two series' p99s would be (100 + 3) / 2 = 51.5 ms.
    let e = eval("latency{mechanism=http,probe_type=liveness}.p99 < 10ms", &inputs);
    assert_eq!(e.verdict, Verdict::Pass, "{e:?}");
    let mut expect = new_histogram();
    expect.add(r.steady[0].metrics.get(Metric::Latency)).unwrap();
    expect.add(r.burst[0].metrics.get(Metric::Latency)).unwrap();
    assert_eq!(e.measured, Some(expect.value_at_quantile(0.99) as f64));
    let averaged = (s.phases[0].series[0].latency.p99_us + s.phases[1].series[0].latency.p99_us) / 2.0 * 1e3;
    assert!(averaged > 40e6, "the averaged figure would have failed: {averaged}");

    // Without the histograms the same threshold cannot be evaluated honestly.
    let bare = Inputs { summary: &s, histograms: None, lifecycle: None };
    let e = eval("latency{mechanism=http,probe_type=liveness}.p99 < 10ms", &bare);
    assert_eq!(e.verdict, Verdict::NoData);
    assert!(e.reason.unwrap().contains("needs the run's histograms"));
}

#[test]
fn a_whole_phase_uses_its_total() {
    let r = run();
    let s = summary_of(&r);
    let inputs = Inputs { summary: &s, histograms: None, lifecycle: None };
    let e = eval("dispatch_lag{phase=steady}.max < 1s", &inputs);
    assert_eq!(e.verdict, Verdict::Pass, "{e:?}");
    assert_eq!(e.measured, Some(s.phases[0].total.dispatch_lag.max_us * 1e3));
    assert!((e.measured.unwrap() - 10e6).abs() < 10e6 * 0.001, "100 ms / 10");
}

#[test]
fn nothing_matched_is_no_data_and_fails() {
    let r = run();
    let s = summary_of(&r);
    let source = PhaseSeries(vec![&r.steady, &r.burst]);
    let inputs = Inputs { summary: &s, histograms: Some(&source), lifecycle: None };
    let e = eval("latency{mechanism=grpc}.p99 < 50ms", &inputs);
    assert_eq!(e.verdict, Verdict::NoData);
    assert_eq!(e.reason.as_deref(), Some("no probes matched `latency{mechanism=grpc}`"));
    assert!(!e.passed());
    let e = eval("errored{mechanism=grpc} == 0", &inputs);
    assert_eq!(e.verdict, Verdict::NoData, "a count with nothing behind it is not 0");
    // Series exist but recorded nothing of this metric.
    let e = eval("overrun_delay{phase=steady}.p99 < 1ms", &inputs);
    assert_eq!(e.verdict, Verdict::NoData);
    assert!(e.reason.unwrap().contains("no `overrun_delay` values recorded"));
}

#[test]
fn counts_rates_and_cpu() {
    let r = run();
    let s = summary_of(&r);
    let inputs = Inputs { summary: &s, histograms: None, lifecycle: None };
    let e = eval("errored == 0", &inputs);
    assert_eq!((e.verdict, e.measured), (Verdict::Fail, Some(1.0)));
    assert_eq!(e.reason.as_deref(), Some("measured 1, needs == 0"));
    let e = eval("failure{probe_type=liveness} == 2", &inputs);
    assert_eq!(e.verdict, Verdict::Pass, "{e:?}");
    let e = eval("probes{mechanism=http} >= 3000", &inputs);
    assert_eq!((e.verdict, e.measured), (Verdict::Pass, Some(3000.0)));
    // Rate over both phases: 3100 probes in 15.5 s.
    let e = eval("rate >= 150", &inputs);
    assert_eq!(e.measured, Some(200.0));
    assert_eq!(e.measured_text.as_deref(), Some("200/s"));
    let burst = eval("rate{phase=burst} > 300", &inputs);
    assert_eq!(burst.verdict, Verdict::Fail);
    assert!((burst.measured.unwrap() - 1500.0 / 5.5).abs() < 1e-9);
    // CPU weighted by probes: (20 µs × 1600 + 50 µs × 1500) / 3100 = 34.52 µs, not the
    // mean of the phases' figures (35 µs).
    let e = eval("cpu_per_probe < 35us", &inputs);
    assert_eq!(e.verdict, Verdict::Pass, "{e:?}");
    assert!((e.measured.unwrap() - 107_000_000.0 / 3100.0).abs() < 1.0, "{e:?}");
    assert_eq!(eval("cpu_per_probe{phase=burst} < 35us", &inputs).verdict, Verdict::Fail);
}

#[test]
fn lifecycle_thresholds() {
    let r = run();
    let s = summary_of(&r);
    let pod = |name: &str, ready: Option<f64>, restarts: u64| PodFacts {
        phase: "steady".into(),
        name: name.into(),
        ready_s: ready,
        not_ready_s: 0.0,
        containers: vec![ContainerFacts { name: "app".into(), restarts, kills: 0, started_s: Some(1.0) }],
    };
    let facts =
        LifecycleFacts { pods: vec![pod("web-0", Some(3.0), 0), pod("web-1", None, 2), pod("db-0", Some(9.0), 7)] };
    let inputs = Inputs { summary: &s, histograms: None, lifecycle: Some(&facts) };
    let e = eval("restarts{pod=web-*} <= 1", &inputs);
    assert_eq!((e.verdict, e.measured), (Verdict::Fail, Some(2.0)));
    assert_eq!(eval("restarts{pod=web-*}.sum <= 2", &inputs).verdict, Verdict::Pass);
    let e = eval("time_to_ready{pod=web-*} < 30s", &inputs);
    assert_eq!(e.verdict, Verdict::Fail);
    assert_eq!(e.measured_text.as_deref(), Some("never"));
    assert!(e.reason.unwrap().contains("1 of 2 pods never became Ready"));
    let e = eval("time_to_ready{pod=db-*} < 10s", &inputs);
    assert_eq!((e.verdict, e.measured), (Verdict::Pass, Some(9e9)));
    let e = eval("kills{pod=cache-*} == 0", &inputs);
    assert_eq!(e.verdict, Verdict::NoData);
    assert_eq!(e.reason.as_deref(), Some("no containers matched `kills{pod=cache-*}`"));
    let no_facts = Inputs { summary: &s, histograms: None, lifecycle: None };
    let e = eval("restarts <= 1", &no_facts);
    assert_eq!(e.verdict, Verdict::NoData);
    assert!(e.reason.unwrap().contains("lifecycle facts"));
}

#[test]
fn the_table_shows_every_verdict() {
    let r = run();
    let s = summary_of(&r);
    let inputs = Inputs { summary: &s, histograms: None, lifecycle: None };
    let ts =
        validate_all(&["errored == 0", "rate >= 100", "latency{mechanism=grpc}.p99 < 1ms"], &Catalogue::standard())
            .unwrap();
    let evals = evaluate(&ts, &inputs);
    assert!(!all_passed(&evals));
    let table = render_table(&evals);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 5, "{table}");
    assert!(lines[0].starts_with("RESULT") && lines[0].contains("MEASURED"));
    assert!(lines[1].starts_with("FAIL") && lines[1].contains("errored == 0") && lines[1].contains("needs == 0"));
    assert!(lines[2].starts_with("PASS") && lines[2].contains("200/s"));
    assert!(lines[3].starts_with("FAIL") && lines[3].contains("no data") && lines[3].contains("no probes matched"));
    assert_eq!(lines[4], "thresholds: 1 passed, 2 failed");
    assert!(all_passed(&evaluate(&ts[1..2], &inputs)));
    assert_eq!(render_table(&[]), "");
    let json = serde_json::to_value(&evals[1]).unwrap();
    assert_eq!(json["verdict"], "pass");
    assert_eq!(json["measured"], 200.0);
}
