//! Inputs shared by the benchmark binaries.

/// `count` floats in [0, 1): splitmix64 of `seed + (i + 1) * golden`, top 53 bits; the same
/// values peers.py's `splitmix_uniform` makes.
pub fn splitmix_uniform(count: usize, seed: u64) -> Vec<f64> {
    (0..count as u64)
        .map(|i| {
            let mut z = seed.wrapping_add((i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
        })
        .collect()
}
