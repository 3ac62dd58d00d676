//! Direct tables give the hashed path's groups to the bit: the same ids, hashes and keys piece
//! by piece (nulls, keys at the ends of their type's range, windows that grow down and up, a
//! later piece too wide that makes the table leave the direct path), the same merged groups,
//! states and rows' groups, on one thread or two, and the same groups spilled under a budget.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, Date32Array, Int32Array, Int64Array, UInt64Array, UInt8Array};
use arrow::datatypes::DataType;

use super::direct::{MIN_SLOTS, SLOTS_PER_ROW};
use super::keys::KeySpec;
use super::merge::{merge, Grouped, Partial, Piece, Work};
use super::table::{prepare_keys, GroupTable, Scratch};
use super::tests::{same_bits, same_groups};
use super::{group_frame, group_pipeline, key_spec};
use crate::exec::aggregate::AggSpecs;
use crate::exec::eval::evaluate;
use crate::exec::pipeline::{Opened, Running};
use crate::exec::spill::SpillDir;
use crate::exec::{Context, Params};
use crate::memory::MemoryPool;
use crate::prelude::*;

/// Intern `pieces` into a direct table and a hashed one, checking the ids of every piece
/// and, at the end, the groups' hashes and keys; returns whether the direct table is still
/// direct after each piece.
fn intern_both(t: DataType, pieces: &[ArrayRef]) -> Vec<bool> {
    let spec = Arc::new(KeySpec::new(vec![t.clone()]).unwrap());
    let mut direct = GroupTable::new(spec.clone());
    assert!(direct.is_direct(), "{t}");
    let mut hashed = GroupTable::new(spec.clone()).without_direct();
    let (mut a, mut b, mut scratch) = (vec![], vec![], Scratch::default());
    let mut still = vec![];
    for (i, p) in pieces.iter().enumerate() {
        let keys = prepare_keys(&spec, vec![p.clone()]).unwrap();
        direct.intern(&keys, &mut a, &mut scratch).unwrap();
        hashed.intern(&keys, &mut b, &mut scratch).unwrap();
        assert_eq!(a, b, "{t}, piece {i}");
        still.push(direct.is_direct());
    }
    assert!(!hashed.is_direct());
    assert_eq!(direct.len(), hashed.len(), "{t}");
    for g in 0..direct.len() as u32 {
        assert_eq!(direct.hash(g), hashed.hash(g), "{t}, group {g}");
    }
    for (x, y) in direct.keys().unwrap().iter().zip(&hashed.keys().unwrap()) {
        same_bits(x, y);
    }
    // Groups merged in from a hashed table find the same ids (and make the same new ones).
    let mut extra = GroupTable::new(spec).without_direct();
    let last = prepare_keys(&KeySpec::new(vec![t]).unwrap(), vec![pieces[0].clone()]).unwrap();
    extra.intern(&last, &mut a, &mut scratch).unwrap();
    for g in 0..extra.len() as u32 {
        assert_eq!(direct.insert_from(&extra, g), hashed.insert_from(&extra, g));
    }
    still
}

