//! The report's figures, drawn by plotters from a [`ReportArrays`] (the same arrays `report.npz`
//! holds) and written twice: PNG through plotters' bitmap backend, and SVG beside it. Text is set in
//! DejaVu Sans, shipped by the `dejavu` crate and registered with plotters once, so the figures read
//! ψ₁, λ and ε as such on any machine and nothing is looked up on the system.
//!
//! Also the two raster images that are not charts: [`Image`] (an RGB pixel buffer with its PNG
//! encoder) for the rendered frames, and the labelled contact sheet.

use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::report::arrays::ReportArrays;

const FONT: &str = "sans-serif";
const A_COLOUR: RGBColor = RGBColor(31, 119, 180);
const B_COLOUR: RGBColor = RGBColor(230, 120, 20);
const GREY: RGBColor = RGBColor(120, 120, 120);

/// Registers DejaVu Sans as plotters' sans-serif (once per process).
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font ships inside the `dejavu` crate; parsing it cannot fail short of a corrupt build, and
        // if it did plotters would report a missing font on the first label, which we return as an error.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
    });
}

/// A grey value in [0, 1] (clamped) as an 8-bit level.
fn grey_level(v: f32) -> u8 {
    (v.clamp(0.0, 1.0) * 255.0).round() as u8
}

/// An RGB raster (8 bits a channel, row-major) and its PNG encoding.
#[derive(Clone, Debug)]
pub struct Image {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Image {
    /// A white image of `w`×`h` pixels.
    pub fn new(w: usize, h: usize) -> Image {
        Image { w, h, px: vec![255; w * h * 3] }
    }

    /// A grey-level image of side `size` from values in [0, 1] (clamped).
    pub fn gray(values: &[f32], size: usize) -> Result<Image> {
        if values.len() != size * size {
            return Err(Error::Shape(format!("{} grey values for a {size}×{size} image", values.len())));
        }
        let px = values.iter().flat_map(|&v| [grey_level(v); 3]).collect();
        Ok(Image { w: size, h: size, px })
    }

    /// Width and height.
    pub fn size(&self) -> (usize, usize) {
        (self.w, self.h)
    }

    /// The RGB bytes, row-major.
    pub fn pixels(&self) -> &[u8] {
        &self.px
    }

    /// Encodes the image as PNG (8-bit RGB, no filter, zlib through flate2, which the `.npz` reader
    /// compiles anyway: the format's whole writer is these few chunks) and writes it to `path`
    /// atomically.
    pub fn save_png(&self, path: &Path) -> Result<()> {
        let mut raw = Vec::with_capacity((self.w * 3 + 1) * self.h);
        for row in self.px.chunks(self.w * 3) {
            raw.push(0);
            raw.extend_from_slice(row);
        }
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&raw).map_err(|e| Error::io(path, e))?;
        let idat = z.finish().map_err(|e| Error::io(path, e))?;
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let chunk = |out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]| {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            let mut crc = crc32fast::Hasher::new();
            crc.update(kind);
            crc.update(data);
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            out.extend_from_slice(&crc.finalize().to_be_bytes());
        };
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&(self.w as u32).to_be_bytes());
        ihdr.extend_from_slice(&(self.h as u32).to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        chunk(&mut png, b"IHDR", &ihdr);
        chunk(&mut png, b"IDAT", &idat);
        chunk(&mut png, b"IEND", &[]);
        crate::data::write_file_atomic(path, &png)
    }
}

/// Maps t ∈ [0, 1] onto a perceptually ordered blue → green → yellow ramp (viridis anchors).
pub fn ramp(t: f64) -> RGBColor {
    const STOPS: [[f64; 3]; 5] =
        [[68.0, 1.0, 84.0], [59.0, 82.0, 139.0], [33.0, 145.0, 140.0], [94.0, 201.0, 98.0], [253.0, 231.0, 37.0]];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 } * (STOPS.len() - 1) as f64;
    let k = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - k as f64;
    let c = |i: usize| (STOPS[k][i] + f * (STOPS[k + 1][i] - STOPS[k][i])).round() as u8;
    RGBColor(c(0), c(1), c(2))
}

/// `k` in Unicode subscript digits (ψ₁₀).
pub(crate) fn sub(k: usize) -> String {
    k.to_string().chars().map(|c| char::from_u32(0x2080 + c.to_digit(10).unwrap_or(0)).unwrap_or(c)).collect()
}

type Drawn = std::result::Result<(), String>;

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The smallest range holding `values` (finite ones), widened by 5 % (and to a unit range when flat).
fn span(values: impl Iterator<Item = f64>) -> Range<f64> {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 0.5 };
    lo - pad..hi + pad
}

