//! Tests of the flat-column decoder: values against arrow-rs's reader, damaged pages and
//! the cases that must fall back to it.

use super::*;
use crate::io::parquet::{open, read_metadata, read_schema};
use arrow::array::{self as aa, Array, AsArray, RecordBatch};
use arrow::datatypes::Field;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::file::page_index::index_reader::decode_offset_index;
use parquet::file::properties::WriterVersion;
use parquet::file::properties::{WriterProperties as Props, WriterPropertiesBuilder};
use std::path::PathBuf;

/// A piece's columns, each as its type, nulls and every slot's bits (None for null; bits so
/// that NaN payloads compare exactly).
type Piece = Vec<(DataType, Option<NullBuffer>, Vec<Option<u64>>)>;

fn snap(cols: &[ArrayRef]) -> Piece {
    let bits = |a: &ArrayRef, i| match a.data_type() {
        DataType::Float64 => a.as_primitive::<dt::Float64Type>().value(i).to_bits(),
        DataType::Float32 => a
            .as_primitive::<dt::Float32Type>()
            .value(i)
            .to_bits()
            .into(),
        // Integers, dates and timestamps by their stored values.
        DataType::Int64 | DataType::Timestamp(..) => a.to_data().buffer::<i64>(0)[i] as u64,
        _ => a.to_data().buffer::<i32>(0)[i] as u64,
    };
    let all = |a: &ArrayRef| {
        (0..a.len())
            .map(|i| a.is_valid(i).then(|| bits(a, i)))
            .collect()
    };
    cols.iter()
        .map(|a| (a.data_type().clone(), a.nulls().cloned(), all(a)))
        .collect()
}

/// `n` rows of f64, f32, i64, i32: runs of 3 values (RLE dictionary indices), then 13
/// values (bit-packed indices), then random bits (the dictionary overflows to PLAIN).
/// Nullable: nulls over whole pieces, and scattered.
fn data(n: usize, nullable: bool) -> RecordBatch {
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = |i: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        [(i as u64 / 37) % 3, x % 13, x][(i * 4 / n).min(2)]
    };
    let bits: Vec<u64> = (0..n).map(&mut next).collect();
    let nulls = |i: usize| nullable && ((1000..3300).contains(&i) || bits[i] % 7 == 3);
    let v = |i: usize| (!nulls(i)).then_some(bits[i]);
    let f = |b: u64| {
        if b < 13 {
            b as f64 / 4.0
        } else {
            f64::from_bits(b)
        }
    };
    let g = |b: u64| {
        if b < 13 {
            b as f32
        } else {
            f32::from_bits(b as u32)
        }
    };
    batch(vec![
        Arc::new(aa::Float64Array::from_iter((0..n).map(|i| v(i).map(f)))),
        Arc::new(aa::Float32Array::from_iter((0..n).map(|i| v(i).map(g)))),
        Arc::new(aa::Int64Array::from_iter(
            (0..n).map(|i| v(i).map(|b| b as i64)),
        )),
        Arc::new(aa::Int32Array::from_iter(
            (0..n).map(|i| v(i).map(|b| b as i32)),
        )),
    ])
}

/// Columns "c0", "c1", ..., nullable.
fn batch(cols: Vec<ArrayRef>) -> RecordBatch {
    let field =
        |(i, c): (usize, &ArrayRef)| Field::new(format!("c{i}"), c.data_type().clone(), true);
    let schema = Schema::new(cols.iter().enumerate().map(field).collect::<Vec<_>>());
    RecordBatch::try_new(Arc::new(schema), cols).unwrap()
}

/// Row groups that are not multiples of the pieces; small dictionary and data pages.
fn props(codec: Compression) -> WriterPropertiesBuilder {
    Props::builder()
        .set_compression(codec)
        .set_max_row_group_row_count(Some(2500))
        .set_dictionary_page_size_limit(1024)
        .set_data_page_size_limit(2048)
        .set_data_page_row_count_limit(300)
        .set_write_batch_size(97)
}

fn write(batch: &RecordBatch, props: WriterPropertiesBuilder) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    let file = File::create(&path).unwrap();
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props.build())).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    (dir, path)
}

