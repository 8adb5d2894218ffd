//! The comparison report directory: `report.json` (schema in the README), the PNG figures, and the
//! terminal summary table, and [`OutputDir`], through which every command that writes a directory
//! writes it: checked before any work starts (an existing directory with files is refused unless
//! forced), filled beside the target and renamed into place at the end, so a failed or interrupted
//! run leaves no directory that looks finished.

pub mod plot;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::data::{Observations, write_file_atomic};
use crate::error::{Error, Result};
use crate::pipeline::compare::{CompareParams, Comparison};
use crate::pipeline::whitney::SweepPoint;
use crate::report::plot::{BLUE, Canvas, GREY, ORANGE, Panel, Series, ramp};

/// Version of the `report.json` layout.
pub const SCHEMA_VERSION: u32 = 1;

/// Name of the marker file in every directory netmatch writes: `--force` replaces only a directory
/// that holds it (or is empty), so a mistyped `--out ~ --force` cannot delete a home directory.
pub const MARKER: &str = ".netmatch-output";

/// Checks, without creating anything, that `dir` can take an output: missing, or an empty directory,
/// or — with `force` — a directory netmatch wrote before (it is then replaced as a whole when the new
/// output is complete). Called before inputs are read, so a refused run costs nothing.
pub fn check_dir(dir: &Path, force: bool) -> Result<()> {
    if dir.file_name().is_none_or(|n| n == "." || n == "..") {
        return Err(Error::param("out", format!("`{}` does not name a directory of its own", dir.display())));
    }
    if !dir.exists() {
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            if parent.exists() && !parent.is_dir() {
                return Err(Error::param("out", format!("{} is not a directory", parent.display())));
            }
        }
        return Ok(());
    }
    if !dir.is_dir() {
        return Err(Error::param("out", format!("{} exists and is not a directory", dir.display())));
    }
    let mut entries: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    if entries.is_empty() {
        return Ok(());
    }
    entries.sort();
    let shown = format!(
        "{}{}",
        entries.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
        if entries.len() > 5 { ", …" } else { "" }
    );
    if !force {
        return Err(Error::param(
            "out",
            format!(
                "{} already holds {} file(s) ({shown}); refusing to overwrite — pass --force to replace it, or \
                 choose another directory",
                dir.display(),
                entries.len()
            ),
        ));
    }
    let ours = [MARKER, "report.json", "horse.npz", "contact_sheet.png"];
    if !entries.iter().any(|e| ours.contains(&e.as_str())) {
        return Err(Error::param(
            "out",
            format!(
                "{} holds {} file(s) ({shown}) and is not a netmatch output directory; --force replaces only \
                 directories netmatch wrote — remove it yourself or choose another",
                dir.display(),
                entries.len()
            ),
        ));
    }
    Ok(())
}

/// Checks, without creating anything, that `path` can take a single output file: not a directory, and
/// no parent that is a file. Called before any work, like [`check_dir`].
pub fn check_file(path: &Path) -> Result<()> {
    if path.is_dir() {
        return Err(Error::param("out", format!("{} is a directory; give a file name", path.display())));
    }
    let mut a = path.parent();
    while let Some(p) = a.filter(|p| !p.as_os_str().is_empty()) {
        if p.exists() {
            if !p.is_dir() {
                return Err(Error::param("out", format!("{} is not a directory", p.display())));
            }
            break;
        }
        a = p.parent();
    }
    Ok(())
}

/// An output directory that is complete or absent. Files are written into a hidden sibling
/// (`.NAME.incomplete-PID`) and [`OutputDir::commit`] renames it into place; dropped without a commit
/// (an error, a panic unwinding) the sibling is removed, with any parent directories it created. A
/// forced replacement swaps the old directory out by renames, so the target never holds a mix of old
/// and new files. A process killed outright leaves only the hidden sibling, which the next run for
/// the same target removes.
#[derive(Debug)]
pub struct OutputDir {
    target: PathBuf,
    stage: PathBuf,
    created: Vec<PathBuf>,
    force: bool,
    done: bool,
}

