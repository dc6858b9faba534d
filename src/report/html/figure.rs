//! One plot as the page shows it: an SVG drawn with plotters plus the words around it. The
//! title, axis labels and legend are drawn as SVG `<text>` AND repeated as `data-*`
//! attributes of the `<figure>`, so a test (or a script) can check every plot has them
//! without rendering anything.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::escape;

/// A plotters failure (drawing into a string cannot fail for I/O reasons, but the API says
/// it may).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PlotError(pub String);

pub fn plot_err(e: impl std::fmt::Display) -> PlotError {
    PlotError(e.to_string())
}

pub type PlotResult<T> = Result<T, PlotError>;

/// Font sizes handed to plotters, whose SVG text is `size / 1.24` px.
pub const TITLE_FONT: f64 = 22.0;
pub const LABEL_FONT: f64 = 17.0;
pub const TICK_FONT: f64 = 15.0;
pub const LEGEND_FONT: f64 = 15.0;

/// Width of the plots and of the legend column at their right.
pub const WIDTH: u32 = 1100;
pub const LEGEND_WIDTH: u32 = 250;
const LEGEND_ROW: i32 = 21;

/// Tableau 10: distinct, print-safe, readable for the common colour deficiencies in order.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// How a legend entry is drawn.
#[derive(Debug, Clone, Copy)]
pub enum Swatch {
    Line {
        colour: RGBColor,
        width: u32,
        dashed: bool,
    },
    Box(RGBColor),
    /// A short vertical mark (restarts on the timeline).
    Tick(RGBColor),
}

#[derive(Debug, Clone)]
pub struct LegendEntry {
    pub label: String,
    pub swatch: Swatch,
}

impl LegendEntry {
    pub fn line(label: impl Into<String>, colour: RGBColor, width: u32, dashed: bool) -> Self {
        LegendEntry { label: label.into(), swatch: Swatch::Line { colour, width, dashed } }
    }
    pub fn boxed(label: impl Into<String>, colour: RGBColor) -> Self {
        LegendEntry { label: label.into(), swatch: Swatch::Box(colour) }
    }
}

/// Between the y labels of a figure of stacked panels with different y axes.
pub const AXIS_SEPARATOR: &str = " | ";

/// The words of a plot, decided before drawing so the SVG and the `data-*` attributes say
/// the same thing. Stacked panels with different y axes name each, joined by
/// [`AXIS_SEPARATOR`].
#[derive(Debug, Clone)]
pub struct PlotText {
    pub id: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub legend: Vec<LegendEntry>,
    pub caption: String,
}

#[derive(Debug, Clone)]
pub struct Figure {
    pub text: PlotText,
    pub svg: String,
}

/// Height the legend needs.
pub fn legend_height(entries: usize) -> u32 {
    (entries as u32) * LEGEND_ROW as u32 + 24
}

/// Draw the legend into its own column, one entry a row, so it never covers data.
pub fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, entries: &[LegendEntry]) -> PlotResult<()> {
    let font = ("sans-serif", LEGEND_FONT).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Center));
    area.draw(&Text::new("Legend", (10, 14), ("sans-serif", LEGEND_FONT).into_font().style(FontStyle::Bold)))
        .map_err(plot_err)?;
    for (i, e) in entries.iter().enumerate() {
        let y = 44 + i as i32 * LEGEND_ROW;
        match e.swatch {
            Swatch::Line { colour, width, dashed: false } => {
                area.draw(&PathElement::new(vec![(10, y), (40, y)], colour.stroke_width(width))).map_err(plot_err)?
            }
            Swatch::Line { colour, width, dashed: true } => area
                .draw(&DashedPathElement::new(vec![(10, y), (40, y)], 6, 4, colour.stroke_width(width)))
                .map_err(plot_err)?,
            Swatch::Box(colour) => {
                area.draw(&Rectangle::new([(12, y - 6), (38, y + 6)], colour.filled())).map_err(plot_err)?
            }
            Swatch::Tick(colour) => area
                .draw(&PathElement::new(vec![(25, y - 7), (25, y + 7)], colour.stroke_width(2)))
                .map_err(plot_err)?,
        }
        area.draw(&Text::new(e.label.clone(), (48, y), font.clone())).map_err(plot_err)?;
    }
    Ok(())
}

/// plotters' SVG for inline HTML: no namespace URL (the HTML parser puts `<svg>` in the SVG
/// namespace itself, and the page then names no external address), labelled for screen
/// readers.
pub fn inline_svg(svg: &str, title: &str) -> String {
    let svg = svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    svg.replacen("<svg ", &format!("<svg role=\"img\" aria-label=\"{}\" ", escape::html(title)), 1)
}

impl Figure {
    pub fn to_html(&self) -> String {
        let t = &self.text;
        let legend: Vec<&str> = t.legend.iter().map(|e| e.label.as_str()).collect();
        format!(
            "<figure class=\"plot\" id=\"{id}\" data-title=\"{title}\" data-x-label=\"{x}\" data-y-label=\"{y}\" data-legend=\"{legend}\">\n{svg}<figcaption><b>{title}.</b> {caption}</figcaption>\n</figure>\n",
            id = escape::html(&t.id),
            title = escape::html(&t.title),
            x = escape::html(&t.x_label),
            y = escape::html(&t.y_label),
            legend = escape::html(&legend.join("|")),
            svg = inline_svg(&self.svg, &t.title),
            caption = escape::html(&t.caption),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figure_carries_its_words_as_attributes_and_the_svg_names_no_url() {
        let text = PlotText {
            id: "p1".into(),
            title: "Lag <by> series".into(),
            x_label: "percentile".into(),
            y_label: "dispatch lag (µs)".into(),
            legend: vec![LegendEntry::boxed("a", colour(0)), LegendEntry::line("b", colour(1), 2, true)],
            caption: "what & how".into(),
        };
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (300, 200)).into_drawing_area();
            draw_legend(&root, &text.legend).unwrap();
            root.present().unwrap();
        }
        let html = Figure { text, svg }.to_html();
        assert!(html.contains("data-title=\"Lag &lt;by&gt; series\""), "{html}");
        assert!(html.contains("data-y-label=\"dispatch lag (µs)\""));
        assert!(html.contains("data-legend=\"a|b\""));
        assert!(html.contains("what &amp; how"));
        assert!(!html.contains("http://"), "{html}");
        assert!(html.contains("<svg role=\"img\" aria-label=\"Lag &lt;by&gt; series\""));
        // The legend's labels are drawn as text, the dashed entry as a dashed path.
        assert!(html.contains(">\nb\n</text>") || html.contains(">b\n</text>"), "{html}");
    }
}
