//! Conversions between `DataFrame` and `ndarray` matrices (NumPy's `reshape` seed question):
//! `to_ndarray` gives rows x columns, `from_ndarray` takes one column per matrix column.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Float64Array};
use arrow::datatypes::DataType;
use ndarray::Array2;

use super::{Column, DataFrame};
use crate::error::{Error, Result};

/// Element types a frame can be exported to.
pub trait NdElement: Copy + Send + Sync + 'static {
    /// Convert one column to values of this type; nulls are an error naming the column.
    fn column_values(name: &str, a: &ArrayRef) -> Result<Vec<Self>>;
}

impl NdElement for f64 {
    fn column_values(name: &str, a: &ArrayRef) -> Result<Vec<f64>> {
        let c = arrow::compute::cast(a, &DataType::Float64).map_err(|_| {
            Error::Type(format!(
                "column \"{name}\" is {}, which has no f64 form",
                a.data_type()
            ))
        })?;
        let c = c
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or_else(|| Error::Internal("cast gave a non-Float64 array".into()))?;
        if c.null_count() > 0 {
            return Err(Error::Compute(format!(
                "column \"{name}\" has {} null values; fill or drop them before converting to a matrix",
                c.null_count()
            )));
        }
        Ok(c.values().to_vec())
    }
}

impl DataFrame {
    /// The frame as a `rows x columns` matrix (every column must be numeric and null-free).
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("a" => [1.0, 2.0], "b" => [3, 4])?;
    /// let m = df.to_ndarray::<f64>()?;
    /// assert_eq!(m[[1, 1]], 4.0);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn to_ndarray<T: NdElement>(&self) -> Result<Array2<T>> {
        let cols: Vec<Vec<T>> = self
            .schema()
            .fields()
            .iter()
            .zip(self.columns())
            .map(|(f, a)| T::column_values(f.name(), a))
            .collect::<Result<_>>()?;
        let (h, w) = self.shape();
        Ok(Array2::from_shape_fn((h, w), |(r, c)| cols[c][r]))
    }

    /// A frame from a `rows x columns` matrix and one name per column.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let m = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
    /// let df = DataFrame::from_ndarray(&m, &["a", "b"])?;
    /// assert_eq!(df.column_f64("b")?, vec![Some(2.0), Some(4.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn from_ndarray(matrix: &Array2<f64>, names: &[&str]) -> Result<DataFrame> {
        if names.len() != matrix.ncols() {
            return Err(Error::Schema(format!(
                "{} names for a matrix with {} columns",
                names.len(),
                matrix.ncols()
            )));
        }
        let cols = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let a: ArrayRef = Arc::new(Float64Array::from_iter_values(
                    matrix.column(i).iter().copied(),
                ));
                Column::new(*n, a)
            })
            .collect();
        DataFrame::new(cols)
    }
}
