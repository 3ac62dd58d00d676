//! `min`, `max` and their NaN-skipping forms, in three layouts by input type: floats (a value,
//! a "seen" flag and a "saw NaN" flag per group), integers, booleans, dates, timestamps and
//! durations (an `i64` and a flag per group; decimals likewise with an `i128`), and strings (one reused `String` per group, written only when
//! a smaller or larger value comes).
//!
//! NaN propagates through the plain forms (a group holding one has NaN as its min and max)
//! and is skipped by the `nan_*` forms; nulls are skipped. A group with no value gives null.

use std::any::Any;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, PrimitiveArray, StringArray};
use arrow::datatypes::{ArrowNumericType, DataType, Decimal128Type, Float64Type, Int64Type};

use super::super::stats::nan_masked_min_max;
use super::summary::{FloatSummary, Needs};
use super::{downcast, f64_values, grow, input, pairs, vec_bytes, Groups, GroupsAccumulator};
use crate::error::{Error, Result};
use crate::expr::types::{is_decimal, is_duration, is_string, is_temporal};
use crate::expr::AggFunc;

/// The accumulator of `func` (a min or max) over values of type `t`.
pub(super) fn new_extreme(func: &AggFunc, t: &DataType) -> Result<Box<dyn GroupsAccumulator>> {
    let min = matches!(func, AggFunc::Min | AggFunc::NanMin);
    Ok(if t.is_floating() {
        Box::new(FloatExtreme {
            min,
            skip_nan: func.skips_nan(),
            float64: *t == DataType::Float64,
            st: vec![],
        })
    } else if t.is_integer()
        || is_temporal(t)
        || is_duration(t)
        || matches!(t, DataType::Boolean | DataType::Null)
    {
        let out = if is_temporal(t) || is_duration(t) {
            t.clone()
        } else {
            DataType::Int64
        };
        Box::new(IntExtreme::<Int64Type>::new(min, out))
    } else if is_decimal(t) {
        Box::new(IntExtreme::<Decimal128Type>::new(min, t.clone()))
    } else if is_string(t) {
        Box::new(StrExtreme {
            min,
            out: t.clone(),
            best: vec![],
            seen: vec![],
        })
    } else {
        return Err(Error::Type(format!(
            "{}() is not supported for values of type {t}",
            func.name()
        )));
    })
}

/// The better of `a` and `b`: the smaller for a min, the larger for a max.
#[inline(always)]
fn pick(min: bool, a: f64, b: f64) -> f64 {
    if min {
        a.min(b)
    } else {
        a.max(b)
    }
}

/// One group's best float so far, whether it has one, and whether it saw a NaN.
#[derive(Clone, Copy, Debug, Default)]
struct Best {
    best: f64,
    seen: bool,
    nan: bool,
}

struct FloatExtreme {
    min: bool,
    skip_nan: bool,
    float64: bool,
    st: Vec<Best>,
}

impl FloatExtreme {
    /// Fold a non-NaN value `m` into group `g`.
    #[inline(always)]
    fn offer(&mut self, g: usize, m: f64) {
        let s = &mut self.st[g];
        s.best = if s.seen { pick(self.min, s.best, m) } else { m };
        s.seen = true;
    }

    /// Fold in a piece's (smallest, largest, count of non-NaN values) over `valid` values.
    fn add_piece(&mut self, (lo, hi, count): (f64, f64, usize), valid: usize) {
        if count > 0 {
            self.offer(0, if self.min { lo } else { hi });
        }
        // Valid values that are not numbers are NaN.
        if !self.skip_nan && valid > count {
            self.st[0].nan = true;
        }
    }
}

