//! netmatch tells whether two neural networks learned the same thing, by building a transformation
//! between their observations through an intrinsic coordinate system of the common input space.
//!
//! Data flow for one network (this crate's engine core):
//! 1. [`data`]: observations `obs` (N×D) with bursts (N×M×D) or Jacobians (N×D×d), validated.
//! 2. [`covariance`]: local covariances C_i (÷σ²), one rank r, pseudo-inverse factors U_i.
//! 3. [`kernel`]: Mahalanobis d²_ij, ε (auto / median / fixed), K = exp(−d²/ε).
//! 4. [`kernel::normalise`]: α-normalisation to the symmetric S = D^{-1/2} K^α D^{-1/2}.
//! 5. [`block`]: top eigenpairs of S by thick-restart block Lanczos (one pass over S per block of
//!    vectors; the single-vector [`lanczos`] is the reference), then ψ = D^{-1/2} v ([`embed`]).
//!
//! The O(N²) stages run on a [`backend::Device`]: the GPU ([`gpu`], WGSL through wgpu — the only module
//! that names wgpu) or its CPU twin ([`cpu`]), with a float64 dense reference in [`cpu::reference`].

#![warn(missing_docs)]

pub mod align;
pub mod backend;
pub mod bench;
pub mod block;
pub mod compare;
pub mod covariance;
pub mod cpu;
pub mod data;
pub mod dense;
pub mod embed;
pub mod epsilon;
pub mod error;
pub mod experiments;
pub mod gpu;
pub mod kernel;
pub mod lanczos;
pub mod nn;
pub mod plot;
pub mod progress;
pub mod render;
pub mod report;
pub mod rng;
pub mod select;
pub mod shift_invert;
pub mod sparse;
pub mod stats;
pub mod suite;
pub mod testing;
pub mod transform;
pub mod verdict;
pub mod whitney;

pub use backend::{BackendChoice, Device, open};
pub use data::{LocalSource, Observations};
pub use embed::{EmbedParams, Embedding, embed};
pub use error::{Error, Result};
