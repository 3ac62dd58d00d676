//! Grouping by string columns that Parquet stores dictionary-encoded, which the scan hands to
//! the grouping as dictionary codes: the same groups, order, values and types as grouping the
//! same rows as plain strings, whoever wrote the file (pyarrow, Polars, DuckDB, parquet-rs,
//! fusedframe), with dictionaries that change between row groups, chunks that fall back to
//! PLAIN pages, nulls, one or two threads and small row groups.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::util::display::array_value_to_string;
use fusedframe::prelude::*;
use parquet::arrow::ArrowWriter;
use parquet::basic::Encoding;
use parquet::file::properties::WriterProperties;
use parquet::file::reader::{FileReader, SerializedFileReader};

/// Every column of `df` as typed texts, in order (null as "null").
fn texts(df: &DataFrame) -> Vec<(String, String, Vec<String>)> {
    df.columns()
        .iter()
        .zip(df.column_names())
        .map(|(c, n)| {
            let values = (0..c.len())
                .map(|i| {
                    if c.is_null(i) {
                        "null".into()
                    } else {
                        array_value_to_string(c.as_ref(), i).unwrap()
                    }
                })
                .collect();
            (n.to_string(), c.data_type().to_string(), values)
        })
        .collect()
}

/// `query` over a scan of `path` equals `query` over the file's rows read into memory first
/// (plain strings), for 1 and 2 threads; the scan reads the columns of `coded` as codes
/// (none when `None`); returns the plan.
fn same_as_plain(
    path: &Path,
    query: &dyn Fn(LazyFrame) -> LazyFrame,
    coded: Option<&str>,
) -> String {
    let plan = equal_results(path, query);
    match coded {
        Some(c) => assert!(plan.contains(&format!("dictionary=[{c}]")), "{plan}"),
        None => assert!(!plan.contains("dictionary="), "{plan}"),
    }
    plan
}

/// [`same_as_plain`] whichever columns the scan reads as codes; returns the plan.
fn equal_results(path: &Path, query: &dyn Fn(LazyFrame) -> LazyFrame) -> String {
    let rows = scan_parquet(path).collect().unwrap();
    let want = texts(&query(rows.lazy()).collect().unwrap());
    let plan = query(scan_parquet(path)).explain_physical().unwrap();
    for threads in [1, 2] {
        let got = query(scan_parquet(path))
            .collect_with(&ExecOptions::new().threads(threads))
            .unwrap();
        assert_eq!(
            texts(&got),
            want,
            "{} threads={threads}\n{plan}",
            path.display()
        );
    }
    plan
}

/// `n` rows: `s` a few strings with nulls, a different set in each stretch of 900 rows (so
/// row groups have different dictionaries); `w` long strings that rarely repeat (their
/// dictionary overflows a small page limit); `t` a small integer; `v` values.
fn rows(n: usize) -> RecordBatch {
    let s: StringArray = (0..n)
        .map(|i| {
            let k = (i * 7919) % 13;
            (k != 5).then(|| format!("s{}-{}", i / 900, k % 6))
        })
        .collect();
    let w: StringArray = (0..n)
        .map(|i| (i % 17 != 3).then(|| format!("wide-{:040}", (i * 31) % 1500)))
        .collect();
    let t = Int64Array::from_iter_values((0..n).map(|i| (i % 4) as i64));
    let v = Int64Array::from_iter_values((0..n).map(|i| (i * i % 1009) as i64));
    let schema = Schema::new(vec![
        Field::new("s", DataType::Utf8, true),
        Field::new("w", DataType::Utf8, true),
        Field::new("t", DataType::Int64, false),
        Field::new("v", DataType::Int64, false),
    ]);
    let cols: Vec<ArrayRef> = vec![Arc::new(s), Arc::new(w), Arc::new(t), Arc::new(v)];
    RecordBatch::try_new(Arc::new(schema), cols).unwrap()
}

/// Write `batch` with parquet-rs: row groups of `rg` rows, small pages, and a dictionary page
/// limit small enough that `w` falls back to PLAIN pages partway through a chunk.
fn write_with_fallback(batch: &RecordBatch, path: &Path, rg: usize) {
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(rg))
        .set_dictionary_page_size_limit(512)
        .set_data_page_row_count_limit(64)
        .set_write_batch_size(64)
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

