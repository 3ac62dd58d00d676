//! Fills, scalers, rolling windows, horizontal and closure functions, `describe` and the
//! NaN/null row filters against golden values from NumPy, pandas, Polars and scikit-learn
//! (tests/golden/make_fill_scale_window_golden.py writes tests/golden/fill_scale_window.json),
//! plus thread-count determinism, selectors, plan text and error messages.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use fusedframe::prelude::*;
use serde_json::Value as Json;

mod golden_support;

fn golden() -> Json {
    golden_support::load("fill_scale_window.json")
}

use golden_support::floats as nums;

fn frame(name: &str, values: Vec<Option<f64>>) -> DataFrame {
    let a: ArrayRef = Arc::new(Float64Array::from(values));
    DataFrame::new(vec![Column::new(name, a)]).unwrap()
}

/// Equal within `tol` relative (or absolute below 1); NaN equals NaN, null equals null.
fn assert_close(got: &[Option<f64>], want: &[Option<f64>], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let ok = match (g, w) {
            (None, None) => true,
            (Some(g), Some(w)) if w.is_nan() => g.is_nan(),
            (Some(g), Some(w)) if w.is_infinite() => g == w,
            (Some(g), Some(w)) => (g - w).abs() <= tol * w.abs().max(1.0),
            _ => false,
        };
        assert!(
            ok,
            "{what}: row {i}: got {g:?}, want {w:?}\n got {got:?}\nwant {want:?}"
        );
    }
}

fn rolling_options(arg: &Json) -> RollingOptions {
    let mut o = RollingOptions::new(arg["window"].as_u64().unwrap() as usize)
        .center(arg["center"].as_bool().unwrap());
    if let Some(m) = arg["min_periods"].as_u64() {
        o = o.min_periods(m as usize);
    }
    if let Some(d) = arg["ddof"].as_u64() {
        o = o.ddof(d as u8);
    }
    if let Some(w) = arg["weights"].as_array() {
        o = o.weights(w.iter().map(|v| v.as_f64().unwrap()));
    }
    o
}

fn fill(name: &str) -> Fill {
    match name {
        "Mean" => Fill::Mean,
        "Median" => Fill::Median,
        "Min" => Fill::Min,
        "Max" => Fill::Max,
        "Zero" => Fill::Zero,
        "Forward" => Fill::Forward,
        "Backward" => Fill::Backward,
        other => panic!("unknown fill {other}"),
    }
}

fn case_expr(op: &str, arg: &Json) -> Expr {
    let x = col("x");
    match op {
        "fill_nan_with" => x.fill_nan_with(fill(arg.as_str().unwrap())),
        "fill_null_with" => x.fill_null_with(fill(arg.as_str().unwrap())),
        "min_max_scale" => x.min_max_scale(),
        "min_max_scale_range" => x.min_max_scale_range(-1.0, 1.0),
        "standardize" => x.standardize(),
        "rolling_sum" => x.rolling_sum_with(rolling_options(arg)),
        "rolling_mean" => x.rolling_mean_with(rolling_options(arg)),
        "rolling_min" => x.rolling_min_with(rolling_options(arg)),
        "rolling_max" => x.rolling_max_with(rolling_options(arg)),
        "rolling_var" => x.rolling_var_with(rolling_options(arg)),
        "rolling_std" => x.rolling_std_with(rolling_options(arg)),
        "rolling_median" => x.rolling_median_with(rolling_options(arg)),
        other => panic!("unknown op {other}"),
    }
}

#[test]
fn golden_fills_scalers_and_rolling_windows() {
    let g = golden();
    let cases = g["cases"].as_array().unwrap();
    assert!(cases.len() > 500);
    for c in cases {
        let (op, input) = (c["op"].as_str().unwrap(), c["input"].as_str().unwrap());
        let df = frame("x", nums(&g["inputs"][input]));
        let e = case_expr(op, &c["arg"]);
        let what = format!("{e} on {input}");
        let out = df
            .lazy()
            .select([e.alias("r")])
            .collect()
            .unwrap_or_else(|err| panic!("{what}: {err}"));
        // Running sums and shifted variances vs NumPy's from-scratch windows.
        assert_close(
            &out.column_f64("r").unwrap(),
            &nums(&c["expected"]),
            1e-12,
            &what,
        );
    }
}

