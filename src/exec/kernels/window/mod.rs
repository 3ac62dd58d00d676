//! Kernels of the window family (`expr::window`): rolling statistics in [`rolling`], with the
//! order-statistic window states of `rolling_median` in `rolling_order` and the fast way to
//! slide any state over a fixed window in `fixed`.
//!
//! Window kernels get the whole column and parallelize over fixed chunks that re-read the rows
//! before them, so results never depend on the thread count. Windows by time are in
//! `rolling_by` (the same window states over ranges found by time); `shift`, `diff`, the
//! cumulative functions and `rank` in `rows`.

mod fixed;
pub mod rolling;
mod rolling_by;
mod rolling_order;
mod rows;

use arrow::datatypes::DataType;

use super::{broadcast, first_of, Kernel};
use crate::error::{Error, Result};
use crate::exec::value::Value;
use crate::expr::{FunctionFamily, WindowFunction};

impl Kernel for WindowFunction {
    fn invoke(&self, args: Vec<Value>, _rows: usize, out: &DataType) -> Result<Value> {
        let name = self.name();
        broadcast(name, self.kind(), args, |a| {
            let x = first_of(a, name)?;
            match self {
                WindowFunction::Rolling { kind, options } => {
                    rolling::rolling(x, *kind, options, out)
                }
                WindowFunction::RollingBy {
                    kind,
                    window,
                    min_periods,
                } => {
                    let by = a.get(1).ok_or_else(|| {
                        Error::Internal(format!("{name} without its `by` column"))
                    })?;
                    rolling_by::rolling_by(x, by, *kind, window, *min_periods, name, out)
                }
                WindowFunction::Shift(n) => rows::shift(x, *n),
                WindowFunction::Diff(n) => rows::diff(x, *n, out),
                WindowFunction::CumSum => rows::cum_sum_prod(x, false, out),
                WindowFunction::CumProd => rows::cum_sum_prod(x, true, out),
                WindowFunction::CumMin => rows::cum_extreme(x, false),
                WindowFunction::CumMax => rows::cum_extreme(x, true),
                WindowFunction::CumCount => Ok(rows::cum_count(x)),
                WindowFunction::Rank(o) => rows::rank(x, o),
            }
        })
    }
}
