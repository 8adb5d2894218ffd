//! Step 9: the decision rule. *equivalent* when both held-out relative RMSEs are ≤ `equivalent_rmse`
//! and every matched |corr| ≥ `equivalent_corr` and the spectra match; *not equivalent* when either RMSE
//! exceeds `not_equivalent_rmse` or the spectra (intrinsic dimension, diffusion rates) do not match;
//! else *inconclusive*. The reasons always carry the numbers that decided.

/// The three outcomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The transformation exists and predicts held-out data both ways.
    Equivalent,
    /// It fails, or the intrinsic geometry differs.
    NotEquivalent,
    /// Neither rule fired.
    Inconclusive,
}

impl Verdict {
    /// The report's spelling: `equivalent`, `not_equivalent`, `inconclusive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Equivalent => "equivalent",
            Verdict::NotEquivalent => "not_equivalent",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// Thresholds of the rule (CLI flags).
#[derive(Clone, Debug)]
pub struct Thresholds {
    /// Both RMSEs at most this for *equivalent* (relative; 0.02 = 2 %).
    pub equivalent_rmse: f64,
    /// Every matched |corr| at least this for *equivalent*.
    pub equivalent_corr: f64,
    /// Either RMSE above this means *not equivalent*.
    pub not_equivalent_rmse: f64,
    /// Largest relative difference of matched diffusion rates (−ln λ) for the spectra to match.
    pub spectrum_tol: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds { equivalent_rmse: 0.02, equivalent_corr: 0.99, not_equivalent_rmse: 0.10, spectrum_tol: 0.25 }
    }
}

/// What the rule looks at.
#[derive(Clone, Debug)]
pub struct Evidence {
    /// Held-out relative RMSE of T_AB (predicting o_B from o_A).
    pub rmse_ab: f64,
    /// Held-out relative RMSE of T_BA.
    pub rmse_ba: f64,
    /// Matched |corr| of the aligned coordinates.
    pub corr: Vec<f64>,
    /// Intrinsic dimensions (selected coordinates) of A and B.
    pub dims: (usize, usize),
    /// Relative differences of the matched diffusion rates.
    pub rate_diffs: Vec<f64>,
}

/// Applies the rule; returns the verdict and its reasons.
pub fn decide(e: &Evidence, t: &Thresholds) -> (Verdict, Vec<String>) {
    let mut reasons = Vec::new();
    let mut spectra_ok = true;
    if e.dims.0 != e.dims.1 {
        spectra_ok = false;
        reasons
            .push(format!("intrinsic dimensions differ: A has {} selected coordinates, B has {}", e.dims.0, e.dims.1));
    }
    let worst_rate = e.rate_diffs.iter().copied().fold(0.0, f64::max);
    if worst_rate > t.spectrum_tol {
        spectra_ok = false;
        reasons.push(format!(
            "spectra differ: matched diffusion rates differ by up to {:.1} % (> {:.1} %)",
            100.0 * worst_rate,
            100.0 * t.spectrum_tol
        ));
    }
    let worst_corr = e.corr.iter().copied().fold(1.0, f64::min);
    let fmt = |x: f64| format!("{:.2} %", 100.0 * x);
    let both_small = e.rmse_ab <= t.equivalent_rmse && e.rmse_ba <= t.equivalent_rmse;
    let either_large = e.rmse_ab > t.not_equivalent_rmse || e.rmse_ba > t.not_equivalent_rmse;
    if e.rmse_ab > t.not_equivalent_rmse {
        reasons.push(format!("T_AB fails: held-out RMSE {} > {}", fmt(e.rmse_ab), fmt(t.not_equivalent_rmse)));
    }
    if e.rmse_ba > t.not_equivalent_rmse {
        reasons.push(format!("T_BA fails: held-out RMSE {} > {}", fmt(e.rmse_ba), fmt(t.not_equivalent_rmse)));
    }
    if either_large && e.rmse_ab.min(e.rmse_ba) <= t.equivalent_rmse {
        let (bad, good) = if e.rmse_ab > e.rmse_ba { ("A", "B") } else { ("B", "A") };
        reasons.push(format!(
            "one-way: {bad}'s observations are predicted from {good}'s but not the reverse — {bad}'s observation map is not injective (too few observed neurons; see the Whitney sweep)"
        ));
    }
    let verdict = if either_large || !spectra_ok {
        Verdict::NotEquivalent
    } else if both_small && worst_corr >= t.equivalent_corr {
        reasons.push(format!(
            "T_AB and T_BA predict held-out data within {} / {} (≤ {}), matched |corr| ≥ {:.4}",
            fmt(e.rmse_ab),
            fmt(e.rmse_ba),
            fmt(t.equivalent_rmse),
            worst_corr
        ));
        Verdict::Equivalent
    } else {
        if !both_small {
            reasons.push(format!(
                "RMSEs {} / {} lie between {} and {}",
                fmt(e.rmse_ab),
                fmt(e.rmse_ba),
                fmt(t.equivalent_rmse),
                fmt(t.not_equivalent_rmse)
            ));
        }
        if worst_corr < t.equivalent_corr {
            reasons.push(format!("smallest matched |corr| {worst_corr:.4} < {}", t.equivalent_corr));
        }
        Verdict::Inconclusive
    };
    (verdict, reasons)
}
