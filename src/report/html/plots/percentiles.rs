//! Percentile distribution per series, on the HdrHistogram plotter's axis (x = 1/(1−p), log),
//! with the noop calibration floor dashed beside the dispatch lag.

use plotters::prelude::*;

use super::super::figure::{
    self, Figure, LABEL_FONT, LEGEND_WIDTH, LegendEntry, PlotResult, PlotText, TICK_FONT, TITLE_FONT, WIDTH, plot_err,
};
use super::super::load::{DISPATCH_LAG, RunData};
use super::super::percentile_axis;
use super::super::series_ref::SeriesRef;
use super::super::units::{self, TimeUnit};
use super::{capitalise, log_range, log_ticks};
use crate::report::run_table::fmt_us;

/// One line of the plot: points (1/(1−p), value µs).
#[derive(Debug, Clone)]
pub struct Curve {
    pub label: String,
    pub colour: RGBColor,
    pub dashed: bool,
    pub points: Vec<(f64, f64)>,
}

/// Points (1/(1−p), µs) of a histogram in nanoseconds, stepped as `.hgrm` files are (5 ticks
/// per half distance), for series whose `.hgrm` was not written.
pub fn points_of_histogram(h: &hdrhistogram::Histogram<u64>) -> Vec<(f64, f64)> {
    h.iter_quantiles(crate::report::hgrm::TICKS_PER_HALF_DISTANCE)
        .filter(|v| v.quantile_iterated_to() < 1.0)
        .map(|v| (percentile_axis::position(v.quantile_iterated_to()), v.value_iterated_to() as f64 / 1e3))
        .collect()
}

fn series_curve(run: &RunData, r: &SeriesRef<'_>, metric: &str) -> Option<(Curve, &'static str)> {
    let files = run.phases.get(r.phase_index)?;
    let (points, source) = match files.hgrm.get(&(r.tag.clone(), metric.to_string())) {
        Some(h) => (h.tail_points(), "hgrm"),
        None => {
            let merged = files.hlog.as_ref()?.merged.get(&format!("{}.{metric}", r.tag))?;
            (points_of_histogram(merged), "hlog")
        }
    };
    // Zero values cannot sit on a log axis; they are the histogram's lowest bucket anyway.
    let points: Vec<(f64, f64)> = points.into_iter().filter(|p| p.1 > 0.0).collect();
    if points.is_empty() {
        return None;
    }
    let label = if r.is_noop() { format!("{} (no-op)", r.label) } else { r.label.clone() };
    Some((Curve { label, colour: r.colour, dashed: r.is_noop(), points }, source))
}

