//! Random row selection on a `LazyFrame`: `sample_n`, `sample_frac`, `shuffle`.
//!
//! Each is a `Gather` node whose indices are a seeded sample of `row_index()`, so the plan
//! text shows exactly what runs (`GATHER row_index().sample_n(3, 42, false)`), the optimizer
//! needs no new node, and the rows picked depend only on the seed and the input's height,
//! never on the thread count. The row numbers follow NumPy's `np.random.default_rng(seed)`:
//! `shuffle` is `permutation(height)`; see [`Expr::sample_n`](crate::expr::Expr::sample_n).

use super::LazyFrame;
use crate::expr::row_index;

impl LazyFrame {
    /// `n` random rows. Without replacement (`replace = false`) no row is picked twice and
    /// `n` larger than the height is an error; with replacement rows may repeat.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("x" => [1, 2, 3, 4, 5])?;
    /// let a = df.clone().lazy().sample_n(3, 42, false).collect()?;
    /// let b = df.lazy().sample_n(3, 42, false).collect()?;
    /// assert_eq!(a.height(), 3);
    /// assert_eq!(a, b); // same seed, same rows
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn sample_n(self, n: usize, seed: u64, replace: bool) -> Self {
        self.gather(row_index().sample_n(n, seed, replace))
    }

    /// `floor(frac * height)` random rows (Polars truncates the same way); `frac > 1` needs
    /// `replace = true`.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let out = range(0, 10).sample_frac(0.25, 1, false).collect()?;
    /// assert_eq!(out.height(), 2);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn sample_frac(self, frac: f64, seed: u64, replace: bool) -> Self {
        self.gather(row_index().sample_frac(frac, seed, replace))
    }

    /// All rows in a random order: NumPy's `df.iloc[default_rng(seed).permutation(len)]`.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let out = range(0, 5).shuffle(42).collect()?;
    /// // np.random.default_rng(42).permutation(5)
    /// assert_eq!(out.column_f64("range")?, [4.0, 2.0, 3.0, 1.0, 0.0].map(Some).to_vec());
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn shuffle(self, seed: u64) -> Self {
        self.gather(row_index().shuffle(seed))
    }
}
