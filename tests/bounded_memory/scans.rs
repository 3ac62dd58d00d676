//! Parquet scans against the budget: what the flat-column decoder holds beyond a piece per
//! column (a one-row-group column's page ranges decoded ahead of their consumer, a wide short
//! row group decoded whole) is reserved as `SCAN`; a budget without room for it makes the
//! reader decode piece by piece, with the same results, instead of holding it unseen.

use super::*;
use fusedframe::memory::MemoryPool;

/// Runs of `lf` with a pool of `limit` bytes on `threads` threads: the result and the pool's
/// peak.
fn run(lf: LazyFrame, limit: Option<usize>, threads: usize) -> (DataFrame, usize) {
    let pool = limit.map_or_else(MemoryPool::unbounded, MemoryPool::new);
    let options = ExecOptions::new()
        .memory_pool(pool.clone())
        .threads(threads);
    let df = lf
        .collect_with(&options)
        .expect("fits, piece by piece if need be");
    (df, pool.peak())
}

#[test]
fn page_ranges_decoded_ahead_are_reserved_or_not_decoded_ahead() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("one_row_group.parquet");
    // 2^20 float64 rows in one row group: 8 MiB decoded, in ranges of about 1 MiB.
    range(0, 1 << 20)
        .select([((col("range") * 7919) % 100_003).cast(DataType::Float64) / 7.0])
        .sink_parquet_with(&path, &ParquetWriteOptions::default(), &unbounded())
        .expect("sink");
    let sum = || scan_parquet(&path).select([col("range").sum()]);
    let (one, _) = run(sum(), None, 1);
    // Two threads, one column: ranges decoded ahead, a few MiB reserved.
    let (two, peak) = run(sum(), None, 2);
    assert_eq!(two, one);
    assert!(
        peak >= 3 << 20,
        "the ranges decoded ahead went unseen: peak {peak} B"
    );
    // Without room for them, piece by piece: the same sum, within the budget.
    let (tight, peak) = run(sum(), Some(1 << 20), 2);
    assert_eq!(tight, one);
    assert!(peak <= 1 << 20, "peak {peak} B");
}

#[test]
fn a_wide_short_row_group_decoded_whole_is_reserved_or_read_piece_by_piece() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wide.parquet");
    // 2,100 float32 columns, row groups of 1,000 rows: pieces are 998 rows (8 MB), so each
    // row group (8.4 MB) is decoded whole and handed on in slices.
    let columns = 2_100;
    range(0, 2_000)
        .with_columns((0..columns).map(|j| {
            ((col("range") * 7919 + lit(j as i64 * 104_729)) % 1009)
                .cast(DataType::Float32)
                .alias(format!("c{j}"))
        }))
        .drop(["range"])
        .sink_parquet_with(
            &path,
            &ParquetWriteOptions::default().row_group_rows(1_000),
            &unbounded(),
        )
        .expect("sink");
    let sums = || scan_parquet(&path).select([all_numeric().sum()]);
    let (all, peak) = run(sums(), None, 2);
    assert!(
        peak >= columns * 1_000 * 4,
        "the whole row group went unseen: peak {peak} B"
    );
    let (tight, peak) = run(sums(), Some(4 << 20), 2);
    assert_eq!(tight, all);
    assert!(peak <= 4 << 20, "peak {peak} B");
    assert_eq!(run(sums(), Some(4 << 20), 1).0, all);
}

#[test]
fn a_wide_file_with_many_row_groups_reads_its_footer_a_row_group_at_a_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("wide_groups.parquet");
    // 2,100 columns in 10 row groups: 21,000 column chunks, past the count whose footer a scan
    // holds decoded, so each row group's part is decoded as it is read.
    let columns = 2_100;
    let frame = range(0, 500)
        .with_columns((0..columns).map(|j| {
            ((col("range") * 7919 + lit(j as i64 * 104_729)) % 1009)
                .cast(DataType::Float32)
                .alias(format!("c{j}"))
        }))
        .with_columns([(col("range") % 7).cast(DataType::Utf8).alias("s")])
        .collect_with(&unbounded())
        .expect("collect");
    frame
        .clone()
        .lazy()
        .sink_parquet_with(
            &path,
            &ParquetWriteOptions::default().row_group_rows(50),
            &unbounded(),
        )
        .expect("sink");
    for threads in [1, 2] {
        let options = ExecOptions::new().threads(threads);
        let all = scan_parquet(&path).collect_with(&options).expect("scan");
        assert_eq!(all, frame);
        // Pruned by statistics, a few columns, string keys read as dictionary codes.
        let filtered = || {
            scan_parquet(&path)
                .filter(col("range").ge(lit(420_i64)))
                .group_by([col("s")])
                .agg([col("c7").sum(), col("c2099").max()])
                .sort("s", SortOptions::new())
        };
        let want = frame
            .clone()
            .lazy()
            .filter(col("range").ge(lit(420_i64)))
            .group_by([col("s")])
            .agg([col("c7").sum(), col("c2099").max()])
            .sort("s", SortOptions::new())
            .collect()
            .expect("in memory");
        assert_eq!(filtered().collect_with(&options).expect("scan"), want);
        let head = scan_parquet(&path).slice(120, 30).collect_with(&options);
        assert_eq!(head.expect("scan"), frame.slice(120, 30));
    }
}