/// Whether some chunk of column `c` has both dictionary-encoded and PLAIN data pages (the
/// footer's mask of data page encodings).
fn has_plain_fallback(path: &Path, c: usize) -> bool {
    let r = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    r.metadata().row_groups().iter().any(|rg| {
        rg.column(c).page_encoding_stats_mask().is_some_and(|m| {
            m.is_set(Encoding::PLAIN)
                && (m.is_set(Encoding::RLE_DICTIONARY) || m.is_set(Encoding::PLAIN_DICTIONARY))
        })
    })
}

fn by(keys: &'static [&'static str]) -> impl Fn(LazyFrame) -> LazyFrame {
    move |lf: LazyFrame| {
        lf.group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>())
            .agg([
                col("v").sum().alias("sum"),
                col("v").first().alias("first"),
                len(),
            ])
    }
}

#[test]
fn dictionary_keys_group_as_plain_strings_across_row_groups_and_plain_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let batch = rows(5000);
    let df = DataFrame::from_arrays(batch.schema(), batch.columns().to_vec()).unwrap();
    let mut files = vec![];
    for rg in [700, 1100] {
        let ours = dir.path().join(format!("ours{rg}.parquet"));
        fusedframe::io::write_parquet_with_row_groups(&df, &ours, rg).unwrap();
        let theirs = dir.path().join(format!("fallback{rg}.parquet"));
        write_with_fallback(&batch, &theirs, rg);
        assert!(has_plain_fallback(&theirs, 1), "{}", theirs.display());
        files.extend([ours, theirs]);
    }
    for path in &files {
        same_as_plain(path, &by(&["s"]), Some("s"));
        // `w` falls back to PLAIN pages in the parquet-rs file: read as strings there.
        let w = (!path.to_string_lossy().contains("fallback")).then_some("w");
        same_as_plain(path, &by(&["w"]), w);
        same_as_plain(path, &by(&["s", "t"]), Some("s"));
        same_as_plain(path, &by(&["t", "s"]), Some("s"));
        same_as_plain(
            path,
            &by(&["s", "w"]),
            Some(if w.is_some() { "s, w" } else { "s" }),
        );
        // A filter on another column and a select that keeps the key pass it through.
        let filtered = |lf: LazyFrame| {
            by(&["s"])(
                lf.filter(col("t").neq(lit(2i64)))
                    .select([col("s"), col("v")]),
            )
        };
        same_as_plain(path, &filtered, Some("s"));
        // A key read elsewhere stays a string column.
        let counted = |lf: LazyFrame| {
            lf.group_by([col("s")])
                .agg([col("s").n_unique().alias("n"), col("v").sum()])
        };
        same_as_plain(path, &counted, None);
        let tested = |lf: LazyFrame| by(&["s"])(lf.filter(col("s").neq(lit("s0-1"))));
        same_as_plain(path, &tested, None);
    }
}

#[test]
fn files_of_other_writers_group_by_their_dictionaries_as_by_strings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/writers");
    let (mut seen, mut others_coded) = (0, 0);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".parquet") || name.contains("empty") || name.contains("delta_byte") {
            continue;
        }
        let schema = scan_parquet(&path).schema().unwrap();
        if schema.field_with_name("s").is_err() || schema.field_with_name("i32").is_err() {
            continue;
        }
        let q = |lf: LazyFrame| {
            lf.group_by([col("s")])
                .agg([col("i32").sum().alias("sum"), col("i32").last(), len()])
        };
        let two = |lf: LazyFrame| {
            lf.group_by([col("s"), (col("i32") % lit(3i32)).alias("m")])
                .agg([col("i32").max()])
        };
        // pyarrow's files with and without dictionaries; the others as their footers say.
        if name.starts_with("pyarrow_") && name.contains("_dict") {
            let coded = name.contains("_dict1").then_some("s");
            same_as_plain(&path, &q, coded);
            same_as_plain(&path, &two, coded);
        } else if equal_results(&path, &q).contains("dictionary=[s]") {
            assert!(equal_results(&path, &two).contains("dictionary=[s]"));
            others_coded += 1;
        }
        seen += 1;
    }
    assert!(seen >= 20, "only {seen} files with s and i32");
    eprintln!("{others_coded} files of Polars, DuckDB and pyarrow's other options read as codes");
}
