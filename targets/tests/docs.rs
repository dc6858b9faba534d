//! Every `yaml` example in docs/behaviours.md parses, so the documentation cannot drift
//! from the parser; the documented error output is what the parser says.

use probebench_targets::{parse_behaviour, parse_behaviour_file};

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/behaviours.md");
    std::fs::read_to_string(path).unwrap()
}

fn blocks(text: &str, lang: &str) -> Vec<String> {
    let fence = format!("```{lang}");
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in text.lines() {
        match &mut cur {
            None if line.trim() == fence => cur = Some(String::new()),
            Some(b) if line.trim() == "```" => {
                out.push(std::mem::take(b));
                cur = None;
            }
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
            None => {}
        }
    }
    out
}

#[test]
fn every_yaml_example_parses() {
    let examples = blocks(&doc(), "yaml");
    assert!(examples.len() >= 15, "only {} examples found", examples.len());
    for (i, e) in examples.iter().enumerate() {
        if let Err(err) = parse_behaviour_file(e) {
            panic!("example {i} does not parse:\n{e}\n{err}");
        }
    }
}

#[test]
fn documented_errors_are_the_parsers() {
    let text = doc();
    let err = parse_behaviour(
        "startup: 30\nlatnecy: 5ms\nphases:\n  - respond: {status: 700}\n  - for: 1m\n    respond: sometimes\n    latency: {lognormal: {p50: 100ms, p99: 50ms}}\n  - respond: ok\n",
    )
    .unwrap_err();
    for e in &err.errors {
        assert!(text.contains(&e.to_string()), "docs lack: {e}");
    }
}
