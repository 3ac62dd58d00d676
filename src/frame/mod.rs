//! `DataFrame`: an Arrow schema plus one contiguous Arrow array per column.
//!
//! This is the eager, in-memory end of fusedframe: what sources hand to the executor, what
//! `collect()` returns, and what a user builds with [`df!`](crate::df) or [`DataFrame::new`].
//! Columns are `ArrayRef`s (no second array type); slicing a frame is zero-copy.

mod column;
mod concat;
pub mod display;
mod ndarray_conv;
#[cfg(feature = "polars")]
mod polars_conv;

pub use column::{Column, IntoArray};
pub(crate) use concat::concat as concat_arrays;
pub(crate) use concat::{
    fixed_width, gather_strings, gather_values, join_nulls, write_values, ColumnBuffer, NO_ROW,
};
pub use ndarray_conv::NdElement;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arrow::array::{Array, ArrayRef, RecordBatch, RecordBatchOptions};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::{Error, Result};

/// An in-memory table: a schema and equally long Arrow columns.
#[derive(Clone, Debug)]
pub struct DataFrame {
    schema: SchemaRef,
    columns: Vec<ArrayRef>,
    height: usize,
    /// Column positions by name, built on the first lookup in a wide frame and shared by its
    /// clones and slices (same schema). Arrow's `index_of` scans the fields, so evaluating
    /// every column of a 10,000-column morsel by name would otherwise be quadratic.
    names: Arc<OnceLock<HashMap<String, usize>>>,
}

/// Frames at most this wide find columns by scanning their fields (faster than hashing).
const SCAN_WIDTH: usize = 32;

impl DataFrame {
    /// Build a frame from named columns; all must have the same length and distinct names.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = DataFrame::new(vec![Column::new("a", [1, 2, 3]), Column::new("b", [0.5, 1.5, 2.5])])?;
    /// assert_eq!(df.shape(), (3, 2));
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn new(columns: Vec<Column>) -> Result<Self> {
        let fields: Vec<Field> = columns
            .iter()
            .map(|c| Field::new(c.name(), c.array().data_type().clone(), true))
            .collect();
        let arrays = columns.into_iter().map(Column::into_array).collect();
        Self::from_arrays(Arc::new(Schema::new(fields)), arrays)
    }

