//! Groupings over the memory budget: they spill their input partitioned by key and give the
//! in-memory bytes, whatever the data and thread count; groups that cannot fit stop with the
//! typed error; no spill file is left either way.

use fusedframe::prelude::*;
use proptest::prelude::*;

/// Spilling holds the input on disk, not the groups: groups that do not fit the budget stop
/// the query with the typed error, naming what holds them (here the collected result).
#[test]
fn groups_that_do_not_fit_the_budget_stop_with_the_typed_error() {
    let keys: Vec<i64> = (0..200_000).map(|k| (k * 7919) % 200_000).collect();
    let df = DataFrame::new(vec![Column::new("k", keys.clone()), Column::new("v", keys)]).unwrap();
    let query = || df.clone().lazy().group_by([col("k")]).agg([col("v").sum()]);
    let err = query()
        .collect_with(&ExecOptions::new().memory_limit(1 << 20))
        .unwrap_err();
    match &err {
        Error::MemoryLimit {
            operator, limit, ..
        } => {
            assert_eq!(operator, "COLLECT");
            assert_eq!(*limit, 1 << 20);
        }
        other => panic!("expected a memory limit error, got {other}"),
    }
    assert!(err.to_string().contains("COLLECT"), "{err}");
    // Within a budget that fits, the same query runs (and the budget is all released after).
    let pool = fusedframe::memory::MemoryPool::new(256 << 20);
    let out = query()
        .collect_with(&ExecOptions::new().memory_pool(pool.clone()))
        .unwrap();
    assert_eq!(out.height(), 200_000);
    assert!(pool.peak() > 200_000 * 16, "peak {}", pool.peak());
    assert_eq!(pool.reserved(), 0);
}

