//! String group keys read as dictionary codes.
//!
//! Parquet writers store string columns with few distinct values dictionary-encoded, and a
//! hash aggregation by such a column (db-benchmark's `id1` and `id2`, TPC-H Q1's flags) spent a
//! quarter of its time decoding the dictionary into one string per row, then hashed each
//! row's string again. Read as `Dictionary(Int32, Utf8)` instead, a piece is its codes and its
//! dictionary, and the grouping hashes each distinct value once (`exec::groups::dictionary`).
//!
//! Only the scan and the grouping see the dictionary: the logical plan, the user's schema and
//! the grouping's output keep the column's string type. So a column is read as codes only when
//! every operator between the scan and the grouping passes it through untouched: it is a key
//! by itself (`col("id1")`), no other key or aggregate reads it, and in the pipeline no filter
//! or expression reads it (a `select` may keep it as `col("id1")`); the pipeline probes no
//! join and computes no window. The scan is a Parquet file's, the column is a string there
//! (Utf8, LargeUtf8 or Utf8View), and its footer says every data page of it is
//! dictionary-encoded in the row groups read (a chunk that fell back to PLAIN pages would cost
//! the reader a hash per row to encode it again: `io::parquet::dictionary_encoded`). The
//! operators' schemas from the scan up then say the dictionary type, as the morsels will carry
//! it.

use std::sync::Arc;

use arrow::datatypes::Schema;

use super::{Pipeline, Source, StreamOp};
use crate::expr::types::is_string;
use crate::expr::Expr;
use crate::io::parquet::with_coded_columns;
use crate::io::FileFormat;

/// Have the scan of `input` read as dictionary codes each string key column of a hash
/// aggregation by `keys` computing `aggs` that nothing else reads (see the module docs).
pub(super) fn code_keys(input: &mut Pipeline, keys: &[Expr], aggs: &[Expr]) {
    if !input.builds.is_empty() {
        return;
    }
    let Source::Scan {
        source,
        schema,
        predicate,
        ..
    } = &input.source
    else {
        return;
    };
    if !matches!(source.format(), FileFormat::Parquet) {
        return;
    }
    let out = input.schema();
    let string_in =
        |s: &Schema, c: &str| s.field_with_name(c).is_ok_and(|f| is_string(f.data_type()));
    let mut coded: Vec<String> = vec![];
    for k in keys {
        let Expr::Column(c) = k else { continue };
        let read_elsewhere = keys.iter().filter(|o| o.columns_used().contains(c)).count() > 1
            || aggs.iter().any(|a| a.columns_used().contains(c));
        if read_elsewhere
            || coded.contains(c)
            || !string_in(&out, c)
            || !string_in(schema, c)
            || !input.ops.iter().all(|(op, _)| passes_through(op, c))
            || !source.dictionary_encoded(c, predicate.as_ref())
        {
            continue;
        }
        coded.push(c.clone());
    }
    if coded.is_empty() {
        return;
    }
    for (_, s) in &mut input.ops {
        *s = Arc::new(with_coded_columns(s, &coded));
    }
    if let Source::Scan {
        schema,
        coded: scan_coded,
        ..
    } = &mut input.source
    {
        *schema = Arc::new(with_coded_columns(schema, &coded));
        *scan_coded = coded;
    }
}

/// Whether `op` leaves column `c` as it is, without reading it.
fn passes_through(op: &StreamOp, c: &String) -> bool {
    let reads = |e: &Expr| e.columns_used().contains(c);
    match op {
        StreamOp::Filter(p) | StreamOp::FilterKeep(p, _) => !reads(p),
        StreamOp::Select(es) => es.iter().all(|e| match e {
            Expr::Column(_) => true,
            other => !reads(other) && other.output_name() != *c,
        }),
        StreamOp::WithColumns(es) => es.iter().all(|e| !reads(e) && e.output_name() != *c),
        StreamOp::Probe(_) | StreamOp::Window { .. } => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;

    use crate::io::parquet::{coded_strings, dictionary_encoded, open_coded, read_metadata};

    /// A chunk that falls back to PLAIN pages partway is not called dictionary-encoded, yet a
    /// scan told to read it as codes (as a file without page statistics may be) reads the same
    /// strings, as codes, row group after row group.
    #[test]
    fn a_plain_fallback_chunk_reads_as_codes_all_the_same() {
        let n = 3000;
        let w: StringArray = (0..n)
            .map(|i| (i % 11 != 4).then(|| format!("value-{:030}", (i * 37) % 900)))
            .collect();
        let schema = Arc::new(Schema::new(vec![Field::new("w", DataType::Utf8, true)]));
        let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(w) as ArrayRef]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fallback.parquet");
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(1000))
            .set_dictionary_page_size_limit(512)
            .set_data_page_row_count_limit(64)
            .set_write_batch_size(64)
            .build();
        let mut writer = ArrowWriter::try_new(
            std::fs::File::create(&path).unwrap(),
            schema.clone(),
            Some(props),
        )
        .unwrap();
        writer.write(&batch).unwrap();
        writer.close().unwrap();

        let meta = read_metadata(&path).unwrap();
        assert!(!dictionary_encoded(meta.metadata(), "w", &[0, 1, 2]));
        let columns = vec!["w".to_string()];
        let plain = open_coded(&path, &schema, &columns, None, None, &[], None).unwrap();
        let coded = open_coded(&path, &schema, &columns, None, None, &columns, None).unwrap();
        assert_eq!(coded.schema().field(0).data_type(), &coded_strings());
        assert_eq!(coded.num_morsels(), 3);
        for m in 0..3 {
            let (a, b) = (plain.morsel(m).unwrap(), coded.morsel(m).unwrap());
            assert_eq!(b.columns()[0].data_type(), &coded_strings());
            let decoded = arrow::compute::cast(&b.columns()[0], &DataType::Utf8).unwrap();
            assert_eq!(decoded.to_data(), a.columns()[0].to_data(), "row group {m}");
            assert!(decoded.null_count() > 0);
        }
    }
}
