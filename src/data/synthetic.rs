//! Seeded synthetic observation sets with known intrinsic geometry, used by tests, `netmatch bench` and
//! the README example: the datafold "mushroom" map on a rectangle and a circle with exact rotational
//! symmetry (degenerate eigenvalue pairs).

use ndarray::{Array2, Array3};

use super::{LocalSource, Observations};
use crate::error::Result;
use crate::rng::Rng;

/// The mushroom map F(x) = (x₁ + x₂³, x₂ − x₁³) of datafold's Mahalanobis tutorial.
pub fn mushroom(x: [f64; 2]) -> [f64; 2] {
    [x[0] + x[1].powi(3), x[1] - x[0].powi(3)]
}

/// N points uniform on [0, w]×[0, h], observed through `map`, with bursts of M points of radius σ
/// (Gaussian perturbation of the input). `inputs` holds the base points.
pub fn bursts_2d(
    n: usize,
    m: usize,
    sigma: f64,
    w: f64,
    h: f64,
    seed: u64,
    map: impl Fn([f64; 2]) -> [f64; 2],
) -> Result<Observations> {
    let mut rng = Rng::new(seed);
    let mut inputs = Array2::zeros((n, 2));
    let mut obs = Array2::zeros((n, 2));
    let mut bursts = Array3::zeros((n, m, 2));
    for i in 0..n {
        let x = [rng.uniform() * w, rng.uniform() * h];
        inputs[[i, 0]] = x[0];
        inputs[[i, 1]] = x[1];
        let o = map(x);
        obs[[i, 0]] = o[0];
        obs[[i, 1]] = o[1];
        for a in 0..m {
            let y = map([x[0] + sigma * rng.normal(), x[1] + sigma * rng.normal()]);
            bursts[[i, a, 0]] = y[0];
            bursts[[i, a, 1]] = y[1];
        }
    }
    Observations::new(obs, LocalSource::Bursts(bursts), sigma, Some(inputs))
}

/// The datafold tutorial case: mushroom map of the unit square, N points, M = `m`, σ = `sigma`.
pub fn mushroom_square(n: usize, m: usize, sigma: f64, seed: u64) -> Result<Observations> {
    bursts_2d(n, m, sigma, 1.0, 1.0, seed, mushroom)
}

/// N evenly spaced points on a circle of radius 1 embedded in R^D (D ≥ 2) by a fixed seeded rotation,
/// with exact Jacobians. Rotational symmetry makes every non-trivial eigenvalue of the diffusion
/// operator a degenerate pair (cos kθ, sin kθ).
pub fn circle(n: usize, dim: usize, seed: u64) -> Result<Observations> {
    assert!(dim >= 2, "circle needs D >= 2");
    let mut rng = Rng::new(seed);
    // Two orthonormal directions in R^D (Gram–Schmidt of seeded normals).
    let mut a: Vec<f64> = (0..dim).map(|_| rng.normal()).collect();
    let na = a.iter().map(|v| v * v).sum::<f64>().sqrt();
    a.iter_mut().for_each(|v| *v /= na);
    let mut b: Vec<f64> = (0..dim).map(|_| rng.normal()).collect();
    let p: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
    b.iter_mut().zip(&a).for_each(|(y, x)| *y -= p * x);
    let nb = b.iter().map(|v| v * v).sum::<f64>().sqrt();
    b.iter_mut().for_each(|v| *v /= nb);
    let mut obs = Array2::zeros((n, dim));
    let mut jac = Array3::zeros((n, dim, 1));
    let mut inputs = Array2::zeros((n, 1));
    for i in 0..n {
        let t = 2.0 * std::f64::consts::PI * i as f64 / n as f64;
        inputs[[i, 0]] = t;
        for c in 0..dim {
            obs[[i, c]] = t.cos() * a[c] + t.sin() * b[c];
            jac[[i, c, 0]] = -t.sin() * a[c] + t.cos() * b[c];
        }
    }
    Observations::new(obs, LocalSource::Jacobians(jac), 1.0, Some(inputs))
}

/// A random smooth network-like map R² → R^D (one tanh layer after a random affine map), seeded; inputs
/// on [0,1]×[0,0.6]. [`tanh_layer_bursts_r`] with r = 2.
pub fn tanh_layer_bursts(n: usize, m: usize, dim: usize, sigma: f64, seed: u64) -> Result<Observations> {
    tanh_layer_bursts_r(n, m, dim, 2, sigma, seed)
}

