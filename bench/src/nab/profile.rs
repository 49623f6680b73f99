//! Scoring profiles, the probationary period and the scaled sigmoid (`sweeper.py`, `config/profiles.json`).

pub const PROBATION_PERCENT: f64 = 0.15;

/// Row count at which the probationary period stops growing (`_getProbationaryLength`).
pub(crate) const PROBATION_CAP_ROWS: f64 = 5000.0;

/// A NAB application profile: the weights of `config/profiles.json`.
///
/// `tn` is carried for completeness; NAB's scorer never uses it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    pub name: &'static str,
    pub tp: f64,
    pub fp: f64,
    pub fn_: f64,
    pub tn: f64,
}

/// NAB's "standard" profile.
pub const STANDARD: Profile = Profile {
    name: "standard",
    tp: 1.0,
    fp: 0.11,
    fn_: 1.0,
    tn: 1.0,
};

/// NAB's "reward_low_FP_rate" profile.
pub const REWARD_LOW_FP_RATE: Profile = Profile {
    name: "reward_low_FP_rate",
    tp: 1.0,
    fp: 0.22,
    fn_: 1.0,
    tn: 1.0,
};

/// NAB's "reward_low_FN_rate" profile.
pub const REWARD_LOW_FN_RATE: Profile = Profile {
    name: "reward_low_FN_rate",
    tp: 1.0,
    fp: 0.11,
    fn_: 2.0,
    tn: 1.0,
};

/// The three NAB profiles, in the order NAB's results tables list them.
pub const PROFILES: [Profile; 3] = [STANDARD, REWARD_LOW_FP_RATE, REWARD_LOW_FN_RATE];

/// Probationary rows of a file of `n` rows: `min(floor(0.15 n), 0.15 × 5000)`, computed in
/// f64 exactly as `Sweeper._getProbationaryLength` does.
pub fn probationary_rows(n: usize) -> usize {
    let rows = (PROBATION_PERCENT * n as f64)
        .floor()
        .min(PROBATION_PERCENT * PROBATION_CAP_ROWS);
    rows as usize
}

/// The logistic function (`sweeper.sigmoid`).
pub(crate) fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// NAB's `scaledSigmoid`: `2 σ(-5 x) - 1`, and exactly `-1` beyond `x > 3`.
///
/// `x = -1` is a window's left edge (0.98661), `x = 0` just past its right edge (0).
pub fn scaled_sigmoid(relative_position: f64) -> f64 {
    if relative_position > 3.0 {
        -1.0
    } else {
        2.0 * sigmoid(-5.0 * relative_position) - 1.0
    }
}
