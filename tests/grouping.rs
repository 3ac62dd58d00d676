//! Grouping, checked against results computed another way: DuckDB's and Polars' answers on
//! the bundled datasets (`tests/golden/grouping.json`, made by
//! `tests/golden/make_grouping_golden.py`), row-by-row oracles written here, and property
//! tests that results do not depend on the thread count or on how the input is cut into
//! morsels.

#[path = "grouping/dictionary.rs"]
mod dictionary;
#[path = "golden_support/mod.rs"]
mod golden;
#[path = "grouping/spilling.rs"]
mod spilling;

use std::collections::HashMap;

use arrow::array::{Array, AsArray};
use arrow::util::display::array_value_to_string;
use fusedframe::prelude::*;
use proptest::prelude::*;
use serde_json::Value as Json;

fn root(file: &str) -> String {
    format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))
}

fn cars() -> LazyFrame {
    scan_csv(root("datasets/cars.csv"))
}

/// A column as strings (null as "null").
fn strings(df: &DataFrame, name: &str) -> Vec<String> {
    let c = df.column(name).unwrap();
    (0..c.len())
        .map(|i| {
            if c.is_null(i) {
                "null".into()
            } else {
                array_value_to_string(c.as_ref(), i).unwrap()
            }
        })
        .collect()
}

/// `got` equals the golden column `want` (strings exactly, numbers within a relative 1e-9).
fn same(case: &str, name: &str, df: &DataFrame, want: &Json) {
    let w = want.as_array().expect("golden column");
    let text = |v: &Json| {
        v.as_str()
            .is_some_and(|s| !["NaN", "inf", "-inf"].contains(&s))
    };
    if w.first().is_some_and(text) {
        let w: Vec<String> = w.iter().map(|v| v.as_str().unwrap().to_string()).collect();
        assert_eq!(strings(df, name), w, "{case}.{name}");
        return;
    }
    let got = df.column_f64(name).unwrap();
    let w = golden::floats(want);
    assert_eq!(got.len(), w.len(), "{case}.{name}: lengths");
    for (i, (g, w)) in got.iter().zip(&w).enumerate() {
        let ok = match (g, w) {
            (Some(g), Some(w)) => {
                (g.is_nan() && w.is_nan()) || (g - w).abs() <= 1e-9 * g.abs().max(w.abs()).max(1.0)
            }
            (None, None) => true,
            _ => false,
        };
        assert!(ok, "{case}.{name}[{i}]: got {g:?}, want {w:?}");
    }
}

fn check(case: &str, df: &DataFrame) {
    let want = golden::load("grouping.json");
    let cols = want[case].as_object().expect("golden case");
    for (name, values) in cols {
        same(case, name, df, values);
    }
}

#[test]
fn every_aggregate_by_origin_matches_duckdb() {
    let c = col;
    let df = cars()
        .group_by([c("origin")])
        .agg([
            len().alias("n"),
            c("horsepower").count().alias("hp_count"),
            c("horsepower").null_count().alias("hp_nulls"),
            c("weight_in_lbs").sum().alias("weight_sum"),
            c("miles_per_gallon").sum().alias("mpg_sum"),
            c("miles_per_gallon").mean().alias("mpg_mean"),
            c("horsepower").min().alias("hp_min"),
            c("horsepower").max().alias("hp_max"),
            c("miles_per_gallon").median().alias("mpg_median"),
            c("acceleration").quantile(0.3).alias("accel_q30"),
            c("weight_in_lbs").std(1).alias("weight_std1"),
            c("acceleration").var(0).alias("accel_var0"),
            corr(c("weight_in_lbs"), c("acceleration")).alias("weight_accel_corr"),
            c("cylinders").n_unique().alias("cylinder_kinds"),
            c("name").min().alias("first_name_alpha"),
            c("name").max().alias("last_name_alpha"),
        ])
        .collect()
        .unwrap();
    check("cars_by_origin", &df);
}

