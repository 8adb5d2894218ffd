//! The single-vector Krylov protocol of [`GpuDevice`] (see [`crate::backend`]): the basis in two
//! ping-pong buffers with bind groups for both orientations, and a whole Lanczos restart cycle —
//! matvecs, the two Gram–Schmidt passes, normalisation — recorded into one submission, with one
//! read-back of the coefficient matrix. The stages are the `lanczos_*` kernels ([`super::lanczos`]).

use super::buffers::{GpuBuffer, bind};
use super::lanczos::{self, Op, StepParams};
use super::shaders::Shader;
use super::{ARENA_SLOTS, GpuDevice, matvec, one_pass, record_pass};
use crate::backend::krylov_needs_f32;
use crate::error::{Error, Result};

/// The basis, its scratch vectors and the bind groups of one Krylov run.
pub(super) struct Krylov {
    m: usize,
    basis: [GpuBuffer<f32>; 2],
    cur: usize,
    w: GpuBuffer<f32>,
    coef: GpuBuffer<f32>,
    y: GpuBuffer<f32>,
    /// Per orientation (current basis index): matvec per block, project, orthogonalise, normalise,
    /// restart (current → other).
    bg_matvec: [Vec<wgpu::BindGroup>; 2],
    bg_project: [wgpu::BindGroup; 2],
    bg_orth: [wgpu::BindGroup; 2],
    bg_norm: [wgpu::BindGroup; 2],
    bg_restart: [wgpu::BindGroup; 2],
}

impl GpuDevice {
    pub(super) fn start_basis(&mut self, m: usize, start: &[f32]) -> Result<()> {
        let ctx = self.ctx.clone();
        let n = self.n;
        if start.len() != n || n == 0 {
            return Err(Error::Shape(format!("krylov start of length {} for N = {n}", start.len())));
        }
        if self.scales() {
            return Err(krylov_needs_f32());
        }
        self.krylov = None;
        let basis_bytes = 4 * ((m + 1) * n) as u64;
        if basis_bytes > ctx.limits.max_storage_buffer_binding_size {
            return Err(Error::TooLarge {
                n,
                needed: basis_bytes,
                limit: ctx.limits.max_storage_buffer_binding_size,
                what: "Krylov basis of m+1 columns",
            });
        }
        let basis = [
            GpuBuffer::<f32>::zeroed(&ctx, "basis a", (m + 1) * n)?,
            GpuBuffer::<f32>::zeroed(&ctx, "basis b", (m + 1) * n)?,
        ];
        let w = GpuBuffer::from_slice(&ctx, "w", start)?;
        let coef = GpuBuffer::<f32>::zeroed(&ctx, "coef", (m + 1) * m + m + 1)?;
        let y = GpuBuffer::<f32>::zeroed(&ctx, "ritz rotation", m * m)?;
        let a = &self.arena;
        let mk = |cur: usize| {
            let v = &basis[cur];
            let other = &basis[1 - cur];
            (
                self.blocks
                    .iter()
                    .map(|b| bind(&ctx, Shader::Matvec, a, &[b.buf.binding(), v.binding(), w.binding()]))
                    .collect::<Vec<_>>(),
                bind(&ctx, Shader::LanczosProject, a, &[v.binding(), w.binding(), coef.binding()]),
                bind(&ctx, Shader::LanczosOrthogonalise, a, &[v.binding(), coef.binding(), w.binding()]),
                bind(&ctx, Shader::LanczosNormalise, a, &[w.binding(), coef.binding(), v.binding()]),
                bind(&ctx, Shader::LanczosRestart, a, &[v.binding(), y.binding(), other.binding()]),
            )
        };
        let (m0, p0, o0, n0, r0) = mk(0);
        let (m1, p1, o1, n1, r1) = mk(1);
        let k = Krylov {
            m,
            basis,
            cur: 0,
            w,
            coef,
            y,
            bg_matvec: [m0, m1],
            bg_project: [p0, p1],
            bg_orth: [o0, o1],
            bg_norm: [n0, n1],
            bg_restart: [r0, r1],
        };
        let enc = one_pass(&ctx, &mut self.arena, "krylov begin", |pass, arena| {
            let p = StepParams { n: n as u32, dst: 0, flag: 0, ..Default::default() };
            lanczos::encode(&ctx, pass, arena, &k.bg_norm[0], Op::Normalise, p)?;
            Ok(())
        })?;
        ctx.queue.submit(Some(enc.finish()));
        ctx.wait()?;
        self.krylov = Some(k);
        Ok(())
    }

