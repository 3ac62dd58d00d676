//! Aggregates as partial states merged in morsel order, so results are bit-identical for any
//! thread count.
//!
//! Semantics follow NumPy: plain aggregates propagate NaN, the `nan_*` family skips it, every
//! aggregate skips nulls. Float sums are pairwise within a piece (NumPy's method) and
//! compensated (Neumaier) across pieces; variances merge with Chan's formula. An empty input
//! gives 0 for sums and counts, NaN for mean/std/var/median/quantile (as NumPy) and null for
//! min/max/arg_min/arg_max/first/last.

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type};

use crate::error::{Error, Result};
use crate::exec::value::array_to_scalar;
use crate::expr::types::DECIMAL_PRECISION;
use crate::expr::{AggFunc, Scalar};

mod summary;
pub use summary::update_group;

use super::stats::{
    finite_or, median, merge_var, nan_masked_min_max, nan_masked_sum, pairwise_sum, quantile,
    Compensated,
};

#[derive(Clone, Debug)]
enum State {
    Sum {
        f: Compensated,
        /// The uncompensated sum: what the result is when it is not finite (±inf breaks the
        /// compensation, `inf - inf`; NumPy's sum of `[inf, 1]` is inf).
        plain: f64,
        i: i64,
        float: bool,
        skip_nan: bool,
    },
    Mean {
        f: Compensated,
        plain: f64,
        n: u64,
        skip_nan: bool,
    },
    MinMax {
        min: bool,
        skip_nan: bool,
        f: Option<f64>,
        i: Option<i64>,
        other: Option<Scalar>,
        nan: bool,
        kind: Kind,
    },
    Var {
        n: u64,
        mean: f64,
        m2: f64,
        nan: bool,
        skip_nan: bool,
        ddof: u8,
        std: bool,
    },
    Count(u64),
    NullCount(u64),
    Values {
        v: Vec<f64>,
        nan: bool,
        skip_nan: bool,
        q: Option<f64>,
    },
    Arg {
        min: bool,
        best: Option<(f64, u64)>,
        nan_at: Option<u64>,
        rows: u64,
    },
    Edge {
        first: bool,
        value: Option<Scalar>,
    },
    /// An exact sum of decimals (unscaled, at the input's scale); `None` once it overflowed.
    DecimalSum {
        sum: Option<i128>,
        scale: i8,
    },
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Float,
    Int,
    Other,
}

/// A partial aggregate over the rows seen so far.
#[derive(Clone, Debug)]
pub struct AggState {
    dtype: DataType,
    state: State,
}

fn kind_of(dt: &DataType) -> Kind {
    if dt.is_floating() {
        Kind::Float
    } else if dt.is_integer() || *dt == DataType::Boolean || *dt == DataType::Null {
        Kind::Int
    } else {
        Kind::Other
    }
}

/// The non-null values of `a` as f64 (casting integers), and whether there were nulls.
fn f64_values(a: &ArrayRef) -> Result<ArrayRef> {
    if *a.data_type() == DataType::Float64 {
        Ok(a.clone())
    } else {
        Ok(arrow::compute::cast(a, &DataType::Float64)?)
    }
}

fn for_each_valid(a: &ArrayRef, mut f: impl FnMut(usize, f64)) -> Result<()> {
    let a = f64_values(a)?;
    let p = a.as_primitive::<Float64Type>();
    let vals = p.values();
    match p.nulls() {
        None => vals.iter().enumerate().for_each(|(i, v)| f(i, *v)),
        Some(n) => {
            for i in n.valid_indices() {
                f(i, vals[i]);
            }
        }
    }
    Ok(())
}

