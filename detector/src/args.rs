//! The flags that decide what is anomalous, shared by `detector metrics` and
//! `vigil-bench nab` (so a benchmark runs exactly what a user gets), checked once into
//! [`Options`].

use clap::ValueEnum;

use crate::Error;
use crate::detect::{
    ADAPT_EVERY, ADAPT_RATE, ADAPT_SAMPLE, Adapt, COARSE_GATE, LIKELIHOOD_THRESHOLD, LONG_SCALE,
    Options, RANGE_TOLERANCE, Scoring,
};
use vigil_core::likelihood::LikelihoodParams;
use vigil_core::threshold::Method;
use vigil_core::time::Duration;

/// `--score`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScoreKind {
    /// HTM's anomaly likelihood in [0, 1], updated as rows come; threshold 0.5 everywhere.
    Likelihood,
    /// The raw error smoothed over --smooth points, against a threshold calibrated on the
    /// model's validation points (--threshold).
    Raw,
}

/// `--threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ThresholdKind {
    /// Peaks over threshold (raw score only): a generalised Pareto tail fitted above
    /// --pot-initial, the score a normal point exceeds with probability --q.
    Pot,
    /// The --percentile of the validation scores (raw score only).
    Percentile,
    /// --value on the score itself.
    Fixed,
}

impl ThresholdKind {
    pub fn name(self) -> &'static str {
        match self {
            ThresholdKind::Pot => "pot",
            ThresholdKind::Percentile => "percentile",
            ThresholdKind::Fixed => "fixed",
        }
    }
}

