//! Wide tables (thousands of columns) against the budget: the Parquet writer's state per
//! column is what the budget sees (its column writers' own `memory_size` leaves most of it
//! out), so a budget smaller than a row group's writers ends row groups early instead of
//! being passed unseen; and a wide file of short row groups, decoded whole and handed on in
//! slices, reads back the values written.

use super::*;
use fusedframe::memory::MemoryPool;

const COLUMNS: usize = 1_200;

/// `COLUMNS` float32 columns of `rows` rows, every column different.
fn wide(rows: i64) -> LazyFrame {
    range(0, rows)
        .with_columns((0..COLUMNS).map(|j| {
            (((col("range") * 7919 + lit(j as i64 * 104_729)) % 1009).cast(DataType::Float32)
                / (j as f64 + 1.0))
                .alias(format!("c{j}"))
        }))
        .drop(["range"])
}

fn read_back(path: &Path) -> DataFrame {
    scan_parquet(path).collect().expect("read back")
}

#[test]
fn the_budget_sees_a_wide_parquet_writers_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let want = wide(3_000).collect_with(&unbounded()).expect("collect");
    // 64 rows: the writers' data is a few hundred bytes a column, their state kilobytes. The
    // same query into an IPC file (whose writer holds nothing) reserves the rest.
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
        writers >= COLUMNS * (4 << 10),
        "the writers' state went unseen: {writers} B (peaks {} and {} B)",
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