#[test]
fn golden_horizontal_and_map_rows() {
    let g = golden();
    let h = &g["horizontal_input"];
    let ints = |k: &str| -> ArrayRef {
        let v: Vec<Option<i64>> = nums(&h[k])
            .into_iter()
            .map(|v| v.map(|v| v as i64))
            .collect();
        Arc::new(Int64Array::from(v))
    };
    let floats = |k: &str| -> ArrayRef { Arc::new(Float64Array::from(nums(&h[k]))) };
    let df = DataFrame::new(vec![
        Column::new("a", floats("a")),
        Column::new("b", floats("b")),
        Column::new("i", ints("i")),
        Column::new("j", ints("j")),
    ])
    .unwrap();
    for case in g["horizontal"].as_array().unwrap() {
        let names: Vec<String> = case["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let cols_e = || names.iter().map(col).collect::<Vec<_>>();
        let out = df
            .clone()
            .lazy()
            .select([
                sum_horizontal(cols_e()).alias("sum"),
                mean_horizontal(cols_e()).alias("mean"),
                min_horizontal(cols_e()).alias("min"),
                max_horizontal(cols_e()).alias("max"),
            ])
            .collect()
            .unwrap();
        for k in ["sum", "mean", "min", "max"] {
            let what = format!("{k}_horizontal({names:?})");
            assert_close(&out.column_f64(k).unwrap(), &nums(&case[k]), 1e-15, &what);
            let want = match case["dtypes"][k].as_str().unwrap() {
                "Int64" => DataType::Int64,
                _ => DataType::Float64,
            };
            assert_eq!(out.column(k).unwrap().data_type(), &want, "{what}");
        }
    }
    let norm = df
        .lazy()
        .select([map_rows([col("a"), col("b")], |r: &[f64]| {
            (r[0] * r[0] + r[1] * r[1]).sqrt()
        })])
        .collect()
        .unwrap();
    assert_close(
        &norm.column_f64("a").unwrap(),
        &nums(&g["map_rows_norm_ab"]),
        0.0,
        "map_rows",
    );
}

#[test]
fn golden_describe() {
    let g = golden();
    for (name, want) in g["describe"].as_object().unwrap() {
        let df = frame("x", nums(&g["inputs"][name]));
        let d = df.lazy().describe().collect().unwrap();
        assert_eq!(d.column_names(), vec!["statistic", "x"]);
        let stats: Vec<_> = d
            .column("statistic")
            .unwrap()
            .as_any()
            .downcast_ref::<StringArray>()
            .unwrap()
            .iter()
            .map(|s| s.unwrap().to_string())
            .collect();
        assert_eq!(
            stats,
            [
                "count",
                "null_count",
                "mean",
                "std",
                "min",
                "25%",
                "50%",
                "75%",
                "max"
            ]
        );
        assert_close(
            &d.column_f64("x").unwrap(),
            &nums(want),
            1e-12,
            &format!("describe {name}"),
        );
    }
}

#[test]
fn describe_keeps_numeric_columns_in_order() {
    let df = df!("s" => ["a", "b"], "i" => [1, 3], "f" => [0.5, f64::NAN]).unwrap();
    let d = df.lazy().describe().collect().unwrap();
    assert_eq!(d.column_names(), vec!["statistic", "i", "f"]);
    assert_eq!(d.column_f64("i").unwrap()[2], Some(2.0));
    assert_eq!(d.column_f64("f").unwrap()[0], Some(1.0));
}

#[test]
fn golden_drop_nans_and_nulls() {
    let g = golden();
    let d = &g["drop_input"];
    let s: Vec<Option<&str>> = d["s"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str())
        .collect();
    let df = DataFrame::new(vec![
        Column::new("a", Arc::new(Float64Array::from(nums(&d["a"]))) as ArrayRef),
        Column::new("b", Arc::new(Float64Array::from(nums(&d["b"]))) as ArrayRef),
        Column::new("s", Arc::new(StringArray::from(s)) as ArrayRef),
        Column::new("idx", [0, 1, 2, 3, 4, 5]),
    ])
    .unwrap();
    let idx =
        |lf: LazyFrame| -> Vec<Option<f64>> { lf.collect().unwrap().column_f64("idx").unwrap() };
    let want = |k: &str| -> Vec<Option<f64>> { nums(&g["drops"][k]) };
    assert_eq!(idx(df.clone().lazy().drop_nans()), want("drop_nans"));
    assert_eq!(idx(df.clone().lazy().drop_nulls()), want("drop_nulls"));
    assert_eq!(
        idx(df.clone().lazy().drop_nans_in(["a"])),
        want("drop_nans_in_a")
    );
    assert_eq!(
        idx(df.clone().lazy().drop_nulls_in(["a", "b"])),
        want("drop_nulls_in_a_b")
    );
    // They stay lazy: plain filters in the plan.
    let plan = df.lazy().drop_nans().explain(false).unwrap();
    assert!(plan.contains("is_not_nan().fill_null(true)"), "{plan}");
}

/// A column of `n` rows with NaN, nulls and a large offset, deterministic.
fn messy(n: usize) -> DataFrame {
    let v: Vec<Option<f64>> = (0..n)
        .map(|i| match i % 1009 {
            7 => None,
            11 => Some(f64::NAN),
            _ => Some(1e6 + ((i * 7919) % 10007) as f64 / 7.0),
        })
        .collect();
    let i: Vec<i64> = (0..n as i64).map(|k| (k * 31) % 1000).collect();
    DataFrame::new(vec![Column::new("x", v), Column::new("i", i)]).unwrap()
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let df = messy(3 * 65_536 + 123);
    let q = || {
        df.clone().lazy().select([
            col("x").fill_nan_with(Fill::Mean).alias("fill_mean"),
            col("x").fill_null_with(Fill::Median).alias("fill_median"),
            col("x").fill_null_with(Fill::Forward).alias("ffill"),
            col("x").fill_nan_with(Fill::Backward).alias("bfill"),
            col("x").min_max_scale().alias("mm"),
            col("x").standardize().alias("z"),
            col("x").rolling_mean(20).alias("rm"),
            col("x")
                .rolling_sum_with(RollingOptions::new(100).min_periods(1).center(true))
                .alias("rs"),
            col("x").rolling_std(50).alias("rstd"),
            col("x").rolling_min(30).alias("rmin"),
            col("x").rolling_median(31).alias("rmed"),
            col("x")
                .rolling_mean_with(RollingOptions::new(3).weights([1.0, 2.0, 3.0]))
                .alias("rw"),
            sum_horizontal([col("x"), col("i")]).alias("h"),
        ])
    };
    let one = q().collect_with(&ExecOptions::new().threads(1)).unwrap();
    let two = q().collect_with(&ExecOptions::new().threads(2)).unwrap();
    let three = q().collect_with(&ExecOptions::new().threads(3)).unwrap();
    assert!(one.equals(&two) && one.equals(&three));
}

#[test]
fn rolling_sums_stay_accurate_over_ten_million_rows() {
    // A large offset and a long run: each window must match a from-scratch compensated sum.
    let n = 10_000_000usize;
    let v: Vec<f64> = (0..n)
        .map(|i| 1e9 + ((i as u64).wrapping_mul(2654435761) % 1_000_003) as f64 * 1e-3)
        .collect();
    let df = DataFrame::new(vec![Column::new("x", v.clone())]).unwrap();
    let out = df
        .lazy()
        .select([
            col("x").rolling_sum(20).alias("s"),
            col("x").rolling_mean(20).alias("m"),
        ])
        .collect()
        .unwrap();
    let (s, m) = (out.column_f64("s").unwrap(), out.column_f64("m").unwrap());
    for i in (19..n).step_by(9_973).chain([n - 1]) {
        let w = &v[i - 19..=i];
        // Reference: sum of the deviations from the offset (exact here), plus the offset.
        let exact = w.iter().map(|x| x - 1e9).sum::<f64>() + 20.0 * 1e9;
        let got = s[i].unwrap();
        assert!(
            (got - exact).abs() <= 1e-12 * exact.abs(),
            "row {i}: {got} vs {exact}"
        );
        assert!((m[i].unwrap() - exact / 20.0).abs() <= 1e-12 * exact.abs() / 20.0);
    }
}

mod prop {
    use super::*;
    use proptest::prelude::*;

    fn naive(v: &[Option<f64>], w: usize, mp: usize, mean: bool) -> Vec<Option<f64>> {
        (0..v.len())
            .map(|i| {
                let xs: Vec<f64> = v[(i + 1).saturating_sub(w)..=i]
                    .iter()
                    .flatten()
                    .copied()
                    .collect();
                if xs.len() < mp {
                    return None;
                }
                // Sum of the deviations from the first value, then the offset back: exact
                // enough to judge a 1e-12 relative error.
                let k = xs[0];
                let s = xs.iter().map(|x| x - k).sum::<f64>() + k * xs.len() as f64;
                Some(if mean { s / xs.len() as f64 } else { s })
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn running_sums_match_recomputed_windows(
            offset in prop_oneof![Just(0.0), Just(1e6), Just(-1e9), Just(1e12)],
            raw in proptest::collection::vec(proptest::option::weighted(0.9, -1000.0f64..1000.0), 0..400),
            w in 1usize..40,
            mp in 1usize..40,
        ) {
            let mp = mp.min(w);
            let v: Vec<Option<f64>> = raw.iter().map(|x| x.map(|x| x + offset)).collect();
            let df = frame("x", v.clone());
            let o = RollingOptions::new(w).min_periods(mp);
            let out = df.lazy().select([
                col("x").rolling_sum_with(o.clone()).alias("s"),
                col("x").rolling_mean_with(o).alias("m"),
            ]).collect().unwrap();
            // The from-scratch reference rounds too: when a window cancels (terms of ~1e3
            // summing to ~1), both sides can only be held to 1e-12 of the terms' magnitude,
            // so the tolerance scales with the window's sum (or mean) of absolute values.
            let abs: Vec<Option<f64>> = v.iter().map(|x| x.map(f64::abs)).collect();
            let check = |got: Vec<Option<f64>>, want: Vec<Option<f64>>, scale: Vec<Option<f64>>, what: &str| {
                for (i, ((g, w), sc)) in got.iter().zip(&want).zip(&scale).enumerate() {
                    let ok = match (g, w) {
                        (None, None) => true,
                        (Some(g), Some(w)) => {
                            let m = w.abs().max(sc.unwrap_or(0.0)).max(1.0);
                            (g - w).abs() <= 1e-12 * m
                        }
                        _ => false,
                    };
                    assert!(ok, "{what}: row {i}: got {g:?}, want {w:?}");
                }
            };
            check(out.column_f64("s").unwrap(), naive(&v, w, mp, false), naive(&abs, w, mp, false), "sum");
            check(out.column_f64("m").unwrap(), naive(&v, w, mp, true), naive(&abs, w, mp, true), "mean");
        }
    }
}

#[test]
fn selectors_apply_per_column_and_keep_names() {
    let df = df!("a" => [1.0, 2.0, 3.0], "b" => [10, 20, 40], "s" => ["x", "y", "z"]).unwrap();
    let out = df
        .clone()
        .lazy()
        .with_columns([cols(["a", "b"]).min_max_scale()])
        .collect()
        .unwrap();
    assert_eq!(out.column_names(), vec!["a", "b", "s"]);
    assert_eq!(
        out.column_f64("b").unwrap(),
        vec![Some(0.0), Some(1.0 / 3.0), Some(1.0)]
    );
    let out = df
        .clone()
        .lazy()
        .with_columns([
            all_numeric().standardize(),
            all_numeric().rolling_max(2).alias("never"),
        ])
        .collect();
    // An alias on a multi-column selector is an error (it would name both columns alike).
    assert!(out.is_err());
    let out = df
        .lazy()
        .select([
            sum_horizontal([all_numeric()]).alias("t"),
            max_horizontal([cols(["a", "b"])]).alias("m"),
        ])
        .collect()
        .unwrap();
    assert_eq!(
        out.column_f64("t").unwrap(),
        vec![Some(11.0), Some(22.0), Some(43.0)]
    );
    assert_eq!(
        out.column_f64("m").unwrap(),
        vec![Some(10.0), Some(20.0), Some(40.0)]
    );
}

/// A table wider than the planner's name-index threshold (32 columns), read from Parquet in
/// several row groups: every column standardized at once gives what each column standardized
/// alone in memory gives, float32 stays float32, and a projection in another order than the
/// file's reads the right columns.
#[test]
fn wide_parquet_tables_scale_per_column() {
    let width = 48;
    let rows = 300;
    let columns: Vec<Column> = (0..width)
        .map(|j| {
            let v: Vec<f32> = (0..rows)
                .map(|i| (((i * 7 + j) % 53) as f32).sin() * (j + 1) as f32)
                .collect();
            Column::new(format!("c{j}"), v)
        })
        .collect();
    let df = DataFrame::new(columns).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.parquet");
    let mut file = std::fs::File::create(&path).unwrap();
    fusedframe::io::parquet::write_with_row_groups(&df, &mut file, 128).unwrap();
    drop(file);

    let all = scan_parquet(&path)
        .with_columns([all_numeric().standardize()])
        .collect()
        .unwrap();
    assert_eq!(all.shape(), (rows, width));
    for j in [0, 1, 31, 32, 33, width - 1] {
        let name = format!("c{j}");
        assert_eq!(all.column(&name).unwrap().data_type(), &DataType::Float32);
        let alone = df
            .clone()
            .lazy()
            .select([col(&name).standardize()])
            .collect()
            .unwrap();
        let (got, want) = (
            all.column_f64(&name).unwrap(),
            alone.column_f64(&name).unwrap(),
        );
        for (g, w) in got.iter().zip(&want) {
            match (g, w) {
                (Some(g), Some(w)) if g.is_nan() || w.is_nan() => {
                    assert!(g.is_nan() && w.is_nan(), "{name}: {g} vs {w}")
                }
                (Some(g), Some(w)) => assert!((g - w).abs() <= 1e-5, "{name}: {g} vs {w}"),
                _ => assert_eq!(g, w, "{name}"),
            }
        }
    }

    let picked = scan_parquet(&path)
        .select([col("c40"), col("c2"), col("c40").alias("again"), col("c35")])
        .collect()
        .unwrap();
    assert_eq!(picked.column_names(), vec!["c40", "c2", "again", "c35"]);
    for (out, src) in [
        ("c40", "c40"),
        ("c2", "c2"),
        ("again", "c40"),
        ("c35", "c35"),
    ] {
        let (a, b) = (picked.column_f64(out).unwrap(), df.column_f64(src).unwrap());
        assert!(
            a.iter()
                .zip(&b)
                .all(|(x, y)| x.map(f64::to_bits) == y.map(f64::to_bits)),
            "{out}"
        );
    }
}

#[test]
fn map_columns_runs_a_column_closure() {
    let df = df!("a" => [1.0, 2.0, 3.0], "b" => [2, 4, 6]).unwrap();
    let centre = ColumnUdf::new("centre", |a: &Float64Array| {
        let mean = a.iter().flatten().sum::<f64>() / a.len() as f64;
        Ok(a.iter().map(|v| v.map(|v| v - mean)).collect())
    });
    let out = df
        .clone()
        .lazy()
        .with_columns([cols(["a", "b"]).map_columns(centre.clone())])
        .collect()
        .unwrap();
    assert_eq!(
        out.column_f64("b").unwrap(),
        vec![Some(-2.0), Some(0.0), Some(2.0)]
    );
    let text = df
        .clone()
        .lazy()
        .select([col("a").map_columns(centre)])
        .explain(false)
        .unwrap();
    assert!(text.contains("col(\"a\").map_columns(centre)"), "{text}");
    let bad = |_: &Float64Array| Ok(Float64Array::from(vec![1.0]));
    let err = df
        .lazy()
        .select([col("a").map_columns(bad)])
        .collect()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("returned 1 rows for a column of 3"),
        "{err}"
    );
}

#[test]
fn plan_text_reads_as_rust() {
    let e = col("x").rolling_mean(20);
    assert_eq!(e.to_string(), "col(\"x\").rolling_mean(20)");
    let e = col("x").rolling_std_with(RollingOptions::new(5).min_periods(2).center(true).ddof(0));
    assert_eq!(
        e.to_string(),
        "col(\"x\").rolling_std_with(RollingOptions::new(5).min_periods(2).center(true).ddof(0))"
    );
    assert_eq!(
        col("x").fill_nan_with(Fill::Mean).to_string(),
        "col(\"x\").fill_nan_with(Fill::Mean)"
    );
    assert_eq!(
        col("x").min_max_scale_range(-1.0, 1.0).to_string(),
        "col(\"x\").min_max_scale_range(-1.0, 1.0)"
    );
    assert_eq!(
        sum_horizontal([col("a"), col("b")]).to_string(),
        "sum_horizontal([col(\"a\"), col(\"b\")])"
    );
}

#[test]
fn bad_arguments_are_plan_or_type_errors() {
    let df = df!("x" => [1.0, 2.0], "s" => ["a", "b"]).unwrap();
    let err = |e: Expr| {
        df.clone()
            .lazy()
            .select([e])
            .schema()
            .unwrap_err()
            .to_string()
    };
    assert!(err(col("x").rolling_mean(0)).contains("at least 1 row"));
    assert!(
        err(col("x").rolling_mean_with(RollingOptions::new(3).min_periods(4)))
            .contains("min_periods")
    );
    assert!(
        err(col("x").rolling_sum_with(RollingOptions::new(3).weights([1.0])))
            .contains("one weight per row")
    );
    assert!(
        err(col("x").rolling_min_with(RollingOptions::new(1).weights([1.0])))
            .contains("does not take weights")
    );
    assert!(err(col("s").fill_nan_with(Fill::Mean)).contains("numeric"));
    assert!(err(col("s").standardize()).contains("numeric"));
    assert!(err(sum_horizontal(Vec::<Expr>::new())).contains("at least one input"));
}

#[test]
fn fills_keep_integer_types_and_work_on_strings() {
    let df = DataFrame::new(vec![
        Column::new("i", vec![Some(4), None, Some(1)]),
        Column::new("s", vec![Some("a"), None, Some("c")]),
    ])
    .unwrap();
    let out = df
        .lazy()
        .with_columns([
            col("i").fill_null_with(Fill::Max).alias("imax"),
            col("i").fill_null_with(Fill::Mean).alias("imean"),
            col("i").fill_nan_with(Fill::Mean).alias("inan"),
            col("s").fill_null_with(Fill::Backward),
        ])
        .collect()
        .unwrap();
    assert_eq!(out.column("imax").unwrap().data_type(), &DataType::Int64);
    assert_eq!(
        out.column_f64("imax").unwrap(),
        vec![Some(4.0), Some(4.0), Some(1.0)]
    );
    assert_eq!(
        out.column_f64("imean").unwrap(),
        vec![Some(4.0), Some(2.5), Some(1.0)]
    );
    assert_eq!(out.column("inan").unwrap().data_type(), &DataType::Int64);
    let s = out
        .column("s")
        .unwrap()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(
        s.iter().collect::<Vec<_>>(),
        vec![Some("a"), Some("c"), Some("c")]
    );
}

#[test]
fn empty_and_float32_columns() {
    let df = DataFrame::new(vec![Column::new("f", vec![1.0f32, f32::NAN, 3.0])]).unwrap();
    let out = df
        .lazy()
        .select([
            col("f").fill_nan_with(Fill::Mean).alias("a"),
            col("f").rolling_mean(2).alias("r"),
        ])
        .collect()
        .unwrap();
    assert_eq!(out.column("a").unwrap().data_type(), &DataType::Float32);
    assert_eq!(
        out.column_f64("a").unwrap(),
        vec![Some(1.0), Some(2.0), Some(3.0)]
    );
    let empty = frame("x", vec![]);
    let out = empty
        .lazy()
        .select([
            col("x").rolling_median(3),
            sum_horizontal([col("x")]).alias("h"),
        ])
        .collect()
        .unwrap();
    assert_eq!(out.shape(), (0, 2));
}

#[test]
fn rolling_var_keeps_its_digits_next_to_a_drifting_offset() {
    // A random walk around 1e9: the running shift must follow it.
    let n = 300_000usize;
    let mut x = 1e9;
    let v: Vec<f64> = (0..n)
        .map(|i| {
            x += ((i as u64).wrapping_mul(2654435761) % 2001) as f64 / 1000.0 - 1.0;
            x
        })
        .collect();
    let w = 50;
    let df = DataFrame::new(vec![Column::new("x", v.clone())]).unwrap();
    let out = df
        .lazy()
        .select([col("x").rolling_var(w).alias("v")])
        .collect()
        .unwrap();
    let got = out.column_f64("v").unwrap();
    for i in (w - 1..n).step_by(997) {
        let win = &v[i + 1 - w..=i];
        let m = win.iter().sum::<f64>() / w as f64;
        let want = win.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (w - 1) as f64;
        let g = got[i].unwrap();
        assert!((g - want).abs() <= 1e-12 * want, "row {i}: {g} vs {want}");
    }
}
