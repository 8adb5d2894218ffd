//! Command-line definitions (clap derive): every choice a typed value (`ValueEnum` or a parser into
//! the library's type), every size a checked range. Nothing here computes; [`super::run`] dispatches.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, RangedU64ValueParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use netmatch::backend::{BackendChoice, KernelMethod, Precision};
use netmatch::pipeline::embed::{SparseSolve, Storage};
use netmatch::solve::block::Solver;

/// Upper bounds of the size flags, shown in `--help`: every size a user types is checked here, before
/// anything is read or allocated (the library checks the same limits for its own callers).
pub mod limits {
    /// Largest k (diffusion coordinates).
    pub const K: u64 = 1000;
    /// Largest N of a demo or benchmark problem.
    pub const POINTS: u64 = 1_000_000;
    /// Largest burst size M.
    pub const BURST: u64 = 4096;
    /// Largest neighbour count of the sparse kernel.
    pub const KNN: u64 = 4096;
    /// Largest rank r of the local pseudo-inverse.
    pub const RANK: u64 = 4096;
    /// Largest intrinsic dimension d given by hand.
    pub const DIM: u64 = 64;
    /// Largest number of training steps.
    pub const STEPS: u64 = 1_000_000;
}

/// A count flag within `lo..=hi` (a usage error naming the flag otherwise).
fn count(lo: u64, hi: u64) -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::<usize>::new().range(lo..=hi)
}

fn number(s: &str) -> Result<f64, String> {
    s.trim().parse::<f64>().map_err(|_| format!("`{s}` is not a number"))
}

/// A finite number > 0.
fn positive(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if v.is_finite() && v > 0.0 { Ok(v) } else { Err(format!("must be a finite number > 0, got {s}")) }
}

/// A finite number ≥ 0.
fn non_negative(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if v.is_finite() && v >= 0.0 { Ok(v) } else { Err(format!("must be a finite number ≥ 0, got {s}")) }
}

/// A number strictly between 0 and 1.
fn open_unit(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if v > 0.0 && v < 1.0 { Ok(v) } else { Err(format!("must lie strictly between 0 and 1, got {s}")) }
}

/// A number in [0, 1].
fn closed_unit(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if (0.0..=1.0).contains(&v) { Ok(v) } else { Err(format!("must lie in [0, 1], got {s}")) }
}

/// A finite-difference step in (0, 0.5) radians.
fn step(s: &str) -> Result<f32, String> {
    let v = number(s)?;
    if v > 0.0 && v < 0.5 { Ok(v as f32) } else { Err(format!("must lie strictly between 0 and 0.5 rad, got {s}")) }
}

/// Dense kernel precision, or auto (f32 where it fits, else f16).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PrecisionArg {
    /// f32 where the matrix fits, else f16.
    Auto,
    /// 4 bytes an entry.
    F32,
    /// 2 bytes an entry (the arithmetic stays f32).
    F16,
}

impl PrecisionArg {
    /// The library's choice (`None`: let the storage plan choose).
    pub fn get(self) -> Option<Precision> {
        match self {
            PrecisionArg::Auto => None,
            PrecisionArg::F32 => Some(Precision::F32),
            PrecisionArg::F16 => Some(Precision::F16),
        }
    }
}

/// Built-in seeded data for `embed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SyntheticData {
    /// datafold's tutorial case: N = 2500, M = 100, σ = 0.01 on the unit square.
    Mushroom,
    /// N = 1000 points on a circle in R³, Jacobians.
    Circle,
}

/// Built-in seeded pairs for `compare`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SyntheticPair {
    /// Two tanh layers of the same inputs (equivalent).
    Equivalent,
    /// A ignores the second input (a negative control: not equivalent).
    Blind,
    /// B folds the last fifth of x₁ back: 40 % of the inputs lose information (not equivalent, though
    /// the pooled regressions pass).
    PartialFold,
}

