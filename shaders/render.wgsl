// Stage `render`: ray-marches the packed signed-distance scene for a batch of frames, one invocation
// per pixel. CPU twin: src/cpu/render.rs (same formulas, same operation order, f32).

// Keep in sync with `RenderParams` in src/gpu/render.rs (32 bytes).
struct Params {
    size: u32,
    frames: u32,
    parts: u32,
    _pad0: u32,
    half_width: f32,
    camera_z: f32,
    smooth_k: f32,
    hit_eps: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scene: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> angles: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> image: array<f32>;

const MAX_STEPS: u32 = 160u;
const SUPERSAMPLE: u32 = 2u;
const GOLDEN_STEPS: u32 = 8u;
const LIGHT: vec3<f32> = vec3<f32>(-0.4, 0.7, 0.6);

fn smin(a: f32, b: f32, k: f32) -> f32 {
    let h = max(k - abs(a - b), 0.0) / k;
    return min(a, b) - h * h * k * 0.25;
}

fn sdf(p: vec3<f32>) -> f32 {
    var d = 1e9;
    for (var i = 0u; i < params.parts; i = i + 1u) {
        let s0 = scene[2u * i];
        let s1 = scene[2u * i + 1u];
        let a = s0.yzw;
        let b = s1.xyz;
        var di: f32;
        if (s0.x < 0.5) {
            let pa = p - a;
            let ba = b - a;
            let h = clamp(dot(pa, ba) / dot(ba, ba), 0.0, 1.0);
            di = length(pa - ba * h) - s1.w;
        } else {
            let q = p - a;
            let k0 = length(q / b);
            let k1 = length(q / (b * b));
            di = k0 * (k0 - 1.0) / max(k1, 1e-6);
        }
        d = smin(d, di, params.smooth_k);
    }
    return d;
}

fn to_object(p: vec3<f32>, theta: f32, phi: f32) -> vec3<f32> {
    let cp = cos(phi);
    let sp = sin(phi);
    let q = vec3<f32>(p.x, cp * p.y + sp * p.z, -sp * p.y + cp * p.z);
    let ct = cos(theta);
    let st = sin(theta);
    return vec3<f32>(ct * q.x - st * q.z, q.y, st * q.x + ct * q.z);
}

// Lambert shading at p (object frame), normal from central differences of the field.
fn shade(p: vec3<f32>, ang: vec2<f32>) -> f32 {
    let h = 1e-3;
    let n0 = vec3<f32>(
        sdf(vec3<f32>(p.x + h, p.y, p.z)) - sdf(vec3<f32>(p.x - h, p.y, p.z)),
        sdf(vec3<f32>(p.x, p.y + h, p.z)) - sdf(vec3<f32>(p.x, p.y - h, p.z)),
        sdf(vec3<f32>(p.x, p.y, p.z + h)) - sdf(vec3<f32>(p.x, p.y, p.z - h)),
    );
    let n = n0 * (1.0 / max(length(n0), 1e-12));
    let l = to_object(LIGHT * (1.0 / length(LIGHT)), ang.x, ang.y);
    return 0.15 + 0.85 * max(dot(n, l), 0.0);
}

// Minimum of the distance along the ray over [lo, hi] by golden-section search: (d, t).
fn closest(origin: vec3<f32>, dir: vec3<f32>, lo: f32, hi: f32) -> vec2<f32> {
    let g = 0.618034;
    var a = lo;
    var b = hi;
    var c = b - g * (b - a);
    var e = a + g * (b - a);
    var fc = sdf(origin + dir * c);
    var fe = sdf(origin + dir * e);
    for (var i = 0u; i < GOLDEN_STEPS; i = i + 1u) {
        if (fc < fe) {
            b = e;
            e = c;
            fe = fc;
            c = b - g * (b - a);
            fc = sdf(origin + dir * c);
        } else {
            a = c;
            c = e;
            fc = fe;
            e = a + g * (b - a);
            fe = sdf(origin + dir * e);
        }
    }
    if (fc < fe) {
        return vec2<f32>(fc, c);
    }
    return vec2<f32>(fe, e);
}

// The grey value seen along the ray through view-plane point (u, v): near misses within w are partial
// layers of coverage 1 - d*/w composited front to back over the hit (or the black background), so the
// image is a continuous function of the angle. See `ray` in the CPU twin for the reasoning.
fn ray(u: f32, v: f32, ang: vec2<f32>, w: f32) -> f32 {
    let origin = to_object(vec3<f32>(u, v, params.camera_z), ang.x, ang.y);
    let dir = to_object(vec3<f32>(0.0, 0.0, -1.0), ang.x, ang.y);
    var acc = 0.0;
    var trans = 1.0;
    var t = 0.0;
    var prev_d = 1e9;
    var prev_t = 0.0;
    var before_t = 0.0;
    for (var step = 0u; step < MAX_STEPS; step = step + 1u) {
        let d = sdf(origin + dir * t);
        if (d < params.hit_eps) {
            return acc + trans * shade(origin + dir * t, ang);
        }
        if (d > prev_d && prev_d < 3.0 * w) {
            let m = closest(origin, dir, before_t, t);
            if (m.x < w) {
                let a = 1.0 - m.x / w;
                acc = acc + trans * a * shade(origin + dir * m.y, ang);
                trans = trans * (1.0 - a);
            }
        }
        before_t = prev_t;
        prev_d = d;
        prev_t = t;
        t = t + d * 0.9;
        if (t > 2.0 * params.camera_z) {
            return acc;
        }
    }
    let d = sdf(origin + dir * t);
    if (d < w) {
        let a = 1.0 - d / w;
        acc = acc + trans * a * shade(origin + dir * t, ang);
    }
    return acc;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let size = params.size;
    let idx = gid.x;
    let frame = gid.y;
    if (idx >= size * size || frame >= params.frames) {
        return;
    }
    let px = idx % size;
    let py = idx / size;
    let ang = angles[frame];
    let s = f32(size);
    let w = 2.0 * params.half_width / (s * f32(SUPERSAMPLE));
    var acc = 0.0;
    for (var sy = 0u; sy < SUPERSAMPLE; sy = sy + 1u) {
        for (var sx = 0u; sx < SUPERSAMPLE; sx = sx + 1u) {
            let ox = (f32(sx) + 0.5) / f32(SUPERSAMPLE);
            let oy = (f32(sy) + 0.5) / f32(SUPERSAMPLE);
            let u = ((f32(px) + ox) / s * 2.0 - 1.0) * params.half_width;
            let v = (1.0 - (f32(py) + oy) / s * 2.0) * params.half_width;
            acc = acc + ray(u, v, ang, w);
        }
    }
    let value = acc / f32(SUPERSAMPLE * SUPERSAMPLE);
    image[frame * size * size + idx] = value;
}
