//! Conversions between `DataFrame` and a polars `DataFrame` (feature `polars`) through the
//! Arrow C data interface: each column is exported by one Arrow implementation as the C
//! structs `ArrowSchema` and `ArrowArray` and imported by the other, which takes over the
//! buffers and calls the exporter's release callback when it is done with them.
//!
//! What is shared and what is copied:
//! - Numbers, booleans, dates and timestamps are shared (zero-copy) both ways, as long as the
//!   polars column is one chunk; a column of several chunks is concatenated (copied) into one
//!   Arrow array.
//! - Strings: polars stores them as `Utf8View`. `from_polars` shares the view buffers and then
//!   converts them to `Utf8` (a copy), the string type the rest of fusedframe works with;
//!   `to_polars` hands `Utf8` over and polars builds its views (a copy on its side).
//! - Integer types polars is built here without (Int8, Int16, UInt8, UInt16) are widened to
//!   Int32 / UInt32 before export (a copy).
//! - Types polars cannot hold (time zones on timestamps need its `timezones` feature, nested
//!   types) are an error naming the column.

use std::sync::Arc;

use arrow::array::{make_array, Array, ArrayRef};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use polars_core::prelude::{CompatLevel, PlSmallStr};

use super::DataFrame;
use crate::error::{Error, Result};

fn polars_err(column: &str, e: impl std::fmt::Display) -> Error {
    Error::Compute(format!("polars conversion of column \"{column}\": {e}"))
}

/// Move a polars-exported C array into arrow-rs's type for the same C struct.
fn to_arrow_rs(
    array: polars_arrow::ffi::ArrowArray,
    schema: polars_arrow::ffi::ArrowSchema,
) -> (FFI_ArrowArray, FFI_ArrowSchema) {
    // SAFETY: both crates define these as `#[repr(C)]` mirrors of the C data interface's
    // `struct ArrowArray` / `struct ArrowSchema` (same fields, same order, same types), so the
    // bits mean the same to both; `transmute` checks the sizes. The value is moved, not
    // copied: the release callback runs exactly once, from the arrow-rs side's `Drop`.
    unsafe {
        (
            std::mem::transmute::<polars_arrow::ffi::ArrowArray, FFI_ArrowArray>(array),
            std::mem::transmute::<polars_arrow::ffi::ArrowSchema, FFI_ArrowSchema>(schema),
        )
    }
}

/// Move an arrow-rs-exported C array into polars-arrow's type for the same C struct.
fn to_polars_arrow(
    array: FFI_ArrowArray,
    schema: FFI_ArrowSchema,
) -> (
    polars_arrow::ffi::ArrowArray,
    polars_arrow::ffi::ArrowSchema,
) {
    // SAFETY: as in `to_arrow_rs`, the reverse direction: identical `#[repr(C)]` layouts of the
    // C data interface structs, moved so that only the receiver releases them.
    unsafe {
        (
            std::mem::transmute::<FFI_ArrowArray, polars_arrow::ffi::ArrowArray>(array),
            std::mem::transmute::<FFI_ArrowSchema, polars_arrow::ffi::ArrowSchema>(schema),
        )
    }
}

/// The type a column is exported as (see the module docs for the widened integers).
fn export_type(dt: &DataType) -> Option<DataType> {
    match dt {
        DataType::Int8 | DataType::Int16 => Some(DataType::Int32),
        DataType::UInt8 | DataType::UInt16 => Some(DataType::UInt32),
        _ => None,
    }
}

/// The type a column is imported as (views become plain strings / binaries).
fn import_type(dt: &DataType) -> Option<DataType> {
    match dt {
        DataType::Utf8View => Some(DataType::Utf8),
        DataType::BinaryView => Some(DataType::Binary),
        _ => None,
    }
}

