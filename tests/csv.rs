//! CSV reader and writer, end to end: the real datasets in `datasets/`, error messages,
//! projection pushdown, write -> read round trips, and thread-count determinism on a file of
//! several morsels.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{
    DataType, Date32Type, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};
use fusedframe::io::{csv, write_csv};
use fusedframe::prelude::*;

fn dataset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("datasets")
        .join(name)
}

fn write_file(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn dtypes(df: &DataFrame) -> Vec<DataType> {
    df.schema()
        .fields()
        .iter()
        .map(|f| f.data_type().clone())
        .collect()
}

fn dates(df: &DataFrame, c: &str) -> Vec<Option<i32>> {
    df.column(c)
        .unwrap()
        .as_primitive::<Date32Type>()
        .iter()
        .collect()
}

#[test]
fn iris() {
    let df = scan_csv(dataset("iris.csv")).collect().unwrap();
    assert_eq!(df.shape(), (150, 5));
    assert_eq!(
        df.column_names(),
        [
            "sepal_length",
            "sepal_width",
            "petal_length",
            "petal_width",
            "species"
        ]
    );
    assert_eq!(
        dtypes(&df),
        [
            DataType::Float64,
            DataType::Float64,
            DataType::Float64,
            DataType::Float64,
            DataType::Utf8
        ]
    );
    let sum: f64 = df
        .column_f64("sepal_length")
        .unwrap()
        .iter()
        .map(|v| v.unwrap())
        .sum();
    assert!((sum - 876.5).abs() < 1e-9, "{sum}");
    let species = df.column("species").unwrap().as_string::<i32>();
    assert_eq!(species.value(0), "setosa");
    assert_eq!(species.value(149), "virginica");
    assert_eq!(species.null_count(), 0);
}

#[test]
fn cars_nulls_and_iso_dates() {
    let df = scan_csv(dataset("cars.csv")).collect().unwrap();
    assert_eq!(df.shape(), (406, 9));
    let mpg = df.column("miles_per_gallon").unwrap();
    assert_eq!(mpg.data_type(), &DataType::Float64);
    assert_eq!(mpg.null_count(), 8);
    let hp = df.column("horsepower").unwrap();
    assert_eq!(hp.data_type(), &DataType::Float64);
    assert_eq!(hp.null_count(), 6);
    assert_eq!(
        df.column("cylinders").unwrap().data_type(),
        &DataType::Int64
    );
    assert_eq!(df.column("name").unwrap().data_type(), &DataType::Utf8);
    let year = dates(&df, "year");
    assert_eq!(year[0], Some(0)); // 1970-01-01
    assert_eq!(year[405], Some(4383)); // 1982-01-01
}

#[test]
fn seattle_weather_with_a_date_format() {
    let opts = CsvOptions::new().date_format("date", "%Y/%m/%d");
    let df = scan_csv_with(dataset("seattle_weather.csv"), opts)
        .collect()
        .unwrap();
    assert_eq!(df.shape(), (1461, 6));
    let d = dates(&df, "date");
    assert_eq!(d[0], Some(15340)); // 2012-01-01
    assert_eq!(d[1460], Some(16800)); // 2015-12-31
    assert_eq!(
        df.column("precipitation").unwrap().data_type(),
        &DataType::Float64
    );
    assert_eq!(df.column("weather").unwrap().data_type(), &DataType::Utf8);
    // Without the format the column is text, as written.
    let plain = scan_csv(dataset("seattle_weather.csv")).collect().unwrap();
    assert_eq!(plain.column("date").unwrap().data_type(), &DataType::Utf8);
}

#[test]
fn seattle_temps_with_a_datetime_format() {
    let opts = CsvOptions::new().datetime_format("date", "%Y/%m/%d %H:%M");
    let df = scan_csv_with(dataset("seattle_temps.csv"), opts)
        .collect()
        .unwrap();
    assert_eq!(df.shape(), (8759, 2));
    let d = df.column("date").unwrap();
    assert_eq!(
        d.data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, None)
    );
    let d = d.as_primitive::<TimestampMicrosecondType>();
    assert_eq!(d.value(0), 1_262_304_000_000_000); // 2010-01-01 00:00
    assert_eq!(d.value(1), 1_262_307_600_000_000); // 2010-01-01 01:00
    assert_eq!(d.value(8758), 1_293_836_400_000_000); // 2010-12-31 23:00
    assert_eq!(df.column_f64("temp").unwrap()[0], Some(39.4));
}

