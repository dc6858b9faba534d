//! The thresholds table printed after a run: one line per threshold, failures explained.

use super::evaluate::{Evaluation, Verdict};
use crate::report::table::Table;

/// `RESULT  THRESHOLD  MEASURED  NOTE` rows and a count line; empty input gives "".
pub fn render_table(evaluations: &[Evaluation]) -> String {
    if evaluations.is_empty() {
        return String::new();
    }
    let mut t = Table::new(&["RESULT", "THRESHOLD", "MEASURED", "NOTE"]);
    for e in evaluations {
        let result = match e.verdict {
            Verdict::Pass => "PASS",
            Verdict::Fail | Verdict::NoData => "FAIL",
        };
        let measured = e.measured_text.clone().unwrap_or_else(|| "no data".into());
        t.row(vec![result.into(), e.threshold.clone(), measured, e.reason.clone().unwrap_or_default()]);
    }
    let failed = evaluations.iter().filter(|e| !e.passed()).count();
    format!("{}thresholds: {} passed, {failed} failed\n", t.render(), evaluations.len() - failed)
}
