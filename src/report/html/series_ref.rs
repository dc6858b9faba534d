//! The series of a run across its phases, each with the name and colour it has in every
//! plot, so `http.liveness` is the same colour in the distribution, the time plots and the
//! bar chart.

use plotters::style::RGBColor;

use super::figure::colour;
use super::load::RunData;
use super::summary_model::{Phase, Series};

#[derive(Debug, Clone)]
pub struct SeriesRef<'a> {
    pub phase_index: usize,
    pub phase: &'a Phase,
    pub series: &'a Series,
    /// `http.liveness`: the name in file names and `.hlog` tags.
    pub tag: String,
    /// What the plots call it: the tag, with the phase added when the tag alone is ambiguous.
    pub label: String,
    pub colour: RGBColor,
}

impl SeriesRef<'_> {
    /// A no-op series (or a stand-in that ran as one) measures the scheduler alone.
    pub fn is_noop(&self) -> bool {
        self.series.mechanism == "noop"
    }

    /// Whether the series belongs in a plot of `metric`: a no-op probe does no work, so its
    /// "latency" is the clock's resolution, not a service time, and would only stretch the axis.
    pub fn plots(&self, metric: &str) -> bool {
        !(self.is_noop() && metric == super::load::LATENCY)
    }
}

pub fn series_refs(run: &RunData) -> Vec<SeriesRef<'_>> {
    let mut out: Vec<SeriesRef<'_>> = Vec::new();
    for (phase_index, phase) in run.summary.phases.iter().enumerate() {
        for series in &phase.series {
            let tag = series.tag();
            out.push(SeriesRef { phase_index, phase, series, label: tag.clone(), tag, colour: colour(out.len()) });
        }
    }
    let tags: Vec<String> = out.iter().map(|r| r.tag.clone()).collect();
    for r in &mut out {
        if tags.iter().filter(|t| **t == r.tag).count() > 1 {
            r.label = format!("{} ({})", r.tag, r.phase.name);
        }
    }
    out
}
