//! `sum`, `mean` and their NaN-skipping forms: a compensated sum per group (and a count for
//! means). Integer sums add in `i64`, wrapping as NumPy's do.
//!
//! One group adds a whole piece at a time: its pairwise sum (NumPy's summation within a
//! piece), then Neumaier-compensated across pieces. Grouped, each row is added to its group's
//! compensated sum. Either way the uncompensated sum is kept beside it: when that is not
//! finite (±inf breaks the compensation, `inf - inf`) it is the result (NumPy's sum of
//! `[inf, 1]` is inf).

use std::any::Any;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use std::sync::Arc;

use super::super::stats::{finite_or, nan_masked_sum, pairwise_sum, Compensated};
use super::summary::{FloatSummary, Needs};
use super::{downcast, f64_values, for_each_valid, grow, input, pairs, Groups, GroupsAccumulator};
use crate::error::Result;
use crate::expr::AggFunc;

pub(super) struct SumAcc {
    /// A mean (else a sum).
    mean: bool,
    skip_nan: bool,
    /// Float input, summed in f64 (integer sums of a sum are exact `i64`s).
    float: bool,
    /// The input is Float64 (what the one-group float summary reads).
    float64: bool,
    f: Vec<Compensated>,
    plain: Vec<f64>,
    i: Vec<i64>,
    n: Vec<u64>,
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
            plain: vec![],
            i: vec![],
            n: vec![],
        }
    }

    fn grow(&mut self, n: usize) {
        if self.float {
            grow(&mut self.f, n, Compensated::default());
            grow(&mut self.plain, n, 0.0);
        } else {
            grow(&mut self.i, n, 0);
        }
        if self.mean {
            grow(&mut self.n, n, 0);
        }
    }

    fn len(&self) -> usize {
        if self.float {
            self.f.len()
        } else {
            self.i.len()
        }
    }

    /// Add a piece's sum `s` over `c` values to group 0.
    fn add_piece(&mut self, s: f64, c: usize) {
        self.f[0].add(s);
        self.plain[0] += s;
        if self.mean {
            self.n[0] += c as u64;
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
                self.add_piece(s, c);
            }
            (Groups::Ids(ids), true) => {
                let a = f64_values(values)?;
                let p = a.as_primitive::<Float64Type>();
                let vals = p.values();
                let mut add = |r: usize| {
                    let v = vals[r];
                    if self.skip_nan && v.is_nan() {
                        return;
                    }
                    let g = ids[r] as usize;
                    self.f[g].add(v);
                    self.plain[g] += v;
                    if self.mean {
                        self.n[g] += 1;
                    }
                };
                match p.nulls().filter(|n| n.null_count() > 0) {
                    None => (0..vals.len()).for_each(&mut add),
                    Some(nulls) => nulls.valid_indices().for_each(&mut add),
                }
            }
            (groups, false) => {
                let a = arrow::compute::cast(values, &DataType::Int64)?;
                let p = a.as_primitive::<Int64Type>();
                let vals = p.values();
                match groups {
                    Groups::One => {
                        let s = match p.nulls().filter(|n| n.null_count() > 0) {
                            None => vals.iter().fold(0i64, |acc, v| acc.wrapping_add(*v)),
                            Some(n) => n
                                .valid_indices()
                                .fold(0i64, |acc, k| acc.wrapping_add(vals[k])),
                        };
                        self.i[0] = self.i[0].wrapping_add(s);
                    }
                    Groups::Ids(ids) => {
                        let i = &mut self.i;
                        match p.nulls().filter(|n| n.null_count() > 0) {
                            None => {
                                for (v, g) in vals.iter().zip(ids) {
                                    let g = *g as usize;
                                    i[g] = i[g].wrapping_add(*v);
                                }
                            }
                            Some(n) => {
                                for r in n.valid_indices() {
                                    let g = ids[r] as usize;
                                    i[g] = i[g].wrapping_add(vals[r]);
                                }
                            }
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
            if self.float {
                if new {
                    self.f[t] = o.f[s];
                    self.plain[t] = o.plain[s];
                } else {
                    self.f[t].add(o.f[s].sum);
                    self.f[t].add(o.f[s].comp);
                    self.plain[t] += o.plain[s];
                }
            } else if new {
                self.i[t] = o.i[s];
            } else {
                self.i[t] = self.i[t].wrapping_add(o.i[s]);
            }
            if self.mean {
                self.n[t] = if new { o.n[s] } else { self.n[t] + o.n[s] };
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, n_groups: usize) -> Result<ArrayRef> {
        self.grow(n_groups);
        Ok(if self.mean {
            let v = (0..n_groups).map(|g| finite_or(self.f[g], self.plain[g]) / self.n[g] as f64);
            Arc::new(Float64Array::from_iter_values(v))
        } else if self.float {
            let v = (0..n_groups).map(|g| finite_or(self.f[g], self.plain[g]));
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
        self.add_piece(v, c);
    }
}
