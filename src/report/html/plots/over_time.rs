//! Dispatch lag or latency over time: p50, p99 and max of each 1 s interval of
//! `intervals.hlog`, one small panel per series on a shared y range.

use plotters::prelude::*;

use super::super::figure::{
    self, Figure, LABEL_FONT, LEGEND_WIDTH, LegendEntry, PlotResult, PlotText, TICK_FONT, TITLE_FONT, WIDTH, plot_err,
};
use super::super::hlog_read::IntervalStats;
use super::super::load::{DISPATCH_LAG, RunData};
use super::super::series_ref::SeriesRef;
use super::super::units::{self, TimeUnit};
use super::{capitalise, log_range, log_ticks};

/// Panels beyond this are left out (and the caption says so).
pub const MAX_PANELS: usize = 12;
const PANEL_HEIGHT: u32 = 250;

const P50: RGBColor = RGBColor(31, 119, 180);
const P99: RGBColor = RGBColor(255, 127, 14);
const MAX: RGBColor = RGBColor(214, 39, 40);

struct Panel {
    label: String,
    x_end: f64,
    intervals: Vec<IntervalStats>,
}

/// An interval that starts at or after the window's end holds only probes that finished in
/// the drain: a handful, which would read as a collapse.
pub fn in_window(start_s: f64, window_s: f64) -> bool {
    window_s <= 0.0 || start_s < window_s - 1e-9
}

/// Panel grid: one column up to 3 panels (time axes line up), else two.
pub fn grid(panels: usize) -> (usize, usize) {
    let cols = if panels <= 3 { 1 } else { 2 };
    (panels.div_ceil(cols).max(1), cols)
}