impl DataFrame {
    /// Convert to a polars `DataFrame` (feature `polars`), sharing buffers where the layouts
    /// agree (see the module docs for what is copied).
    ///
    /// ```
    /// # #[cfg(feature = "polars")] {
    /// use fusedframe::prelude::*;
    /// let df = df!("x" => [1.0, 2.0], "s" => ["a", "b"])?;
    /// let p = df.to_polars()?;
    /// assert_eq!(p.shape(), (2, 2));
    /// assert_eq!(DataFrame::from_polars(&p)?, df);
    /// # }
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn to_polars(&self) -> Result<polars_core::frame::DataFrame> {
        let mut columns = Vec::with_capacity(self.width());
        for (f, a) in self.schema().fields().iter().zip(self.columns()) {
            let name = f.name();
            let a = match export_type(a.data_type()) {
                Some(to) => arrow::compute::cast(a, &to)?,
                None => a.clone(),
            };
            let (array, schema) = arrow::ffi::to_ffi(&a.to_data())?;
            let (array, schema) = to_polars_arrow(array, schema);
            // SAFETY: `schema` and `array` were just produced by arrow-rs's exporter from a
            // valid array, which is what the C data interface requires of the importer.
            let field = unsafe { polars_arrow::ffi::import_field_from_c(&schema) }
                .map_err(|e| polars_err(name, e))?;
            // SAFETY: as above; `array` matches the type `field` describes.
            let imported = unsafe { polars_arrow::ffi::import_array_from_c(array, field.dtype) }
                .map_err(|e| polars_err(name, e))?;
            let series =
                polars_core::series::Series::from_arrow(PlSmallStr::from_str(name), imported)
                    .map_err(|e| polars_err(name, e))?;
            columns.push(polars_core::frame::column::Column::from(series));
        }
        polars_core::frame::DataFrame::new(self.height(), columns)
            .map_err(|e| Error::Compute(format!("polars conversion: {e}")))
    }

    /// Convert from a polars `DataFrame` (feature `polars`), sharing buffers where the layouts
    /// agree (see the module docs for what is copied).
    pub fn from_polars(df: &polars_core::frame::DataFrame) -> Result<DataFrame> {
        let mut fields = Vec::with_capacity(df.width());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(df.width());
        for column in df.columns() {
            let series = column.as_materialized_series();
            let name = series.name().as_str();
            let mut chunks: Vec<ArrayRef> = Vec::with_capacity(series.n_chunks());
            for i in 0..series.n_chunks() {
                let chunk = series.to_arrow(i, CompatLevel::newest());
                let pfield = polars_arrow::datatypes::Field::new(
                    PlSmallStr::from_str(name),
                    chunk.dtype().clone(),
                    true,
                );
                let schema = polars_arrow::ffi::export_field_to_c(&pfield);
                let array = polars_arrow::ffi::export_array_to_c(chunk);
                let (array, schema) = to_arrow_rs(array, schema);
                // SAFETY: produced by polars-arrow's exporter from a valid array of the type
                // `schema` describes, as the C data interface requires.
                let data = unsafe { arrow::ffi::from_ffi(array, &schema) }
                    .map_err(|e| polars_err(name, e))?;
                chunks.push(make_array(data));
            }
            let a = match chunks.len() {
                0 => {
                    let dt = polars_field_type(series, name)?;
                    arrow::array::new_empty_array(&dt)
                }
                1 => chunks
                    .pop()
                    .unwrap_or_else(|| arrow::array::new_null_array(&DataType::Null, 0)),
                _ => {
                    let refs: Vec<&dyn Array> = chunks.iter().map(|c| c.as_ref()).collect();
                    arrow::compute::concat(&refs)?
                }
            };
            let a = match import_type(a.data_type()) {
                Some(to) => arrow::compute::cast(&a, &to)?,
                None => a,
            };
            fields.push(Field::new(name, a.data_type().clone(), true));
            arrays.push(a);
        }
        if arrays.is_empty() {
            return Ok(DataFrame::with_height(df.height()));
        }
        DataFrame::from_arrays(Arc::new(Schema::new(fields)), arrays)
    }
}

