//! Second moments: `var(ddof)`, `std(ddof)` and their NaN-skipping forms, and `corr(a, b)`.
//!
//! A variance keeps (count, mean, M2) per group and merges with Chan's formula. One group
//! folds in a whole piece at a time (its pairwise mean, then the squared deviations from it);
//! grouped, each row is a Welford step. A plain variance with a NaN in its group is NaN; the
//! result for `n - ddof <= 0` is NaN (NumPy's).
//!
//! `corr(a, b)` is Pearson's correlation over the rows where both are valid, from the bivariate
//! (count, means, M2s, co-moment) merged the same way; fewer than two rows or a constant input
//! give NaN, and a NaN in either input makes the group's correlation NaN (as NumPy's
//! `corrcoef`).

use std::any::Any;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::datatypes::Float64Type;

use super::super::stats::{merge_var, pairwise_sum};
use super::{
    downcast, f64_values, for_each_valid, group_of, grow, input, pairs, vec_bytes, Groups,
    GroupsAccumulator,
};
use crate::error::{Error, Result};
use crate::expr::AggFunc;

/// One group's (count, mean, M2), and whether it saw a NaN.
#[derive(Clone, Copy, Debug, Default)]
struct Var {
    n: u64,
    mean: f64,
    m2: f64,
    nan: bool,
}

pub(super) struct VarAcc {
    skip_nan: bool,
    ddof: u8,
    std: bool,
    st: Vec<Var>,
}

impl VarAcc {
    pub(super) fn new(func: &AggFunc) -> Self {
        let ddof = match func {
            AggFunc::Std(d) | AggFunc::Var(d) | AggFunc::NanStd(d) | AggFunc::NanVar(d) => *d,
            _ => 0,
        };
        Self {
            skip_nan: func.skips_nan(),
            ddof,
            std: matches!(func, AggFunc::Std(_) | AggFunc::NanStd(_)),
            st: vec![],
        }
    }
}

impl GroupsAccumulator for VarAcc {
    fn update(&mut self, inputs: &[ArrayRef], groups: Groups, n_groups: usize) -> Result<()> {
        let values = input(inputs, "var")?;
        grow(&mut self.st, n_groups, Var::default());
        let sk = self.skip_nan;
        match groups {
            Groups::One => {
                let mut tmp = Vec::with_capacity(values.len());
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
                let st = &mut self.st[0];
                if !sk {
                    st.nan |= saw_nan;
                }
                if tmp.is_empty() || st.nan {
                    return Ok(());
                }
                let nb = tmp.len() as f64;
                let mb = pairwise_sum(&tmp) / nb;
                let m2b: f64 = tmp.iter().map(|v| (v - mb) * (v - mb)).sum();
                merge_var(
                    &mut st.n,
                    &mut st.mean,
                    &mut st.m2,
                    tmp.len() as u64,
                    mb,
                    m2b,
                );
            }
            Groups::Ids(ids) => {
                let st = &mut self.st;
                for_each_valid(values, |r, v| {
                    let s = &mut st[ids[r] as usize];
                    if v.is_nan() {
                        s.nan |= !sk;
                        return;
                    }
                    // Welford's step.
                    s.n += 1;
                    let d = v - s.mean;
                    s.mean += d / s.n as f64;
                    s.m2 += d * (v - s.mean);
                })?;
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
        grow(&mut self.st, n_groups, Var::default());
        for (s, t, new) in pairs(from, to, old) {
            let (a, b) = (&mut self.st[t], &o.st[s]);
            if new {
                *a = *b;
            } else {
                a.nan |= b.nan;
                merge_var(&mut a.n, &mut a.mean, &mut a.m2, b.n, b.mean, b.m2);
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, n_groups: usize) -> Result<ArrayRef> {
        grow(&mut self.st, n_groups, Var::default());
        let v = self.st[..n_groups].iter().map(|s| {
            let dof = s.n as f64 - self.ddof as f64;
            let v = if s.nan || dof <= 0.0 {
                f64::NAN
            } else {
                s.m2 / dof
            };
            if self.std {
                v.sqrt()
            } else {
                v
            }
        });
        Ok(Arc::new(Float64Array::from_iter_values(v)))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn size(&self) -> usize {
        vec_bytes(&self.st)
    }
}

/// Bivariate moments of one group.
#[derive(Clone, Copy, Debug, Default)]
struct Co {
    n: u64,
    mx: f64,
    my: f64,
    m2x: f64,
    m2y: f64,
    cxy: f64,
    nan: bool,
}

impl Co {
    /// Welford's step for one pair.
    #[inline(always)]
    fn push(&mut self, x: f64, y: f64) {
        if x.is_nan() || y.is_nan() {
            self.nan = true;
            return;
        }
        self.n += 1;
        let n = self.n as f64;
        let dx = x - self.mx;
        let dy = y - self.my;
        self.mx += dx / n;
        self.my += dy / n;
        self.m2x += dx * (x - self.mx);
        self.m2y += dy * (y - self.my);
        self.cxy += dx * (y - self.my);
    }

    /// Chan's merge of the moments of later rows.
    fn merge(&mut self, o: &Co) {
        self.nan |= o.nan;
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            let nan = self.nan;
            *self = *o;
            self.nan = nan;
            return;
        }
        let (na, nb) = (self.n as f64, o.n as f64);
        let n = na + nb;
        let dx = o.mx - self.mx;
        let dy = o.my - self.my;
        self.mx += dx * nb / n;
        self.my += dy * nb / n;
        self.m2x += o.m2x + dx * dx * na * nb / n;
        self.m2y += o.m2y + dy * dy * na * nb / n;
        self.cxy += o.cxy + dx * dy * na * nb / n;
        self.n += o.n;
    }

    fn corr(&self) -> f64 {
        if self.nan || self.n < 2 {
            return f64::NAN;
        }
        self.cxy / (self.m2x * self.m2y).sqrt()
    }
}

#[derive(Default)]
pub(super) struct CorrAcc {
    co: Vec<Co>,
}

impl GroupsAccumulator for CorrAcc {
    fn update(&mut self, inputs: &[ArrayRef], groups: Groups, n_groups: usize) -> Result<()> {
        let [x, y] = inputs else {
            return Err(Error::Internal("corr takes two inputs".into()));
        };
        let (x, y) = (f64_values(x)?, f64_values(y)?);
        let (px, py) = (
            x.as_primitive::<Float64Type>(),
            y.as_primitive::<Float64Type>(),
        );
        grow(&mut self.co, n_groups, Co::default());
        let (xs, ys) = (px.values(), py.values());
        if px.null_count() == 0 && py.null_count() == 0 {
            for r in 0..xs.len() {
                self.co[group_of(groups, r)].push(xs[r], ys[r]);
            }
        } else {
            for r in 0..xs.len() {
                if px.is_valid(r) && py.is_valid(r) {
                    self.co[group_of(groups, r)].push(xs[r], ys[r]);
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
        let old = self.co.len();
        grow(&mut self.co, n_groups, Co::default());
        for (s, t, new) in pairs(from, to, old) {
            if new {
                self.co[t] = o.co[s];
            } else {
                self.co[t].merge(&o.co[s]);
            }
        }
        Ok(())
    }

    fn evaluate(&mut self, n_groups: usize) -> Result<ArrayRef> {
        grow(&mut self.co, n_groups, Co::default());
        let v = self.co[..n_groups].iter().map(Co::corr);
        Ok(Arc::new(Float64Array::from_iter_values(v)))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn size(&self) -> usize {
        vec_bytes(&self.co)
    }
}
