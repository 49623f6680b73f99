//! Summaries over time: [`Buckets`], the streaming min/mean/max aggregator the generator
//! and the detector summarise rows with, and [`months`], the calendar split of charts.

use chrono::{DateTime, Datelike, TimeZone, Utc};

/// Calendar months (UTC) covering `[start, end)`: `(from, to, "YYYY-MM")`, the first and
/// last clipped to the range.
pub fn months(start: i64, end: i64) -> Vec<(i64, i64, String)> {
    let mut out = Vec::new();
    let Some(mut d) = DateTime::from_timestamp(start, 0) else {
        return out;
    };
    while d.timestamp() < end {
        let first = Utc
            .with_ymd_and_hms(d.year(), d.month(), 1, 0, 0, 0)
            .single();
        let (y, m) = if d.month() == 12 {
            (d.year() + 1, 1)
        } else {
            (d.year(), d.month() + 1)
        };
        let Some(next) = Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single() else {
            break;
        };
        let from = first.map_or(start, |f| f.timestamp()).max(start);
        out.push((
            from,
            next.timestamp().min(end),
            d.format("%Y-%m").to_string(),
        ));
        d = next;
    }
    out
}

/// A summarised series: per time bucket, the lowest, mean and highest value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Band {
    /// Bucket start, unix seconds.
    pub t: Vec<i64>,
    pub lo: Vec<f64>,
    pub mid: Vec<f64>,
    pub hi: Vec<f64>,
}

/// Summarises a stream of rows (`columns` values at a time) into fixed-width time buckets
/// — lowest, mean and highest per column — so charts cost no second pass over the data.
/// Memory grows with the time covered divided by the bucket width, not with the rows.
#[derive(Debug, Clone)]
pub struct Buckets {
    origin: i64,
    width: i64,
    columns: usize,
    lo: Vec<f32>,
    hi: Vec<f32>,
    sum: Vec<f64>,
    n: Vec<u32>,
}

impl Buckets {
    /// Buckets of `width` seconds starting at `origin`; times before `origin` are ignored.
    pub fn new(origin: i64, width: i64, columns: usize) -> Buckets {
        Buckets {
            origin,
            width: width.max(1),
            columns,
            lo: Vec::new(),
            hi: Vec::new(),
            sum: Vec::new(),
            n: Vec::new(),
        }
    }

    pub fn width(&self) -> i64 {
        self.width
    }

    pub fn origin(&self) -> i64 {
        self.origin
    }

    /// Doubles the bucket width, merging buckets pairwise (to bound memory over long inputs).
    pub fn merge_pairs(&mut self) {
        let buckets = self.n.len().div_ceil(2);
        let c = self.columns;
        for j in 0..buckets {
            let (a, b) = (2 * j, (2 * j + 1).min(self.n.len() - 1));
            self.n[j] = self.n[a] + if b != a { self.n[b] } else { 0 };
            for k in 0..c {
                let (x, y) = (a * c + k, b * c + k);
                self.lo[j * c + k] = self.lo[x].min(self.lo[y]);
                self.hi[j * c + k] = self.hi[x].max(self.hi[y]);
                self.sum[j * c + k] = self.sum[x] + if b != a { self.sum[y] } else { 0.0 };
            }
        }
        self.n.truncate(buckets);
        self.lo.truncate(buckets * c);
        self.hi.truncate(buckets * c);
        self.sum.truncate(buckets * c);
        self.width *= 2;
    }

    /// Adds one row; non-finite values are left out of their column.
    pub fn add(&mut self, t: i64, values: impl IntoIterator<Item = f64>) {
        if t < self.origin {
            return;
        }
        let i = ((t - self.origin) / self.width) as usize;
        if i >= self.n.len() {
            self.n.resize(i + 1, 0);
            self.lo.resize((i + 1) * self.columns, f32::INFINITY);
            self.hi.resize((i + 1) * self.columns, f32::NEG_INFINITY);
            self.sum.resize((i + 1) * self.columns, 0.0);
        }
        self.n[i] += 1;
        for (c, x) in values.into_iter().take(self.columns).enumerate() {
            if x.is_finite() {
                let k = i * self.columns + c;
                self.lo[k] = self.lo[k].min(x as f32);
                self.hi[k] = self.hi[k].max(x as f32);
                self.sum[k] += x;
            }
        }
    }

    /// Time of the last non-empty bucket's end, if any row was added.
    pub fn end(&self) -> Option<i64> {
        let last = self.n.iter().rposition(|&n| n > 0)?;
        Some(self.origin + (last as i64 + 1) * self.width)
    }

