//! Wide tables (thousands of columns) against the budget: the Parquet writer holds a wide row
//! group as its Arrow columns (not a column writer per column, whose state would be kilobytes
//! a column), what it holds is what the budget sees, so a budget smaller than a row group
//! ends row groups early instead of being passed unseen; a wide sink that fails at a middle
//! morsel leaves no file; and a wide file of short row groups, decoded whole and handed on in
//! slices, reads back the values written.

use super::*;
use fusedframe::memory::MemoryPool;

const COLUMNS: usize = 1_200;

/// `COLUMNS` float32 columns of `range`, every column different.
fn wide_columns() -> impl Iterator<Item = Expr> {
    (0..COLUMNS).map(|j| {
        (((col("range") * 7919 + lit(j as i64 * 104_729)) % 1009).cast(DataType::Float32)
            / (j as f64 + 1.0))
            .alias(format!("c{j}"))
    })
}

/// `COLUMNS` float32 columns of `rows` rows.
fn wide(rows: i64) -> LazyFrame {
    range(0, rows).with_columns(wide_columns()).drop(["range"])
}

fn read_back(path: &Path) -> DataFrame {
    scan_parquet(path).collect().expect("read back")
}

#[test]
fn the_budget_sees_a_wide_parquet_writers_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let want = wide(3_000).collect_with(&unbounded()).expect("collect");
    // 64 rows: the row group held is 256 bytes a column. The same query into an IPC file
    // (whose writer holds nothing) reserves the rest.
    let pools = [MemoryPool::unbounded(), MemoryPool::unbounded()];
    let options = |i: usize| ExecOptions::new().memory_pool(pools[i].clone()).threads(2);
    let path = dir.path().join("narrow_rows.parquet");
    wide(64)
        .sink_parquet_with(&path, &ParquetWriteOptions::default(), &options(0))
        .expect("sink");
    wide(64)
        .sink_ipc_with(
            dir.path().join("narrow_rows.arrow"),
            &IpcWriteOptions::default(),
            &options(1),
        )
        .expect("sink");
    let writers = pools[0].peak().saturating_sub(pools[1].peak());
    assert!(
        writers >= COLUMNS * 64 * 4,
        "the row group held went unseen: {writers} B (peaks {} and {} B)",
        pools[0].peak(),
        pools[1].peak()
    );
    assert_eq!(read_back(&path), want.slice(0, 64));
    // A budget below one row group's writers: row groups end early, the values are the same.
    let path = dir.path().join("tight.parquet");
    wide(3_000)
        .sink_parquet_with(
            &path,
            &ParquetWriteOptions::default(),
            &budget(4 << 20, dir.path()),
        )
        .expect("a tight budget ends row groups early");
    assert_eq!(read_back(&path), want);
    let path = dir.path().join("roomy.parquet");
    wide(3_000)
        .sink_parquet_with(&path, &ParquetWriteOptions::default(), &unbounded())
        .expect("sink");
    assert_eq!(read_back(&path), want);
    // Short row groups (300 rows: decoded whole, handed on in slices) read back exactly,
    // through a transform too.
    let path = dir.path().join("short_groups.parquet");
    let short = ParquetWriteOptions::default().row_group_rows(300);
    wide(3_000)
        .sink_parquet_with(&path, &short, &unbounded())
        .expect("sink");
    assert_eq!(read_back(&path), want);
    let doubled = |lf: LazyFrame| {
        lf.with_columns([all_numeric() * 2.0])
            .collect_with(&unbounded())
            .expect("doubled")
    };
    assert_eq!(doubled(scan_parquet(&path)), doubled(want.lazy()));
}

/// What a wide Parquet sink reserves beyond the same query into an IPC file, on `threads`
/// threads, with row groups of `row_group` bytes.
fn writer_peak(dir: &Path, row_group: usize, threads: usize) -> usize {
    let pools = [MemoryPool::unbounded(), MemoryPool::unbounded()];
    let options = |i: usize| {
        ExecOptions::new()
            .memory_pool(pools[i].clone())
            .threads(threads)
    };
    let o = ParquetWriteOptions::default().row_group_bytes(row_group);
    wide(3_000)
        .sink_parquet_with(dir.join("held.parquet"), &o, &options(0))
        .expect("sink");
    wide(3_000)
        .sink_ipc_with(
            dir.join("held.arrow"),
            &IpcWriteOptions::default(),
            &options(1),
        )
        .expect("sink");
    pools[0].peak().saturating_sub(pools[1].peak())
}

#[test]
fn a_wide_parquet_sink_holds_a_row_group_of_arrow_data_not_a_writer_per_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    // 1 MiB row groups of 1,200 float32 columns (218 rows each): a column writer per column
    // would hold 6 KiB a column (7 MB) whatever the row group's size.
    let row_group = 1 << 20;
    for threads in [1, 2] {
        let peak = writer_peak(dir.path(), row_group, threads);
        assert!(
            peak <= 2 * row_group,
            "{threads} threads: the wide writer held {peak} B for {row_group} B row groups"
        );
    }
    assert_eq!(
        read_back(&dir.path().join("held.parquet")),
        wide(3_000).collect().expect("collect")
    );
}

#[test]
fn a_wide_sink_failing_at_a_middle_morsel_leaves_no_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A column that divides by zero at row 2,000 of 3,000, after row groups were written.
    let q = (col("range") % (col("range") - lit(2_000_i64))).alias("q");
    let failing = range(0, 3_000)
        .with_columns(wide_columns().chain([q]))
        .drop(["range"]);
    for threads in [1, 2] {
        let o = ParquetWriteOptions::default().row_group_bytes(1 << 20);
        let path = dir.path().join("out.parquet");
        let err = failing
            .clone()
            .sink_parquet_with(&path, &o, &ExecOptions::new().threads(threads))
            .expect_err("fails");
        assert!(matches!(err, Error::Compute(_)), "{err}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
        assert!(left.is_empty(), "{threads} threads: {left:?}");
    }
}
