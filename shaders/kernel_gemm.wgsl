// kernel_gemm: one row block of the Mahalanobis d2 or kernel matrix as tiled matrix products (the
// large-D path; kernel.wgsl is the pair-by-pair one). For a 64x64 tile of pairs (i, j) and each factor
// column s, the workgroup forms z1 = L_s[i] . o_j and z2 = o_i . L_s[j] (L_s: row i is column s of
// U_i, or of the tangent basis V_i for s >= rank) from chunks of TK coordinates staged in workgroup
// memory, each invocation holding a 4x4 register block, and folds them into
//   m_ij + m_ji = sum_{s<rank} (a_is - z1)^2 + (a_js - z2)^2      (a_is = L_s[i] . o_i, given)
//   + w_i max(|d|^2 - sum_{s>=rank} (a_is - z1)^2, 0) + w_j max(|d|^2 - sum (a_js - z2)^2, 0)
// then d2 = (m_ij + m_ji) / 2, the diagonal exactly 0, out = exp(-d2 * inv_eps) or d2. |d|^2 is
// accumulated directly from the staged coordinates (WGSL has no f64 for the Gram form the CPU twin
// uses; the direct sum does not cancel). Storage as kernel.wgsl: f32 bits (row stride N) or f16 pairs
// (row stride ceil(N/2) words, the pad half of an odd N zero). CPU twin: src/cpu/kernel_gemm.rs.

// Keep in sync with `KernelGemmParams` in src/gpu/kernel_gemm.rs.
struct Params {
    n: u32,
    dim: u32,
    rank: u32,
    row0: u32,
    rows: u32,
    // bit 0: write d2 (else the kernel); bit 1: f16 storage; bit 2: normal term (nmat = 2 rank).
    flags: u32,
    inv_eps: f32,
    nmat: u32,
}

const BM: u32 = 64u;
const TK: u32 = 8u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> obs: array<f32>;
@group(0) @binding(2) var<storage, read> cols: array<f32>;
@group(0) @binding(3) var<storage, read> selfs: array<f32>;
@group(0) @binding(4) var<storage, read> normal_w: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<u32>;

var<workgroup> o_i: array<f32, 512>;             // BM * TK
var<workgroup> o_j: array<f32, 512>;
var<workgroup> l_i: array<f32, 512>;
var<workgroup> l_j: array<f32, 512>;

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let tx = lid.x;
    let ty = lid.y;
    let lin = ty * 16u + tx;
    let ti0 = p.row0 + wg.y * BM;
    let tj0 = wg.x * BM;
    let row_end = min(p.row0 + p.rows, p.n);
    let normal = (p.flags & 4u) != 0u;
    // Invocation (tx, ty) owns rows ti0 + ty + 16a and columns tj0 + 4tx + b (a, b < 4): neighbouring
    // columns in one invocation, so f16 pairs pack without an exchange.
    var acc: array<f32, 16>;
    var tan_i: array<f32, 16>;
    var tan_j: array<f32, 16>;
    var dd: array<f32, 16>;
    for (var s = 0u; s < p.nmat; s++) {
        var z1: array<f32, 16>;
        var z2: array<f32, 16>;
        let with_dd = normal && s == 0u;
        for (var c0 = 0u; c0 < p.dim; c0 += TK) {
            for (var q = lin; q < BM * TK; q += 256u) {
                let pt = q / TK;
                let c = c0 + q % TK;
                let gi = ti0 + pt;
                let gj = tj0 + pt;
                var vi = 0.0;
                var vj = 0.0;
                var wi = 0.0;
                var wj = 0.0;
                if (c < p.dim && gi < row_end) {
                    vi = obs[gi * p.dim + c];
                    wi = cols[(s * p.n + gi) * p.dim + c];
                }
                if (c < p.dim && gj < p.n) {
                    vj = obs[gj * p.dim + c];
                    wj = cols[(s * p.n + gj) * p.dim + c];
                }
                o_i[q] = vi;
                o_j[q] = vj;
                l_i[q] = wi;
                l_j[q] = wj;
            }
            workgroupBarrier();
            for (var k = 0u; k < TK; k++) {
                var ri: array<f32, 4>;
                var rl: array<f32, 4>;
                var cj: array<f32, 4>;
                var cl: array<f32, 4>;
                for (var a = 0u; a < 4u; a++) {
                    ri[a] = o_i[(ty + 16u * a) * TK + k];
                    rl[a] = l_i[(ty + 16u * a) * TK + k];
                    cj[a] = o_j[(4u * tx + a) * TK + k];
                    cl[a] = l_j[(4u * tx + a) * TK + k];
                }
                for (var a = 0u; a < 4u; a++) {
                    for (var b = 0u; b < 4u; b++) {
                        z1[a * 4u + b] += rl[a] * cj[b];
                        z2[a * 4u + b] += ri[a] * cl[b];
                    }
                }
                if (with_dd) {
                    for (var a = 0u; a < 4u; a++) {
                        for (var b = 0u; b < 4u; b++) {
                            let d = ri[a] - cj[b];
                            dd[a * 4u + b] += d * d;
                        }
                    }
                }
            }
            workgroupBarrier();
        }
        for (var a = 0u; a < 4u; a++) {
            let ai = selfs[s * p.n + min(ti0 + ty + 16u * a, p.n - 1u)];
            for (var b = 0u; b < 4u; b++) {
                let aj = selfs[s * p.n + min(tj0 + 4u * tx + b, p.n - 1u)];
                let e1 = ai - z1[a * 4u + b];
                let e2 = aj - z2[a * 4u + b];
                if (s < p.rank) {
                    acc[a * 4u + b] += e1 * e1 + e2 * e2;
                } else {
                    tan_i[a * 4u + b] += e1 * e1;
                    tan_j[a * 4u + b] += e2 * e2;
                }
            }
        }
    }
    let half = (p.flags & 2u) != 0u;
    let stride = select(p.n, (p.n + 1u) / 2u, half);
    for (var a = 0u; a < 4u; a++) {
        let gi = ti0 + ty + 16u * a;
        if (gi >= row_end) { continue; }
        var v: array<f32, 4>;
        for (var b = 0u; b < 4u; b++) {
            let gj = tj0 + 4u * tx + b;
            let t = a * 4u + b;
            var d2 = acc[t];
            if (normal) {
                d2 += max(dd[t] - tan_i[t], 0.0) * normal_w[gi] + max(dd[t] - tan_j[t], 0.0) * normal_w[min(gj, p.n - 1u)];
            }
            d2 = 0.5 * d2;
            if (gi == gj) { d2 = 0.0; }
            var x = d2;
            if ((p.flags & 1u) == 0u) { x = exp(-d2 * p.inv_eps); }
            if (gj >= p.n) { x = 0.0; }
            v[b] = x;
        }
        let base = (gi - p.row0) * stride;
        if (half) {
            for (var b = 0u; b < 4u; b += 2u) {
                let gj = tj0 + 4u * tx + b;
                if (gj < p.n) { out[base + gj / 2u] = pack2x16float(vec2<f32>(v[b], v[b + 1u])); }
            }
        } else {
            for (var b = 0u; b < 4u; b++) {
                let gj = tj0 + 4u * tx + b;
                if (gj < p.n) { out[base + gj] = bitcast<u32>(v[b]); }
            }
        }
    }
}
