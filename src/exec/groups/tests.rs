//! Grouping end to end on small frames, with the answers written out by hand.

use crate::prelude::*;

fn frame() -> DataFrame {
    DataFrame::new(vec![
        Column::new(
            "g",
            vec![Some("a"), Some("b"), Some("a"), None, Some("b"), None],
        ),
        Column::new("k", vec![1i64, 2, 1, 2, 2, 1]),
        Column::new(
            "x",
            vec![
                Some(1.0),
                Some(2.0),
                Some(f64::NAN),
                Some(4.0),
                None,
                Some(6.0),
            ],
        ),
        Column::new("y", vec![1.0, 3.0, 5.0, 7.0, 11.0, 13.0]),
    ])
    .unwrap()
}

#[test]
fn aggregates_per_group_in_order_of_first_appearance() {
    let out = frame()
        .lazy()
        .group_by([col("g")])
        .agg([
            col("y").sum(),
            col("x").mean().alias("xm"),
            col("x").nan_mean().alias("xnm"),
            len(),
            col("x").count().alias("c"),
            (col("y") * 2).max().alias("m2"),
            (col("y").max() - col("y").min()).alias("range"),
        ])
        .collect()
        .unwrap();
    assert_eq!(
        out.column_names(),
        vec!["g", "y", "xm", "xnm", "len", "c", "m2", "range"]
    );
    let g = out.column("g").unwrap();
    let g = g
        .as_any()
        .downcast_ref::<arrow::array::StringArray>()
        .unwrap();
    assert_eq!(
        g.iter().collect::<Vec<_>>(),
        vec![Some("a"), Some("b"), None]
    );
    assert_eq!(
        out.column_f64("y").unwrap(),
        vec![Some(6.0), Some(14.0), Some(20.0)]
    );
    let xm = out.column_f64("xm").unwrap();
    assert!(xm[0].unwrap().is_nan());
    assert_eq!(&xm[1..], &[Some(2.0), Some(5.0)]);
    assert_eq!(
        out.column_f64("xnm").unwrap(),
        vec![Some(1.0), Some(2.0), Some(5.0)]
    );
    assert_eq!(
        out.column_f64("len").unwrap(),
        vec![Some(2.0), Some(2.0), Some(2.0)]
    );
    assert_eq!(
        out.column_f64("c").unwrap(),
        vec![Some(2.0), Some(1.0), Some(2.0)]
    );
    assert_eq!(
        out.column_f64("m2").unwrap(),
        vec![Some(10.0), Some(22.0), Some(26.0)]
    );
    assert_eq!(
        out.column_f64("range").unwrap(),
        vec![Some(4.0), Some(8.0), Some(6.0)]
    );
}

#[test]
fn several_keys_and_expression_keys() {
    let out = frame()
        .lazy()
        .group_by([col("g"), (col("k") * 10).alias("k10")])
        .agg([col("y").sum()])
        .collect()
        .unwrap();
    assert_eq!(out.column_names(), vec!["g", "k10", "y"]);
    assert_eq!(
        out.column_f64("k10").unwrap(),
        vec![Some(10.0), Some(20.0), Some(20.0), Some(10.0)]
    );
    assert_eq!(
        out.column_f64("y").unwrap(),
        vec![Some(6.0), Some(14.0), Some(7.0), Some(13.0)]
    );
}

#[test]
fn head_per_group_and_unique() {
    let out = frame()
        .lazy()
        .group_by([col("k")])
        .head(2)
        .collect()
        .unwrap();
    assert_eq!(out.column_names(), vec!["k", "g", "x", "y"]);
    assert_eq!(
        out.column_f64("y").unwrap(),
        vec![Some(1.0), Some(5.0), Some(3.0), Some(7.0)]
    );
    let out = frame().lazy().unique_subset(["k"]).collect().unwrap();
    assert_eq!(out.column_f64("y").unwrap(), vec![Some(1.0), Some(3.0)]);
    let out = frame()
        .lazy()
        .select([col("g"), col("k")])
        .unique()
        .collect()
        .unwrap();
    // (a, 1), (b, 2), (null, 2), (null, 1).
    assert_eq!(out.height(), 4);
}