/// How rows are scored and alarms raised.
#[derive(Debug, Clone, clap::Args)]
pub struct DecisionArgs {
    /// How the model's error becomes the score the threshold is compared with.
    #[arg(long, value_enum, default_value_t = ScoreKind::Likelihood)]
    pub score: ScoreKind,
    /// How the threshold is set [default: fixed for the likelihood, pot for the raw score].
    #[arg(long, value_enum)]
    pub threshold: Option<ThresholdKind>,
    /// POT risk: the probability that a normal point exceeds the threshold, in (0, 0.5)
    /// [default: 0.001].
    #[arg(long)]
    pub q: Option<f64>,
    /// POT: the quantile of the calibration scores above which the tail is fitted, in
    /// (0, 1) [default: 0.98].
    #[arg(long)]
    pub pot_initial: Option<f64>,
    /// Percentile threshold, 0-100 [default: 99.9].
    #[arg(long)]
    pub percentile: Option<f64>,
    /// Fixed threshold on the score [default: 0.5 for the likelihood: a short-term error
    /// normal data reach once in 100 000; required with --score raw].
    #[arg(long)]
    pub value: Option<f64>,
    /// Raw scores averaged into the short-term mean the likelihood judges.
    #[arg(long, default_value_t = LikelihoodParams::default().average)]
    pub average: usize,
    /// Short-term means the likelihood's Gaussian is fitted to (the newest kept): how long
    /// a changed level takes to become normal.
    #[arg(long, default_value_t = LikelihoodParams::default().history)]
    pub history: usize,
    /// A short-term mean further above the likelihood's history than this many standard
    /// deviations is learnt as if it were that far (one huge burst does not hide the next
    /// incident); 0 = learnt as it is.
    #[arg(long, default_value_t = LikelihoodParams::default().clip)]
    pub clip: f64,
    /// The coarser likelihood judges the mean of this many short-term means' worth of raw
    /// scores (a lasting moderate error); 1 = no second scale.
    #[arg(long, default_value_t = LONG_SCALE)]
    pub long_scale: usize,
    /// The coarser scale and the columns' scores count only while the mean of the last
    /// `--average` raw scores is above this (1.0: a typical validation point), so an
    /// alarm ends when the errors are back to usual; 0 = always.
    #[arg(long, default_value_t = COARSE_GATE)]
    pub coarse_gate: f32,
    /// The model alone: the host's per-hour profile does not judge rows beside it.
    #[arg(long)]
    pub no_context: bool,
    /// Judge only each row's score, not also each column's own error at the coarser scale
    /// (which finds single-metric incidents a row's mean dilutes).
    #[arg(long)]
    pub no_column_scores: bool,
    /// Judge each column's error as it is at every hour of day, not against what the
    /// host's errors usually are at that hour (so a nightly backup alarms every night).
    #[arg(long)]
    pub no_seasonal: bool,
    /// A value further outside its host's range (training data and rows so far) than this
    /// fraction of the range is anomalous.
    #[arg(long, default_value_t = RANGE_TOLERANCE)]
    pub range_tolerance: f32,
    /// No range rule.
    #[arg(long)]
    pub no_range: bool,
    /// A fall below a host's lowest values becomes its new lowest only once it has lasted
    /// this long (shorter ones, outages and crash loops, leave the range as it was).
    #[arg(long, default_value = "1h", value_name = "DURATION")]
    pub range_absorb: Duration,
    /// Every value joins the range `--min-duration` rows after it came, however low.
    #[arg(long)]
    pub no_range_absorb: bool,
    /// Moving average over this many points before thresholding (--score raw; 1 = none)
    /// [default: 3].
    #[arg(long)]
    pub smooth: Option<usize>,
    /// Points above the threshold needed to raise an alarm.
    #[arg(long, default_value_t = Options::default().min_duration)]
    pub min_duration: usize,
    /// Normal points that may separate two stretches of one anomaly.
    #[arg(long, default_value_t = Options::default().merge_gap)]
    pub merge_gap: usize,
    /// For this long after an anomaly's last row, no new one is raised on the same host.
    #[arg(long, default_value = "1h", value_name = "DURATION")]
    pub suppress: Duration,
    /// Raise every anomaly, however soon after the last.
    #[arg(long)]
    pub no_suppress: bool,
    /// Raise a stretch even when one started at its time of day (within 30 min) on each of
    /// the two days before on the same host (by default such a daily repeat is a schedule:
    /// counted, not raised).
    #[arg(long)]
    pub raise_daily_repeats: bool,
    /// Flag a host whose every metric repeats exactly for this many steps (a frozen
    /// agent); 0 = off.
    #[arg(long, default_value_t = Options::default().frozen_steps)]
    pub frozen_steps: usize,
    /// The network keeps learning while it scores: one pass of its optimiser over the
    /// windows judged normal (not anomalous, no alarm open) every `--adapt-every` of them,
    /// on a second thread, so a lasting change of what normal looks like is learnt by the
    /// network too (a PCA model is never adapted). Off by default (see the README's
    /// ablation: about a fifth slower).
    #[arg(long)]
    pub adapt: bool,
    /// With `--adapt`: windows judged normal per update of the network.
    #[arg(long, default_value_t = ADAPT_EVERY, requires = "adapt")]
    pub adapt_every: usize,
    /// With `--adapt`: the network's online learning rate.
    #[arg(long, default_value_t = ADAPT_RATE, requires = "adapt")]
    pub adapt_rate: f64,
    /// With `--adapt`: the network learns from one window in this many of those judged
    /// normal.
    #[arg(long, default_value_t = ADAPT_SAMPLE, requires = "adapt")]
    pub adapt_sample: usize,
}

fn bad(flag: &'static str, message: String) -> Error {
    Error::Option { flag, message }
}

impl DecisionArgs {
    /// The threshold kind in force.
    pub fn threshold_kind(&self) -> ThresholdKind {
        self.threshold.unwrap_or(match self.score {
            ScoreKind::Likelihood => ThresholdKind::Fixed,
            ScoreKind::Raw => ThresholdKind::Pot,
        })
    }