/// What every command that computes and writes a directory shares.
#[derive(Args, Debug, Clone, Copy)]
pub struct RunArgs {
    /// auto (a hardware GPU if present, else the CPU; never a software adapter), gpu, or cpu.
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// Replace an existing output directory that netmatch wrote (as a whole, once the new one is complete).
    #[arg(long)]
    pub force: bool,
    /// No progress or notes on stderr (the summary still goes to stdout; warnings are in report.json).
    #[arg(long, short)]
    pub quiet: bool,
}

/// netmatch: do two neural networks compute the same thing? Diffusion maps with a Mahalanobis metric,
/// on the GPU (wgpu) with a CPU twin.
#[derive(Parser, Debug)]
#[command(name = "netmatch", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Sub-commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// List GPU adapters, the one netmatch would choose, and its limits.
    Info,
    /// Diffusion-map embedding of one network's observations (.npz in, .npz out, JSON summary on stdout).
    Embed(EmbedArgs),
    /// Compare two networks observed on the same base inputs: verdict, report.json, figures.
    Compare(Box<CompareArgs>),
    /// Train network pairs in-process and compare them end to end (experiments of design.md §2).
    #[cfg(feature = "demos")]
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Render an image set (PNG frames, an .npz of images and angles, a contact sheet).
    #[command(subcommand)]
    Render(RenderCommand),
    /// Benchmarks (GPU path vs CPU path in one run).
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// Arguments of `netmatch embed`.
#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// Input .npz or .safetensors with `obs` (N×D) and `bursts` (N×M×D) or `jacobians` (N×D×d); optional
    /// `sigma`, `inputs`.
    #[arg(long, required_unless_present = "synthetic", conflicts_with = "synthetic")]
    pub input: Option<PathBuf>,
    /// Built-in seeded data instead of a file: `mushroom` (datafold's tutorial case: N = 2500, M = 100,
    /// σ = 0.01 on the unit square) or `circle` (N = 1000 points on a circle in R³, Jacobians).
    #[arg(long, value_enum)]
    pub synthetic: Option<SyntheticData>,
    /// Output .npz: `eigenvalues` (k+1), `coords` (N×(k+1)), `eps`.
    #[arg(long)]
    pub out: PathBuf,
    /// Number of non-trivial diffusion coordinates (1–1000; N must be at least k + 3).
    #[arg(long, allow_negative_numbers = true, default_value_t = 10, value_parser = count(1, limits::K))]
    pub k: usize,
    /// Kernel bandwidth: auto (Singer's log-log slope), median, or a positive number (K = exp(−d²/ε)).
    #[arg(long, default_value = "auto", allow_hyphen_values = true)]
    pub eps: String,
    /// α of the α-normalisation, in [0, 1] (1 = Laplace–Beltrami).
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true, value_parser = closed_unit)]
    pub alpha: f64,
    /// Rank r of the local pseudo-inverse (the intrinsic dimension, 1–4096); estimated when absent.
    #[arg(long, allow_negative_numbers = true, value_parser = count(1, limits::RANK))]
    pub rank: Option<usize>,
    /// auto (GPU if present, else CPU), gpu, or cpu.
    #[arg(long, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// Weight ν of the normal part of a displacement (0 = plain truncated pseudo-inverse; finite, ≥ 0).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0, value_parser = non_negative)]
    pub normal_weight: f64,
    /// Relative residual tolerance of the eigen-solve, in (0, 1).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1e-5, value_parser = open_unit)]
    pub tol: f64,
    /// Matrix–vector product budget of the eigen-solve, in vectors multiplied (default: block solver
    /// 60 passes of b vectors; lanczos 50·m + 1000).
    #[arg(long, allow_negative_numbers = true, value_parser = count(1, 1 << 40))]
    pub max_matvecs: Option<usize>,
    /// Eigensolver: block (block Lanczos, one pass over S per block of vectors) or lanczos (the
    /// single-vector reference).
    #[arg(long, value_enum, default_value_t = Solver::Block)]
    pub solver: Solver,
    /// Kernel storage: auto (dense while the matrix fits 4 GiB and the device's memory, f32 up to
    /// N = 32 768 then f16 up to 46 340; then matrix-free up to N = 100 000 on a hardware GPU; else
    /// sparse), dense, sparse (k-nearest-neighbour kernel in CSR), or matrix-free (the kernel
    /// recomputed in every pass, no N×N memory).
    #[arg(long, value_enum, default_value_t = Storage::Auto)]
    pub storage: Storage,
    /// Dense kernel precision: auto (f32 where it fits, else f16), f32, or f16 (half the memory; the
    /// arithmetic stays f32).
    #[arg(long, value_enum, default_value_t = PrecisionArg::Auto)]
    pub precision: PrecisionArg,
    /// How the kernel entries are computed: auto (= gemm, tiled matrix products; they won at every D
    /// measured), gemm or pairwise (each pair on its own).
    #[arg(long, value_enum, default_value_t = KernelMethod::Auto)]
    pub kernel: KernelMethod,
    /// Neighbours per point of the sparse kernel (itself included; 2–4096).
    #[arg(long, allow_negative_numbers = true, default_value_t = 32, value_parser = count(2, limits::KNN))]
    pub knn: usize,
    /// Eigen-solve of the sparse kernel: shift-invert (sparse Cholesky of (1+μ)I − S on the host, a
    /// few passes however crowded the spectrum) or krylov (block Lanczos on S, products on the device).
    #[arg(long, value_enum, default_value_t = SparseSolve::ShiftInvert)]
    pub sparse_solve: SparseSolve,
    /// Seed (ε subsample, start vector).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0)]
    pub seed: u64,
    /// Write the output and exit 0 even if the eigen-solve did not converge.
    #[arg(long)]
    pub allow_unconverged: bool,
    /// Print progress per stage on stderr.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Benchmarks.