/// The arrow reader's pieces of row group `rg`'s first `rows` rows.
fn arrow_batches(path: &Path, rg: usize, rows: usize, batch: usize) -> Vec<Vec<ArrayRef>> {
    let b = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap();
    let r = b.with_row_groups(vec![rg]).with_batch_size(batch);
    let r = r.with_limit(rows).build().unwrap();
    r.map(|b| b.unwrap().columns().to_vec()).collect()
}

fn arrow_pieces(path: &Path, rg: usize, rows: usize, batch: usize) -> Vec<Piece> {
    let batches = arrow_batches(path, rg, rows, batch);
    batches.iter().map(|b| snap(b)).collect()
}

/// This decoder's pieces, each dropped once seen, and how many reused the buffer of the
/// piece before; with `data`, pages come from another file, taken to be so long.
fn fast_pieces(
    path: &Path,
    shape: (usize, usize, usize),
    data: Option<(&Path, u64)>,
) -> Result<(Vec<Piece>, usize)> {
    fast_pieces_in(path, shape, data, false)
}

/// [`fast_pieces`], always piece by piece when `by_piece` (else as the footer decides).
fn fast_pieces_in(
    path: &Path,
    (rg, rows, batch): (usize, usize, usize),
    data: Option<(&Path, u64)>,
    by_piece: bool,
) -> Result<(Vec<Piece>, usize)> {
    let meta = read_metadata(path)?;
    let roots: Vec<usize> = (0..meta.schema().fields().len()).collect();
    let mut fast = plan(&meta, rg, &roots, meta.schema(), &roots).expect("eligible");
    if by_piece {
        fast.state_bytes = 0;
    }
    let (data, len) = data.unwrap_or((path, std::fs::metadata(path).unwrap().len()));
    let (mut pieces, mut last, mut reused) = (vec![], None, 0);
    fast.read(
        &File::open(data).unwrap(),
        len,
        path,
        rows,
        batch,
        &mut |a| {
            let at = a.first().map(|a| a.to_data().buffers()[0].as_ptr());
            reused += usize::from(at == last);
            last = at;
            pieces.push(snap(&a));
            Ok(())
        },
    )?;
    Ok((pieces, reused))
}

/// Every row group, whole and cut short, in pieces of several sizes.
fn check(path: &Path, ctx: &str) {
    let meta = read_metadata(path).unwrap();
    for rg in 0..meta.metadata().num_row_groups() {
        let rows = meta.metadata().row_group(rg).num_rows() as usize;
        let shapes = [(rows, 1000), (rows - 333, 1000), (rows / 3, 7)];
        for ((rows, batch), by_piece) in shapes.into_iter().flat_map(|s| [(s, true), (s, false)]) {
            let shape = (rg, rows, batch);
            let (fast, reused) = fast_pieces_in(path, shape, None, by_piece).unwrap();
            // Piece by piece, each piece's buffer is the one before's, taken back.
            assert!(
                !by_piece || reused + 1 >= fast.len(),
                "{reused} of {} reused",
                fast.len()
            );
            let ctx = format!("{ctx}: row group {rg}, {rows} rows by {batch}, {by_piece}");
            assert_eq!(
                fast.len(),
                arrow_pieces(path, rg, rows, batch).len(),
                "{ctx}"
            );
            for (p, (f, a)) in fast
                .iter()
                .zip(arrow_pieces(path, rg, rows, batch))
                .enumerate()
            {
                // Nulls included: no null buffer at all on pieces without nulls.
                assert_eq!(f, &a, "{ctx}, piece {p}");
            }
        }
    }
}

#[test]
fn pages_of_every_kind_match_the_arrow_reader() {
    for codec in [Compression::SNAPPY, Compression::UNCOMPRESSED] {
        for nullable in [true, false] {
            let data = data(12_000, nullable);
            let (_dir, path) = write(&data, props(codec));
            // The chunks switch from dictionary indices to PLAIN midway.
            let meta = read_metadata(&path).unwrap();
            let chunk = meta.metadata().row_group(2).column(0);
            let enc: Vec<_> = chunk.encodings().collect();
            assert!(enc.contains(&Encoding::PLAIN) && enc.contains(&Encoding::RLE_DICTIONARY));
            check(&path, &format!("V1 {codec:?}, nullable {nullable}"));
            for dictionary in [true, false] {
                // V2 pages (values compressed or not, by ratio), PLAIN after the dictionary
                // rather than V2's delta encoding for integers.
                let p = props(codec).set_writer_version(WriterVersion::PARQUET_2_0);
                let p = p
                    .set_dictionary_enabled(dictionary)
                    .set_encoding(Encoding::PLAIN);
                let (_dir, path) = write(&data, p);
                check(
                    &path,
                    &format!("V2 {codec:?}, nullable {nullable}, dict {dictionary}"),
                );
            }
        }
    }
}

