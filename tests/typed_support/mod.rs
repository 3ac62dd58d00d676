//! Helpers of `tests/dates_strings_decimals.rs`: frames of typed Arrow arrays, reading the
//! golden JSON and result columns in comparable forms, a deterministic generator.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Date32Array, Decimal128Array};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use fusedframe::io::{write_ipc, write_parquet};
use fusedframe::prelude::*;
use serde_json::Value as Json;

/// A frame of named arrays.
pub fn frame(cols: Vec<(&str, ArrayRef)>) -> DataFrame {
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    DataFrame::from_arrays(schema, cols.into_iter().map(|(_, a)| a).collect()).unwrap()
}

/// `df` written to Parquet and to IPC and read back lazily (both must read what was written).
pub fn through_files(df: &DataFrame) -> Vec<LazyFrame> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.parquet");
    let i = dir.path().join("t.arrow");
    write_parquet(df, &p).unwrap();
    write_ipc(df, &i).unwrap();
    let a = scan_parquet(&p).collect().unwrap();
    let b = scan_ipc(&i).collect().unwrap();
    assert!(a.equals(df) && b.equals(df), "files read back differently");
    vec![a.lazy(), b.lazy(), df.clone().lazy()]
}

pub fn json_strs(v: &Json) -> Vec<Option<String>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().map(str::to_string))
        .collect()
}

/// The keys of a JSON object, in order.
pub fn json_keys(v: &Json) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

pub fn json_ints(v: &Json) -> Vec<Option<i64>> {
    v.as_array().unwrap().iter().map(Json::as_i64).collect()
}

pub fn json_bools(v: &Json) -> Vec<Option<bool>> {
    v.as_array().unwrap().iter().map(Json::as_bool).collect()
}

/// A column as i64 (integers of any width, dates as days, timestamps as ticks).
pub fn ints(df: &DataFrame, name: &str) -> Vec<Option<i64>> {
    let a = df.column(name).unwrap();
    let a = match a.data_type() {
        DataType::Timestamp(..) | DataType::Duration(_) => {
            let d = a.to_data().into_builder().data_type(DataType::Int64);
            arrow::array::make_array(d.build().unwrap())
        }
        _ => arrow::compute::cast(a, &DataType::Int64).unwrap(),
    };
    a.as_primitive::<Int64Type>().iter().collect()
}

/// A column as text (dates as ISO dates).
pub fn texts(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    let a = arrow::compute::cast(df.column(name).unwrap(), &DataType::Utf8).unwrap();
    a.as_string::<i32>()
        .iter()
        .map(|s| s.map(str::to_string))
        .collect()
}

pub fn bools(df: &DataFrame, name: &str) -> Vec<Option<bool>> {
    df.column(name).unwrap().as_boolean().iter().collect()
}

/// Equal within 1e-12 relative; NaN equals NaN, null equals null.
pub fn assert_close(got: &[Option<f64>], want: &[Option<f64>], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = match (g, w) {
            (None, None) => true,
            (Some(a), Some(b)) => {
                (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-12 * b.abs().max(1.0)
            }
            _ => false,
        };
        assert!(ok, "{what} row {i}: got {g:?}, want {w:?}");
    }
}

pub fn date_array(iso: &[Option<String>]) -> ArrayRef {
    let days: Vec<Option<i32>> = iso
        .iter()
        .map(|s| {
            s.as_ref().map(|s| {
                let d = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
                (d - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days() as i32
            })
        })
        .collect();
    Arc::new(Date32Array::from(days))
}

pub fn decimals(text: &[Option<String>], p: u8, s: i8) -> ArrayRef {
    let v: Vec<Option<i128>> = text
        .iter()
        .map(|t| {
            t.as_ref()
                .map(|t| t.replace('.', "").parse::<i128>().unwrap())
        })
        .collect();
    Arc::new(
        Decimal128Array::from(v)
            .with_precision_and_scale(p, s)
            .unwrap(),
    )
}

/// A decimal column as text at its scale.
pub fn decimal_texts(df: &DataFrame, name: &str) -> (Vec<Option<String>>, DataType) {
    let a = df.column(name).unwrap();
    (
        arrow::compute::cast(a, &DataType::Utf8)
            .unwrap()
            .as_string::<i32>()
            .iter()
            .map(|s| s.map(str::to_string))
            .collect(),
        a.data_type().clone(),
    )
}

/// A small deterministic generator (the tests need no `rand`).
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
}