#[test]
fn over_broadcasts_aggregates_and_runs_windows_per_group() {
    let out = frame()
        .lazy()
        .with_columns([
            col("y").sum().over([col("g")]).alias("s"),
            (col("y") - col("y").mean()).over([col("k")]).alias("d"),
            col("y").rolling_sum(2).over([col("k")]).alias("r"),
        ])
        .collect()
        .unwrap();
    assert_eq!(
        out.column_f64("s").unwrap(),
        vec![
            Some(6.0),
            Some(14.0),
            Some(6.0),
            Some(20.0),
            Some(14.0),
            Some(20.0)
        ]
    );
    // k = 1: rows 0, 2, 5 (y 1, 5, 13; mean 19/3); k = 2: rows 1, 3, 4 (3, 7, 11; mean 7).
    let d = out.column_f64("d").unwrap();
    assert!((d[0].unwrap() - (1.0 - 19.0 / 3.0)).abs() < 1e-12);
    assert_eq!(d[1], Some(-4.0));
    assert_eq!(
        out.column_f64("r").unwrap(),
        vec![None, None, Some(6.0), Some(10.0), Some(18.0), Some(18.0)]
    );
}

#[test]
fn physical_plans_of_groupings() {
    let lf = frame()
        .lazy()
        .filter(col("y").gt(0.0))
        .group_by([col("g"), (col("k") * 10).alias("k10")])
        .agg([
            col("y").sum(),
            (col("x").max() - col("x").min()).alias("r"),
            corr(col("x"), col("y")).pow(2).alias("r2"),
            len(),
        ]);
    insta::assert_snapshot!(lf.explain_physical().unwrap(), @r#"
        GROUP_BY keys=[col("g"), (col("k") * 10).alias("k10")] aggs=[__agg0 = col("y").sum(), __agg1 = col("x").max(), __agg2 = col("x").min(), __agg3 = corr(col("x"), col("y")), __agg4 = len()] -> [col("__key0").alias("g"), col("__key1").alias("k10"), col("__agg0").alias("y"), (col("__agg1") - col("__agg2")).alias("r"), col("__agg3").pow(2).alias("r2"), col("__agg4").alias("len")]
          PIPELINE
            FILTER col("y").gt(0.0)
            DATAFRAME rows=6 width=4
        "#);
    let lf = frame().lazy().unique_subset(["k"]);
    insta::assert_snapshot!(lf.explain_physical().unwrap(), @r#"
        GROUP_BY keys=[col("k")] aggs=[__agg0 = col("g").first(), __agg1 = col("k").first(), __agg2 = col("x").first(), __agg3 = col("y").first()] -> [col("__agg0").alias("g"), col("__agg1").alias("k"), col("__agg2").alias("x"), col("__agg3").alias("y")]
          PIPELINE
            DATAFRAME rows=6 width=4
        "#);
    let lf = frame()
        .lazy()
        .sort("y", SortOptions::default().descending(true))
        .group_by([col("k")])
        .head(1);
    insta::assert_snapshot!(lf.explain_physical().unwrap(), @r#"
        GROUP_HEAD keys=[col("k")] n=1
          SORT by=[col("y") desc]
            PIPELINE
              DATAFRAME rows=6 width=4
        "#);
    // An aggregate of a window needs each group's rows together.
    let lf = frame()
        .lazy()
        .group_by([col("k")])
        .agg([col("y").rolling_mean(2).max().alias("m")]);
    insta::assert_snapshot!(lf.explain_physical().unwrap(), @r#"
        GROUP_EVALUATE keys=[col("k")] [col("y").rolling_mean(2).max().alias("m")]
          PIPELINE
            DATAFRAME rows=6 width=2
        "#);
    let out = lf.collect().unwrap();
    assert_eq!(out.column_f64("m").unwrap(), vec![Some(9.0), Some(9.0)]);
    let lf = frame()
        .lazy()
        .with_columns([col("y").mean().over([col("g")]).alias("m")]);
    insta::assert_snapshot!(lf.explain_physical().unwrap(), @r#"
        EVALUATE WITH_COLUMNS [col("y").mean().over([col("g")]).alias("m")]
          PIPELINE
            DATAFRAME rows=6 width=4
        "#);
}

/// A partition that does not fit is split again by the next bits of the hash (here two ways
/// a level, so it happens at a modest size), and the groups come out as in memory: same
/// order, same bits.
#[test]
fn spilled_partitions_that_do_not_fit_are_split_again() {
    use super::{group_frame, key_spec, spill};
    use crate::exec::aggregate::AggSpecs;
    use crate::exec::pipeline::{Opened, Running};
    use crate::exec::spill::SpillDir;
    use crate::exec::{Context, Params};
    use crate::memory::MemoryPool;

    let n = 100_000u64;
    let keys: Vec<Option<i64>> = (0..n)
        .map(|r| {
            let k = (r * 2_654_435_761) % 20_000;
            (k % 101 != 0).then_some(k as i64)
        })
        .collect();
    let vals: Vec<f64> = (0..n)
        .map(|r| ((r * 7919) % 1013) as f64 / 7.0 - 50.0)
        .collect();
    let df = DataFrame::new(vec![Column::new("k", keys), Column::new("v", vals)]).unwrap();
    let by = [col("k")];
    let aggs = AggSpecs::new(
        &[col("v").sum(), col("v").mean(), col("v").std(1), len()],
        df.schema(),
    )
    .unwrap();
    let want = group_frame(&df, &by, &aggs, false, &Params::default()).unwrap();
    let temp = tempfile::tempdir().unwrap();
    let ctx = Context {
        memory: MemoryPool::new(1 << 20),
        spill: SpillDir::new(temp.path().to_path_buf()),
        ..Context::default()
    };
    let running = Running::new(Opened::Frame(df.clone()), &[], &ctx);
    let spec = key_spec(&by, df.schema()).unwrap();
    let (got, splits) = spill::group_with_fan(&running, spec, &by, &aggs, 1).unwrap();
    assert!(splits > 2, "{splits} splits");
    same_groups(&got, &want);
    assert_eq!(ctx.memory.reserved(), 0);
    drop(running);
    drop(ctx);
    assert_eq!(std::fs::read_dir(temp.path()).unwrap().count(), 0);
}

/// The same groups: count, keys and results, floats to the bit.
pub(super) fn same_groups(got: &super::merge::Grouped, want: &super::merge::Grouped) {
    assert_eq!(got.n_groups, want.n_groups);
    for (g, w) in got
        .keys
        .iter()
        .chain(&got.results)
        .zip(want.keys.iter().chain(&want.results))
    {
        same_bits(g, w);
    }
}

/// Equal arrays, floats to the bit (NaN included).
pub(super) fn same_bits(a: &arrow::array::ArrayRef, b: &arrow::array::ArrayRef) {
    use arrow::array::{Array, AsArray};
    use arrow::datatypes::Float64Type;
    assert_eq!(a.data_type(), b.data_type());
    assert_eq!(a.logical_nulls(), b.logical_nulls());
    if let (Some(x), Some(y)) = (
        a.as_primitive_opt::<Float64Type>(),
        b.as_primitive_opt::<Float64Type>(),
    ) {
        for i in (0..x.len()).filter(|i| x.is_valid(*i)) {
            assert_eq!(x.value(i).to_bits(), y.value(i).to_bits(), "row {i}");
        }
    } else {
        assert_eq!(a, b);
    }
}

/// The word loads of short keys (and the word-wise compare of key tails) give the zero-padded little-endian value a copy would, for
/// every length, so hashes and table heads are those of the plain byte copy.
#[test]
fn short_keys_load_as_zero_padded_words() {
    use super::keys::{head_words, same_bytes, short_word};
    let bytes: Vec<u8> = (1..=40u8).map(|b| b.wrapping_mul(37)).collect();
    for start in 0..3 {
        for n in 0..=24 {
            let key = &bytes[start..start + n];
            if n < 8 {
                let mut w = [0u8; 8];
                w[..n].copy_from_slice(key);
                assert_eq!(short_word(key), u64::from_le_bytes(w), "{n} bytes");
            }
            let mut h = [0u8; 16];
            h[..n.min(16)].copy_from_slice(&key[..n.min(16)]);
            let want = [
                u64::from_le_bytes(h[..8].try_into().unwrap()),
                u64::from_le_bytes(h[8..].try_into().unwrap()),
            ];
            assert_eq!(head_words(key), want, "{n} bytes");
            // Equal bytes compare equal; one byte changed anywhere does not.
            let copy = key.to_vec();
            assert!(same_bytes(key, &copy), "{n} bytes");
            for i in 0..n {
                let mut other = copy.clone();
                other[i] ^= 0x40;
                assert!(!same_bytes(key, &other), "{n} bytes, byte {i}");
            }
        }
    }
}

/// Multi-column keys looked up by their columns' codes get exactly the ids, hashes and keys
/// of the row-encoded path: strings and floats with nulls, NaN and signed zeros, two to four
/// columns, groups first seen through a merge; a piece of mostly new keys drops the codes and
/// the table goes on the same.
#[test]
fn keys_by_column_codes_match_the_row_encoding() {
    use super::keys::KeySpec;
    use super::table::{GroupTable, Scratch};
    use arrow::array::{ArrayRef, Float64Array, Int32Array, StringArray};
    use arrow::datatypes::DataType;
    use std::sync::Arc;

    let piece = |n: usize, distinct: usize, seed: usize| -> Vec<ArrayRef> {
        let s: StringArray = (0..n)
            .map(|r| {
                let v = (r * 7 + seed) % distinct;
                (v % 11 != 3).then(|| format!("key-{}", v % 50))
            })
            .collect();
        // More distinct values than rows: every row a new key.
        let f: Float64Array = (0..n)
            .map(|r| match (r * 13 + seed) % distinct % 6 {
                _ if distinct > n => Some(r as f64 + 0.5),
                0 => None,
                1 => Some(f64::NAN),
                2 => Some(-0.0),
                3 => Some(0.0),
                k => Some(((r + seed) % distinct / 6 + k) as f64),
            })
            .collect();
        let i: Int32Array = (0..n).map(|r| ((r + seed) % distinct) as i32).collect();
        vec![
            Arc::new(s),
            Arc::new(f),
            Arc::new(i),
            Arc::new(StringArray::from(vec!["x"; n])),
        ]
    };
    let types = [
        DataType::Utf8,
        DataType::Float64,
        DataType::Int32,
        DataType::Utf8,
    ];
    for width in 2..=4 {
        let spec = Arc::new(KeySpec::new(types[..width].to_vec()).unwrap());
        let mut coded = GroupTable::new(spec.clone());
        assert!(coded.has_codes(), "{width} columns");
        let mut plain = GroupTable::new(spec.clone()).without_codes();
        // A merge puts groups in before any row is interned.
        let mut other = GroupTable::new(spec.clone()).without_codes();
        let (mut a, mut b, mut scratch) = (vec![], vec![], Scratch::default());
        let first: Vec<ArrayRef> = piece(300, 40, 5)[..width].to_vec();
        other.intern(&first, &mut a, &mut scratch).unwrap();
        for g in 0..other.len() as u32 {
            assert_eq!(coded.insert_from(&other, g), plain.insert_from(&other, g));
        }
        for (n, distinct, seed) in [
            (1000, 97, 1),
            (5000, 200, 2),
            (5000, 1 << 30, 3),
            (800, 97, 4),
        ] {
            let keys: Vec<ArrayRef> = piece(n, distinct, seed)[..width].to_vec();
            coded.intern(&keys, &mut a, &mut scratch).unwrap();
            plain.intern(&keys, &mut b, &mut scratch).unwrap();
            assert_eq!(a, b, "{width} columns, piece {seed}");
            // Mostly new keys: the codes are dropped.
            assert_eq!(coded.has_codes(), seed < 3, "{width} columns, piece {seed}");
        }
        assert_eq!(coded.len(), plain.len());
        for g in 0..coded.len() as u32 {
            assert_eq!(coded.hash(g), plain.hash(g));
        }
        let (ka, kb) = (coded.keys().unwrap(), plain.keys().unwrap());
        for (x, y) in ka.iter().zip(&kb) {
            same_bits(x, y);
        }
    }
}

/// Word keys in runs (a repeated key takes the previous row's id unhashed) get the ids
/// interning row by row gives: runs broken by nulls, NaN and both zeros in runs, a run going
/// on into the next piece, keys coming back after other keys.
#[test]
fn word_keys_in_runs_get_the_ids_of_row_by_row_interning() {
    use super::keys::KeySpec;
    use super::table::{GroupTable, Scratch};
    use arrow::array::{Array, ArrayRef, Float64Array};
    use arrow::datatypes::DataType;
    use std::sync::Arc;

    let values: Vec<Option<f64>> = (0..2000usize)
        .map(|r| match (r / 3) % 11 {
            0 => None,
            1 => Some(f64::NAN),
            2 => Some(if r % 2 == 0 { -0.0 } else { 0.0 }),
            k if r % 17 == 0 => Some(k as f64),
            _ => Some((r / 5 % 40) as f64),
        })
        .collect();
    let all: ArrayRef = Arc::new(Float64Array::from(values));
    let spec = Arc::new(KeySpec::new(vec![DataType::Float64]).unwrap());
    let mut runs = GroupTable::new(spec.clone());
    let mut one_by_one = GroupTable::new(spec);
    let (mut a, mut b, mut scratch) = (vec![], vec![], Scratch::default());
    let (mut got, mut want) = (vec![], vec![]);
    for (start, len) in [(0, 700), (700, 1), (701, 999), (1700, 300)] {
        runs.intern(&[all.slice(start, len)], &mut a, &mut scratch)
            .unwrap();
        got.extend_from_slice(&a);
        for r in start..start + len {
            one_by_one
                .intern(&[all.slice(r, 1)], &mut b, &mut scratch)
                .unwrap();
            want.extend_from_slice(&b);
        }
    }
    assert_eq!(got, want);
    assert_eq!(runs.len(), one_by_one.len());
    let (ka, kb) = (runs.keys().unwrap(), one_by_one.keys().unwrap());
    for (x, y) in ka.iter().zip(&kb) {
        same_bits(x, y);
    }
    assert!(all.null_count() > 0);
}

/// The partitioned merge of many groups (hash partitions merged apart, keys decoded straight
/// into the final order, each table presized from how many groups were new) gives exactly
/// what one sequence of merges gives: same groups in the same order, same bits, same group
/// for every row; for one word key with nulls, one string key with nulls, two keys (rows)
/// and five keys with nulls, NaN and -0.0 (rows too many to look up by codes).
#[test]
fn partitioned_merge_equals_merging_in_sequence() {
    use super::key_spec;
    use super::merge::{merge, merge_in_sequence, Partial, Piece, Work};
    use super::table::prepare_keys;
    use crate::exec::aggregate::AggSpecs;
    use crate::exec::eval::evaluate;
    use crate::exec::Params;
    use crate::memory::MemoryPool;

    let n = 400_000u64;
    // Groups shared by every morsel, groups new in each, and nulls.
    let ks: Vec<Option<i64>> = (0..n)
        .map(|r| {
            let k = if r % 3 == 0 {
                r % 5_000
            } else {
                (r * 2_654_435_761) % 300_000
            };
            (k % 997 != 5).then_some(k as i64)
        })
        .collect();
    let owned: Vec<Option<String>> = ks
        .iter()
        .map(|k| k.map(|k| format!("key-{k:07}-{}", "x".repeat((k % 13) as usize))))
        .collect();
    let ss: Vec<Option<&str>> = owned.iter().map(|s| s.as_deref()).collect();
    let vals: Vec<f64> = (0..n)
        .map(|r| ((r * 7919) % 1013) as f64 / 7.0 - 50.0)
        .collect();
    // Floats where every NaN is one key, -0.0 is 0.0 and nulls are their own key.
    let fs: Vec<Option<f64>> = (0..n)
        .map(|r| match r % 31 {
            0 => Some(f64::NAN),
            1 => Some(-f64::NAN),
            2 => Some(-0.0),
            3 => Some(0.0),
            4 => None,
            _ => Some((r % 3) as f64),
        })
        .collect();
    let df = DataFrame::new(vec![
        Column::new("k", ks.clone()),
        Column::new("s", ss),
        Column::new("v", vals),
        Column::new("f", fs.clone()),
    ])
    .unwrap();
    let params = Params::default();
    let aggs = AggSpecs::new(
        &[col("v").sum(), col("v").std(1), col("v").max(), len()],
        df.schema(),
    )
    .unwrap();
    for by in [
        vec![col("k")],
        vec![col("s")],
        vec![col("s"), col("k") % lit(7i64)],
        vec![
            col("s"),
            col("k"),
            col("f"),
            col("k") % lit(11i64),
            col("s").str().len_chars(),
        ],
    ] {
        let spec = key_spec(&by, df.schema()).unwrap();
        let pool = MemoryPool::unbounded();
        let mem = pool.reserve("GROUP_BY");
        // Five morsels of two pieces each.
        let partials = || -> Vec<Partial> {
            (0..5)
                .map(|m| {
                    let mut part = Partial::new(spec.clone(), &aggs).unwrap();
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
                        part.add(&mem, piece, &aggs, &mut work, true).unwrap();
                    }
                    for acc in &mut part.accs {
                        acc.seal().unwrap();
                    }
                    part
                })
                .collect()
        };
        let got = merge(partials(), &|| aggs.accumulators(), true, &mem).unwrap();
        let want = merge_in_sequence(partials(), true, &mem).unwrap();
        assert!(got.n_groups > 150_000, "{} groups", got.n_groups);
        if by.len() == 5 {
            // The groups a set of the rows' tuples gives (every NaN one value, -0.0 as 0.0):
            // the index tells apart exactly the keys that differ.
            let norm = |f: Option<f64>| {
                f.map(|x| {
                    if x.is_nan() {
                        u64::MAX
                    } else {
                        (x + 0.0).to_bits()
                    }
                })
            };
            let tuples: std::collections::HashSet<_> = (0..n as usize)
                .map(|r| (ks[r], owned[r].clone(), norm(fs[r]), ks[r].map(|k| k % 11)))
                .collect();
            assert_eq!(got.n_groups, tuples.len());
        }
        same_groups(&got, &want);
        assert_eq!(got.row_ids, want.row_ids);
    }
}

/// One row encoded alone (the rows a front table of codes misses) has the bytes encoding the
/// whole piece gives it: every kind of key column, nulls, NaN, -0.0, sliced arrays and
/// dictionary codes.
#[test]
fn one_row_encodes_as_in_its_piece() {
    use super::keys::{encode_rows, KeySpec, RowEncoder};
    use super::table::prepare_keys;
    use arrow::array::{
        ArrayRef, BooleanArray, Date32Array, DictionaryArray, Float32Array, Float64Array,
        Int32Array, NullArray, StringArray,
    };
    use arrow::datatypes::{DataType, Int32Type};
    use std::sync::Arc;

    let n = 300usize;
    let strs: StringArray = (0..n + 7)
        .map(|r| (r % 7 != 2).then(|| "ab".repeat(r % 5)))
        .collect();
    let values: ArrayRef = Arc::new(StringArray::from(vec![Some("x"), None, Some("long-value")]));
    let codes = Int32Array::from_iter((0..n).map(|r| (r % 11 != 0).then_some((r % 3) as i32)));
    let dict = DictionaryArray::<Int32Type>::try_new(codes, values).unwrap();
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int32Array::from_iter(
            (0..n).map(|r| (r % 4 != 1).then_some(r as i32 - 50)),
        )),
        Arc::new(Float64Array::from_iter((0..n).map(|r| match r % 6 {
            0 => None,
            1 => Some(f64::NAN),
            2 => Some(-0.0),
            _ => Some(r as f64 * 0.5),
        }))),
        Arc::new(BooleanArray::from_iter(
            (0..n).map(|r| (r % 5 != 3).then_some(r % 2 == 0)),
        )),
        Arc::new(strs.slice(7, n)),
        Arc::new(dict),
        Arc::new(NullArray::new(n)),
        Arc::new(Float32Array::from_iter(
            (0..n).map(|r| (r % 9 != 0).then_some(-(r as f32))),
        )),
        Arc::new(Date32Array::from_iter_values((0..n).map(|r| r as i32 * 3))),
    ];
    let spec = KeySpec::new(
        cols.iter()
            .map(|c| c.data_type().clone())
            .map(|t| match t {
                DataType::Dictionary(_, v) => *v,
                t => t,
            })
            .collect(),
    )
    .unwrap();
    let keys = prepare_keys(&spec, cols).unwrap();
    for start in [0, 1, 37] {
        let piece: Vec<ArrayRef> = keys.iter().map(|k| k.slice(start, n - start)).collect();
        let (mut buf, mut ends) = (vec![], vec![]);
        encode_rows(&piece, &spec.kinds, &mut buf, &mut ends).unwrap();
        let encoder = RowEncoder::new(&piece, &spec.kinds).unwrap();
        let mut one = vec![];
        for r in 0..n - start {
            one.clear();
            encoder.encode(r, &mut one);
            let from = if r == 0 { 0 } else { ends[r - 1] };
            assert_eq!(one, &buf[from..ends[r]], "row {r} from {start}");
        }
    }
}