/// A scan's pieces of row group `rg` through `open` and the hook in `parquet.rs`, all kept
/// (so no piece's buffer is reused).
fn scan(path: &Path, cols: &[&str], limit: Option<usize>, rg: usize) -> Vec<Vec<ArrayRef>> {
    let schema = read_schema(path).unwrap();
    let columns: Vec<String> = cols.iter().map(|c| c.to_string()).collect();
    let source = open(path, &schema, &columns, None, limit).unwrap();
    let mut kept = vec![];
    source
        .for_each_piece(rg, 1000, &mut |df| {
            kept.push(df);
            Ok(())
        })
        .unwrap();
    kept.iter().map(|df| df.columns().to_vec()).collect()
}

#[test]
fn scans_order_columns_and_honour_the_limit() {
    let (_dir, path) = write(&data(12_000, true), props(Compression::SNAPPY));
    let meta = read_metadata(&path).unwrap();
    let out = Schema::new(vec![
        meta.schema().field(3).clone(),
        meta.schema().field(0).clone(),
    ]);
    assert!(plan(&meta, 0, &[0, 3], &out, &[1, 0]).is_some());
    for (rg, rows) in [(0, 2500), (1, 2500), (2, 1100)] {
        let arrow = arrow_pieces(&path, rg, rows, 1000).into_iter();
        let arrow: Vec<Piece> = arrow.map(|p| vec![p[3].clone(), p[0].clone()]).collect();
        let fast = scan(&path, &["c3", "c0"], Some(6100), rg);
        let fast: Vec<Piece> = fast.iter().map(|p| snap(p)).collect();
        assert_eq!(fast, arrow, "row group {rg}");
    }
}

#[test]
fn dates_and_timestamps_in_their_arrow_unit_take_the_fast_path() {
    let n = 6000;
    let v = |i: usize| (i % 11 != 4 && !(900..1400).contains(&i)).then_some(i as i64 * 7919);
    let ts = |_: Option<&str>| (0..n).map(v).collect::<Vec<_>>();
    let data = batch(vec![
        Arc::new(aa::TimestampMicrosecondArray::from(ts(None))),
        Arc::new(aa::TimestampMillisecondArray::from(ts(None)).with_timezone("UTC")),
        Arc::new(aa::TimestampNanosecondArray::from(ts(None)).with_timezone("+01:00")),
        Arc::new(aa::Date32Array::from_iter(
            (0..n).map(|i| v(i).map(|x| (x % 40_000) as i32)),
        )),
    ]);
    for p in [
        props(Compression::SNAPPY),
        // V2, PLAIN after the dictionary (not V2's delta encoding for integers).
        props(Compression::UNCOMPRESSED)
            .set_writer_version(WriterVersion::PARQUET_2_0)
            .set_encoding(Encoding::PLAIN),
    ] {
        let (_dir, path) = write(&data, p);
        let meta = read_metadata(&path).unwrap();
        let fields = meta.schema().fields();
        let pick =
            |k: &[usize]| Schema::new(k.iter().map(|&j| fields[j].clone()).collect::<Vec<_>>());
        assert!(plan(&meta, 0, &[0, 1, 2, 3], &pick(&[0, 1, 2, 3]), &[0, 1, 2, 3]).is_some());
        check(&path, "dates and timestamps");
    }
    // Seconds are stored as milliseconds and converted by the arrow reader: not here.
    let secs = batch(vec![Arc::new(aa::TimestampSecondArray::from(ts(None)))]);
    let (_dir, path) = write(&secs, props(Compression::SNAPPY));
    let meta = read_metadata(&path).unwrap();
    assert!(plan(&meta, 0, &[0], meta.schema(), &[0]).is_none());
}