#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Embedding of seeded synthetic data: GPU path vs CPU path vs float64 reference.
    Embed(BenchEmbedArgs),
    /// Writes the peer runner's problems (benches/peers/run.sh): mushroom.npz and S_<N>.npy.
    PeersExport(PeersArgs),
    /// Times one netmatch path on one peer problem (one process per path: clean peak RSS).
    PeersRun(PeersRunArgs),
    /// The verdict-evaluation suite: seeded network pairs with a known answer through `compare` at its
    /// defaults; a confusion matrix and one row per family.
    Verdicts(BenchVerdictsArgs),
    /// The smallest loss of information the local rule finds at a given N: constant zones, folds and
    /// blind zones on 0.5–30 % of the inputs, a few seeds each.
    Resolution(BenchResolutionArgs),
}

/// Arguments of `netmatch bench resolution`.
#[derive(Args, Debug)]
pub struct BenchResolutionArgs {
    /// Base inputs per pair (50–100 000).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1500, value_parser = count(50, 100_000))]
    pub n: usize,
    /// Seeded pairs per loss and fraction (1–20).
    #[arg(long, allow_negative_numbers = true, default_value_t = 3, value_parser = count(1, 20))]
    pub seeds: usize,
    /// Write the JSON record here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Arguments of `netmatch bench verdicts`.
#[derive(Args, Debug)]
pub struct BenchVerdictsArgs {
    /// One small case per family (the variant `cargo test` runs).
    #[arg(long)]
    pub quick: bool,
    /// Cases per family (1–20; default 3, 1 with --quick).
    #[arg(long, allow_negative_numbers = true, value_parser = count(1, 20))]
    pub reps: Option<usize>,
    /// Seed of every network, input and burst: a new seed gives pairs never seen before.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0)]
    pub seed: u64,
    /// Only the families whose name contains this.
    #[arg(long)]
    pub family: Option<String>,
    /// Leave the burst design undeclared (no `burst_dim`), so that d is estimated from the bursts.
    #[arg(long)]
    pub unknown_design: bool,
    /// Write the JSON record (summary and every case's report) here.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Arguments shared by the peer commands.
#[derive(Args, Debug)]
pub struct PeersArgs {
    /// Directory of the exchanged files.
    #[arg(long)]
    pub dir: PathBuf,
    /// N of the mushroom case (50–1 000 000).
    #[arg(long, allow_negative_numbers = true, default_value_t = 2500, value_parser = count(50, limits::POINTS))]
    pub mushroom_n: usize,
    /// Burst size M of the mushroom case (3–4096).
    #[arg(long, allow_negative_numbers = true, default_value_t = 100, value_parser = count(3, limits::BURST))]
    pub mushroom_m: usize,
    /// Comma-separated N of the exported α = 1 diffusion matrices (50–100 000 each: dense N×N files).
    #[arg(long, allow_negative_numbers = true, default_value = "5000,20000", value_delimiter = ',', value_parser = count(50, 100_000))]
    pub sizes: Vec<usize>,
    /// N of the exported sparse k-NN kernel (0: none; else 50–1 000 000).
    #[arg(long, allow_negative_numbers = true, default_value_t = 200_000, value_parser = count(0, limits::POINTS))]
    pub sparse_n: usize,
    /// Non-trivial eigenpairs (1–1000).
    #[arg(long, allow_negative_numbers = true, default_value_t = 10, value_parser = count(1, limits::K))]
    pub k: usize,
    /// Relative residual tolerance of the eigen-solve, in (0, 1).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1e-5, value_parser = open_unit)]
    pub tol: f64,
    /// Seed of the data.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0)]
    pub seed: u64,
}

/// Arguments of `netmatch bench peers-run`.
#[derive(Args, Debug)]
pub struct PeersRunArgs {
    #[command(flatten)]
    pub common: PeersArgs,
    /// `mushroom`, `sparse` (the exported k-NN kernel at --sparse-n), or the N of one exported matrix.
    #[arg(long)]
    pub task: String,
    /// gpu or cpu.
    #[arg(long, value_parser = PossibleValuesParser::new(["gpu", "cpu"])
        .map(|s| if s == "gpu" { BackendChoice::Gpu } else { BackendChoice::Cpu }))]
    pub backend: BackendChoice,
    /// Eigensolver: block (default) or lanczos (the single-vector reference).
    #[arg(long, value_enum, default_value_t = Solver::Block)]
    pub solver: Solver,
}

