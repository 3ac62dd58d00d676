//! Kernels of the closure family (`expr::udf`): `map_rows` calls a Rust closure on each row
//! of its inputs (per morsel), `map_columns` on the whole column.
//!
//! Both hand the closure Float64 values (integers converted) and give Float64. A row with a
//! null input is null without calling the closure; NaN is passed through.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array};
use arrow::buffer::NullBuffer;
use arrow::datatypes::DataType;

use super::chunked::{f64_out, to_f64, zeroed_f64};
use super::{broadcast, first_of, Kernel};
use crate::error::{Error, Result};
use crate::exec::value::Value;
use crate::expr::{ColumnUdf, FunctionFamily, RowUdf, UdfFunction};

impl Kernel for UdfFunction {
    fn invoke(&self, args: Vec<Value>, _rows: usize, _out: &DataType) -> Result<Value> {
        broadcast(self.name(), self.kind(), args, |a| match self {
            UdfFunction::MapRows(udf) => map_rows(udf, a),
            UdfFunction::MapColumns(udf) => map_columns(udf, first_of(a, self.name())?),
        })
    }
}

/// Call the closure on every row whose inputs are all non-null; other rows are null.
pub fn map_rows(udf: &RowUdf, args: &[ArrayRef]) -> Result<ArrayRef> {
    let n = args.first().map_or(0, |a| a.len());
    let cols = args
        .iter()
        .map(to_f64)
        .collect::<Result<Vec<Float64Array>>>()?;
    let mut row = vec![0.0f64; cols.len()];
    let mut out = zeroed_f64(n);
    let mut ok = vec![true; n];
    for i in 0..n {
        if cols.iter().any(|c| c.is_null(i)) {
            ok[i] = false;
            continue;
        }
        for (r, c) in row.iter_mut().zip(&cols) {
            *r = c.values()[i];
        }
        out[i] = udf.call(&row);
    }
    f64_out(out, Some(NullBuffer::from(ok)), &DataType::Float64)
}

/// Call the closure on the whole column; it must keep the length.
pub fn map_columns(udf: &ColumnUdf, a: &ArrayRef) -> Result<ArrayRef> {
    let a = to_f64(a)?;
    let r = udf.call(&a)?;
    if r.len() != a.len() {
        return Err(Error::Compute(format!(
            "map_columns closure {} returned {} rows for a column of {}",
            udf.name(),
            r.len(),
            a.len()
        )));
    }
    Ok(Arc::new(r))
}