impl AggState {
    /// An empty state for `func` over values of type `dtype`.
    pub fn new(func: &AggFunc, dtype: &DataType) -> Self {
        let kind = kind_of(dtype);
        let state = match func {
            AggFunc::Sum | AggFunc::NanSum if matches!(dtype, DataType::Decimal128(..)) => {
                let scale = match dtype {
                    DataType::Decimal128(_, s) => *s,
                    _ => 0,
                };
                State::DecimalSum {
                    sum: Some(0),
                    scale,
                }
            }
            AggFunc::Sum | AggFunc::NanSum => State::Sum {
                f: Compensated::default(),
                plain: 0.0,
                i: 0,
                float: kind == Kind::Float,
                skip_nan: func.skips_nan(),
            },
            AggFunc::Mean | AggFunc::NanMean => State::Mean {
                f: Compensated::default(),
                plain: 0.0,
                n: 0,
                skip_nan: func.skips_nan(),
            },
            AggFunc::Min | AggFunc::Max | AggFunc::NanMin | AggFunc::NanMax => State::MinMax {
                min: matches!(func, AggFunc::Min | AggFunc::NanMin),
                skip_nan: func.skips_nan(),
                f: None,
                i: None,
                other: None,
                nan: false,
                kind,
            },
            AggFunc::Std(d) | AggFunc::Var(d) | AggFunc::NanStd(d) | AggFunc::NanVar(d) => {
                State::Var {
                    n: 0,
                    mean: 0.0,
                    m2: 0.0,
                    nan: false,
                    skip_nan: func.skips_nan(),
                    ddof: *d,
                    std: matches!(func, AggFunc::Std(_) | AggFunc::NanStd(_)),
                }
            }
            AggFunc::Count => State::Count(0),
            AggFunc::NullCount => State::NullCount(0),
            AggFunc::Median | AggFunc::NanMedian | AggFunc::Quantile(_) => State::Values {
                v: vec![],
                nan: false,
                skip_nan: func.skips_nan(),
                q: match func {
                    AggFunc::Quantile(q) => Some(*q),
                    _ => None,
                },
            },
            AggFunc::ArgMin | AggFunc::ArgMax => State::Arg {
                min: matches!(func, AggFunc::ArgMin),
                best: None,
                nan_at: None,
                rows: 0,
            },
            AggFunc::First | AggFunc::Last => State::Edge {
                first: matches!(func, AggFunc::First),
                value: None,
            },
        };
        Self {
            dtype: dtype.clone(),
            state,
        }
    }