/// Arguments of `netmatch bench embed`.
#[derive(Args, Debug)]
pub struct BenchEmbedArgs {
    /// Comma-separated N values (50–1 000 000 each).
    #[arg(long, allow_negative_numbers = true, default_value = "2000,5000,10000,20000", value_delimiter = ',', value_parser = count(50, limits::POINTS))]
    pub n: Vec<usize>,
    /// Burst size M (2–4096).
    #[arg(long, allow_negative_numbers = true, default_value_t = 32, value_parser = count(2, limits::BURST))]
    pub m: usize,
    /// Non-trivial coordinates k (1–1000).
    #[arg(long, allow_negative_numbers = true, default_value_t = 10, value_parser = count(1, limits::K))]
    pub k: usize,
    /// Largest N for the dense float64 reference (O(N³); at most 20 000).
    #[arg(long, allow_negative_numbers = true, default_value_t = 5000, value_parser = count(0, 20_000))]
    pub reference_max_n: usize,
    /// Seed.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0)]
    pub seed: u64,
    /// Run the CPU path only.
    #[arg(long)]
    pub cpu_only: bool,
    /// Comma-separated (D, r) configurations as DxR: D observed dimensions of a random tanh layer of r
    /// inputs (2x2 is the mushroom map; 65 536 ≥ D ≥ r ≥ 1).
    #[arg(long, default_value = "2x2,10x3,50x5", value_delimiter = ',')]
    pub configs: Vec<String>,
    /// Comma-separated dense kernel precisions to run, each on both paths (f32, f16).
    #[arg(long, value_enum, default_value = "f32", value_delimiter = ',')]
    pub precision: Vec<Precision>,
    /// Comma-separated kernel methods to run, each on both paths: gemm (tiled matrix products),
    /// pairwise (pair by pair) or auto (= gemm). With two, every ratio is measured in one run.
    #[arg(long, value_enum, default_value = "auto", value_delimiter = ',')]
    pub kernel: Vec<KernelMethod>,
    /// Exact Jacobians of the tanh layers instead of M-point bursts (the large-D case).
    #[arg(long)]
    pub jacobians: bool,
    /// ν, the weight of the normal part of a displacement (0: embed's default; compare uses 3).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.0, value_parser = non_negative)]
    pub normal_weight: f64,
    /// Also write each problem's f32 geometry as geometry_<N>_<D>x<r>.npz into this folder (input of
    /// benches/peers/kernel_numpy.py).
    #[arg(long)]
    pub export_geometry: Option<PathBuf>,
    /// Write the JSON record here (always also printed to stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Arguments of `netmatch compare`.
#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Network A: .npz or .safetensors with `obs`, `bursts` or `jacobians`, optional `sigma`, `inputs`,
    /// `outputs` (or give .npy files with --a-obs …).
    #[arg(long, required_unless_present_any = ["a_obs", "synthetic"], conflicts_with_all = ["a_obs", "synthetic"])]
    pub a: Option<PathBuf>,
    /// Network B (same N base inputs as A, in the same order; D may differ).
    #[arg(long, required_unless_present_any = ["b_obs", "synthetic"], conflicts_with_all = ["b_obs", "synthetic"])]
    pub b: Option<PathBuf>,
    /// Built-in seeded pair instead of files: `equivalent` (two random tanh networks of the same 2-D
    /// input, D = 8 and 12, N = 1500) or `blind` (the same, but A ignores x₂: a negative control).
    #[arg(long, value_enum)]
    pub synthetic: Option<SyntheticPair>,
    /// A's observations as .npy (N×D), instead of --a.
    #[arg(long)]
    pub a_obs: Option<PathBuf>,
    /// A's bursts as .npy (N×M×D).
    #[arg(long)]
    pub a_bursts: Option<PathBuf>,
    /// A's Jacobians as .npy (N×D×d).
    #[arg(long)]
    pub a_jacobians: Option<PathBuf>,
    /// A's inputs as .npy (N×d), optional.
    #[arg(long)]
    pub a_inputs: Option<PathBuf>,
    /// A's outputs as .npy (N×P), optional.
    #[arg(long)]
    pub a_outputs: Option<PathBuf>,
    /// A's burst radius σ (with .npy input; finite, > 0).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0, value_parser = positive)]
    pub a_sigma: f64,
    /// B's observations as .npy (N×D), instead of --b.
    #[arg(long)]
    pub b_obs: Option<PathBuf>,
    /// B's bursts as .npy (N×M×D).
    #[arg(long)]
    pub b_bursts: Option<PathBuf>,
    /// B's Jacobians as .npy (N×D×d).
    #[arg(long)]
    pub b_jacobians: Option<PathBuf>,
    /// B's inputs as .npy (N×d), optional.
    #[arg(long)]
    pub b_inputs: Option<PathBuf>,
    /// B's outputs as .npy (N×P), optional.
    #[arg(long)]
    pub b_outputs: Option<PathBuf>,
    /// B's burst radius σ (with .npy input; finite, > 0).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0, value_parser = positive)]
    pub b_sigma: f64,
    /// Report directory (report.json + PNG figures). Refused if it holds files, unless --force.
    #[arg(long)]
    pub out: PathBuf,
    /// Kernel bandwidth: auto (the largest ε at which the Mahalanobis distance stays within its 0.5 %
    /// linear-regime budget for both networks), median, or a number (the check is reported for any ε).
    #[arg(long, default_value = "auto", allow_hyphen_values = true)]
    pub eps: String,
    /// Intrinsic dimension d (1–64; default: each network's from its bursts or Jacobians).
    #[arg(long, allow_negative_numbers = true, value_parser = count(1, limits::DIM))]
    pub d: Option<usize>,
    /// Non-trivial diffusion coordinates per network (2–1000; N must be at least max(50, k + 3)).
    #[arg(long, allow_negative_numbers = true, default_value_t = 10, value_parser = count(2, limits::K))]
    pub k: usize,
    /// Weight ν of the normal part of a displacement in the Mahalanobis distance (finite, ≥ 0).
    #[arg(long, allow_negative_numbers = true, default_value_t = 3.0, value_parser = non_negative)]
    pub normal_weight: f64,
    /// Rank r of the local pseudo-inverse (the input dimension seen by the bursts, 1–4096); estimated
    /// when absent.
    #[arg(long, allow_negative_numbers = true, value_parser = count(1, limits::RANK))]
    pub rank: Option<usize>,
    /// Relative gap of diffusion rates below which coordinates form a degenerate (Procrustes) block.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1e-2)]
    pub gap: f64,
    /// Fraction of the base inputs held out for scoring, in [0.05, 0.5].
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.2, value_parser = open_unit)]
    pub test_fraction: f64,
    /// Neurons of each network to compare: all, auto (2d+1 by variance, skipping dead and saturated
    /// ones, when a file holds more), or a number q.
    #[arg(long, default_value = "all")]
    pub neurons: String,
    /// Also compare A's first q = 1 … 2d+1 picked neurons against B and report each.
    #[arg(long)]
    pub whitney_sweep: bool,
    /// The deciding bound: equivalent when o_A → o_B and o_B → o_A predict held-out data within this
    /// relative RMSE in every fold, not equivalent when every fold misses it.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.08)]
    pub predict_rmse: f64,
    /// Cross-validation folds of the deciding regressions (the verdict's stability; 2–20).
    #[arg(long, allow_negative_numbers = true, default_value_t = 5, value_parser = count(2, 20))]
    pub folds: usize,
    /// Explanation only: T_AB / T_BA within this are reported as predicting.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.02)]
    pub equivalent_rmse: f64,
    /// Explanation only: matched |corr| below this is reported.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.99)]
    pub equivalent_corr: f64,
    /// Explanation only: T_AB / T_BA above this are reported as failing.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.10)]
    pub not_equivalent_rmse: f64,
    /// Explanation only: matched diffusion rates differing by more than this are reported.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.25)]
    pub spectrum_tol: f64,
    /// Seed (ε subsample, splits, start vectors).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0)]
    pub seed: u64,
    /// Exit 3 unless the verdict is `equivalent` (for scripts).
    #[arg(long)]
    pub fail_unless_equivalent: bool,
    /// Backend, --force and --quiet.
    #[command(flatten)]
    pub run: RunArgs,
}

