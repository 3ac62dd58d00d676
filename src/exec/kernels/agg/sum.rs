//! `sum`, `mean` and their NaN-skipping forms: a compensated sum per group (and a count for
//! means). Integer sums add in `i64`, wrapping as NumPy's do.
//!
//! One group adds a whole piece at a time: its pairwise sum (NumPy's summation within a
//! piece), then Neumaier-compensated across pieces. Grouped, each row is added to its group's
//! compensated sum. Either way the uncompensated sum is kept beside it: when that is not
//! finite (±inf breaks the compensation, `inf - inf`) it is the result (NumPy's sum of
//! `[inf, 1]` is inf). A group's float state is one 32-byte record, so a row touches one
//! cache line.
//!
//! Decimal sums are exact: `i128` sums of the unscaled values, at the input's scale, with
//! precision 38 (an overflow, or a sum past 38 digits, is an error).

use std::any::Any;

use arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, Float64Array, Int64Array};
use arrow::datatypes::{DataType, Decimal128Type, Float64Type, Int64Type};
use std::sync::Arc;

use super::super::stats::{finite_or, nan_masked_sum, pairwise_sum, Compensated};
use super::summary::{FloatSummary, Needs};
use super::{
    downcast, f64_values, for_each_valid, grow, input, pairs, vec_bytes, Groups, GroupsAccumulator,
};
use crate::error::{Error, Result};
use crate::expr::types::DECIMAL_PRECISION;
use crate::expr::AggFunc;

/// One group's float sum: compensated, plain, and the count of values (for means).
#[derive(Clone, Copy, Debug, Default)]
struct FloatSum {
    f: Compensated,
    plain: f64,
    n: u64,
}

impl FloatSum {
    #[inline(always)]
    fn add(&mut self, v: f64, c: u64) {
        self.f.add(v);
        self.plain += v;
        self.n += c;
    }

    /// Fold in the sum of later rows.
    fn merge(&mut self, o: &FloatSum) {
        self.f.add(o.f.sum);
        self.f.add(o.f.comp);
        self.plain += o.plain;
        self.n += o.n;
    }

    fn value(&self) -> f64 {
        finite_or(self.f, self.plain)
    }
}

pub(super) struct SumAcc {
    /// A mean (else a sum).
    mean: bool,
    skip_nan: bool,
    /// Float input, summed in f64 (integer sums are exact `i64`s).
    float: bool,
    /// The input is Float64 (what the one-group float summary reads).
    float64: bool,
    f: Vec<FloatSum>,
    i: Vec<i64>,
}

impl SumAcc {
    pub(super) fn new(func: &AggFunc, t: &DataType) -> Self {
        let mean = matches!(func, AggFunc::Mean | AggFunc::NanMean);
        Self {
            mean,
            skip_nan: func.skips_nan(),
            float: mean || t.is_floating(),
            float64: *t == DataType::Float64,
            f: vec![],
            i: vec![],
        }
    }

    fn grow(&mut self, n: usize) {
        if self.float {
            grow(&mut self.f, n, FloatSum::default());
        } else {
            grow(&mut self.i, n, 0);
        }
    }

    fn len(&self) -> usize {
        if self.float {
            self.f.len()
        } else {
            self.i.len()
        }
    }

    /// Add rows of float values to their groups (`rows` lists the valid ones).
    fn add_rows(&mut self, vals: &[f64], ids: &[u32], rows: impl Iterator<Item = usize>) {
        let f = &mut self.f;
        if self.skip_nan {
            for r in rows {
                let v = vals[r];
                if !v.is_nan() {
                    f[ids[r] as usize].add(v, 1);
                }
            }
        } else {
            for r in rows {
                f[ids[r] as usize].add(vals[r], 1);
            }
        }
    }
}

