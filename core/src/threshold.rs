//! Turning errors into alarms: thresholds calibrated on the errors of normal data.
//!
//! `Pot` is peaks-over-threshold (Siffer et al., "Anomaly Detection in Streams with Extreme
//! Value Theory", KDD 2017): the tail of the calibration errors above a high initial
//! quantile is fitted with a generalised Pareto distribution, and the threshold is the
//! value exceeded with probability `q` under that fit — so a risk of 1e-4 is meaningful
//! even with far fewer than 10,000 calibration errors. The GPD is fitted by probability
//! weighted moments (Hosking & Wallis, 1987), which stay stable for heavy tails.

use crate::Error;
use serde::{Deserialize, Serialize};

/// How to set the alarm threshold.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Method {
    /// Peaks over threshold: alarm above the level exceeded with probability `q`; the tail
    /// is taken above the `initial` quantile of the calibration errors.
    Pot { q: f64, initial: f64 },
    /// The `p` quantile (0–1) of the calibration errors.
    Percentile { p: f64 },
    /// A given value.
    Fixed { value: f64 },
}

/// A calibrated threshold and how it was reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub value: f64,
    pub method: Method,
    /// For POT: the initial threshold, the GPD shape ξ and scale σ, and the number of peaks.
    pub tail: Option<Tail>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Tail {
    pub initial: f64,
    pub shape: f64,
    pub scale: f64,
    pub peaks: usize,
}

/// Peaks needed above the initial threshold for a tail fit.
const MIN_PEAKS: usize = 10;