    /// Column `c` over `[from, to)`: the buckets that hold at least one finite value.
    pub fn band(&self, c: usize, from: i64, to: i64) -> Band {
        let mut band = Band::default();
        for (i, &n) in self.n.iter().enumerate() {
            let t = self.origin + i as i64 * self.width;
            let k = i * self.columns + c;
            if n == 0 || t < from || t >= to || !self.lo[k].is_finite() {
                continue;
            }
            band.t.push(t);
            band.lo.push(f64::from(self.lo[k]));
            band.hi.push(f64::from(self.hi[k]));
            band.mid.push(self.sum[k] / f64::from(n));
        }
        band
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_split_at_calendar_boundaries() {
        let start = 1_767_225_600 + 10 * 86_400; // 2026-01-11
        let end = start + 40 * 86_400; // 2026-02-20
        let m = months(start, end);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].0, start);
        assert_eq!(m[0].2, "2026-01");
        assert_eq!(m[1].0, 1_769_904_000); // 2026-02-01
        assert_eq!(m[1].1, end);
    }

    #[test]
    fn months_cross_the_new_year_and_tile_the_range() {
        let start = 1_764_547_200; // 2025-12-01
        let end = 1_769_904_000 + 3600; // 2026-02-01 01:00
        let m = months(start, end);
        let names: Vec<&str> = m.iter().map(|x| x.2.as_str()).collect();
        assert_eq!(names, ["2025-12", "2026-01", "2026-02"]);
        assert_eq!(m[0].0, start);
        assert_eq!(m[2].1, end);
        for w in m.windows(2) {
            assert_eq!(w[0].1, w[1].0, "months leave no gap: {m:?}");
        }
        assert!(
            months(end, start).is_empty(),
            "an empty range has no months"
        );
    }

    #[test]
    fn buckets_keep_low_mean_high_per_column() {
        let mut b = Buckets::new(1000, 60, 2);
        for (t, x) in [(1000, 1.0), (1030, 3.0), (1130, 5.0), (900, 99.0)] {
            b.add(t, [x, f64::NAN]);
        }
        let band = b.band(0, 0, i64::MAX);
        assert_eq!(band.t, vec![1000, 1120]);
        assert_eq!(band.lo, vec![1.0, 5.0]);
        assert_eq!(band.mid, vec![2.0, 5.0]);
        assert_eq!(band.hi, vec![3.0, 5.0]);
        assert_eq!(b.end(), Some(1180));
        assert!(
            b.band(1, 0, i64::MAX).t.is_empty(),
            "NaN column has no points"
        );
        assert_eq!(b.band(0, 1060, 2000).t, vec![1120]);
        b.add(1200, [7.0, 0.0]);
        b.merge_pairs();
        let band = b.band(0, 0, i64::MAX);
        assert_eq!(b.width(), 120);
        assert_eq!(band.t, vec![1000, 1120]);
        assert_eq!(band.mid, vec![2.0, 6.0]);
        assert_eq!((band.lo[1], band.hi[1]), (5.0, 7.0));
        assert_eq!(
            b.band(1, 0, i64::MAX).t,
            vec![1120],
            "the 0.0 survives the merge"
        );
    }

    #[test]
    fn merging_an_odd_count_keeps_the_last_bucket_whole() {
        let mut b = Buckets::new(0, 10, 1);
        for (t, x) in [(0, 1.0), (10, 2.0), (25, 4.0), (26, 6.0)] {
            b.add(t, [x]);
        }
        b.merge_pairs();
        let band = b.band(0, 0, i64::MAX);
        assert_eq!(band.t, vec![0, 20]);
        assert_eq!(
            band.mid,
            vec![1.5, 5.0],
            "the unpaired bucket is not counted twice"
        );
        assert_eq!((band.lo[1], band.hi[1]), (4.0, 6.0));
        assert_eq!(b.end(), Some(40));
        b.merge_pairs();
        assert_eq!(b.width(), 40);
        assert_eq!(b.band(0, 0, i64::MAX).mid, vec![13.0 / 4.0]);
    }

    #[test]
    fn an_empty_aggregator_has_no_end_and_extra_values_are_dropped() {
        let mut b = Buckets::new(500, 0, 1);
        assert_eq!(b.width(), 1, "a zero width is raised to one second");
        assert_eq!(b.origin(), 500);
        assert_eq!(b.end(), None);
        b.add(499, [1.0]);
        assert_eq!(b.end(), None, "rows before the origin are ignored");
        b.add(502, [2.0, 99.0]);
        let band = b.band(0, 0, i64::MAX);
        assert_eq!((band.t, band.hi), (vec![502], vec![2.0]));
        assert_eq!(b.end(), Some(503));
    }
}
