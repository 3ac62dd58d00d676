//! Conversions between `DataFrame` and `ndarray` matrices (NumPy's `reshape` seed question):
//! `to_ndarray` gives rows x columns, `from_ndarray` takes one column per matrix column.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float32Array, Float64Array, Int64Array};
use arrow::datatypes::{DataType, Float32Type, Float64Type, Int64Type};
use ndarray::Array2;

use super::{Column, DataFrame};
use crate::error::{Error, Result};

/// Element types a frame converts to and from: `f64` (any numeric column), `f32` (any
/// numeric column, rounded as NumPy's `astype(float32)`) and `i64` (integer and boolean
/// columns only: a float column is an error rather than a silent truncation).
pub trait NdElement: Copy + Send + Sync + 'static {
    /// Convert one column to values of this type; nulls are an error naming the column.
    fn column_values(name: &str, a: &ArrayRef) -> Result<Vec<Self>>;
    /// One column of these values as an Arrow array (Float64, Float32 or Int64).
    fn to_array(values: Vec<Self>) -> ArrayRef;
}

/// Cast a column to `to` and check it has no nulls.
fn cast_column(name: &str, a: &ArrayRef, to: &DataType) -> Result<ArrayRef> {
    if !(a.data_type().is_numeric() || *a.data_type() == DataType::Boolean) {
        return Err(Error::Type(format!(
            "column \"{name}\" is {}, which has no {to} form",
            a.data_type()
        )));
    }
    if a.null_count() > 0 {
        return Err(Error::Compute(format!(
            "column \"{name}\" has {} null values; fill or drop them before converting to a matrix",
            a.null_count()
        )));
    }
    arrow::compute::cast(a, to).map_err(|e| {
        Error::Type(format!(
            "column \"{name}\" ({}) cannot be converted to {to}: {e}",
            a.data_type()
        ))
    })
}

impl NdElement for f64 {
    fn column_values(name: &str, a: &ArrayRef) -> Result<Vec<f64>> {
        let c = cast_column(name, a, &DataType::Float64)?;
        Ok(c.as_primitive::<Float64Type>().values().to_vec())
    }
    fn to_array(values: Vec<f64>) -> ArrayRef {
        Arc::new(Float64Array::from(values))
    }
}

impl NdElement for f32 {
    fn column_values(name: &str, a: &ArrayRef) -> Result<Vec<f32>> {
        let c = cast_column(name, a, &DataType::Float32)?;
        Ok(c.as_primitive::<Float32Type>().values().to_vec())
    }
    fn to_array(values: Vec<f32>) -> ArrayRef {
        Arc::new(Float32Array::from(values))
    }
}

impl NdElement for i64 {
    fn column_values(name: &str, a: &ArrayRef) -> Result<Vec<i64>> {
        if a.data_type().is_floating() {
            return Err(Error::Type(format!(
                "column \"{name}\" is {}; cast it to an integer type first (`.cast(DataType::Int64)` truncates)",
                a.data_type()
            )));
        }
        let c = cast_column(name, a, &DataType::Int64)?;
        Ok(c.as_primitive::<Int64Type>().values().to_vec())
    }
    fn to_array(values: Vec<i64>) -> ArrayRef {
        Arc::new(Int64Array::from(values))
    }
}

impl DataFrame {
    /// The frame as a `rows x columns` matrix (every column must be numeric and null-free):
    /// NumPy's `df.to_numpy()`. NaN and infinities carry over; the matrix is row-major (C
    /// order) and always a copy, since Arrow stores columns.
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
        // Fill row by row (contiguous writes) from the column vectors.
        let mut flat = Vec::with_capacity(h * w);
        for r in 0..h {
            flat.extend(cols.iter().map(|c| c[r]));
        }
        Array2::from_shape_vec((h, w), flat)
            .map_err(|e| Error::Internal(format!("matrix shape: {e}")))
    }

    /// A frame from a `rows x columns` matrix (`f64`, `f32` or `i64`) and one name per
    /// column: NumPy's `pd.DataFrame(m, columns=names)`. Each column is copied out of the
    /// matrix (whatever its memory order).
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let m = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
    /// let df = DataFrame::from_ndarray(&m, &["a", "b"])?;
    /// assert_eq!(df.column_f64("b")?, vec![Some(2.0), Some(4.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn from_ndarray<T: NdElement>(matrix: &Array2<T>, names: &[&str]) -> Result<DataFrame> {
        if names.len() != matrix.ncols() {
            return Err(Error::Schema(format!(
                "{} names for a matrix with {} columns",
                names.len(),
                matrix.ncols()
            )));
        }
        if names.is_empty() {
            return Ok(DataFrame::with_height(matrix.nrows()));
        }
        let cols = names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let a = T::to_array(matrix.column(i).iter().copied().collect());
                Column::new(*n, a)
            })
            .collect();
        DataFrame::new(cols)
    }
}