    /// Add a piece's values (the rows right after those already seen).
    pub fn update(&mut self, values: &ArrayRef) -> Result<()> {
        if *values.data_type() == DataType::Float64 && values.null_count() == 0 {
            if let Some(needs) = self.float_needs() {
                let v = values.as_primitive::<Float64Type>().values();
                self.absorb(&summary::FloatSummary::of(v, needs));
                return Ok(());
            }
        }
        match &mut self.state {
            State::Count(n) => *n += (values.len() - values.null_count()) as u64,
            State::NullCount(n) => *n += values.null_count() as u64,
            State::Sum {
                f,
                plain,
                i,
                float,
                skip_nan,
            } => {
                if *float {
                    let a = f64_values(values)?;
                    let p = a.as_primitive::<Float64Type>();
                    let s = if *skip_nan {
                        nan_masked_sum(p).0
                    } else if p.null_count() == 0 {
                        pairwise_sum(p.values())
                    } else {
                        let mut tmp = Vec::with_capacity(p.len());
                        for_each_valid(&a, |_, v| tmp.push(v))?;
                        pairwise_sum(&tmp)
                    };
                    f.add(s);
                    *plain += s;
                } else {
                    let a = arrow::compute::cast(values, &DataType::Int64)?;
                    let p = a.as_primitive::<Int64Type>();
                    let s = match p.nulls() {
                        None => p.values().iter().fold(0i64, |acc, v| acc.wrapping_add(*v)),
                        Some(n) => n
                            .valid_indices()
                            .fold(0i64, |acc, k| acc.wrapping_add(p.values()[k])),
                    };
                    *i = i.wrapping_add(s);
                }
            }
            State::Mean {
                f,
                plain,
                n,
                skip_nan,
            } => {
                let a = f64_values(values)?;
                let p = a.as_primitive::<Float64Type>();
                let (s, c) = if *skip_nan {
                    nan_masked_sum(p)
                } else if p.null_count() == 0 {
                    (pairwise_sum(p.values()), p.len())
                } else {
                    let mut tmp = Vec::with_capacity(p.len());
                    for_each_valid(&a, |_, v| tmp.push(v))?;
                    (pairwise_sum(&tmp), tmp.len())
                };
                f.add(s);
                *plain += s;
                *n += c as u64;
            }
            State::MinMax {
                min,
                skip_nan,
                f,
                i,
                other,
                nan,
                kind,
            } => match kind {
                Kind::Float => {
                    let a = f64_values(values)?;
                    let p = a.as_primitive::<Float64Type>();
                    let (lo, hi, count) = nan_masked_min_max(p);
                    if count > 0 {
                        let m = if *min { lo } else { hi };
                        *f = Some(match *f {
                            None => m,
                            Some(b) if *min => b.min(m),
                            Some(b) => b.max(m),
                        });
                    }
                    // Valid values that are not numbers are NaN.
                    if !*skip_nan && p.len() - p.null_count() > count {
                        *nan = true;
                    }
                }
                Kind::Int => {
                    let a = arrow::compute::cast(values, &DataType::Int64)?;
                    let p = a.as_primitive::<Int64Type>();
                    let m = if *min {
                        arrow::compute::min(p)
                    } else {
                        arrow::compute::max(p)
                    };
                    if let Some(m) = m {
                        *i = Some(match *i {
                            None => m,
                            Some(b) if *min => b.min(m),
                            Some(b) => b.max(m),
                        });
                    }
                }
                Kind::Other => {
                    for r in 0..values.len() {
                        if values.is_null(r) {
                            continue;
                        }
                        let s = array_to_scalar(values.as_ref(), r)?;
                        let better = match other.as_ref() {
                            None => true,
                            Some(b) => {
                                let o = scalar_cmp(&s, b);
                                if *min {
                                    o == std::cmp::Ordering::Less
                                } else {
                                    o == std::cmp::Ordering::Greater
                                }
                            }
                        };
                        if better {
                            *other = Some(s);
                        }
                    }
                }
            },
            State::Var {
                n,
                mean,
                m2,
                nan,
                skip_nan,
                ..
            } => {
                let mut tmp = Vec::with_capacity(values.len());
                let sk = *skip_nan;
                let mut saw_nan = false;
                for_each_valid(values, |_, v| {
                    if v.is_nan() {
                        saw_nan = true;
                        if !sk {
                            tmp.push(v);
                        }
                    } else {
                        tmp.push(v);
                    }
                })?;
                if !sk {
                    *nan |= saw_nan;
                }
                if tmp.is_empty() || *nan {
                    return Ok(());
                }
                let nb = tmp.len() as f64;
                let mb = pairwise_sum(&tmp) / nb;
                let m2b: f64 = tmp.iter().map(|v| (v - mb) * (v - mb)).sum();
                merge_var(n, mean, m2, tmp.len() as u64, mb, m2b);
            }
            State::Values {
                v, nan, skip_nan, ..
            } => {
                // Once a NaN makes a plain median/quantile NaN, the values are not needed.
                if *nan {
                    return Ok(());
                }
                let sk = *skip_nan;
                let mut saw_nan = false;
                v.reserve(values.len() - values.null_count());
                for_each_valid(values, |_, x| {
                    if x.is_nan() {
                        saw_nan = true;
                    } else {
                        v.push(x);
                    }
                })?;
                if !sk && saw_nan {
                    *nan = true;
                    *v = vec![];
                }
            }
            State::Arg {
                min,
                best,
                nan_at,
                rows,
            } => {
                let base = *rows;
                let mn = *min;
                let mut b = *best;
                let mut na = *nan_at;
                for_each_valid(values, |k, v| {
                    let idx = base + k as u64;
                    if v.is_nan() {
                        if na.is_none() {
                            na = Some(idx);
                        }
                    } else {
                        let better = match b {
                            None => true,
                            Some((bv, _)) => {
                                if mn {
                                    v < bv
                                } else {
                                    v > bv
                                }
                            }
                        };
                        if better {
                            b = Some((v, idx));
                        }
                    }
                })?;
                *best = b;
                *nan_at = na;
                *rows += values.len() as u64;
            }
            State::DecimalSum { sum, .. } => {
                let p = values.as_primitive::<Decimal128Type>();
                let piece = match p.nulls() {
                    None => p.values().iter().try_fold(0i128, |a, v| a.checked_add(*v)),
                    Some(n) => n
                        .valid_indices()
                        .try_fold(0i128, |a, k| a.checked_add(p.values()[k])),
                };
                *sum = sum.zip(piece).and_then(|(a, b)| a.checked_add(b));
            }
            State::Edge { first, value } => {
                if values.is_empty() {
                    return Ok(());
                }
                if *first {
                    if value.is_none() {
                        *value = Some(array_to_scalar(values.as_ref(), 0)?);
                    }
                } else {
                    *value = Some(array_to_scalar(values.as_ref(), values.len() - 1)?);
                }
            }
        }
        Ok(())
    }

