//! The report's figures: a small RGB raster with axes, a 5×7 bitmap font, scatter and line series,
//! and a PNG encoder (zlib via `flate2`, CRC via `crc32fast`, both already in the dependency tree
//! through the `.npz` reader). A plotting crate would cost more compile time than the five fixed
//! figure types of a report are worth; every figure is drawn from the run's own numbers.

use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// An RGB colour.
pub type Rgb = [u8; 3];
/// Series colour of network A.
pub const BLUE: Rgb = [31, 119, 180];
/// Series colour of network B.
pub const ORANGE: Rgb = [255, 127, 14];
/// Reference lines and marks.
pub const GREY: Rgb = [150, 150, 150];
const BLACK: Rgb = [20, 20, 20];
const WHITE: Rgb = [255, 255, 255];

/// Glyph rows (bit 4 is the leftmost pixel) for the characters the figures use; lower case is drawn
/// as upper case and anything else as a blank.
fn glyph(c: char) -> [u8; 7] {
    match c.to_ascii_uppercase() {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'A' => [0x0E, 0x11, 0x11, 0x11, 0x1F, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x11, 0x0A, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '.' => [0, 0, 0, 0, 0, 0x0C, 0x0C],
        '-' => [0, 0, 0, 0x1F, 0, 0, 0],
        '+' => [0, 0x04, 0x04, 0x1F, 0x04, 0x04, 0],
        ':' => [0, 0x0C, 0x0C, 0, 0x0C, 0x0C, 0],
        '=' => [0, 0, 0x1F, 0, 0x1F, 0, 0],
        '/' => [0, 0x01, 0x02, 0x04, 0x08, 0x10, 0],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
        '_' => [0, 0, 0, 0, 0, 0, 0x1F],
        ',' => [0, 0, 0, 0, 0x0C, 0x04, 0x08],
        '<' => [0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02],
        '>' => [0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08],
        '*' => [0, 0x04, 0x15, 0x0E, 0x15, 0x04, 0],
        '|' => [0x04; 7],
        _ => [0; 7],
    }
}

/// Text width in pixels at scale 1 (6 px per character).
fn text_width(s: &str) -> i64 {
    6 * s.chars().count() as i64
}

/// A white RGB raster.
pub struct Canvas {
    w: usize,
    h: usize,
    px: Vec<u8>,
}

impl Canvas {
    /// A blank canvas of `w`×`h` pixels.
    pub fn new(w: usize, h: usize) -> Canvas {
        Canvas { w, h, px: vec![255; w * h * 3] }
    }

    fn set(&mut self, x: i64, y: i64, c: Rgb) {
        if x >= 0 && y >= 0 && (x as usize) < self.w && (y as usize) < self.h {
            let o = (y as usize * self.w + x as usize) * 3;
            self.px[o..o + 3].copy_from_slice(&c);
        }
    }

    /// Sets pixel (x, y) to the grey level v ∈ [0, 1] (clamped).
    pub fn put_gray(&mut self, x: usize, y: usize, v: f32) {
        let g = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        self.set(x as i64, y as i64, [g, g, g]);
    }

    fn rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, c: Rgb) {
        for y in y0..=y1 {
            for x in x0..=x1 {
                self.set(x, y, c);
            }
        }
    }

    fn line(&mut self, (x0, y0): (i64, i64), (x1, y1): (i64, i64), c: Rgb) {
        let n = (x1 - x0).abs().max((y1 - y0).abs()).max(1);
        for t in 0..=n {
            let x = x0 + (x1 - x0) * t / n;
            let y = y0 + (y1 - y0) * t / n;
            self.set(x, y, c);
        }
    }

    /// Draws `s` with its top-left corner at (x, y), `scale` pixels per font pixel.
    pub fn text(&mut self, x: i64, y: i64, s: &str, scale: i64, c: Rgb) {
        for (k, ch) in s.chars().enumerate() {
            let g = glyph(ch);
            for (r, bits) in g.iter().enumerate() {
                for b in 0..5 {
                    if bits & (0x10 >> b) != 0 {
                        let (px, py) = (x + (6 * k as i64 + b) * scale, y + r as i64 * scale);
                        self.rect(px, py, px + scale - 1, py + scale - 1, c);
                    }
                }
            }
        }
    }

    /// Encodes the canvas as PNG (8-bit RGB, no filter) and writes it to `path` through a temporary
    /// file, so a failed write leaves nothing behind.
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

/// Maps t ∈ [0, 1] onto a perceptually ordered blue → green → yellow ramp (viridis-like anchors).
pub fn ramp(t: f64) -> Rgb {
    const STOPS: [[f64; 3]; 5] =
        [[68.0, 1.0, 84.0], [59.0, 82.0, 139.0], [33.0, 145.0, 140.0], [94.0, 201.0, 98.0], [253.0, 231.0, 37.0]];
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 } * (STOPS.len() - 1) as f64;
    let k = (t.floor() as usize).min(STOPS.len() - 2);
    let f = t - k as f64;
    let mut c = [0u8; 3];
    for (i, slot) in c.iter_mut().enumerate() {
        *slot = (STOPS[k][i] * (1.0 - f) + STOPS[k + 1][i] * f).round() as u8;
    }
    c
}

/// Short tick label: 3 significant digits, exponent form outside [1e-3, 1e4).
fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    if !(1e-3..1e4).contains(&a) {
        format!("{v:.1e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    }
}

/// One series of a panel.
pub enum Series<'a> {
    /// Points with one colour each.
    Points {
        /// Abscissae.
        x: &'a [f64],
        /// Ordinates.
        y: &'a [f64],
        /// One colour per point, or a single colour for all.
        colors: Vec<Rgb>,
        /// Half-width of the square marker in pixels.
        radius: i64,
    },
    /// A polyline with square markers at the vertices.
    Line {
        /// Abscissae.
        x: &'a [f64],
        /// Ordinates.
        y: &'a [f64],
        /// Line colour.
        color: Rgb,
    },
}

