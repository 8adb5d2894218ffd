//! The CPU twins of every GPU stage (rayon over rows), plus the float64 ground truth. [`CpuDevice`]
//! implements [`Device`] with the same f32 storage as the GPU so that the two paths run the same
//! algorithm and compare as baselines; each stage function here is named after its WGSL kernel.

pub(crate) mod csr_matmat;
pub(crate) mod kernel;
pub(crate) mod kernel_gemm;
pub(crate) mod kernel_matmat;
pub(crate) mod lanczos;
pub(crate) mod matmat;
pub(crate) mod matvec;
pub(crate) mod normalise;
pub mod render;

use half::f16;

use crate::backend::GeometryF32;
use crate::backend::{Device, KernelMethod, Precision, check_precision, krylov_needs_f32, no_rows_stored};
use crate::error::{Error, Result};

/// The CPU backend: the matrix as N rows of N f32 values (or f16 values and a diagonal scale, see
/// [`Precision::F16`]) and a column-major f32 Krylov basis.
#[derive(Default)]
pub struct CpuDevice {
    n: usize,
    precision: Precision,
    matrix: Vec<f32>,
    half: Vec<f16>,
    /// The diagonal scale of f16 and matrix-free storage (ones until `normalise`).
    scale: Vec<f32>,
    /// The geometry and ε of a matrix-free operator.
    free: Option<(Free, f64)>,
    /// The requested kernel method, and the one the last build used.
    method: (KernelMethod, KernelMethod),
    m: usize,
    basis: Vec<f32>,
    spare: Vec<f32>,
    coef: Vec<f32>,
    csr: Option<crate::backend::Csr>,
}

/// A matrix-free operator's geometry, in the layout of the method that recomputes it.
enum Free {
    Pairwise(GeometryF32),
    Gemm(kernel_gemm::GemmGeometry),
}

impl CpuDevice {
    /// An empty device; the matrix is allocated by [`Device::build_kernel`].
    pub fn new() -> Self {
        Self::default()
    }
    /// diag(scale)·v, column by column, for the f16 products.
    fn scaled(&self, v: &[f32]) -> Vec<f32> {
        crate::backend::scale_columns(v, &self.scale)
    }
    fn check_vec(&self, v: &[f32], what: &str) -> Result<()> {
        if v.len() != self.n {
            return Err(Error::Shape(format!("{what}: vector of length {} for N = {}", v.len(), self.n)));
        }
        Ok(())
    }
}