    /// Fold in the state of the rows that come after this one's.
    pub fn merge(&mut self, later: AggState) -> Result<()> {
        match (&mut self.state, later.state) {
            (State::Count(a), State::Count(b)) | (State::NullCount(a), State::NullCount(b)) => {
                *a += b
            }
            (
                State::Sum { f, plain, i, .. },
                State::Sum {
                    f: f2,
                    plain: p2,
                    i: i2,
                    ..
                },
            ) => {
                f.add(f2.sum);
                f.add(f2.comp);
                *plain += p2;
                *i = i.wrapping_add(i2);
            }
            (
                State::Mean { f, plain, n, .. },
                State::Mean {
                    f: f2,
                    plain: p2,
                    n: n2,
                    ..
                },
            ) => {
                f.add(f2.sum);
                f.add(f2.comp);
                *plain += p2;
                *n += n2;
            }
            (
                State::MinMax {
                    min,
                    f,
                    i,
                    other,
                    nan,
                    ..
                },
                State::MinMax {
                    f: f2,
                    i: i2,
                    other: o2,
                    nan: nan2,
                    ..
                },
            ) => {
                let mn = *min;
                *f = match (*f, f2) {
                    (Some(a), Some(b)) => Some(if mn { a.min(b) } else { a.max(b) }),
                    (a, b) => a.or(b),
                };
                *i = match (*i, i2) {
                    (Some(a), Some(b)) => Some(if mn { a.min(b) } else { a.max(b) }),
                    (a, b) => a.or(b),
                };
                *other = match (other.take(), o2) {
                    (Some(a), Some(b)) => {
                        let o = scalar_cmp(&b, &a);
                        let take_b = if mn {
                            o == std::cmp::Ordering::Less
                        } else {
                            o == std::cmp::Ordering::Greater
                        };
                        Some(if take_b { b } else { a })
                    }
                    (a, b) => a.or(b),
                };
                *nan |= nan2;
            }
            (
                State::Var {
                    n, mean, m2, nan, ..
                },
                State::Var {
                    n: n2,
                    mean: mean2,
                    m2: m22,
                    nan: nan2,
                    ..
                },
            ) => {
                *nan |= nan2;
                merge_var(n, mean, m2, n2, mean2, m22);
            }
            (
                State::Values { v, nan, .. },
                State::Values {
                    v: v2, nan: nan2, ..
                },
            ) => {
                *nan |= nan2;
                if *nan {
                    // Only set for plain median/quantile, whose result is then NaN.
                    *v = vec![];
                } else {
                    v.extend(v2);
                }
            }
            (
                State::Arg {
                    min,
                    best,
                    nan_at,
                    rows,
                },
                State::Arg {
                    best: b2,
                    nan_at: na2,
                    rows: r2,
                    ..
                },
            ) => {
                let base = *rows;
                if nan_at.is_none() {
                    *nan_at = na2.map(|k| k + base);
                }
                if let Some((v, k)) = b2 {
                    let better = match best {
                        None => true,
                        Some((bv, _)) => {
                            if *min {
                                v < *bv
                            } else {
                                v > *bv
                            }
                        }
                    };
                    if better {
                        *best = Some((v, k + base));
                    }
                }
                *rows += r2;
            }
            (State::DecimalSum { sum, .. }, State::DecimalSum { sum: s2, .. }) => {
                *sum = sum.zip(s2).and_then(|(a, b)| a.checked_add(b));
            }
            (State::Edge { first, value }, State::Edge { value: v2, .. }) => {
                if *first {
                    if value.is_none() {
                        *value = v2;
                    }
                } else if v2.is_some() {
                    *value = v2;
                }
            }
            _ => return Err(Error::Internal("merging different aggregate states".into())),
        }
        Ok(())
    }

