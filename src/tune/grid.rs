//! The settings the tuner tries: a grid over the probes' fields, by default derived from the
//! manifest's own values and the app's startup time, overridable with `--sweep`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::spec::{Container, Probe, ProbeType};

/// The tunable fields of one probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeSettings {
    pub period_seconds: i32,
    pub timeout_seconds: i32,
    pub failure_threshold: i32,
    pub success_threshold: i32,
    pub initial_delay_seconds: i32,
}

impl ProbeSettings {
    pub fn of(p: &Probe) -> Self {
        ProbeSettings {
            period_seconds: p.period_seconds,
            timeout_seconds: p.timeout_seconds,
            failure_threshold: p.failure_threshold,
            success_threshold: p.success_threshold,
            initial_delay_seconds: p.initial_delay_seconds,
        }
    }

    fn apply(&self, p: &mut Probe) {
        p.period_seconds = self.period_seconds;
        p.timeout_seconds = self.timeout_seconds;
        p.failure_threshold = self.failure_threshold;
        p.success_threshold = self.success_threshold;
        p.initial_delay_seconds = self.initial_delay_seconds;
    }

    /// The start this probe is sure to tolerate before it kills: its first run may come
    /// right at the start, so initialDelay + (failureThreshold − 1) × period.
    pub fn startup_budget_s(&self) -> i64 {
        i64::from(self.initial_delay_seconds) + i64::from(self.failure_threshold - 1) * i64::from(self.period_seconds)
    }
}

/// One candidate: the settings of each probe type (None: no such probe).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Setting {
    pub liveness: Option<ProbeSettings>,
    pub readiness: Option<ProbeSettings>,
    pub startup: Option<ProbeSettings>,
}

impl Setting {
    pub fn of(c: &Container) -> Self {
        Setting {
            liveness: c.liveness_probe.as_ref().map(ProbeSettings::of),
            readiness: c.readiness_probe.as_ref().map(ProbeSettings::of),
            startup: c.startup_probe.as_ref().map(ProbeSettings::of),
        }
    }

    pub fn get(&self, t: ProbeType) -> Option<&ProbeSettings> {
        match t {
            ProbeType::Liveness => self.liveness.as_ref(),
            ProbeType::Readiness => self.readiness.as_ref(),
            ProbeType::Startup => self.startup.as_ref(),
        }
    }

    fn get_mut(&mut self, t: ProbeType) -> &mut Option<ProbeSettings> {
        match t {
            ProbeType::Liveness => &mut self.liveness,
            ProbeType::Readiness => &mut self.readiness,
            ProbeType::Startup => &mut self.startup,
        }
    }

    /// The container with these settings. A startup probe that the manifest lacks is added
    /// with the liveness probe's handler (the usual way to protect a slow start).
    pub fn apply(&self, c: &Container) -> Container {
        let mut c = c.clone();
        for t in ProbeType::ALL {
            let Some(s) = self.get(t) else {
                *probe_slot(&mut c, t) = None;
                continue;
            };
            let template =
                c.probe(t).cloned().or_else(|| c.liveness_probe.clone()).or_else(|| c.readiness_probe.clone());
            if let Some(mut p) = template {
                s.apply(&mut p);
                if t != ProbeType::Liveness {
                    p.termination_grace_period_seconds =
                        if t == ProbeType::Startup { p.termination_grace_period_seconds } else { None };
                }
                *probe_slot(&mut c, t) = Some(p);
            }
        }
        c
    }

    /// A short label: `L 10s/1s×3 · S 10s×30`.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        for (t, name) in [(ProbeType::Liveness, "L"), (ProbeType::Readiness, "R"), (ProbeType::Startup, "S")] {
            if let Some(s) = self.get(t) {
                let mut p = format!("{name} {}s/{}s×{}", s.period_seconds, s.timeout_seconds, s.failure_threshold);
                if s.success_threshold != 1 {
                    p.push_str(&format!(" ok×{}", s.success_threshold));
                }
                if s.initial_delay_seconds != 0 {
                    p.push_str(&format!(" +{}s", s.initial_delay_seconds));
                }
                parts.push(p);
            }
        }
        if parts.is_empty() { "no probes".to_string() } else { parts.join(" · ") }
    }
}

fn probe_slot(c: &mut Container, t: ProbeType) -> &mut Option<Probe> {
    match t {
        ProbeType::Liveness => &mut c.liveness_probe,
        ProbeType::Readiness => &mut c.readiness_probe,
        ProbeType::Startup => &mut c.startup_probe,
    }
}

