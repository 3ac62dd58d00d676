//! The core expressions and plan nodes against values computed independently by NumPy and
//! Polars (tests/golden/core.json, made by tests/golden/make_core_golden.py).

use std::sync::OnceLock;

use fusedframe::prelude::*;
use serde_json::Value as J;

fn golden() -> &'static J {
    static G: OnceLock<J> = OnceLock::new();
    G.get_or_init(|| {
        let text = std::fs::read_to_string("tests/golden/core.json").expect("golden file");
        serde_json::from_str(&text).expect("golden json")
    })
}

fn decode(v: &J) -> Option<f64> {
    match v {
        J::Null => None,
        J::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        J::Number(n) => n.as_f64(),
        J::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            other => panic!("bad golden value {other}"),
        },
        other => panic!("bad golden value {other}"),
    }
}

fn series(path: &[&str]) -> Vec<Option<f64>> {
    let mut v = golden();
    for p in path {
        v = &v[*p];
    }
    v.as_array()
        .unwrap_or_else(|| panic!("no golden {path:?}"))
        .iter()
        .map(decode)
        .collect()
}

fn input() -> DataFrame {
    let f = |name: &str| series(&["inputs", name]);
    let y: Vec<i64> = f("y").into_iter().map(|v| v.unwrap() as i64).collect();
    df!("x" => f("x"), "y" => y, "z" => f("z"), "w" => f("w")).unwrap()
}

fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) if a.is_nan() && b.is_nan() => true,
        (Some(a), Some(b)) if a == b => true,
        (Some(a), Some(b)) => (a - b).abs() <= 1e-12 * a.abs().max(b.abs()),
        _ => false,
    }
}

fn check(case: &str, got: Vec<Option<f64>>) {
    let want = series(&["cases", case]);
    assert_eq!(got.len(), want.len(), "{case}: length {got:?} vs {want:?}");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert!(
            close(*g, *w),
            "{case}[{i}]: got {g:?}, NumPy/Polars say {w:?}"
        );
    }
}

fn eval(e: Expr) -> Vec<Option<f64>> {
    let out = input().lazy().select([e.alias("out")]).collect().unwrap();
    out.column_f64("out").unwrap()
}

#[test]
fn arithmetic_and_math() {
    let cases: Vec<(&str, Expr)> = vec![
        ("x_plus_y", col("x") + col("y")),
        ("x_minus_lit", col("x") - 2.5),
        ("lit_times_x", 2 * col("x")),
        ("x_div_y", col("x") / col("y")),
        ("y_div_2", col("y") / 2),
        ("y_mod_3", col("y") % 3),
        ("neg_x", -col("x")),
        ("x_pow_2", col("x").pow(2)),
        ("y_pow_half", col("y").pow(0.5)),
        ("abs_x", col("x").abs()),
        ("sqrt_abs_x", col("x").abs().sqrt()),
        ("exp_x_10", (col("x") / 10).exp()),
        ("ln_abs_x_1", (col("x").abs() + 1).ln()),
        ("clip_x", col("x").clip(-1.0, 5.0)),
        ("x_minus_nanmean", col("x") - col("x").nan_mean()),
        ("y_minus_mean", col("y") - col("y").mean()),
    ];
    for (name, e) in cases {
        check(name, eval(e));
    }
}

#[test]
fn comparisons_logic_and_when() {
    let cases: Vec<(&str, Expr)> = vec![
        ("x_gt_0", col("x").gt(0)),
        ("x_ne_4", col("x").neq(4.0)),
        ("y_ge_3", col("y").ge(3)),
        ("x_gt_0_and_y_gt_2", col("x").gt(0) & col("y").gt(2)),
        ("x_gt_0_or_y_lt_0", col("x").gt(0) | col("y").lt(0)),
        ("not_y_gt_2", !col("y").gt(2)),
        ("is_nan_x", col("x").is_nan()),
        ("is_inf_z", col("z").is_infinite()),
        ("is_finite_z", col("z").is_finite()),
        (
            "where_x",
            when(col("x").gt(0)).then(col("x")).otherwise(lit(0.0)),
        ),
    ];
    for (name, e) in cases {
        check(name, eval(e));
    }
}

