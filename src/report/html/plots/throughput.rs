//! Probes per second over time (summary `intervals[]`), and under it the CPU per probe the run
//! measured — a whole-window figure per phase, drawn as such over the phase's span.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::super::figure::{
    self, Figure, LABEL_FONT, LEGEND_WIDTH, LegendEntry, PlotResult, PlotText, TICK_FONT, TITLE_FONT, WIDTH, plot_err,
};
use super::super::load::RunData;
use super::super::summary_model::Interval;
use super::super::units;
use super::over_time::in_window;

const RATE: RGBColor = RGBColor(31, 119, 180);
const SCHEDULED: RGBColor = RGBColor(90, 90, 90);
const CPU: RGBColor = RGBColor(214, 39, 40);
const CHILDREN: RGBColor = RGBColor(148, 103, 189);
const FLOOR: RGBColor = RGBColor(44, 160, 44);
const TARGETS: RGBColor = RGBColor(255, 127, 14);
const RATE_AXIS: &str = "probes per second (1/s)";
const CPU_AXIS: &str = "CPU per probe (µs)";

/// One of the figure's two panels: seconds across, a linear value axis from 0 to `y_top`.
fn time_chart<'a, DB: DrawingBackend + 'a>(
    area: &'a DrawingArea<DB, plotters::coord::Shift>,
    x_end: f64,
    y_top: f64,
    x_desc: &str,
    y_desc: &str,
) -> PlotResult<
    ChartContext<'a, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>>,
> {
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(44)
        .y_label_area_size(76)
        .build_cartesian_2d(0f64..x_end, 0f64..y_top)
        .map_err(plot_err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_labels(10)
        .x_label_formatter(&|x| units::tick(*x))
        .y_label_formatter(&|y| units::tick(*y))
        .label_style(("sans-serif", TICK_FONT))
        .axis_desc_style(("sans-serif", LABEL_FONT))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.1))
        .draw()
        .map_err(plot_err)?;
    Ok(chart)
}

/// Where each phase starts on the shared time axis (phases back to back, measured windows
/// only), and where the axis ends.
pub fn phase_offsets(durations: &[f64]) -> (Vec<f64>, f64) {
    let mut at = 0.0;
    let mut out = Vec::with_capacity(durations.len());
    for d in durations {
        out.push(at);
        at += d.max(0.0);
    }
    (out, at)
}