/// The figures a report holds, each drawn on any plotters backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    /// The non-trivial eigenvalues of A and B against the coordinate index.
    Spectra,
    /// Each network's embedding in its first two selected coordinates, coloured, with a colour bar.
    Embeddings,
    /// r_k of A and B, selected coordinates marked.
    RK,
    /// T_AB and T_BA: predicted against true on the held-out rows.
    PredictedVsTrue,
    /// The Whitney sweep on a log axis.
    Whitney,
    /// Where the two networks differ: the points by their inputs (or A's embedding), coloured by the
    /// local disagreement, the regions that decided ringed.
    Disagreement,
}

impl Figure {
    /// File stem and pixel size.
    pub fn layout(self) -> (&'static str, (u32, u32)) {
        match self {
            Figure::Spectra => ("spectra", (640, 440)),
            Figure::Embeddings => ("embeddings", (1160, 500)),
            Figure::RK => ("r_k", (640, 440)),
            Figure::PredictedVsTrue => ("predicted_vs_true", (1100, 500)),
            Figure::Whitney => ("whitney", (640, 440)),
            Figure::Disagreement => ("disagreement", (760, 560)),
        }
    }

    /// Draws the figure of `a` on `root`.
    pub fn draw<DB: DrawingBackend>(self, root: &DrawingArea<DB, Shift>, a: &ReportArrays) -> Drawn {
        root.fill(&WHITE).map_err(text)?;
        match self {
            Figure::Spectra => spectra(root, a),
            Figure::Embeddings => embeddings(root, a),
            Figure::RK => r_k(root, a),
            Figure::PredictedVsTrue => predicted(root, a),
            Figure::Whitney => whitney(root, a),
            Figure::Disagreement => disagreement(root, a),
        }?;
        root.present().map_err(text)
    }
}

/// A chart builder with the house frame: the caption, a 12-pixel margin, room for tick labels and the
/// axis descriptions.
fn framed<'a, 'b, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: impl AsRef<str>,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(area);
    b.caption(caption, (FONT, 20)).margin(12).x_label_area_size(40).y_label_area_size(60);
    b
}

/// The house axes on a chart: tick labels and axis descriptions in the registered font.
macro_rules! axes {
    ($chart:expr, $x:expr, $y:expr) => {
        $chart
            .configure_mesh()
            .label_style((FONT, 13))
            .axis_desc_style((FONT, 14))
            .x_desc($x)
            .y_desc($y)
            .draw()
            .map_err(text)?
    };
}

/// A 2-pixel line series with its legend entry.
macro_rules! line {
    ($chart:expr, $points:expr, $colour:expr, $label:expr) => {{
        let colour = $colour;
        $chart
            .draw_series(LineSeries::new($points, colour.stroke_width(2)))
            .map_err(text)?
            .label($label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2)));
    }};
}

/// The legend box of a chart.
macro_rules! legend {
    ($chart:expr) => {
        $chart.configure_series_labels().background_style(WHITE.mix(0.9)).border_style(BLACK).draw().map_err(text)
    };
}

/// Integer coordinate index k = 1 … len on the x axis.
fn index_range(len: usize) -> Range<i32> {
    0..(len as i32 + 1)
}

fn spectra<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, a: &ReportArrays) -> Drawn {
    let (ea, eb) = (&a.eigenvalues.0.as_slice().unwrap_or(&[])[1..], &a.eigenvalues.1.as_slice().unwrap_or(&[])[1..]);
    let mut chart = framed(root, "Spectra of A and B")
        .build_cartesian_2d(index_range(ea.len().max(eb.len())), span(ea.iter().chain(eb).copied()))
        .map_err(text)?;
    axes!(chart, "coordinate k", "eigenvalue λₖ");
    for (name, vals, colour) in [("A", ea, A_COLOUR), ("B", eb, B_COLOUR)] {
        let pts = vals.iter().enumerate().map(|(i, &v)| (i as i32 + 1, v));
        line!(chart, pts.clone(), colour, name);
        chart.draw_series(pts.map(|p| Circle::new(p, 3, colour.filled()))).map_err(text)?;
    }
    legend!(chart)
}

