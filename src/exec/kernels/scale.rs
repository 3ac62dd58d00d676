//! Kernels of the scale family (`expr::scale`: `min_max_scale`, `min_max_scale_with`,
//! `standardize`) and the NaN- and null-skipping column statistics they, the fills and the
//! aggregates share.
//!
//! Statistics run over fixed chunks in parallel and merge in chunk order (sums pairwise within
//! a chunk and Neumaier-compensated across chunks, variances with Chan's formula), so they are
//! bit-identical for any thread count. Scaling is then one parallel elementwise pass that
//! keeps the input's validity; NaN stays NaN through the arithmetic.

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;

use super::chunked::{map_values, par_chunks_nan_masked, to_f64};
use super::stats::Compensated;
use super::{broadcast, first_of, Kernel};
use crate::error::{Error, Result};
use crate::exec::value::{array_to_scalar, scalar_to_array, Value};
use crate::expr::{FunctionFamily, ScaleFunction};

impl Kernel for ScaleFunction {
    fn invoke(&self, args: Vec<Value>, _rows: usize, out: &DataType) -> Result<Value> {
        let name = self.name();
        match self {
            ScaleFunction::MinMax { lo, hi } => broadcast(name, self.kind(), args, |a| {
                min_max_scale(first_of(a, name)?, *lo, *hi, out)
            }),
            ScaleFunction::Standardize => broadcast(name, self.kind(), args, |a| {
                standardize(first_of(a, name)?, out)
            }),
            ScaleFunction::MinMaxWith { lo, hi } => scale_with_stats(args, *lo, *hi, out),
            ScaleFunction::StandardizeWith => standardize_with_stats(args, out),
        }
    }
}

/// `min_max_scale_with(x, min, max)`: the statistics stay scalars (no broadcast).
fn scale_with_stats(args: Vec<Value>, lo: f64, hi: f64, out: &DataType) -> Result<Value> {
    let [x, mn, mx]: [Value; 3] = args
        .try_into()
        .map_err(|_| Error::Internal("min_max_scale_with takes three inputs".into()))?;
    let stat = |v: Value| -> Result<Option<f64>> {
        match v {
            Value::Scalar(s) => Ok(s.as_f64()),
            Value::Array(_) => Err(Error::Compute(
                "min_max_scale_with needs scalar min and max".into(),
            )),
        }
    };
    let range = match (stat(mn)?, stat(mx)?) {
        (Some(a), Some(b)) if !a.is_nan() && !b.is_nan() => Some((a, b)),
        _ => None,
    };
    match x {
        Value::Array(a) => Ok(Value::Array(min_max_scale_with(&a, range, lo, hi, out)?)),
        Value::Scalar(s) => {
            let a = scalar_to_array(&s, &s.data_type(), 1)?;
            let r = min_max_scale_with(&a, range, lo, hi, out)?;
            Ok(Value::Scalar(array_to_scalar(r.as_ref(), 0)?))
        }
    }
}

/// Pairwise (NumPy-style, 8 lanes, blocks of 128) sum of the non-NaN values, and their count.
pub fn nan_sum_count(v: &[f64]) -> (f64, usize) {
    if v.len() <= 128 {
        let mut lanes = [0.0f64; 8];
        let mut n = 0usize;
        let chunks = v.chunks_exact(8);
        let rest = chunks.remainder();
        for c in chunks {
            for k in 0..8 {
                let x = c[k];
                let ok = !x.is_nan();
                lanes[k] += if ok { x } else { 0.0 };
                n += usize::from(ok);
            }
        }
        let mut s = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]))
            + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
        for &x in rest {
            if !x.is_nan() {
                s += x;
                n += 1;
            }
        }
        (s, n)
    } else {
        let mid = (v.len() / 2) / 8 * 8;
        let (a, na) = nan_sum_count(&v[..mid]);
        let (b, nb) = nan_sum_count(&v[mid..]);
        (a + b, na + nb)
    }
}