pub fn figure(run: &RunData) -> PlotResult<Option<Figure>> {
    let phases = &run.summary.phases;
    if phases.iter().all(|p| p.intervals.is_empty()) {
        return Ok(None);
    }
    // Intervals at or past the window's end hold only the drain's stragglers.
    let kept: Vec<Vec<Interval>> = phases
        .iter()
        .map(|p| p.intervals.iter().copied().filter(|i| in_window(i.t_s, p.duration_s)).collect())
        .collect();
    let after_window: usize = phases.iter().zip(&kept).map(|(p, k)| p.intervals.len() - k.len()).sum();
    // A phase's span: its measured window, or its intervals if they reach further.
    let spans: Vec<f64> = phases
        .iter()
        .zip(&kept)
        .map(|(p, k)| k.iter().map(|i| i.t_s + 1.0).fold(p.duration_s, f64::max).max(1.0))
        .collect();
    let (offsets, x_end) = phase_offsets(&spans);
    let rate_max = phases
        .iter()
        .zip(&kept)
        .flat_map(|(p, k)| k.iter().map(|i| i.probes as f64).chain(std::iter::once(p.scheduled_rate_per_s)))
        .fold(1.0, f64::max);
    let any_children = phases.iter().any(|p| {
        let o = &p.overhead;
        o.cpu_us_per_probe_with_children > o.cpu_us_per_probe * 1.01
    });
    let any_floor = phases.iter().any(|p| p.calibration.is_some());
    let any_targets = phases.iter().any(|p| p.overhead.targets_cpu_us_per_probe.is_some());
    let cpu_max = phases
        .iter()
        .flat_map(|p| {
            let o = &p.overhead;
            [
                o.cpu_us_per_probe,
                o.cpu_us_per_probe_with_children,
                p.calibration.as_ref().map_or(0.0, |c| c.cpu_us_per_probe),
                o.targets_cpu_us_per_probe.unwrap_or(0.0),
            ]
        })
        .fold(1.0, f64::max);

    let mut legend = vec![
        LegendEntry::line("probes per second (1 s intervals)", RATE, 2, false),
        LegendEntry::line("scheduled probes per second", SCHEDULED, 1, true),
        LegendEntry::line("prober CPU per probe", CPU, 3, false),
    ];
    if any_children {
        legend.push(LegendEntry::line("… with child processes", CHILDREN, 3, false));
    }
    if any_floor {
        legend.push(LegendEntry::line("noop floor CPU per probe", FLOOR, 2, true));
    }
    if any_targets {
        legend.push(LegendEntry::line("targets process CPU per probe", TARGETS, 2, false));
    }
    let mut caption = "Top: probes counted in each 1 s interval of the measured window (summary.json intervals[]), against \
                       the rate the schedule asks for. Bottom: CPU time (user + system) of the prober process per finished \
                       probe. The run measures CPU over each phase's whole measured window only — there is no per-second \
                       CPU figure — so each phase's value is drawn flat across its span; it is not a time series."
        .to_string();
    if any_floor {
        caption.push_str(" The noop floor is the same workers' CPU per probe firing no-op probes in the calibration.");
    }
    if any_targets {
        caption.push_str(" The targets run in their own process; their CPU is never part of the prober's.");
    }
    if after_window > 0 {
        caption.push_str(&format!(
            " {after_window} interval(s) starting at or after a window's end (probes that finished during the drain) are left out."
        ));
    }
    if phases.len() > 1 {
        caption.push_str(" Phases are drawn back to back, measured windows only (warm-up and calibration left out).");
    }
    let text = PlotText {
        id: "throughput-cpu".into(),
        title: "Probes per second over time, and CPU per probe".into(),
        x_label: if phases.len() > 1 {
            "measured time, phases back to back (s)".into()
        } else {
            "time in measured window (s)".into()
        },
        y_label: format!("{RATE_AXIS}{}{CPU_AXIS}", figure::AXIS_SEPARATOR),
        legend,
        caption,
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 640)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let root = root.titled(&text.title, ("sans-serif", TITLE_FONT)).map_err(plot_err)?;
        let (plot_area, legend_area) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        let (top, bottom) = plot_area.split_vertically(300);

        let mut rate = time_chart(&top, x_end, rate_max * 1.15, &text.x_label, RATE_AXIS)?;
        let mut cpu = time_chart(&bottom, x_end, cpu_max * 1.2, &text.x_label, CPU_AXIS)?;

        for (((p, k), &x0), &span) in phases.iter().zip(&kept).zip(&offsets).zip(&spans) {
            let x1 = x0 + span;
            let pts: Vec<(f64, f64)> = k.iter().map(|i| (x0 + i.t_s + 0.5, i.probes as f64)).collect();
            rate.draw_series(LineSeries::new(pts.clone(), RATE.stroke_width(2))).map_err(plot_err)?;
            rate.draw_series(pts.iter().map(|&q| Circle::new(q, 2, RATE.filled()))).map_err(plot_err)?;
            let sched = p.scheduled_rate_per_s;
            rate.draw_series(DashedLineSeries::new(vec![(x0, sched), (x1, sched)], 6, 4, SCHEDULED.stroke_width(1)))
                .map_err(plot_err)?;
            let o = &p.overhead;
            let flat = |v: f64| vec![(x0, v), (x1, v)];
            cpu.draw_series(LineSeries::new(flat(o.cpu_us_per_probe), CPU.stroke_width(3))).map_err(plot_err)?;
            if o.cpu_us_per_probe_with_children > o.cpu_us_per_probe * 1.01 {
                let v = o.cpu_us_per_probe_with_children;
                cpu.draw_series(LineSeries::new(flat(v), CHILDREN.stroke_width(3))).map_err(plot_err)?;
                let font =
                    ("sans-serif", TICK_FONT).into_font().color(&CHILDREN).pos(Pos::new(HPos::Center, VPos::Bottom));
                cpu.draw_series(std::iter::once(Text::new(
                    format!("{} µs", units::tick(v)),
                    ((x0 + x1) / 2.0, v),
                    font,
                )))
                .map_err(plot_err)?;
            }
            if let Some(c) = &p.calibration {
                cpu.draw_series(DashedLineSeries::new(flat(c.cpu_us_per_probe), 6, 4, FLOOR.stroke_width(2)))
                    .map_err(plot_err)?;
            }
            if let Some(t) = o.targets_cpu_us_per_probe {
                cpu.draw_series(LineSeries::new(flat(t), TARGETS.stroke_width(2))).map_err(plot_err)?;
            }
            // The figure itself, so nobody has to read it off the axis.
            let label = format!("{} µs", units::tick(o.cpu_us_per_probe));
            let font = ("sans-serif", TICK_FONT).into_font().color(&CPU).pos(Pos::new(HPos::Center, VPos::Bottom));
            cpu.draw_series(std::iter::once(Text::new(label, ((x0 + x1) / 2.0, o.cpu_us_per_probe), font)))
                .map_err(plot_err)?;
            if phases.len() > 1 {
                let name_font =
                    ("sans-serif", TICK_FONT).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Top));
                rate.draw_series(std::iter::once(Text::new(
                    format!("phase {}", p.name),
                    ((x0 + x1) / 2.0, rate_max * 1.13),
                    name_font,
                )))
                .map_err(plot_err)?;
                if x0 > 0.0 {
                    rate.draw_series(DashedLineSeries::new(
                        vec![(x0, 0.0), (x0, rate_max * 1.15)],
                        4,
                        4,
                        BLACK.mix(0.4).stroke_width(1),
                    ))
                    .map_err(plot_err)?;
                    cpu.draw_series(DashedLineSeries::new(
                        vec![(x0, 0.0), (x0, cpu_max * 1.2)],
                        4,
                        4,
                        BLACK.mix(0.4).stroke_width(1),
                    ))
                    .map_err(plot_err)?;
                }
            }
        }
        figure::draw_legend(&legend_area, &text.legend)?;
        root.present().map_err(plot_err)?;
    }
    Ok(Some(Figure { text, svg }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn phases_sit_back_to_back() {
        let (at, end) = super::phase_offsets(&[5.0, 3.0, 2.0]);
        assert_eq!(at, vec![0.0, 5.0, 8.0]);
        assert_eq!(end, 10.0);
    }
}
