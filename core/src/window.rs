//! Windows over series: which stretches of steps a model sees, and the train/validation
//! split in time order.

use serde::{Deserialize, Serialize};

use crate::series::{Segment, Series, Table};

/// A window of `length` steps every `stride` steps; forecasters also need `horizon` steps
/// after the window (0 for reconstruction models).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowSpec {
    pub length: usize,
    pub stride: usize,
    pub horizon: usize,
}

impl WindowSpec {
    /// Steps a window occupies, horizon included.
    pub fn span(&self) -> usize {
        self.length + self.horizon
    }

    /// Window starts in a segment of `len` steps.
    pub fn starts(&self, len: usize) -> impl Iterator<Item = usize> + use<> {
        let last = len.checked_sub(self.span());
        let stride = self.stride.max(1);
        (0..=last.unwrap_or(0))
            .step_by(stride)
            .take_while(move |_| last.is_some())
    }
}

/// Where a window starts: series, segment, step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowRef {
    pub series: usize,
    pub segment: usize,
    pub start: usize,
}

/// The windows of every series, split in time order: in each series, windows that end by
/// `train_fraction` of its steps train, windows that start after it validate, and the few
/// that straddle the cut are dropped, so no step is seen by both sides.
pub fn split_in_time(
    table: &Table,
    spec: &WindowSpec,
    train_fraction: f64,
) -> (Vec<WindowRef>, Vec<WindowRef>) {
    let mut train = Vec::new();
    let mut valid = Vec::new();
    for (si, series) in table.series.iter().enumerate() {
        let total: usize = series.segments.iter().map(|s| s.len()).sum();
        let cut = (total as f64 * train_fraction).round() as usize;
        let mut offset = 0;
        for (gi, seg) in series.segments.iter().enumerate() {
            for start in spec.starts(seg.len()) {
                let (a, b) = (offset + start, offset + start + spec.span());
                let w = WindowRef {
                    series: si,
                    segment: gi,
                    start,
                };
                if b <= cut {
                    train.push(w);
                } else if a >= cut {
                    valid.push(w);
                }
            }
            offset += seg.len();
        }
    }
    (train, valid)
}

/// The steps on the training side of [`split_in_time`]'s cut: (series, segment, step
/// index in the segment), in order.
pub fn training_steps(
    table: &Table,
    train_fraction: f64,
) -> impl Iterator<Item = (&Series, &Segment, usize)> {
    table.series.iter().flat_map(move |series| {
        let total: usize = series.segments.iter().map(|s| s.len()).sum();
        let cut = (total as f64 * train_fraction).round() as usize;
        let mut offset = 0;
        series.segments.iter().flat_map(move |seg| {
            let n = seg.len().min(cut.saturating_sub(offset));
            offset += seg.len();
            (0..n).map(move |i| (series, seg, i))
        })
    })
}

/// The steps (row-major values) of the training side of [`split_in_time`]'s cut, for
/// fitting the scaler on training data only.
pub fn training_rows(table: &Table, train_fraction: f64) -> Vec<&[f32]> {
    let w = table.width();
    training_steps(table, train_fraction)
        .map(|(_, seg, i)| &seg.values[i * w..(i + 1) * w])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::ReadReport;
    use proptest::prelude::*;

    fn table(lens: &[usize]) -> Table {
        Table {
            columns: vec!["x".into()],
            time_column: "t".into(),
            group_column: None,
            step: 60,
            series: vec![Series {
                group: String::new(),
                segments: lens
                    .iter()
                    .map(|&n| Segment {
                        start: 0,
                        values: (0..n).map(|i| i as f32).collect(),
                        filled: vec![false; n],
                    })
                    .collect(),
            }],
            report: ReadReport::default(),
        }
    }

    proptest! {
        #[test]
        fn window_count_matches_the_formula(len in 0usize..500, length in 1usize..50, stride in 1usize..10, horizon in 0usize..5) {
            let spec = WindowSpec { length, stride, horizon };
            let n = spec.starts(len).count();
            let want = if len >= length + horizon { (len - length - horizon) / stride + 1 } else { 0 };
            prop_assert_eq!(n, want);
            prop_assert!(spec.starts(len).all(|s| s + length + horizon <= len));
        }
    }

    #[test]
    fn the_split_keeps_time_order_and_never_shares_a_step() {
        let t = table(&[100, 30]);
        let spec = WindowSpec {
            length: 10,
            stride: 1,
            horizon: 0,
        };
        let (train, valid) = split_in_time(&t, &spec, 0.8);
        // 130 steps, cut at 104: train windows end by step 104 (all of segment 0's 91),
        // validation starts at 104 (segment 1 steps 4.., 30 - 4 - 10 + 1 = 17 windows).
        assert_eq!(train.len(), 91);
        assert_eq!(valid.len(), 17);
        assert!(train.iter().all(|w| w.segment == 0));
        assert!(valid.iter().all(|w| w.segment == 1 && w.start >= 4));
        assert_eq!(training_rows(&t, 0.8).len(), 104);
    }
}