/// Smallest and largest non-NaN value and the count of non-NaN values.
pub fn nan_min_max(v: &[f64]) -> (f64, f64, usize) {
    let mut mn = [f64::INFINITY; 4];
    let mut mx = [f64::NEG_INFINITY; 4];
    let mut n = [0usize; 4];
    let chunks = v.chunks_exact(4);
    let rest = chunks.remainder();
    for c in chunks {
        for k in 0..4 {
            let x = c[k];
            // Comparisons with NaN are false, so NaN never wins.
            mn[k] = if x < mn[k] { x } else { mn[k] };
            mx[k] = if x > mx[k] { x } else { mx[k] };
            n[k] += usize::from(!x.is_nan());
        }
    }
    let (mut lo, mut hi) = (
        mn[0].min(mn[1]).min(mn[2].min(mn[3])),
        mx[0].max(mx[1]).max(mx[2].max(mx[3])),
    );
    let mut cnt = n.iter().sum::<usize>();
    for &x in rest {
        if !x.is_nan() {
            lo = lo.min(x);
            hi = hi.max(x);
            cnt += 1;
        }
    }
    (lo, hi, cnt)
}

/// Count, mean, sum of squared deviations, min and max of the valid (non-null, non-NaN)
/// values of a column.
#[derive(Clone, Copy, Debug)]
pub struct Moments {
    /// How many valid values.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// The sum of their squared deviations from the mean.
    pub m2: f64,
    /// The smallest of them.
    pub min: f64,
    /// The largest of them.
    pub max: f64,
}

impl Moments {
    /// Population (`ddof = 0`) or sample variance; NaN when `n <= ddof`.
    pub fn var(&self, ddof: u8) -> f64 {
        let d = self.n as f64 - f64::from(ddof);
        if d <= 0.0 {
            f64::NAN
        } else {
            self.m2 / d
        }
    }
    /// True when every valid value is the same finite number.
    pub fn is_constant(&self) -> bool {
        self.n > 0 && self.min == self.max && self.min.is_finite()
    }
}

fn chunk_moments(v: &[f64]) -> (Moments, Compensated) {
    let (sum, n) = nan_sum_count(v);
    let (min, max, _) = nan_min_max(v);
    if n == 0 {
        let m = Moments {
            n: 0,
            mean: 0.0,
            m2: 0.0,
            min,
            max,
        };
        return (m, Compensated::default());
    }
    let mean = sum / n as f64;
    let m2 = v
        .iter()
        .filter(|x| !x.is_nan())
        .map(|x| (x - mean) * (x - mean))
        .sum();
    let mut c = Compensated::default();
    c.add(sum);
    (
        Moments {
            n,
            mean,
            m2,
            min,
            max,
        },
        c,
    )
}

/// Moments of the valid values of a column (in parallel fixed chunks, merged in order).
pub fn moments(a: &ArrayRef) -> Result<Moments> {
    let f = to_f64(a)?;
    let parts = par_chunks_nan_masked(&f, chunk_moments);
    let mut total = Moments {
        n: 0,
        mean: 0.0,
        m2: 0.0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
    };
    let mut sum = Compensated::default();
    // ±inf breaks the compensation (inf - inf); a plain sum carries them (NumPy's result).
    let mut plain = 0.0;
    for (m, s) in parts {
        total.min = total.min.min(m.min);
        total.max = total.max.max(m.max);
        if m.n == 0 {
            continue;
        }
        sum.add(s.sum);
        sum.add(s.comp);
        plain += s.sum;
        if total.n == 0 {
            total.n = m.n;
            total.mean = m.mean;
            total.m2 = m.m2;
            continue;
        }
        // Chan et al.: combine two (n, mean, M2) summaries.
        let (na, nb) = (total.n as f64, m.n as f64);
        let delta = m.mean - total.mean;
        total.m2 += m.m2 + delta * delta * na * nb / (na + nb);
        total.n += m.n;
    }
    if total.n > 0 {
        // The compensated total sum gives a more accurate mean than Chan's running update.
        let s = if plain.is_finite() {
            sum.value()
        } else {
            plain
        };
        total.mean = s / total.n as f64;
    }
    Ok(total)
}

