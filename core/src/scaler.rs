//! Per-column standardisation, fitted on training data only and saved with the model.

use serde::{Deserialize, Serialize};

/// Maps each column to zero mean and unit variance: `(x - mean) / scale`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
}

impl Scaler {
    /// Fits on row-major `rows` of `width` columns (Welford's algorithm). A constant column
    /// gets a scale of 1 % of its magnitude (or 1e-3), so it neither divides by zero nor
    /// blows up the first sign of movement.
    pub fn fit<'a>(width: usize, rows: impl IntoIterator<Item = &'a [f32]>) -> Scaler {
        let mut n = 0f64;
        let mut mean = vec![0f64; width];
        let mut m2 = vec![0f64; width];
        for row in rows {
            n += 1.0;
            for (c, &x) in row.iter().enumerate().take(width) {
                let x = f64::from(x);
                let d = x - mean[c];
                mean[c] += d / n;
                m2[c] += d * (x - mean[c]);
            }
        }
        let scale = mean
            .iter()
            .zip(&m2)
            .map(|(&m, &s)| {
                let std = if n > 1.0 { (s / (n - 1.0)).sqrt() } else { 0.0 };
                std.max(0.01 * m.abs()).max(1e-3)
            })
            .collect();
        Scaler { mean, scale }
    }

    pub fn width(&self) -> usize {
        self.mean.len()
    }

    /// Scales row-major values in place.
    pub fn transform(&self, values: &mut [f32]) {
        let w = self.width();
        for (i, v) in values.iter_mut().enumerate() {
            let c = i % w;
            *v = ((f64::from(*v) - self.mean[c]) / self.scale[c]) as f32;
        }
    }

    /// Undoes [`Scaler::transform`].
    pub fn inverse(&self, values: &mut [f32]) {
        let w = self.width();
        for (i, v) in values.iter_mut().enumerate() {
            let c = i % w;
            *v = (f64::from(*v) * self.scale[c] + self.mean[c]) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn standardises_each_column() {
        let data = [1.0f32, 100.0, 2.0, 200.0, 3.0, 300.0];
        let s = Scaler::fit(2, data.chunks(2));
        assert_eq!(s.mean, [2.0, 200.0]);
        assert!((s.scale[0] - 1.0).abs() < 1e-9 && (s.scale[1] - 100.0).abs() < 1e-9);
        let mut v = data;
        s.transform(&mut v);
        assert_eq!(v, [-1.0, -1.0, 0.0, 0.0, 1.0, 1.0]);
    }

    #[test]
    fn constant_columns_do_not_divide_by_zero() {
        let data = [5.0f32, 0.0, 5.0, 0.0];
        let s = Scaler::fit(2, data.chunks(2));
        assert_eq!(s.scale, [0.05, 1e-3]);
    }

    proptest! {
        #[test]
        fn transform_then_inverse_round_trips(rows in proptest::collection::vec(proptest::collection::vec(-1e4f32..1e4, 3), 2..40)) {
            let flat: Vec<f32> = rows.concat();
            let s = Scaler::fit(3, flat.chunks(3));
            let mut v = flat.clone();
            s.transform(&mut v);
            s.inverse(&mut v);
            for (a, b) in v.iter().zip(&flat) {
                prop_assert!((a - b).abs() <= 1e-3 * (1.0 + b.abs()), "{a} vs {b}");
            }
        }
    }
}