#[cfg(feature = "demos")]
/// The demos.
#[derive(Subcommand, Debug)]
pub enum DemoCommand {
    /// (a) x ∈ [0,1]: two networks learn sin 2πx + x/2; one output folds, output + 2 neurons suffice.
    Scalar(DemoArgs),
    /// (b) x ∈ [0,1]×[0,0.6]: the mushroom map vs another diffeomorphism, and a folding control.
    VectorField(DemoArgs),
    /// (c) the rotating horse: render, train two image networks and a doubled-angle control, compare.
    Horse(HorseArgs),
}

#[cfg(feature = "demos")]
/// Arguments of `netmatch demo …`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Output directory (default out/demo-scalar or out/demo-vector-field).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seed of data, weights, splits and bursts.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0)]
    pub seed: u64,
    /// Observed base inputs N (50–1 000 000).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1500, value_parser = count(50, limits::POINTS))]
    pub n: usize,
    /// Training samples per network (50–1 000 000).
    #[arg(long, allow_negative_numbers = true, default_value_t = 2000, value_parser = count(50, limits::POINTS))]
    pub train_n: usize,
    /// Adam steps per network (1–1 000 000).
    #[arg(long, allow_negative_numbers = true, default_value_t = 2000, value_parser = count(1, limits::STEPS))]
    pub steps: usize,
    /// Burst size M (2–4096).
    #[arg(long, allow_negative_numbers = true, default_value_t = 64, value_parser = count(2, limits::BURST))]
    pub m: usize,
    /// Backend, --force and --quiet.
    #[command(flatten)]
    pub run: RunArgs,
}