impl GroupsAccumulator for FloatExtreme {
    fn update(&mut self, inputs: &[ArrayRef], groups: Groups, n_groups: usize) -> Result<()> {
        let a = f64_values(input(inputs, "min/max")?)?;
        let p = a.as_primitive::<Float64Type>();
        grow(&mut self.st, n_groups, Best::default());
        match groups {
            Groups::One => self.add_piece(nan_masked_min_max(p), p.len() - p.null_count()),
            Groups::Ids(ids) => {
                let vals = p.values();
                let mut add = |r: usize| {
                    let (v, g) = (vals[r], ids[r] as usize);
                    if v.is_nan() {
                        self.st[g].nan |= !self.skip_nan;
                    } else {
                        self.offer(g, v);
                    }
                };
                match p.nulls().filter(|n| n.null_count() > 0) {
                    None => (0..vals.len()).for_each(&mut add),
                    Some(n) => n.valid_indices().for_each(&mut add),
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
        let old = self.st.len();
        grow(&mut self.st, n_groups, Best::default());
        for (s, t, new) in pairs(from, to, old) {
            let b = o.st[s];
            if new {
                self.st[t] = b;
            } else {
                if b.seen {
                    self.offer(t, b.best);
                }
                self.st[t].nan |= b.nan;
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, n_groups: usize) -> Result<ArrayRef> {
        grow(&mut self.st, n_groups, Best::default());
        let v = self.st[..n_groups].iter().map(|s| {
            if s.nan {
                Some(f64::NAN)
            } else {
                s.seen.then_some(s.best)
            }
        });
        Ok(Arc::new(Float64Array::from_iter(v)))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn size(&self) -> usize {
        vec_bytes(&self.st)
    }

    fn float_needs(&self) -> Option<Needs> {
        self.float64.then(Needs::extremes)
    }

    fn absorb(&mut self, s: &FloatSummary) {
        grow(&mut self.st, 1, Best::default());
        self.add_piece(s.min_max, s.rows);
    }
}

/// Integers, booleans (as 0/1), dates, timestamps and durations, compared as `i64` (`P` is
/// Int64), or decimals compared unscaled as `i128` (`P` is Decimal128); the result has the
/// type `out` (Int64, or the input's temporal or decimal type).
struct IntExtreme<P: ArrowNumericType> {
    min: bool,
    out: DataType,
    best: Vec<P::Native>,
    seen: Vec<bool>,
}

impl<P: ArrowNumericType> IntExtreme<P>
where
    P::Native: Ord,
{
    fn new(min: bool, out: DataType) -> Self {
        Self {
            min,
            out,
            best: vec![],
            seen: vec![],
        }
    }

    /// The type values are compared as.
    fn work(&self) -> DataType {
        if is_decimal(&self.out) {
            self.out.clone()
        } else {
            DataType::Int64
        }
    }

    #[inline(always)]
    fn offer(&mut self, g: usize, m: P::Native) {
        let b = &mut self.best[g];
        *b = match (self.seen[g], self.min) {
            (false, _) => m,
            (true, true) => (*b).min(m),
            (true, false) => (*b).max(m),
        };
        self.seen[g] = true;
    }
}

impl<P: ArrowNumericType> GroupsAccumulator for IntExtreme<P>
where
    P::Native: Ord,
{
    fn update(&mut self, inputs: &[ArrayRef], groups: Groups, n_groups: usize) -> Result<()> {
        let a = arrow::compute::cast(input(inputs, "min/max")?, &self.work())?;
        let p = a.as_primitive::<P>();
        grow(&mut self.best, n_groups, P::Native::default());
        grow(&mut self.seen, n_groups, false);
        match groups {
            Groups::One => {
                let m = if self.min {
                    arrow::compute::min(p)
                } else {
                    arrow::compute::max(p)
                };
                if let Some(m) = m {
                    self.offer(0, m);
                }
            }
            Groups::Ids(ids) => {
                let vals = p.values();
                match p.nulls().filter(|n| n.null_count() > 0) {
                    None => {
                        for (v, g) in vals.iter().zip(ids) {
                            self.offer(*g as usize, *v);
                        }
                    }
                    Some(n) => {
                        for r in n.valid_indices() {
                            self.offer(ids[r] as usize, vals[r]);
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
        let old = self.best.len();
        grow(&mut self.best, n_groups, P::Native::default());
        grow(&mut self.seen, n_groups, false);
        for (s, t, new) in pairs(from, to, old) {
            if new {
                self.best[t] = o.best[s];
                self.seen[t] = o.seen[s];
            } else if o.seen[s] {
                self.offer(t, o.best[s]);
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, n_groups: usize) -> Result<ArrayRef> {
        grow(&mut self.best, n_groups, P::Native::default());
        grow(&mut self.seen, n_groups, false);
        let v = (0..n_groups).map(|g| self.seen[g].then_some(self.best[g]));
        let a = PrimitiveArray::<P>::from_iter(v);
        if is_decimal(&self.out) {
            Ok(Arc::new(a.with_data_type(self.out.clone())))
        } else {
            from_i64(Arc::new(a), &self.out)
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn size(&self) -> usize {
        vec_bytes(&self.best) + vec_bytes(&self.seen)
    }
}

/// An Int64 array as `out` (Int64 itself, or a date or timestamp type of the same values).
fn from_i64(a: ArrayRef, out: &DataType) -> Result<ArrayRef> {
    Ok(match out {
        DataType::Int64 => a,
        DataType::Date32 => {
            let narrow = arrow::compute::cast(&a, &DataType::Int32)?;
            arrow::compute::cast(&narrow, out)?
        }
        other => arrow::compute::cast(&a, other)?,
    })
}

/// Strings, compared bytewise (as Rust's `str` ordering); the result has the input's type.
struct StrExtreme {
    min: bool,
    out: DataType,
    best: Vec<String>,
    seen: Vec<bool>,
}

impl StrExtreme {
    #[inline(always)]
    fn offer(&mut self, g: usize, v: &str) {
        let better = !self.seen[g]
            || if self.min {
                v < self.best[g].as_str()
            } else {
                v > self.best[g].as_str()
            };
        if better {
            let b = &mut self.best[g];
            b.clear();
            b.push_str(v);
            self.seen[g] = true;
        }
    }

    fn grow(&mut self, n: usize) {
        grow(&mut self.best, n, String::new());
        grow(&mut self.seen, n, false);
    }
}

impl GroupsAccumulator for StrExtreme {
    fn update(&mut self, inputs: &[ArrayRef], groups: Groups, n_groups: usize) -> Result<()> {
        let a = arrow::compute::cast(input(inputs, "min/max")?, &DataType::Utf8)?;
        let s = a.as_string::<i32>();
        self.grow(n_groups);
        match groups {
            Groups::One => {
                let m = if self.min {
                    arrow::compute::min_string(s)
                } else {
                    arrow::compute::max_string(s)
                };
                if let Some(m) = m {
                    self.offer(0, m);
                }
            }
            Groups::Ids(ids) => {
                for (r, v) in s.iter().enumerate() {
                    if let Some(v) = v {
                        self.offer(ids[r] as usize, v);
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
        let old = self.best.len();
        self.grow(n_groups);
        for (s, t, new) in pairs(from, to, old) {
            if new {
                self.best[t].clone_from(&o.best[s]);
                self.seen[t] = o.seen[s];
            } else if o.seen[s] {
                self.offer(t, &o.best[s]);
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, n_groups: usize) -> Result<ArrayRef> {
        self.grow(n_groups);
        let v = (0..n_groups).map(|g| self.seen[g].then_some(self.best[g].as_str()));
        let a: ArrayRef = Arc::new(StringArray::from_iter(v));
        Ok(if self.out == DataType::Utf8 {
            a
        } else {
            arrow::compute::cast(&a, &self.out)?
        })
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn size(&self) -> usize {
        vec_bytes(&self.best)
            + vec_bytes(&self.seen)
            + self.best.iter().map(String::capacity).sum::<usize>()
    }
}
