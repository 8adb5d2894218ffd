//! The arrays behind a comparison's figures, written as `report.npz` so that a user can redraw or
//! analyse them: the figures are drawn from this struct and nothing else.
//!
//! | member | shape | what |
//! |---|---|---|
//! | `eigenvalues_a`, `eigenvalues_b` | k+1 | λ₀ ≥ λ₁ ≥ … of each network's operator |
//! | `r_k_a`, `r_k_b` | k | local linear fit r_k of ψ₁ … ψ_k |
//! | `selected_a`, `selected_b` | s | the selected coordinates (1-based) |
//! | `coords_a`, `coords_b` | N×(k+1) | diffusion coordinates ψ (column 0 trivial) |
//! | `aligned_a`, `matched_b` | N×p | A's selected coordinates aligned to B's, and B's matched ones |
//! | `colour` | N | the value the embedding plots are coloured by (first input, or the index) |
//! | `held_out` | T | the rows held out for scoring T_AB and T_BA |
//! | `predicted_b`, `true_b` | T×D_B | T_AB(o_A) and o_B on the held-out rows |
//! | `predicted_a`, `true_a` | T×D_A | T_BA(o_B) and o_A on the held-out rows |
//! | `local_disagreement` | N | per point: the larger share of one network's 10 nearest neighbours that the other places far (1 where one is locally constant and the other is not) |
//! | `merge_a`, `merge_b` | N | per point: the share of A's (B's) neighbours that the other network places far |
//! | `region` | N | int64: 0 outside the regions, k inside the k-th of `report.json`'s `local.regions` |
//! | `residual_ab`, `residual_ba` | N | per point: the held-out error of the direct regression o_A → o_B (o_B → o_A) over the target's RMS spread |
//! | `whitney_q`, `whitney_rmse_ab`, `whitney_rmse_ba`, `whitney_input_rmse` | q | the sweep (NaN: not comparable), when run |

use std::path::Path;

use ndarray::{Array1, Array2};

use crate::data::Observations;
use crate::data::npz;
use crate::error::Result;
use crate::pipeline::compare::Comparison;
use crate::pipeline::whitney::SweepPoint;

/// Everything the figures show, as arrays (see the module table).
#[derive(Clone, Debug)]
pub struct ReportArrays {
    /// Eigenvalues of A and B.
    pub eigenvalues: (Array1<f64>, Array1<f64>),
    /// r_k of A and B.
    pub r_k: (Array1<f64>, Array1<f64>),
    /// Selected coordinates (1-based) of A and B.
    pub selected: (Array1<i64>, Array1<i64>),
    /// Diffusion coordinates of A and B.
    pub coords: (Array2<f64>, Array2<f64>),
    /// A's aligned coordinates and B's matched ones.
    pub aligned: (Array2<f64>, Array2<f64>),
    /// The colour value of each point (A's first input when present, else the index).
    pub colour: Array1<f64>,
    /// Whether `colour` is an input (true) or the point index (false).
    pub colour_is_input: bool,
    /// Held-out rows.
    pub held_out: Array1<i64>,
    /// (T_AB(o_A), o_B) on the held-out rows.
    pub ab: (Array2<f64>, Array2<f64>),
    /// (T_BA(o_B), o_A) on the held-out rows.
    pub ba: (Array2<f64>, Array2<f64>),
    /// Held-out relative RMSE of T_AB and T_BA.
    pub rmse: (f64, f64),
    /// Per point: local disagreement, A's and B's merge fractions.
    pub local: (Array1<f64>, Array1<f64>, Array1<f64>),
    /// Per point: its region (1-based, 0 outside every region).
    pub region: Array1<i64>,
    /// Per point: held-out errors of the direct regressions o_A → o_B and o_B → o_A.
    pub residuals: (Array1<f64>, Array1<f64>),
    /// Where the disagreement figure places each point: the first two input columns, (x, disagreement)
    /// for a one-column input, or A's first two selected coordinates; and the axis names.
    pub place: (Array2<f64>, [String; 2]),
    /// The Whitney sweep: q, RMSE of T_AB and T_BA, input reconstruction RMSE (NaN where missing).
    pub whitney: Option<[Array1<f64>; 4]>,
}

fn ints(v: &[usize]) -> Array1<i64> {
    v.iter().map(|&x| x as i64).collect()
}

