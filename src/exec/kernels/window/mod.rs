//! Kernels of the window family (`expr::window`): rolling statistics in [`rolling`], with the
//! order-statistic window states of `rolling_median` in `rolling_order`.
//!
//! Window kernels get the whole column and parallelize over fixed chunks that re-read the rows
//! before them, so results never depend on the thread count. Window functions of other shapes
//! (`shift`, `diff`, cumulative sums, windows by time) get a file here beside `rolling`.

pub mod rolling;
mod rolling_order;

use arrow::datatypes::DataType;

use super::{broadcast, first_of, Kernel};
use crate::error::Result;
use crate::exec::value::Value;
use crate::expr::{FunctionFamily, WindowFunction};

impl Kernel for WindowFunction {
    fn invoke(&self, args: Vec<Value>, _rows: usize, out: &DataType) -> Result<Value> {
        let name = self.name();
        broadcast(name, self.kind(), args, |a| match self {
            WindowFunction::Rolling { kind, options } => {
                rolling::rolling(first_of(a, name)?, *kind, options, out)
            }
        })
    }
}
