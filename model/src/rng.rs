//! Seeded random streams: initial weights (here) and the trainer's shuffling.

use rand::SeedableRng;

pub type Rng = rand_chacha::ChaCha8Rng;

/// The stream for `purpose` under `seed`.
pub fn seeded(seed: u64, purpose: u64) -> Rng {
    Rng::seed_from_u64(seed ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}
