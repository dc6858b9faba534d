//! Lifecycle runs: each pod's state over time from `watch.jsonl`, one row per pod, at most
//! [`MAX_PODS`] rows chosen evenly when a fleet has thousands.

use plotters::prelude::*;

use super::super::figure::{
    self, Figure, LABEL_FONT, LEGEND_WIDTH, LegendEntry, PlotResult, PlotText, Swatch, TICK_FONT, TITLE_FONT, WIDTH,
    plot_err,
};
use super::super::summary_model::Phase;
use super::super::units;
use super::super::watch::{self, PodState, WatchLine};
use super::FixedTicks;

pub const MAX_PODS: usize = 50;
const ROW_PX: u32 = 18;

pub fn state_colour(s: PodState) -> RGBColor {
    match s {
        PodState::Waiting => RGBColor(189, 189, 189),
        PodState::RunningNotReady => RGBColor(240, 180, 40),
        PodState::Ready => RGBColor(44, 160, 44),
        PodState::CrashLoopBackOff => RGBColor(214, 39, 40),
        PodState::Error => RGBColor(120, 20, 30),
        PodState::Terminating => RGBColor(148, 103, 189),
        PodState::Completed => RGBColor(90, 120, 150),
        PodState::Other => RGBColor(140, 86, 75),
    }
}

/// Row `i` (0 = first pod) drawn top-down: plotters' y grows upwards.
pub fn row_y(i: usize, rows: usize) -> (f64, f64) {
    let base = (rows - 1 - i.min(rows - 1)) as f64;
    (base + 0.12, base + 0.88)
}

pub fn figure(phase: &Phase, lines: &[WatchLine], multi: bool) -> PlotResult<Option<Figure>> {
    if lines.is_empty() {
        return Ok(None);
    }
    let last_t = lines.iter().map(|w| w.t_s).fold(0.0, f64::max);
    let end_s = last_t.max(phase.warmup_s + phase.duration_s).max(1.0);
    let all = watch::timelines(lines, end_s);
    let total = all.len();
    let shown: Vec<&watch::PodTimeline> = watch::sample_evenly(total, MAX_PODS).into_iter().map(|i| &all[i]).collect();
    let rows = shown.len();
    let mut present: Vec<PodState> = shown.iter().flat_map(|p| p.spans.iter().map(|s| s.state)).collect();
    present.sort();
    present.dedup();
    let any_restart = shown.iter().any(|p| !p.restarts_at.is_empty());
    let mut legend: Vec<LegendEntry> =
        present.iter().map(|&s| LegendEntry::boxed(s.label(), state_colour(s))).collect();
    if any_restart {
        legend.push(LegendEntry { label: "restart (count went up)".into(), swatch: Swatch::Tick(BLACK) });
    }
    let restarts: usize = all.iter().map(|p| p.restarts_at.len()).sum();
    let mut caption = format!(
        "Each row is one pod, coloured by its state as kubectl get pods --watch printed it (STATUS, with READY splitting \
         Running into ready and not ready); a state holds until that pod's next watch line, the last one until {} s. Black \
         marks: the pod's RESTARTS count went up ({restarts} restarts over all {total} pods). x counts from the phase's start, \
         warm-up included.",
        units::tick(end_s)
    );
    if total > rows {
        caption.push_str(&format!(" {rows} of {total} pods shown, chosen evenly in order of first appearance."));
    } else {
        caption.push_str(&format!(" All {total} pods shown, in order of first appearance."));
    }
    let title =
        if multi { format!("Pod states over time — phase {}", phase.name) } else { "Pod states over time".into() };
    let text = PlotText {
        id: format!("timeline-{}", phase.name),
        title,
        x_label: "time since phase start (s)".into(),
        y_label: "pod (one row each)".into(),
        legend,
        caption,
    };
    let names: Vec<String> = shown.iter().map(|p| p.pod.clone()).collect();
    let longest = names.iter().map(|n| n.chars().count()).max().unwrap_or(4);
    let y_area = (longest as u32 * 8 + 40).clamp(90, 300);
    let height = (rows as u32 * ROW_PX + 130).max(figure::legend_height(text.legend.len()) + 60);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let root = root.titled(&text.title, ("sans-serif", TITLE_FONT)).map_err(plot_err)?;
        let (plot_area, legend_area) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        let centres: Vec<f64> = (0..rows).map(|i| i as f64 + 0.5).collect();
        let mut chart = ChartBuilder::on(&plot_area)
            .margin(10)
            .x_label_area_size(48)
            .y_label_area_size(y_area)
            .build_cartesian_2d(0f64..end_s, FixedTicks { range: 0.0..rows as f64, ticks: centres })
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc(text.x_label.as_str())
            .y_desc(text.y_label.as_str())
            .x_labels(12)
            .x_label_formatter(&|x| units::tick(*x))
            .y_label_formatter(&|y| {
                // Row centres count from the bottom; names from the top.
                let from_bottom = y.floor().max(0.0) as usize;
                names.get(rows.saturating_sub(1 + from_bottom)).cloned().unwrap_or_default()
            })
            .label_style(("sans-serif", TICK_FONT - 2.0))
            .axis_desc_style(("sans-serif", LABEL_FONT))
            .disable_y_mesh()
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.1))
            .draw()
            .map_err(plot_err)?;
        for (i, p) in shown.iter().enumerate() {
            let (y0, y1) = row_y(i, rows);
            chart
                .draw_series(
                    p.spans
                        .iter()
                        .filter(|s| s.to_s > s.from_s)
                        .map(|s| Rectangle::new([(s.from_s, y0), (s.to_s, y1)], state_colour(s.state).filled())),
                )
                .map_err(plot_err)?;
            chart
                .draw_series(
                    p.restarts_at
                        .iter()
                        .map(|&t| PathElement::new(vec![(t, y0 - 0.1), (t, y1 + 0.1)], BLACK.stroke_width(2))),
                )
                .map_err(plot_err)?;
        }
        figure::draw_legend(&legend_area, &text.legend)?;
        root.present().map_err(plot_err)?;
    }
    Ok(Some(Figure { text, svg }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn first_pod_is_the_top_row() {
        assert_eq!(super::row_y(0, 3), (2.12, 2.88));
        assert_eq!(super::row_y(2, 3), (0.12, 0.88));
    }
}
