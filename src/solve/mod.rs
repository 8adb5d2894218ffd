//! The eigensolvers, independent of where the matrix lives: they see the operator only through a
//! [`Device`](crate::backend::Device) (or a CSR matrix for [`shift_invert`]).
//!
//! [`block`] (thick-restart block Lanczos, the default: one pass over S per block of vectors),
//! [`lanczos`] (single-vector, the reference), [`shift_invert`] (sparse kernels, faer's LU), and
//! [`dense`] (the float64 dense eigen-decomposition) and [`reference`] (the whole embedding in float64,
//! dense: what the devices and solvers are tested against).

pub mod block;
pub mod dense;
pub mod lanczos;
pub mod reference;
pub mod shift_invert;