impl OutputDir {
    /// Checks `target` (see [`check_dir`]) and creates the staging directory beside it.
    pub fn create(target: &Path, force: bool) -> Result<Self> {
        check_dir(target, force)?;
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| n != ".." && n != ".")
            .ok_or_else(|| Error::param("out", format!("{} does not name a directory", target.display())))?;
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // Parents that do not exist yet are created, and removed again if the run fails.
        let mut created = Vec::new();
        let mut a = parent.as_path();
        while !a.as_os_str().is_empty() && !a.exists() {
            created.push(a.to_path_buf());
            a = a.parent().unwrap_or(Path::new(""));
        }
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
        remove_stale_stages(&parent, &name);
        let stage = parent.join(format!(".{name}.incomplete-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&stage);
        let out = OutputDir { target: target.to_path_buf(), stage: stage.clone(), created, force, done: false };
        std::fs::create_dir(&stage).map_err(|e| Error::io(&stage, e))?;
        Ok(out)
    }

    /// Where the files are written until the commit.
    pub fn path(&self) -> &Path {
        &self.stage
    }

    /// The directory the output will have once committed.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Moves the finished output into place (replacing an old one, as checked by [`OutputDir::create`]).
    pub fn commit(mut self) -> Result<PathBuf> {
        write_file_atomic(&self.stage.join(MARKER), b"written by netmatch; --force may replace this directory\n")?;
        let target = self.target.clone();
        // Checked again: another process may have filled the target while this one computed.
        check_dir(&target, self.force)?;
        if target.is_dir() {
            let empty = std::fs::read_dir(&target).map(|mut d| d.next().is_none()).unwrap_or(false);
            if empty {
                std::fs::remove_dir(&target).map_err(|e| Error::io(&target, e))?;
            } else {
                let old = self.stage.with_file_name(format!(
                    ".{}.replaced-{}",
                    target.file_name().unwrap_or_default().to_string_lossy(),
                    std::process::id()
                ));
                let _ = std::fs::remove_dir_all(&old);
                std::fs::rename(&target, &old).map_err(|e| Error::io(&target, e))?;
                if let Err(e) = std::fs::rename(&self.stage, &target) {
                    let _ = std::fs::rename(&old, &target);
                    return Err(Error::io(&target, e));
                }
                self.done = true;
                let _ = std::fs::remove_dir_all(&old);
                return Ok(target);
            }
        }
        std::fs::rename(&self.stage, &target).map_err(|e| Error::io(&target, e))?;
        self.done = true;
        Ok(target)
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.stage);
            for dir in &self.created {
                // Only empty directories go: anything another process put there stays.
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

/// Removes `.NAME.incomplete-PID` siblings left by killed runs (on Linux, where a PID's liveness is
/// visible in /proc; elsewhere they stay, hidden).
fn remove_stale_stages(parent: &Path, name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let prefix = format!(".{name}.incomplete-");
    let Ok(entries) = std::fs::read_dir(parent) else { return };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = file.strip_prefix(&prefix).and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// The extra, run-level facts that go into `report.json` beside the comparison itself.
#[derive(Clone, Debug, Default)]
pub struct RunInfo {
    /// Where A and B came from.
    pub sources: (String, String),
    /// Observation dimensions D of A and B as read.
    pub dims_read: (usize, usize),
    /// Columns of A and B that were compared (`None` = all).
    pub neurons: (Option<Vec<usize>>, Option<Vec<usize>>),
    /// Note about the backend choice (e.g. a fallback).
    pub backend_note: Option<String>,
    /// Wall-clock seconds of the whole run.
    pub seconds: f64,
}

fn sweep_json(s: &[SweepPoint]) -> Value {
    Value::Array(
        s.iter()
            .map(|p| {
                json!({
                    "q": p.q,
                    "neurons": p.neurons,
                    "verdict": p.verdict.map(|v| v.as_str()),
                    "rmse_ab": p.rmse.map(|r| r.0),
                    "rmse_ba": p.rmse.map(|r| r.1),
                    "input_reconstruction_rmse": p.reconstruction.0,
                    "output_reconstruction_rmse": p.reconstruction.1,
                    "reasons": p.reasons,
                    "error": p.error,
                })
            })
            .collect(),
    )
}

/// The full `report.json` value.
pub fn report_json(c: &Comparison, p: &CompareParams, run: &RunInfo, sweep: Option<&[SweepPoint]>) -> Value {
    let mut v = c.to_json(p);
    let o = v.as_object_mut().expect("to_json returns an object");
    o.insert("schema_version".into(), json!(SCHEMA_VERSION));
    o.insert("tool".into(), json!(format!("netmatch {}", env!("CARGO_PKG_VERSION"))));
    o.insert(
        "inputs".into(),
        json!({
            "a": {"source": run.sources.0, "dim": run.dims_read.0, "neurons": run.neurons.0},
            "b": {"source": run.sources.1, "dim": run.dims_read.1, "neurons": run.neurons.1},
        }),
    );
    o.insert("backend_note".into(), json!(run.backend_note));
    o.insert("whitney_sweep".into(), sweep.map(sweep_json).unwrap_or(Value::Null));
    o.insert("total_seconds".into(), json!(run.seconds));
    v
}

/// Writes `report.json` and the figures into `dir` (prepared by [`prepare_dir`]); returns the paths.
pub fn write(
    dir: &Path,
    c: &Comparison,
    p: &CompareParams,
    run: &RunInfo,
    data: (&Observations, &Observations),
    sweep: Option<&[SweepPoint]>,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let json = report_json(c, p, run, sweep);
    let path = dir.join("report.json");
    let text = serde_json::to_string_pretty(&json).map_err(|e| Error::format(&path, e.to_string()))?;
    write_file_atomic(&path, text.as_bytes())?;
    written.push(path);
    for (name, canvas) in figures(c, data, sweep) {
        let path = dir.join(name);
        canvas.save_png(&path)?;
        written.push(path);
    }
    Ok(written)
}

/// Colour per point: the first input coordinate on a ramp when inputs are present, else the index.
fn point_colors(o: &Observations) -> Vec<[u8; 3]> {
    let vals: Vec<f64> = match &o.inputs {
        Some(x) => x.column(0).to_vec(),
        None => (0..o.n()).map(|i| i as f64).collect(),
    };
    let (lo, hi) = vals.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    vals.iter().map(|&v| ramp(if hi > lo { (v - lo) / (hi - lo) } else { 0.5 })).collect()
}

/// The report's figures, by file name.
pub fn figures(
    c: &Comparison,
    (a, b): (&Observations, &Observations),
    sweep: Option<&[SweepPoint]>,
) -> Vec<(&'static str, Canvas)> {
    let mut out = Vec::new();
    let (ea, eb) = &c.embeddings;
    // Spectra: the non-trivial eigenvalues side by side.
    {
        let mut cv = Canvas::new(640, 440);
        let ya: Vec<f64> = ea.eigenvalues[1..].to_vec();
        let yb: Vec<f64> = eb.eigenvalues[1..].to_vec();
        let xa: Vec<f64> = (1..=ya.len()).map(|i| i as f64).collect();
        let xb: Vec<f64> = (1..=yb.len()).map(|i| i as f64).collect();
        let panel = Panel::draw(
            &mut cv,
            (0, 0, 640, 440),
            "SPECTRA A VS B",
            "COORDINATE K",
            "EIGENVALUE",
            &[Series::Line { x: &xa, y: &ya, color: BLUE }, Series::Line { x: &xb, y: &yb, color: ORANGE }],
            None,
        );
        panel.legend(&mut cv, &[("A", BLUE), ("B", ORANGE)]);
        out.push(("spectra.png", cv));
    }
    // Embeddings coloured by the first input coordinate.
    {
        let mut cv = Canvas::new(1100, 500);
        for (k, (name, e, sel, o)) in [("A", ea, &c.selected.0, a), ("B", eb, &c.selected.1, b)].into_iter().enumerate()
        {
            let col = |j: usize| e.coords.column(j).to_vec();
            let (x, y, xl, yl) = if sel.len() >= 2 {
                (col(sel[0]), col(sel[1]), format!("PSI {}", sel[0]), format!("PSI {}", sel[1]))
            } else {
                let xs = match &o.inputs {
                    Some(inp) => inp.column(0).to_vec(),
                    None => (0..o.n()).map(|i| i as f64).collect(),
                };
                let xl = if o.inputs.is_some() { "INPUT X1" } else { "POINT INDEX" };
                (
                    xs,
                    col(sel.first().copied().unwrap_or(1)),
                    xl.to_string(),
                    format!("PSI {}", sel.first().unwrap_or(&1)),
                )
            };
            Panel::draw(
                &mut cv,
                (550 * k as i64, 0, 550, 500),
                &format!("EMBEDDING {name}"),
                &xl,
                &yl,
                &[Series::Points { x: &x, y: &y, colors: point_colors(o), radius: 1 }],
                None,
            );
        }
        out.push(("embeddings.png", cv));
    }
    // r_k curves.
    {
        let mut cv = Canvas::new(640, 440);
        let (ra, rb) = &c.r_k;
        let xa: Vec<f64> = (1..=ra.len()).map(|i| i as f64).collect();
        let xb: Vec<f64> = (1..=rb.len()).map(|i| i as f64).collect();
        let sa: Vec<f64> = c.selected.0.iter().map(|&s| s as f64).collect();
        let sav: Vec<f64> = c.selected.0.iter().map(|&s| ra[s - 1]).collect();
        let sb: Vec<f64> = c.selected.1.iter().map(|&s| s as f64).collect();
        let sbv: Vec<f64> = c.selected.1.iter().map(|&s| rb[s - 1]).collect();
        let panel = Panel::draw(
            &mut cv,
            (0, 0, 640, 440),
            "LOCAL LINEAR FIT R_K",
            "COORDINATE K",
            "R_K",
            &[
                Series::Line { x: &xa, y: ra, color: BLUE },
                Series::Line { x: &xb, y: rb, color: ORANGE },
                Series::Points { x: &sa, y: &sav, colors: vec![BLUE], radius: 5 },
                Series::Points { x: &sb, y: &sbv, colors: vec![ORANGE], radius: 3 },
            ],
            Some((0.0, 1.05)),
        );
        panel.legend(&mut cv, &[("A", BLUE), ("B", ORANGE), ("BIG = SELECTED", GREY)]);
        out.push(("r_k.png", cv));
    }
    // Predicted vs true on the held-out points, every component pooled.
    {
        let mut cv = Canvas::new(1100, 500);
        let ((pab, tab), (pba, tba)) = &c.held_out;
        for (k, (title, pred, truth, rmse)) in
            [("T_AB: PREDICTED VS TRUE O_B", pab, tab, c.rmse.0), ("T_BA: PREDICTED VS TRUE O_A", pba, tba, c.rmse.1)]
                .into_iter()
                .enumerate()
        {
            let x: Vec<f64> = truth.iter().copied().collect();
            let y: Vec<f64> = pred.iter().copied().collect();
            let panel = Panel::draw(
                &mut cv,
                (550 * k as i64, 0, 550, 500),
                title,
                "TRUE (HELD OUT)",
                "PREDICTED",
                &[Series::Points { x: &x, y: &y, colors: vec![if k == 0 { ORANGE } else { BLUE }], radius: 1 }],
                None,
            );
            let (lo, hi) = x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            panel.segment(&mut cv, (lo, lo), (hi, hi), GREY);
            panel.legend(&mut cv, &[(&format!("RMSE {:.2} %", 100.0 * rmse), GREY)]);
        }
        out.push(("predicted_vs_true.png", cv));
    }
    // Whitney sweep.
    if let Some(s) = sweep.filter(|s| !s.is_empty()) {
        let mut cv = Canvas::new(640, 440);
        let ok: Vec<&SweepPoint> = s.iter().filter(|p| p.rmse.is_some()).collect();
        let q: Vec<f64> = ok.iter().map(|p| p.q as f64).collect();
        // log10 of the RMSE in per cent: the errors span several decades across q.
        let lg = |v: f64| (100.0 * v).max(1e-6).log10();
        let ab: Vec<f64> = ok.iter().map(|p| lg(p.rmse.expect("filtered").0)).collect();
        let ba: Vec<f64> = ok.iter().map(|p| lg(p.rmse.expect("filtered").1)).collect();
        let rq: Vec<f64> = s.iter().filter(|p| p.reconstruction.0.is_some()).map(|p| p.q as f64).collect();
        let rin: Vec<f64> = s.iter().filter_map(|p| p.reconstruction.0).map(lg).collect();
        let mut series =
            vec![Series::Line { x: &q, y: &ab, color: ORANGE }, Series::Line { x: &q, y: &ba, color: BLUE }];
        if !rin.is_empty() {
            series.push(Series::Line { x: &rq, y: &rin, color: GREY });
        }
        let panel = Panel::draw(
            &mut cv,
            (0, 0, 640, 440),
            "WHITNEY SWEEP",
            "NEURONS Q OF A",
            "LOG10 HELD-OUT RMSE %",
            &series,
            None,
        );
        panel.legend(&mut cv, &[("T_AB", ORANGE), ("T_BA", BLUE), ("INPUT FROM Q", GREY)]);
        out.push(("whitney.png", cv));
    }
    out
}

/// The terminal summary: verdict, reasons and the deciding numbers as an aligned table.
pub fn summary_table(c: &Comparison, p: &CompareParams) -> String {
    let t = &p.thresholds;
    let pct = |v: f64| if v < 1e-4 { format!("{:.1e} %", 100.0 * v) } else { format!("{:.2} %", 100.0 * v) };
    let min_corr = c.alignment.corr.iter().copied().fold(f64::INFINITY, f64::min);
    let max_rate = c.rate_diffs.iter().copied().fold(0.0, f64::max);
    let span = |v: Vec<f64>| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(0.0, f64::max);
        format!("{} – {}", pct(lo), pct(hi))
    };
    let rows: Vec<(String, String, String)> = vec![
        (
            format!("o_A→o_B held-out ({} folds)", c.folds.len()),
            span(c.folds.iter().map(|f| f.0).collect()),
            format!("decides: ≤ {} equivalent", pct(t.predict_rmse)),
        ),
        (
            format!("o_B→o_A held-out ({} folds)", c.folds.len()),
            span(c.folds.iter().map(|f| f.1).collect()),
            format!("decides: ≤ {} equivalent", pct(t.predict_rmse)),
        ),
        ("d from bursts A / B".into(), format!("{} / {}", c.dims.0, c.dims.1), "must agree for equivalent".into()),
        (
            "locally constant A / B".into(),
            format!("{} / {}", pct(c.constant.0), pct(c.constant.1)),
            format!("decides: differ by ≤ {}", pct(t.constant_diff)),
        ),
        ("held-out RMSE T_AB / T_BA".into(), format!("{} / {}", pct(c.rmse.0), pct(c.rmse.1)), "explains".into()),
        ("min matched |corr|".into(), format!("{min_corr:.4}"), "explains".into()),
        ("max rate difference".into(), pct(max_rate), "explains".into()),
        ("selected coords A / B".into(), format!("{:?} / {:?}", c.selected.0, c.selected.1), "explains".into()),
        ("shared ε".into(), format!("{:.3e}", c.eps), String::new()),
        (
            "CKA / Procrustes / CCA".into(),
            format!(
                "{:.3} / {:.3} / {:.3}",
                c.similarity.linear_cka, c.similarity.procrustes_distance, c.similarity.cca_mean_corr
            ),
            "context".into(),
        ),
    ];
    let w0 = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let w1 = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0);
    let mut s = format!("verdict: {}\n", c.verdict.as_str().to_uppercase());
    for r in &c.reasons {
        s.push_str(&format!("  - {r}\n"));
    }
    for (a, b, note) in rows {
        let pad0 = w0 - a.chars().count();
        let pad1 = w1 - b.chars().count();
        s.push_str(&format!("  {a}{}  {}{b}  {note}\n", " ".repeat(pad0), " ".repeat(pad1)));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("netmatch-outdir-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn an_output_directory_is_complete_or_absent() {
        let root = scratch("atomic");
        // Dropped without a commit: neither the target, the staging directory, nor the parents it made.
        let target = root.join("a/b/report");
        {
            let out = OutputDir::create(&target, false).unwrap();
            std::fs::write(out.path().join("report.json"), b"{}").unwrap();
            assert!(!target.exists());
        }
        assert!(names(&root).is_empty(), "{:?}", names(&root));
        // Committed: the target holds the files and the marker, nothing else is left beside it.
        let out = OutputDir::create(&target, false).unwrap();
        std::fs::write(out.path().join("report.json"), b"{}").unwrap();
        out.commit().unwrap();
        assert_eq!(names(&target), vec![MARKER.to_string(), "report.json".to_string()]);
        assert_eq!(names(&root.join("a/b")), vec!["report".to_string()]);
        // Occupied: refused without force; replaced as a whole with it, old files gone.
        std::fs::write(target.join("stale.png"), b"old").unwrap();
        assert!(OutputDir::create(&target, false).is_err());
        let out = OutputDir::create(&target, true).unwrap();
        std::fs::write(out.path().join("new.json"), b"{}").unwrap();
        out.commit().unwrap();
        assert_eq!(names(&target), vec![MARKER.to_string(), "new.json".to_string()]);
        assert_eq!(names(&root.join("a/b")), vec!["report".to_string()]);
        // A directory netmatch did not write is not replaced, even with force.
        let foreign = root.join("home");
        std::fs::create_dir_all(&foreign).unwrap();
        std::fs::write(foreign.join("thesis.tex"), b"mine").unwrap();
        assert!(check_dir(&foreign, true).is_err());
        assert!(check_dir(Path::new("."), true).is_err());
        // A staging directory of a dead process is removed by the next run for the same target.
        let stale = root.join("a/b/.report.incomplete-4000000000");
        std::fs::create_dir_all(&stale).unwrap();
        drop(OutputDir::create(&target, true).unwrap());
        assert!(!stale.exists() || !Path::new("/proc/self").exists());
        let _ = std::fs::remove_dir_all(&root);
    }
}
