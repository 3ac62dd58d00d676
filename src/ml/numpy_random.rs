//! NumPy's legacy normal stream (`np.random.RandomState(seed).normal(size=..)`): the 32-bit
//! Mersenne Twister (MT19937) seeded as NumPy seeds it, doubles from two 32-bit draws, and the
//! polar Box-Muller method with its cached second value.
//!
//! scikit-learn's randomized SVD draws its random start from this stream
//! (`random_state.normal(size=(d, l))`), so the randomized PCA draws its start here too: with
//! the same `seed` as scikit-learn's `random_state`, both start from the same matrix, and their
//! results agree to rounding instead of differing by the spread between random starts (on a
//! flat spectrum the explained variance moves by ~0.3% from seed to seed). This departs from
//! the design's choice of `rand_pcg`/`rand_chacha` for seeded randomness (elsewhere the crate
//! keeps `Pcg64`): MT19937 is as fixed an algorithm as those, and here matching the peer's
//! stream is the point.

/// State words of MT19937.
const N: usize = 624;
/// The twist's middle offset.
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// `np.random.RandomState(seed)`'s normal draws, value for value.
pub(crate) struct NumpyNormal {
    key: Box<[u32; N]>,
    pos: usize,
    /// The second value of the last polar pair, returned by the next draw.
    cached: Option<f64>,
}

impl NumpyNormal {
    /// `RandomState(seed)` for a seed below 2^32; a larger seed is split into its low and high
    /// 32-bit words and seeded as `RandomState([low, high])` (NumPy itself refuses integer
    /// seeds of 2^32 and above).
    pub(crate) fn new(seed: u64) -> Self {
        let mut s = NumpyNormal {
            key: Box::new([0; N]),
            pos: N,
            cached: None,
        };
        match u32::try_from(seed) {
            Ok(small) => s.seed_word(small),
            Err(_) => s.seed_words(&[seed as u32, (seed >> 32) as u32]),
        }
        s
    }

    /// `mt19937_seed`: Knuth's linear recurrence from one word.
    fn seed_word(&mut self, seed: u32) {
        let mut v = seed;
        for (i, k) in self.key.iter_mut().enumerate() {
            *k = v;
            v = 1_812_433_253u32
                .wrapping_mul(v ^ (v >> 30))
                .wrapping_add(i as u32 + 1);
        }
        self.pos = N;
    }

    /// `mt19937_init_by_array`: the reference initialization from a key of words.
    fn seed_words(&mut self, words: &[u32]) {
        self.seed_word(19_650_218);
        let mt = &mut self.key;
        let (mut i, mut j) = (1usize, 0usize);
        for _ in 0..N.max(words.len()) {
            let prev = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ prev.wrapping_mul(1_664_525))
                .wrapping_add(words[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
            if j >= words.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = mt[i - 1] ^ (mt[i - 1] >> 30);
            mt[i] = (mt[i] ^ prev.wrapping_mul(1_566_083_941)).wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                mt[0] = mt[N - 1];
                i = 1;
            }
        }
        mt[0] = 0x8000_0000;
        self.pos = N;
    }

    /// Refill the state (the "twist").
    fn twist(&mut self) {
        let mt = &mut self.key;
        let mix = |a: u32, b: u32| {
            let y = (a & UPPER_MASK) | (b & LOWER_MASK);
            (y >> 1) ^ if y & 1 == 1 { MATRIX_A } else { 0 }
        };
        for i in 0..N - M {
            mt[i] = mt[i + M] ^ mix(mt[i], mt[i + 1]);
        }
        for i in N - M..N - 1 {
            mt[i] = mt[i + M - N] ^ mix(mt[i], mt[i + 1]);
        }
        mt[N - 1] = mt[M - 1] ^ mix(mt[N - 1], mt[0]);
        self.pos = 0;
    }

    /// The next tempered 32-bit output.
    fn next_u32(&mut self) -> u32 {
        if self.pos == N {
            self.twist();
        }
        let mut y = self.key[self.pos];
        self.pos += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// A double in [0, 1) from 27 + 26 bits of two draws (`random_sample`).
    fn next_f64(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) / 9_007_199_254_740_992.0
    }

    /// The next standard normal value (`legacy_gauss`).
    pub(crate) fn next_normal(&mut self) -> f64 {
        if let Some(v) = self.cached.take() {
            return v;
        }
        loop {
            let x1 = 2.0 * self.next_f64() - 1.0;
            let x2 = 2.0 * self.next_f64() - 1.0;
            let r2 = x1 * x1 + x2 * x2;
            if r2 < 1.0 && r2 != 0.0 {
                let f = (-2.0 * r2.ln() / r2).sqrt();
                self.cached = Some(f * x1);
                return f * x2;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::NumpyNormal;

    fn draws(seed: u64, n: usize) -> Vec<f64> {
        let mut s = NumpyNormal::new(seed);
        (0..n).map(|_| s.next_normal()).collect()
    }

    /// Printed by NumPy 2.4: `np.random.RandomState(seed).normal(size=n).tolist()`.
    #[test]
    fn draws_equal_numpys_random_state() {
        let cases: [(u64, &[f64]); 3] = [
            (
                0,
                &[
                    1.764052345967664,
                    0.4001572083672233,
                    0.9787379841057392,
                    2.240893199201458,
                    1.8675579901499675,
                ],
            ),
            (
                12345,
                &[
                    -0.20470765948471295,
                    0.47894333805754824,
                    -0.5194387150567381,
                    -0.55573030434749,
                    1.9657805725027142,
                    1.3934058329729904,
                ],
            ),
            (
                4_294_967_295,
                &[0.6484086742306527, 0.6693235306338161, -1.0805437227474493],
            ),
        ];
        for (seed, want) in cases {
            assert_eq!(draws(seed, want.len()), want, "seed {seed}");
        }
    }

    /// Past several refills of the state: `RandomState(5).normal(size=1400)[-3:]`.
    #[test]
    fn long_runs_stay_in_step() {
        let all = draws(5, 1400);
        assert_eq!(
            all[1397..],
            [0.8303501457828444, 0.9542695586782867, -0.06962642839260302]
        );
    }

    /// A seed of 2^32 or more is `RandomState([low, high])`:
    /// `RandomState([3, 7]).normal(size=3)`.
    #[test]
    fn large_seeds_seed_from_their_two_words() {
        assert_eq!(
            draws((7u64 << 32) | 3, 3),
            [
                0.16816241150162592,
                -0.5121969841737181,
                -1.8063610987849608
            ]
        );
    }
}
