//! Our `.hlog` and `.hgrm` files read by someone else's code: the HdrHistogram Python package
//! (PyPI `hdrhistogram`) decodes every interval of a real run's intervals.hlog and checks every
//! .hgrm row (tests/interop/read_hdr.py); this test compares what it found with what the Rust
//! side decodes and with summary.json — the same counts per interval, the same recorded
//! values, the same percentiles.
//!
//! Needs `python3` with the package on PATH (`pip install hdrhistogram`). Skipped when it is
//! missing, unless PROBEBENCH_REQUIRE_PYTHON_HDR is set (CI sets it), which makes it fail.

mod report_common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use hdrhistogram::Histogram;
use probebench::report::html::hlog_read;
use report_common::{real_run, temp_dir};
use serde_json::Value;

fn required() -> bool {
    std::env::var_os("PROBEBENCH_REQUIRE_PYTHON_HDR").is_some_and(|v| !v.is_empty())
}

fn python_has_hdrh() -> bool {
    Command::new("python3").args(["-c", "import hdrh.histogram, hdrh.log"]).output().is_ok_and(|o| o.status.success())
}

/// The package's rank for percentile `p` (0..100) of `n` values: `int(p·n/100 + 0.5)`, at
/// least 1 (hdrh/histogram.py get_target_count_at_percentile). Java and Rust take the
/// ceiling instead, so the two can pick neighbouring ranks.
fn python_rank(p: f64, n: u64) -> u64 {
    ((p * n as f64 / 100.0) + 0.5).floor().max(1.0) as u64
}

/// The value at `rank` (1-based) of `h`, as HdrHistogram reports a percentile: the highest
/// value equivalent to the bucket where the running count reaches the rank.
fn value_at_rank(h: &Histogram<u64>, rank: u64) -> u64 {
    let mut seen = 0;
    for v in h.iter_recorded() {
        seen += v.count_at_value();
        if seen >= rank {
            return h.highest_equivalent(v.value_iterated_to());
        }
    }
    h.max()
}

fn read_with_python(run: &Path) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/read_hdr.py");
    let out = Command::new("python3").arg(script).arg(run).output().unwrap();
    assert!(out.status.success(), "read_hdr.py failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("read_hdr.py prints JSON")
}