/// A field the grid varies: `liveness.periodSeconds` … or `startup` as a whole.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dimension {
    Field(ProbeType, Field),
    /// A startup probe: none, or `PERIODxFAILURES` with the liveness handler.
    Startup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    Period,
    Timeout,
    Failure,
    Success,
    InitialDelay,
}

/// A value of the `startup` dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartupChoice {
    None,
    Probe { period: i32, failures: i32 },
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("--sweep {0}")]
pub struct SweepError(pub String);

const FIELDS: &[(&str, Field)] = &[
    ("periodSeconds", Field::Period),
    ("timeoutSeconds", Field::Timeout),
    ("failureThreshold", Field::Failure),
    ("successThreshold", Field::Success),
    ("initialDelaySeconds", Field::InitialDelay),
];

/// The grid: for each dimension, the values to try.
#[derive(Debug, Clone, Default)]
pub struct Grid {
    pub fields: BTreeMap<(u8, Field), Vec<i32>>,
    pub startup: Option<Vec<StartupChoice>>,
}

fn type_key(t: ProbeType) -> u8 {
    t as u8
}

fn type_of(key: u8) -> ProbeType {
    ProbeType::ALL[key as usize]
}

impl Grid {
    /// Parse one `--sweep` argument: `liveness.periodSeconds=5,10,20` or
    /// `startup=none,10x30`.
    pub fn set(&mut self, arg: &str) -> Result<(), SweepError> {
        let (key, values) = arg.split_once('=').ok_or_else(|| SweepError(format!("{arg:?}: expected KEY=V1,V2,…")))?;
        if key == "startup" {
            let mut choices = Vec::new();
            for v in values.split(',') {
                let v = v.trim();
                if v == "none" {
                    choices.push(StartupChoice::None);
                    continue;
                }
                let (p, f) = v
                    .split_once('x')
                    .and_then(|(p, f)| Some((p.trim_end_matches('s').parse().ok()?, f.parse().ok()?)))
                    .filter(|(p, f): &(i32, i32)| *p >= 1 && *f >= 1)
                    .ok_or_else(|| {
                        SweepError(format!("startup value {v:?}: expected none or PERIODxFAILURES, e.g. 10x30"))
                    })?;
                choices.push(StartupChoice::Probe { period: p, failures: f });
            }
            self.startup = Some(choices);
            return Ok(());
        }
        let (probe, field) = key.split_once('.').ok_or_else(|| SweepError(format!("{key:?}: expected PROBE.FIELD")))?;
        let t = match probe {
            "liveness" => ProbeType::Liveness,
            "readiness" => ProbeType::Readiness,
            "startup" => ProbeType::Startup,
            _ => return Err(SweepError(format!("{probe:?}: expected liveness, readiness or startup"))),
        };
        let field = FIELDS.iter().find(|(n, _)| *n == field).map(|(_, f)| *f).ok_or_else(|| {
            let names: Vec<&str> = FIELDS.iter().map(|(n, _)| *n).collect();
            let hint = crate::spec::suggest::nearest(field, names.iter().copied())
                .map_or(String::new(), |n| format!(", did you mean {n:?}?"));
            SweepError(format!("{field:?} is not a probe field{hint}"))
        })?;
        let min = if matches!(field, Field::InitialDelay) { 0 } else { 1 };
        let mut list = Vec::new();
        for v in values.split(',') {
            let n: i32 = v
                .trim()
                .trim_end_matches('s')
                .parse()
                .map_err(|_| SweepError(format!("{key}: {v:?} is not a whole number")))?;
            if n < min {
                return Err(SweepError(format!("{key}: {n} is below the minimum {min}")));
            }
            if field == Field::Success && t != ProbeType::Readiness && n != 1 {
                return Err(SweepError(format!("{key}: must be 1 for {probe} probes")));
            }
            list.push(n);
        }
        list.sort_unstable();
        list.dedup();
        self.fields.insert((type_key(t), field), list);
        Ok(())
    }