/// Many groups under every key type: ints (with nulls), strings (with nulls), floats (with
/// NaN, -0.0, 0.0 and nulls), and float values with no exact sums (so any change in the order
/// of additions would show in the bits).
fn many_groups(n: usize, groups: u64, seed: u64) -> DataFrame {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let (mut ik, mut sk, mut fk, mut v, mut w) = (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..n {
        let r = next();
        let g = (r >> 3) % groups;
        ik.push((!g.is_multiple_of(97)).then_some(g as i64 * 7 - 1000));
        sk.push((g % 89 != 5).then(|| format!("key {g}")));
        // Null, NaN and zero (both signs, one group) are groups of ordinary size.
        fk.push(match g {
            0 => None,
            1 => Some(f64::NAN),
            2 => Some(-0.0),
            3 => Some(0.0),
            _ => Some(g as f64 / 3.0),
        });
        v.push(match (r >> 40) % 50 {
            0 => None,
            1 => Some(f64::NAN),
            _ => Some((r >> 11) as f64 / (1u64 << 53) as f64 * 1000.0 - 333.3),
        });
        w.push(((r >> 20) % 10_000) as i64 - 5000);
    }
    DataFrame::new(vec![
        Column::new("i", ik),
        Column::new("s", sk),
        Column::new("f", fk),
        Column::new("v", v),
        Column::new("w", w),
        Column::new("r", (0..n as i64).collect::<Vec<_>>()),
    ])
    .unwrap()
}

/// A frame's Arrow IPC bytes: equal bytes are equal frames, NaN payloads and all.
fn ipc_bytes(df: &DataFrame) -> Vec<u8> {
    let batch = df.to_record_batch().unwrap();
    let mut out = vec![];
    let mut w = arrow::ipc::writer::StreamWriter::try_new(&mut out, &batch.schema()).unwrap();
    w.write(&batch).unwrap();
    w.finish().unwrap();
    drop(w);
    out
}

/// Every aggregate family, by `keys`.
fn spill_query(lf: LazyFrame, keys: &[&str]) -> LazyFrame {
    lf.group_by(keys.iter().map(|k| col(*k)).collect::<Vec<_>>())
        .agg([
            col("v").sum().alias("sum"),
            col("v").nan_sum().alias("nan_sum"),
            col("v").mean().alias("mean"),
            col("v").nan_std(1).alias("std"),
            col("v").median().alias("median"),
            col("v").nan_max().alias("max"),
            col("w").arg_min().alias("arg_min"),
            col("w").first().alias("first"),
            col("v").last().alias("last"),
            col("w").n_unique().alias("distinct"),
            (col("v") * col("w")).sum().alias("vw"),
            len(),
        ])
}

fn listing(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn groupings_over_the_budget_spill_and_give_the_in_memory_bytes() {
    let df = many_groups(400_000, 3_000, 7);
    let temp = tempfile::tempdir().unwrap();
    let cases: Vec<(&str, LazyFrame)> = vec![
        ("int", spill_query(df.clone().lazy(), &["i"])),
        ("string", spill_query(df.clone().lazy(), &["s"])),
        ("float", spill_query(df.clone().lazy(), &["f"])),
        ("two keys", spill_query(df.clone().lazy(), &["s", "f"])),
        (
            "unique",
            df.clone()
                .lazy()
                .select([col("i"), col("f"), col("s")])
                .unique(),
        ),
    ];
    for (name, lf) in cases {
        let pool = fusedframe::memory::MemoryPool::unbounded();
        let options = ExecOptions::new().memory_pool(pool.clone()).threads(2);
        let want = lf.clone().collect_with(&options).unwrap();
        // Held in memory, the grouping needs more than the budget below.
        assert!(pool.peak() > 1 << 20, "{name}: peak {}", pool.peak());
        for threads in [1, 2] {
            let small = ExecOptions::new()
                .memory_limit(1 << 20)
                .temp_dir(temp.path())
                .threads(threads);
            let got = lf.clone().collect_with(&small).unwrap();
            assert_eq!(got.height(), want.height(), "{name}, {threads} threads");
            assert!(
                ipc_bytes(&got) == ipc_bytes(&want),
                "{name}, {threads} threads: spilled results differ\n{got}\n{want}"
            );
            assert!(listing(temp.path()).is_empty(), "{name}: files left");
        }
    }
}

#[test]
fn a_spilling_grouping_that_fails_leaves_no_files_and_one_too_large_still_stops() {
    let df = many_groups(300_000, 3_000, 11);
    let temp = tempfile::tempdir().unwrap();
    // An error in the input (a division by zero at row 250,000) after the grouping has
    // started again to spill: one thread, so the morsels before it run first.
    let err = df
        .clone()
        .lazy()
        .with_columns([(col("r") % (col("r") - lit(250_000i64))).alias("z")])
        .group_by([col("i")])
        .agg([col("v").median(), col("z").sum()])
        .collect_with(
            &ExecOptions::new()
                .memory_limit(1 << 20)
                .temp_dir(temp.path())
                .threads(1),
        )
        .unwrap_err();
    assert!(!matches!(err, Error::MemoryLimit { .. }), "{err}");
    assert!(
        listing(temp.path()).is_empty(),
        "{:?}",
        listing(temp.path())
    );
    // One group larger than the budget (a median over every row) cannot be split: the typed
    // error, and no files left.
    let err = df
        .lazy()
        .with_columns([lit(1i64).alias("one")])
        .group_by([col("one")])
        .agg([col("v").median()])
        .collect_with(
            &ExecOptions::new()
                .memory_limit(1 << 20)
                .temp_dir(temp.path())
                .threads(2),
        )
        .unwrap_err();
    assert!(
        matches!(&err, Error::MemoryLimit { operator, .. } if operator == "GROUP_BY"),
        "{err}"
    );
    assert!(
        listing(temp.path()).is_empty(),
        "{:?}",
        listing(temp.path())
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// Spilling never changes a grouping's bytes, whatever the data and the thread count.
    #[test]
    fn spilling_does_not_change_results(
        seed in 0u64..1000,
        n in 50_000usize..150_000,
        groups in 100u64..3000,
        threads in 1usize..3,
    ) {
        let df = many_groups(n, groups, seed);
        let lf = df.lazy().group_by([col("s"), col("i")]).agg([
            col("v").sum().alias("sum"),
            col("v").mean().alias("mean"),
            col("v").median().alias("median"),
            len(),
        ]);
        let pool = fusedframe::memory::MemoryPool::unbounded();
        let options = ExecOptions::new().memory_pool(pool.clone()).threads(threads);
        let want = lf.clone().collect_with(&options).unwrap();
        // In memory it would not fit the budget below: the bounded run spills.
        prop_assert!(pool.peak() > 512 << 10, "peak {}", pool.peak());
        let got = lf
            .collect_with(&ExecOptions::new().memory_limit(512 << 10).threads(threads))
            .unwrap();
        prop_assert!(ipc_bytes(&got) == ipc_bytes(&want));
    }
}