impl GroupsAccumulator for SumAcc {
    fn update(&mut self, inputs: &[ArrayRef], groups: Groups, n_groups: usize) -> Result<()> {
        let values = input(inputs, "sum")?;
        self.grow(n_groups);
        match (groups, self.float) {
            (Groups::One, true) => {
                let a = f64_values(values)?;
                let p = a.as_primitive::<Float64Type>();
                let (s, c) = if self.skip_nan {
                    nan_masked_sum(p)
                } else if p.null_count() == 0 {
                    (pairwise_sum(p.values()), p.len())
                } else {
                    let mut tmp = Vec::with_capacity(p.len());
                    for_each_valid(&a, |_, v| tmp.push(v))?;
                    (pairwise_sum(&tmp), tmp.len())
                };
                self.f[0].add(s, c as u64);
            }
            (Groups::Ids(ids), true) => {
                let a = f64_values(values)?;
                let p = a.as_primitive::<Float64Type>();
                let vals = p.values();
                match p.nulls().filter(|n| n.null_count() > 0) {
                    None => self.add_rows(vals, ids, 0..vals.len()),
                    Some(nulls) => self.add_rows(vals, ids, nulls.valid_indices()),
                }
            }
            (groups, false) => {
                let a = arrow::compute::cast(values, &DataType::Int64)?;
                let p = a.as_primitive::<Int64Type>();
                let vals = p.values();
                let nulls = p.nulls().filter(|n| n.null_count() > 0);
                let i = &mut self.i;
                match (groups, nulls) {
                    (Groups::One, None) => {
                        let s = vals.iter().fold(0i64, |acc, v| acc.wrapping_add(*v));
                        i[0] = i[0].wrapping_add(s);
                    }
                    (Groups::One, Some(n)) => {
                        let s = n
                            .valid_indices()
                            .fold(0i64, |acc, k| acc.wrapping_add(vals[k]));
                        i[0] = i[0].wrapping_add(s);
                    }
                    (Groups::Ids(ids), None) => {
                        for (v, g) in vals.iter().zip(ids) {
                            let g = *g as usize;
                            i[g] = i[g].wrapping_add(*v);
                        }
                    }
                    (Groups::Ids(ids), Some(n)) => {
                        for r in n.valid_indices() {
                            let g = ids[r] as usize;
                            i[g] = i[g].wrapping_add(vals[r]);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn merge(
        &mut self,
        other: &dyn GroupsAccumulator,
        from: &[u32],
        to: &[u32],
        n_groups: usize,
    ) -> Result<()> {
        let o = downcast::<Self>(other)?;
        let old = self.len();
        self.grow(n_groups);
        for (s, t, new) in pairs(from, to, old) {
            match (self.float, new) {
                (true, true) => self.f[t] = o.f[s],
                (true, false) => self.f[t].merge(&o.f[s]),
                (false, true) => self.i[t] = o.i[s],
                (false, false) => self.i[t] = self.i[t].wrapping_add(o.i[s]),
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, n_groups: usize) -> Result<ArrayRef> {
        self.grow(n_groups);
        let f = &self.f;
        Ok(if self.mean {
            let v = (0..n_groups).map(|g| f[g].value() / f[g].n as f64);
            Arc::new(Float64Array::from_iter_values(v))
        } else if self.float {
            let v = (0..n_groups).map(|g| f[g].value());
            Arc::new(Float64Array::from_iter_values(v))
        } else {
            Arc::new(Int64Array::from_iter_values(
                self.i[..n_groups].iter().copied(),
            ))
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn size(&self) -> usize {
        vec_bytes(&self.f) + vec_bytes(&self.i)
    }

    fn float_needs(&self) -> Option<Needs> {
        self.float64.then(|| Needs::sums(self.skip_nan))
    }

    fn absorb(&mut self, s: &FloatSummary) {
        self.grow(1);
        let (v, c) = if self.skip_nan {
            s.nan_sum
        } else {
            (s.plain_sum, s.rows)
        };
        self.f[0].add(v, c as u64);
    }
}

/// Exact sums of decimals: per group the unscaled `i128` sum, `None` once it overflowed.
pub(super) struct DecimalSumAcc {
    scale: i8,
    sums: Vec<Option<i128>>,
}

impl DecimalSumAcc {
    pub(super) fn new(t: &DataType) -> Self {
        let scale = match t {
            DataType::Decimal128(_, s) => *s,
            _ => 0,
        };
        Self {
            scale,
            sums: vec![],
        }
    }

    #[inline(always)]
    fn add(&mut self, g: usize, v: i128) {
        let s = &mut self.sums[g];
        *s = s.and_then(|a| a.checked_add(v));
    }
}

impl GroupsAccumulator for DecimalSumAcc {
    fn update(&mut self, inputs: &[ArrayRef], groups: Groups, n_groups: usize) -> Result<()> {
        let p = input(inputs, "sum")?.as_primitive::<Decimal128Type>();
        grow(&mut self.sums, n_groups, Some(0));
        let vals = p.values();
        match (groups, p.nulls().filter(|n| n.null_count() > 0)) {
            (Groups::One, None) => {
                let piece = vals.iter().try_fold(0i128, |a, v| a.checked_add(*v));
                self.sums[0] = self.sums[0].zip(piece).and_then(|(a, b)| a.checked_add(b));
            }
            (Groups::One, Some(n)) => {
                let piece = n
                    .valid_indices()
                    .try_fold(0i128, |a, k| a.checked_add(vals[k]));
                self.sums[0] = self.sums[0].zip(piece).and_then(|(a, b)| a.checked_add(b));
            }
            (Groups::Ids(ids), None) => {
                for (v, g) in vals.iter().zip(ids) {
                    self.add(*g as usize, *v);
                }
            }
            (Groups::Ids(ids), Some(n)) => {
                for r in n.valid_indices() {
                    self.add(ids[r] as usize, vals[r]);
                }
            }
        }
        Ok(())
    }

    fn merge(
        &mut self,
        other: &dyn GroupsAccumulator,
        from: &[u32],
        to: &[u32],
        n_groups: usize,
    ) -> Result<()> {
        let o = downcast::<Self>(other)?;
        let old = self.sums.len();
        grow(&mut self.sums, n_groups, Some(0));
        for (s, t, new) in pairs(from, to, old) {
            let b = o.sums[s];
            self.sums[t] = if new {
                b
            } else {
                self.sums[t].zip(b).and_then(|(a, b)| a.checked_add(b))
            };
        }
        Ok(())
    }

    fn evaluate(&mut self, n_groups: usize) -> Result<ArrayRef> {
        grow(&mut self.sums, n_groups, Some(0));
        let limit = 10i128.pow(u32::from(DECIMAL_PRECISION));
        let v = self.sums[..n_groups]
            .iter()
            .map(|s| {
                s.filter(|v| v.unsigned_abs() < limit.unsigned_abs())
                    .ok_or_else(|| {
                        Error::Compute(
                            "decimal sum overflow: the exact sum does not fit in 38 digits".into(),
                        )
                    })
            })
            .collect::<Result<Vec<i128>>>()?;
        Ok(Arc::new(
            Decimal128Array::from(v).with_precision_and_scale(DECIMAL_PRECISION, self.scale)?,
        ))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn size(&self) -> usize {
        vec_bytes(&self.sums)
    }
}
