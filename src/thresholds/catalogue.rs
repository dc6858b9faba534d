//! What can be measured: every metric a threshold may name, its quantity (duration, count,
//! rate), the labels that select it, the statistics it has; and the check that turns a
//! parsed [`Threshold`] into a [`ValidThreshold`] — all before the run starts.

use probebench_targets::behaviour::Glob;

use super::grammar::{Op, Threshold, ThresholdError, Unit};
use crate::measure::Counters;
use crate::measure::hist::Metric;
use crate::sched::MechanismKind;
use crate::spec::ProbeType;
use crate::spec::suggest;

/// What a metric's values are, which decides the unit a limit must carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// Compared in nanoseconds; the limit needs a unit (ns, us, µs, ms, s).
    Duration,
    /// A plain number (probes, restarts ...); the limit has no unit.
    Count,
    /// Probes per second; the limit has no unit.
    Rate,
}

/// A field of [`Counters`] a threshold may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterField {
    Dispatched,
    Probes,
    Success,
    Warning,
    Failure,
    Errored,
    Skipped,
    MissedTicks,
    Overruns,
    Unfinished,
}

impl CounterField {
    pub fn get(self, c: &Counters) -> u64 {
        match self {
            CounterField::Dispatched => c.dispatched,
            CounterField::Probes => c.probes,
            CounterField::Success => c.success,
            CounterField::Warning => c.warning,
            CounterField::Failure => c.failure,
            CounterField::Errored => c.errored,
            CounterField::Skipped => c.skipped,
            CounterField::MissedTicks => c.missed_ticks,
            CounterField::Overruns => c.overruns,
            CounterField::Unfinished => c.unfinished,
        }
    }
}

/// A per-pod or per-container figure of the pod lifecycle (see [`super::LifecycleFacts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleMetric {
    /// Per container: restarts during the run.
    Restarts,
    /// Per container: kills for a failed liveness or startup probe.
    Kills,
    /// Per pod: seconds from the pod's start until it was first Ready.
    TimeToReady,
    /// Per container: seconds from the pod's start until the container was first started.
    TimeToStarted,
    /// Per pod: seconds the pod spent not Ready after first becoming Ready.
    NotReadyTime,
}

/// Where a metric's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A timing histogram of the series (merged across the selected series).
    Histogram(Metric),
    /// A counter of the series, summed across the selected series.
    Counter(CounterField),
    /// Finished probes per measured second, summed across the selected series.
    Rate,
    /// Prober CPU (user+sys, children excluded) per finished probe, from the phase overhead.
    CpuPerProbe,
    Lifecycle(LifecycleMetric),
}

/// A label a selector may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Label {
    /// What ran (`noop` for a stand-in): exec, tcp, http, grpc, noop.
    Mechanism,
    /// liveness, readiness, startup.
    ProbeType,
    /// The scenario phase name.
    Phase,
    Pod,
    Container,
}

impl Label {
    pub const ALL: [Label; 5] = [Label::Mechanism, Label::ProbeType, Label::Phase, Label::Pod, Label::Container];

    pub fn as_str(self) -> &'static str {
        match self {
            Label::Mechanism => "mechanism",
            Label::ProbeType => "probe_type",
            Label::Phase => "phase",
            Label::Pod => "pod",
            Label::Container => "container",
        }
    }

    fn parse(s: &str) -> Option<Label> {
        Label::ALL.into_iter().find(|l| l.as_str() == s)
    }
}

/// A statistic of a distribution (or, for lifecycle metrics, over pods/containers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    P50,
    P90,
    P99,
    P99_9,
    Max,
    Min,
    Mean,
    Sum,
}

impl Stat {
    pub const ALL: [Stat; 8] =
        [Stat::P50, Stat::P90, Stat::P99, Stat::P99_9, Stat::Max, Stat::Min, Stat::Mean, Stat::Sum];

