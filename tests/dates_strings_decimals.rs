//! Dates and times, strings, `is_in`, decimals and the per-row window functions, checked
//! against Polars/DuckDB/Python goldens (`tests/golden/make_dates_strings_decimals_golden.py`)
//! and row-by-row oracles, through Parquet and IPC files as users read them.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Decimal128Array};
use arrow::datatypes::{DataType, Decimal128Type, Field, Schema};
use fusedframe::io::write_parquet;
use fusedframe::prelude::*;

/// A frame of named arrays.
fn frame(cols: Vec<(&str, ArrayRef)>) -> DataFrame {
    let schema = Arc::new(Schema::new(
        cols.iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    ));
    DataFrame::from_arrays(schema, cols.into_iter().map(|(_, a)| a).collect()).unwrap()
}

fn decimals(v: &[Option<i128>], p: u8, s: i8) -> ArrayRef {
    Arc::new(
        Decimal128Array::from(v.to_vec())
            .with_precision_and_scale(p, s)
            .unwrap(),
    )
}

/// The decimal column `name` as (unscaled values, scale).
fn decimal_column(df: &DataFrame, name: &str) -> (Vec<Option<i128>>, i8) {
    let a = df.column(name).unwrap();
    let DataType::Decimal128(_, s) = a.data_type() else {
        panic!("{name} is {}", a.data_type())
    };
    (a.as_primitive::<Decimal128Type>().iter().collect(), *s)
}

#[test]
fn decimals_from_parquet_stay_exact() {
    // TPC-H's idiom: price * (1 - discount), summed, with prices of 15 digits.
    let price = [Some(123_456_789_012_345i128), Some(100), None, Some(-5)];
    let discount = [Some(5i128), Some(10), Some(0), None];
    let df = frame(vec![
        ("price", decimals(&price, 15, 2)),
        ("discount", decimals(&discount, 15, 2)),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.parquet");
    write_parquet(&df, &path).unwrap();
    let out = scan_parquet(&path)
        .select([
            (col("price") * (1 - col("discount"))).alias("net"),
            (col("price") + col("discount")).alias("sum2"),
            (col("price") / col("discount")).alias("ratio"),
            col("price").cast(DataType::Float64).alias("f"),
            col("discount").gt(0.07).alias("big"),
        ])
        .collect()
        .unwrap();
    let (net, s) = decimal_column(&out, "net");
    assert_eq!(s, 4);
    let want: Vec<Option<i128>> = price
        .iter()
        .zip(&discount)
        .map(|(p, d)| Some(p.as_ref()? * (100 - d.as_ref()?)))
        .collect();
    assert_eq!(net, want);
    assert_eq!(
        out.schema().field_with_name("net").unwrap().data_type(),
        &DataType::Decimal128(38, 4)
    );
    let (sum2, s) = decimal_column(&out, "sum2");
    assert_eq!((sum2[0], s), (Some(123_456_789_012_350), 2));
    assert_eq!(
        out.column_f64("ratio").unwrap()[1],
        Some(10.0),
        "1.00 / 0.10"
    );
    assert_eq!(out.column_f64("f").unwrap()[0], Some(1_234_567_890_123.45));
    let big: Vec<Option<bool>> = out.column("big").unwrap().as_boolean().iter().collect();
    assert_eq!(big, vec![Some(false), Some(true), Some(false), None]);

    let agg = scan_parquet(&path)
        .select([
            col("price").sum().alias("sum"),
            col("price").mean().alias("mean"),
            col("price").min().alias("min"),
            col("price").max().alias("max"),
        ])
        .collect()
        .unwrap();
    let (sum, s) = decimal_column(&agg, "sum");
    assert_eq!((sum, s), (vec![Some(123_456_789_012_440)], 2));
    assert_eq!(decimal_column(&agg, "min").0, vec![Some(-5)]);
    let mean = agg.column_f64("mean").unwrap()[0].unwrap();
    assert!(
        (mean - 123_456_789_012_440.0 / 300.0).abs() < 1e-3,
        "{mean}"
    );
}
