//! The `.hgrm` percentile distribution: HdrHistogram's text format, as Java's
//! `AbstractHistogram.outputPercentileDistribution(out, 5, scale)` prints it, so existing
//! plotters (HdrHistogram's plotFiles.html, hdr-plot) read it. The Rust crate has no writer.
//!
//! Values are recorded in nanoseconds and printed in microseconds (scale 1000), with 3
//! decimals (the histogram's significant digits), percentiles stepped with 5 ticks per
//! half distance, and the `#[Mean ...]` footer.

use std::fmt::Write as _;

use hdrhistogram::Histogram;

/// Ticks per half distance, as in the Java default and every published `.hgrm`.
pub const TICKS_PER_HALF_DISTANCE: u32 = 5;

/// Render `h` (values in nanoseconds) as `.hgrm` text with values in `unit_ratio` units
/// (1000.0 for microseconds).
pub fn render(h: &Histogram<u64>, unit_ratio: f64) -> String {
    let digits = usize::from(h.sigfig());
    let mut out = String::new();
    let _ = write!(out, "{:>12} {:>14} {:>10} {:>14}\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
    if !h.is_empty() {
        let mut total = 0u64;
        for v in h.iter_quantiles(TICKS_PER_HALF_DISTANCE) {
            total += v.count_since_last_iteration();
            let value = v.value_iterated_to() as f64 / unit_ratio;
            let q = v.quantile_iterated_to();
            if q < 1.0 {
                let _ = writeln!(out, "{value:>12.digits$} {q:>2.12} {total:>10} {:>14.2}", 1.0 / (1.0 - q));
            } else {
                let _ = writeln!(out, "{value:>12.digits$} {q:>2.12} {total:>10}");
            }
        }
    }
    let mean = if h.is_empty() { 0.0 } else { h.mean() / unit_ratio };
    let stdev = if h.is_empty() { 0.0 } else { h.stdev() / unit_ratio };
    let max = h.max() as f64 / unit_ratio;
    let _ = writeln!(out, "#[Mean    = {mean:>12.digits$}, StdDeviation   = {stdev:>12.digits$}]");
    let _ = writeln!(out, "#[Max     = {max:>12.digits$}, Total count    = {:>12}]", h.len());
    let _ = writeln!(out, "#[Buckets = {:>12}, SubBuckets     = {:>12}]", h.buckets(), sub_bucket_count(h.sigfig()));
    out
}

/// HdrHistogram's sub-bucket count for a precision: the power of two at or above
/// 2·10^sigfig (2048 for 3 digits).
pub fn sub_bucket_count(sigfig: u8) -> u64 {
    let single_unit = 2 * 10u64.pow(u32::from(sigfig));
    single_unit.next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A known distribution: 1..=100 µs, once each (recorded in ns). Everything below is
    /// derivable by hand: the median of 1..=100 is 50 (the 50th value), the 90th
    /// percentile 90, the mean 50.5, the population standard deviation sqrt((100²−1)/12)
    /// = 28.866, and every value below 2048 ns·1000 is exact at 3 digits only up to its
    /// bucket width, so values are checked through the histogram's own equivalence.
    #[test]
    fn known_distribution_renders_in_the_java_format() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).unwrap();
        for us in 1..=100u64 {
            h.record(us * 1000).unwrap();
        }
        let text = render(&h, 1000.0);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "       Value     Percentile TotalCount 1/(1-Percentile)");
        assert_eq!(lines[1], "");
        // First row: the lowest value, at percentile 0, one value counted.
        let first: Vec<&str> = lines[2].split_whitespace().collect();
        assert_eq!(first[1], "0.000000000000");
        assert_eq!(first[2], "1");
        assert!((first[0].parse::<f64>().unwrap() - 1.0).abs() < 0.001);
        assert_eq!(first[3], "1.00");
        // Every row of the known distribution: TotalCount is exactly the number of values
        // 1..=100 µs at or below the row's value (values print as their bucket's highest
        // equivalent, e.g. 91.007), and covers the row's percentile.
        let mut levels = Vec::new();
        for l in lines[2..].iter().take_while(|l| !l.starts_with('#')) {
            let f: Vec<&str> = l.split_whitespace().collect();
            let value: f64 = f[0].parse().unwrap();
            let q: f64 = f[1].parse().unwrap();
            let count: u64 = f[2].parse().unwrap();
            assert_eq!(count, value.floor() as u64, "{l}");
            assert!(count as f64 / 100.0 >= q - 1e-9, "{l}");
            if q < 1.0 {
                let inv: f64 = f[3].parse().unwrap();
                assert!((inv - 1.0 / (1.0 - q)).abs() < 0.006, "{l}");
            }
            levels.push(f[1].to_string());
        }
        for want in ["0.500000000000", "0.750000000000", "0.875000000000"] {
            assert!(levels.iter().any(|l| l == want), "no {want} row: {levels:?}");
        }
        // Last row: percentile 1, all 100 values, no 1/(1-p) column.
        let last = lines.iter().rev().find(|l| !l.starts_with('#')).unwrap();
        let f: Vec<&str> = last.split_whitespace().collect();
        assert_eq!(f.len(), 3, "{last}");
        assert_eq!(f[1], "1.000000000000");
        assert_eq!(f[2], "100");
        // Percentiles never decrease, counts never decrease.
        let rows: Vec<(f64, u64)> = lines[2..]
            .iter()
            .take_while(|l| !l.starts_with('#'))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (f[1].parse().unwrap(), f[2].parse().unwrap())
            })
            .collect();
        assert!(rows.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 <= w[1].1));
        // Footer.
        let n = lines.len();
        let mean: Vec<&str> = lines[n - 3].split(['=', ',', ']']).map(str::trim).collect();
        assert_eq!(mean[0], "#[Mean");
        assert!((mean[1].parse::<f64>().unwrap() - 50.5).abs() < 0.05, "{}", lines[n - 3]);
        assert!((mean[3].parse::<f64>().unwrap() - 28.866).abs() < 0.05, "{}", lines[n - 3]);
        assert!(lines[n - 2].starts_with("#[Max     = "));
        assert!(lines[n - 2].ends_with("Total count    =          100]"), "{}", lines[n - 2]);
        assert!(lines[n - 1].ends_with("SubBuckets     =         2048]"), "{}", lines[n - 1]);
    }

    #[test]
    fn empty_histogram_has_header_and_footer_only() {
        let h = Histogram::<u64>::new_with_bounds(1, 1_000_000, 3).unwrap();
        let text = render(&h, 1000.0);
        assert_eq!(text.lines().count(), 5);
        assert!(text.contains("Total count    =            0]"));
    }

    #[test]
    fn sub_buckets_follow_precision() {
        assert_eq!(sub_bucket_count(3), 2048);
        assert_eq!(sub_bucket_count(2), 256);
    }
}