/// A random smooth network-like map R^r → R^D (one tanh layer after a random affine map), seeded: the
/// benchmarks' (D, r) configurations. Inputs are uniform on [0,1]^r (the second axis scaled by 0.6, so
/// that no two eigenvalues coincide by symmetry).
pub fn tanh_layer_bursts_r(n: usize, m: usize, dim: usize, r: usize, sigma: f64, seed: u64) -> Result<Observations> {
    if r == 0 || dim == 0 {
        return Err(crate::error::Error::param("dim", "need D ≥ 1 and r ≥ 1"));
    }
    let mut rng = Rng::new(seed ^ 0x5eed);
    let w: Vec<Vec<f64>> = (0..dim).map(|_| (0..r).map(|_| rng.normal()).collect()).collect();
    let bias: Vec<f64> = (0..dim).map(|_| 0.5 * rng.normal()).collect();
    let f = |x: &[f64], out: &mut [f64]| {
        for c in 0..dim {
            out[c] = (w[c].iter().zip(x).map(|(a, b)| a * b).sum::<f64>() + bias[c]).tanh();
        }
    };
    let mut inputs = Array2::zeros((n, r));
    let mut obs = Array2::zeros((n, dim));
    let mut bursts = Array3::zeros((n, m, dim));
    let mut buf = vec![0.0; dim];
    let mut xp = vec![0.0; r];
    for i in 0..n {
        let x: Vec<f64> = (0..r).map(|a| rng.uniform() * if a == 1 { 0.6 } else { 1.0 }).collect();
        for (a, &v) in x.iter().enumerate() {
            inputs[[i, a]] = v;
        }
        f(&x, &mut buf);
        for c in 0..dim {
            obs[[i, c]] = buf[c];
        }
        for s in 0..m {
            for (q, &v) in xp.iter_mut().zip(&x) {
                *q = v + sigma * rng.normal();
            }
            f(&xp, &mut buf);
            for c in 0..dim {
                bursts[[i, s, c]] = buf[c];
            }
        }
    }
    Observations::new(obs, LocalSource::Bursts(bursts), sigma, Some(inputs))
}

/// The random tanh layer of [`tanh_layer_bursts_r`] (same weights, inputs and seed) with its exact
/// Jacobians ∂o/∂x = diag(1 − o²)·W instead of bursts: the large-D benchmark case, whose local geometry
/// costs O(N·D·r) instead of O(N·M·D).
pub fn tanh_layer_jacobians_r(n: usize, dim: usize, r: usize, seed: u64) -> Result<Observations> {
    if r == 0 || dim == 0 {
        return Err(crate::error::Error::param("dim", "need D ≥ 1 and r ≥ 1"));
    }
    let mut rng = Rng::new(seed ^ 0x5eed);
    let w: Vec<Vec<f64>> = (0..dim).map(|_| (0..r).map(|_| rng.normal()).collect()).collect();
    let bias: Vec<f64> = (0..dim).map(|_| 0.5 * rng.normal()).collect();
    let mut inputs = Array2::zeros((n, r));
    let mut obs = Array2::zeros((n, dim));
    let mut jac = Array3::zeros((n, dim, r));
    for i in 0..n {
        let x: Vec<f64> = (0..r).map(|a| rng.uniform() * if a == 1 { 0.6 } else { 1.0 }).collect();
        for (a, &v) in x.iter().enumerate() {
            inputs[[i, a]] = v;
        }
        for c in 0..dim {
            let o = (w[c].iter().zip(&x).map(|(a, b)| a * b).sum::<f64>() + bias[c]).tanh();
            obs[[i, c]] = o;
            for a in 0..r {
                jac[[i, c, a]] = (1.0 - o * o) * w[c][a];
            }
        }
    }
    Observations::new(obs, LocalSource::Jacobians(jac), 1.0, Some(inputs))
}

