//! Compute kernels over Arrow arrays: arithmetic, comparison, aggregates, sorting, and the
//! kernels of every function family. Each takes `Value`s (arrays or broadcast scalars) and
//! returns one.
//!
//! Function families: each family of `expr` (`expr::fill`, `expr::window`, ...) has its kernel
//! module here under the same name, implementing `Kernel` for the family's enum; [`apply`]
//! dispatches a `Function` to it through `expr`'s exhaustive `match_family!`, so a new family
//! does not compile until its kernel exists. The algorithms themselves are plain functions on
//! Arrow arrays, some shared between families and with the executor's operators:
//! `sort`/`argsort` (every sort), `gather` (index checks and takes), `stats` and `scale`
//! (NaN-skipping statistics, also used by the aggregates in `agg`), `chunked` (fixed parallel
//! chunks, Float64 buffers).

pub mod agg;
pub mod argsort;
pub mod arith;
pub(crate) mod cast;
pub(crate) mod chunked;
pub mod cmp;
pub mod describe;
pub mod fill;
pub mod gather;
pub mod horizontal;
pub(crate) mod indexing;
pub(crate) mod math;
pub(crate) mod ordering;
pub(crate) mod predicate;
pub mod random;
pub mod scale;
pub mod sort;
pub mod stats;
pub(crate) mod string;
pub(crate) mod temporal;
pub(crate) mod udf;
pub mod window;

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::DataType;

use crate::error::{Error, Result};
use crate::exec::value::{array_to_scalar, Value};
use crate::expr::{match_family, Function, FunctionKind};

/// The executor's half of a function family (the planner's half is `expr`'s
/// `FunctionFamily`): compute a call from its evaluated arguments.
pub(crate) trait Kernel {
    /// `args` are the evaluated arguments in order (arrays, or scalars that broadcast),
    /// `rows` the height of the frame they were evaluated over (what input-less functions
    /// such as `row_index()` fill), `out` the output type the planner resolved.
    fn invoke(&self, args: Vec<Value>, rows: usize, out: &DataType) -> Result<Value>;
}

/// Apply `func` to its evaluated arguments over a frame of `rows` rows; `out` is the resolved
/// output type.
pub fn apply(func: &Function, args: Vec<Value>, rows: usize, out: &DataType) -> Result<Value> {
    let kernel: &dyn Kernel = match_family!(func, f => f);
    kernel.invoke(args, rows, out)
}

/// Run an elementwise kernel `f`, which takes its first argument as an array and the others
/// as they come (a scalar exponent or fill value stays a scalar). When every argument is a
/// scalar it runs on one-row arrays and the result is turned back into a scalar, so kernels
/// only handle arrays.
pub(crate) fn scalar_in_scalar_out(
    args: Vec<Value>,
    f: impl FnOnce(Vec<Value>) -> Result<ArrayRef>,
) -> Result<Value> {
    if args.iter().all(|a| matches!(a, Value::Scalar(_))) {
        let arrays = args
            .into_iter()
            .map(|a| a.into_array(1).map(Value::Array))
            .collect::<Result<Vec<_>>>()?;
        let res = f(arrays)?;
        return Ok(Value::Scalar(array_to_scalar(res.as_ref(), 0)?));
    }
    f(args).map(Value::Array)
}

/// Take the first argument of `name` as an array (a scalar first input with array arguments
/// is not supported: `scalar_in_scalar_out` handles the all-scalar case).
pub(crate) fn first_array(args: &mut Vec<Value>, name: &str) -> Result<ArrayRef> {
    if args.is_empty() {
        return Err(Error::Internal(format!("{name} without input")));
    }
    match args.remove(0) {
        Value::Array(a) => Ok(a),
        Value::Scalar(_) => Err(Error::Internal(format!(
            "{name}: a scalar input with array arguments is not supported"
        ))),
    }
}

/// Run a kernel `f` over the arguments as arrays of one length: scalars broadcast to the
/// length of the array arguments, and a call on scalars only runs on one row and gives a
/// scalar back. An elementwise function must keep the length.
pub(crate) fn broadcast(
    name: &str,
    kind: FunctionKind,
    args: Vec<Value>,
    f: impl FnOnce(&[ArrayRef]) -> Result<ArrayRef>,
) -> Result<Value> {
    let all_scalar = args.iter().all(|a| matches!(a, Value::Scalar(_)));
    let len = args
        .iter()
        .find_map(|a| match a {
            Value::Array(a) => Some(a.len()),
            Value::Scalar(_) => None,
        })
        .unwrap_or(1);
    let arrays = args
        .into_iter()
        .map(|a| a.into_array(len))
        .collect::<Result<Vec<_>>>()?;
    let res = f(&arrays)?;
    if res.len() != len && kind == FunctionKind::Elementwise {
        return Err(Error::Internal(format!(
            "{name} gave {} rows for {len}",
            res.len()
        )));
    }
    if all_scalar && res.len() == 1 {
        return Ok(Value::Scalar(array_to_scalar(res.as_ref(), 0)?));
    }
    Ok(Value::Array(res))
}

/// The first of `args`, the input of `name`.
pub(crate) fn first_of<'a>(args: &'a [ArrayRef], name: &str) -> Result<&'a ArrayRef> {
    args.first()
        .ok_or_else(|| Error::Internal(format!("{name} without input")))
}