    /// The result.
    pub fn finish(self) -> Result<Scalar> {
        Ok(match self.state {
            State::Count(n) | State::NullCount(n) => Scalar::UInt64(n),
            State::Sum {
                f, plain, i, float, ..
            } => {
                if float {
                    Scalar::Float64(finite_or(f, plain))
                } else {
                    Scalar::Int64(i)
                }
            }
            State::Mean { f, plain, n, .. } => Scalar::Float64(finite_or(f, plain) / n as f64),
            State::MinMax {
                f,
                i,
                other,
                nan,
                kind,
                ..
            } => match kind {
                Kind::Float if nan => Scalar::Float64(f64::NAN),
                Kind::Float => f.map_or(Scalar::Null, Scalar::Float64),
                Kind::Int => i.map_or(Scalar::Null, Scalar::Int64),
                Kind::Other => other.unwrap_or(Scalar::Null),
            },
            State::Var {
                n,
                m2,
                nan,
                ddof,
                std,
                ..
            } => {
                let v = if nan {
                    f64::NAN
                } else {
                    m2 / (n as f64 - ddof as f64)
                };
                let v = if n as f64 - ddof as f64 <= 0.0 {
                    f64::NAN
                } else {
                    v
                };
                Scalar::Float64(if std { v.sqrt() } else { v })
            }
            State::Values { mut v, nan, q, .. } => {
                if nan || v.is_empty() {
                    Scalar::Float64(f64::NAN)
                } else {
                    Scalar::Float64(match q {
                        None => median(&mut v),
                        Some(q) => quantile(&mut v, q),
                    })
                }
            }
            State::Arg { best, nan_at, .. } => match (nan_at, best) {
                (Some(k), _) => Scalar::UInt64(k),
                (None, Some((_, k))) => Scalar::UInt64(k),
                (None, None) => Scalar::Null,
            },
            State::Edge { value, .. } => value.unwrap_or(Scalar::Null),
            State::DecimalSum { sum, scale } => {
                let limit = 10i128.pow(u32::from(DECIMAL_PRECISION));
                match sum.filter(|v| v.unsigned_abs() < limit.unsigned_abs()) {
                    Some(v) => Scalar::Decimal128(v, DECIMAL_PRECISION, scale),
                    None => {
                        return Err(Error::Compute(
                            "decimal sum overflow: the exact sum does not fit in 38 digits".into(),
                        ))
                    }
                }
            }
        })
    }

    /// The input type this state aggregates.
    pub fn input_type(&self) -> &DataType {
        &self.dtype
    }
}

fn scalar_cmp(a: &Scalar, b: &Scalar) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Scalar::Utf8(x), Scalar::Utf8(y)) => x.cmp(y),
        (Scalar::Date32(x), Scalar::Date32(y)) => x.cmp(y),
        (Scalar::Timestamp(x, ..), Scalar::Timestamp(y, ..)) => x.cmp(y),
        (Scalar::Duration(x, _), Scalar::Duration(y, _)) => x.cmp(y),
        // One column's decimals share a scale.
        (Scalar::Decimal128(x, ..), Scalar::Decimal128(y, ..)) => x.cmp(y),
        (Scalar::Boolean(x), Scalar::Boolean(y)) => x.cmp(y),
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
            _ => Ordering::Equal,
        },
    }
}