    pub fn as_str(self) -> &'static str {
        match self {
            Stat::P50 => "p50",
            Stat::P90 => "p90",
            Stat::P99 => "p99",
            Stat::P99_9 => "p99_9",
            Stat::Max => "max",
            Stat::Min => "min",
            Stat::Mean => "mean",
            Stat::Sum => "sum",
        }
    }

    /// The quantile of a percentile statistic.
    pub fn quantile(self) -> Option<f64> {
        match self {
            Stat::P50 => Some(0.5),
            Stat::P90 => Some(0.9),
            Stat::P99 => Some(0.99),
            Stat::P99_9 => Some(0.999),
            _ => None,
        }
    }

    fn parse(s: &str) -> Option<Stat> {
        Stat::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// One metric of the catalogue.
#[derive(Debug, PartialEq)]
pub struct MetricDef {
    pub name: &'static str,
    pub source: Source,
    pub quantity: Quantity,
    /// Labels a selector may use with it.
    pub labels: &'static [Label],
    /// Statistics it accepts; empty: it takes none (a count).
    pub stats: &'static [Stat],
    /// The statistic used when none is written; `None` with non-empty `stats`: one is required.
    pub default_stat: Option<Stat>,
    pub help: &'static str,
}

const SERIES_LABELS: &[Label] = &[Label::Mechanism, Label::ProbeType, Label::Phase];
const HIST_STATS: &[Stat] = &[Stat::P50, Stat::P90, Stat::P99, Stat::P99_9, Stat::Max, Stat::Mean];
const CONTAINER_LABELS: &[Label] = &[Label::Pod, Label::Container, Label::Phase];
const POD_LABELS: &[Label] = &[Label::Pod, Label::Phase];
const OVER_PODS_COUNT: &[Stat] =
    &[Stat::Max, Stat::Min, Stat::Sum, Stat::Mean, Stat::P50, Stat::P90, Stat::P99, Stat::P99_9];
const OVER_PODS_TIME: &[Stat] = &[Stat::Max, Stat::Min, Stat::Mean, Stat::P50, Stat::P90, Stat::P99, Stat::P99_9];
const OVER_PODS_TIME_SUM: &[Stat] =
    &[Stat::Max, Stat::Min, Stat::Sum, Stat::Mean, Stat::P50, Stat::P90, Stat::P99, Stat::P99_9];

const fn hist(name: &'static str, m: Metric, help: &'static str) -> MetricDef {
    MetricDef {
        name,
        source: Source::Histogram(m),
        quantity: Quantity::Duration,
        labels: SERIES_LABELS,
        stats: HIST_STATS,
        default_stat: None,
        help,
    }
}

const fn counter(name: &'static str, f: CounterField, help: &'static str) -> MetricDef {
    MetricDef {
        name,
        source: Source::Counter(f),
        quantity: Quantity::Count,
        labels: SERIES_LABELS,
        stats: &[],
        default_stat: None,
        help,
    }
}

const fn lifecycle(
    name: &'static str,
    m: LifecycleMetric,
    quantity: Quantity,
    labels: &'static [Label],
    stats: &'static [Stat],
    help: &'static str,
) -> MetricDef {
    MetricDef { name, source: Source::Lifecycle(m), quantity, labels, stats, default_stat: Some(Stat::Max), help }
}

/// Every metric a threshold may name.
pub static METRICS: &[MetricDef] = &[
    hist("dispatch_lag", Metric::DispatchLag, "actual dispatch − intended time of probes fired by their own tick"),
    hist("overrun_delay", Metric::OverrunDelay, "dispatch − intended time of ticks held back by an overrunning probe"),
    hist("start_lag", Metric::StartLag, "start of the probe's own work − intended time"),
    hist("latency", Metric::Latency, "probe finish − start (service time)"),
    hist("corrected_latency", Metric::CorrectedLatency, "probe finish − intended time"),
    counter("dispatched", CounterField::Dispatched, "ticks on which a worker decided to probe"),
    counter("probes", CounterField::Probes, "finished probes (success + failure + errored)"),
    counter("success", CounterField::Success, "probes the kubelet counts as success (warnings included)"),
    counter("warning", CounterField::Warning, "successes that were warnings (ProbeWarning)"),
    counter("failure", CounterField::Failure, "failed probes"),
    counter("errored", CounterField::Errored, "probes that errored (the kubelet's unknown state)"),
    counter("skipped", CounterField::Skipped, "ticks without a probe (initial delay, startup gating, on hold)"),
    counter("missed_ticks", CounterField::MissedTicks, "ticks dropped while a probe overran"),
    counter("overruns", CounterField::Overruns, "pending ticks fired when an overrunning probe finished"),
    counter("unfinished", CounterField::Unfinished, "probes still in flight at the drain deadline"),
    MetricDef {
        name: "rate",
        source: Source::Rate,
        quantity: Quantity::Rate,
        labels: SERIES_LABELS,
        stats: &[],
        default_stat: None,
        help: "finished probes per measured second",
    },
    MetricDef {
        name: "cpu_per_probe",
        source: Source::CpuPerProbe,
        quantity: Quantity::Duration,
        // The prober's CPU is measured for the whole process, per phase: it has no
        // mechanism or probe type (compare mechanisms with one phase each).
        labels: &[Label::Phase],
        stats: &[Stat::Mean],
        default_stat: Some(Stat::Mean),
        help: "prober CPU time (user+sys, children excluded) per finished probe",
    },
    lifecycle(
        "restarts",
        LifecycleMetric::Restarts,
        Quantity::Count,
        CONTAINER_LABELS,
        OVER_PODS_COUNT,
        "container restarts (default statistic: max over the selected containers)",
    ),
    lifecycle(
        "kills",
        LifecycleMetric::Kills,
        Quantity::Count,
        CONTAINER_LABELS,
        OVER_PODS_COUNT,
        "containers killed for a failed liveness or startup probe (max over containers)",
    ),
    lifecycle(
        "time_to_ready",
        LifecycleMetric::TimeToReady,
        Quantity::Duration,
        POD_LABELS,
        OVER_PODS_TIME,
        "pod start until first Ready (max over the selected pods; never Ready = infinite)",
    ),
    lifecycle(
        "time_to_started",
        LifecycleMetric::TimeToStarted,
        Quantity::Duration,
        CONTAINER_LABELS,
        OVER_PODS_TIME,
        "pod start until the container first started (startup probe passed)",
    ),
    lifecycle(
        "not_ready_time",
        LifecycleMetric::NotReadyTime,
        Quantity::Duration,
        POD_LABELS,
        OVER_PODS_TIME_SUM,
        "time a pod spent not Ready after first becoming Ready (max over pods)",
    ),
];

/// The metrics, plus what the run knows about label values (to catch typos early).
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// The scenario's phase names, when known: a `phase=` value that matches none is an error.
    pub phases: Option<Vec<String>>,
}

