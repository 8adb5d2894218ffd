//! Command-line definitions (clap derive) and their translation into validated library parameters.
//! Nothing here computes; `main.rs` dispatches.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    /// Benchmarks (GPU path vs CPU path in one run).
    #[command(subcommand)]
    Bench(BenchCommand),
}

/// Arguments of `netmatch embed`.
#[derive(Args, Debug)]
pub struct EmbedArgs {
    /// Input .npz with `obs` (N×D) and `bursts` (N×M×D) or `jacobians` (N×D×d); optional `sigma`, `inputs`.
    #[arg(long, required_unless_present = "synthetic", conflicts_with = "synthetic")]
    pub input: Option<PathBuf>,
    /// Built-in seeded data instead of a file: `mushroom` (datafold's tutorial case: N = 2500, M = 100,
    /// σ = 0.01 on the unit square) or `circle` (N = 1000 points on a circle in R³, Jacobians).
    #[arg(long, value_parser = ["mushroom", "circle"])]
    pub synthetic: Option<String>,
    /// Output .npz: `eigenvalues` (k+1), `coords` (N×(k+1)), `eps`.
    #[arg(long)]
    pub out: PathBuf,
    /// Number of non-trivial diffusion coordinates.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Kernel bandwidth: auto (Singer's log-log slope), median, or a positive number (K = exp(−d²/ε)).
    #[arg(long, default_value = "auto", allow_hyphen_values = true)]
    pub eps: String,
    /// α of the α-normalisation, in [0, 1] (1 = Laplace–Beltrami).
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    pub alpha: f64,
    /// Rank r of the local pseudo-inverse (the intrinsic dimension); estimated when absent.
    #[arg(long)]
    pub rank: Option<usize>,
    /// auto (GPU if present, else CPU), gpu, or cpu.
    #[arg(long, default_value = "auto")]
    pub backend: String,
    /// Weight ν of the normal part of a displacement (0 = plain truncated pseudo-inverse).
    #[arg(long, default_value_t = 0.0)]
    pub normal_weight: f64,
    /// Relative residual tolerance of the eigen-solve.
    #[arg(long, default_value_t = 1e-5)]
    pub tol: f64,
    /// Matrix–vector product budget of the eigen-solve (default 50·m + 1000).
    #[arg(long)]
    pub max_matvecs: Option<usize>,
    /// Seed (ε subsample, start vector).
    #[arg(long, default_value_t = 0)]
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
}

/// Arguments of `netmatch bench embed`.
#[derive(Args, Debug)]
pub struct BenchEmbedArgs {
    /// Comma-separated N values.
    #[arg(long, default_value = "2000,5000,10000", value_delimiter = ',')]
    pub n: Vec<usize>,
    /// Burst size M.
    #[arg(long, default_value_t = 32)]
    pub m: usize,
    /// Non-trivial coordinates k.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Largest N for the dense float64 reference (O(N³)).
    #[arg(long, default_value_t = 5000)]
    pub reference_max_n: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Run the CPU path only.
    #[arg(long)]
    pub cpu_only: bool,
    /// Write the JSON record here (always also printed to stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
}
