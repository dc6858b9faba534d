//! The threshold grammar: text to a syntax tree, nothing more. Whether the metric, labels,
//! statistic and unit make sense is [`super::catalogue`]'s job; this module only knows the
//! shape `METRIC[{LABEL=VALUE,...}][.STAT] OP NUMBER[UNIT]` (docs/thresholds.md has the EBNF).
//!
//! Errors name the column (1-based, counted in characters) where reading stopped, so a
//! scenario's `thresholds:` list can point at the exact character.

use std::fmt;

/// A piece of the input with the column it starts at (1-based, in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned {
    pub text: String,
    pub column: usize,
}

/// One `LABEL=VALUE` of a selector. The value may hold the globs `*` and `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Matcher {
    pub label: Spanned,
    pub value: Spanned,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Op {
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = "==")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "==",
            Op::Ne => "!=",
        }
    }

    /// Whether `measured OP limit` holds. NaN never passes.
    pub fn holds(self, measured: f64, limit: f64) -> bool {
        match self {
            Op::Lt => measured < limit,
            Op::Le => measured <= limit,
            Op::Gt => measured > limit,
            Op::Ge => measured >= limit,
            Op::Eq => measured == limit,
            Op::Ne => !measured.is_nan() && measured != limit,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A parsed threshold, not yet checked against the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// The input, trimmed: what reports show.
    pub text: String,
    pub metric: Spanned,
    pub matchers: Vec<Matcher>,
    pub stat: Option<Spanned>,
    pub op: Op,
    /// The number as written (no unit applied yet).
    pub number: f64,
    /// Where the number starts.
    pub number_column: usize,
    /// The duration unit after the number, if any, as written.
    pub unit: Option<(Unit, Spanned)>,
}

/// A duration unit of a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Ns,
    Us,
    Ms,
    S,
}

impl Unit {
    /// What the grammar accepts, for messages.
    pub const WRITTEN: &'static str = "ns, us, µs, ms, s";

    /// Both micro signs are accepted: U+00B5 (what keyboards type) and U+03BC (Greek mu).
    fn parse(s: &str) -> Option<Unit> {
        match s {
            "ns" => Some(Unit::Ns),
            "us" | "\u{b5}s" | "\u{3bc}s" => Some(Unit::Us),
            "ms" => Some(Unit::Ms),
            "s" => Some(Unit::S),
            _ => None,
        }
    }

    /// Nanoseconds in one of this unit.
    pub fn ns(self) -> f64 {
        match self {
            Unit::Ns => 1.0,
            Unit::Us => 1e3,
            Unit::Ms => 1e6,
            Unit::S => 1e9,
        }
    }
}

/// Why a threshold was rejected (syntax here; meaning in the catalogue), with the column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("threshold `{text}`: {}{message}", column.map(|c| format!("column {c}: ")).unwrap_or_default())]
pub struct ThresholdError {
    /// The threshold as written.
    pub text: String,
    /// 1-based character column the problem starts at, when it has one.
    pub column: Option<usize>,
    pub message: String,
}

impl ThresholdError {
    pub(crate) fn at(text: &str, column: usize, message: impl Into<String>) -> Self {
        ThresholdError { text: text.to_string(), column: Some(column), message: message.into() }
    }
}

/// Parse one threshold, e.g. `latency{mechanism=http}.p99 < 50ms`.
pub fn parse(input: &str) -> Result<Threshold, ThresholdError> {
    let text = input.trim();
    let mut p = Parser { text, chars: text.chars().collect(), pos: 0 };
    p.threshold()
}

struct Parser<'a> {
    text: &'a str,
    chars: Vec<char>,
    pos: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Characters of an unquoted label value: Kubernetes names (letters, digits, `-`, `.`,
/// `_`), globs, and `/` `:` for anything path- or port-like.
fn is_value(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '*' | '?' | '/' | ':')
}