/// The arrow-rs type of a polars column without chunks, through the C schema.
fn polars_field_type(series: &polars_core::series::Series, name: &str) -> Result<DataType> {
    let pfield = series
        .dtype()
        .to_arrow_field(PlSmallStr::from_str(name), CompatLevel::newest());
    let schema = polars_arrow::ffi::export_field_to_c(&pfield);
    // SAFETY: see `to_arrow_rs`; only the schema struct is moved here.
    let schema =
        unsafe { std::mem::transmute::<polars_arrow::ffi::ArrowSchema, FFI_ArrowSchema>(schema) };
    let dt = DataType::try_from(&schema).map_err(|e| polars_err(name, e))?;
    Ok(import_type(&dt).unwrap_or(dt))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{
        AsArray, Date32Array, Float64Array, Int16Array, StringArray, TimestampMicrosecondArray,
    };
    use arrow::datatypes::Float64Type;

    fn sample() -> DataFrame {
        let cols: Vec<(&str, ArrayRef)> = vec![
            (
                "f",
                Arc::new(Float64Array::from(vec![
                    Some(1.5),
                    None,
                    Some(f64::NAN),
                    Some(f64::NEG_INFINITY),
                ])),
            ),
            (
                "i",
                Arc::new(arrow::array::Int64Array::from(vec![
                    Some(1),
                    Some(-2),
                    None,
                    Some(4),
                ])),
            ),
            (
                "b",
                Arc::new(arrow::array::BooleanArray::from(vec![
                    Some(true),
                    None,
                    Some(false),
                    Some(true),
                ])),
            ),
            (
                "s",
                Arc::new(StringArray::from(vec![
                    Some("a"),
                    Some("a much longer string, not inlined"),
                    None,
                    Some(""),
                ])),
            ),
            (
                "d",
                Arc::new(Date32Array::from(vec![
                    Some(0),
                    Some(19000),
                    None,
                    Some(-1),
                ])),
            ),
            (
                "t",
                Arc::new(TimestampMicrosecondArray::from(vec![
                    Some(1),
                    None,
                    Some(-5),
                    Some(1_700_000_000_000_000),
                ])),
            ),
        ];
        DataFrame::new(
            cols.into_iter()
                .map(|(n, a)| super::super::Column::new(n, a))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn round_trip_keeps_values_nulls_and_types() {
        let df = sample();
        let p = df.to_polars().unwrap();
        assert_eq!(p.shape(), (4, 6));
        let back = DataFrame::from_polars(&p).unwrap();
        assert_eq!(back, df);
        // Empty and column-less frames.
        let empty = df.slice(0, 0);
        assert_eq!(
            DataFrame::from_polars(&empty.to_polars().unwrap()).unwrap(),
            empty
        );
        let none = DataFrame::with_height(3);
        assert_eq!(
            DataFrame::from_polars(&none.to_polars().unwrap())
                .unwrap()
                .height(),
            3
        );
    }

    #[test]
    fn numbers_are_shared_not_copied() {
        let a = Float64Array::from(vec![1.0, 2.0, 3.0]);
        let ptr = a.values().as_ptr();
        let df = DataFrame::new(vec![super::super::Column::new(
            "x",
            Arc::new(a) as ArrayRef,
        )])
        .unwrap();
        let p = df.to_polars().unwrap();
        let back = DataFrame::from_polars(&p).unwrap();
        let x = back.column("x").unwrap().as_primitive::<Float64Type>();
        assert_eq!(x.values().as_ptr(), ptr);
        drop(p);
        // The buffer outlives the polars frame it passed through.
        assert_eq!(x.values().to_vec(), vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn several_chunks_and_small_integers() {
        let df = DataFrame::new(vec![super::super::Column::new(
            "x",
            Arc::new(Int16Array::from(vec![1, -2])) as ArrayRef,
        )])
        .unwrap();
        let mut p = df.to_polars().unwrap();
        let other = p.clone();
        p.vstack_mut(&other).unwrap();
        assert_eq!(p.columns()[0].n_chunks(), 2);
        let back = DataFrame::from_polars(&p).unwrap();
        assert_eq!(back.schema().field(0).data_type(), &DataType::Int32);
        assert_eq!(
            back.column_f64("x").unwrap(),
            vec![Some(1.0), Some(-2.0), Some(1.0), Some(-2.0)]
        );
    }
}
