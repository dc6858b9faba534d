//! Probe results per series: success (warnings among them), failure, errored, from the
//! phase counters, as grouped bars with their counts written on them (small counts beside a
//! large one would otherwise be invisible).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::super::figure::{
    self, Figure, LABEL_FONT, LEGEND_WIDTH, LegendEntry, PlotResult, PlotText, TICK_FONT, TITLE_FONT, WIDTH, plot_err,
};
use super::super::series_ref::SeriesRef;
use super::super::units;
use super::FixedTicks;

/// Series beyond this are left out (and the caption says so).
pub const MAX_SERIES: usize = 16;

const KINDS: [(&str, RGBColor); 4] = [
    ("success", RGBColor(44, 160, 44)),
    ("warning (part of success)", RGBColor(188, 189, 34)),
    ("failure", RGBColor(214, 39, 40)),
    ("errored (unknown result)", RGBColor(255, 127, 14)),
];

/// Left edge of bar `k` of the group for series `i`: groups are 1 wide with a margin.
pub fn bar_x(i: usize, k: usize) -> (f64, f64) {
    let w = 0.8 / KINDS.len() as f64;
    let x0 = i as f64 + 0.1 + k as f64 * w;
    (x0, x0 + w * 0.9)
}

pub fn figure(refs: &[SeriesRef<'_>]) -> PlotResult<Option<Figure>> {
    let shown: Vec<&SeriesRef<'_>> = refs.iter().take(MAX_SERIES).collect();
    let counts: Vec<[u64; 4]> = shown
        .iter()
        .map(|r| {
            let c = &r.series.counters;
            [c.success, c.warning, c.failure, c.errored]
        })
        .collect();
    let max = counts.iter().flatten().copied().max().unwrap_or(0);
    if max == 0 {
        return Ok(None);
    }
    let n = shown.len();
    let mut caption = "Results of the probes whose intended time fell in the measured window, per series, from the phase \
                       counters in summary.json. Warnings count as successes (the kubelet's rule) and are also shown on \
                       their own; errored probes (the kubelet's \"unknown\" result) count toward neither threshold."
        .to_string();
    if refs.len() > n {
        caption.push_str(&format!(" {n} of {} series shown.", refs.len()));
    }
    let text = PlotText {
        id: "outcomes".into(),
        title: "Probe results by series".into(),
        x_label: "series (mechanism.probe type)".into(),
        y_label: "probes (count)".into(),
        legend: KINDS.iter().map(|(l, c)| LegendEntry::boxed(*l, *c)).collect(),
        caption,
    };
    let labels: Vec<String> = shown.iter().map(|r| r.label.clone()).collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 440)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        let root = root.titled(&text.title, ("sans-serif", TITLE_FONT)).map_err(plot_err)?;
        let (plot_area, legend_area) = root.split_horizontally(WIDTH - LEGEND_WIDTH);
        let centres: Vec<f64> = (0..n).map(|i| i as f64 + 0.5).collect();
        let mut chart = ChartBuilder::on(&plot_area)
            .margin(12)
            .x_label_area_size(52)
            .y_label_area_size(84)
            .build_cartesian_2d(FixedTicks { range: 0.0..n as f64, ticks: centres }, 0f64..max as f64 * 1.18)
            .map_err(plot_err)?;
        chart
            .configure_mesh()
            .x_desc(text.x_label.as_str())
            .y_desc(text.y_label.as_str())
            .x_label_formatter(&|x| labels.get(x.floor().max(0.0) as usize).cloned().unwrap_or_default())
            .y_label_formatter(&|y| units::count(y.max(0.0) as u64))
            .label_style(("sans-serif", TICK_FONT))
            .axis_desc_style(("sans-serif", LABEL_FONT))
            .disable_x_mesh()
            .light_line_style(WHITE.mix(0.0))
            .bold_line_style(BLACK.mix(0.1))
            .draw()
            .map_err(plot_err)?;
        let font = ("sans-serif", TICK_FONT - 2.0).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Bottom));
        for (i, c) in counts.iter().enumerate() {
            for (k, &(_, colour)) in KINDS.iter().enumerate() {
                let (x0, x1) = bar_x(i, k);
                let v = c[k] as f64;
                chart
                    .draw_series(std::iter::once(Rectangle::new([(x0, 0.0), (x1, v)], colour.filled())))
                    .map_err(plot_err)?;
                chart
                    .draw_series(std::iter::once(Text::new(
                        units::count(c[k]),
                        ((x0 + x1) / 2.0, v + max as f64 * 0.01),
                        font.clone(),
                    )))
                    .map_err(plot_err)?;
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
    fn bars_of_a_group_stay_inside_it_without_touching() {
        for i in 0..3 {
            let mut last = i as f64;
            for k in 0..4 {
                let (x0, x1) = super::bar_x(i, k);
                assert!(x0 > last && x1 > x0 && x1 < (i + 1) as f64, "{i} {k}: {x0} {x1}");
                last = x1;
            }
        }
    }
}