impl Catalogue {
    /// The standard catalogue; phase names unchecked.
    pub fn standard() -> Self {
        Catalogue::default()
    }

    /// Also check `phase=` values against these names.
    pub fn with_phases(phases: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Catalogue { phases: Some(phases.into_iter().map(Into::into).collect()) }
    }

    pub fn metric(&self, name: &str) -> Option<&'static MetricDef> {
        METRICS.iter().find(|m| m.name == name)
    }

    pub fn metric_names(&self) -> impl Iterator<Item = &'static str> + Clone {
        METRICS.iter().map(|m| m.name)
    }
}

/// The label matchers of a valid threshold.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    pub matchers: Vec<(Label, Glob)>,
}

impl Selector {
    /// Whether `value` of `label` is selected (no matcher for it: yes).
    pub fn accepts(&self, label: Label, value: &str) -> bool {
        self.matchers.iter().filter(|(l, _)| *l == label).all(|(_, g)| g.matches(value))
    }

    /// Whether the selector names `label`.
    pub fn names(&self, label: Label) -> bool {
        self.matchers.iter().any(|(l, _)| *l == label)
    }

    pub fn is_empty(&self) -> bool {
        self.matchers.is_empty()
    }
}

/// A threshold checked against the catalogue: ready to evaluate.
#[derive(Debug, Clone)]
pub struct ValidThreshold {
    /// As written (trimmed).
    pub text: String,
    pub metric: &'static MetricDef,
    pub selector: Selector,
    /// The statistic written or the metric's default; `None` for counts and rates.
    pub stat: Option<Stat>,
    pub op: Op,
    /// The limit in base units: nanoseconds for durations, plain numbers otherwise.
    pub limit: f64,
}

impl ValidThreshold {
    /// `latency{mechanism=grpc}`: what is measured, for "no probes matched ..." messages.
    pub fn subject(&self) -> String {
        if self.selector.is_empty() {
            return self.metric.name.to_string();
        }
        let labels: Vec<String> =
            self.selector.matchers.iter().map(|(l, g)| format!("{}={}", l.as_str(), g.as_str())).collect();
        format!("{}{{{}}}", self.metric.name, labels.join(","))
    }
}