#[test]
fn aggregates_follow_numpy() {
    let x = || col("x");
    let y = || col("y");
    let cases: Vec<(&str, Expr)> = vec![
        ("sum_x", x().sum()),
        ("mean_x", x().mean()),
        ("median_x", x().median()),
        ("min_x", x().min()),
        ("max_x", x().max()),
        ("nansum_x", x().nan_sum()),
        ("nanmean_x", x().nan_mean()),
        ("nanmedian_x", x().nan_median()),
        ("nanmin_x", x().nan_min()),
        ("nanmax_x", x().nan_max()),
        ("nanstd0_x", x().nan_std(0)),
        ("nanstd1_x", x().nan_std(1)),
        ("nanvar0_x", x().nan_var(0)),
        ("std0_x", x().std(0)),
        ("sum_y", y().sum()),
        ("mean_y", y().mean()),
        ("median_y", y().median()),
        ("std0_y", y().std(0)),
        ("std1_y", y().std(1)),
        ("var1_y", y().var(1)),
        ("quantile25_y", y().quantile(0.25)),
        ("quantile90_y", y().quantile(0.9)),
        ("argmin_y", y().arg_min()),
        ("argmax_y", y().arg_max()),
        ("argmax_x", x().arg_max()),
        ("range_y", y().max() - y().min()),
    ];
    for (name, e) in cases {
        check(name, eval(e));
    }
    // The MSE seed question: mean squared error over rows where x is a number.
    let mse = input()
        .lazy()
        .filter(!col("x").is_nan())
        .select([(col("x") - col("y")).pow(2).mean().alias("out")])
        .collect()
        .unwrap();
    check("mse", mse.column_f64("out").unwrap());
}

#[test]
fn nulls_follow_polars() {
    let w = || col("w");
    let cases: Vec<(&str, Expr)> = vec![
        ("w_is_null", w().is_null()),
        ("w_fill_null", w().fill_null(-9.0)),
        ("w_count", w().count()),
        ("w_null_count", w().null_count()),
        ("w_sum", w().sum()),
        ("w_mean", w().mean()),
        ("w_max", w().max()),
        ("w_gt_1", w().gt(1)),
        ("w_plus_1", w() + 1),
        ("w_when", when(w().gt(1)).then(lit(1.0)).otherwise(lit(0.0))),
    ];
    for (name, e) in cases {
        check(name, eval(e));
    }
}

fn ys(lf: LazyFrame) -> Vec<Option<f64>> {
    lf.collect().unwrap().column_f64("y").unwrap()
}

#[test]
fn plan_nodes() {
    let lf = || input().lazy();
    check("filter_x_gt_0_y", ys(lf().filter(col("x").gt(0))));
    check("head3_y", ys(lf().head(3)));
    check("tail3_y", ys(lf().tail(3)));
    check("slice_2_4_y", ys(lf().slice(2, 4)));
    let sorted = lf()
        .sort_by(
            [col("y"), col("x")],
            [
                SortOptions::default().descending(true),
                SortOptions::default(),
            ],
        )
        .collect()
        .unwrap();
    let ids: Vec<Option<f64>> = {
        // Recover the original row ids by matching (x, y) pairs against the input.
        let inp = input();
        let (ix, iy) = (inp.column_f64("x").unwrap(), inp.column_f64("y").unwrap());
        let (sx, sy) = (
            sorted.column_f64("x").unwrap(),
            sorted.column_f64("y").unwrap(),
        );
        let mut used = vec![false; ix.len()];
        sx.iter()
            .zip(&sy)
            .map(|(x, y)| {
                let i = (0..ix.len())
                    .find(|&i| !used[i] && close(ix[i], *x) && iy[i] == *y)
                    .unwrap();
                used[i] = true;
                Some(i as f64)
            })
            .collect()
    };
    check("sort_y_desc_x_asc_ids", ids);
    // gather: an index column of the frame's own length; a scalar index gives one row.
    let idx: Vec<i64> = vec![9, 0, 3, 3, 9, 0, 3, 3, 9, 0];
    let base = input();
    let mut cols: Vec<Column> = base
        .column_names()
        .iter()
        .map(|n| Column::new(*n, base.column(n).unwrap().clone()))
        .collect();
    cols.push(Column::new("idx", idx.clone()));
    let g = DataFrame::new(cols)
        .unwrap()
        .lazy()
        .gather(col("idx"))
        .collect()
        .unwrap();
    let want: Vec<Option<f64>> = idx
        .iter()
        .map(|&i| series(&["inputs", "y"])[i as usize])
        .collect();
    assert_eq!(g.column_f64("y").unwrap(), want);
    check("gather_y", g.column_f64("y").unwrap()[..4].to_vec());
    let one = lf().gather(lit(3)).collect().unwrap();
    assert_eq!(one.column_f64("y").unwrap(), vec![Some(1.0)]);
    let err = lf().gather(lit(10)).collect().unwrap_err();
    assert!(err.to_string().contains("gather index 10"), "{err}");
    let dropped = lf()
        .drop(["z", "w"])
        .rename(["y"], ["yy"])
        .collect()
        .unwrap();
    assert_eq!(dropped.column_names(), vec!["x", "yy"]);
    let s = lf()
        .select([col("x"), (col("y") * 2).alias("y2")])
        .collect()
        .unwrap();
    assert_eq!(s.shape(), (10, 2));
    let wc = lf()
        .with_columns([col("y").cast(DataType::Float64)])
        .schema()
        .unwrap();
    assert_eq!(
        wc.field_with_name("y").unwrap().data_type(),
        &DataType::Float64
    );
}