/// The calibration floors of the phases (dispatch lag of no-op probes fired by the same
/// workers just before the phase): summary.json keeps p50, p90, p99 and p99.9.
fn floor_curves(run: &RunData, refs: &[SeriesRef<'_>]) -> Vec<Curve> {
    let multi = run.multi_phase();
    let mut out = Vec::new();
    for (i, phase) in run.summary.phases.iter().enumerate() {
        let Some(c) = phase.calibration.as_ref().filter(|c| c.dispatch_lag.count > 0) else {
            continue;
        };
        let lag = c.dispatch_lag;
        let in_phase: Vec<&SeriesRef<'_>> = refs.iter().filter(|r| r.phase_index == i).collect();
        let colour = if in_phase.len() == 1 { in_phase[0].colour } else { BLACK };
        let points: Vec<(f64, f64)> = [(0.5, lag.p50_us), (0.9, lag.p90_us), (0.99, lag.p99_us), (0.999, lag.p99_9_us)]
            .into_iter()
            .filter(|(_, v)| *v > 0.0)
            .map(|(p, v)| (percentile_axis::position(p), v))
            .collect();
        let label = if multi { format!("noop floor, {}", phase.name) } else { "noop floor (calibration)".to_string() };
        out.push(Curve { label, colour, dashed: true, points });
    }
    out
}

/// Where the value axis may start: a third of the lowest median of the curves (their first
/// point at or past 50%), so the body and the tail get the room, not the minimum.
pub fn y_floor_us(curves: &[Curve]) -> f64 {
    curves
        .iter()
        .filter_map(|c| c.points.iter().find(|p| p.0 >= 2.0 - 1e-9).map(|p| p.1 / 3.0))
        .fold(f64::INFINITY, f64::min)
}

pub fn figure(run: &RunData, refs: &[SeriesRef<'_>], metric: &str) -> PlotResult<Option<Figure>> {
    let mut curves = Vec::new();
    let mut from_hlog = Vec::new();
    let mut missing = Vec::new();
    let noop_left_out = refs.iter().any(|r| !r.plots(metric));
    for r in refs.iter().filter(|r| r.plots(metric)) {
        match series_curve(run, r, metric) {
            Some((c, source)) => {
                if source == "hlog" {
                    from_hlog.push(r.label.clone());
                }
                curves.push(c);
            }
            None => missing.push(r.label.clone()),
        }
    }
    if curves.is_empty() {
        return Ok(None);
    }
    let is_lag = metric == DISPATCH_LAG;
    if is_lag {
        curves.extend(floor_curves(run, refs));
    }
    let all = || curves.iter().flat_map(|c| c.points.iter());
    let max_us = all().map(|p| p.1).fold(0.0, f64::max);
    let min_us = all().map(|p| p.1).fold(f64::INFINITY, f64::min);
    // The lowest percentiles of a log axis can reach far below everything else (a probe
    // dispatched 0.3 µs after its tick); the axis starts near the lowest median instead.
    let floor_us = y_floor_us(&curves).max(min_us);
    let furthest = all().map(|p| p.0).fold(1.0, f64::max);
    let unit = TimeUnit::for_max_us(max_us);
    let x_end = percentile_axis::axis_end(furthest);
    let (y_lo, y_hi) = log_range(unit.from_us(floor_us), unit.from_us(max_us));

    let what = if is_lag { "dispatch lag" } else { "probe latency" };
    let mut caption = if is_lag {
        "Dispatch lag (actual dispatch − intended time) of the probes fired by their own tick in the measured window, per series. ".to_string()
    } else {
        "Probe latency (finish − start of the probe's own work, the service time) in the measured window, per series. "
            .to_string()
    };
    caption.push_str(
        "Percentiles from the merged HDR histogram of the window (3 significant digits), read from the series' .hgrm file \
         (HdrHistogram's percentile iteration, 5 ticks per half distance). x is 1/(1−p) on a log scale, so each further nine \
         gets the same width; y is on a log scale. The 100% row (the maximum) has no place on this axis: see the tables.",
    );
    if is_lag {
        caption.push_str(
            " Dashed: the noop floor, the dispatch lag of the same workers firing no-op probes during the calibration before \
             the phase (its p50, p90, p99 and p99.9 from summary.json) — what scheduling costs with no probe work at all.",
        );
    } else {
        caption.push_str(" No floor is drawn: the calibration measures dispatch lag only.");
    }
    let axis_floor_us = y_lo * unit.us;
    if min_us < axis_floor_us {
        caption.push_str(&format!(
            " Values below {} (the lowest percentiles, down to {}) are drawn on the bottom edge.",
            fmt_us(axis_floor_us),
            fmt_us(min_us),
        ));
    }
    if !from_hlog.is_empty() {
        caption.push_str(&format!(
            " No .hgrm file for {}: drawn from the merged intervals.hlog instead.",
            from_hlog.join(", ")
        ));
    }
    if !missing.is_empty() {
        caption.push_str(&format!(" No {what} recorded for {}.", missing.join(", ")));
    }
    if noop_left_out {
        caption.push_str(" No-op series are left out: they do no probe work, so they have no service time.");
    }
    let text = PlotText {
        id: format!("distribution-{metric}"),
        title: format!("{} percentile distribution by series", capitalise(what)),
        x_label: "percentile (log scale of 1/(1−p))".into(),
        y_label: format!("{what} ({}, log scale)", unit.name),
        legend: curves.iter().map(|c| LegendEntry::line(c.label.clone(), c.colour, 2, c.dashed)).collect(),
        caption,
    };
    let height = 520u32.max(figure::legend_height(text.legend.len()) + 60);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let root = root.titled(&text.title, ("sans-serif", TITLE_FONT)).map_err(plot_err)?;
        let (plot_area, legend_area) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        let mut chart = ChartBuilder::on(&plot_area)
            .margin(12)
            .x_label_area_size(52)
            .y_label_area_size(72)
            .build_cartesian_2d(
                (1f64..x_end).log_scale().with_key_points(percentile_axis::ticks(x_end)),
                (y_lo..y_hi).log_scale().with_key_points(log_ticks(y_lo, y_hi, 9)),
            )
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc(text.x_label.as_str())
            .y_desc(text.y_label.as_str())
            .x_label_formatter(&|x| percentile_axis::label(*x))
            .y_label_formatter(&|y| units::tick(*y))
            .label_style(("sans-serif", TICK_FONT))
            .axis_desc_style(("sans-serif", LABEL_FONT))
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.12))
            .draw()
            .map_err(plot_err)?;
        for c in &curves {
            let pts: Vec<(f64, f64)> = c.points.iter().map(|&(x, us)| (x, unit.from_us(us).max(y_lo))).collect();
            if c.dashed {
                chart
                    .draw_series(DashedLineSeries::new(pts.clone(), 8, 5, c.colour.stroke_width(2)))
                    .map_err(plot_err)?;
                chart.draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.colour.filled()))).map_err(plot_err)?;
            } else {
                chart.draw_series(LineSeries::new(pts, c.colour.stroke_width(2))).map_err(plot_err)?;
            }
        }
        figure::draw_legend(&legend_area, &text.legend)?;
        root.present().map_err(plot_err)?;
    }
    Ok(Some(Figure { text, svg }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_axis_starts_near_the_lowest_median() {
        let curve = |points: Vec<(f64, f64)>| Curve { label: String::new(), colour: BLACK, dashed: false, points };
        let curves = vec![curve(vec![(1.0, 0.3), (2.0, 40.0), (10.0, 90.0)]), curve(vec![(1.0, 5.0), (2.5, 60.0)])];
        assert!((y_floor_us(&curves) - 40.0 / 3.0).abs() < 1e-9);
        assert_eq!(y_floor_us(&[curve(vec![(1.0, 3.0)])]), f64::INFINITY, "no median: no floor");
    }

    #[test]
    fn histogram_points_climb_the_percentile_axis() {
        let mut h = crate::measure::hist::new_histogram();
        for v in 1..=10_000u64 {
            h.record(v * 100).unwrap();
        }
        let pts = points_of_histogram(&h);
        assert_eq!(pts[0].0, 1.0);
        assert!(pts.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
        // 10,000 values reach past the 99.9% position.
        assert!(pts.last().unwrap().0 > 1000.0);
        // The median point sits at x = 2 with the median value, in µs.
        let (_, median) = pts.iter().find(|p| (p.0 - 2.0).abs() < 1e-9).unwrap();
        assert!((median - 500.0).abs() < 1.0, "{median}");
    }
}
