//! Reads HdrHistogram's percentile text (`.hgrm`, as `report::hgrm` and Java's
//! `outputPercentileDistribution` write it) back into rows, for the percentile plots.

use thiserror::Error;

/// One row: the value reached (in the file's unit), the percentile as a fraction, and the
/// number of recorded values at or below it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HgrmRow {
    pub value: f64,
    pub quantile: f64,
    pub total_count: u64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Hgrm {
    pub rows: Vec<HgrmRow>,
    /// The 1-based file line of each row (for errors about a row).
    pub row_lines: Vec<usize>,
    pub mean: Option<f64>,
    pub max: Option<f64>,
    pub total_count: Option<u64>,
}

#[derive(Debug, Error, PartialEq)]
#[error("line {line}: {message}")]
pub struct HgrmError {
    pub line: usize,
    pub message: String,
}

impl Hgrm {
    /// The rows below percentile 100 as (1/(1−p), value): the points of the classic HdrHistogram
    /// plot. The 100% row has no finite position on that axis.
    pub fn tail_points(&self) -> Vec<(f64, f64)> {
        self.rows.iter().filter(|r| r.quantile < 1.0).map(|r| (1.0 / (1.0 - r.quantile), r.value)).collect()
    }
}

/// Parse `.hgrm` text. The header, blank lines and `#[...]` footer lines are recognised; any
/// other line must be a data row (`Value Percentile TotalCount [1/(1-Percentile)]`).
pub fn parse(text: &str) -> Result<Hgrm, HgrmError> {
    let mut out = Hgrm::default();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let err = |message: String| HgrmError { line: i + 1, message };
        if line.is_empty() || line.starts_with("Value") {
            continue;
        }
        if let Some(footer) = line.strip_prefix("#[") {
            read_footer(footer.trim_end_matches(']'), &mut out);
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if !(3..=4).contains(&fields.len()) {
            return Err(err(format!("expected 3 or 4 columns, found {}", fields.len())));
        }
        let value: f64 = fields[0].parse().map_err(|_| err(format!("value {:?} is not a number", fields[0])))?;
        let quantile: f64 =
            fields[1].parse().map_err(|_| err(format!("percentile {:?} is not a number", fields[1])))?;
        let total_count: u64 =
            fields[2].parse().map_err(|_| err(format!("total count {:?} is not a whole number", fields[2])))?;
        if !(0.0..=1.0).contains(&quantile) {
            return Err(err(format!("percentile {quantile} is outside 0..1")));
        }
        out.rows.push(HgrmRow { value, quantile, total_count });
        out.row_lines.push(i + 1);
    }
    Ok(out)
}

/// `Mean = 1.0, StdDeviation = 2.0` / `Max = 3.0, Total count = 4` / `Buckets = …`.
fn read_footer(footer: &str, out: &mut Hgrm) {
    for pair in footer.split(',') {
        let Some((key, value)) = pair.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "Mean" => out.mean = value.parse().ok(),
            "Max" => out.max = value.parse().ok(),
            "Total count" => out.total_count = value.parse().ok(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::hist::new_histogram;
    use crate::report::hgrm;

    #[test]
    fn reads_back_what_the_writer_wrote() {
        let mut h = new_histogram();
        for us in 1..=1000u64 {
            h.record(us * 1000).unwrap();
        }
        let parsed = parse(&hgrm::render(&h, 1000.0)).unwrap();
        assert_eq!(parsed.total_count, Some(1000));
        assert!((parsed.mean.unwrap() - 500.5).abs() < 0.5, "{:?}", parsed.mean);
        assert!((parsed.max.unwrap() - h.max() as f64 / 1000.0).abs() < 0.001);
        let last = parsed.rows.last().unwrap();
        assert_eq!((last.quantile, last.total_count), (1.0, 1000));
        // The median row's value is the histogram's own median.
        let median = parsed.rows.iter().find(|r| r.quantile == 0.5).unwrap();
        assert!((median.value - h.value_at_quantile(0.5) as f64 / 1000.0).abs() < 0.001);
        // Tail points leave out the 100% row and grow along both axes.
        let pts = parsed.tail_points();
        assert_eq!(pts.len(), parsed.rows.len() - 1);
        assert!(pts.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
        assert_eq!(pts[0].0, 1.0);
    }

    #[test]
    fn reads_the_java_layout_and_rejects_garbage_with_a_line_number() {
        let java = "       Value     Percentile TotalCount 1/(1-Percentile)\n\n       0.045 0.000000000000          1           1.00\n       0.100 1.000000000000         10\n#[Mean    =        0.070, StdDeviation   =        0.010]\n#[Max     =        0.100, Total count    =           10]\n";
        let h = parse(java).unwrap();
        assert_eq!(h.rows.len(), 2);
        assert_eq!(h.rows[0], HgrmRow { value: 0.045, quantile: 0.0, total_count: 1 });
        assert_eq!(h.total_count, Some(10));
        assert_eq!(parse("1.0 x 3\n").unwrap_err().line, 1);
        assert_eq!(
            parse("Value\n\n1 0.5 2\n1 2\n").unwrap_err(),
            HgrmError { line: 4, message: "expected 3 or 4 columns, found 2".into() }
        );
        assert!(parse("1 1.5 2\n").is_err(), "percentile over 1");
    }
}