/// Aggregate a whole column: fixed 64K-row pieces in parallel, merged in order.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::aggregate::aggregate_array as aggregate;
    use crate::exec::MORSEL_ROWS;
    use arrow::array::{Float64Array, Int64Array};
    use std::sync::Arc;

    fn agg(f: AggFunc, v: Vec<Option<f64>>) -> Scalar {
        let a: ArrayRef = Arc::new(Float64Array::from(v));
        aggregate(&f, &a).unwrap()
    }

    fn f(s: Scalar) -> f64 {
        s.as_f64().unwrap()
    }

    #[test]
    fn numpy_std_default_ddof() {
        let v = (1..=5).map(|x| Some(x as f64)).collect::<Vec<_>>();
        assert_eq!(f(agg(AggFunc::Std(0), v.clone())), std::f64::consts::SQRT_2);
        assert_eq!(f(agg(AggFunc::Var(1), v)), 2.5);
    }

    #[test]
    fn nan_propagates_but_nan_family_skips() {
        let v = vec![Some(1.0), Some(f64::NAN), None, Some(3.0)];
        assert!(f(agg(AggFunc::Mean, v.clone())).is_nan());
        assert!(f(agg(AggFunc::Max, v.clone())).is_nan());
        assert!(f(agg(AggFunc::Median, v.clone())).is_nan());
        assert_eq!(f(agg(AggFunc::NanMean, v.clone())), 2.0);
        assert_eq!(f(agg(AggFunc::NanMax, v.clone())), 3.0);
        assert_eq!(f(agg(AggFunc::NanSum, v.clone())), 4.0);
        assert_eq!(agg(AggFunc::Count, v.clone()), Scalar::UInt64(3));
        assert_eq!(agg(AggFunc::NullCount, v.clone()), Scalar::UInt64(1));
        assert_eq!(agg(AggFunc::ArgMax, v), Scalar::UInt64(1));
    }

    #[test]
    fn a_nan_in_any_piece_makes_the_median_nan() {
        let piece = |v: Vec<f64>| -> ArrayRef { Arc::new(Float64Array::from(v)) };
        for func in [AggFunc::Median, AggFunc::NanMedian, AggFunc::Quantile(0.5)] {
            let mut s = AggState::new(&func, &DataType::Float64);
            s.update(&piece(vec![1.0, 2.0])).unwrap();
            let mut b = AggState::new(&func, &DataType::Float64);
            b.update(&piece(vec![f64::NAN, 9.0])).unwrap();
            b.update(&piece(vec![4.0])).unwrap();
            s.merge(b).unwrap();
            let mut c = AggState::new(&func, &DataType::Float64);
            c.update(&piece(vec![3.0])).unwrap();
            s.merge(c).unwrap();
            let m = f(s.finish().unwrap());
            if func == AggFunc::NanMedian {
                assert_eq!(m, 3.0);
            } else {
                assert!(m.is_nan(), "{func:?}");
            }
        }
    }

    #[test]
    fn median_and_quantile_match_numpy() {
        let v = vec![Some(3.0), Some(1.0), Some(4.0), Some(1.5)];
        assert_eq!(f(agg(AggFunc::Median, v.clone())), 2.25);
        // np.quantile([3, 1, 4, 1.5], 0.3) == 1.45
        assert!((f(agg(AggFunc::Quantile(0.3), v)) - 1.45).abs() < 1e-15);
    }

    #[test]
    fn chunked_merge_equals_single_pass_for_ints_and_argmin() {
        let n = 3 * MORSEL_ROWS + 17;
        let a: ArrayRef = Arc::new(Int64Array::from_iter_values(
            (0..n as i64).map(|x| (x * 7919) % 1000 - 500),
        ));
        let s = aggregate(&AggFunc::Sum, &a).unwrap();
        let expect: i64 = (0..n as i64).map(|x| (x * 7919) % 1000 - 500).sum();
        assert_eq!(s, Scalar::Int64(expect));
        let am = aggregate(&AggFunc::ArgMin, &a).unwrap();
        assert_eq!(am, Scalar::UInt64(0)); // -500 first appears at row 0
    }

    #[test]
    fn variance_over_many_pieces_is_accurate() {
        let n = 5 * MORSEL_ROWS;
        let vals: Vec<f64> = (0..n).map(|i| 1e9 + (i % 10) as f64).collect();
        let a: ArrayRef = Arc::new(Float64Array::from(vals));
        let v = f(aggregate(&AggFunc::Var(0), &a).unwrap());
        assert!((v - 8.25).abs() < 1e-6, "{v}");
    }
}