fn embeddings<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, a: &ReportArrays) -> Drawn {
    let (plots, bar) = root.split_horizontally(root.dim_in_pixel().0 as i32 - 110);
    let panels = plots.split_evenly((1, 2));
    let cr = span(a.colour.iter().copied());
    let colour_of = |v: f64| ramp((v - cr.start) / (cr.end - cr.start));
    for (area, (name, coords, sel)) in
        panels.iter().zip([("A", &a.coords.0, &a.selected.0), ("B", &a.coords.1, &a.selected.1)])
    {
        let col = |j: usize| coords.column(j.min(coords.ncols() - 1)).to_vec();
        let first = sel.first().map_or(1, |&s| s as usize);
        let (x, y, xl, yl) = if sel.len() >= 2 {
            let second = sel[1] as usize;
            (col(first), col(second), format!("ψ{}", sub(first)), format!("ψ{}", sub(second)))
        } else {
            let xl = if a.colour_is_input { "input x₁" } else { "point index" };
            (a.colour.to_vec(), col(first), xl.to_string(), format!("ψ{}", sub(first)))
        };
        let mut chart = framed(area, format!("Embedding of {name}"))
            .build_cartesian_2d(span(x.iter().copied()), span(y.iter().copied()))
            .map_err(text)?;
        axes!(chart, xl, yl);
        let pts = x.iter().zip(&y).zip(a.colour.iter());
        chart.draw_series(pts.map(|((&x, &y), &c)| Circle::new((x, y), 2, colour_of(c).filled()))).map_err(text)?;
    }
    // The colour bar: the ramp over the colour variable's range, with its own axis.
    let label = if a.colour_is_input { "input x₁" } else { "point index" };
    let mut chart = ChartBuilder::on(&bar)
        .margin_top(45)
        .margin_bottom(52)
        .margin_right(8)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..1.0, cr.clone())
        .map_err(text)?;
    chart
        .configure_mesh()
        .label_style((FONT, 13))
        .axis_desc_style((FONT, 14))
        .disable_x_mesh()
        .disable_y_mesh()
        .disable_x_axis()
        .y_desc(label)
        .draw()
        .map_err(text)?;
    const STEPS: usize = 100;
    let h = (cr.end - cr.start) / STEPS as f64;
    chart
        .draw_series((0..STEPS).map(|k| {
            let y0 = cr.start + k as f64 * h;
            Rectangle::new([(0.0, y0), (1.0, y0 + h)], ramp((k as f64 + 0.5) / STEPS as f64).filled())
        }))
        .map_err(text)?;
    Ok(())
}

fn r_k<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, a: &ReportArrays) -> Drawn {
    let (ra, rb) = (&a.r_k.0, &a.r_k.1);
    let mut chart = framed(root, "Local linear fit rₖ")
        .build_cartesian_2d(index_range(ra.len().max(rb.len())), 0.0..1.05)
        .map_err(text)?;
    axes!(chart, "coordinate k", "rₖ");
    for (name, r, sel, colour, size) in [("A", ra, &a.selected.0, A_COLOUR, 7), ("B", rb, &a.selected.1, B_COLOUR, 4)] {
        let pts: Vec<(i32, f64)> = r.iter().enumerate().map(|(i, &v)| (i as i32 + 1, v)).collect();
        line!(chart, pts, colour, format!("{name} (dots: selected)"));
        let marks = sel.iter().filter_map(|&s| Some((s as i32, *r.get((s as usize).checked_sub(1)?)?)));
        chart.draw_series(marks.map(|p| Circle::new(p, size, colour.filled()))).map_err(text)?;
    }
    legend!(chart)
}

fn predicted<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, a: &ReportArrays) -> Drawn {
    let panels = root.split_evenly((1, 2));
    let sides = [
        ("T_AB: predicted vs true o_B", &a.ab, a.rmse.0, B_COLOUR),
        ("T_BA: predicted vs true o_A", &a.ba, a.rmse.1, A_COLOUR),
    ];
    for (area, (title, (pred, truth), rmse, colour)) in panels.iter().zip(sides) {
        let r = span(truth.iter().chain(pred.iter()).copied());
        let mut chart = framed(area, title).build_cartesian_2d(r.clone(), r.clone()).map_err(text)?;
        axes!(chart, "true (held out)", "predicted");
        chart
            .draw_series(truth.iter().zip(pred.iter()).map(|(&t, &p)| Circle::new((t, p), 2, colour.mix(0.6).filled())))
            .map_err(text)?;
        chart
            .draw_series(LineSeries::new([(r.start, r.start), (r.end, r.end)], GREY))
            .map_err(text)?
            .label(format!("held-out RMSE {:.2} %", 100.0 * rmse))
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREY));
        legend!(chart)?;
    }
    Ok(())
}

fn disagreement<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, a: &ReportArrays) -> Drawn {
    let (pos, [xl, yl]) = &a.place;
    let regions = a.region.iter().filter(|&&r| r > 0).count();
    let caption = if regions > 0 {
        format!("Where A and B differ (colour: local disagreement 0 → 1): {regions} points in regions, ringed")
    } else {
        "Where A and B differ (colour: local disagreement 0 → 1): no region".to_string()
    };
    let mut chart = framed(root, caption)
        .build_cartesian_2d(span(pos.column(0).iter().copied()), span(pos.column(1).iter().copied()))
        .map_err(text)?;
    axes!(chart, xl.as_str(), yl.as_str());
    // Agreeing points first, so that the disagreeing ones are drawn on top.
    let mut order: Vec<usize> = (0..pos.nrows()).collect();
    order.sort_by(|&i, &j| a.local.0[i].total_cmp(&a.local.0[j]));
    chart
        .draw_series(order.iter().map(|&i| Circle::new((pos[[i, 0]], pos[[i, 1]]), 3, ramp(a.local.0[i]).filled())))
        .map_err(text)?;
    chart
        .draw_series(
            order
                .iter()
                .filter(|&&i| a.region[i] > 0)
                .map(|&i| Circle::new((pos[[i, 0]], pos[[i, 1]]), 5, BLACK.stroke_width(1))),
        )
        .map_err(text)?;
    Ok(())
}