#[test]
fn stocks_with_month_names() {
    let opts = CsvOptions::new().date_format("date", "%b %d %Y");
    let df = scan_csv_with(dataset("stocks.csv"), opts)
        .collect()
        .unwrap();
    assert_eq!(df.shape(), (560, 3));
    let d = dates(&df, "date");
    assert_eq!(d[0], Some(10957)); // Jan 1 2000
    assert_eq!(d[559], Some(14669)); // Mar 1 2010
    let price = df.column_f64("price").unwrap();
    assert_eq!(price[0], Some(39.81));
    assert_eq!(price[559], Some(223.02)); // last line has no trailing newline
}

#[test]
fn a_format_naming_an_unknown_column_is_an_error() {
    let opts = CsvOptions::new().date_format("dat", "%b %d %Y");
    let e = scan_csv_with(dataset("stocks.csv"), opts)
        .collect()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("\"dat\"") && e.contains("did you mean \"date\""),
        "{e}"
    );
}

#[test]
fn malformed_files_name_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_file(&dir, "bad.csv", "a,b\n1,2\n3,4\n5,abc\n");
    let opts = CsvOptions::new().schema_override("b", DataType::Int64);
    let e = scan_csv_with(&p, opts).collect().unwrap_err();
    match &e {
        Error::Csv {
            path,
            line,
            column,
            message,
        } => {
            assert_eq!(path, &p);
            assert_eq!(*line, 4);
            assert_eq!(column, "b");
            assert!(
                message.contains("\"abc\"") && message.contains("Int64"),
                "{message}"
            );
        }
        other => panic!("{other}"),
    }
    let text = e.to_string();
    assert!(
        text.contains("line 4") && text.contains("column b"),
        "{text}"
    );

    let p = write_file(&dir, "ragged.csv", "a,b,c\n1,2,3\n4,5\n");
    let e = scan_csv(&p).collect().unwrap_err().to_string();
    assert!(
        e.contains("line 3") && e.contains("expected 3 fields, found 2"),
        "{e}"
    );

    let p = write_file(&dir, "quote.csv", "a,b\n1,\"never closed\n2,3\n");
    let e = scan_csv(&p).collect().unwrap_err().to_string();
    assert!(e.contains("line 2") && e.contains("unterminated"), "{e}");

    let p = write_file(&dir, "date.csv", "d\n2020/01/01\n2020/13/01\n");
    let opts = CsvOptions::new().date_format("d", "%Y/%m/%d");
    let e = scan_csv_with(&p, opts).collect().unwrap_err().to_string();
    assert!(e.contains("line 3") && e.contains("\"2020/13/01\""), "{e}");

    let missing = dir.path().join("missing.csv");
    match scan_csv(&missing).collect().unwrap_err() {
        Error::Io { path, .. } => assert_eq!(path, missing),
        other => panic!("{other}"),
    }

    let p = write_file(&dir, "empty.csv", "");
    let e = scan_csv(&p).collect().unwrap_err().to_string();
    assert!(e.contains("empty"), "{e}");
    let df = scan_csv_with(&p, CsvOptions::new().has_header(false))
        .collect()
        .unwrap();
    assert_eq!(df.shape(), (0, 0));
    let p = write_file(&dir, "header_only.csv", "a,b\r\n");
    let df = scan_csv(&p).collect().unwrap();
    assert_eq!(df.shape(), (0, 2));
}

#[test]
fn projection_reads_only_the_selected_columns() {
    let dir = tempfile::tempdir().unwrap();
    // Column `a` is declared Int64 but holds text: reading it fails, so a successful
    // `select(b)` shows the reader never parsed `a`.
    let p = write_file(&dir, "p.csv", "a,b,c\n1,x,1.5\noops,y,2.5\n");
    let opts = CsvOptions::new().schema_override("a", DataType::Int64);
    let df = scan_csv_with(&p, opts.clone())
        .select([col("b")])
        .collect()
        .unwrap();
    assert_eq!(df.column_names(), ["b"]);
    let b = df.column("b").unwrap().as_string::<i32>();
    assert_eq!((b.value(0), b.value(1)), ("x", "y"));
    assert!(scan_csv_with(&p, opts.clone()).collect().is_err());
    let df = scan_csv_with(&p, opts)
        .select([col("c"), col("b")])
        .collect()
        .unwrap();
    assert_eq!(df.column_names(), ["c", "b"]);
    assert_eq!(df.column_f64("c").unwrap(), [Some(1.5), Some(2.5)]);
}

