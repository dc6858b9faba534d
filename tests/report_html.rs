//! `probebench report RUN_DIR` on a real run: report.html is one self-contained file (no
//! script, nothing fetched), and every plot carries a title, axis labels with units and a
//! legend — as `data-*` attributes of its `<figure>` AND as text drawn in its SVG.

mod report_common;

use std::path::Path;

use report_common::{bin, real_run, temp_dir};

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The value of `name="…"` in the opening tag `tag`.
fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

/// Every `<text …>content</text>` in `svg`, trimmed and unescaped.
fn svg_texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        let after = &rest[i..];
        let Some(open_end) = after.find('>') else { break };
        let Some(close) = after.find("</text>") else { break };
        out.push(unescape(after[open_end + 1..close].trim()));
        rest = &after[close + 7..];
    }
    out
}

/// Every attribute value in the page (`name="value"`), to look for external addresses.
fn attribute_values(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("=\"") {
        let after = &rest[i + 2..];
        let Some(end) = after.find('"') else { break };
        out.push(after[..end].to_string());
        rest = &after[end + 1..];
    }
    out
}

struct Plot {
    id: String,
    title: String,
    x_label: String,
    y_label: String,
    legend: Vec<String>,
    svg: String,
    caption: String,
}

fn plots(html: &str) -> Vec<Plot> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<figure class=\"plot\"") {
        let after = &rest[i..];
        let open = &after[..after.find('>').unwrap()];
        let end = after.find("</figure>").expect("figure closed");
        let body = &after[..end];
        let svg_start = body.find("<svg").expect("figure has an svg");
        let svg_end = body.find("</svg>").expect("svg closed") + 6;
        let cap_start = body.find("<figcaption>").expect("figure has a caption") + 12;
        let cap_end = body.find("</figcaption>").unwrap();
        out.push(Plot {
            id: attr(open, "id").unwrap_or_default(),
            title: attr(open, "data-title").unwrap_or_default(),
            x_label: attr(open, "data-x-label").unwrap_or_default(),
            y_label: attr(open, "data-y-label").unwrap_or_default(),
            legend: attr(open, "data-legend")
                .unwrap_or_default()
                .split('|')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            svg: body[svg_start..svg_end].to_string(),
            caption: unescape(&body[cap_start..cap_end]),
        });
        rest = &after[end..];
    }
    out
}

/// `(µs)`, `(ms, log scale)`, `(count)`, `(s)`: a unit in parentheses.
fn has_unit(label: &str) -> bool {
    label.contains('(') && label.ends_with(')') && label.find('(').unwrap() < label.len() - 2
}

fn report(dir: &Path) -> String {
    let out = bin().arg("report").arg(dir).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "report failed: {}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed.trim(), dir.join("report.html").display().to_string(), "prints the path written");
    std::fs::read_to_string(dir.join("report.html")).unwrap()
}

#[test]
fn report_of_a_real_run_is_self_contained_and_every_plot_is_labelled() {
    let tmp = temp_dir("html");
    let run = real_run(&tmp);
    // An earlier report is replaced, whole.
    std::fs::write(run.join("report.html"), "stale").unwrap();
    let html = report(&run);
    assert!(html.starts_with("<!doctype html>"), "{:.100}", html);
    assert!(html.trim_end().ends_with("</html>"));
    let leftovers: Vec<String> = std::fs::read_dir(&run)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    // Self-contained: nothing to fetch, nothing to run.
    let lower = html.to_lowercase();
    for banned in ["<script", "<link", "<iframe", "<img", "<object", "<embed", "@import", "url(", "@font-face"] {
        assert!(!lower.contains(banned), "report contains {banned}");
    }
    for v in attribute_values(&html) {
        let v = v.to_lowercase();
        assert!(!v.contains("http://") && !v.contains("https://") && !v.starts_with("//"), "external address: {v}");
    }

    // The summary: every phase and series, the failures of /bin/false.
    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    assert!(html.contains(summary["run_id"].as_str().unwrap()));
    for phase in summary["phases"].as_array().unwrap() {
        assert!(html.contains(&format!("<td class=\"l\">{}</td>", phase["name"].as_str().unwrap())));
        for s in phase["series"].as_array().unwrap() {
            let tag = format!("{}.{}", s["mechanism"].as_str().unwrap(), s["probe_type"].as_str().unwrap());
            assert!(html.contains(&tag), "no row for {tag}");
        }
    }
    assert!(html.contains("<td class=\"bad\">"), "the failing exec probes are shown as failures");
    assert!(html.contains("<details class=\"meta\"><summary>Machine and command"), "metadata folded");
    assert!(html.contains("<summary>Scenario as resolved</summary>"));

    // Every plot: title, axis labels with units, legend — declared and drawn.
    let plots = plots(&html);
    assert_eq!(plots.len(), html.matches("<svg").count(), "every svg is a labelled figure");
    let ids: Vec<&str> = plots.iter().map(|p| p.id.as_str()).collect();
    for want in [
        "distribution-dispatch_lag",
        "distribution-latency",
        "over-time-dispatch_lag",
        "over-time-latency",
        "throughput-cpu",
        "outcomes",
    ] {
        assert!(ids.contains(&want), "no {want} plot in {ids:?}");
    }
    for p in &plots {
        assert!(!p.title.is_empty(), "{}: no title", p.id);
        assert!(has_unit(&p.x_label), "{}: x label without unit: {:?}", p.id, p.x_label);
        // Stacked panels with different y axes name each, separated by " | ".
        let y_labels: Vec<&str> = p.y_label.split(" | ").collect();
        for y in &y_labels {
            assert!(has_unit(y), "{}: y label without unit: {y:?}", p.id);
        }
        assert!(!p.legend.is_empty(), "{}: no legend", p.id);
        assert!(p.caption.len() > 40, "{}: caption too thin: {:?}", p.id, p.caption);
        let texts = svg_texts(&p.svg);
        let words = [p.title.as_str(), p.x_label.as_str()]
            .into_iter()
            .chain(y_labels)
            .chain(p.legend.iter().map(String::as_str));
        for want in words {
            assert!(texts.iter().any(|t| t == want), "{}: {want:?} not drawn; texts: {texts:?}", p.id);
        }
        assert!(!p.svg.contains("xmlns=\"http"), "{}: namespace URL left in", p.id);
    }
    // The dispatch lag distribution shows the calibration floor of both phases.
    let lag = plots.iter().find(|p| p.id == "distribution-dispatch_lag").unwrap();
    assert!(lag.legend.iter().any(|l| l == "noop floor, mixed"), "{:?}", lag.legend);
    assert!(lag.legend.iter().any(|l| l == "noop floor, second"), "{:?}", lag.legend);
    assert!(lag.x_label.starts_with("percentile"));
    // Percentile ticks as the HdrHistogram plotter labels them.
    let ticks = svg_texts(&lag.svg);
    for t in ["50%", "90%", "99%"] {
        assert!(ticks.iter().any(|x| x == t), "no {t} tick: {ticks:?}");
    }
    // CPU per probe is a whole-window figure, and the caption says so.
    let cpu = plots.iter().find(|p| p.id == "throughput-cpu").unwrap();
    assert!(cpu.caption.contains("no per-second CPU figure"), "{}", cpu.caption);
    std::fs::remove_dir_all(&tmp).unwrap();
}

