//! From parsed rows to decisions: each row joins its group's ring, complete windows are
//! scored a block at a time on all cores, and scored rows go through smoothing, the
//! threshold and the alarm logic in input order.

use std::path::Path;

use rayon::prelude::*;

use super::alarm::{BASELINE_TAG, Decisions, Open};
use super::*;
use crate::explain::{explain, top_metrics};
use vigil_core::score::point_score;
use vigil_model::batch::Batch;
use vigil_model::scoring::point_errors;

/// Two tests' Bonferroni correction on the likelihood's log scale: `log10(2) / 10`.
const CONTEXT_PENALTY: f32 = 0.030_103;

impl Detector<'_> {
    /// Takes one parsed row.
    pub(super) fn push(
        &mut self,
        path: &Path,
        line: u64,
        group: &str,
        time: i64,
        raw: &[f32],
        sink: &mut dyn Sink,
    ) -> Result<(), Error> {
        let g = self.group(path, line, group)?;
        let step = self.model.data.step;
        let (w, need) = (self.width, self.need);
        let seq = self.front_seq + self.queue.len() as u64;
        let mut restart = false;
        let mut merged = false;
        // A row older than its host's previous one is written out but never scored: the
        // ring holds the host's rows in time order.
        let mut out_of_order = false;
        {
            let grp = &mut self.groups[g];
            if let Some(last) = grp.last_time {
                if time < last {
                    out_of_order = true;
                } else if grp.deltas.len() < STEP_SAMPLE && time > last {
                    grp.deltas.push(time - last);
                }
            }
            grp.last_time = Some(time.max(grp.last_time.unwrap_or(time)));
        }
        if self.groups[g].deltas.len() == STEP_SAMPLE {
            self.check_step(path, g)?;
        }
        let mut scaled = raw.to_vec();
        self.model.data.scaler.transform(&mut scaled);
        let grp = &mut self.groups[g];
        match grp.last_grid {
            _ if out_of_order => {}
            None => {
                grp.last_grid = Some(time);
                restart = true;
            }
            Some(last) => {
                let k = ((time - last) as f64 / step as f64).round() as i64;
                // A row on (or, after half-step snapping, just behind) the newest grid
                // step joins it.
                if k <= 0 {
                    merged = true;
                } else if (k - 1) as usize > self.options.max_fill {
                    grp.ring.clear();
                    grp.last_grid = Some(time);
                    restart = true;
                    self.report.restarts += 1;
                } else {
                    // Interpolate the missing steps between the ring's newest row and this one.
                    let prev: Vec<f32> = grp.ring.iter().rev().take(w).rev().copied().collect();
                    for j in 1..k {
                        let f = j as f32 / k as f32;
                        for (c, &x) in scaled.iter().enumerate() {
                            let p = prev.get(c).copied().unwrap_or(x);
                            grp.ring.push_back(p + f * (x - p));
                        }
                        self.report.filled_steps += 1;
                    }
                    grp.last_grid = Some(last + k * step);
                }
            }
        }
        let mut windowed = false;
        let mut window = Vec::new();
        if !merged && !out_of_order {
            grp.ring.extend(scaled.iter().copied());
            let keep = need * w;
            if grp.ring.len() > keep {
                let extra = grp.ring.len() - keep;
                grp.ring.drain(..extra);
            }
            if grp.ring.len() == keep {
                windowed = true;
                let (a, b) = grp.ring.as_slices();
                self.block_values.extend_from_slice(a);
                self.block_values.extend_from_slice(b);
                // A multi-step forecaster's later horizon is padding: only the first
                // predicted step is scored.
                for _ in need..self.spec.span() {
                    self.block_values.extend_from_slice(&scaled);
                }
                if self.adapts {
                    let per_window = self.spec.span() * w;
                    window = self.block_values[self.block_values.len() - per_window..].to_vec();
                }
                self.block_targets.push(seq);
            }
        }
        let mut z2 = vec![0f32; w];
        self.model.baseline.z2(group, time, raw, &mut z2);
        self.report.rows += 1;
        if merged {
            self.report.merged += 1;
        } else if out_of_order {
            self.report.out_of_order += 1;
        } else if !windowed {
            self.report.warm_up += 1;
        }
        self.queue.push_back(Slot {
            group: g,
            row: Row {
                line,
                time,
                values: raw.to_vec(),
                scored: false,
                score: 0.0,
                shares: vec![0.0; w],
                anomaly: false,
                baseline_score: 0.0,
                baseline_anomaly: false,
            },
            errors: Vec::new(),
            z2,
            window,
            restart,
            model: None,
            baseline: None,
        });
        let block = match self.options.adapt {
            Some(a) => self.options.block.min(a.every),
            None => self.options.block,
        };
        if self.block_targets.len() >= block.max(1) {
            self.flush(sink)?;
        }
        Ok(())
    }

    /// Scores the block, runs the alarm logic over every waiting row and writes out the
    /// decided ones.
    pub(super) fn flush(&mut self, sink: &mut dyn Sink) -> Result<(), Error> {
        self.score_block();
        self.decide(sink)?;
        self.adapt();
        self.drain(sink)?;
        while self.queue.len() > MAX_WAITING {
            let g = self.queue[0].group;
            let mut out = Decisions::new();
            self.close_group(g, &mut out, sink)?;
            self.drain(sink)?;
        }
        Ok(())
    }

    /// With [`Options::adapt`], at every flush: the update begun at the previous flush is
    /// waited for and its network scores from now on; then, once enough windows were
    /// judged normal, the next update (one pass of the network's optimiser over them)
    /// begins on another thread while rows are read and judged. An update is begun and
    /// put in use at the same flushes in every run (they follow the input's order), so
    /// the results do not depend on timing.
    fn adapt(&mut self) {
        self.settle_adapt();
        let Some(a) = self.options.adapt else {
            return;
        };
        if self.judged_normal < a.every.max(1) {
            return;
        }
        let Some(mut adapter) = self.adapter.take() else {
            return;
        };
        let windows = std::mem::take(&mut self.adapt_buffer);
        self.judged_normal = 0;
        self.adapting = Some(std::thread::spawn(move || {
            let before = adapter.windows;
            adapter.learn(&windows);
            let learnt = adapter.windows - before;
            let net = adapter.network();
            (adapter, net, learnt)
        }));
    }

    /// Waits for the update in flight, if any, and scores with its network from now on.
    pub(super) fn settle_adapt(&mut self) {
        if let Some(job) = self.adapting.take() {
            // The step's panic (a burn bug) is the run's.
            let (adapter, net, learnt) =
                job.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
            self.adapter = Some(adapter);
            self.adapted = net;
            self.report.adapted_windows += learnt as u64;
            self.report.adapt_updates += 1;
        }
    }

    pub(super) fn score_block(&mut self) {
        if self.block_targets.is_empty() {
            return;
        }
        let per_window = self.spec.span() * self.width;
        let chunk = self.options.batch.max(1) * per_window;
        let net = self.adapted.as_ref().unwrap_or(&self.model.network);
        let device = self.model.config.backend.device();
        let (spec, width) = (self.spec, self.width);
        let errors: Vec<Vec<f32>> = self
            .block_values
            .par_chunks(chunk)
            .map(|values| {
                let batch = Batch::from_values(values.to_vec(), &spec, width, &device);
                point_errors(net, &batch)
            })
            .collect();
        let flat: Vec<f32> = errors.into_iter().flatten().collect();
        for (seq, e) in self.block_targets.iter().zip(flat.chunks_exact(width)) {
            let slot = &mut self.queue[(seq - self.front_seq) as usize];
            slot.errors = e.to_vec();
        }
        self.block_values.clear();
        self.block_targets.clear();
    }

    /// The alarm logic over rows not yet through it (all of them scored or unscorable).
    pub(super) fn decide(&mut self, sink: &mut dyn Sink) -> Result<(), Error> {
        let model_threshold = self.calibration.model.value as f32;
        let base_threshold = self.calibration.baseline.value as f32;
        let means = &self.model.validation.column_means;
        let base_means = &self.model.validation.baseline_column_means;
        let w = self.width;
        let likelihood = matches!(self.options.scoring, Scoring::Likelihood { .. });
        let mut out = Decisions::new();
        let mut base_shares = vec![0f32; w];
        while self.decided_upto < self.front_seq + self.queue.len() as u64 {
            let seq = self.decided_upto;
            self.decided_upto += 1;
            let i = (seq - self.front_seq) as usize;
            let g = self.queue[i].group;
            if self.queue[i].restart {
                self.close_group(g, &mut out, sink)?;
            }
            let slot = &mut self.queue[i];
            let grp = &mut self.groups[g];
            if slot.errors.is_empty() {
                slot.model = Some(false);
                slot.baseline = Some(false);
                continue;
            }
            let row = &mut slot.row;
            row.scored = true;
            self.report.scored += 1;
            let raw_score = point_score(&slot.errors, means, &mut row.shares);
            row.score = grp
                .score_model
                .push(row.time, raw_score, &slot.errors, means);
            let b = point_score(&slot.z2, base_means, &mut base_shares);
            row.baseline_score = grp.score_baseline.push(row.time, b, &slot.z2, base_means);
            // Context longer than a window: the host's per-hour profile judges the row too,
            // and the model's score is the more surprised of the two (each probability
            // counted twice, Bonferroni, as two tests are made). The profile's columns are
            // then the ones to blame.
            if self.options.context && likelihood {
                let profile = row.baseline_score - CONTEXT_PENALTY;
                if profile > row.score {
                    row.score = profile;
                    row.shares.copy_from_slice(&base_shares);
                }
            }
            // A value outside the host's range is anomalous for both detectors, and its
            // column is the one to blame.
            let outside = grp.range.as_mut().and_then(|r| r.push(&row.values));
            if let Some(c) = outside {
                if likelihood {
                    row.score = 1.0;
                    row.baseline_score = 1.0;
                }
                for (i, s) in row.shares.iter_mut().enumerate() {
                    *s = f32::from(u8::from(i == c));
                }
            }
            if grp.last_values == row.values {
                grp.repeated += 1;
            } else {
                grp.repeated = 0;
                grp.last_values.clone_from(&row.values);
            }
            // One series repeating is common (a count at zero, a quantised gauge); all of
            // several repeating exactly is a frozen source.
            let frozen = w >= 2
                && self.options.frozen_steps > 0
                && grp.repeated >= self.options.frozen_steps;
            let above = row.score > model_threshold || frozen || outside.is_some();
            let columns = &self.model.data.columns;
            let scaler = &self.model.data.scaler;
            let recent = &grp.recent;
            let make_stats = || {
                let n = recent.len() / w.max(1);
                (0..w)
                    .map(|c| {
                        let xs = recent.iter().skip(c).step_by(w).map(|&x| f64::from(x));
                        let mean = xs.clone().sum::<f64>() / n.max(1) as f64;
                        let var = xs.map(|x| (x - mean).powi(2)).sum::<f64>() / n.max(1) as f64;
                        let (mean, std) = if n == 0 {
                            (scaler.mean[c], scaler.scale[c])
                        } else {
                            (mean, var.sqrt())
                        };
                        MetricStats::new(&columns[c], mean, std, scaler.scale[c])
                    })
                    .collect()
            };
            let closed = grp.model.push(
                seq,
                row.time,
                above,
                row.score,
                Some((&row.values, &row.shares)),
                make_stats,
                self.options,
                &mut out,
            );
            if !above && grp.model.open.is_none() {
                // A window judged normal: the network may learn from it (one in
                // `Adapt::sample` of them).
                if let Some(a) = self.options.adapt
                    && !slot.window.is_empty()
                {
                    if self.judged_normal.is_multiple_of(a.sample.max(1)) {
                        self.adapt_buffer.append(&mut slot.window);
                    }
                    self.judged_normal += 1;
                }
                grp.recent.extend(row.values.iter().copied());
                let keep = REFERENCE_ROWS * w;
                if grp.recent.len() > keep {
                    let extra = grp.recent.len() - keep;
                    grp.recent.drain(..extra);
                }
            }
            let base_above = row.baseline_score > base_threshold || frozen || outside.is_some();
            let _ = grp.baseline.push(
                seq,
                row.time,
                base_above,
                row.baseline_score,
                None,
                Vec::new,
                self.options,
                &mut out,
            );
            self.apply(&mut out);
            if let Some(o) = closed {
                self.emit(g, o, sink)?;
            }
        }
        self.apply(&mut out);
        Ok(())
    }

    /// Applies the decisions collected so far; baseline ones carry [`BASELINE_TAG`].
    pub(super) fn apply(&mut self, out: &mut Decisions) {
        for &(seq, flag) in out.iter() {
            let base = seq & BASELINE_TAG != 0;
            let seq = seq & !BASELINE_TAG;
            if seq < self.front_seq {
                continue;
            }
            if let Some(slot) = self.queue.get_mut((seq - self.front_seq) as usize) {
                if base {
                    slot.baseline = Some(flag);
                } else {
                    slot.model = Some(flag);
                }
            }
        }
        out.clear();
    }

    pub(super) fn close_group(
        &mut self,
        g: usize,
        out: &mut Decisions,
        sink: &mut dyn Sink,
    ) -> Result<(), Error> {
        let grp = &mut self.groups[g];
        grp.score_model.restart();
        grp.score_baseline.restart();
        grp.repeated = 0;
        grp.last_values.clear();
        let closed = grp.model.close(out);
        grp.baseline.close(out);
        self.apply(out);
        if let Some(o) = closed {
            self.emit(g, o, sink)?;
        }
        Ok(())
    }

    pub(super) fn emit(&mut self, g: usize, o: Open, sink: &mut dyn Sink) -> Result<(), Error> {
        let step = self.model.data.step;
        let host = &self.groups[g].name;
        let top = top_metrics(&o.stats);
        let end = o.last_above + step;
        let anomaly = Anomaly {
            host: host.clone(),
            start: o.start,
            end,
            peak_time: o.peak_time,
            peak_score: o.peak_score,
            threshold: self.calibration.model.value as f32,
            points: o.above,
            top_metrics: top.iter().map(|&i| o.stats[i].name.clone()).collect(),
            explanation: explain(&o.stats, &top, host, end - o.start),
        };
        self.report.anomalies += 1;
        sink.anomaly(&anomaly)
    }
}