/// Mean of the valid values (`None` when there are none).
pub fn nan_mean(a: &ArrayRef) -> Result<Option<f64>> {
    let f = to_f64(a)?;
    let parts = par_chunks_nan_masked(&f, nan_sum_count);
    let mut sum = Compensated::default();
    let (mut plain, mut n) = (0.0, 0usize);
    for (s, c) in parts {
        sum.add(s);
        plain += s;
        n += c;
    }
    let s = if plain.is_finite() {
        sum.value()
    } else {
        plain
    };
    Ok((n > 0).then(|| s / n as f64))
}

/// Smallest and largest valid value (`None` when there are none).
pub fn nan_range(a: &ArrayRef) -> Result<Option<(f64, f64)>> {
    let f = to_f64(a)?;
    let parts = par_chunks_nan_masked(&f, nan_min_max);
    let (mut lo, mut hi, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0usize);
    for (a, b, c) in parts {
        lo = lo.min(a);
        hi = hi.max(b);
        n += c;
    }
    Ok((n > 0).then_some((lo, hi)))
}

/// `lo + (x - min) / (max - min) * (hi - lo)`; constant columns give `lo`.
pub fn min_max_scale(a: &ArrayRef, lo: f64, hi: f64, out: &DataType) -> Result<ArrayRef> {
    min_max_scale_with(a, nan_range(a)?, lo, hi, out)
}

/// Min-max scaling with the column's `(nan_min, nan_max)` given (`None`: the column has no
/// valid value). `min_max_scale` and the hoisted `min_max_scale_with` share it, so both give
/// the same bits.
pub fn min_max_scale_with(
    a: &ArrayRef,
    range: Option<(f64, f64)>,
    lo: f64,
    hi: f64,
    out: &DataType,
) -> Result<ArrayRef> {
    let Some((mn, mx)) = range else {
        // No valid value: every non-null value is NaN already.
        return map_values(a, out, |x| x);
    };
    if mn == mx && mn.is_finite() {
        map_values(a, out, |x| if x.is_nan() { x } else { lo })
    } else if lo == 0.0 && hi == 1.0 {
        // The exact formula of the docs, so results match NumPy bit for bit.
        let range = mx - mn;
        map_values(a, out, |x| (x - mn) / range)
    } else {
        let (range, span) = (mx - mn, hi - lo);
        map_values(a, out, |x| lo + (x - mn) / range * span)
    }
}

/// `(x - mean) / std(ddof 0)`; constant columns give 0.
pub fn standardize(a: &ArrayRef, out: &DataType) -> Result<ArrayRef> {
    let m = moments(a)?;
    let stats = (m.n > 0).then(|| (m.mean, m.var(0).sqrt(), m.is_constant()));
    standardize_by(a, stats, out)
}

/// Standardization with `(mean, std, constant)` given (`None`: no valid value, the column
/// stays as it is). `standardize` and the hoisted `standardize_with` share it.
fn standardize_by(
    a: &ArrayRef,
    stats: Option<(f64, f64, bool)>,
    out: &DataType,
) -> Result<ArrayRef> {
    match stats {
        None => map_values(a, out, |x| x),
        Some((_, _, true)) => map_values(a, out, |x| if x.is_nan() { x } else { 0.0 }),
        Some((mean, std, false)) => map_values(a, out, |x| (x - mean) / std),
    }
}