#[test]
fn direct_tables_intern_as_hashed_tables() {
    let i64s = |v: Vec<Option<i64>>| Arc::new(Int64Array::from(v)) as ArrayRef;
    let (min, max) = (i64::MIN, i64::MAX);
    // Signed keys around zero (one range once the sign bit is flipped), a null-only piece, the
    // window growing down then up, nulls among keys, then a piece too wide: the table leaves
    // the direct path and goes on as the hashed one.
    let span = (MIN_SLOTS * 2) as i64;
    let around: Vec<Option<i64>> = (0..2000).map(|r| Some((r * 7919) % 301 - 150)).collect();
    let still = intern_both(
        DataType::Int64,
        &[
            i64s(around.clone()),
            i64s(vec![None, None]),
            i64s(vec![]),
            i64s((0..3000).map(|r| (r % 13 != 0).then_some(-r)).collect()),
            i64s((0..3000).map(|r| Some(span - r)).collect()),
            i64s(around.into_iter().rev().collect()),
            i64s(vec![Some(5), Some(1 << 40), None, Some(-3)]),
            i64s(vec![Some(1 << 40), Some(7), Some(-100_000)]),
        ],
    );
    assert_eq!(still, [true, true, true, true, true, true, false, false]);
    // The ends of the type: the window at rank 0 and at the last rank.
    for end in [
        vec![Some(min), Some(min + 3), None, Some(min + 1), Some(min)],
        vec![Some(max), Some(max - 2), None, Some(max), Some(max - 1)],
    ] {
        let still = intern_both(DataType::Int64, &[i64s(end.clone()), i64s(end)]);
        assert_eq!(still, [true, true]);
    }
    let still = intern_both(
        DataType::Int64,
        &[i64s(vec![Some(min), Some(max)]), i64s(vec![Some(0)])],
    );
    assert_eq!(still, [false, false]);
    // Unsigned keys at the top of their range, narrow types, dates.
    let u64s: ArrayRef = Arc::new(UInt64Array::from(vec![
        Some(u64::MAX),
        Some(u64::MAX - 9),
        None,
        Some(u64::MAX),
    ]));
    assert_eq!(
        intern_both(DataType::UInt64, &[u64s.clone(), u64s]),
        [true, true]
    );
    let u8s: ArrayRef = Arc::new(UInt8Array::from_iter_values(
        (0..600).map(|r| (r * 37 % 256) as u8),
    ));
    assert_eq!(
        intern_both(DataType::UInt8, &[u8s.slice(0, 300), u8s.slice(300, 300)]),
        [true, true]
    );
    let i32s: ArrayRef = Arc::new(Int32Array::from_iter(
        (0..5000).map(|r| (r % 11 != 4).then_some((r * 31 % 4001) - 2000)),
    ));
    assert_eq!(
        intern_both(
            DataType::Int32,
            &[i32s.slice(0, 2500), i32s.slice(2500, 2500)]
        ),
        [true, true]
    );
    let dates: ArrayRef = Arc::new(Date32Array::from_iter_values(
        (0..4000).map(|r| 10_000 + r % 2555),
    ));
    assert_eq!(intern_both(DataType::Date32, &[dates]), [true]);
}

/// Floats, booleans and wider or several keys never take the direct path.
#[test]
fn only_integer_words_are_direct() {
    for types in [
        vec![DataType::Float64],
        vec![DataType::Boolean],
        vec![DataType::Utf8],
        vec![DataType::Int64, DataType::Int64],
        vec![DataType::Decimal128(20, 2)],
    ] {
        let spec = Arc::new(KeySpec::new(types.clone()).unwrap());
        assert!(!GroupTable::new(spec).is_direct(), "{types:?}");
    }
}

/// 400,000 rows: `k` in 0..100,000 (every morsel holds most of them, as db-benchmark's id6)
/// with nulls; `far` the same keys but for one row of the fourth 80,000 that lies far out;
/// float and integer values with nulls.
fn frame() -> DataFrame {
    let n = 400_000u64;
    let k: Vec<Option<i64>> = (0..n)
        .map(|r| {
            let k = (r * 2_654_435_761) % 100_000;
            (k % 997 != 5).then_some(k as i64 + 1)
        })
        .collect();
    let far: Vec<Option<i64>> = k
        .iter()
        .enumerate()
        .map(|(r, k)| if r == 250_123 { Some(1 << 50) } else { *k })
        .collect();
    let v: Vec<Option<f64>> = (0..n)
        .map(|r| (r % 83 != 1).then(|| ((r * 7919) % 1013) as f64 / 7.0 - 50.0))
        .collect();
    let w: Vec<i64> = (0..n).map(|r| (r % 17) as i64 - 8).collect();
    DataFrame::new(vec![
        Column::new("k", k),
        Column::new("far", far),
        Column::new("v", v),
        Column::new("w", w),
    ])
    .unwrap()
}

fn aggs(df: &DataFrame) -> AggSpecs {
    AggSpecs::new(
        &[
            col("v").sum(),
            col("v").mean(),
            col("v").std(1),
            col("v").max(),
            col("w").sum(),
            col("v").first(),
            len(),
        ],
        df.schema(),
    )
    .unwrap()
}

/// Five morsels of two 40,000-row pieces each, grouped by `key` into tables direct or not.
fn partials(df: &DataFrame, key: &str, aggs: &AggSpecs, direct: bool) -> Vec<Partial> {
    let by = [col(key)];
    let spec = key_spec(&by, df.schema()).unwrap();
    let pool = MemoryPool::unbounded();
    let mem = pool.reserve("GROUP_BY");
    let params = Params::default();
    (0..5)
        .map(|m| {
            let mut part = Partial::new(spec.clone(), aggs).unwrap();
            if !direct {
                part.table = GroupTable::new(spec.clone()).without_direct();
            }
            let mut work = Work::default();
            for p in 0..2 {
                let piece = df.slice((m * 2 + p) * 40_000, 40_000);
                let karrs = by
                    .iter()
                    .map(|e| evaluate(e, &piece, &params)?.into_array(piece.height()))
                    .collect::<crate::error::Result<Vec<_>>>()
                    .unwrap();
                let keys = prepare_keys(&spec, karrs).unwrap();
                let values = aggs.eval_inputs(&piece, &params).unwrap();
                let piece = Piece {
                    rows: piece.height(),
                    keys: &keys,
                    values: &values,
                    room: None,
                };
                part.add(&mem, piece, aggs, &mut work, true).unwrap();
            }
            for acc in &mut part.accs {
                acc.seal().unwrap();
            }
            part
        })
        .collect()
}