fn whitney<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, a: &ReportArrays) -> Drawn {
    let Some([q, ab, ba, input]) = &a.whitney else { return Ok(()) };
    // Errors in per cent on a log axis: they span several decades across q.
    let pct = |v: &f64| (v.is_finite() && *v > 0.0).then_some(100.0 * v);
    let all: Vec<f64> = ab.iter().chain(ba.iter()).chain(input.iter()).filter_map(pct).collect();
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min).min(1.0);
    let hi = all.iter().copied().fold(0.0, f64::max).max(10.0);
    let qmax = q.iter().copied().fold(1.0, f64::max) as i32;
    let mut chart = framed(root, "Whitney sweep")
        .build_cartesian_2d(0..qmax + 1, (lo / 2.0..hi * 2.0).log_scale())
        .map_err(text)?;
    axes!(chart, "neurons q of A", "held-out RMSE (%)");
    for (name, vals, colour) in [("T_AB", ab, B_COLOUR), ("T_BA", ba, A_COLOUR), ("input from q", input, GREY)] {
        let pts: Vec<(i32, f64)> = q.iter().zip(vals.iter()).filter_map(|(&q, v)| Some((q as i32, pct(v)?))).collect();
        if pts.is_empty() {
            continue;
        }
        line!(chart, pts.clone(), colour, name);
        chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 3, colour.filled()))).map_err(text)?;
    }
    legend!(chart)
}

/// Draws `figure` of `a` as `<stem>.png` and `<stem>.svg` in `dir`; returns both paths.
pub fn save(figure: Figure, a: &ReportArrays, dir: &Path) -> Result<[PathBuf; 2]> {
    register_font();
    let (stem, (w, h)) = figure.layout();
    let png = dir.join(format!("{stem}.png"));
    let svg = dir.join(format!("{stem}.svg"));
    let mut buf = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
        figure.draw(&root, a).map_err(|e| Error::format(&png, format!("drawing the figure: {e}")))?;
    }
    Image { w: w as usize, h: h as usize, px: buf }.save_png(&png)?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, (w, h)).into_drawing_area();
        figure.draw(&root, a).map_err(|e| Error::format(&svg, format!("drawing the figure: {e}")))?;
    }
    crate::data::write_file_atomic(&svg, text.as_bytes())?;
    Ok([png, svg])
}

/// A contact sheet: up to `max` frames spaced evenly through the set, in a grid with a 2-pixel
/// gutter, each labelled by its azimuth in degrees.
pub fn contact_sheet(images: &[f32], angles: &[(f32, f32)], size: usize, max: usize) -> Result<Image> {
    register_font();
    let n = angles.len();
    if images.len() != n * size * size {
        return Err(Error::Shape(format!("{} pixel values for {n} frames of {size}×{size}", images.len())));
    }
    let shown = n.min(max).max(1);
    let cols = (shown as f64).sqrt().ceil() as usize;
    let rows = shown.div_ceil(cols);
    let cell = size + 14;
    let (w, h) = (cols * (size + 2) + 2, rows * (cell + 2) + 2);
    let mut buf = vec![0u8; w * h * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (w as u32, h as u32)).into_drawing_area();
        let fail = |e: String| Error::Shape(format!("drawing the contact sheet: {e}"));
        root.fill(&WHITE).map_err(text).map_err(fail)?;
        for k in 0..n.min(shown) {
            let f = k * n / shown;
            let (x0, y0) = (2 + (k % cols) * (size + 2), 2 + (k / cols) * (cell + 2));
            for y in 0..size {
                for x in 0..size {
                    let g = grey_level(images[f * size * size + y * size + x]);
                    root.draw_pixel(((x0 + x) as i32, (y0 + y) as i32), &RGBColor(g, g, g))
                        .map_err(text)
                        .map_err(fail)?;
                }
            }
            let label = format!("{:.0}°", angles[f].0.to_degrees());
            let style = (FONT, 11).into_font().color(&RGBColor(20, 20, 20));
            root.draw_text(&label, &style, ((x0 + 1) as i32, (y0 + size + 1) as i32)).map_err(text).map_err(fail)?;
        }
        root.present().map_err(text).map_err(fail)?;
    }
    Ok(Image { w, h, px: buf })
}