fn sample_frame() -> DataFrame {
    let date: arrow::array::ArrayRef = Arc::new(arrow::array::Date32Array::from(vec![
        Some(0),
        None,
        Some(-365),
        Some(19000),
    ]));
    let ts: arrow::array::ArrayRef = Arc::new(arrow::array::TimestampMicrosecondArray::from(vec![
        Some(1_577_836_800_000_000),
        Some(1_577_836_800_123_456),
        None,
        Some(-1),
    ]));
    DataFrame::new(vec![
        Column::new(
            "f",
            [Some(0.1), Some(f64::NAN), None, Some(f64::NEG_INFINITY)],
        ),
        Column::new("g", [1e300, f64::INFINITY, -0.0, 5e-324]),
        Column::new("i", [Some(1i64), None, Some(-3), Some(i64::MAX)]),
        Column::new(
            "s",
            [Some("plain"), Some("comma, \"quoted\""), None, Some("")],
        ),
        Column::new(
            "t",
            [
                Some(" padded "),
                Some("line\nbreak"),
                Some("crlf\r\n"),
                Some("x"),
            ],
        ),
        Column::new("b", [Some(true), None, Some(false), Some(true)]),
        Column::new("d", date),
        Column::new("ts", ts),
    ])
    .unwrap()
}

#[test]
fn write_then_read_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("rt.csv");
    let df = sample_frame();
    write_csv(&df, &p).unwrap();
    let back = scan_csv(&p).collect().unwrap();
    assert_eq!(
        dtypes(&back),
        [
            DataType::Float64,
            DataType::Float64,
            DataType::Int64,
            DataType::Utf8,
            DataType::Utf8,
            DataType::Boolean,
            DataType::Date32,
            DataType::Timestamp(TimeUnit::Microsecond, None)
        ]
    );
    assert!(back.equals(&df), "{back:?}\n{df:?}");
    let g = back.column("g").unwrap().as_primitive::<Float64Type>();
    assert!(g.value(2).is_sign_negative() && g.value(3) == 5e-324);
    let i = back.column("i").unwrap().as_primitive::<Int64Type>();
    assert_eq!(i.value(3), i64::MAX);

    // The lazy sink goes through the same writer.
    let p2 = dir.path().join("rt2.csv");
    scan_csv(&p).sink_csv(&p2).unwrap();
    assert_eq!(std::fs::read(&p).unwrap(), std::fs::read(&p2).unwrap());
}

/// A file of several morsels, with quoted fields (some spanning lines) scattered through it.
fn big_file(dir: &tempfile::TempDir) -> (PathBuf, usize) {
    let p = dir.path().join("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    writeln!(f, "id,ts,x,label,note").unwrap();
    let rows = 2 * csv::MORSEL_BYTES / 40 + 1234;
    for i in 0..rows {
        let x = match i % 97 {
            0 => "NaN".to_string(),
            1 => "-inf".to_string(),
            2 => String::new(),
            _ => format!("{}", (i as f64) * 0.37 - 1000.0),
        };
        let note = match i % 13 {
            0 => "\"two\nlines, \"\"quoted\"\"\"".to_string(),
            1 => String::new(),
            _ => format!("n{}", i % 7),
        };
        writeln!(
            f,
            "{i},2020-01-{:02} {:02}:00:00,{x},{},{note}",
            i % 28 + 1,
            i % 24,
            i % 5
        )
        .unwrap();
    }
    drop(f);
    (p, rows)
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let (p, rows) = big_file(&dir);
    // Morsels are byte ranges of about `MORSEL_BYTES`: this file is cut into at least two
    // (the readers' own unit tests check that the morsels cover the rows in order).
    let bytes = std::fs::metadata(&p).unwrap().len() as usize;
    assert!(bytes > 2 * csv::MORSEL_BYTES, "{bytes}");

    let one = scan_csv(&p)
        .collect_with(&ExecOptions::new().threads(1))
        .unwrap();
    let two = scan_csv(&p)
        .collect_with(&ExecOptions::new().threads(2))
        .unwrap();
    assert_eq!(one.height(), rows);
    assert!(one.equals(&two));
    assert_eq!(
        dtypes(&one),
        [
            DataType::Int64,
            DataType::Timestamp(TimeUnit::Microsecond, None),
            DataType::Float64,
            DataType::Int64,
            DataType::Utf8
        ]
    );
    let ids = one.column("id").unwrap().as_primitive::<Int64Type>();
    assert!(ids.values().iter().enumerate().all(|(i, v)| *v == i as i64));
    let notes = one.column("note").unwrap().as_string::<i32>();
    assert_eq!(notes.value(13), "two\nlines, \"quoted\"");
    assert!(notes.is_null(14));

    let head = scan_csv(&p).head(3).collect().unwrap();
    assert!(head.equals(&one.head(3)));
    let tail = scan_csv(&p)
        .select([col("id"), col("note")])
        .tail(2)
        .collect_with(&ExecOptions::new().threads(2))
        .unwrap();
    let ids = tail.column("id").unwrap().as_primitive::<Int64Type>();
    assert_eq!(ids.values().to_vec(), [rows as i64 - 2, rows as i64 - 1]);
}