#[test]
fn other_codecs_and_types_keep_the_arrow_reader() {
    let (_dir, zstd) = write(
        &data(3000, true),
        props(Compression::ZSTD(Default::default())),
    );
    let (_dir2, mixed) = write(
        &batch(vec![
            Arc::new(aa::Float64Array::from_iter_values((0..3000).map(f64::from))),
            Arc::new(aa::TimestampMicrosecondArray::from_iter_values(0..3000)),
            Arc::new(aa::StringArray::from_iter_values(
                (0..3000).map(|i| i.to_string()),
            )),
            Arc::new(aa::UInt32Array::from_iter_values(0..3000)),
            Arc::new(aa::Date32Array::from_iter_values(0..3000)),
            Arc::new(aa::Int16Array::from_iter_values(0..3000)),
        ]),
        props(Compression::SNAPPY),
    );
    let meta = read_metadata(&mixed).unwrap();
    let field = |k: usize| meta.schema().field(k).clone();
    assert!(plan(&meta, 0, &[0], &Schema::new(vec![field(0)]), &[0]).is_some());
    // The timestamp (1) and the date (4) are decodable since they hold Arrow's integers.
    for k in [1, 4] {
        let two = Schema::new(vec![field(0), field(k)]);
        assert!(
            plan(&meta, 0, &[0, k], &two, &[0, 1]).is_some(),
            "column {k}"
        );
    }
    for k in [2, 3, 5] {
        let two = Schema::new(vec![field(0), field(k)]);
        assert!(
            plan(&meta, 0, &[0, k], &two, &[0, 1]).is_none(),
            "column {k}"
        );
    }
    let z = read_metadata(&zstd).unwrap();
    assert!(plan(&z, 0, &[0], z.schema(), &[0]).is_none());
    // Both still read, through the arrow reader.
    let names = ["c0", "c1", "c2", "c3", "c4", "c5"];
    for (path, n) in [(&zstd, 4), (&mixed, 6)] {
        let fast = scan(path, &names[..n], None, 0);
        assert_eq!(fast, arrow_batches(path, 0, 2500, 1000));
    }
}

#[test]
fn corrupt_or_truncated_pages_are_errors() {
    use std::os::unix::fs::FileExt;
    let (_dir, path) = write(
        &data(1500, true).project(&[0, 3]).unwrap(),
        props(Compression::SNAPPY),
    );
    let meta = read_metadata(&path).unwrap();
    let (start, end) = (4, meta.metadata().row_group(0).column(1).byte_range());
    let end = end.0 + end.1;
    let file = File::options().read(true).write(true).open(&path).unwrap();
    let mut errors = 0;
    for at in start..end {
        let mut b = [0];
        file.read_exact_at(&mut b, at).unwrap();
        file.write_all_at(&[b[0] ^ 0xff], at).unwrap();
        errors += usize::from(fast_pieces(&path, (0, 1500, 1000), None).is_err());
        file.write_all_at(&b, at).unwrap();
    }
    assert!(errors > 100, "{errors} errors");
    assert!(fast_pieces(&path, (0, 1500, 1000), None).is_ok());
    let bytes = std::fs::read(&path).unwrap();
    let short = path.with_extension("short");
    for cut in [end - 1, (start + end) / 2, start + 3] {
        std::fs::write(&short, &bytes[..cut as usize]).unwrap();
        // Within the file's length, or trusting the old one so that the reads come up short.
        for len in [cut, end] {
            let r = fast_pieces(&path, (0, 1500, 1000), Some((&short, len)));
            let Err(Error::File { message, .. }) = r else {
                panic!("cut at {cut}: {r:?}")
            };
            assert!(message.starts_with("row group 0, column \"c"), "{message}");
        }
    }
}