#[test]
fn empty_and_one_row_frames() {
    let empty = df!("x" => Vec::<f64>::new(), "i" => Vec::<i64>::new()).unwrap();
    let out = empty
        .clone()
        .lazy()
        .filter(col("x").gt(0))
        .with_columns([(col("x") * 2).alias("x2")])
        .collect()
        .unwrap();
    assert_eq!(out.shape(), (0, 3));
    let aggs = empty
        .lazy()
        .select([
            col("x").sum().alias("s"),
            col("x").mean().alias("m"),
            col("x").min().alias("mn"),
            col("i").count().alias("c"),
            col("i").sum().alias("si"),
        ])
        .collect()
        .unwrap();
    assert_eq!(aggs.column_f64("s").unwrap(), vec![Some(0.0)]);
    assert!(aggs.column_f64("m").unwrap()[0].unwrap().is_nan());
    assert_eq!(aggs.column_f64("mn").unwrap(), vec![None]);
    assert_eq!(aggs.column_f64("c").unwrap(), vec![Some(0.0)]);
    assert_eq!(aggs.column_f64("si").unwrap(), vec![Some(0.0)]);

    let one = df!("x" => [2.5]).unwrap();
    let out = one
        .lazy()
        .select([
            col("x").std(0).alias("s0"),
            col("x").std(1).alias("s1"),
            col("x").median().alias("med"),
            (col("x") - col("x").mean()).alias("c"),
        ])
        .collect()
        .unwrap();
    assert_eq!(out.column_f64("s0").unwrap(), vec![Some(0.0)]);
    assert!(out.column_f64("s1").unwrap()[0].unwrap().is_nan());
    assert_eq!(out.column_f64("med").unwrap(), vec![Some(2.5)]);
    assert_eq!(out.column_f64("c").unwrap(), vec![Some(0.0)]);
}

#[test]
fn display_reads_like_polars() {
    let df = df!("a" => [1, 2, 3], "b" => [Some(0.5), None, Some(f64::NAN)]).unwrap();
    let s = df.to_string();
    assert!(s.starts_with("shape: (3, 2)"), "{s}");
    assert!(s.contains("│ i64 ┆ f64  │"), "{s}");
    assert!(s.contains("null") && s.contains("NaN"), "{s}");
}

#[test]
fn explain_is_indented_plan_text() {
    let df = df!("x" => [1.0, 2.0], "y" => [1, 2]).unwrap();
    let lf = df
        .lazy()
        .filter(col("x").gt(1))
        .select([col("x").mean().alias("m")]);
    let text = lf.explain(false).unwrap();
    assert_eq!(
        text,
        "SELECT [col(\"x\").mean().alias(\"m\")]\n  FILTER col(\"x\").gt(1)\n    DATAFRAME rows=2 width=2"
    );
    let opt = lf.explain(true).unwrap();
    assert!(
        opt.contains("DATAFRAME rows=2 width=2 columns=[x]"),
        "{opt}"
    );
    let verbose = lf.explain_verbose().unwrap();
    assert!(verbose.contains("projection_pushdown"), "{verbose}");
}