impl ReportArrays {
    /// The arrays of comparison `c` of `a` (whose inputs colour the plots).
    pub fn new(c: &Comparison, a: &Observations, sweep: Option<&[SweepPoint]>) -> ReportArrays {
        let (ea, eb) = &c.embeddings;
        let n = ea.coords.nrows();
        let (colour, colour_is_input) = match &a.inputs {
            Some(x) => (x.column(0).to_owned(), true),
            None => ((0..n).map(|i| i as f64).collect(), false),
        };
        let ((pab, tab), (pba, tba)) = c.held_out.clone();
        let whitney = sweep.filter(|s| !s.is_empty()).map(|s| {
            let col = |f: &dyn Fn(&SweepPoint) -> Option<f64>| s.iter().map(|x| f(x).unwrap_or(f64::NAN)).collect();
            [
                col(&|x| Some(x.q as f64)),
                col(&|x| x.rmse.map(|r| r.0)),
                col(&|x| x.rmse.map(|r| r.1)),
                col(&|x| x.reconstruction.0),
            ]
        });
        let disagreement = Array1::from(c.local.disagreement());
        let mut region = Array1::zeros(n);
        for (k, r) in c.local.regions.iter().enumerate() {
            for &i in &r.points {
                region[i] = k as i64 + 1;
            }
        }
        let place = match &a.inputs {
            Some(x) if x.ncols() >= 2 => {
                (x.slice(ndarray::s![.., 0..2]).to_owned(), ["input x₁".to_string(), "input x₂".to_string()])
            }
            Some(x) => (
                Array2::from_shape_fn((n, 2), |(i, c)| if c == 0 { x[[i, 0]] } else { disagreement[i] }),
                ["input x".to_string(), "local disagreement".to_string()],
            ),
            None => {
                let sel = &c.selected.0;
                let (p, q) =
                    (sel.first().copied().unwrap_or(1), sel.get(1).copied().unwrap_or(2).min(ea.coords.ncols() - 1));
                (
                    Array2::from_shape_fn((n, 2), |(i, col)| ea.coords[[i, if col == 0 { p } else { q }]]),
                    [format!("A's ψ{}", super::figures::sub(p)), format!("A's ψ{}", super::figures::sub(q))],
                )
            }
        };
        ReportArrays {
            local: (disagreement, Array1::from(c.local.merge_a.clone()), Array1::from(c.local.merge_b.clone())),
            region,
            residuals: (Array1::from(c.point_errors.0.clone()), Array1::from(c.point_errors.1.clone())),
            place,
            eigenvalues: (Array1::from(ea.eigenvalues.clone()), Array1::from(eb.eigenvalues.clone())),
            r_k: (Array1::from(c.r_k.0.clone()), Array1::from(c.r_k.1.clone())),
            selected: (ints(&c.selected.0), ints(&c.selected.1)),
            coords: (ea.coords.clone(), eb.coords.clone()),
            aligned: (c.alignment.a_aligned.clone(), c.alignment.b_matched.clone()),
            colour,
            colour_is_input,
            held_out: ints(&c.held_out_rows),
            ab: (pab, tab),
            ba: (pba, tba),
            rmse: c.rmse,
            whitney,
        }
    }

    /// Every member of `report.npz` by name, in the file's order (the module table): the one list the
    /// file and the Python module's `Report.arrays` are both made from.
    pub fn members(&self) -> Vec<(&'static str, Member<'_>)> {
        use Member::{F1, F2, I1};
        let mut m = vec![
            ("eigenvalues_a", F1(&self.eigenvalues.0)),
            ("eigenvalues_b", F1(&self.eigenvalues.1)),
            ("r_k_a", F1(&self.r_k.0)),
            ("r_k_b", F1(&self.r_k.1)),
            ("selected_a", I1(&self.selected.0)),
            ("selected_b", I1(&self.selected.1)),
            ("coords_a", F2(&self.coords.0)),
            ("coords_b", F2(&self.coords.1)),
            ("aligned_a", F2(&self.aligned.0)),
            ("matched_b", F2(&self.aligned.1)),
            ("colour", F1(&self.colour)),
            ("held_out", I1(&self.held_out)),
            ("predicted_b", F2(&self.ab.0)),
            ("true_b", F2(&self.ab.1)),
            ("predicted_a", F2(&self.ba.0)),
            ("true_a", F2(&self.ba.1)),
            ("local_disagreement", F1(&self.local.0)),
            ("merge_a", F1(&self.local.1)),
            ("merge_b", F1(&self.local.2)),
            ("region", I1(&self.region)),
            ("residual_ab", F1(&self.residuals.0)),
            ("residual_ba", F1(&self.residuals.1)),
        ];
        if let Some([q, ab, ba, input]) = &self.whitney {
            m.extend([
                ("whitney_q", F1(q)),
                ("whitney_rmse_ab", F1(ab)),
                ("whitney_rmse_ba", F1(ba)),
                ("whitney_input_rmse", F1(input)),
            ]);
        }
        m
    }

    /// Writes `report.npz` (atomically) at `path`.
    pub fn write_npz(&self, path: &Path) -> Result<()> {
        npz::write_atomic(path, |w| {
            for (name, member) in self.members() {
                match member {
                    Member::F1(a) => w.add_array(name, a)?,
                    Member::F2(a) => w.add_array(name, a)?,
                    Member::I1(a) => w.add_array(name, a)?,
                }
            }
            Ok(())
        })
    }
}

/// One member of `report.npz`.
#[derive(Clone, Copy, Debug)]
pub enum Member<'a> {
    /// A float64 vector.
    F1(&'a Array1<f64>),
    /// A float64 matrix.
    F2(&'a Array2<f64>),
    /// An int64 vector (indices).
    I1(&'a Array1<i64>),
}
