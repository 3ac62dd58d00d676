//! Kernels of the describe family (`expr::describe`): the nine statistics of one column's
//! valid (non-null, non-NaN) values, in the order of `expr::STATISTICS`, and `stack`, the
//! scalars that label them as one column.
//!
//! Like pandas, `count` is the number of values the statistics use (NaN is treated as
//! missing), `std` has ddof 1 and the quartiles interpolate linearly (NumPy's default);
//! `null_count` is Polars'. A statistic without enough values (none; one for `std`) is null,
//! as in Polars.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array};
use arrow::datatypes::DataType;

use super::chunked::{par_chunks_nan_masked, to_f64};
use super::scale::moments;
use super::stats::quantile;
use super::{broadcast, first_of, Kernel};
use crate::error::Result;
use crate::exec::value::{scalar_to_array, Value};
use crate::expr::{DescribeFunction, FunctionFamily};

impl Kernel for DescribeFunction {
    fn invoke(&self, args: Vec<Value>, _rows: usize, out: &DataType) -> Result<Value> {
        match self {
            DescribeFunction::Stats => broadcast(self.name(), self.kind(), args, |a| {
                describe_stats(first_of(a, self.name())?)
            }),
            DescribeFunction::Stack => stack(args, out),
        }
    }
}

/// `stack([a, b, ..])`: scalar inputs as the rows of one column.
fn stack(args: Vec<Value>, out: &DataType) -> Result<Value> {
    let parts = args
        .into_iter()
        .map(|a| match a {
            Value::Scalar(s) => scalar_to_array(&s, out, 1),
            Value::Array(a) => Ok(crate::exec::kernels::cast::cast(&a, out)?),
        })
        .collect::<Result<Vec<_>>>()?;
    let refs: Vec<&dyn Array> = parts.iter().map(|a| a.as_ref()).collect();
    Ok(Value::Array(arrow::compute::concat(&refs)?))
}

/// The nine statistics of one column as a nine-row Float64 array.
pub fn describe_stats(a: &ArrayRef) -> Result<ArrayRef> {
    let f = to_f64(a)?;
    let nulls = f.null_count() as f64;
    let parts = par_chunks_nan_masked(&f, |c| {
        c.iter()
            .copied()
            .filter(|x| !x.is_nan())
            .collect::<Vec<f64>>()
    });
    let mut vals: Vec<f64> = parts.concat();
    let n = vals.len();
    let out: Vec<Option<f64>> = if n == 0 {
        let mut v = vec![None; 9];
        v[0] = Some(0.0);
        v[1] = Some(nulls);
        v
    } else {
        let m = moments(a)?;
        let std = (n > 1).then(|| m.var(1).sqrt());
        let q25 = quantile(&mut vals, 0.25);
        let q50 = quantile(&mut vals, 0.5);
        let q75 = quantile(&mut vals, 0.75);
        vec![
            Some(n as f64),
            Some(nulls),
            Some(m.mean),
            std,
            Some(m.min),
            Some(q25),
            Some(q50),
            Some(q75),
            Some(m.max),
        ]
    };
    Ok(Arc::new(Float64Array::from(out)))
}