#[test]
fn the_python_hdrhistogram_package_reads_our_hlog_and_hgrm_files_to_the_same_figures() {
    if !python_has_hdrh() {
        assert!(!required(), "PROBEBENCH_REQUIRE_PYTHON_HDR is set but python3 cannot import hdrh");
        println!("skipped: python3 with the hdrhistogram package not installed");
        return;
    }
    let tmp = temp_dir("interop");
    let run = real_run(&tmp);
    let py = read_with_python(&run);
    let summary: Value = serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    let phases = summary["phases"].as_array().unwrap();
    let multi = phases.len() > 1;
    let py_phases = py["phases"].as_array().unwrap();
    assert_eq!(py_phases.len(), phases.len(), "the package read one interval log per phase");

    let mut compared_percentiles = 0;
    for (phase, py_phase) in phases.iter().zip(py_phases) {
        let name = phase["name"].as_str().unwrap();
        assert_eq!(py_phase["name"], name);
        let prefix = if multi { format!("{name}.") } else { String::new() };
        let ours = hlog_read::read(&std::fs::read(run.join(format!("{prefix}intervals.hlog"))).unwrap()).unwrap();
        let theirs = py_phase["tags"].as_object().unwrap();
        let our_tags: Vec<&String> = ours.intervals.keys().collect();
        let their_tags: Vec<&String> = theirs.keys().collect();
        assert_eq!(our_tags, their_tags, "phase {name}: the same tags");

        for (tag, t) in theirs {
            // Every interval's count, in order.
            let our_counts: Vec<u64> = ours.intervals[tag].iter().map(|i| i.count).collect();
            let their_counts: Vec<u64> =
                t["interval_counts"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect();
            assert_eq!(our_counts, their_counts, "{name}/{tag}: counts per interval");
            // The merged distribution, bucket by bucket.
            let merged = &ours.merged[tag];
            let n = merged.len();
            assert_eq!(t["total_count"].as_u64(), Some(n), "{name}/{tag}: total");
            let our_recorded: Vec<(u64, u64)> = merged
                .iter_recorded()
                .map(|v| (merged.lowest_equivalent(v.value_iterated_to()), v.count_at_value()))
                .collect();
            let their_recorded: Vec<(u64, u64)> = t["recorded"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_u64().unwrap(), p[1].as_u64().unwrap()))
                .collect();
            assert_eq!(our_recorded, their_recorded, "{name}/{tag}: recorded values");
            assert_eq!(t["max"].as_u64(), Some(merged.max()), "{name}/{tag}: max");
            // Percentiles: the package's value is ours at the package's rank; where both rank
            // rules agree, it is exactly our value_at_quantile.
            for (p, value) in t["percentiles"].as_object().unwrap() {
                let p: f64 = p.parse().unwrap();
                let value = value.as_u64().unwrap();
                assert_eq!(value, value_at_rank(merged, python_rank(p, n)), "{name}/{tag}: p{p}");
                let ceil_rank = ((p / 100.0 * n as f64).ceil() as u64).max(1);
                if python_rank(p, n) == ceil_rank {
                    assert_eq!(value, merged.value_at_quantile(p / 100.0), "{name}/{tag}: p{p}");
                    compared_percentiles += 1;
                }
            }
        }

        // summary.json's figures are the same histograms (when no interval came too late to
        // be logged, the log holds every measured probe).
        if phase["late_interval_sets"] == 0 && phase["intervals_dropped"] == 0 {
            for s in phase["series"].as_array().unwrap() {
                let tag = format!("{}.{}", s["mechanism"].as_str().unwrap(), s["probe_type"].as_str().unwrap());
                for metric in ["dispatch_lag", "latency"] {
                    let count = s[metric]["count"].as_u64().unwrap();
                    let key = format!("{tag}.{metric}");
                    let Some(t) = theirs.get(&key) else {
                        assert_eq!(count, 0, "{name}/{key}: summary counts probes the log lacks");
                        continue;
                    };
                    assert_eq!(t["total_count"].as_u64(), Some(count), "{name}/{key}: summary count");
                    let p99_ns = ours.merged[&key].value_at_quantile(0.99) as f64;
                    let summary_ns = s[metric]["p99_us"].as_f64().unwrap() * 1e3;
                    assert!((p99_ns - summary_ns).abs() < 0.5, "{name}/{key}: p99 {p99_ns} ns vs summary {summary_ns}");
                }
            }
        } else {
            println!("phase {name}: late or dropped intervals; summary comparison left out");
        }
    }
    assert!(compared_percentiles > 0, "no percentile compared directly");

    // Every .hgrm file: each row agrees with the package's own histogram of the same tag.
    let hgrm_files: Vec<String> = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".hgrm"))
        .collect();
    let checked: BTreeMap<String, Value> =
        py["hgrm"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    assert!(!hgrm_files.is_empty());
    for file in &hgrm_files {
        let c = checked.get(file).unwrap_or_else(|| panic!("the package did not check {file}"));
        assert!(c["rows"].as_u64().unwrap() >= 2, "{file}: {c}");
        assert_eq!(c["file_total_count"], c["python_total_count"], "{file}");
        assert_eq!(c["mismatches"].as_array().unwrap().len(), 0, "{file}: {}", c["mismatches"]);
    }
    println!(
        "hdrhistogram {} read {} tags and {} .hgrm files alike",
        py["hdrh_version"],
        py_phases.iter().map(|p| p["tags"].as_object().unwrap().len()).sum::<usize>(),
        hgrm_files.len()
    );
    std::fs::remove_dir_all(&tmp).unwrap();
}