/// A lifecycle run: watch.jsonl beside a summary. 120 pods are sampled down to 50.
#[test]
fn pod_timelines_are_drawn_from_watch_lines_and_sampled() {
    let dir = temp_dir("watch");
    let summary = serde_json::json!({
        "schema": "probebench.summary/v1", "run_id": "lifecycle-test", "scenario": "lifecycle",
        "phases": [{"name": "main", "duration_s": 60.0, "warmup_s": 0.0, "series": [], "intervals": []}],
        "notes": []
    });
    std::fs::write(dir.join("summary.json"), serde_json::to_vec(&summary).unwrap()).unwrap();
    let mut watch = String::new();
    for i in 0..120 {
        let pod = format!("web-{i:03}");
        for (t, ready, status, restarts) in [
            (0.0, "0/1", "Pending", "0"),
            (0.5, "0/1", "ContainerCreating", "0"),
            (2.0, "0/1", "Running", "0"),
            (5.0 + f64::from(i % 7), "1/1", "Running", "0"),
            (30.0, "0/1", "CrashLoopBackOff", "1"),
            (40.0, "0/1", "Running", "1"),
        ] {
            watch.push_str(&format!(
                "{{\"phase\":\"main\",\"t_s\":{t},\"pod\":\"{pod}\",\"ready\":\"{ready}\",\"status\":\"{status}\",\"restarts\":\"{restarts}\"}}\n"
            ));
        }
    }
    std::fs::write(dir.join("watch.jsonl"), watch).unwrap();
    let html = report(&dir);
    let plots = plots(&html);
    let timeline = plots.iter().find(|p| p.id == "timeline-main").expect("a timeline plot");
    assert!(timeline.caption.contains("50 of 120 pods shown"), "{}", timeline.caption);
    assert!(timeline.caption.contains("120 restarts"), "{}", timeline.caption);
    for state in ["Pending / ContainerCreating", "Running, not ready", "Running, ready", "CrashLoopBackOff"] {
        assert!(timeline.legend.iter().any(|l| l == state), "{state} not in {:?}", timeline.legend);
    }
    let texts = svg_texts(&timeline.svg);
    assert!(texts.iter().any(|t| t == "web-000"), "first pod labelled");
    assert!(!texts.iter().any(|t| t == "web-001"), "web-001 is not among the 50 sampled");
    // A state rectangle per watch line of every shown pod (6 each), and not for the others.
    let rects = timeline.svg.matches("<rect").count();
    assert!((50 * 6..120 * 6).contains(&rects), "{rects} rectangles");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_directory_without_summary_json_is_refused_with_exit_2() {
    let dir = temp_dir("empty");
    let out = bin().arg("report").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a run directory") && err.contains("summary.json"), "{err}");
    assert!(!dir.join("report.html").exists());
    std::fs::write(dir.join("summary.json"), "{\"schema\":\"something/else\"}").unwrap();
    let out = bin().arg("report").arg(&dir).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn help_has_examples() {
    let out = bin().args(["report", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("Examples:") && help.contains("probebench report results/"), "{help}");
}
