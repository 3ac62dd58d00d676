//! String group keys read as dictionary codes.
//!
//! Parquet writers store string columns with few distinct values dictionary-encoded, and a
//! hash aggregation by such a column (db-benchmark's `id1`..`id3`, TPC-H Q1's flags) spent a
//! quarter of its time decoding the dictionary into one string per row, then hashed each
//! row's string again. Read as `Dictionary(Int32, Utf8)` instead, a piece is its codes and its
//! dictionary, and the grouping hashes each distinct value once (`exec::groups::dictionary`).
//!
//! Only the scan and the grouping see the dictionary: the logical plan, the user's schema and
//! the grouping's output keep the column's string type. So a column is read as codes only when
//! every operator between the scan and the grouping passes it through untouched: it is a key
//! by itself (`col("id1")`), no other key or aggregate reads it, and in the pipeline no filter
//! or expression reads it (a `select` may keep it as `col("id1")`); the pipeline probes no
//! join and computes no window. The scan is a Parquet file's and the column is a string
//! there (Utf8, LargeUtf8 or Utf8View). The operators' schemas from the scan up then say the dictionary type, as
//! the morsels will carry it.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::{Pipeline, Source, StreamOp};
use crate::expr::Expr;
use crate::io::parquet::coded_strings;
use crate::io::FileFormat;

/// Have the scan of `input` read as dictionary codes each string key column of a hash
/// aggregation by `keys` computing `aggs` that nothing else reads (see the module docs).
pub(super) fn code_keys(input: &mut Pipeline, keys: &[Expr], aggs: &[Expr]) {
    if !input.builds.is_empty() {
        return;
    }
    let Source::Scan { source, schema, .. } = &input.source else {
        return;
    };
    if !matches!(source.format(), FileFormat::Parquet) {
        return;
    }
    let out = input.schema();
    let is_string = |s: &Schema, c: &str| {
        s.field_with_name(c)
            .is_ok_and(|f| matches!(
                f.data_type(),
                DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
            ))
    };
    let mut coded: Vec<String> = vec![];
    for k in keys {
        let Expr::Column(c) = k else { continue };
        let read_elsewhere = keys
            .iter()
            .filter(|o| o.columns_used().contains(c))
            .count()
            > 1
            || aggs.iter().any(|a| a.columns_used().contains(c));
        if read_elsewhere
            || coded.contains(c)
            || !is_string(&out, c)
            || !is_string(schema, c)
            || !input.ops.iter().all(|(op, _)| passes_through(op, c))
        {
            continue;
        }
        coded.push(c.clone());
    }
    if coded.is_empty() {
        return;
    }
    for (_, s) in &mut input.ops {
        *s = recoded(s, &coded);
    }
    if let Source::Scan {
        schema,
        coded: scan_coded,
        ..
    } = &mut input.source
    {
        *schema = recoded(schema, &coded);
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

/// `schema` with the columns named in `coded` of the dictionary type.
fn recoded(schema: &SchemaRef, coded: &[String]) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            if coded.contains(f.name()) {
                f.as_ref().clone().with_data_type(coded_strings())
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}