#[test]
fn a_wide_short_row_group_is_decoded_at_once() {
    // 300 float32 columns of 1,000 rows: one dictionary and one data page per column, in
    // 64-row pieces. Piece by piece, every column would keep its dictionary and page between
    // pieces; the 1,000 decoded rows take less.
    let column = |j: usize| {
        let v = (0..1000).map(move |i| ((i * 7919 + j * 104_729) % 100_003) as f32 / 7.0);
        Arc::new(aa::Float32Array::from_iter_values(v)) as ArrayRef
    };
    let wide = batch((0..300).map(column).collect());
    let (_dir, path) = write(
        &wide,
        props(Compression::SNAPPY).set_data_page_row_count_limit(2000),
    );
    let meta = read_metadata(&path).unwrap();
    let roots: Vec<usize> = (0..300).collect();
    let fast = plan(&meta, 0, &roots, meta.schema(), &roots).unwrap();
    assert!(fast.decodes_whole(1000, 64) && !fast.decodes_whole(1000, 1000));
    for by_piece in [false, true] {
        let (pieces, _) = fast_pieces_in(&path, (0, 1000, 64), None, by_piece).unwrap();
        assert_eq!(
            pieces,
            arrow_pieces(&path, 0, 1000, 64),
            "by piece: {by_piece}"
        );
        // Every page was used up, so the decoders gave their buffers back to the thread.
        assert!(chunk::spare_buffers() > 0);
    }
    // A tall row group (pages of at most 20,000 rows) stays piece by piece.
    let (_dir, tall) = write(&data(60_000, true), Props::builder());
    let meta = read_metadata(&tall).unwrap();
    let fast = plan(&meta, 0, &[0, 1, 2, 3], meta.schema(), &[0, 1, 2, 3]).unwrap();
    assert!(!fast.decodes_whole(60_000, 8192));
}

/// This decoder's pieces of columns `cols` of row group 0 (its leading `rows` rows in pieces
/// of `batch`), decoded on a pool of `threads` with page ranges of about `range_bytes`
/// decoded, and whether the row group was decoded in page ranges (or else at once).
fn ranged_pieces(
    path: &Path,
    cols: &[usize],
    (rows, batch): (usize, usize),
    threads: usize,
    range_bytes: usize,
) -> Result<(Vec<Piece>, bool)> {
    let meta = read_metadata(path)?;
    let fields = cols.iter().map(|&c| meta.schema().field(c).clone());
    let out = Schema::new(fields.collect::<Vec<_>>());
    let order: Vec<usize> = (0..cols.len()).collect();
    let mut fast = plan(&meta, 0, cols, &out, &order).expect("eligible");
    fast.range_bytes = range_bytes;
    let len = std::fs::metadata(path).unwrap().len();
    let file = File::open(path).unwrap();
    crate::exec::pool::thread_pool(Some(threads))?.install(|| {
        let before = ranges::SPLITS.with(|n| n.get());
        let mut pieces = vec![];
        fast.read(&file, len, path, rows, batch, &mut |a| {
            pieces.push(snap(&a));
            Ok(())
        })?;
        let split = ranges::SPLITS.with(|n| n.get()) > before;
        // A short enough row group is decoded at once instead.
        let whole = fast.decodes_whole(rows, batch);
        assert!(!(split && whole));
        Ok((pieces, split || whole))
    })
}

