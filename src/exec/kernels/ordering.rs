//! Kernels of the ordering family (`expr::ordering`): `arg_sort`, `sort`, `top_k`,
//! `bottom_k` over a whole column, through the stable sort engine in [`super::sort`] (which
//! `LazyFrame::sort` uses too) and the takes in [`super::gather`].

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;

use super::gather::{input_column, take_u32};
use super::sort::{arg_sort_u32, to_u64_array, top_k_rows};
use super::Kernel;
use crate::error::Result;
use crate::exec::value::Value;
use crate::expr::{FunctionFamily, OrderingFunction};

impl Kernel for OrderingFunction {
    fn invoke(&self, mut args: Vec<Value>, _rows: usize, _out: &DataType) -> Result<Value> {
        let values = input_column(&mut args, self.name())?;
        let out = match self {
            OrderingFunction::ArgSort(o) => {
                let order = arg_sort_u32(std::slice::from_ref(&values), std::slice::from_ref(o))?;
                Arc::new(to_u64_array(&order)) as ArrayRef
            }
            OrderingFunction::Sort(o) => {
                let order = arg_sort_u32(std::slice::from_ref(&values), std::slice::from_ref(o))?;
                take_u32(&values, order)?
            }
            OrderingFunction::TopK(k) => take_u32(&values, top_k_rows(&values, *k, true)?)?,
            OrderingFunction::BottomK(k) => take_u32(&values, top_k_rows(&values, *k, false)?)?,
        };
        Ok(Value::Array(out))
    }
}