    /// `base` with these flags applied, every value checked; a flag that the chosen score
    /// or threshold would ignore is refused rather than silently dropped.
    pub fn apply(&self, base: Options) -> Result<Options, Error> {
        let kind = self.threshold_kind();
        let unused = |flag: &'static str, given: bool, used: bool, by: &str| {
            if given && !used {
                Err(bad(flag, format!("only applies to {by}")))
            } else {
                Ok(())
            }
        };
        let raw = self.score == ScoreKind::Raw;
        unused("--smooth", self.smooth.is_some(), raw, "--score raw")?;
        let pot = raw && kind == ThresholdKind::Pot;
        unused(
            "--q",
            self.q.is_some(),
            pot,
            "--score raw with --threshold pot",
        )?;
        unused(
            "--pot-initial",
            self.pot_initial.is_some(),
            pot,
            "--score raw with --threshold pot",
        )?;
        let percentile = raw && kind == ThresholdKind::Percentile;
        unused(
            "--percentile",
            self.percentile.is_some(),
            percentile,
            "--score raw with --threshold percentile",
        )?;
        unused(
            "--value",
            self.value.is_some(),
            kind == ThresholdKind::Fixed,
            "--threshold fixed",
        )?;
        unused(
            "--no-seasonal",
            self.no_seasonal,
            !raw && !self.no_column_scores,
            "the likelihood's column scores (not --score raw or --no-column-scores)",
        )?;
        let q = self.q.unwrap_or(1e-3);
        let pot_initial = self.pot_initial.unwrap_or(0.98);
        let percentile = self.percentile.unwrap_or(99.9);
        let smooth = self.smooth.unwrap_or(base.smooth);
        let scoring = match self.score {
            ScoreKind::Likelihood => {
                if self.average == 0 {
                    return Err(bad("--average", "must be at least 1".into()));
                }
                if !(self.clip.is_finite() && self.clip >= 0.0) {
                    return Err(bad(
                        "--clip",
                        format!("expected standard deviations ≥ 0, found {}", self.clip),
                    ));
                }
                if !(self.coarse_gate.is_finite() && self.coarse_gate >= 0.0) {
                    return Err(bad(
                        "--coarse-gate",
                        format!("expected a level ≥ 0, found {}", self.coarse_gate),
                    ));
                }
                if self.history < 2 {
                    return Err(bad(
                        "--history",
                        format!("must be at least 2, found {}", self.history),
                    ));
                }
                Scoring::Likelihood {
                    params: LikelihoodParams {
                        average: self.average,
                        history: self.history,
                        min_history: LikelihoodParams::default().min_history.min(self.history),
                        clip: self.clip,
                    },
                    long: (self.long_scale > 1).then_some(self.long_scale),
                    columns: !self.no_column_scores,
                    seasonal: !self.no_seasonal,
                    gate: self.coarse_gate,
                }
            }
            ScoreKind::Raw => Scoring::Raw,
        };
        let threshold = match kind {
            ThresholdKind::Pot => {
                if self.score == ScoreKind::Likelihood {
                    return Err(bad(
                        "--threshold",
                        "pot calibrates the raw score (--score raw); the likelihood takes a fixed --value".into(),
                    ));
                }
                if !(q > 0.0 && q < 0.5) {
                    return Err(bad(
                        "--q",
                        format!("expected a risk in (0, 0.5), found {q}"),
                    ));
                }
                if !(pot_initial > 0.0 && pot_initial < 1.0) {
                    return Err(bad(
                        "--pot-initial",
                        format!("expected a quantile in (0, 1), found {}", pot_initial),
                    ));
                }
                if q >= 1.0 - pot_initial {
                    return Err(bad(
                        "--q",
                        format!(
                            "expected a risk below 1 - --pot-initial = {:.3} (POT fits the tail above the {pot_initial} quantile), found {q}; use --threshold percentile for such risks",
                            1.0 - pot_initial
                        ),
                    ));
                }
                Method::Pot {
                    q,
                    initial: pot_initial,
                }
            }
            ThresholdKind::Percentile => {
                if self.score == ScoreKind::Likelihood {
                    return Err(bad(
                        "--threshold",
                        "percentile calibrates the raw score (--score raw); the likelihood takes a fixed --value".into(),
                    ));
                }
                if !(0.0..=100.0).contains(&percentile) {
                    return Err(bad(
                        "--percentile",
                        format!("expected 0-100, found {}", percentile),
                    ));
                }
                Method::Percentile {
                    p: percentile / 100.0,
                }
            }
            ThresholdKind::Fixed => {
                let value = match (self.value, self.score) {
                    (Some(v), _) => v,
                    (None, ScoreKind::Likelihood) => LIKELIHOOD_THRESHOLD,
                    (None, ScoreKind::Raw) => {
                        return Err(bad(
                            "--value",
                            "--threshold fixed on the raw score needs a --value".into(),
                        ));
                    }
                };
                if self.score == ScoreKind::Likelihood && !(0.0..1.0).contains(&value) {
                    return Err(bad(
                        "--value",
                        format!("expected a likelihood score in [0, 1), found {value}"),
                    ));
                }
                if !value.is_finite() {
                    return Err(bad(
                        "--value",
                        format!("expected a finite score, found {value}"),
                    ));
                }
                Method::Fixed { value }
            }
        };
        if !(self.range_tolerance.is_finite() && self.range_tolerance >= 0.0) {
            return Err(bad(
                "--range-tolerance",
                format!("expected a fraction ≥ 0, found {}", self.range_tolerance),
            ));
        }
        if smooth == 0 {
            return Err(bad(
                "--smooth",
                "must be at least 1 (1 = no smoothing)".into(),
            ));
        }
        if self.min_duration == 0 {
            return Err(bad("--min-duration", "must be at least 1".into()));
        }
        if self.adapt_every == 0 {
            return Err(bad("--adapt-every", "must be at least 1".into()));
        }
        if self.adapt_sample == 0 {
            return Err(bad("--adapt-sample", "must be at least 1".into()));
        }
        if !(self.adapt_rate.is_finite() && self.adapt_rate > 0.0) {
            return Err(bad(
                "--adapt-rate",
                format!("expected a number > 0, found {}", self.adapt_rate),
            ));
        }
        Ok(Options {
            scoring,
            threshold,
            context: !self.no_context,
            range: (!self.no_range).then_some(self.range_tolerance),
            range_absorb: (!self.no_range_absorb).then_some(self.range_absorb),
            smooth,
            min_duration: self.min_duration,
            merge_gap: self.merge_gap,
            suppress: (!self.no_suppress).then_some(self.suppress),
            daily_repeats: !self.raise_daily_repeats,
            frozen_steps: self.frozen_steps,
            adapt: self.adapt.then_some(Adapt {
                every: self.adapt_every,
                rate: self.adapt_rate,
                sample: self.adapt_sample,
            }),
            ..base
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        d: DecisionArgs,
    }

    fn options(args: &[&str]) -> Result<Options, Error> {
        let cli = Cli::try_parse_from(std::iter::once("x").chain(args.iter().copied()))
            .map_err(|e| bad("parse", e.to_string()))?;
        cli.d.apply(Options::default())
    }

    #[test]
    fn no_flags_are_the_detectors_defaults() {
        assert_eq!(options(&[]).unwrap(), Options::default());
        let o = options(&["--no-seasonal"]).unwrap();
        assert!(matches!(
            o.scoring,
            Scoring::Likelihood {
                seasonal: false,
                columns: true,
                ..
            }
        ));
        assert_eq!(options(&[]).unwrap().adapt, None);
        let a = options(&["--adapt"]).unwrap().adapt.unwrap();
        assert_eq!(
            (a.every, a.rate, a.sample),
            (ADAPT_EVERY, ADAPT_RATE, ADAPT_SAMPLE)
        );
        let a = options(&["--adapt", "--adapt-every", "64", "--adapt-rate", "1e-3"])
            .unwrap()
            .adapt
            .unwrap();
        assert_eq!((a.every, a.rate), (64, 1e-3));
        // Tuning an adaptation that is off is a mistake worth saying.
        assert!(options(&["--adapt-every", "64"]).is_err());
    }

    #[test]
    fn raw_scoring_calibrates_and_checks_its_values() {
        let o = options(&["--score", "raw"]).unwrap();
        assert_eq!(o.scoring, Scoring::Raw);
        assert!(matches!(o.threshold, Method::Pot { q, .. } if q == 1e-3));
        for (args, flag) in [
            (&["--score", "raw", "--q", "0.5"][..], "--q"),
            (&["--score", "raw", "--q", "nan"], "--q"),
            (&["--score", "raw", "--q=-1"], "--q"),
            // Issue 18: a risk at or above the tail's share fell back silently to the
            // highest validation score while the console said "pot".
            (&["--score", "raw", "--q", "0.4"], "--q"),
            (&["--score", "raw", "--q", "0.03"], "--q"),
            (
                &[
                    "--score",
                    "raw",
                    "--threshold",
                    "percentile",
                    "--percentile",
                    "150",
                ],
                "--percentile",
            ),
            (&["--score", "raw", "--threshold", "fixed"], "--value"),
            (&["--threshold", "pot"], "--threshold"),
            (&["--value", "1.5"], "--value"),
            (&["--history", "1"], "--history"),
            (&["--clip=-1"], "--clip"),
            (&["--coarse-gate=-1"], "--coarse-gate"),
            (&["--adapt", "--adapt-every", "0"], "--adapt-every"),
            (&["--adapt", "--adapt-sample", "0"], "--adapt-sample"),
            (&["--adapt", "--adapt-rate", "0"], "--adapt-rate"),
            (&["--adapt", "--adapt-rate", "nan"], "--adapt-rate"),
            (&["--range-tolerance=-0.1"], "--range-tolerance"),
            (&["--smooth", "0"], "--smooth"),
        ] {
            match options(args) {
                Err(Error::Option { flag: f, .. }) => assert_eq!(f, flag, "{args:?}"),
                other => panic!("{args:?}: {other:?}"),
            }
        }
        let o = options(&[
            "--score",
            "raw",
            "--threshold",
            "percentile",
            "--percentile",
            "99",
        ])
        .unwrap();
        assert_eq!(o.threshold, Method::Percentile { p: 0.99 });
    }

    /// Issue 18: `--q` took -1, 0, 0.5, 1, 2 and nan; the console said "pot" while the
    /// summary showed a fallback to the highest validation score.
    #[test]
    fn q_outside_its_range_is_refused_not_a_silent_fallback() {
        for q in ["-1", "0", "0.5", "1", "2", "nan", "inf"] {
            let flag = format!("--q={q}");
            match options(&["--score", "raw", "--threshold", "pot", &flag]) {
                Err(Error::Option { flag: f, message }) => {
                    assert_eq!(f, "--q", "{q}");
                    assert!(!message.is_empty(), "{q}");
                }
                other => panic!("--q {q}: {other:?}"),
            }
        }
        let o = options(&["--score", "raw", "--q", "0.01"]).unwrap();
        assert!(matches!(o.threshold, Method::Pot { q, .. } if q == 0.01));
    }

    /// Issue 18: `--percentile 150` was refused as "expected p in [0, 1], found 1.5"
    /// while --help said 0-100: the range is in the option's own unit, percent.
    #[test]
    fn percentile_is_in_percent_as_its_help_says() {
        let raw = [
            "--score",
            "raw",
            "--threshold",
            "percentile",
            "--percentile",
        ];
        match options(&[&raw[..], &["150"]].concat()) {
            Err(e) => {
                let text = e.to_string();
                assert!(text.contains("--percentile"), "{text}");
                assert!(text.contains("100"), "the range in percent: {text}");
                assert!(!text.contains("1.5"), "not the fraction: {text}");
            }
            other => panic!("{other:?}"),
        }
        let o = options(&[&raw[..], &["99.5"]].concat()).unwrap();
        assert_eq!(o.threshold, Method::Percentile { p: 0.995 });
    }

    #[test]
    fn a_flag_the_decision_would_ignore_is_refused() {
        for (args, flag) in [
            (&["--q", "1e-4"][..], "--q"),
            (&["--smooth", "5"], "--smooth"),
            (&["--percentile", "99"], "--percentile"),
            (&["--score", "raw", "--percentile", "99"], "--percentile"),
            (
                &["--score", "raw", "--threshold", "percentile", "--q", "1e-4"],
                "--q",
            ),
            (&["--score", "raw", "--value", "3"], "--value"),
            (&["--score", "raw", "--no-seasonal"], "--no-seasonal"),
            (&["--no-column-scores", "--no-seasonal"], "--no-seasonal"),
        ] {
            match options(args) {
                Err(Error::Option { flag: f, message }) => {
                    assert_eq!(f, flag, "{args:?}");
                    assert!(message.contains("only applies to"), "{message}");
                }
                other => panic!("{args:?}: {other:?}"),
            }
        }
        let o = options(&["--score", "raw", "--q", "1e-4", "--smooth", "5"]).unwrap();
        assert!(matches!(o.threshold, Method::Pot { q, .. } if q == 1e-4));
        assert_eq!(o.smooth, 5);
    }

    #[test]
    fn switches_turn_parts_off() {
        let o = options(&["--no-range", "--no-suppress", "--value", "0.7"]).unwrap();
        assert_eq!(o.range, None);
        assert_eq!(o.suppress, None);
        assert_eq!(o.threshold, Method::Fixed { value: 0.7 });
    }
}