/// What to render.
#[derive(Subcommand, Debug)]
pub enum RenderCommand {
    /// The procedural horse of assets/horse.json, rotating about the vertical axis.
    Horse(RenderArgs),
}

/// Arguments of `netmatch render horse`.
#[derive(Args, Debug)]
pub struct RenderArgs {
    /// Azimuths per elevation, evenly over a full turn (1–1 000 000; frames × elevations at most
    /// 1 000 000, and the images at most 8 GiB).
    #[arg(long, allow_negative_numbers = true, default_value_t = 720, value_parser = count(1, netmatch::render::MAX_FRAMES as u64))]
    pub frames: usize,
    /// Image side in pixels (8–4096).
    #[arg(long, allow_negative_numbers = true, default_value_t = 64, value_parser = count(8, netmatch::render::MAX_SIZE as u64))]
    pub size: usize,
    /// Elevations, evenly over [−0.35, 0.35] rad (1 = level only; > 1 gives a 2-D angle set; 1–1000).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1, value_parser = count(1, 1000))]
    pub elevations: usize,
    /// Output directory: frames/*.png, horse.npz (`images` F×S×S, `angles` F×2), contact_sheet.png
    /// (and observations.npz with --jacobians).
    #[arg(long)]
    pub out: PathBuf,
    /// Skip the per-frame PNGs (the .npz and the contact sheet are always written).
    #[arg(long)]
    pub no_frames: bool,
    /// Also write `observations.npz`, the `embed` / `compare` input: `obs` (the frames flattened),
    /// `jacobians` (forward differences in θ, and in φ when --elevations > 1) and `inputs` (θ, φ).
    #[arg(long)]
    pub jacobians: bool,
    /// Angle step of the finite differences, radians, in (0, 0.5).
    #[arg(long, allow_negative_numbers = true, default_value_t = 5e-3, value_parser = step)]
    pub h: f32,
    /// Backend, --force and --quiet.
    #[command(flatten)]
    pub run: RunArgs,
}