    pub(super) fn expand_basis(&mut self, from: usize, to: usize) -> Result<Vec<f32>> {
        let ctx = self.ctx.clone();
        let n = self.n;
        let k = self.krylov.as_ref().ok_or_else(|| Error::Eigen("krylov_begin was not called".into()))?;
        let m = k.m;
        if to > m || from > to {
            return Err(Error::Eigen(format!("expand {from}..{to} outside basis of {m} columns")));
        }
        let cur = k.cur;
        let tmp = ((m + 1) * m) as u32;
        let per_step = self.blocks.len() + 5;
        let steps_per_submit = (ARENA_SLOTS / per_step).max(1);
        let mut j = from;
        let mut enc = self.encoder();
        // All steps of the cycle are recorded without a read-back; when the parameter arena cannot hold
        // them all, the cycle is split over several submits (still no synchronisation in between).
        loop {
            let end = (j + steps_per_submit).min(to);
            record_pass(&ctx, &mut enc, &mut self.arena, "lanczos cycle", |pass, arena| {
                for step in j..end {
                    for (b, bg) in self.blocks.iter().zip(&k.bg_matvec[cur]) {
                        let p = matvec::MatvecParams {
                            n: n as u32,
                            rows: b.rows as u32,
                            row0: b.row0 as u32,
                            x_off: (step * n) as u32,
                            y_off: 0,
                            half: 0,
                            _pad: [0; 2],
                        };
                        matvec::encode(&ctx, pass, arena, bg, p)?;
                    }
                    let base = StepParams {
                        n: n as u32,
                        ncols: step as u32 + 1,
                        hcol: (step * (m + 1)) as u32,
                        tmp,
                        m: m as u32,
                        ..Default::default()
                    };
                    // CGS2: project, subtract, project again (accumulating into H), subtract again.
                    for pass_no in 0..2u32 {
                        let p = StepParams { flag: pass_no, ..base };
                        lanczos::encode(&ctx, pass, arena, &k.bg_project[cur], Op::Project, p)?;
                        lanczos::encode(&ctx, pass, arena, &k.bg_orth[cur], Op::Orthogonalise, p)?;
                    }
                    let p = StepParams {
                        hcol: (step * (m + 1) + step + 1) as u32,
                        flag: 1,
                        dst: ((step + 1) * n) as u32,
                        ..base
                    };
                    lanczos::encode(&ctx, pass, arena, &k.bg_norm[cur], Op::Normalise, p)?;
                }
                Ok(())
            })?;
            j = end;
            if j >= to {
                break;
            }
            ctx.queue.submit(Some(enc.finish()));
            enc = self.encoder();
        }
        self.reader.finish(&ctx, enc, &k.coef.buffer, 0, (m + 1) * m)
    }

    /// Records the rotation V[:, :kk] ← V Y of the current basis into the other basis buffer, with
    /// the residual carried to column kk when `carry_residual` (a restart; without it, the final Ritz
    /// vectors). `what` names it in errors and labels; returns the encoder and the current buffer.
    fn encode_rotation(
        &mut self,
        y: &[f32],
        kk: usize,
        carry_residual: bool,
        what: &str,
    ) -> Result<(wgpu::CommandEncoder, usize)> {
        let ctx = self.ctx.clone();
        let n = self.n;
        let k = self.krylov.as_ref().ok_or_else(|| Error::Eigen("krylov_begin was not called".into()))?;
        let (m, cur) = (k.m, k.cur);
        if y.len() != m * kk || kk > m {
            return Err(Error::Eigen(format!("{what} with a {}-entry rotation for m = {m}, k = {kk}", y.len())));
        }
        k.y.write(&ctx, 0, y);
        let enc = one_pass(&ctx, &mut self.arena, what, |pass, arena| {
            let flag = u32::from(carry_residual);
            let p = StepParams { n: n as u32, m: m as u32, k: kk as u32, flag, ..Default::default() };
            lanczos::encode(&ctx, pass, arena, &k.bg_restart[cur], Op::Restart, p)?;
            Ok(())
        })?;
        Ok((enc, cur))
    }

    pub(super) fn restart_basis(&mut self, y: &[f32], kk: usize) -> Result<()> {
        let (enc, cur) = self.encode_rotation(y, kk, true, "restart")?;
        self.ctx.queue.submit(Some(enc.finish()));
        if let Some(k) = self.krylov.as_mut() {
            k.cur = 1 - cur;
        }
        self.ctx.check()
    }

    pub(super) fn inject_into_basis(&mut self, kk: usize, v: &[f32]) -> Result<()> {
        let ctx = self.ctx.clone();
        let n = self.n;
        let k = self.krylov.as_ref().ok_or_else(|| Error::Eigen("krylov_begin was not called".into()))?;
        let (m, cur) = (k.m, k.cur);
        if v.len() != n || kk > m {
            return Err(Error::Eigen(format!(
                "inject a vector of length {} into column {kk} (N = {n}, m = {m})",
                v.len()
            )));
        }
        k.w.write(&ctx, 0, v);
        let tmp = ((m + 1) * m) as u32;
        let enc = one_pass(&ctx, &mut self.arena, "inject", |pass, arena| {
            // CGS2 against columns 0..k; the projections go to the scratch slot only (hcol = tmp).
            let base = StepParams { n: n as u32, ncols: kk as u32, hcol: tmp, tmp, m: m as u32, ..Default::default() };
            for _ in 0..2 {
                lanczos::encode(&ctx, pass, arena, &k.bg_project[cur], Op::Project, base)?;
                lanczos::encode(&ctx, pass, arena, &k.bg_orth[cur], Op::Orthogonalise, base)?;
            }
            let p = StepParams { dst: (kk * n) as u32, flag: 0, ..base };
            lanczos::encode(&ctx, pass, arena, &k.bg_norm[cur], Op::Normalise, p)?;
            Ok(())
        })?;
        ctx.queue.submit(Some(enc.finish()));
        ctx.check()
    }

    pub(super) fn ritz_vectors(&mut self, y: &[f32], kk: usize) -> Result<Vec<f32>> {
        let (enc, cur) = self.encode_rotation(y, kk, false, "Ritz vectors")?;
        let ctx = self.ctx.clone();
        let k = self.krylov.as_ref().ok_or_else(|| Error::Eigen("krylov_begin was not called".into()))?;
        self.reader.finish(&ctx, enc, &k.basis[1 - cur].buffer, 0, kk * self.n)
    }
}
