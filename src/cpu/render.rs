//! CPU twin of `shaders/render.wgsl`: the same signed-distance field, ray march, normal and Lambert
//! shading, in f32 with the same operation order, one frame after another (rayon over rows).

use rayon::prelude::*;

use crate::render::{CAMERA_Z, GOLDEN_STEPS, HIT_EPS, LIGHT, MAX_STEPS, SUPERSAMPLE, Scene, VIEW_HALF_WIDTH};

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

/// One pixel's grey value: the mean of SUPERSAMPLE² rays on a regular sub-grid, each with an
/// edge coverage ramp one sub-pixel wide (see [`ray`]), so that the image is a continuous function of
/// the angle instead of a staircase that flips (sub-)pixels at silhouette edges.
pub fn pixel(scene: &Scene, size: usize, theta: f32, phi: f32, px: usize, py: usize) -> f32 {
    let s = size as f32;
    let w = 2.0 * VIEW_HALF_WIDTH / (s * SUPERSAMPLE as f32);
    let mut acc = 0.0f32;
    for sy in 0..SUPERSAMPLE {
        for sx in 0..SUPERSAMPLE {
            let ox = (sx as f32 + 0.5) / SUPERSAMPLE as f32;
            let oy = (sy as f32 + 0.5) / SUPERSAMPLE as f32;
            let u = ((px as f32 + ox) / s * 2.0 - 1.0) * VIEW_HALF_WIDTH;
            let v = (1.0 - (py as f32 + oy) / s * 2.0) * VIEW_HALF_WIDTH;
            acc += ray(scene, theta, phi, u, v, w);
        }
    }
    acc / (SUPERSAMPLE * SUPERSAMPLE) as f32
}

/// Lambert shading at `p` (object frame) with the normal from central differences of the field.
fn shade(scene: &Scene, theta: f32, phi: f32, p: V3) -> f32 {
    let h = 1e-3f32;
    let n = [
        sdf(scene, [p[0] + h, p[1], p[2]]) - sdf(scene, [p[0] - h, p[1], p[2]]),
        sdf(scene, [p[0], p[1] + h, p[2]]) - sdf(scene, [p[0], p[1] - h, p[2]]),
        sdf(scene, [p[0], p[1], p[2] + h]) - sdf(scene, [p[0], p[1], p[2] - h]),
    ];
    let n = scale(n, 1.0 / length(n).max(1e-12));
    let l = to_object(scale(LIGHT, 1.0 / length(LIGHT)), theta, phi);
    0.15 + 0.85 * dot(n, l).max(0.0)
}

/// The grey value seen along the ray through view-plane point (u, v). Every place where the ray
/// passes within `w` of the surface without hitting it — a local minimum d* of the distance along the
/// ray, or the last point when the march runs out — is a partial layer of coverage 1 − d*/w, shaded
/// at that closest point; the layers are composited front to back over what the ray finally hits (or
/// the black background). As a silhouette — outer, or a part in front of another — sweeps over the
/// ray, d* → 0 and the value slides continuously into the hit's shade, and two near misses of equal
/// distance blend instead of switching: so bursts in θ see a smooth image map, not a staircase.
fn ray(scene: &Scene, theta: f32, phi: f32, u: f32, v: f32, w: f32) -> f32 {
    let origin = to_object([u, v, CAMERA_Z], theta, phi);
    let dir = to_object([0.0, 0.0, -1.0], theta, phi);
    let at = |t: f32| [origin[0] + dir[0] * t, origin[1] + dir[1] * t, origin[2] + dir[2] * t];
    // Front-to-back compositing: `acc` is the value so far, `trans` what still shows through.
    let (mut acc, mut trans) = (0.0f32, 1.0f32);
    let layer = |d: f32, t: f32, acc: &mut f32, trans: &mut f32| {
        if d < w {
            let a = 1.0 - d / w;
            *acc += *trans * a * shade(scene, theta, phi, at(t));
            *trans *= 1.0 - a;
        }
    };
    let mut t = 0.0f32;
    let (mut prev_d, mut prev_t, mut before_t) = (1e9f32, 0.0f32, 0.0f32);
    for _ in 0..MAX_STEPS {
        let d = sdf(scene, at(t));
        if d < HIT_EPS {
            return acc + trans * shade(scene, theta, phi, at(t));
        }
        // The distance rose again: the closest approach lies in [t before prev, t]. Sampled minima
        // slide along the ray as the angle changes and give a saw-tooth; the true minimum, located by
        // golden-section search, moves smoothly. Passing a smooth surface, the sampled minimum stays
        // within about twice the true one, so only approaches sampled under 3 w are searched.
        if d > prev_d && prev_d < 3.0 * w {
            let (md, mt) = closest(scene, origin, dir, before_t, t);
            layer(md, mt, &mut acc, &mut trans);
        }
        before_t = prev_t;
        prev_d = d;
        prev_t = t;
        t += d * 0.9;
        if t > 2.0 * CAMERA_Z {
            return acc;
        }
    }
    // Out of steps: a grazing ray crawling along the surface; its last point is its closest approach.
    layer(sdf(scene, at(t)), t, &mut acc, &mut trans);
    acc
}

/// The minimum of the distance along the ray over [lo, hi] by golden-section search: (d, t).
fn closest(scene: &Scene, origin: V3, dir: V3, lo: f32, hi: f32) -> (f32, f32) {
    let at = |t: f32| sdf(scene, [origin[0] + dir[0] * t, origin[1] + dir[1] * t, origin[2] + dir[2] * t]);
    let g = 0.618_034f32;
    let (mut a, mut b) = (lo, hi);
    let mut c = b - g * (b - a);
    let mut e = a + g * (b - a);
    let (mut fc, mut fe) = (at(c), at(e));
    for _ in 0..GOLDEN_STEPS {
        if fc < fe {
            b = e;
            e = c;
            fe = fc;
            c = b - g * (b - a);
            fc = at(c);
        } else {
            a = c;
            c = e;
            fc = fe;
            e = a + g * (b - a);
            fe = at(e);
        }
    }
    if fc < fe { (fc, c) } else { (fe, e) }
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
