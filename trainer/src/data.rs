//! From a metrics table to scaled windows and batches.

use burn::prelude::*;
use rand::seq::SliceRandom;

use vigil_core::scaler::Scaler;
use vigil_core::series::Table;
use vigil_core::window::{WindowRef, WindowSpec, split_in_time, training_rows};
use vigil_model::batch::Batch;
use vigil_model::rng::Rng;

/// A table scaled with a scaler fitted on its training part, and its windows split in time.
pub struct WindowData {
    pub table: Table,
    pub scaler: Scaler,
    pub spec: WindowSpec,
    pub train: Vec<WindowRef>,
    pub valid: Vec<WindowRef>,
}

impl WindowData {
    /// Fits the scaler on the first `1 - validation_fraction` of each series only, scales
    /// the whole table and lists the windows on each side of the cut.
    pub fn new(mut table: Table, spec: WindowSpec, validation_fraction: f64) -> WindowData {
        let train_fraction = 1.0 - validation_fraction;
        let scaler = Scaler::fit(table.width(), training_rows(&table, train_fraction));
        scale(&mut table, &scaler);
        let (train, valid) = split_in_time(&table, &spec, train_fraction);
        WindowData {
            table,
            scaler,
            spec,
            train,
            valid,
        }
    }

    /// Scales an already-fitted table (scoring new data with a saved scaler).
    pub fn with_scaler(mut table: Table, spec: WindowSpec, scaler: Scaler) -> WindowData {
        scale(&mut table, &scaler);
        let (valid, _) = split_in_time(&table, &spec, 1.0);
        WindowData {
            table,
            scaler,
            spec,
            train: Vec::new(),
            valid,
        }
    }

    pub fn width(&self) -> usize {
        self.table.width()
    }

    /// The values of one window, horizon included, row-major `span × width`.
    pub fn window(&self, w: &WindowRef) -> &[f32] {
        let width = self.width();
        let seg = &self.table.series[w.series].segments[w.segment];
        &seg.values[w.start * width..(w.start + self.spec.span()) * width]
    }

    /// The batch of `windows` on `device` (plain: inputs are constants to autodiff).
    pub fn batch(&self, windows: &[WindowRef], device: &Device) -> Batch {
        let mut values = Vec::with_capacity(windows.len() * self.spec.span() * self.width());
        for w in windows {
            values.extend_from_slice(self.window(w));
        }
        Batch::from_values(values, &self.spec, self.width(), device)
    }

    /// The training windows of one epoch: shuffled, at most `limit` (0 = all).
    pub fn epoch_windows(&self, rng: &mut Rng, limit: usize) -> Vec<WindowRef> {
        let mut w = self.train.clone();
        w.shuffle(rng);
        if limit > 0 {
            w.truncate(limit);
        }
        w
    }
}

fn scale(table: &mut Table, scaler: &Scaler) {
    for seg in table.series.iter_mut().flat_map(|s| &mut s.segments) {
        scaler.transform(&mut seg.values);
    }
}

/// Mean squared error of two trivial predictors over `windows`: every value of the target
/// predicted by its column's window mean, and (for forecasts) by the window's last value.
pub fn baselines(data: &WindowData, windows: &[WindowRef]) -> (f64, Option<f64>) {
    let (l, h, w) = (data.spec.length, data.spec.horizon, data.width());
    let (mut mean_err, mut last_err, mut n) = (0f64, 0f64, 0usize);
    for win in windows {
        let v = data.window(win);
        let target = if h == 0 { &v[..l * w] } else { &v[l * w..] };
        for c in 0..w {
            let mean = (0..l).map(|t| f64::from(v[t * w + c])).sum::<f64>() / l as f64;
            let last = f64::from(v[(l - 1) * w + c]);
            for row in target.chunks(w) {
                let y = f64::from(row[c]);
                mean_err += (y - mean).powi(2);
                last_err += (y - last).powi(2);
                n += 1;
            }
        }
    }
    let n = n.max(1) as f64;
    (mean_err / n, (h > 0).then_some(last_err / n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(values: Vec<f32>) -> Table {
        Table::single(vec!["x".into()], 60, values)
    }

    #[test]
    fn the_scaler_never_sees_the_validation_part() {
        // 80 steps around 10, then 20 steps at 1000: a scaler fitted on everything would
        // have a mean far above 10.
        let mut v: Vec<f32> = (0..80).map(|i| 10.0 + (i % 2) as f32).collect();
        v.extend(std::iter::repeat_n(1000.0, 20));
        let spec = WindowSpec {
            length: 5,
            stride: 1,
            horizon: 1,
        };
        let data = WindowData::new(table(v), spec, 0.2);
        assert!(
            (data.scaler.mean[0] - 10.5).abs() < 1e-9,
            "{:?}",
            data.scaler
        );
        assert!(!data.train.is_empty() && !data.valid.is_empty());
        assert!(data.train.iter().all(|w| w.start + spec.span() <= 80));
        assert!(data.valid.iter().all(|w| w.start >= 80));
    }

    #[test]
    fn baselines_score_the_window_mean_and_the_last_value() {
        // A ramp: the last value is always one step behind, the window mean further.
        let data = WindowData::new(
            table((0..50).map(|i| i as f32).collect()),
            WindowSpec {
                length: 4,
                stride: 1,
                horizon: 1,
            },
            0.2,
        );
        let (mean, last) = baselines(&data, &data.valid);
        let last = last.expect("a forecaster has a last-value baseline");
        assert!(last < mean, "last {last} vs mean {mean}");
        let s = data.scaler.scale[0];
        // In scaled units: the next value is 1 step above the last, 2.5 above the mean of 4.
        assert!((last - (1.0 / s).powi(2)).abs() < 1e-6 && (mean - (2.5 / s).powi(2)).abs() < 1e-6);
    }
}
