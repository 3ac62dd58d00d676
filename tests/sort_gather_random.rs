//! Sorting, indexing and random numbers against NumPy / Polars golden values
//! (tests/golden/sort_gather_random.json, written by
//! tests/golden/make_sort_gather_random_golden.py): sorting, top_k, gather, boolean masks,
//! arg_min / arg_max, and NumPy-identical seeded random numbers, each run with 1 and 2 threads.

use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float64Array, Int64Array};
use fusedframe::prelude::*;
use serde_json::Value as Json;

mod golden_support;

fn golden() -> Json {
    golden_support::load("sort_gather_random.json")
}

use golden_support::floats as gfs;

fn gus(v: &Json) -> Vec<Option<f64>> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_i64().map(|i| i as f64))
        .collect()
}

/// Same values, NaN equal to NaN, and -0.0 told apart from 0.0 (order matters for stability).
fn same(a: &[Option<f64>], b: &[Option<f64>]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| match (x, y) {
            (Some(x), Some(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
            (None, None) => true,
            _ => false,
        })
}

fn float_col(values: &[Option<f64>]) -> ArrayRef {
    Arc::new(Float64Array::from(values.to_vec()))
}

fn frame(cols: Vec<(&str, ArrayRef)>) -> DataFrame {
    DataFrame::new(cols.into_iter().map(|(n, a)| Column::new(n, a)).collect()).unwrap()
}

fn run(lf: LazyFrame, threads: usize) -> DataFrame {
    lf.collect_with(&ExecOptions::new().threads(threads))
        .unwrap()
}

#[test]
fn sort_and_arg_sort_match_polars() {
    let g = golden();
    for case in g["sort"].as_array().unwrap() {
        let values = gfs(&case["values"]);
        let x: ArrayRef = if case["dtype"] == "i64" {
            Arc::new(Int64Array::from(
                values
                    .iter()
                    .map(|v| v.map(|f| f as i64))
                    .collect::<Vec<_>>(),
            ))
        } else {
            float_col(&values)
        };
        let opts = SortOptions::new()
            .descending(case["descending"].as_bool().unwrap())
            .nulls_last(case["nulls_last"].as_bool().unwrap());
        let want_idx = gus(&case["arg_sort"]);
        let want_sorted = gfs(&case["sort"]);
        let what = format!("{} {:?}", case["name"], opts);
        let df = frame(vec![("x", x)]);
        for threads in [1, 2] {
            let out = run(
                df.clone().lazy().select([
                    col("x").arg_sort(opts.clone()).alias("idx"),
                    col("x").sort(opts.clone()).alias("sorted"),
                ]),
                threads,
            );
            assert_eq!(out.column_f64("idx").unwrap(), want_idx, "{what}");
            assert!(
                same(&out.column_f64("sorted").unwrap(), &want_sorted),
                "{what}: {:?}",
                out.column_f64("sorted").unwrap()
            );
            // The frame-level sort and gather(arg_sort) give the same rows.
            let lf = df.clone().lazy().with_columns([row_index().alias("row")]);
            let sorted = run(lf.clone().sort("x", opts.clone()), threads);
            assert_eq!(sorted.column_f64("row").unwrap(), want_idx, "{what}");
            let gathered = run(lf.gather(col("x").arg_sort(opts.clone())), threads);
            assert_eq!(gathered.column_f64("row").unwrap(), want_idx, "{what}");
        }
    }
}

#[test]
fn top_k_and_bottom_k_match_polars() {
    let g = golden();
    for case in g["top_k"].as_array().unwrap() {
        let df = frame(vec![("x", float_col(&gfs(&case["values"])))]);
        let k = case["k"].as_u64().unwrap() as usize;
        for threads in [1, 2] {
            let out = run(df.clone().lazy().select([col("x").top_k(k)]), threads);
            let got = out.column_f64("x").unwrap();
            assert!(same(&got, &gfs(&case["top_k"])), "{case} got {got:?}");
            let out = run(df.clone().lazy().select([col("x").bottom_k(k)]), threads);
            let got = out.column_f64("x").unwrap();
            assert!(same(&got, &gfs(&case["bottom_k"])), "{case} got {got:?}");
        }
    }
}

#[test]
fn gather_matches_numpy_indexing() {
    let g = golden();
    for case in g["gather"].as_array().unwrap() {
        let values = gfs(&case["values"]);
        let n = values.len();
        let idx: Vec<i64> = case["indices"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        // Indices shorter than the frame: pad and keep the first ones with a mask.
        let mut padded = idx.clone();
        padded.resize(n, 0);
        let keep: Vec<bool> = (0..n).map(|i| i < idx.len()).collect();
        let df = frame(vec![
            ("x", float_col(&values)),
            ("i", Arc::new(Int64Array::from(padded))),
            ("keep", Arc::new(BooleanArray::from(keep))),
        ]);
        let out = run(
            df.lazy()
                .select([col("x").gather(col("i").filter(col("keep")))]),
            2,
        );
        let got = out.column_f64("x").unwrap();
        assert!(same(&got, &gfs(&case["expected"])), "{case} got {got:?}");
    }
}

#[test]
fn boolean_masks_match_numpy() {
    let g = golden();
    for case in g["filter"].as_array().unwrap() {
        let mask: Vec<Option<bool>> = case["mask"]
            .as_array()
            .unwrap()
            .iter()
            .map(Json::as_bool)
            .collect();
        let df = frame(vec![
            ("x", float_col(&gfs(&case["values"]))),
            ("m", Arc::new(BooleanArray::from(mask))),
        ]);
        let want = gfs(&case["expected"]);
        let out = run(df.clone().lazy().select([col("x").filter(col("m"))]), 2);
        assert!(same(&out.column_f64("x").unwrap(), &want), "{case}");
        // The frame-level filter keeps the same rows.
        let out = run(df.lazy().filter(col("m")), 2);
        assert!(same(&out.column_f64("x").unwrap(), &want), "{case}");
    }
}

#[test]
fn arg_min_arg_max_match_numpy() {
    // NumPy: the first occurrence of the extreme; the first NaN if there is one.
    let g = golden();
    for case in g["arg_min_max"].as_array().unwrap() {
        let df = frame(vec![("x", float_col(&gfs(&case["values"])))]);
        let out = run(
            df.lazy().select([
                col("x").arg_min().alias("lo"),
                col("x").arg_max().alias("hi"),
            ]),
            2,
        );
        assert_eq!(
            out.column_f64("lo").unwrap(),
            vec![case["arg_min"].as_f64()],
            "{case}"
        );
        assert_eq!(
            out.column_f64("hi").unwrap(),
            vec![case["arg_max"].as_f64()],
            "{case}"
        );
    }
}

fn ints(v: &Json) -> Vec<Option<f64>> {
    gus(v)
}

#[test]
fn random_values_equal_numpy_default_rng() {
    let g = golden();
    for case in g["random"].as_array().unwrap() {
        let seed: u64 = case["seed"].as_str().unwrap().parse().unwrap();
        let n = case["n"].as_u64().unwrap() as usize;
        for threads in [1, 2] {
            let out = run(
                zeros(n, ["z"]).select([
                    rand_uniform(0.0, 1.0, seed).alias("u"),
                    rand_uniform(-2.0, 3.0, seed).alias("u2"),
                    rand_int(0, 10, seed).alias("k"),
                    rand_int(-5, 3, seed).alias("k2"),
                    rand_int(-(1 << 62), 1 << 62, seed).alias("big"),
                ]),
                threads,
            );
            assert_eq!(out.column_f64("u").unwrap(), gfs(&case["uniform_0_1"]));
            assert_eq!(out.column_f64("u2").unwrap(), gfs(&case["uniform_m2_3"]));
            assert_eq!(out.column_f64("k").unwrap(), ints(&case["integers_0_10"]));
            assert_eq!(out.column_f64("k2").unwrap(), ints(&case["integers_m5_3"]));
            let big = out.column("big").unwrap();
            let big = big.as_any().downcast_ref::<Int64Array>().unwrap();
            let want: Vec<i64> = case["integers_big"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap().parse().unwrap())
                .collect();
            assert_eq!(big.values().to_vec(), want);

            let perm = run(range(0, n as i64).shuffle(seed), threads);
            assert_eq!(
                perm.column_f64("range").unwrap(),
                ints(&case["permutation"])
            );
            let one = run(range(0, 1).shuffle(seed), threads);
            assert_eq!(
                one.column_f64("range").unwrap(),
                ints(&case["permutation_1"])
            );
            let s = run(range(0, n as i64).sample_n(4, seed, false), threads);
            assert_eq!(s.column_f64("range").unwrap(), ints(&case["sample_4"]));
            let s = run(range(0, n as i64).sample_n(15, seed, true), threads);
            assert_eq!(
                s.column_f64("range").unwrap(),
                ints(&case["sample_replace_15"])
            );
            // Expression-level shuffle uses the same permutation.
            let e = run(
                range(0, n as i64).select([col("range").shuffle(seed)]),
                threads,
            );
            assert_eq!(e.column_f64("range").unwrap(), ints(&case["permutation"]));
        }
    }
}