#[test]
fn page_ranges_of_one_row_group_match_the_arrow_reader_on_any_pool() {
    let n = 30_000;
    for codec in [Compression::SNAPPY, Compression::UNCOMPRESSED] {
        for (nullable, v2, offset_index) in [
            (true, false, true),
            (true, false, false),
            (false, true, true),
            (true, true, false),
        ] {
            // One row group of pages of at most 300 rows; the dictionary page comes first,
            // then dictionary-indexed pages, then PLAIN ones once the dictionary overflows.
            let mut p = props(codec)
                .set_max_row_group_row_count(None)
                .set_offset_index_disabled(!offset_index);
            if !offset_index {
                p = p.set_statistics_enabled(parquet::file::properties::EnabledStatistics::Chunk);
            }
            if v2 {
                p = p
                    .set_writer_version(WriterVersion::PARQUET_2_0)
                    .set_encoding(Encoding::PLAIN);
            }
            let (_dir, path) = write(&data(n, nullable), p);
            let meta = read_metadata(&path).unwrap();
            assert_eq!(meta.metadata().num_row_groups(), 1);
            let chunk = meta.metadata().row_group(0).column(0);
            assert_eq!(chunk.offset_index_range().is_some(), offset_index);
            let enc: Vec<_> = chunk.encodings().collect();
            assert!(enc.contains(&Encoding::PLAIN) && enc.contains(&Encoding::RLE_DICTIONARY));
            let ctx = format!("{codec:?}, nullable {nullable}, V2 {v2}, index {offset_index}");
            for (rows, batch) in [(n, 1000), (n - 333, 4096), (n / 3, 77), (n, 25_000)] {
                let arrow = arrow_pieces(&path, 0, rows, batch);
                for cols in [&[0][..], &[3], &[1, 2]] {
                    let want: Vec<Piece> = arrow
                        .iter()
                        .map(|p| cols.iter().map(|&c| p[c].clone()).collect())
                        .collect();
                    for threads in [1, 2, 3] {
                        for range_bytes in [4096, 64 << 10] {
                            let shape = (rows, batch);
                            let (got, split) =
                                ranged_pieces(&path, cols, shape, threads, range_bytes).unwrap();
                            let ctx = format!(
                                "{ctx}, {rows} rows by {batch}, columns {cols:?}, {threads} \
                                 threads, ranges of {range_bytes} bytes"
                            );
                            assert_eq!(split, threads > cols.len() || rows * 8 < 1 << 17, "{ctx}");
                            assert_eq!(got, want, "{ctx}");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn page_locations_that_disagree_with_the_pages_are_an_error() {
    let n = 6000;
    let (_dir, path) = write(
        &data(n, false).project(&[0]).unwrap(),
        props(Compression::UNCOMPRESSED).set_max_row_group_row_count(None),
    );
    let meta = read_metadata(&path).unwrap();
    let range = meta.metadata().row_group(0).column(0).offset_index_range();
    let range = range.expect("an offset index");
    let mut bytes = std::fs::read(&path).unwrap();
    let index = &bytes[range.start as usize..range.end as usize];
    let locations = decode_offset_index(index).unwrap();
    // The second page's first row, a Thrift i64 field (zigzag varint), one row later.
    let row = locations.page_locations()[1].first_row_index;
    let varint = |v: i64| {
        let (mut z, mut out) = (((v << 1) ^ (v >> 63)) as u64, vec![0x16]);
        while z >= 0x80 {
            out.push((z as u8) | 0x80);
            z >>= 7;
        }
        out.push(z as u8);
        out
    };
    let (from, to) = (varint(row), varint(row + 1));
    assert_eq!(from.len(), to.len());
    let at: Vec<usize> = (0..index.len() - from.len())
        .filter(|&i| index[i..].starts_with(&from))
        .collect();
    assert_eq!(at.len(), 1, "{row}");
    let at = range.start as usize + at[0];
    bytes[at..at + to.len()].copy_from_slice(&to);
    std::fs::write(&path, &bytes).unwrap();
    let shifted = read_metadata(&path).unwrap();
    let range = shifted
        .metadata()
        .row_group(0)
        .column(0)
        .offset_index_range();
    let index = &bytes[range.unwrap().start as usize..];
    let locations = decode_offset_index(index).unwrap();
    assert_eq!(locations.page_locations()[1].first_row_index, row + 1);
    // One thread reads the pages alone; more split them where the index says, and the
    // range that ends a row late is caught.
    let want = arrow_pieces(&path, 0, n, 1000);
    assert_eq!(
        ranged_pieces(&path, &[0], (n, 1000), 1, 64).unwrap().0,
        want
    );
    let Err(Error::File { message, .. }) = ranged_pieces(&path, &[0], (n, 1000), 2, 64) else {
        panic!("no error")
    };
    assert!(
        message.contains("column \"c0\"") && message.contains("page locations"),
        "{message}"
    );
}

#[test]
fn a_sum_over_one_row_group_is_the_same_on_any_pool() {
    use crate::expr::col;
    use crate::plan::{scan_parquet, ExecOptions};
    // Four ranges of the default size per column: 2^20 float64 rows, pages of 1 MiB.
    let n = 1 << 20;
    let data = batch(vec![
        Arc::new(aa::Float64Array::from_iter((0..n).map(|i| {
            (i % 13 != 5).then(|| (i as f64 * 0.37).sin() * 1e3 + (i % 1000) as f64 * 1e-7)
        }))),
        Arc::new(aa::Int64Array::from_iter_values(
            (0..n).map(|i| (i as i64 * 7919) % 100_003),
        )),
    ]);
    let (_dir, path) = write(&data, Props::builder().set_max_row_group_row_count(None));
    let run = |threads| {
        scan_parquet(&path)
            .select([
                col("c0").sum(),
                col("c1").sum(),
                col("c0").count().alias("n"),
            ])
            .collect_with(&ExecOptions::new().threads(threads))
            .unwrap()
    };
    let one = run(1);
    for threads in [2, 3] {
        assert_eq!(run(threads), one, "{threads} threads");
    }
}
