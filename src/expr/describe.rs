//! The functions behind `LazyFrame::describe()`: the nine statistics of one column
//! ([`STATISTICS`], in that order) and `stack`, which turns scalars into the rows of one
//! column (the `statistic` labels).
//!
//! They have no builder methods: `describe()` writes them into a `select`. Both need the whole
//! column and give nine rows, not the input's length. Kernel: `exec::kernels::describe`.

use arrow::datatypes::{DataType, Schema};

use super::dtype_name;
use super::function::{expr_list, required_input, FunctionFamily, FunctionKind};
use super::types::{numeric_input, supertype};
use super::Expr;
use crate::error::{Error, Result};

/// The `statistic` column of `describe()`: the rows its statistics come in.
pub const STATISTICS: [&str; 9] = [
    "count",
    "null_count",
    "mean",
    "std",
    "min",
    "25%",
    "50%",
    "75%",
    "max",
];

/// The describe functions (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub enum DescribeFunction {
    /// `describe()`'s nine statistics of one column (nine rows, not the input's length).
    Stats,
    /// The values of scalar args stacked into one column, one row each (`describe()`'s labels).
    Stack,
}

impl FunctionFamily for DescribeFunction {
    fn name(&self) -> &'static str {
        match self {
            DescribeFunction::Stats => "describe_stats",
            DescribeFunction::Stack => "stack",
        }
    }

    fn kind(&self) -> FunctionKind {
        FunctionKind::WholeColumn
    }

    fn return_type(&self, e: &Expr, args: &[Expr], schema: &Schema) -> Result<DataType> {
        let name = self.name();
        let first = required_input(e, name, args)?;
        match self {
            DescribeFunction::Stats => {
                numeric_input(e, name, first, schema)?;
                Ok(DataType::Float64)
            }
            DescribeFunction::Stack => {
                let mut acc = DataType::Null;
                for a in args {
                    if !a.is_scalar() {
                        return Err(Error::Plan(format!(
                            "stack() takes scalars (literals or aggregates), got {a} in {e}"
                        )));
                    }
                    let t = a.data_type(schema)?;
                    acc = supertype(&acc, &t).ok_or_else(|| {
                        Error::Type(format!(
                            "stack() inputs of types {} and {} do not mix in {e}",
                            dtype_name(&acc),
                            dtype_name(&t)
                        ))
                    })?;
                }
                Ok(acc)
            }
        }
    }

    fn call_text(&self, args: &[Expr]) -> String {
        match self {
            DescribeFunction::Stats => format!("{}.describe_stats()", args[0]),
            DescribeFunction::Stack => format!("stack([{}])", expr_list(args)),
        }
    }
}
