//! Units and numbers on plot axes: one time unit per plot, chosen from its largest value so
//! tick labels stay short, and tick numbers without trailing zeros.

/// A time unit for an axis; values arrive in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeUnit {
    pub name: &'static str,
    /// Microseconds per unit.
    pub us: f64,
}

pub const MICROS: TimeUnit = TimeUnit { name: "µs", us: 1.0 };
pub const MILLIS: TimeUnit = TimeUnit { name: "ms", us: 1e3 };
pub const SECONDS: TimeUnit = TimeUnit { name: "s", us: 1e6 };

impl TimeUnit {
    /// The largest unit in which `max_us` is still at least 1 (µs below 1 ms, ms below 1 s).
    pub fn for_max_us(max_us: f64) -> TimeUnit {
        if max_us >= 1e6 {
            SECONDS
        } else if max_us >= 1e3 {
            MILLIS
        } else {
            MICROS
        }
    }

    pub fn from_us(self, us: f64) -> f64 {
        us / self.us
    }
}

/// A tick number: at most 3 significant digits, no trailing zeros (`0.05`, `1.5`, `250`,
/// `12000`).
pub fn tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    let a = v.abs();
    let decimals = if a >= 100.0 { 0 } else { (2.0 - a.log10().floor()).max(0.0) as usize };
    let s = format!("{v:.decimals$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// A count with thousands separators for tables and bar labels (`12,345`).
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_follows_the_largest_value() {
        assert_eq!(TimeUnit::for_max_us(999.0), MICROS);
        assert_eq!(TimeUnit::for_max_us(1_000.0), MILLIS);
        assert_eq!(TimeUnit::for_max_us(2_500_000.0), SECONDS);
        assert_eq!(MILLIS.from_us(1_500.0), 1.5);
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(0.05), "0.05");
        assert_eq!(tick(0.123456), "0.123");
        assert_eq!(tick(1.5), "1.5");
        assert_eq!(tick(10.0), "10");
        assert_eq!(tick(250.0), "250");
        assert_eq!(tick(12_000.0), "12000");
        assert_eq!(tick(0.0), "0");
        assert_eq!(count(0), "0");
        assert_eq!(count(1234), "1,234");
        assert_eq!(count(1_234_567), "1,234,567");
    }
}
