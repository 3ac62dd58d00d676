//! Parquet string columns read as dictionary codes (`Dictionary(Int32, Utf8)`) for a grouping
//! by them (`physical::dictionary` decides which): the footer's word on whether a column's
//! pages are all dictionary-encoded, and the reader's schema hint that has parquet's arrow
//! reader hand such a chunk as its dictionary and codes.

use arrow::datatypes::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::file::metadata::ParquetMetaData;
use std::sync::Arc;

use crate::expr::types::is_string;

/// The type a string column is read as when the plan groups by its dictionary codes
/// (`coded` columns of [`open_coded`](super::parquet::open_coded)).
pub(crate) fn coded_strings() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

/// `schema` with its string columns named in `coded` of type [`coded_strings`]: the reader's
/// hint, and the schemas of the operators the codes pass through.
pub(crate) fn with_coded_columns(schema: &Schema, coded: &[String]) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            if is_string(f.data_type()) && coded.contains(f.name()) {
                f.as_ref().clone().with_data_type(coded_strings())
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

/// Whether the footer says every data page of top-level column `name` in the row groups
/// `row_groups` is dictionary-encoded. Read as codes, a chunk that fell back to PLAIN pages
/// makes the reader hash every row's string to encode it again (db-benchmark's `id3`, whose
/// 100,000 values overflow the writer's dictionary page: grouping it as codes took 1.5 times
/// as long), so only such columns are worth reading as codes. A chunk without page encoding
/// statistics counts as not dictionary-encoded: its list of encodings names PLAIN for the
/// dictionary page itself, so it cannot tell.
pub(crate) fn dictionary_encoded(meta: &ParquetMetaData, name: &str, row_groups: &[usize]) -> bool {
    use parquet::basic::{Encoding, PageType};
    let descr = meta.file_metadata().schema_descr();
    let Some(leaf) = (0..descr.num_columns()).find(|&l| {
        let c = descr.column(l);
        c.path().parts().len() == 1 && c.name() == name
    }) else {
        return false;
    };
    let dictionary =
        |e: Encoding| matches!(e, Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY);
    row_groups.iter().all(|&rg| {
        let Some(chunk) = meta
            .row_groups()
            .get(rg)
            .and_then(|g| g.columns().get(leaf))
        else {
            return false;
        };
        if chunk.num_values() == 0 {
            return true;
        }
        if chunk.dictionary_page_offset().is_none() {
            return false;
        }
        if let Some(mask) = chunk.page_encoding_stats_mask() {
            return mask.encodings().all(dictionary);
        }
        chunk.page_encoding_stats().is_some_and(|stats| {
            stats
                .iter()
                .filter(|s| s.page_type != PageType::DICTIONARY_PAGE)
                .all(|s| dictionary(s.encoding))
        })
    })
}

/// `meta` with the string columns named in `coded` read as [`coded_strings`]: parquet's arrow
/// reader then hands a dictionary-encoded chunk as its dictionary and codes, without decoding
/// every row's string (a chunk that fell back to PLAIN pages it encodes into a dictionary
/// itself). `None` when no column is coded, or the reader refuses the hint (the scan then
/// reads strings and encodes them, see `parquet::ParquetMorsels::conform`).
pub(super) fn with_coded_strings(
    meta: &ArrowReaderMetadata,
    coded: &[String],
) -> Option<ArrowReaderMetadata> {
    if coded.is_empty() {
        return None;
    }
    let file = meta.schema();
    let string = |c: &String| {
        file.field_with_name(c)
            .is_ok_and(|f| is_string(f.data_type()))
    };
    if !coded.iter().any(string) {
        return None;
    }
    let hinted = Arc::new(with_coded_columns(file, coded));
    ArrowReaderMetadata::try_new(
        meta.metadata().clone(),
        ArrowReaderOptions::new().with_schema(hinted),
    )
    .ok()
}