    /// The default grid for a container: around its current liveness values (or readiness
    /// when it has no liveness probe), and a startup probe sized to the app's slowest start
    /// when the current settings would cut it short.
    pub fn default_for(current: &Setting, slowest_start_s: f64) -> Grid {
        let mut g = Grid::default();
        let (t, s) = match (&current.liveness, &current.readiness) {
            (Some(l), _) => (ProbeType::Liveness, *l),
            (None, Some(r)) => (ProbeType::Readiness, *r),
            (None, None) => return g,
        };
        let mut periods = vec![s.period_seconds, 5, 10, 15, 30];
        let mut timeouts = vec![s.timeout_seconds, 1, 2, 5];
        let mut failures = vec![s.failure_threshold, 1, 2, 3, 6];
        for v in [&mut periods, &mut timeouts, &mut failures] {
            v.sort_unstable();
            v.dedup();
        }
        g.fields.insert((type_key(t), Field::Period), periods);
        g.fields.insert((type_key(t), Field::Timeout), timeouts);
        g.fields.insert((type_key(t), Field::Failure), failures);
        if t == ProbeType::Liveness {
            let now = current.startup.map_or(StartupChoice::None, |s| StartupChoice::Probe {
                period: s.period_seconds,
                failures: s.failure_threshold,
            });
            let tolerated = current.startup.map_or(s.startup_budget_s(), |st| st.startup_budget_s()) as f64;
            let mut choices = vec![now];
            if slowest_start_s > tolerated * 0.8 {
                // Enough attempts at 10 s to cover the slowest start half again.
                let failures = ((slowest_start_s * 1.5) / 10.0).ceil().max(2.0) as i32 + 1;
                let proposal = StartupChoice::Probe { period: 10, failures };
                if proposal != now {
                    choices.push(proposal);
                }
            }
            g.startup = Some(choices);
        }
        g
    }

    /// Every combination, the current setting first.
    pub fn candidates(&self, current: &Setting) -> Vec<Setting> {
        let mut out = vec![current.clone()];
        let mut partial = vec![current.clone()];
        for ((tk, field), values) in &self.fields {
            let t = type_of(*tk);
            let mut next = Vec::new();
            for base in &partial {
                for &v in values {
                    let mut s = base.clone();
                    let slot = s.get_mut(t);
                    let ps = slot.get_or_insert(ProbeSettings {
                        period_seconds: 10,
                        timeout_seconds: 1,
                        failure_threshold: 3,
                        success_threshold: 1,
                        initial_delay_seconds: 0,
                    });
                    match field {
                        Field::Period => ps.period_seconds = v,
                        Field::Timeout => ps.timeout_seconds = v,
                        Field::Failure => ps.failure_threshold = v,
                        Field::Success => ps.success_threshold = v,
                        Field::InitialDelay => ps.initial_delay_seconds = v,
                    }
                    next.push(s);
                }
            }
            partial = next;
        }
        if let Some(choices) = &self.startup {
            let mut next = Vec::new();
            for base in &partial {
                for c in choices {
                    let mut s = base.clone();
                    s.startup = match c {
                        StartupChoice::None => None,
                        StartupChoice::Probe { period, failures } => Some(ProbeSettings {
                            period_seconds: *period,
                            timeout_seconds: base.liveness.map_or(1, |l| l.timeout_seconds),
                            failure_threshold: *failures,
                            success_threshold: 1,
                            initial_delay_seconds: 0,
                        }),
                    };
                    next.push(s);
                }
            }
            partial = next;
        }
        for s in partial {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn current() -> Setting {
        Setting {
            liveness: Some(ProbeSettings {
                period_seconds: 10,
                timeout_seconds: 1,
                failure_threshold: 3,
                success_threshold: 1,
                initial_delay_seconds: 0,
            }),
            readiness: None,
            startup: None,
        }
    }

    #[test]
    fn default_grid_is_about_a_hundred_and_starts_with_the_current() {
        let g = Grid::default_for(&current(), 90.0);
        let c = g.candidates(&current());
        assert_eq!(c[0], current());
        assert!((40..=130).contains(&c.len()), "{}", c.len());
        assert!(c.iter().any(|s| s.startup.is_some()), "a slow start proposes a startup probe");
        let fast = Grid::default_for(&current(), 5.0).candidates(&current());
        assert!(fast.iter().all(|s| s.startup.is_none()));
    }

    #[test]
    fn sweep_arguments() {
        let mut g = Grid::default();
        g.set("liveness.periodSeconds=5,10,10,20").unwrap();
        g.set("startup=none,10x30").unwrap();
        assert_eq!(g.candidates(&current()).len(), 1 + 3 * 2 - 1, "the current setting is not repeated");
        assert!(g.set("liveness.periodSecond=5").unwrap_err().0.contains("did you mean \"periodSeconds\""));
        assert!(g.set("liveness.successThreshold=2").is_err());
        assert!(g.set("liveness.timeoutSeconds=0").is_err());
        assert!(g.set("startup=10by30").is_err());
    }
}