/// `standardize_with(x, mean, std, min, max)`: the statistics are scalars (no broadcast).
fn standardize_with_stats(args: Vec<Value>, out: &DataType) -> Result<Value> {
    let [x, mean, std, mn, mx]: [Value; 5] = args
        .try_into()
        .map_err(|_| Error::Internal("standardize_with takes five inputs".into()))?;
    let stat = |v: Value| -> Result<Option<f64>> {
        match v {
            Value::Scalar(s) => Ok(s.as_f64()),
            Value::Array(_) => Err(Error::Compute(
                "standardize_with needs scalar statistics".into(),
            )),
        }
    };
    let (mean, std, mn, mx) = (stat(mean)?, stat(std)?, stat(mn)?, stat(mx)?);
    let stats = mean.map(|m| {
        let constant = matches!((mn, mx), (Some(a), Some(b)) if a == b && a.is_finite());
        (m, std.unwrap_or(f64::NAN), constant)
    });
    match x {
        Value::Array(a) => Ok(Value::Array(standardize_by(&a, stats, out)?)),
        Value::Scalar(s) => {
            let a = scalar_to_array(&s, &s.data_type(), 1)?;
            let r = standardize_by(&a, stats, out)?;
            Ok(Value::Scalar(array_to_scalar(r.as_ref(), 0)?))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Float64Array;
    use std::sync::Arc;

    #[test]
    fn sums_skip_nan_across_block_sizes() {
        for n in [0usize, 1, 7, 8, 9, 127, 128, 129, 1000] {
            let v: Vec<f64> = (0..n)
                .map(|i| if i % 5 == 3 { f64::NAN } else { i as f64 })
                .collect();
            let expect: f64 = v.iter().filter(|x| !x.is_nan()).sum();
            let cnt = v.iter().filter(|x| !x.is_nan()).count();
            assert_eq!(nan_sum_count(&v), (expect, cnt), "n={n}");
            let (lo, hi, c) = nan_min_max(&v);
            assert_eq!(c, cnt);
            if cnt > 0 {
                assert_eq!(lo, 0.0);
                assert!(hi >= lo);
            }
        }
    }

    #[test]
    fn moments_merge_over_chunks_with_nulls() {
        let n = 3 * super::super::chunked::CHUNK + 11;
        let v: Vec<Option<f64>> = (0..n)
            .map(|i| match i % 7 {
                0 => None,
                1 => Some(f64::NAN),
                _ => Some(1e9 + (i % 13) as f64),
            })
            .collect();
        let a: ArrayRef = Arc::new(Float64Array::from(v.clone()));
        let m = moments(&a).unwrap();
        let valid: Vec<f64> = v
            .iter()
            .flatten()
            .copied()
            .filter(|x| !x.is_nan())
            .collect();
        let mean = valid.iter().map(|x| x - 1e9).sum::<f64>() / valid.len() as f64 + 1e9;
        let var = valid.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / valid.len() as f64;
        assert_eq!(m.n, valid.len());
        assert!((m.mean - mean).abs() < 1e-6, "{} {}", m.mean, mean);
        assert!((m.var(0) - var).abs() / var < 1e-9, "{} {}", m.var(0), var);
    }

    #[test]
    fn standardize_streams_through_hoisted_statistics() -> crate::error::Result<()> {
        use crate::prelude::*;
        // 0.1 three times: the streamed mean is not exactly 0.1, so the std is a rounding
        // residue; min == max still says "constant" and gives 0, as the whole-column kernel.
        let df = df!(
            "c" => [0.1, 0.1, f64::NAN, 0.1],
            "x" => [1.0, 2.0, f64::NAN, 4.0],
            "n" => [f64::NAN, f64::NAN, f64::NAN, f64::NAN]
        )?;
        let lf = df
            .lazy()
            .with_columns([cols(["c", "x", "n"]).standardize()]);
        assert!(lf.explain(true)?.contains("standardize_with($c_nan_mean"));
        let hoisted = lf.clone().collect()?;
        let whole = lf.collect_with(&ExecOptions::new().optimize(false))?;
        assert_eq!(hoisted.column_f64("c")?[..2], [Some(0.0), Some(0.0)]);
        for name in ["c", "x", "n"] {
            let (a, b) = (hoisted.column_f64(name)?, whole.column_f64(name)?);
            for (u, v) in a.iter().zip(&b) {
                let (u, v) = (u.unwrap(), v.unwrap());
                assert!(
                    u.is_nan() && v.is_nan() || (u - v).abs() <= 1e-12 * v.abs(),
                    "{name}"
                );
            }
        }
        Ok(())
    }
}
