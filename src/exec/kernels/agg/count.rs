//! Counts: `count` (valid values), `null_count` and `len` (rows, nulls included), one `u64`
//! per group.

use std::any::Any;

use arrow::array::{Array, ArrayRef};

use super::summary::{FloatSummary, Needs};
use super::{counts_array, downcast, grow, input, pairs, vec_bytes, Groups, GroupsAccumulator};
use crate::error::Result;
use crate::expr::AggFunc;

#[derive(Clone, Copy, PartialEq)]
enum What {
    Valid,
    Nulls,
    Rows,
}

pub(super) struct CountAcc {
    what: What,
    n: Vec<u64>,
}

impl CountAcc {
    pub(super) fn new(func: &AggFunc) -> Self {
        Self {
            what: match func {
                AggFunc::NullCount => What::Nulls,
                AggFunc::Len => What::Rows,
                _ => What::Valid,
            },
            n: vec![],
        }
    }
}

impl GroupsAccumulator for CountAcc {
    fn update(&mut self, inputs: &[ArrayRef], groups: Groups, n_groups: usize) -> Result<()> {
        let values = input(inputs, "count")?;
        grow(&mut self.n, n_groups, 0);
        let n = &mut self.n;
        match groups {
            Groups::One => {
                // Logical nulls: a column of the Null type is all nulls.
                let nulls = values.logical_null_count();
                n[0] += match self.what {
                    What::Valid => values.len() - nulls,
                    What::Nulls => nulls,
                    What::Rows => values.len(),
                } as u64
            }
            Groups::Ids(ids) => {
                let nulls = values.logical_nulls().filter(|n| n.null_count() > 0);
                match (self.what, nulls) {
                    (What::Nulls, None) => {}
                    (What::Rows, _) | (What::Valid, None) => {
                        for g in ids {
                            n[*g as usize] += 1;
                        }
                    }
                    (What::Valid, Some(nulls)) => {
                        for (g, ok) in ids.iter().zip(nulls.iter()) {
                            n[*g as usize] += u64::from(ok);
                        }
                    }
                    (What::Nulls, Some(nulls)) => {
                        for (g, ok) in ids.iter().zip(nulls.iter()) {
                            n[*g as usize] += u64::from(!ok);
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
        let old = self.n.len();
        grow(&mut self.n, n_groups, 0);
        for (s, t, new) in pairs(from, to, old) {
            self.n[t] = if new { o.n[s] } else { self.n[t] + o.n[s] };
        }
        Ok(())
    }

    fn evaluate(&mut self, n_groups: usize) -> Result<ArrayRef> {
        Ok(counts_array(&mut self.n, n_groups))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn size(&self) -> usize {
        vec_bytes(&self.n)
    }

    fn float_needs(&self) -> Option<Needs> {
        Some(Needs::rows())
    }

    fn absorb(&mut self, s: &FloatSummary) {
        grow(&mut self.n, 1, 0);
        // Summaries are of null-free pieces.
        if self.what != What::Nulls {
            self.n[0] += s.rows as u64;
        }
    }
}