/// The candidate the user most likely meant: the nearest by edit distance, else the first
/// whose `_`-separated parts include the word or that starts with it (`lag` →
/// `dispatch_lag`, `mech` → `mechanism`), which edit distance alone misses.
fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str> + Clone) -> Option<&'a str> {
    suggest::nearest(word, candidates.clone()).or_else(|| {
        let w = word.to_lowercase();
        (w.chars().count() >= 3)
            .then(|| candidates.into_iter().find(|c| c.starts_with(&w) || c.split('_').any(|part| part == w)))
            .flatten()
    })
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?'])
}

fn list(items: impl IntoIterator<Item = &'static str>) -> String {
    items.into_iter().collect::<Vec<_>>().join(", ")
}

/// Check a parsed threshold: the metric exists, its labels and statistic fit, the limit has
/// the right unit. Messages suggest the nearest name for a typo.
pub fn validate(t: &Threshold, catalogue: &Catalogue) -> Result<ValidThreshold, ThresholdError> {
    let at = |column: usize, message: String| ThresholdError::at(&t.text, column, message);
    let Some(def) = catalogue.metric(&t.metric.text) else {
        let hint = match nearest(&t.metric.text, catalogue.metric_names()) {
            Some(n) => format!("; did you mean `{n}`?"),
            None => format!("; metrics: {}", list(catalogue.metric_names())),
        };
        return Err(at(t.metric.column, format!("unknown metric `{}`{hint}", t.metric.text)));
    };

    let mut selector = Selector::default();
    for m in &t.matchers {
        let Some(label) = Label::parse(&m.label.text) else {
            let hint = match nearest(&m.label.text, Label::ALL.iter().map(|l| l.as_str())) {
                Some(n) => format!("; did you mean `{n}`?"),
                None => format!("; labels of `{}`: {}", def.name, list(def.labels.iter().map(|l| l.as_str()))),
            };
            return Err(at(m.label.column, format!("unknown label `{}`{hint}", m.label.text)));
        };
        if !def.labels.contains(&label) {
            let why = match def.source {
                Source::CpuPerProbe => " (the prober's CPU is measured per phase, for the whole process)",
                Source::Lifecycle(_) => " (it is a pod lifecycle figure)",
                _ => " (it is a probe series figure)",
            };
            return Err(at(
                m.label.column,
                format!(
                    "`{}` cannot be selected by `{}`{why}; its labels: {}",
                    def.name,
                    label.as_str(),
                    list(def.labels.iter().map(|l| l.as_str()))
                ),
            ));
        }
        if selector.names(label) {
            return Err(at(m.label.column, format!("label `{}` given twice", label.as_str())));
        }
        check_value(label, &m.value.text, catalogue).map_err(|msg| at(m.value.column, msg))?;
        selector.matchers.push((label, Glob::new(m.value.text.clone())));
    }

    let stat = match &t.stat {
        Some(s) => {
            if def.stats.is_empty() {
                return Err(at(
                    s.column - 1,
                    format!("`{}` is a single number and takes no statistic: remove `.{}`", def.name, s.text),
                ));
            }
            match Stat::parse(&s.text).filter(|x| def.stats.contains(x)) {
                Some(x) => Some(x),
                None => {
                    let names = def.stats.iter().map(|x| x.as_str());
                    let hint =
                        nearest(&s.text, names.clone()).map(|n| format!("did you mean `{n}`? ")).unwrap_or_default();
                    return Err(at(
                        s.column,
                        format!("unknown statistic `{}` for `{}`; {hint}statistics: {}", s.text, def.name, list(names)),
                    ));
                }
            }
        }
        None if !def.stats.is_empty() && def.default_stat.is_none() => {
            return Err(at(
                t.metric.column,
                format!(
                    "`{}` is a distribution: add a statistic ({}), e.g. `{}.p99`",
                    def.name,
                    list(def.stats.iter().map(|x| x.as_str())),
                    def.name
                ),
            ));
        }
        None => def.default_stat,
    };

    let limit = match (def.quantity, &t.unit) {
        (Quantity::Duration, Some((unit, _))) => t.number * unit.ns(),
        (Quantity::Duration, None) => {
            return Err(at(
                t.number_column,
                format!(
                    "`{}` is a duration: give the limit a unit ({}), e.g. `{} {} {}ms`",
                    def.name,
                    Unit::WRITTEN,
                    subject_as_written(t),
                    t.op,
                    t.number
                ),
            ));
        }
        (Quantity::Count | Quantity::Rate, Some((_, written))) => {
            let what = if def.quantity == Quantity::Rate { "in probes per second" } else { "a count" };
            return Err(at(
                written.column,
                format!(
                    "`{}` is {what}, not a duration: remove the unit `{}`, e.g. `{} {} {}`",
                    def.name,
                    written.text,
                    subject_as_written(t),
                    t.op,
                    t.number
                ),
            ));
        }
        (Quantity::Count | Quantity::Rate, None) => t.number,
    };

    Ok(ValidThreshold { text: t.text.clone(), metric: def, selector, stat, op: t.op, limit })
}