impl Device for CpuDevice {
    fn kind(&self) -> &'static str {
        "cpu"
    }
    fn adapter(&self) -> String {
        format!("CPU ({} rayon threads)", rayon::current_num_threads())
    }
    fn n(&self) -> usize {
        self.n
    }
    fn build_kernel_as(&mut self, geom: &GeometryF32, eps: Option<f64>, precision: Precision) -> Result<()> {
        check_precision(eps, precision)?;
        let n = geom.n;
        let bytes = (n as u64) * (n as u64) * precision.bytes();
        self.matrix = Vec::new();
        self.half = Vec::new();
        self.free = None;
        self.n = 0;
        let too_large = |_| Error::HostMemory {
            n,
            needed: bytes,
            what: if precision == Precision::F16 { "the dense f16 matrix" } else { "the dense f32 matrix" },
        };
        self.method.1 = self.method.0.resolve(geom.dim);
        let gemm = self.method.1 == KernelMethod::Gemm;
        match (precision, eps) {
            (Precision::F16, Some(e)) => {
                let mut m = Vec::new();
                m.try_reserve_exact(n * n).map_err(too_large)?;
                m.resize(n * n, f16::ZERO);
                match gemm {
                    true => kernel_gemm::kernel_gemm_f16(&kernel_gemm::GemmGeometry::new(geom), e, &mut m),
                    false => kernel::kernel_f16(geom, e, 0, &mut m),
                }
                self.half = m;
            }
            _ => {
                let mut m = Vec::new();
                m.try_reserve_exact(n * n).map_err(too_large)?;
                m.resize(n * n, 0.0);
                match gemm {
                    true => kernel_gemm::kernel_gemm(&kernel_gemm::GemmGeometry::new(geom), eps, &mut m),
                    false => kernel::kernel(geom, eps, 0, &mut m),
                }
                self.matrix = m;
            }
        }
        self.scale = vec![1.0; n];
        self.precision = precision;
        self.n = n;
        Ok(())
    }
    fn precision(&self) -> Precision {
        self.precision
    }
    fn set_kernel_method(&mut self, method: KernelMethod) {
        self.method.0 = method;
    }
    fn kernel_method(&self) -> KernelMethod {
        self.method.1
    }
    fn build_matrix_free(&mut self, geom: &GeometryF32, eps: f64) -> Result<()> {
        self.matrix = Vec::new();
        self.half = Vec::new();
        self.method.1 = self.method.0.resolve(geom.dim);
        let free = match self.method.1 {
            KernelMethod::Gemm => Free::Gemm(kernel_gemm::GemmGeometry::new(geom)),
            _ => Free::Pairwise(geom.clone()),
        };
        self.free = Some((free, eps));
        self.precision = Precision::F32;
        self.scale = vec![1.0; geom.n];
        self.n = geom.n;
        Ok(())
    }
    fn is_matrix_free(&self) -> bool {
        self.free.is_some()
    }
    fn memory_budget(&self) -> Option<u64> {
        crate::backend::host_memory_budget()
    }
    fn read_rows(&mut self, row0: usize, rows: usize) -> Result<Vec<f32>> {
        let n = self.n;
        if row0 + rows > n {
            return Err(Error::Shape(format!("rows {row0}..{} outside N = {n}", row0 + rows)));
        }
        if self.free.is_some() {
            return Err(no_rows_stored());
        }
        Ok(match self.precision {
            Precision::F32 => self.matrix[row0 * n..(row0 + rows) * n].to_vec(),
            Precision::F16 => (row0 * n..(row0 + rows) * n)
                .map(|at| self.scale[at / n] * self.half[at].to_f32() * self.scale[at % n])
                .collect(),
        })
    }
    fn matvec(&mut self, x: &[f32]) -> Result<Vec<f32>> {
        self.check_vec(x, "matvec")?;
        if self.free.is_some() {
            return self.matmat(x, 1);
        }
        let mut y = vec![0.0; self.n];
        match self.precision {
            Precision::F32 => matvec::matvec(&self.matrix, self.n, x, &mut y),
            Precision::F16 => {
                matvec::matvec_f16(&self.half, self.n, &self.scaled(x), &mut y);
                y = self.scaled(&y);
            }
        }
        Ok(y)
    }
    fn matmat(&mut self, x: &[f32], b: usize) -> Result<Vec<f32>> {
        if b == 0 || x.len() != self.n * b {
            return Err(Error::Shape(format!("matmat: block of {} values for N = {}, b = {b}", x.len(), self.n)));
        }
        let mut y = vec![0.0; self.n * b];
        if let Some((free, eps)) = &self.free {
            match free {
                Free::Pairwise(g) => kernel_matmat::kernel_matmat(g, *eps, &self.scaled(x), b, &mut y),
                Free::Gemm(g) => kernel_gemm::kernel_gemm_matmat(g, *eps, &self.scaled(x), b, &mut y),
            }
            return Ok(self.scaled(&y));
        }
        match self.precision {
            Precision::F32 => matmat::matmat(&self.matrix, self.n, x, b, &mut y),
            Precision::F16 => {
                matmat::matmat_f16(&self.half, self.n, &self.scaled(x), b, &mut y);
                y = self.scaled(&y);
            }
        }
        Ok(y)
    }
    fn load_csr(&mut self, csr: &crate::backend::Csr) -> Result<()> {
        self.csr = Some(csr.clone());
        Ok(())
    }
    fn csr_matmat(&mut self, x: &[f32], b: usize) -> Result<Vec<f32>> {
        match &self.csr {
            Some(c) => c.matmat(x, b),
            None => Err(Error::Shape("csr_matmat before load_csr".into())),
        }
    }
    fn normalise(&mut self, w: &[f32]) -> Result<()> {
        self.check_vec(w, "normalise")?;
        match self.precision {
            Precision::F32 if self.free.is_none() => normalise::normalise(&mut self.matrix, self.n, 0, w),
            _ => self.scale.iter_mut().zip(w).for_each(|(s, w)| *s *= w),
        }
        Ok(())
    }
    fn krylov_begin(&mut self, m: usize, start: &[f32]) -> Result<()> {
        self.check_vec(start, "krylov start")?;
        if self.precision != Precision::F32 || self.free.is_some() {
            return Err(krylov_needs_f32());
        }
        let n = self.n;
        self.m = m;
        self.basis = vec![0.0; (m + 1) * n];
        self.spare = vec![0.0; (m + 1) * n];
        self.coef = vec![0.0; (m + 1) * m];
        lanczos::lanczos_normalise(start, &mut self.basis[..n], None);
        Ok(())
    }
    fn krylov_expand(&mut self, from: usize, to: usize) -> Result<Vec<f32>> {
        let (n, m) = (self.n, self.m);
        if to > m || from > to {
            return Err(Error::Eigen(format!("expand {from}..{to} outside basis of {m} columns")));
        }
        let mut w = vec![0.0f32; n];
        let mut h = vec![0.0f32; m + 1];
        for j in from..to {
            matvec::matvec(&self.matrix, n, &self.basis[j * n..(j + 1) * n], &mut w);
            let col = &mut self.coef[j * (m + 1)..(j + 1) * (m + 1)];
            col.iter_mut().for_each(|c| *c = 0.0);
            // CGS2: two classical Gram–Schmidt passes; one pass loses orthogonality in f32.
            for _ in 0..2 {
                lanczos::lanczos_project(&self.basis, n, j + 1, &w, &mut h);
                for c in 0..=j {
                    col[c] += h[c];
                }
                lanczos::lanczos_orthogonalise(&self.basis, n, j + 1, &h, &mut w);
            }
            let (done, rest) = self.basis.split_at_mut((j + 1) * n);
            let _ = done;
            col[j + 1] = lanczos::lanczos_normalise(&w, &mut rest[..n], None);
        }
        Ok(self.coef.clone())
    }
    fn krylov_restart(&mut self, y: &[f32], k: usize) -> Result<()> {
        let (n, m) = (self.n, self.m);
        lanczos::lanczos_restart(&self.basis, n, m, y, k, true, &mut self.spare);
        std::mem::swap(&mut self.basis, &mut self.spare);
        self.coef.iter_mut().for_each(|c| *c = 0.0);
        Ok(())
    }
    fn krylov_inject(&mut self, k: usize, v: &[f32]) -> Result<()> {
        self.check_vec(v, "krylov inject")?;
        let n = self.n;
        if k > self.m {
            return Err(Error::Eigen(format!("inject into column {k} of a basis of {} columns", self.m + 1)));
        }
        let mut w = v.to_vec();
        let mut h = vec![0.0f32; self.m + 1];
        for _ in 0..2 {
            lanczos::lanczos_project(&self.basis, n, k, &w, &mut h);
            lanczos::lanczos_orthogonalise(&self.basis, n, k, &h, &mut w);
        }
        lanczos::lanczos_normalise(&w, &mut self.basis[k * n..(k + 1) * n], None);
        Ok(())
    }
    fn krylov_vectors(&mut self, y: &[f32], k: usize) -> Result<Vec<f32>> {
        let (n, m) = (self.n, self.m);
        lanczos::lanczos_restart(&self.basis, n, m, y, k, false, &mut self.spare);
        Ok(self.spare[..k * n].to_vec())
    }
}
