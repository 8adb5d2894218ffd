//! The paper's steps, in the order one comparison runs them, with no wgpu and no printing: the
//! O(N²) work goes through a [`Device`](crate::backend::Device), progress and warnings through an
//! observer.
//!
//! One network: [`covariance`] (local C_i and their pseudo-inverse factors) → [`epsilon`] and
//! [`kernel`] (Mahalanobis d², ε, K, α-normalisation; [`sparse`] for the k-NN kernel) → [`embed`]
//! (storage plan, eigen-solve through [`crate::solve`], ψ = D^{-1/2} v). Two networks: [`compare`]
//! runs both, [`select`] picks the non-harmonic coordinates, [`align`] matches them, [`transform`]
//! fits T_AB and T_BA on held-out points, [`verdict`] decides; [`whitney`] chooses the 2d+1 neurons.

pub mod align;
pub mod compare;
pub mod covariance;
pub mod embed;
pub mod epsilon;
pub mod kernel;
pub mod local;
pub mod select;
pub mod sparse;
pub mod transform;
pub mod verdict;
pub mod whitney;