fn on_threads(threads: usize, f: impl FnOnce() -> Grouped + Send) -> Grouped {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// Direct partials merged in one sequence by value give what hashed partials merged by hash
/// partitions give; with one far key in the fourth morsel, that morsel's table leaves the
/// direct path and the merge goes by partitions, the same again.
#[test]
fn direct_partials_merge_as_hashed_partials() {
    let df = frame();
    let aggs = aggs(&df);
    // Each table's window may span this many keys for its first piece: 100,000 fit.
    const { assert!(40_000 * SLOTS_PER_ROW > 100_000) };
    for (key, all_direct) in [("k", true), ("far", false)] {
        let pool = MemoryPool::unbounded();
        let mem = pool.reserve("GROUP_BY");
        let hashed = partials(&df, key, &aggs, false);
        assert!(hashed.iter().map(|p| p.table.len()).sum::<usize>() > 2 << 16);
        let want = merge(hashed, &|| aggs.accumulators(), true, &mem).unwrap();
        let distinct: std::collections::HashSet<Option<i64>> = df
            .column(key)
            .unwrap()
            .as_any()
            .downcast_ref::<Int64Array>()
            .unwrap()
            .iter()
            .collect();
        assert_eq!(want.n_groups, distinct.len());
        for threads in [1, 2] {
            let direct = partials(&df, key, &aggs, true);
            let left: Vec<bool> = direct.iter().map(|p| p.table.is_direct()).collect();
            assert_eq!(left, [true, true, true, all_direct, true], "{key}");
            let got = on_threads(threads, || {
                merge(direct, &|| aggs.accumulators(), true, &mem).unwrap()
            });
            same_groups(&got, &want);
            assert_eq!(got.row_ids, want.row_ids, "{key}, {threads} threads");
        }
    }
}

/// Grouped end to end (morsels of the frame, in parallel or not), a direct key gives the
/// groups, states and rows' groups of the same key grouped with a constant beside it (row
/// keys, hashed).
#[test]
fn direct_grouping_equals_the_hashed_grouping_on_any_thread_count() {
    let df = frame();
    let aggs = aggs(&df);
    let params = Params::default();
    for key in ["k", "far"] {
        let reference = on_threads(2, || {
            group_frame(&df, &[col(key), lit(0i64)], &aggs, true, &params).unwrap()
        });
        for threads in [1, 2] {
            let got = on_threads(threads, || {
                group_frame(&df, &[col(key)], &aggs, true, &params).unwrap()
            });
            assert_eq!(got.n_groups, reference.n_groups);
            same_bits(&got.keys[0], &reference.keys[0]);
            for (x, y) in got.results.iter().zip(&reference.results) {
                same_bits(x, y);
            }
            assert_eq!(got.row_ids, reference.row_ids, "{key}, {threads} threads");
        }
    }
}

/// Under a budget the direct grouping does not fit: it spills and gives the same groups, and
/// gives back all it reserved.
#[test]
fn direct_grouping_over_the_budget_spills() {
    let df = frame();
    let aggs = aggs(&df);
    let want = group_frame(&df, &[col("k")], &aggs, false, &Params::default()).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let ctx = Context {
        memory: MemoryPool::new(4 << 20),
        spill: SpillDir::new(temp.path().to_path_buf()),
        ..Context::default()
    };
    let running = Running::new(Opened::Frame(df.clone()), &[], &ctx);
    let spec = key_spec(&[col("k")], df.schema()).unwrap();
    // In memory it does not fit ...
    let in_memory = super::group_in_memory(&running, &spec, &[col("k")], &aggs, false);
    assert!(
        matches!(in_memory, Err(crate::error::Error::MemoryLimit { .. })),
        "the grouping fit the budget"
    );
    drop(in_memory);
    // ... so it spills.
    let got = group_pipeline(&running, &[col("k")], &aggs, false).unwrap();
    same_groups(&got, &want);
    drop(running);
    assert_eq!(ctx.memory.reserved(), 0);
}