/// The threshold's text before the operator, for "write it like this" examples.
fn subject_as_written(t: &Threshold) -> String {
    let end = t.text.find(['<', '>', '=', '!']).unwrap_or(t.text.len());
    t.text[..end].trim_end().to_string()
}

/// Label values with a closed vocabulary are checked (a glob is taken as is).
fn check_value(label: Label, value: &str, catalogue: &Catalogue) -> Result<(), String> {
    if has_glob(value) {
        return Ok(());
    }
    let known: Vec<&str> = match label {
        Label::Mechanism => MechanismKind::ALL.iter().map(|k| k.as_str()).collect(),
        Label::ProbeType => ProbeType::ALL.iter().map(|p| p.as_str()).collect(),
        Label::Phase => match &catalogue.phases {
            Some(p) => p.iter().map(String::as_str).collect(),
            None => return Ok(()),
        },
        Label::Pod | Label::Container => return Ok(()),
    };
    if known.contains(&value) {
        return Ok(());
    }
    let hint = match nearest(value, known.iter().copied()) {
        Some(n) => format!("; did you mean `{n}`?"),
        None => format!("; known: {}", known.join(", ")),
    };
    Err(format!("unknown {} `{value}`{hint}", label.as_str().replace('_', " ")))
}

/// Parse and validate one threshold.
pub fn parse_and_validate(text: &str, catalogue: &Catalogue) -> Result<ValidThreshold, ThresholdError> {
    validate(&super::grammar::parse(text)?, catalogue)
}