#[test]
fn several_keys_and_aggregates_of_expressions_match_duckdb() {
    let c = col;
    let df = cars()
        .group_by([c("origin"), c("cylinders")])
        .agg([
            len().alias("n"),
            (c("horsepower") * c("weight_in_lbs"))
                .sum()
                .alias("power_weight"),
            (c("miles_per_gallon").max() - c("miles_per_gallon").min()).alias("mpg_range"),
        ])
        .collect()
        .unwrap();
    check("cars_by_origin_cylinders", &df);
}

#[test]
fn positions_within_groups_match_duckdb() {
    let c = col;
    let df = scan_csv(root("datasets/iris.csv"))
        .group_by([c("species")])
        .agg([
            c("petal_length").arg_min().alias("petal_argmin"),
            c("sepal_width").arg_max().alias("sepal_argmax"),
            c("sepal_length").first().alias("first_sepal"),
            c("sepal_length").last().alias("last_sepal"),
        ])
        .collect()
        .unwrap();
    check("iris_arg", &df);
}

#[test]
fn windows_over_groups_match_polars() {
    let df = cars()
        .select([
            (col("weight_in_lbs") - col("weight_in_lbs").mean().over([col("origin")]))
                .alias("weight_dev"),
            col("miles_per_gallon")
                .max()
                .over([col("origin"), col("cylinders")])
                .alias("mpg_max"),
        ])
        .collect()
        .unwrap();
    check("cars_over", &df);
    let df = scan_csv(root("datasets/stocks.csv"))
        .select([col("price")
            .rolling_mean(3)
            .over([col("symbol")])
            .alias("ma3")])
        .collect()
        .unwrap();
    check("stocks_rolling_over", &df);
}

#[test]
fn head_per_group_and_unique_match_polars() {
    let df = cars()
        .group_by([col("origin")])
        .head(2)
        .select([col("origin"), col("name")])
        .collect()
        .unwrap();
    check("cars_head2", &df);
    let df = cars()
        .unique_subset(["origin", "cylinders"])
        .select([col("name")])
        .collect()
        .unwrap();
    check("cars_unique_origin_cylinders", &df);
}

/// A frame with every kind of key: strings with nulls, integers, floats with NaN, -0.0 and
/// nulls, booleans, dates; and values with NaN and nulls. `seed` varies the rows.
fn mixed(n: usize, seed: u64) -> DataFrame {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut sk = vec![];
    let mut ik = vec![];
    let mut fk = vec![];
    let mut bk = vec![];
    let mut dk = vec![];
    let mut v = vec![];
    let mut w = vec![];
    for _ in 0..n {
        let r = next();
        sk.push(match r % 7 {
            0 => None,
            k => Some(["ab", "b", "", "long key of a few words", "é", "z"][k as usize - 1]),
        });
        ik.push((r >> 8) as i64 % 5 - 2);
        fk.push(match (r >> 12) % 9 {
            0 => None,
            1 => Some(f64::NAN),
            2 => Some(-0.0),
            3 => Some(0.0),
            k => Some(k as f64 / 4.0),
        });
        bk.push(match (r >> 16) % 3 {
            0 => None,
            k => Some(k == 1),
        });
        dk.push(((r >> 20) % 4) as i32 + 19000);
        v.push(match (r >> 24) % 13 {
            0 => None,
            1 => Some(f64::NAN),
            // Multiples of 1/8: sums are exact in any order.
            k => Some(((r >> 28) % 200) as f64 / 8.0 - k as f64),
        });
        w.push(((r >> 36) % 1000) as i64 - 500);
    }
    let dates = arrow::array::Date32Array::from(dk);
    let df = DataFrame::new(vec![
        Column::new("s", sk),
        Column::new("i", ik),
        Column::new("f", fk),
        Column::new("b", bk),
        Column::new("v", v),
        Column::new("w", w),
    ])
    .unwrap();
    let mut cols = df.columns().to_vec();
    cols.push(std::sync::Arc::new(dates));
    let mut fields: Vec<arrow::datatypes::Field> = df
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(arrow::datatypes::Field::new(
        "d",
        arrow::datatypes::DataType::Date32,
        true,
    ));
    DataFrame::from_arrays(
        std::sync::Arc::new(arrow::datatypes::Schema::new(fields)),
        cols,
    )
    .unwrap()
}