/// An axes panel at (x0, y0) of size w×h on a canvas.
pub struct Panel {
    x0: i64,
    y0: i64,
    w: i64,
    h: i64,
    xr: (f64, f64),
    yr: (f64, f64),
}

fn range(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in vals.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-12 * (1.0 + lo.abs()) {
        return (lo - 0.5, hi + 0.5);
    }
    let pad = 0.04 * (hi - lo);
    (lo - pad, hi + pad)
}

impl Panel {
    /// Draws the frame, title, axis labels and min/max ticks for `series`, then the series.
    /// `y_range` fixes the vertical range (e.g. [0, 1] for r_k); `None` fits the data.
    #[allow(clippy::too_many_arguments)]
    pub fn draw(
        c: &mut Canvas,
        (x0, y0, w, h): (i64, i64, i64, i64),
        title: &str,
        xlabel: &str,
        ylabel: &str,
        series: &[Series],
        y_range: Option<(f64, f64)>,
    ) -> Panel {
        let xs = series.iter().flat_map(|s| match s {
            Series::Points { x, .. } | Series::Line { x, .. } => x.iter().copied(),
        });
        let ys = series.iter().flat_map(|s| match s {
            Series::Points { y, .. } | Series::Line { y, .. } => y.iter().copied(),
        });
        let xr = range(xs);
        let yr = y_range.unwrap_or_else(|| range(ys));
        // Plot area inside margins for ticks and labels.
        let p = Panel { x0: x0 + 60, y0: y0 + 28, w: w - 76, h: h - 64, xr, yr };
        c.text(x0 + (w - 2 * text_width(title)) / 2, y0 + 4, title, 2, BLACK);
        c.rect(p.x0, p.y0, p.x0 + p.w, p.y0 + p.h, WHITE);
        for (a, b) in [
            ((p.x0, p.y0), (p.x0 + p.w, p.y0)),
            ((p.x0, p.y0 + p.h), (p.x0 + p.w, p.y0 + p.h)),
            ((p.x0, p.y0), (p.x0, p.y0 + p.h)),
            ((p.x0 + p.w, p.y0), (p.x0 + p.w, p.y0 + p.h)),
        ] {
            c.line(a, b, BLACK);
        }
        for (v, at) in [(xr.0, p.x0), ((xr.0 + xr.1) / 2.0, p.x0 + p.w / 2), (xr.1, p.x0 + p.w)] {
            let s = tick(v);
            c.line((at, p.y0 + p.h), (at, p.y0 + p.h + 4), BLACK);
            c.text(at - text_width(&s) / 2, p.y0 + p.h + 8, &s, 1, BLACK);
        }
        for (v, at) in [(yr.0, p.y0 + p.h), ((yr.0 + yr.1) / 2.0, p.y0 + p.h / 2), (yr.1, p.y0)] {
            let s = tick(v);
            c.line((p.x0 - 4, at), (p.x0, at), BLACK);
            c.text(p.x0 - 6 - text_width(&s), at - 3, &s, 1, BLACK);
        }
        c.text(p.x0 + (p.w - text_width(xlabel)) / 2, p.y0 + p.h + 22, xlabel, 1, BLACK);
        c.text(x0 + 2, p.y0 - 12, ylabel, 1, BLACK);
        for s in series {
            match s {
                Series::Points { x, y, colors, radius } => {
                    for (i, (&a, &b)) in x.iter().zip(y.iter()).enumerate() {
                        let (px, py) = p.map(a, b);
                        let col = colors.get(i).or(colors.first()).copied().unwrap_or(BLACK);
                        c.rect(px - radius, py - radius, px + radius, py + radius, col);
                    }
                }
                Series::Line { x, y, color } => {
                    let pts: Vec<(i64, i64)> = x.iter().zip(y.iter()).map(|(&a, &b)| p.map(a, b)).collect();
                    for w in pts.windows(2) {
                        c.line(w[0], w[1], *color);
                    }
                    for &(px, py) in &pts {
                        c.rect(px - 2, py - 2, px + 2, py + 2, *color);
                    }
                }
            }
        }
        p
    }

    /// Pixel position of data point (x, y), clamped to the frame.
    pub fn map(&self, x: f64, y: f64) -> (i64, i64) {
        let fx = ((x - self.xr.0) / (self.xr.1 - self.xr.0)).clamp(0.0, 1.0);
        let fy = ((y - self.yr.0) / (self.yr.1 - self.yr.0)).clamp(0.0, 1.0);
        (self.x0 + (fx * self.w as f64).round() as i64, self.y0 + self.h - (fy * self.h as f64).round() as i64)
    }

    /// A reference line between two data points.
    pub fn segment(&self, c: &mut Canvas, a: (f64, f64), b: (f64, f64), color: Rgb) {
        c.line(self.map(a.0, a.1), self.map(b.0, b.1), color);
    }

    /// Legend entries (colour swatch + label) in the panel's top-right corner.
    pub fn legend(&self, c: &mut Canvas, entries: &[(&str, Rgb)]) {
        let width = entries.iter().map(|(s, _)| text_width(s)).max().unwrap_or(0) + 20;
        let (x, mut y) = (self.x0 + self.w - width - 6, self.y0 + 6);
        for (s, col) in entries {
            c.rect(x, y, x + 8, y + 6, *col);
            c.text(x + 14, y, s, 1, BLACK);
            y += 12;
        }
    }
}
