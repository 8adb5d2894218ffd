//! netmatch tells whether two neural networks learned the same thing, by building a transformation
//! between their observations through an intrinsic coordinate system of the common input space.
//!
//! The house, in the order data flows through it:
//! - [`data`]: observations `obs` (N×D) with bursts (N×M×D) or Jacobians (N×D×d), read and validated.
//! - [`pipeline`]: the paper's steps — local covariances, ε and the Mahalanobis kernel, the
//!   α-normalised operator, the embedding ψ = D^{-1/2} v, then for two networks the selection,
//!   alignment, transformation and verdict ([`pipeline::compare`]).
//! - [`solve`]: the eigensolvers (block Lanczos by default, single-vector Lanczos, shift-invert, the
//!   float64 dense reference).
//! - [`backend`]: the [`Device`] contract for the O(N²) stages, a leaf; [`open()`] picks one. The
//!   twins: [`gpu`] (WGSL through wgpu — the only module that names wgpu) and [`cpu`].
//! - [`report`]: the typed report, its `report.json` and `report.npz`, and the figures.
//! - [`study`]: a whole comparison of two networks as the CLI and the Python module run it.
//! - [`observe`]: how progress and warnings leave the library (it never prints).
//! - Around them: [`render`] (the horse images), [`nn`] and [`experiments`] (the demo networks,
//!   behind the default `demos` feature), [`suite`] and [`bench`] (verdict families, benchmarks).

pub mod backend;
pub mod bench;
pub mod cpu;
pub mod data;
pub mod devices;
pub mod error;
#[cfg(feature = "demos")]
pub mod experiments;
pub mod gpu;
#[cfg(feature = "demos")]
pub mod nn;
pub mod observe;
pub mod pipeline;
pub mod render;
pub mod report;
pub mod rng;
pub mod solve;
pub mod stats;
pub mod study;
pub mod suite;
pub mod testing;

pub use backend::{BackendChoice, Device};
pub use data::{LocalSource, Observations};
pub use devices::open;
pub use error::{Error, Result};
pub use pipeline::embed::{EmbedParams, Embedding, embed};