/// Each row's key as text, NaN as one value, -0.0 as 0.0, null as "null".
fn key_texts(df: &DataFrame, keys: &[&str]) -> Vec<String> {
    let cols: Vec<Vec<String>> = keys
        .iter()
        .map(|k| {
            strings(df, k)
                .into_iter()
                .map(|t| {
                    if t == "-0.0" || t == "-0" {
                        "0".into()
                    } else {
                        t
                    }
                })
                .map(|t| if t == "0.0" { "0".into() } else { t })
                .collect()
        })
        .collect();
    (0..df.height())
        .map(|r| {
            cols.iter()
                .map(|c| c[r].clone())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

/// The rows of each group in order of first appearance, by a plain scan.
fn oracle_groups(df: &DataFrame, keys: &[&str]) -> Vec<(String, Vec<usize>)> {
    let texts = key_texts(df, keys);
    let mut order: Vec<(String, Vec<usize>)> = vec![];
    let mut at: HashMap<String, usize> = HashMap::new();
    for (r, t) in texts.into_iter().enumerate() {
        match at.get(&t) {
            Some(&g) => order[g].1.push(r),
            None => {
                at.insert(t.clone(), order.len());
                order.push((t, vec![r]));
            }
        }
    }
    order
}

/// Row-by-row answers for a group's rows of `v` (floats with NaN and nulls).
fn oracle_stats(v: &[Option<f64>], rows: &[usize]) -> [Option<f64>; 8] {
    let vals: Vec<f64> = rows.iter().filter_map(|&r| v[r]).collect();
    let nan = vals.iter().any(|x| x.is_nan());
    let clean: Vec<f64> = vals.iter().copied().filter(|x| !x.is_nan()).collect();
    let sum: f64 = vals.iter().sum();
    let nan_sum: f64 = clean.iter().sum();
    let min = if nan {
        Some(f64::NAN)
    } else {
        clean.iter().copied().reduce(f64::min)
    };
    let nan_max = clean.iter().copied().reduce(f64::max);
    let mean = sum / vals.len() as f64;
    let first = rows.first().map(|&r| v[r]).unwrap_or(None);
    let count = vals.len() as f64;
    let mut distinct: Vec<String> = rows
        .iter()
        .map(|&r| match v[r] {
            None => "null".into(),
            Some(x) if x.is_nan() => "NaN".into(),
            Some(x) => format!("{}", x + 0.0),
        })
        .collect();
    distinct.sort();
    distinct.dedup();
    [
        Some(sum),
        Some(nan_sum),
        min,
        nan_max,
        Some(mean),
        first,
        Some(count),
        Some(distinct.len() as f64),
    ]
}

fn agree(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => (x.is_nan() && y.is_nan()) || x == y,
        (None, None) => true,
        _ => false,
    }
}

#[test]
fn aggregates_by_every_key_type_equal_a_row_by_row_oracle() {
    let df = mixed(3000, 11);
    let v = df.column_f64("v").unwrap();
    for keys in [
        vec!["s"],
        vec!["i"],
        vec!["f"],
        vec!["b"],
        vec!["d"],
        vec!["s", "f"],
        vec!["b", "i", "d"],
    ] {
        let out = df
            .clone()
            .lazy()
            .group_by(keys.iter().map(|k| col(*k)))
            .agg([
                col("v").sum().alias("sum"),
                col("v").nan_sum().alias("nan_sum"),
                col("v").min().alias("min"),
                col("v").nan_max().alias("nan_max"),
                col("v").mean().alias("mean"),
                col("v").first().alias("first"),
                col("v").count().alias("count"),
                col("v").n_unique().alias("distinct"),
            ])
            .collect()
            .unwrap();
        let want = oracle_groups(&df, &keys);
        assert_eq!(out.height(), want.len(), "{keys:?}: groups");
        assert_eq!(
            key_texts(&out, &keys),
            want.iter().map(|g| g.0.clone()).collect::<Vec<_>>()
        );
        let names = [
            "sum", "nan_sum", "min", "nan_max", "mean", "first", "count", "distinct",
        ];
        let got: Vec<Vec<Option<f64>>> = names.iter().map(|n| out.column_f64(n).unwrap()).collect();
        for (g, (_, rows)) in want.iter().enumerate() {
            let o = oracle_stats(&v, rows);
            for (k, name) in names.iter().enumerate() {
                assert!(
                    agree(got[k][g], o[k]),
                    "{keys:?} group {g} {name}: got {:?}, oracle {:?}",
                    got[k][g],
                    o[k]
                );
            }
        }
    }
}

#[test]
fn head_unique_and_over_equal_a_row_by_row_oracle() {
    let df = mixed(2000, 5);
    let keys = ["s", "b"];
    let groups = oracle_groups(&df, &keys);
    // head(3): each group's first three rows, group after group.
    let out = df
        .clone()
        .lazy()
        .group_by([col("s"), col("b")])
        .head(3)
        .collect()
        .unwrap();
    let want: Vec<i64> = groups
        .iter()
        .flat_map(|(_, rows)| rows.iter().take(3).copied())
        .map(|r| {
            df.column("w")
                .unwrap()
                .as_primitive::<arrow::datatypes::Int64Type>()
                .value(r)
        })
        .collect();
    let got: Vec<i64> = out
        .column("w")
        .unwrap()
        .as_primitive::<arrow::datatypes::Int64Type>()
        .values()
        .to_vec();
    assert_eq!(got, want);
    // unique_subset: each group's first row, in input order.
    let out = df.clone().lazy().unique_subset(keys).collect().unwrap();
    let firsts: Vec<usize> = groups.iter().map(|(_, rows)| rows[0]).collect();
    let w = df
        .column("w")
        .unwrap()
        .as_primitive::<arrow::datatypes::Int64Type>()
        .clone();
    assert_eq!(
        out.column("w")
            .unwrap()
            .as_primitive::<arrow::datatypes::Int64Type>()
            .values()
            .to_vec(),
        firsts.iter().map(|&r| w.value(r)).collect::<Vec<_>>()
    );
    // over: each row gets its group's sum of w and its rank of arrival in the group.
    let out = df
        .clone()
        .lazy()
        .select([
            col("w").sum().over([col("s"), col("b")]).alias("total"),
            col("w")
                .rolling_sum(2)
                .over([col("s"), col("b")])
                .alias("pair"),
        ])
        .collect()
        .unwrap();
    let total = out.column_f64("total").unwrap();
    let pair = out.column_f64("pair").unwrap();
    for (_, rows) in &groups {
        let sum: i64 = rows.iter().map(|&r| w.value(r)).sum();
        for (k, &r) in rows.iter().enumerate() {
            assert_eq!(total[r], Some(sum as f64));
            let want = (k > 0).then(|| (w.value(rows[k - 1]) + w.value(r)) as f64);
            assert_eq!(pair[r], want);
        }
    }
}

#[test]
fn plan_errors_name_the_problem() {
    let df = mixed(10, 1);
    let err = df
        .clone()
        .lazy()
        .group_by([col("s")])
        .agg([col("v")])
        .collect()
        .unwrap_err()
        .to_string();
    assert!(err.contains("one value per group"), "{err}");
    let err = df
        .clone()
        .lazy()
        .group_by([col("nope")])
        .agg([len()])
        .collect()
        .unwrap_err()
        .to_string();
    assert!(err.contains("nope"), "{err}");
    let err = df
        .lazy()
        .group_by(Vec::<Expr>::new())
        .agg([len()])
        .collect()
        .unwrap_err()
        .to_string();
    assert!(err.contains("at least one key"), "{err}");
}

/// Aggregates by a string and a float key, as texts. (Variances are left out: a group's
/// moments merge differently when the rows are cut into morsels differently, so they agree
/// only to rounding; sums of these values are exact in any order.)
fn grouped(lf: LazyFrame, threads: usize) -> Vec<Vec<String>> {
    let out = lf
        .group_by([col("s"), col("f")])
        .agg([
            col("v").sum().alias("sum"),
            col("v").mean().alias("mean"),
            col("v").nan_min().alias("min"),
            col("v").median().alias("median"),
            col("w").arg_max().alias("argmax"),
            col("w").last().alias("last"),
            col("v").n_unique().alias("distinct"),
            len(),
        ])
        .collect_with(&ExecOptions::new().threads(threads))
        .unwrap();
    out.column_names()
        .iter()
        .map(|n| strings(&out, n))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// The same rows give the same groups in the same order and the same values, however many
    /// threads run and however the file cuts them into morsels (row groups).
    #[test]
    fn results_do_not_depend_on_threads_or_morsels(
        seed in 0u64..1000,
        n in 1usize..3000,
        rg1 in 1usize..400,
        rg2 in 400usize..5000,
    ) {
        let df = mixed(n, seed);
        let base = grouped(df.clone().lazy(), 1);
        prop_assert_eq!(&grouped(df.clone().lazy(), 4), &base);
        let dir = tempfile::tempdir().unwrap();
        for rg in [rg1, rg2] {
            let path = dir.path().join(format!("g{rg}.parquet"));
            fusedframe::io::write_parquet_with_row_groups(&df, &path, rg).unwrap();
            for threads in [1, 3] {
                prop_assert_eq!(&grouped(scan_parquet(&path), threads), &base);
            }
        }
    }
}

/// A grouping with no rows left gives an empty frame of the right types, for every key width
/// (an empty key buffer once made a misaligned Int64 array).
#[test]
fn a_grouping_of_no_rows_is_an_empty_frame() {
    let df = df!(
        "k64" => [1i64, 2, 2],
        "k32" => [1i32, 2, 2],
        "s" => ["a", "b", "b"],
        "v" => [1.0, 2.0, 3.0]
    )
    .unwrap();
    for key in ["k64", "k32", "s"] {
        let out = df
            .clone()
            .lazy()
            .filter(col("v").gt(10.0))
            .group_by([col(key)])
            .agg([col("v").mean().alias("m")])
            .collect()
            .unwrap();
        assert_eq!(out.height(), 0, "{key}");
        assert_eq!(out.width(), 2, "{key}");
    }
}

/// `n_unique` per group across many partials equals a set per group: keys in order (each
/// group in one or two morsels, as TPC-H's lineitem by order) and scattered (every group in
/// many), values repeating across morsels, nulls; 1 and 2 threads, small row groups.
#[test]
fn distinct_counts_across_morsels_equal_a_set_per_group() {
    let n = 60_000usize;
    let dir = tempfile::tempdir().unwrap();
    for (name, key) in [
        (
            "ordered",
            (0..n).map(|r| (r / 7) as i64).collect::<Vec<_>>(),
        ),
        (
            "scattered",
            (0..n)
                .map(|r| ((r * 7919) % 997) as i64)
                .collect::<Vec<_>>(),
        ),
    ] {
        let v: Vec<Option<i64>> = (0..n)
            .map(|r| (r % 13 != 5).then_some(((r * 31) % 11) as i64))
            .collect();
        let mut want: HashMap<i64, std::collections::HashSet<Option<i64>>> = HashMap::new();
        for (k, x) in key.iter().zip(&v) {
            want.entry(*k).or_default().insert(*x);
        }
        let df = DataFrame::new(vec![Column::new("k", key.clone()), Column::new("v", v)]).unwrap();
        let path = dir.path().join(format!("{name}.parquet"));
        fusedframe::io::write_parquet_with_row_groups(&df, &path, 1000).unwrap();
        for threads in [1, 2] {
            let out = scan_parquet(&path)
                .group_by([col("k")])
                .agg([col("v").n_unique().alias("distinct")])
                .collect_with(&ExecOptions::new().threads(threads))
                .unwrap();
            assert_eq!(out.height(), want.len(), "{name}");
            let (ks, ds) = (strings(&out, "k"), strings(&out, "distinct"));
            for (k, d) in ks.iter().zip(&ds) {
                let k: i64 = k.parse().unwrap();
                assert_eq!(
                    d,
                    &want[&k].len().to_string(),
                    "{name}, {threads} threads, key {k}"
                );
            }
        }
    }
}
