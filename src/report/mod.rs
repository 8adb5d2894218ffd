//! The comparison report directory: `report.json` (schema in the README), the PNG figures, and the
//! terminal summary table, and [`OutputDir`], through which every command that writes a directory
//! writes it: checked before any work starts (an existing directory with files is refused unless
//! forced), filled beside the target and renamed into place at the end, so a failed or interrupted
//! run leaves no directory that looks finished.

pub mod arrays;
pub mod figures;
pub mod schema;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::data::{Observations, write_file_atomic};
use crate::error::{Error, Result};
use crate::pipeline::compare::{CompareParams, Comparison};
use crate::pipeline::embed::Embedding;
use crate::pipeline::local::Network;
use crate::pipeline::whitney::SweepPoint;
use crate::report::figures::Figure;
pub use arrays::{Member, ReportArrays};

pub use schema::{Report, SCHEMA_VERSION};

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

/// The JSON summary `netmatch embed` prints on stdout: what ran, what it found, where it went.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EmbedSummary {
    /// Points N.
    pub n: usize,
    /// Observation dimension D.
    pub dim: usize,
    /// The ε used.
    pub eps: f64,
    /// How ε was chosen.
    pub eps_rule: &'static str,
    /// The log-log slope at ε (auto rule).
    pub eps_slope: Option<f64>,
    /// The dimension the slope implies (auto rule).
    pub intrinsic_dimension: Option<f64>,
    /// The common rank r.
    pub rank: usize,
    /// Points per estimated rank.
    pub rank_histogram: BTreeMap<String, usize>,
    /// `"gpu"` or `"cpu"`.
    pub backend: &'static str,
    /// Why `auto` chose the CPU, if it did.
    pub backend_note: Option<String>,
    /// The storage that ran.
    pub storage: String,
    /// The adapter or CPU description.
    pub adapter: String,
    /// Whether the eigen-solve met its tolerance.
    pub converged: bool,
    /// Vectors multiplied by the operator.
    pub matvecs: usize,
    /// The eigensolver.
    pub solver: &'static str,
    /// Its block size.
    pub block: usize,
    /// Passes over the operator.
    pub passes: usize,
    /// Restart cycles.
    pub restarts: usize,
    /// Largest residual of the returned pairs.
    pub max_residual: f64,
    /// The k+1 eigenvalues.
    pub eigenvalues: Vec<f64>,
    /// Seconds per stage.
    pub seconds: BTreeMap<String, f64>,
    /// The output file, when written.
    pub out: Option<String>,
    /// What the user should know (also sent to the observer).
    pub warnings: Vec<String>,
}

impl EmbedSummary {
    /// The summary of `e`, computed from `data`.
    pub fn new(data: &Observations, e: &Embedding, backend_note: Option<String>, out: Option<String>) -> EmbedSummary {
        EmbedSummary {
            n: data.n(),
            dim: data.dim(),
            eps: e.eps.eps,
            eps_rule: e.eps.rule,
            eps_slope: e.eps.slope,
            intrinsic_dimension: e.eps.dimension,
            rank: e.rank,
            rank_histogram: e.rank_histogram.iter().map(|(r, c)| (r.to_string(), *c)).collect(),
            backend: e.backend,
            backend_note,
            storage: e.storage.clone(),
            adapter: e.adapter.clone(),
            converged: e.info.converged,
            matvecs: e.info.matvecs,
            solver: e.info.solver,
            block: e.info.block,
            passes: e.info.passes,
            restarts: e.info.restarts,
            max_residual: e.info.residuals.iter().copied().fold(0.0, f64::max),
            eigenvalues: e.eigenvalues.clone(),
            seconds: e.timings.iter().map(|(s, t)| (s.to_string(), *t)).collect(),
            out,
            warnings: e.warnings.clone(),
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

/// Writes `report.json`, `report.npz` and the figures (PNG and SVG) into `dir` (an
/// [`OutputDir`]'s stage); returns the paths.
pub fn write(
    dir: &Path,
    c: &Comparison,
    p: &CompareParams,
    run: &RunInfo,
    data: (&Observations, &Observations),
    sweep: Option<&[SweepPoint]>,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let path = dir.join("report.json");
    let text = serde_json::to_string_pretty(&Report::new(c, p, run, sweep))
        .map_err(|e| Error::format(&path, e.to_string()))?;
    write_file_atomic(&path, text.as_bytes())?;
    written.push(path);
    let arrays = ReportArrays::new(c, data.0, sweep);
    let path = dir.join("report.npz");
    arrays.write_npz(&path)?;
    written.push(path);
    let mut shown =
        vec![Figure::Spectra, Figure::Embeddings, Figure::RK, Figure::PredictedVsTrue, Figure::Disagreement];
    if arrays.whitney.is_some() {
        shown.push(Figure::Whitney);
    }
    for figure in shown {
        written.extend(figures::save(figure, &arrays, dir)?);
    }
    Ok(written)
}

/// The Whitney sweep as lines under the summary table: one line per q with its verdict and errors.
pub fn sweep_table(s: &[SweepPoint]) -> String {
    let mut out = String::from("  Whitney sweep (A's first q picked neurons vs B):\n");
    for pt in s {
        let rec = pt.reconstruction.0.map(|v| format!(", input from q: {:.2} %", 100.0 * v)).unwrap_or_default();
        out += &match (pt.verdict, pt.rmse) {
            (Some(v), Some((ab, ba))) => {
                format!("    q = {}: {} (T_AB {:.2} %, T_BA {:.2} %{rec})\n", pt.q, v.as_str(), 100.0 * ab, 100.0 * ba)
            }
            _ => format!("    q = {}: not comparable ({}){rec}\n", pt.q, pt.error.as_deref().unwrap_or("?")),
        };
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
        (
            "d A / B".into(),
            format!("{} ({}) / {} ({})", c.dims.0, c.dim_sources.0, c.dims.1, c.dim_sources.1),
            "must agree for equivalent".into(),
        ),
        (
            "regions lost by A / B".into(),
            format!("{} / {}", pct(c.local.region_fraction(Network::A)), pct(c.local.region_fraction(Network::B))),
            format!("decides: any region (≥ {} connected points) is not equivalent", t.local.min_region),
        ),
        ("locally constant A / B".into(), format!("{} / {}", pct(c.constant.0), pct(c.constant.1)), "explains".into()),
        (
            "held-out RMSE T_AB / T_BA".into(),
            format!("{} / {}", pct(c.rmse.0), pct(c.rmse.1)),
            if c.linear.under_resolved { "explains; under-resolved: not evidence".into() } else { "explains".into() },
        ),
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