    /// Build a frame from a schema and matching arrays.
    pub fn from_arrays(schema: SchemaRef, columns: Vec<ArrayRef>) -> Result<Self> {
        if schema.fields().len() != columns.len() {
            return Err(Error::Schema(format!(
                "{} fields but {} columns",
                schema.fields().len(),
                columns.len()
            )));
        }
        let height = columns.first().map_or(0, |c| c.len());
        for (f, c) in schema.fields().iter().zip(&columns) {
            if c.len() != height {
                return Err(Error::Schema(format!(
                    "column \"{}\" has {} rows but \"{}\" has {height}",
                    f.name(),
                    c.len(),
                    schema.field(0).name()
                )));
            }
            if f.data_type() != c.data_type() {
                return Err(Error::Internal(format!(
                    "column \"{}\" is {} but its field says {}",
                    f.name(),
                    c.data_type(),
                    f.data_type()
                )));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for f in schema.fields() {
            if !seen.insert(f.name().as_str()) {
                return Err(Error::Schema(format!(
                    "duplicate column name \"{}\"",
                    f.name()
                )));
            }
        }
        Ok(Self {
            schema,
            columns,
            height,
            names: Arc::default(),
        })
    }

    /// A frame with the given schema and no rows.
    pub fn empty(schema: SchemaRef) -> Self {
        let columns = schema
            .fields()
            .iter()
            .map(|f| arrow::array::new_empty_array(f.data_type()))
            .collect();
        Self {
            schema,
            columns,
            height: 0,
            names: Arc::default(),
        }
    }

    /// A frame with the given row count and no columns (what `select([])` gives).
    pub(crate) fn with_height(height: usize) -> Self {
        Self {
            schema: Arc::new(Schema::empty()),
            columns: vec![],
            height,
            names: Arc::default(),
        }
    }

    /// `(rows, columns)`, like NumPy's `.shape`.
    pub fn shape(&self) -> (usize, usize) {
        (self.height, self.columns.len())
    }

    /// Number of rows.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Number of cells (`rows * columns`), like NumPy's `.size`.
    pub fn size(&self) -> usize {
        self.height * self.columns.len()
    }

    /// The Arrow schema.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Column names in order.
    pub fn column_names(&self) -> Vec<&str> {
        self.schema
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect()
    }

    /// All columns as Arrow arrays.
    pub fn columns(&self) -> &[ArrayRef] {
        &self.columns
    }

    /// The column with this name, or a [`Error::ColumnNotFound`] suggesting the closest name.
    pub fn column(&self, name: &str) -> Result<&ArrayRef> {
        let i = self.index_of(name)?;
        Ok(&self.columns[i])
    }

    /// Position of a column by name.
    pub fn index_of(&self, name: &str) -> Result<usize> {
        let found = if self.columns.len() <= SCAN_WIDTH {
            self.schema.index_of(name).ok()
        } else {
            let names = self.names.get_or_init(|| {
                let fields = self.schema.fields();
                let mut m = HashMap::with_capacity(fields.len());
                for (i, f) in fields.iter().enumerate() {
                    m.entry(f.name().clone()).or_insert(i);
                }
                m
            });
            names.get(name).copied()
        };
        found.ok_or_else(|| Error::column_not_found(name, self.column_names()))
    }

    /// A column as `Vec<Option<f64>>` (numeric columns only), handy in tests and notebooks.
    pub fn column_f64(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let a = self.column(name)?;
        let a = arrow::compute::cast(a, &DataType::Float64).map_err(|_| {
            Error::Type(format!(
                "column \"{name}\" is {}, not numeric",
                a.data_type()
            ))
        })?;
        let a = a
            .as_any()
            .downcast_ref::<arrow::array::Float64Array>()
            .ok_or_else(|| Error::Internal("cast to Float64 gave another type".into()))?;
        Ok(a.iter().collect())
    }

    /// Zero-copy slice of `len` rows starting at `offset` (clamped to the frame).
    pub fn slice(&self, offset: usize, len: usize) -> Self {
        let offset = offset.min(self.height);
        let len = len.min(self.height - offset);
        Self {
            schema: self.schema.clone(),
            columns: self.columns.iter().map(|c| c.slice(offset, len)).collect(),
            height: len,
            names: self.names.clone(),
        }
    }

    /// The first `n` rows.
    pub fn head(&self, n: usize) -> Self {
        self.slice(0, n)
    }

    /// The last `n` rows.
    pub fn tail(&self, n: usize) -> Self {
        let n = n.min(self.height);
        self.slice(self.height - n, n)
    }

    /// Convert to an Arrow `RecordBatch` (zero-copy).
    pub fn to_record_batch(&self) -> Result<RecordBatch> {
        let opts = RecordBatchOptions::new().with_row_count(Some(self.height));
        Ok(RecordBatch::try_new_with_options(
            self.schema.clone(),
            self.columns.clone(),
            &opts,
        )?)
    }

    /// Build from an Arrow `RecordBatch` (zero-copy).
    pub fn from_record_batch(batch: &RecordBatch) -> Self {
        Self {
            schema: batch.schema(),
            columns: batch.columns().to_vec(),
            height: batch.num_rows(),
            names: Arc::default(),
        }
    }

    /// Concatenate frames with the same schema, top to bottom.
    pub fn vstack(schema: SchemaRef, frames: &[DataFrame]) -> Result<Self> {
        if frames.len() == 1 {
            return Ok(frames[0].clone());
        }
        let height = frames.iter().map(|f| f.height).sum();
        let mut columns = Vec::with_capacity(schema.fields().len());
        for i in 0..schema.fields().len() {
            let parts: Vec<&dyn Array> = frames.iter().map(|f| f.columns[i].as_ref()).collect();
            if parts.is_empty() {
                columns.push(arrow::array::new_empty_array(schema.field(i).data_type()));
            } else {
                columns.push(concat::concat(&parts)?);
            }
        }
        Ok(Self {
            schema,
            columns,
            height,
            names: Arc::default(),
        })
    }

    /// Frames equal in schema and values (NaN equals NaN, as in a test comparison).
    pub fn equals(&self, other: &DataFrame) -> bool {
        self.schema == other.schema
            && self.height == other.height
            && self
                .columns
                .iter()
                .zip(&other.columns)
                .all(|(a, b)| a.to_data() == b.to_data())
    }
}

impl PartialEq for DataFrame {
    fn eq(&self, other: &Self) -> bool {
        self.equals(other)
    }
}

/// Build a [`DataFrame`] from `name => values` pairs; returns `Result<DataFrame>`.
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("a" => [1, 2, 3], "b" => [1.0, f64::NAN, 3.0], "s" => ["x", "y", "z"])?;
/// assert_eq!(df.shape(), (3, 3));
/// # Ok::<(), fusedframe::Error>(())
/// ```
#[macro_export]
macro_rules! df {
    ($($name:expr => $values:expr),* $(,)?) => {
        $crate::frame::DataFrame::new(vec![$($crate::frame::Column::new($name, $values)),*])
    };
}