pub fn figure(run: &RunData, refs: &[SeriesRef<'_>], metric: &str) -> PlotResult<Option<Figure>> {
    let mut panels = Vec::new();
    let mut after_window = 0;
    let noop_left_out = refs.iter().any(|r| !r.plots(metric));
    for r in refs.iter().filter(|r| r.plots(metric)) {
        let Some(hlog) = run.phases.get(r.phase_index).and_then(|f| f.hlog.as_ref()) else {
            continue;
        };
        let Some(intervals) = hlog.intervals.get(&format!("{}.{metric}", r.tag)).filter(|v| !v.is_empty()) else {
            continue;
        };
        let (kept, drained): (Vec<IntervalStats>, Vec<IntervalStats>) =
            intervals.iter().partition(|i| in_window(i.start_s, r.phase.duration_s));
        after_window += drained.len();
        if kept.is_empty() {
            continue;
        }
        let last_end = kept.iter().map(|i| i.start_s + i.duration_s).fold(0.0, f64::max);
        let label = if run.multi_phase() { format!("{} — phase {}", r.label, r.phase.name) } else { r.label.clone() };
        panels.push(Panel { label, x_end: last_end.max(r.phase.duration_s).max(1.0), intervals: kept });
    }
    if panels.is_empty() {
        return Ok(None);
    }
    let total = panels.len();
    panels.truncate(MAX_PANELS);
    let values_us = || panels.iter().flat_map(|p| p.intervals.iter()).flat_map(|i| [i.p50_ns, i.p99_ns, i.max_ns]);
    let max_us = values_us().map(|ns| ns as f64 / 1e3).fold(0.0, f64::max);
    let min_us = values_us().filter(|&ns| ns > 0).map(|ns| ns as f64 / 1e3).fold(f64::INFINITY, f64::min);
    let unit = TimeUnit::for_max_us(max_us);
    let (y_lo, y_hi) = log_range(unit.from_us(min_us), unit.from_us(max_us));

    let what = if metric == DISPATCH_LAG { "dispatch lag" } else { "probe latency" };
    let mut caption = format!(
        "For each series, every 1 s interval of intervals.hlog (HdrHistogram V2 interval log, values in ns) is decoded \
         and its p50, p99 and maximum {what} are taken from that interval's histogram alone (never averaged); each point \
         sits at the middle of its interval. x counts from the start of the phase's measured window (warm-up excluded). \
         y is on a log scale, with the same range in every panel."
    );
    if after_window > 0 {
        caption.push_str(&format!(
            " {after_window} interval(s) starting at or after the window's end (probes that finished during the drain) are left out."
        ));
    }
    if noop_left_out {
        caption.push_str(" No-op series are left out: they do no probe work, so they have no service time.");
    }
    if total > panels.len() {
        caption.push_str(&format!(" {} of {total} series shown (the first, in summary order).", panels.len()));
    }
    let text = PlotText {
        id: format!("over-time-{metric}"),
        title: format!("{} per 1 s interval: p50, p99, max", capitalise(what)),
        x_label: "time in measured window (s)".into(),
        y_label: format!("{what} ({}, log scale)", unit.name),
        legend: vec![
            LegendEntry::line("p50 of the interval", P50, 2, false),
            LegendEntry::line("p99 of the interval", P99, 2, false),
            LegendEntry::line("max of the interval", MAX, 1, true),
        ],
        caption,
    };
    let (rows, cols) = grid(panels.len());
    let height = 50 + rows as u32 * PANEL_HEIGHT;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let root = root.titled(&text.title, ("sans-serif", TITLE_FONT)).map_err(plot_err)?;
        let (plot_area, legend_area) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        let cells = plot_area.split_evenly((rows, cols));
        for (panel, cell) in panels.iter().zip(cells.iter()) {
            let mut chart = ChartBuilder::on(cell)
                .caption(&panel.label, ("sans-serif", LABEL_FONT))
                .margin(8)
                .x_label_area_size(44)
                .y_label_area_size(68)
                .build_cartesian_2d(
                    0f64..panel.x_end,
                    (y_lo..y_hi).log_scale().with_key_points(log_ticks(y_lo, y_hi, 5)),
                )
                .map_err(plot_err)?;
            chart
                .configure_mesh()
                .x_desc(text.x_label.as_str())
                .y_desc(text.y_label.as_str())
                .x_labels(8)
                .x_label_formatter(&|x| units::tick(*x))
                .y_label_formatter(&|y| units::tick(*y))
                .label_style(("sans-serif", TICK_FONT))
                .axis_desc_style(("sans-serif", TICK_FONT))
                .light_line_style(WHITE.mix(0.0))
                .bold_line_style(BLACK.mix(0.1))
                .draw()
                .map_err(plot_err)?;
            let at =
                |i: &IntervalStats, ns: u64| (i.start_s + i.duration_s / 2.0, unit.from_us(ns.max(1) as f64 / 1e3));
            let p50: Vec<(f64, f64)> = panel.intervals.iter().map(|i| at(i, i.p50_ns)).collect();
            let p99: Vec<(f64, f64)> = panel.intervals.iter().map(|i| at(i, i.p99_ns)).collect();
            let max: Vec<(f64, f64)> = panel.intervals.iter().map(|i| at(i, i.max_ns)).collect();
            chart.draw_series(LineSeries::new(p99.clone(), P99.stroke_width(2))).map_err(plot_err)?;
            chart.draw_series(p99.iter().map(|&p| Circle::new(p, 2, P99.filled()))).map_err(plot_err)?;
            chart.draw_series(LineSeries::new(p50.clone(), P50.stroke_width(2))).map_err(plot_err)?;
            chart.draw_series(p50.iter().map(|&p| Circle::new(p, 2, P50.filled()))).map_err(plot_err)?;
            // The maximum last: with few probes it equals the p99, and dashes on top keep both visible.
            chart.draw_series(DashedLineSeries::new(max.clone(), 5, 3, MAX.stroke_width(1))).map_err(plot_err)?;
            chart.draw_series(max.iter().map(|&p| Circle::new(p, 2, MAX.filled()))).map_err(plot_err)?;
        }
        figure::draw_legend(&legend_area, &text.legend)?;
        root.present().map_err(plot_err)?;
    }
    Ok(Some(Figure { text, svg }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn drain_intervals_are_outside_the_window() {
        assert!(super::in_window(4.0, 5.0));
        assert!(!super::in_window(5.0, 5.0));
        assert!(super::in_window(7.0, 0.0), "no window known: keep everything");
    }

    #[test]
    fn grids_hold_every_panel() {
        for n in 1..=super::MAX_PANELS {
            let (rows, cols) = super::grid(n);
            assert!(rows * cols >= n && rows * cols < n + cols, "{n} -> {rows}x{cols}");
        }
        assert_eq!(super::grid(3), (3, 1));
        assert_eq!(super::grid(4), (2, 2));
    }
}