impl Parser<'_> {
    fn column(&self) -> usize {
        self.pos + 1
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn err(&self, message: impl Into<String>) -> ThresholdError {
        ThresholdError::at(self.text, self.column(), message)
    }

    /// What is at the current position, for messages: `end of input` or `` `x` ``.
    fn found(&self) -> String {
        match self.peek() {
            None => "the end".to_string(),
            Some(c) => format!("`{c}`"),
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> Spanned {
        let column = self.column();
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        Spanned { text: self.chars[start..self.pos].iter().collect(), column }
    }

    fn ident(&mut self, what: &str) -> Result<Spanned, ThresholdError> {
        if !self.peek().is_some_and(is_ident_start) {
            return Err(self.err(format!("expected {what}, found {}", self.found())));
        }
        Ok(self.take_while(is_ident))
    }

    fn threshold(&mut self) -> Result<Threshold, ThresholdError> {
        if self.chars.is_empty() {
            return Err(ThresholdError {
                text: String::new(),
                column: None,
                message: "empty threshold: write e.g. `dispatch_lag.p99 < 2ms`".into(),
            });
        }
        let metric = self.ident("a metric name (e.g. `latency`)")?;
        let matchers = if self.peek() == Some('{') { self.selector()? } else { Vec::new() };
        let stat = if self.peek() == Some('.') {
            self.pos += 1;
            Some(self.ident("a statistic after `.` (e.g. `p99`)")?)
        } else {
            None
        };
        if self.peek() == Some('{') {
            return Err(self.err(format!(
                "labels go before the statistic: write `{}{{...}}.{}`",
                metric.text,
                stat.as_ref().map_or("p99", |s| s.text.as_str())
            )));
        }
        self.skip_ws();
        let op = self.op()?;
        self.skip_ws();
        let number_column = self.column();
        let number = self.number()?;
        self.skip_ws();
        let unit = if self.peek().is_some_and(|c| c.is_alphabetic()) {
            let written = self.take_while(|c| c.is_alphabetic());
            let Some(unit) = Unit::parse(&written.text) else {
                return Err(ThresholdError::at(
                    self.text,
                    written.column,
                    format!("unknown unit `{}` (units: {})", written.text, Unit::WRITTEN),
                ));
            };
            Some((unit, written))
        } else {
            None
        };
        self.skip_ws();
        if self.pos < self.chars.len() {
            let rest: String = self.chars[self.pos..].iter().collect();
            return Err(self.err(format!("unexpected `{rest}` after the threshold")));
        }
        Ok(Threshold { text: self.text.to_string(), metric, matchers, stat, op, number, number_column, unit })
    }

    fn selector(&mut self) -> Result<Vec<Matcher>, ThresholdError> {
        let open = self.column();
        self.pos += 1; // `{`
        let mut out = Vec::new();
        self.skip_ws();
        if self.peek() == Some('}') {
            return Err(ThresholdError::at(self.text, open, "empty label selector `{}`: remove it or add LABEL=VALUE"));
        }
        loop {
            self.skip_ws();
            let label = self.ident("a label name (e.g. `mechanism`)")?;
            self.skip_ws();
            if self.peek() != Some('=') {
                return Err(self.err(format!("expected `=` after label `{}`, found {}", label.text, self.found())));
            }
            self.pos += 1;
            if self.peek() == Some('=') || self.peek() == Some('~') {
                return Err(self.err("label values are matched with a single `=` (globs `*` and `?` allowed)"));
            }
            self.skip_ws();
            let value = self.label_value(&label.text)?;
            out.push(Matcher { label, value });
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some('}') => {
                    self.pos += 1;
                    return Ok(out);
                }
                None => return Err(ThresholdError::at(self.text, open, "unclosed `{`: add `}` after the labels")),
                Some(_) => return Err(self.err(format!("expected `,` or `}}` in the labels, found {}", self.found()))),
            }
        }
    }

    fn label_value(&mut self, label: &str) -> Result<Spanned, ThresholdError> {
        if self.peek() == Some('"') {
            let column = self.column();
            self.pos += 1;
            let start = self.pos;
            while self.peek().is_some_and(|c| c != '"') {
                self.pos += 1;
            }
            if self.peek() != Some('"') {
                return Err(ThresholdError::at(self.text, column, "unclosed `\"` in a label value"));
            }
            let text: String = self.chars[start..self.pos].iter().collect();
            self.pos += 1;
            if text.is_empty() {
                return Err(ThresholdError::at(self.text, column, format!("empty value for label `{label}`")));
            }
            return Ok(Spanned { text, column });
        }
        let v = self.take_while(is_value);
        if v.text.is_empty() {
            return Err(self.err(format!("expected a value for label `{label}`, found {}", self.found())));
        }
        Ok(v)
    }

    fn op(&mut self) -> Result<Op, ThresholdError> {
        let two: String = self.chars[self.pos..].iter().take(2).collect();
        let (op, len) = match two.as_str() {
            "<=" => (Op::Le, 2),
            ">=" => (Op::Ge, 2),
            "==" => (Op::Eq, 2),
            "!=" => (Op::Ne, 2),
            _ => match self.peek() {
                Some('<') => (Op::Lt, 1),
                Some('>') => (Op::Gt, 1),
                Some('=') => return Err(self.err("use `==` to compare for equality")),
                Some('≤') => return Err(self.err("use `<=` instead of `≤`")),
                Some('≥') => return Err(self.err("use `>=` instead of `≥`")),
                _ => {
                    return Err(self.err(format!("expected an operator (< <= > >= == !=), found {}", self.found())));
                }
            },
        };
        self.pos += len;
        Ok(op)
    }

    fn number(&mut self) -> Result<f64, ThresholdError> {
        let column = self.column();
        if self.peek() == Some('-') {
            return Err(self.err("limits are never negative: every metric is ≥ 0"));
        }
        let int = self.take_while(|c| c.is_ascii_digit());
        if int.text.is_empty() {
            return Err(self.err(format!("expected a number, found {}", self.found())));
        }
        let mut text = int.text;
        if self.peek() == Some('.') {
            self.pos += 1;
            let frac = self.take_while(|c| c.is_ascii_digit());
            if frac.text.is_empty() {
                return Err(self.err("expected digits after the decimal point"));
            }
            text.push('.');
            text.push_str(&frac.text);
        }
        text.parse::<f64>().map_err(|_| ThresholdError::at(self.text, column, format!("`{text}` is not a number")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &Threshold) -> Vec<(String, String)> {
        t.matchers.iter().map(|m| (m.label.text.clone(), m.value.text.clone())).collect()
    }

    #[test]
    fn parses_every_example_of_the_docs() {
        let t = parse("dispatch_lag.p99 < 2ms").unwrap();
        assert_eq!(t.metric.text, "dispatch_lag");
        assert_eq!(t.stat.as_ref().unwrap().text, "p99");
        assert_eq!(t.op, Op::Lt);
        assert_eq!(t.number, 2.0);
        assert_eq!(t.unit.as_ref().unwrap().0, Unit::Ms);

        let t = parse("latency{mechanism=http}.p99 < 50ms").unwrap();
        assert_eq!(labels(&t), vec![("mechanism".into(), "http".into())]);
        assert_eq!(t.stat.unwrap().text, "p99");

        let t = parse("errored == 0").unwrap();
        assert!(t.matchers.is_empty() && t.stat.is_none() && t.unit.is_none());
        assert_eq!(t.op, Op::Eq);

        let t = parse("restarts{pod=web-*} <= 1").unwrap();
        assert_eq!(labels(&t), vec![("pod".into(), "web-*".into())]);
        assert_eq!(t.op, Op::Le);

        let t = parse("failure{probe_type=liveness} == 0").unwrap();
        assert_eq!(labels(&t), vec![("probe_type".into(), "liveness".into())]);

        let t = parse("rate >= 900").unwrap();
        assert_eq!((t.op, t.number), (Op::Ge, 900.0));

        let t = parse("cpu_per_probe.mean < 200us").unwrap();
        assert_eq!(t.unit.unwrap().0, Unit::Us);

        let t = parse("  latency{ mechanism = http , probe_type=\"readiness\" }.p99_9 != 1.5 µs ").unwrap();
        assert_eq!(t.text, "latency{ mechanism = http , probe_type=\"readiness\" }.p99_9 != 1.5 µs");
        assert_eq!(labels(&t), vec![("mechanism".into(), "http".into()), ("probe_type".into(), "readiness".into())]);
        assert_eq!(t.stat.unwrap().text, "p99_9");
        assert_eq!((t.op, t.number), (Op::Ne, 1.5));
        assert_eq!(t.unit.unwrap().1.text, "µs");
        assert_eq!(parse("latency.p99 < 3μs").unwrap().unit.unwrap().0, Unit::Us, "Greek mu");
        assert_eq!(parse("latency.p99 < 3s").unwrap().unit.unwrap().0.ns(), 1e9);
    }

    #[test]
    fn errors_name_the_column() {
        let e = parse("latency.p99 50ms").unwrap_err();
        assert_eq!(e.column, Some(13), "{e}");
        assert!(e.message.contains("expected an operator"), "{e}");

        let e = parse("latency.p99 < fast").unwrap_err();
        assert_eq!(e.column, Some(15));
        assert!(e.to_string().contains("column 15: expected a number, found `f`"), "{e}");

        // `.` belongs to label values (pod names have dots), so the value runs to `p99`.
        let e = parse("latency{mechanism=http.p99 < 1ms").unwrap_err();
        assert_eq!(e.column, Some(28), "{e}");
        assert!(e.message.contains("expected `,` or `}`"), "{e}");

        let e = parse("latency{mechanism=http").unwrap_err();
        assert_eq!(e.column, Some(8), "{e}");
        assert!(e.message.contains("unclosed"), "{e}");

        let e = parse("latency.p99{mechanism=http} < 1ms").unwrap_err();
        assert!(e.message.contains("`latency{...}.p99`"), "{e}");

        let e = parse("errored = 0").unwrap_err();
        assert!(e.message.contains("`==`"), "{e}");

        let e = parse("errored == 0 extra").unwrap_err();
        assert!(e.message.contains("unknown unit `extra` (units: ns, us, µs, ms, s)"), "{e}");
        assert_eq!(e.column, Some(14));

        let e = parse("errored == 0ms )").unwrap_err();
        assert!(e.message.contains("unexpected `)`"), "{e}");
        assert_eq!(e.column, Some(16));

        let e = parse("errored == -1").unwrap_err();
        assert!(e.message.contains("never negative"), "{e}");

        let e = parse("latency{} < 1ms").unwrap_err();
        assert!(e.message.contains("empty label selector"), "{e}");

        let e = parse("latency{pod=~web} < 1ms").unwrap_err();
        assert!(e.message.contains("single `=`"), "{e}");

        assert!(parse("   ").unwrap_err().message.contains("empty threshold"));
        assert!(parse("1latency < 1").unwrap_err().message.contains("expected a metric name"));
        assert!(parse("x < 1.").unwrap_err().message.contains("digits after the decimal point"));
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        // `µ` is two bytes in UTF-8; the column after it must still be right.
        let e = parse("latency{pod=µ}.p99 < 1ms x").unwrap_err();
        assert_eq!(e.column, Some(26), "{e}");
    }

    #[test]
    fn operators_compare() {
        assert!(Op::Lt.holds(1.0, 2.0) && !Op::Lt.holds(2.0, 2.0));
        assert!(Op::Le.holds(2.0, 2.0) && !Op::Le.holds(2.1, 2.0));
        assert!(Op::Gt.holds(3.0, 2.0) && !Op::Gt.holds(2.0, 2.0));
        assert!(Op::Ge.holds(2.0, 2.0) && !Op::Ge.holds(1.9, 2.0));
        assert!(Op::Eq.holds(0.0, 0.0) && !Op::Eq.holds(1.0, 0.0));
        assert!(Op::Ne.holds(1.0, 0.0) && !Op::Ne.holds(0.0, 0.0));
        assert!(!Op::Ne.holds(f64::NAN, 0.0));
        // "never" (infinity) fails an upper bound and passes a lower one.
        assert!(!Op::Lt.holds(f64::INFINITY, 30.0) && Op::Gt.holds(f64::INFINITY, 30.0));
    }
}
