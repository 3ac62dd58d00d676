//! Aggregates, as partial states merged in morsel order (deterministic for any thread count).

use arrow::array::ArrayRef;
use arrow::datatypes::DataType;

use crate::error::{Error, Result};
use crate::expr::{AggFunc, Scalar};

/// A partial aggregate over the rows seen so far.
#[derive(Clone, Debug)]
pub struct AggState {
    func: AggFunc,
}

impl AggState {
    /// An empty state for `func` over values of type `dtype`.
    pub fn new(func: &AggFunc, _dtype: &DataType) -> Self {
        Self { func: func.clone() }
    }
    /// Add a morsel's values.
    pub fn update(&mut self, _values: &ArrayRef) -> Result<()> {
        Err(Error::Internal(format!("agg {}", self.func.name())))
    }
    /// Fold in the state of the rows that come after this one's.
    pub fn merge(&mut self, _later: AggState) -> Result<()> {
        Ok(())
    }
    /// The result.
    pub fn finish(self) -> Result<Scalar> {
        Err(Error::Internal("agg".into()))
    }
}

/// Aggregate a whole column (chunked in parallel, merged in order).
pub fn aggregate(func: &AggFunc, values: &ArrayRef) -> Result<Scalar> {
    let mut s = AggState::new(func, values.data_type());
    s.update(values)?;
    s.finish()
}
