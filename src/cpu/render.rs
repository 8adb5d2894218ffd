//! CPU twin of `shaders/render.wgsl`: the same signed-distance field, ray march, normal and Lambert
//! shading, in f32 with the same operation order, one frame after another (rayon over rows).

use rayon::prelude::*;

use crate::render::{CAMERA_Z, HIT_EPS, LIGHT, MAX_STEPS, SUPERSAMPLE, Scene, VIEW_HALF_WIDTH};

type V3 = [f32; 3];

fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn dot(a: V3, b: V3) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}
fn length(a: V3) -> f32 {
    dot(a, a).sqrt()
}
fn scale(a: V3, s: f32) -> V3 {
    [a[0] * s, a[1] * s, a[2] * s]
}

fn smin(a: f32, b: f32, k: f32) -> f32 {
    let h = (k - (a - b).abs()).max(0.0) / k;
    a.min(b) - h * h * k * 0.25
}

/// Signed distance from `p` (object frame) to the scene.
pub fn sdf(scene: &Scene, p: V3) -> f32 {
    let mut d = 1e9f32;
    for part in scene.packed.chunks_exact(8) {
        let a = [part[1], part[2], part[3]];
        let b = [part[4], part[5], part[6]];
        let di = if part[0] < 0.5 {
            let pa = sub(p, a);
            let ba = sub(b, a);
            let h = (dot(pa, ba) / dot(ba, ba)).clamp(0.0, 1.0);
            length(sub(pa, scale(ba, h))) - part[7]
        } else {
            let q = sub(p, a);
            let k0 = length([q[0] / b[0], q[1] / b[1], q[2] / b[2]]);
            let k1 = length([q[0] / (b[0] * b[0]), q[1] / (b[1] * b[1]), q[2] / (b[2] * b[2])]);
            k0 * (k0 - 1.0) / k1.max(1e-6)
        };
        d = smin(d, di, scene.smooth_k);
    }
    d
}

/// World → object frame: undo the elevation φ (about x), then the azimuth θ (about y).
fn to_object(p: V3, theta: f32, phi: f32) -> V3 {
    let (cp, sp) = (phi.cos(), phi.sin());
    let q = [p[0], cp * p[1] + sp * p[2], -sp * p[1] + cp * p[2]];
    let (ct, st) = (theta.cos(), theta.sin());
    [ct * q[0] - st * q[2], q[1], st * q[0] + ct * q[2]]
}

/// One pixel's grey value: the mean of SUPERSAMPLE² rays on a regular sub-grid, so that the image
/// varies continuously with the angle instead of flipping whole pixels at silhouette edges.
pub fn pixel(scene: &Scene, size: usize, theta: f32, phi: f32, px: usize, py: usize) -> f32 {
    let s = size as f32;
    let mut acc = 0.0f32;
    for sy in 0..SUPERSAMPLE {
        for sx in 0..SUPERSAMPLE {
            let ox = (sx as f32 + 0.5) / SUPERSAMPLE as f32;
            let oy = (sy as f32 + 0.5) / SUPERSAMPLE as f32;
            let u = ((px as f32 + ox) / s * 2.0 - 1.0) * VIEW_HALF_WIDTH;
            let v = (1.0 - (py as f32 + oy) / s * 2.0) * VIEW_HALF_WIDTH;
            acc += ray(scene, theta, phi, u, v);
        }
    }
    acc / (SUPERSAMPLE * SUPERSAMPLE) as f32
}

/// The grey value seen along the ray through view-plane point (u, v).
fn ray(scene: &Scene, theta: f32, phi: f32, u: f32, v: f32) -> f32 {
    let origin = to_object([u, v, CAMERA_Z], theta, phi);
    let dir = to_object([0.0, 0.0, -1.0], theta, phi);
    let mut t = 0.0f32;
    for _ in 0..MAX_STEPS {
        let p = [origin[0] + dir[0] * t, origin[1] + dir[1] * t, origin[2] + dir[2] * t];
        let d = sdf(scene, p);
        if d < HIT_EPS {
            let h = 1e-3f32;
            let n = [
                sdf(scene, [p[0] + h, p[1], p[2]]) - sdf(scene, [p[0] - h, p[1], p[2]]),
                sdf(scene, [p[0], p[1] + h, p[2]]) - sdf(scene, [p[0], p[1] - h, p[2]]),
                sdf(scene, [p[0], p[1], p[2] + h]) - sdf(scene, [p[0], p[1], p[2] - h]),
            ];
            let n = scale(n, 1.0 / length(n).max(1e-12));
            let l = to_object(scale(LIGHT, 1.0 / length(LIGHT)), theta, phi);
            return 0.15 + 0.85 * dot(n, l).max(0.0);
        }
        t += d * 0.9;
        if t > 2.0 * CAMERA_Z {
            break;
        }
    }
    0.0
}

/// Renders the frames (θ, φ) at `size`×`size`; frame-major, row-major, row 0 at the top.
pub fn render(scene: &Scene, angles: &[(f32, f32)], size: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; angles.len() * size * size];
    out.par_chunks_mut(size).enumerate().for_each(|(r, row)| {
        let (f, py) = (r / size, r % size);
        let (theta, phi) = angles[f];
        for (px, v) in row.iter_mut().enumerate() {
            *v = pixel(scene, size, theta, phi, px, py);
        }
    });
    out
}
