//! `describe()`'s per-column kernel: nine statistics of the valid (non-null, non-NaN) values,
//! in the order of [`STATISTICS`].
//!
//! Like pandas, `count` is the number of values the statistics use (NaN is treated as
//! missing), `std` has ddof 1 and the quartiles interpolate linearly (NumPy's default);
//! `null_count` is Polars'. A statistic without enough values (none; one for `std`) is null,
//! as in Polars.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array};

use super::scale::moments;
use super::seed_a::{par_chunks_nan_masked, to_f64};
use super::stats::quantile;
use crate::error::Result;

/// The `statistic` column of `describe()`.
pub const STATISTICS: [&str; 9] = [
    "count",
    "null_count",
    "mean",
    "std",
    "min",
    "25%",
    "50%",
    "75%",
    "max",
];

/// The nine statistics of one column as a nine-row Float64 array.
pub fn describe_stats(a: &ArrayRef) -> Result<ArrayRef> {
    let f = to_f64(a)?;
    let nulls = f.null_count() as f64;
    let parts = par_chunks_nan_masked(&f, |c| {
        c.iter()
            .copied()
            .filter(|x| !x.is_nan())
            .collect::<Vec<f64>>()
    });
    let mut vals: Vec<f64> = parts.concat();
    let n = vals.len();
    let out: Vec<Option<f64>> = if n == 0 {
        let mut v = vec![None; 9];
        v[0] = Some(0.0);
        v[1] = Some(nulls);
        v
    } else {
        let m = moments(a)?;
        let std = (n > 1).then(|| m.var(1).sqrt());
        let q25 = quantile(&mut vals, 0.25);
        let q50 = quantile(&mut vals, 0.5);
        let q75 = quantile(&mut vals, 0.75);
        vec![
            Some(n as f64),
            Some(nulls),
            Some(m.mean),
            std,
            Some(m.min),
            Some(q25),
            Some(q50),
            Some(q75),
            Some(m.max),
        ]
    };
    Ok(Arc::new(Float64Array::from(out)))
}