#[cfg(feature = "demos")]
/// Arguments of `netmatch demo horse`.
#[derive(Args, Debug)]
pub struct HorseArgs {
    /// Output directory.
    #[arg(long, default_value = "out/demo-horse")]
    pub out: PathBuf,
    /// Seed of weights, splits and bursts.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0)]
    pub seed: u64,
    /// Frames (base inputs N), evenly over a full turn (50–100 000).
    #[arg(long, allow_negative_numbers = true, default_value_t = netmatch::experiments::DemoParams::horse().n,
          value_parser = count(50, netmatch::experiments::HorseParams::MAX_FRAMES as u64))]
    pub frames: usize,
    /// Image side in pixels (16–256; the networks' convolutions are sized for 64).
    #[arg(long, allow_negative_numbers = true, default_value_t = netmatch::experiments::HorseParams::default().size,
          value_parser = count(16, netmatch::experiments::HorseParams::MAX_SIZE as u64))]
    pub size: usize,
    /// Adam steps per network (1–1 000 000).
    #[arg(long, allow_negative_numbers = true, default_value_t = netmatch::experiments::DemoParams::horse().steps, value_parser = count(1, limits::STEPS))]
    pub steps: usize,
    /// Half-width in radians of the central differences in θ (large enough that the image change, not
    /// the networks' small-scale roughness, decides a derivative; strictly between 0 and 1).
    #[arg(long, allow_negative_numbers = true, default_value_t = netmatch::experiments::HorseParams::default().sigma, value_parser = open_unit)]
    pub sigma: f64,
    /// Backend, --force and --quiet.
    #[command(flatten)]
    pub run: RunArgs,
}
