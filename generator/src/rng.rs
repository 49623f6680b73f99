//! Seeded random streams.
//!
//! Every random choice in a scenario comes from a stream derived from the scenario seed
//! and a fixed path (say: host 3, noise). Streams are independent, so switching one
//! incident off or adding a host leaves every other stream's numbers unchanged.

use rand::SeedableRng;

/// The generator's random number generator: ChaCha8, whose output is specified and portable.
pub type Rng = rand_chacha::ChaCha8Rng;

/// SplitMix64's finaliser: a bijective 64-bit mix.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream for `seed` along `path`.
pub fn stream(seed: u64, path: &[u64]) -> Rng {
    let s = path.iter().fold(mix(seed), |acc, &p| mix(acc ^ mix(p)));
    Rng::seed_from_u64(s)
}

/// Stream tags, so no two purposes share a path.
pub mod tag {
    pub const FLEET_NOISE: u64 = 1;
    pub const HOST_NOISE: u64 = 2;
    pub const PROCESS: u64 = 3;
    pub const INCIDENTS: u64 = 4;
    pub const LOGS: u64 = 5;
}
