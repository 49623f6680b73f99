//! A group's raw scores (the model's normalised error, the baseline's squared z-score)
//! turned into the score its threshold is compared with, as [`Options::scoring`] says.

use super::Options;
use super::options::Scoring;
use vigil_core::likelihood::{Likelihood, LikelihoodParams};
use vigil_core::score::{Smoother, point_score};
use vigil_core::season::HourlyDiscount;
use vigil_model::metrics::Validation;

/// One likelihood at one or two time scales.
#[derive(Debug, Clone)]
pub(super) struct Scales {
    short: Likelihood,
    long: Option<Likelihood>,
}

impl Scales {
    /// Judges and learns `raw` at both scales: the higher of the two scores, the coarser
    /// counted only while the short-term mean raw score is above `gate` (once the errors
    /// are back to their usual level, a coarser mean that still holds an incident for an
    /// hour does not keep it open); and whether it was.
    fn push(&mut self, raw: f32, gate: f64) -> (f32, bool) {
        let s = self.short.push(raw);
        let open = self.short.recent_mean() > gate;
        let score = match self.long.as_mut().map(|l| l.push(raw)) {
            Some(l) if open => s.max(l),
            _ => s,
        };
        (score, open)
    }

    fn restart(&mut self) {
        self.short.restart();
        if let Some(l) = &mut self.long {
            l.restart();
        }
    }
}

/// One group's scoring state for one detector (model or baseline).
#[derive(Debug, Clone)]
pub(super) enum Scorer {
    /// The raw score, smoothed.
    Raw(Smoother),
    /// HTM's anomaly likelihood of the row's score, seeded with the validation points;
    /// with `columns`, also of each column's own normalised error (an anomaly in one
    /// metric of several is diluted in the row's mean), divided by its hour's usual level
    /// with `season`.
    Likelihood {
        row: Box<Scales>,
        columns: Vec<Scales>,
        season: Option<Box<HourlyDiscount>>,
        /// The level of the row's short-term mean raw score above which the coarser scale
        /// and the columns count ([`Scoring::Likelihood`]'s `gate`).
        gate: f64,
    },
}

impl Scorer {
    /// The scorer every new group of one detector starts from: for the likelihood, one
    /// that has already learnt the validation points' scores (`errors`, row-major, with
    /// the columns' validation `means`). `step`: the detector may learn its errors' hours,
    /// rows coming this many seconds apart (the model's; the baseline is a per-hour profile
    /// already, and gets `None`).
    pub(super) fn template(
        options: &Options,
        validation: &Validation,
        errors: &[f32],
        means: &[f32],
        step: Option<i64>,
    ) -> Scorer {
        match options.scoring {
            Scoring::Raw => Scorer::Raw(Smoother::new(options.smooth)),
            Scoring::Likelihood {
                params,
                long,
                columns,
                seasonal,
                gate,
            } => {
                let w = means.len().max(1);
                let mut shares = vec![0f32; w];
                let scores: Vec<f32> = errors
                    .chunks_exact(w)
                    .map(|row| point_score(row, means, &mut shares))
                    .collect();
                let scales = |scores: &[f32], coarse_only: bool| {
                    let mut runs = Vec::with_capacity(validation.runs.len());
                    let mut at = 0;
                    for &n in &validation.runs {
                        let end = (at + n).min(scores.len());
                        runs.push(&scores[at..end]);
                        at = end;
                    }
                    let seeded = |params| {
                        let mut l = Likelihood::new(params);
                        l.seed(runs.iter().copied());
                        l
                    };
                    let coarse = long.filter(|&k| k > 1).map(|k| {
                        seeded(LikelihoodParams {
                            average: params.average * k,
                            ..params
                        })
                    });
                    match coarse {
                        Some(c) if coarse_only => Scales {
                            short: c,
                            long: None,
                        },
                        c => Scales {
                            short: seeded(params),
                            long: c,
                        },
                    }
                };
                let per_column = if columns && w > 1 {
                    (0..w)
                        .map(|c| {
                            let own: Vec<f32> = errors
                                .chunks_exact(w)
                                .map(|row| column_score(row[c], means[c]))
                                .collect();
                            scales(&own, true)
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                Scorer::Likelihood {
                    gate: f64::from(gate),
                    row: Box::new(scales(&scores, false)),
                    season: step
                        .filter(|_| seasonal && columns && w > 1)
                        .map(|step| Box::new(HourlyDiscount::new(w, step))),
                    columns: per_column,
                }
            }
        }
    }

    /// Scores a row from its `raw` score and its columns' `errors` (with their
    /// validation `means`).
    pub(super) fn push(&mut self, time: i64, raw: f32, errors: &[f32], means: &[f32]) -> f32 {
        match self {
            Scorer::Raw(s) => s.push(raw),
            Scorer::Likelihood {
                row,
                columns,
                season,
                gate,
            } => {
                // The columns are judged at the coarser scale, so the row's gate holds
                // them back too.
                let (mut s, open) = row.push(raw, *gate);
                // Bonferroni: of several columns one is more likely to look improbable by
                // chance, so each column's probability counts times the number of columns.
                let penalty = (columns.len().max(1) as f32).log10() / 10.0;
                for (c, l) in columns.iter_mut().enumerate() {
                    let e = column_score(errors[c], means[c]);
                    let d = season.as_mut().map_or(1.0, |s| s.divisor(time, c, e));
                    // A column's scales are the coarse one alone: nothing for its own gate
                    // to hold back.
                    let (own, _) = l.push(e / d, 0.0);
                    if open {
                        s = s.max(own - penalty);
                    }
                }
                s
            }
        }
    }

    /// A gap in the data: the short-term past is forgotten.
    pub(super) fn restart(&mut self) {
        match self {
            Scorer::Raw(s) => s.reset(),
            Scorer::Likelihood { row, columns, .. } => {
                row.restart();
                for l in columns {
                    l.restart();
                }
            }
        }
    }
}

/// One column's error in units of its validation mean (as [`point_score`] counts it).
fn column_score(error: f32, mean: f32) -> f32 {
    let mut share = [0f32];
    point_score(&[error], &[mean], &mut share)
}
