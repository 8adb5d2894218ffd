// tile_gemm: the Mahalanobis d2 of a 64x64 tile of pairs by matrix products, shared by kernel_gemm.wgsl
// and kernel_gemm_matmat.wgsl (src/gpu/shaders.rs prepends this file to both). For each factor column
// s the workgroup forms z1 = L_s[i] . o_j and z2 = o_i . L_s[j] (L_s: row i is column s of U_i, or of
// the tangent basis V_i for s >= rank) from chunks of TK coordinates staged in workgroup memory, each
// invocation holding a 4x4 register block, and folds them into
//   m_ij + m_ji = sum_{s<rank} (a_is - z1)^2 + (a_js - z2)^2      (a_is = L_s[i] . o_i, given)
//   + w_i max(|d|^2 - sum_{s>=rank} (a_is - z1)^2, 0) + w_j max(|d|^2 - sum (a_js - z2)^2, 0),
// d2 = (m_ij + m_ji) / 2, exactly 0 on the diagonal. |d|^2 is accumulated directly from the staged
// coordinates (WGSL has no f64 for the Gram form the CPU twin uses; the direct sum does not cancel).
// Invocation (tx, ty) owns rows ti0 + ty + 16a and columns tj0 + 4tx + b (a, b < 4): neighbouring
// columns in one invocation, so f16 pairs pack without an exchange. Contains barriers: call it from
// uniform control flow. smem is free for the caller once it returns (4096 entries: the matrix-free
// product keeps its kernel tile there). CPU twin: src/cpu/kernel_gemm.rs (GemmGeometry::tile).

const BM: u32 = 64u;
const TK: u32 = 8u;

@group(0) @binding(1) var<storage, read> obs: array<f32>;
@group(0) @binding(2) var<storage, read> cols: array<f32>;
@group(0) @binding(3) var<storage, read> selfs: array<f32>;
@group(0) @binding(4) var<storage, read> normal_w: array<f32>;

// Staging: o_i at 0, o_j at 512, l_i at 1024, l_j at 1536 (BM * TK each).
var<workgroup> smem: array<f32, 4096>;

// d2 of this invocation's 4x4 block (row-major a * 4 + b) of the tile at (ti0, tj0); rows at or past
// row_end and columns past n load zeros (their values are meaningless; the caller masks them).
fn tile_gemm(n: u32, dim: u32, rank: u32, nmat: u32, normal: bool, ti0: u32, tj0: u32, row_end: u32,
             tx: u32, ty: u32) -> array<f32, 16> {
    let lin = ty * 16u + tx;
    var acc: array<f32, 16>;
    var tan_i: array<f32, 16>;
    var tan_j: array<f32, 16>;
    var dd: array<f32, 16>;
    for (var s = 0u; s < nmat; s++) {
        var z1: array<f32, 16>;
        var z2: array<f32, 16>;
        let with_dd = normal && s == 0u;
        for (var c0 = 0u; c0 < dim; c0 += TK) {
            for (var q = lin; q < BM * TK; q += 256u) {
                let pt = q / TK;
                let c = c0 + q % TK;
                let gi = ti0 + pt;
                let gj = tj0 + pt;
                var vi = 0.0;
                var vj = 0.0;
                var wi = 0.0;
                var wj = 0.0;
                if (c < dim && gi < row_end) {
                    vi = obs[gi * dim + c];
                    wi = cols[(s * n + gi) * dim + c];
                }
                if (c < dim && gj < n) {
                    vj = obs[gj * dim + c];
                    wj = cols[(s * n + gj) * dim + c];
                }
                smem[q] = vi;
                smem[512u + q] = vj;
                smem[1024u + q] = wi;
                smem[1536u + q] = wj;
            }
            workgroupBarrier();
            for (var k = 0u; k < TK; k++) {
                var ri: array<f32, 4>;
                var rl: array<f32, 4>;
                var cj: array<f32, 4>;
                var cl: array<f32, 4>;
                for (var a = 0u; a < 4u; a++) {
                    ri[a] = smem[(ty + 16u * a) * TK + k];
                    rl[a] = smem[1024u + (ty + 16u * a) * TK + k];
                    cj[a] = smem[512u + (4u * tx + a) * TK + k];
                    cl[a] = smem[1536u + (4u * tx + a) * TK + k];
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
            let ai = selfs[s * n + min(ti0 + ty + 16u * a, n - 1u)];
            for (var b = 0u; b < 4u; b++) {
                let aj = selfs[s * n + min(tj0 + 4u * tx + b, n - 1u)];
                let e1 = ai - z1[a * 4u + b];
                let e2 = aj - z2[a * 4u + b];
                if (s < rank) {
                    acc[a * 4u + b] += e1 * e1 + e2 * e2;
                } else {
                    tan_i[a * 4u + b] += e1 * e1;
                    tan_j[a * 4u + b] += e2 * e2;
                }
            }
        }
    }
    var d2: array<f32, 16>;
    for (var a = 0u; a < 4u; a++) {
        let gi = ti0 + ty + 16u * a;
        for (var b = 0u; b < 4u; b++) {
            let gj = tj0 + 4u * tx + b;
            let t = a * 4u + b;
            var v = acc[t];
            if (normal) {
                v += max(dd[t] - tan_i[t], 0.0) * normal_w[min(gi, n - 1u)]
                    + max(dd[t] - tan_j[t], 0.0) * normal_w[min(gj, n - 1u)];
            }
            v = 0.5 * v;
            if (gi == gj) { v = 0.0; }
            d2[t] = v;
        }
    }
    return d2;
}