/// Parse and validate a scenario's list; every bad entry is reported.
pub fn validate_all<S: AsRef<str>>(
    texts: &[S],
    catalogue: &Catalogue,
) -> Result<Vec<ValidThreshold>, Vec<ThresholdError>> {
    let mut ok = Vec::new();
    let mut errs = Vec::new();
    for t in texts {
        match parse_and_validate(t.as_ref(), catalogue) {
            Ok(v) => ok.push(v),
            Err(e) => errs.push(e),
        }
    }
    if errs.is_empty() { Ok(ok) } else { Err(errs) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &str) -> Result<ValidThreshold, ThresholdError> {
        parse_and_validate(s, &Catalogue::standard())
    }

    fn err(s: &str) -> ThresholdError {
        match check(s) {
            Ok(v) => panic!("`{s}` should be rejected, got {v:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn the_docs_examples_are_valid_with_limits_in_base_units() {
        let v = check("dispatch_lag.p99 < 2ms").unwrap();
        assert_eq!((v.metric.name, v.stat, v.limit), ("dispatch_lag", Some(Stat::P99), 2e6));
        let v = check("latency{mechanism=http}.p99 < 50ms").unwrap();
        assert!(v.selector.accepts(Label::Mechanism, "http") && !v.selector.accepts(Label::Mechanism, "grpc"));
        assert_eq!(v.subject(), "latency{mechanism=http}");
        let v = check("errored == 0").unwrap();
        assert_eq!((v.stat, v.limit), (None, 0.0));
        let v = check("restarts{pod=web-*} <= 1").unwrap();
        assert_eq!(v.stat, Some(Stat::Max), "per-pod figures default to the worst pod");
        assert!(v.selector.accepts(Label::Pod, "web-3") && !v.selector.accepts(Label::Pod, "db-0"));
        check("failure{probe_type=liveness} == 0").unwrap();
        assert_eq!(check("rate >= 900").unwrap().limit, 900.0);
        let v = check("cpu_per_probe.mean < 200us").unwrap();
        assert_eq!((v.stat, v.limit), (Some(Stat::Mean), 200e3));
        assert_eq!(check("cpu_per_probe < 1.5us").unwrap().limit, 1500.0);
        assert_eq!(check("time_to_ready.p90 < 30s").unwrap().limit, 30e9);
        check("not_ready_time{phase=steady}.sum < 1s").unwrap();
    }

    #[test]
    fn a_typo_gets_the_nearest_metric() {
        let e = err("lag.p99 < 2ms");
        assert_eq!(e.message, "unknown metric `lag`; did you mean `dispatch_lag`?");
        assert_eq!(e.column, Some(1));
        assert!(err("latncy.p99 < 2ms").message.contains("did you mean `latency`?"));
        let e = err("banana < 2");
        assert!(e.message.contains("metrics: dispatch_lag, overrun_delay"), "{e}");
    }

    #[test]
    fn units_must_fit_the_quantity() {
        let e = err("dispatch_lag.p99 < 2");
        assert!(e.message.contains("`dispatch_lag` is a duration: give the limit a unit"), "{e}");
        assert!(e.message.contains("e.g. `dispatch_lag.p99 < 2ms`"), "{e}");
        assert_eq!(e.column, Some(20));
        let e = err("errored == 5ms");
        assert!(e.message.contains("`errored` is a count, not a duration: remove the unit `ms`"), "{e}");
        assert!(e.message.contains("e.g. `errored == 5`"), "{e}");
        assert_eq!(e.column, Some(13));
        let e = err("rate >= 900s");
        assert!(e.message.contains("in probes per second"), "{e}");
        assert!(err("restarts{pod=web-*} <= 1s").message.contains("is a count"));
    }

    #[test]
    fn statistics_must_fit_the_metric() {
        let e = err("latency < 5ms");
        assert!(e.message.contains("`latency` is a distribution: add a statistic"), "{e}");
        let e = err("latency.p95 < 5ms");
        assert!(e.message.contains("unknown statistic `p95` for `latency`"), "{e}");
        assert!(e.message.contains("did you mean `p99`?") || e.message.contains("did you mean `p90`?"), "{e}");
        assert_eq!(e.column, Some(9));
        let e = err("errored.mean == 0");
        assert!(e.message.contains("takes no statistic: remove `.mean`"), "{e}");
        assert!(err("latency.sum < 5ms").message.contains("statistics: p50, p90"));
        assert!(err("cpu_per_probe.p99 < 5us").message.contains("statistics: mean"));
    }

    #[test]
    fn labels_must_fit_the_metric() {
        let e = err("latency{mech=http}.p99 < 5ms");
        assert_eq!(e.message, "unknown label `mech`; did you mean `mechanism`?");
        assert_eq!(e.column, Some(9));
        let e = err("cpu_per_probe{mechanism=http} < 5us");
        assert!(e.message.contains("cannot be selected by `mechanism`"), "{e}");
        assert!(e.message.contains("per phase"), "{e}");
        let e = err("restarts{mechanism=http} <= 1");
        assert!(e.message.contains("its labels: pod, container, phase"), "{e}");
        assert!(err("latency{pod=web-1}.p99 < 5ms").message.contains("probe series figure"));
        let e = err("latency{mechanism=http,mechanism=grpc}.p99 < 5ms");
        assert!(e.message.contains("given twice"), "{e}");
    }

    #[test]
    fn closed_label_values_are_checked_but_globs_pass() {
        let e = err("latency{mechanism=htp}.p99 < 5ms");
        assert_eq!(e.message, "unknown mechanism `htp`; did you mean `http`?");
        assert_eq!(e.column, Some(19));
        let e = err("failure{probe_type=Liveness} == 0");
        assert!(e.message.contains("did you mean `liveness`?"), "{e}");
        check("latency{mechanism=h*}.p99 < 5ms").unwrap();
        // Phases: unchecked unless the catalogue knows them.
        check("rate{phase=warm} > 1").unwrap();
        let cat = Catalogue::with_phases(["steady", "burst"]);
        let e = parse_and_validate("rate{phase=stedy} > 1", &cat).unwrap_err();
        assert!(e.message.contains("unknown phase `stedy`; did you mean `steady`?"), "{e}");
        parse_and_validate("rate{phase=steady} > 1", &cat).unwrap();
    }

    #[test]
    fn validate_all_reports_every_bad_entry() {
        let errs =
            validate_all(&["lag.p99 < 1ms", "errored == 0", "latency < 1ms"], &Catalogue::standard()).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert!(errs[0].to_string().starts_with("threshold `lag.p99 < 1ms`: column 1: unknown metric"));
        let ok = validate_all(&["errored == 0", "rate > 1"], &Catalogue::standard()).unwrap();
        assert_eq!(ok.len(), 2);
    }
}