/// The `p` quantile of sorted values, linearly interpolated.
fn quantile(sorted: &[f64], p: f64) -> f64 {
    let pos = p * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Fits a GPD to positive excesses by probability weighted moments: (shape ξ, scale σ).
fn fit_gpd(excesses: &mut [f64]) -> (f64, f64) {
    excesses.sort_by(f64::total_cmp);
    let n = excesses.len() as f64;
    let a0 = excesses.iter().sum::<f64>() / n;
    let a1 = excesses
        .iter()
        .enumerate()
        .map(|(i, y)| y * (1.0 - (i as f64 + 0.65) / n))
        .sum::<f64>()
        / n;
    let d = a0 - 2.0 * a1;
    if d <= 0.0 || !d.is_finite() {
        return (0.0, a0.max(f64::MIN_POSITIVE)); // degenerate: treat as exponential
    }
    (2.0 - a0 / d, 2.0 * a0 * a1 / d)
}

impl Method {
    fn check(&self) -> Result<(), Error> {
        let bad = |m: String| Err(Error::Threshold(m));
        match *self {
            Method::Pot { q, initial } => {
                if !(q > 0.0 && q < 1.0) {
                    return bad(format!("pot: expected a risk q in (0, 1), found {q}"));
                }
                if !(0.5..1.0).contains(&initial) {
                    return bad(format!(
                        "pot: expected an initial quantile in [0.5, 1), found {initial}"
                    ));
                }
                if q >= 1.0 - initial {
                    return bad(format!(
                        "pot: the risk q = {q} must be below the share of peaks 1 - {initial}; use a percentile for such risks"
                    ));
                }
            }
            Method::Percentile { p } if !(0.0..=1.0).contains(&p) => {
                return bad(format!("percentile: expected p in [0, 1], found {p}"));
            }
            Method::Fixed { value } if !value.is_finite() => {
                return bad(format!("fixed: expected a finite value, found {value}"));
            }
            _ => {}
        }
        Ok(())
    }

    /// Calibrates the threshold on the errors of normal data (non-finite errors are ignored).
    pub fn calibrate(&self, errors: &[f32]) -> Result<Threshold, Error> {
        self.check()?;
        let mut sorted: Vec<f64> = errors
            .iter()
            .map(|&e| f64::from(e))
            .filter(|e| e.is_finite())
            .collect();
        sorted.sort_by(f64::total_cmp);
        let threshold = |value, tail| Threshold {
            value,
            method: *self,
            tail,
        };
        match *self {
            Method::Fixed { value } => Ok(threshold(value, None)),
            Method::Percentile { p } => {
                if sorted.is_empty() {
                    return Err(Error::TooFew(0, 1));
                }
                Ok(threshold(quantile(&sorted, p), None))
            }
            Method::Pot { q, initial } => {
                let need = (MIN_PEAKS as f64 / (1.0 - initial)).ceil() as usize;
                if sorted.len() < need {
                    return Err(Error::TooFew(sorted.len(), need));
                }
                let t = quantile(&sorted, initial);
                let mut excesses: Vec<f64> =
                    sorted.iter().filter(|&&x| x > t).map(|x| x - t).collect();
                let peaks = excesses.len();
                let highest = sorted[sorted.len() - 1];
                if peaks == 0 {
                    // No value above the initial quantile (a constant series, a quantised
                    // gauge): no tail to fit; only what exceeds every normal value alarms.
                    return Ok(threshold(highest, None));
                }
                let (shape, scale) = fit_gpd(&mut excesses);
                // P(X > z) = (peaks / n) · (1 + ξ (z - t) / σ)^(-1/ξ) = q
                let r = q * sorted.len() as f64 / peaks as f64;
                let value = if shape.abs() < 1e-6 {
                    t - scale * r.ln()
                } else {
                    t + scale / shape * (r.powf(-shape) - 1.0)
                };
                if !value.is_finite() {
                    return Ok(threshold(highest, None));
                }
                Ok(threshold(
                    value,
                    Some(Tail {
                        initial: t,
                        shape,
                        scale,
                        peaks,
                    }),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic uniforms in (0, 1) (SplitMix64).
    fn uniforms(n: usize, seed: u64) -> Vec<f64> {
        let mut s = seed;
        (0..n)
            .map(|_| {
                s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = s;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64 + 1e-17
            })
            .collect()
    }

    #[test]
    fn pot_finds_the_exponential_tail_quantile() {
        // Exp(1): P(X > z) = e^-z, so the 1e-5 risk level is ln(1e5) = 11.51, far beyond
        // the largest of 50,000 samples (≈ ln(50,000) = 10.8).
        let errors: Vec<f32> = uniforms(50_000, 1).iter().map(|u| -u.ln() as f32).collect();
        let t = Method::Pot {
            q: 1e-5,
            initial: 0.98,
        }
        .calibrate(&errors)
        .unwrap();
        let want = (1e5f64).ln();
        assert!((t.value - want).abs() / want < 0.08, "{t:?} vs {want}");
        let tail = t.tail.unwrap();
        assert!(
            tail.shape.abs() < 0.1,
            "an exponential tail has shape 0: {tail:?}"
        );
        assert_eq!(tail.peaks, 1000);
    }

    #[test]
    fn pot_finds_a_heavy_tail_quantile() {
        // Pareto with index 4 (GPD shape 0.25): P(X > z) = z^-4 for z ≥ 1.
        let errors: Vec<f32> = uniforms(50_000, 2)
            .iter()
            .map(|u| u.powf(-0.25) as f32)
            .collect();
        let t = Method::Pot {
            q: 1e-4,
            initial: 0.98,
        }
        .calibrate(&errors)
        .unwrap();
        let want = (1e-4f64).powf(-0.25); // 10
        assert!((t.value - want).abs() / want < 0.15, "{t:?} vs {want}");
        assert!((t.tail.unwrap().shape - 0.25).abs() < 0.1);
    }

    #[test]
    fn percentile_fixed_and_bad_parameters() {
        let errors: Vec<f32> = (0..=100).map(|i| i as f32).collect();
        assert_eq!(
            Method::Percentile { p: 0.9 }
                .calibrate(&errors)
                .unwrap()
                .value,
            90.0
        );
        assert_eq!(
            Method::Fixed { value: 3.5 }
                .calibrate(&errors)
                .unwrap()
                .value,
            3.5
        );
        assert!(
            Method::Pot {
                q: 0.5,
                initial: 0.98
            }
            .calibrate(&errors)
            .is_err()
        );
        assert!(Method::Percentile { p: 1.5 }.calibrate(&errors).is_err());
        let e = Method::Pot {
            q: 1e-4,
            initial: 0.98,
        }
        .calibrate(&errors)
        .unwrap_err();
        assert!(matches!(e, Error::TooFew(101, 500)), "{e}");
    }

    /// Regression (issue 13): a constant series' errors gave a threshold of -inf, so every
    /// row of `artificialNoAnomaly/art_flatline.csv` alarmed.
    #[test]
    fn constant_errors_give_the_constant_as_threshold() {
        let pot = Method::Pot {
            q: 1e-3,
            initial: 0.98,
        };
        for c in [0.0f32, 0.25] {
            let t = pot.calibrate(&vec![c; 2000]).unwrap();
            assert_eq!(t.value, f64::from(c));
            assert!(t.tail.is_none());
        }
        // A tail that is constant above the initial quantile, below it spread.
        let mut e: Vec<f32> = (0..2000).map(|i| (i % 50) as f32 / 100.0).collect();
        e.iter_mut().skip(1900).for_each(|x| *x = 0.49);
        let t = pot.calibrate(&e).unwrap();
        assert!(t.value.is_finite() && t.value >= 0.49 - 1e-9, "{}", t.value);
    }
}