/// Observes the base inputs `x` (N×d) through `f` (writing D values), with bursts of M Gaussian input
/// perturbations of radius σ; `inputs` keeps `x`, `burst_dim` its d (the generator knows its burst
/// design). The building block for synthetic network pairs.
pub fn observe(
    x: &Array2<f64>,
    m: usize,
    sigma: f64,
    dim: usize,
    seed: u64,
    f: impl Fn(&[f64], &mut [f64]),
) -> Result<Observations> {
    let (n, d) = x.dim();
    let mut rng = Rng::new(seed);
    let mut obs = Array2::zeros((n, dim));
    let mut bursts = Array3::zeros((n, m, dim));
    let mut buf = vec![0.0; dim];
    let mut xi = vec![0.0; d];
    for i in 0..n {
        for c in 0..d {
            xi[c] = x[[i, c]];
        }
        f(&xi, &mut buf);
        for c in 0..dim {
            obs[[i, c]] = buf[c];
        }
        for a in 0..m {
            let xp: Vec<f64> = xi.iter().map(|v| v + sigma * rng.normal()).collect();
            f(&xp, &mut buf);
            for c in 0..dim {
                bursts[[i, a, c]] = buf[c];
            }
        }
    }
    Observations::new(obs, LocalSource::Bursts(bursts), sigma, Some(x.clone()))?.with_burst_dim(d)
}

/// N seeded uniform points on the box [0, w₁]×…×[0, w_d].
pub fn uniform_box(n: usize, widths: &[f64], seed: u64) -> Array2<f64> {
    let mut rng = Rng::new(seed);
    Array2::from_shape_fn((n, widths.len()), |(_, c)| rng.uniform() * widths[c])
}

/// A seeded random two-layer tanh network R^d → R^D (hidden width 16): a smooth, generically injective
/// map when D ≥ 2d+1; `uses` masks the inputs it sees (false = ignored).
pub fn tanh_net(d: usize, dim: usize, seed: u64, uses: Vec<bool>) -> impl Fn(&[f64], &mut [f64]) {
    let mut rng = Rng::new(seed ^ 0x7a4);
    let h = 16;
    let w1: Vec<f64> = (0..h * d).map(|_| rng.normal()).collect();
    let b1: Vec<f64> = (0..h).map(|_| rng.normal()).collect();
    let w2: Vec<f64> = (0..dim * h).map(|_| rng.normal() / (h as f64).sqrt()).collect();
    let b2: Vec<f64> = (0..dim).map(|_| 0.3 * rng.normal()).collect();
    move |x: &[f64], out: &mut [f64]| {
        let hid: Vec<f64> = (0..h)
            .map(|j| (b1[j] + (0..d).filter(|&c| uses[c]).map(|c| w1[j * d + c] * x[c]).sum::<f64>()).tanh())
            .collect();
        for o in 0..dim {
            out[o] = (b2[o] + (0..h).map(|j| w2[o * h + j] * hid[j]).sum::<f64>()).tanh();
        }
    }
}

/// A seeded pair of random tanh networks observed on the same N inputs of [0,1]×[0,0.6] (M = 64,
/// σ = 0.01): A maps to D = 8, B to D = 12. With `blind`, A ignores x₂ (a negative control: its
/// observations have intrinsic dimension 1, B's 2).
pub fn tanh_pair(blind: bool, n: usize, seed: u64) -> Result<(Observations, Observations)> {
    let x = uniform_box(n, &[1.0, 0.6], 21 + seed);
    let a = observe(&x, 64, 0.01, 8, 1 + seed, tanh_net(2, 8, 101 + seed, vec![true, !blind]))?;
    let b = observe(&x, 64, 0.01, 12, 2 + seed, tanh_net(2, 12, 202 + seed, vec![true, true]))?;
    Ok((a, b))
}

/// A seeded pair like [`tanh_pair`] where B folds the last fifth of x₁ back (x₁ > 0.8 ↦ 1.6 − x₁, B
/// then tanh-layered as before): 40 % of the inputs — x₁ ∈ [0.6, 1] — lose information in B, while the
/// rest is a generic injective map. The pooled regressions pass; the local evidence finds the fold.
pub fn tanh_pair_folded(n: usize, seed: u64) -> Result<(Observations, Observations)> {
    let x = uniform_box(n, &[1.0, 0.6], 21 + seed);
    let a = observe(&x, 64, 0.01, 8, 1 + seed, tanh_net(2, 8, 101 + seed, vec![true, true]))?;
    let net = tanh_net(2, 12, 202 + seed, vec![true, true]);
    let b = observe(&x, 64, 0.01, 12, 2 + seed, move |u: &[f64], out: &mut [f64]| {
        let v = [if u[0] > 0.8 { 1.6 - u[0] } else { u[0] }, u[1]];
        net(&v, out)
    })?;
    Ok((a, b))
}
