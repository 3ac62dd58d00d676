//! Dates and times, strings, `is_in`, decimals and the per-row window functions, checked
//! against Polars/DuckDB/Python goldens (`tests/golden/make_dates_strings_decimals_golden.py`
//! writes `tests/golden/dates_strings_decimals.json`) and row-by-row oracles, through Parquet
//! and IPC files as users read them; plus the errors users get for misuse.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Decimal128Array, Float64Array, Int64Array,
    StringArray, TimestampMicrosecondArray,
};
use arrow::datatypes::{DataType, Decimal128Type};
use fusedframe::prelude::*;
use serde_json::Value as Json;

mod golden_support;
mod typed_support;

use typed_support::{
    assert_close, bools, date_array, decimal_texts, decimals, frame, ints, json_bools, json_ints,
    json_keys, json_strs, texts, through_files, Lcg,
};

fn golden() -> Json {
    golden_support::load("dates_strings_decimals.json")
}

const PARTS: [&str; 6] = ["year", "quarter", "month", "day", "weekday", "ordinal_day"];

fn part(e: Expr, name: &str) -> Expr {
    let d = e.dt();
    match name {
        "year" => d.year(),
        "quarter" => d.quarter(),
        "month" => d.month(),
        "day" => d.day(),
        "weekday" => d.weekday(),
        "ordinal_day" => d.ordinal_day(),
        "hour" => d.hour(),
        "minute" => d.minute(),
        "second" => d.second(),
        other => panic!("{other}"),
    }
    .alias(name)
}

/// `col(c).dt().truncate(s)` for every span, named `t{s}`.
fn truncations(c: &str, spans: &[String]) -> Vec<Expr> {
    spans
        .iter()
        .map(|s| col(c).dt().truncate(s).alias(format!("t{s}")))
        .collect()
}

#[test]
fn date_parts_truncation_and_differences_match_polars() {
    let g = golden();
    let df = frame(vec![("d", date_array(&json_strs(&g["dates"])))]);
    for lf in through_files(&df) {
        let mut exprs: Vec<Expr> = PARTS.iter().map(|p| part(col("d"), p)).collect();
        let spans = json_keys(&g["date_truncate"]);
        exprs.extend(truncations("d", &spans));
        exprs.push(
            (col("d") - date("2000-01-01"))
                .dt()
                .total_days()
                .alias("days"),
        );
        let out = lf.select(exprs).collect().unwrap();
        for p in PARTS {
            assert_eq!(ints(&out, p), json_ints(&g["date_parts"][p]), "{p}");
        }
        for s in &spans {
            assert_eq!(
                texts(&out, &format!("t{s}")),
                json_strs(&g["date_truncate"][s]),
                "truncate({s})"
            );
        }
        assert_eq!(ints(&out, "days"), json_ints(&g["days_since_2000"]));
    }
}

#[test]
fn datetime_parts_and_truncation_match_polars_in_every_zone() {
    let g = golden();
    let ticks = json_ints(&g["datetimes_us"]);
    for (zone, want) in g["datetime"].as_object().unwrap() {
        let a = TimestampMicrosecondArray::from(ticks.clone());
        let a: ArrayRef = match zone.as_str() {
            "naive" => Arc::new(a),
            z => Arc::new(a.with_timezone(z)),
        };
        let df = frame(vec![("t", a)]);
        for lf in through_files(&df) {
            let names = ["year", "quarter", "month", "day", "weekday", "ordinal_day"];
            let mut exprs: Vec<Expr> = names
                .iter()
                .chain(&["hour", "minute", "second"])
                .map(|p| part(col("t"), p))
                .collect();
            exprs.push(col("t").dt().date().alias("date"));
            let spans = json_keys(&want["truncate"]);
            exprs.extend(truncations("t", &spans));
            let out = lf.select(exprs).collect().unwrap();
            for p in names.iter().chain(&["hour", "minute", "second"]) {
                assert_eq!(ints(&out, p), json_ints(&want["parts"][p]), "{zone} {p}");
            }
            assert_eq!(
                texts(&out, "date"),
                json_strs(&want["parts"]["date"]),
                "{zone}"
            );
            for s in &spans {
                assert_eq!(
                    ints(&out, &format!("t{s}")),
                    json_ints(&want["truncate"][s]),
                    "{zone} truncate({s})"
                );
                let t = out.column(&format!("t{s}")).unwrap();
                assert_eq!(t.data_type(), df.column("t").unwrap().data_type());
            }
        }
    }
}

#[test]
fn string_functions_match_polars() {
    let g = golden();
    let s: ArrayRef = Arc::new(StringArray::from(json_strs(&g["strings"])));
    let df = frame(vec![("s", s)]);
    for lf in through_files(&df) {
        let ops = g["string_ops"].as_object().unwrap();
        let exprs: Vec<Expr> = ops
            .keys()
            .map(|k| {
                let st = col("s").str();
                let mut parts = k.splitn(3, ':');
                let op = parts.next().unwrap();
                let arg = parts.next().unwrap_or("");
                let e = match op {
                    "starts_with" => st.starts_with(arg),
                    "ends_with" => st.ends_with(arg),
                    "contains" => st.contains(arg),
                    "contains_regex" => st.contains_regex(arg),
                    "len_chars" => st.len_chars(),
                    "len_bytes" => st.len_bytes(),
                    "to_uppercase" => st.to_uppercase(),
                    "to_lowercase" => st.to_lowercase(),
                    "slice" => {
                        st.slice(arg.parse().unwrap(), parts.next().unwrap().parse().unwrap())
                    }
                    other => panic!("{other}"),
                };
                e.alias(k.as_str())
            })
            .collect();
        let out = lf.select(exprs).collect().unwrap();
        for (k, want) in ops {
            let got = out.column(k).unwrap();
            match got.data_type() {
                DataType::Boolean => assert_eq!(bools(&out, k), json_bools(want), "{k}"),
                DataType::UInt32 => assert_eq!(ints(&out, k), json_ints(want), "{k}"),
                _ => assert_eq!(texts(&out, k), json_strs(want), "{k}"),
            }
        }
    }
}

#[test]
fn is_in_matches_polars_for_every_type() {
    let g = golden();
    for (case, c) in g["is_in"].as_object().unwrap() {
        let vals = &c["values"];
        let list = c["list"].as_array().unwrap();
        let (array, items): (ArrayRef, Vec<Expr>) = match case.as_str() {
            "int" | "int_many" => (
                Arc::new(Int64Array::from(json_ints(vals))),
                list.iter().map(|v| lit(v.as_i64().unwrap())).collect(),
            ),
            "float" => (
                Arc::new(Float64Array::from(golden_support::floats(vals))),
                list.iter()
                    .map(|v| lit(golden_support::float(v).unwrap()))
                    .collect(),
            ),
            "str" => (
                Arc::new(StringArray::from(json_strs(vals))),
                list.iter().map(|v| lit(v.as_str().unwrap())).collect(),
            ),
            "bool" => (
                Arc::new(BooleanArray::from(json_bools(vals))),
                list.iter().map(|v| lit(v.as_bool().unwrap())).collect(),
            ),
            "date" => (
                date_array(&json_strs(vals)),
                list.iter().map(|v| date(v.as_str().unwrap())).collect(),
            ),
            other => panic!("{other}"),
        };
        let df = frame(vec![("v", array)]);
        let out = df
            .lazy()
            .select([col("v").is_in(items).alias("in")])
            .collect()
            .unwrap();
        assert_eq!(bools(&out, "in"), json_bools(&c["want"]), "{case}");
    }
}

#[test]
fn decimals_are_exact_as_python_and_duckdb_compute_them() {
    let g = golden();
    let d = &g["decimals"];
    let df = frame(vec![
        ("a", decimals(&json_strs(&d["a"]), 15, 2)),
        ("b", decimals(&json_strs(&d["b"]), 12, 3)),
    ]);
    for lf in through_files(&df) {
        let out = lf
            .clone()
            .select([
                (col("a") + col("b")).alias("add"),
                (col("a") - col("b")).alias("sub"),
                (col("a") * col("b")).alias("mul"),
                (1 - col("b")).alias("one_minus_b"),
                (col("a") * (1 - col("b"))).alias("net"),
                (col("a") + 7).alias("a_plus_int"),
                (col("a") / col("b")).alias("div"),
                col("a").gt(col("b")).alias("a_gt_b"),
                col("b").le(0.07).alias("b_le_007"),
                col("a").cast(DataType::Float64).alias("a_f64"),
            ])
            .collect()
            .unwrap();
        for (k, scale) in [
            ("add", 3),
            ("sub", 3),
            ("mul", 5),
            ("one_minus_b", 3),
            ("net", 5),
            ("a_plus_int", 2),
        ] {
            let (got, t) = decimal_texts(&out, k);
            assert_eq!(got, json_strs(&d[k]), "{k}");
            assert_eq!(t, DataType::Decimal128(38, scale), "{k}");
        }
        let div = out.column_f64("div").unwrap();
        let want = golden_support::floats(&d["div"]);
        assert_close(&div, &want, "div");
        assert_eq!(bools(&out, "a_gt_b"), json_bools(&d["a_gt_b"]));
        assert_eq!(bools(&out, "b_le_007"), json_bools(&d["b_le_007"]));
        assert_eq!(
            out.column_f64("a_f64").unwrap(),
            golden_support::floats(&d["a_f64"])
        );
        let agg = lf
            .select([
                col("a").sum().alias("sum_a"),
                col("a").min().alias("min_a"),
                col("b").max().alias("max_b"),
                col("a").mean().alias("mean_a"),
            ])
            .collect()
            .unwrap();
        for k in ["sum_a", "min_a", "max_b"] {
            assert_eq!(
                decimal_texts(&agg, k).0,
                vec![d[k].as_str().map(str::to_string)]
            );
        }
        assert_eq!(decimal_texts(&agg, "sum_a").1, DataType::Decimal128(38, 2));
        assert_close(
            &agg.column_f64("mean_a").unwrap(),
            &[d["mean_a"].as_f64()],
            "mean_a",
        );
    }
}

#[test]
fn decimal_sums_are_exact_over_many_morsels_and_overflow_is_an_error() {
    // 300k prices of 13 digits: the f64 sum would lose cents; the decimal sum may not.
    let n = 300_000i128;
    let v: Vec<Option<i128>> = (0..n)
        .map(|i| (i % 97 != 5).then_some(1_234_567_890_123 + i * 7919 % 100_000))
        .collect();
    let want: i128 = v.iter().flatten().sum();
    let df = frame(vec![(
        "p",
        Arc::new(
            Decimal128Array::from(v)
                .with_precision_and_scale(15, 2)
                .unwrap(),
        ),
    )]);
    for threads in [1, 3] {
        let out = df
            .clone()
            .lazy()
            .filter(col("p").is_not_null())
            .select([col("p").sum().alias("s"), (col("p") * 2).sum().alias("s2")])
            .collect_with(&ExecOptions::new().threads(threads))
            .unwrap();
        let s = out.column("s").unwrap().as_primitive::<Decimal128Type>();
        assert_eq!(s.value(0), want, "threads {threads}");
        let s2 = out.column("s2").unwrap().as_primitive::<Decimal128Type>();
        assert_eq!(s2.value(0), 2 * want);
    }
    // 9e37 + 9e37 does not fit in 38 digits: an error, not a wrapped or rounded value.
    let big = frame(vec![(
        "x",
        Arc::new(
            Decimal128Array::from(vec![9 * 10i128.pow(37), 9 * 10i128.pow(37)])
                .with_precision_and_scale(38, 0)
                .unwrap(),
        ),
    )]);
    let err = big
        .clone()
        .lazy()
        .select([col("x").sum()])
        .collect()
        .unwrap_err();
    assert!(err.to_string().contains("decimal sum overflow"), "{err}");
    let err = big
        .clone()
        .lazy()
        .select([col("x") * 100])
        .collect()
        .unwrap_err();
    assert!(err.to_string().contains("decimal overflow in `*`"), "{err}");
    let err = big
        .lazy()
        .select([col("x").cum_sum()])
        .collect()
        .unwrap_err();
    assert!(err.to_string().contains("cum_sum overflow"), "{err}");
}

fn window_exprs(name: &str) -> Vec<(String, Expr)> {
    let c = || col(name);
    vec![
        ("shift_2".into(), c().shift(2)),
        ("shift_-1".into(), c().shift(-1)),
        ("shift_-3".into(), c().shift(-3)),
        ("diff_1".into(), c().diff(1)),
        ("diff_-2".into(), c().diff(-2)),
        ("cum_sum".into(), c().cum_sum()),
        ("cum_prod".into(), c().cum_prod()),
        ("cum_min".into(), c().cum_min()),
        ("cum_max".into(), c().cum_max()),
        ("cum_count".into(), c().cum_count()),
    ]
}

#[test]
fn shift_diff_cumulative_and_rank_match_polars() {
    let g = golden();
    let w = &g["windows"];
    let x = golden_support::floats(&w["x"]);
    let i = json_ints(&w["i"]);
    let s: ArrayRef = Arc::new(StringArray::from(json_strs(&w["s"])));
    let df_x = frame(vec![("x", Arc::new(Float64Array::from(x)) as ArrayRef)]);
    let df_i = frame(vec![("i", Arc::new(Int64Array::from(i)) as ArrayRef)]);
    let methods = [
        ("average", RankMethod::Average),
        ("min", RankMethod::Min),
        ("max", RankMethod::Max),
        ("dense", RankMethod::Dense),
        ("ordinal", RankMethod::Ordinal),
    ];
    for (df, name, prefix, rank_prefix) in [(&df_x, "x", "", ""), (&df_i, "i", "i_", "i:")] {
        let mut exprs: Vec<Expr> = window_exprs(name)
            .into_iter()
            .map(|(k, e)| e.alias(k))
            .collect();
        for (m, method) in methods {
            for desc in [false, true] {
                let o = RankOptions::new().method(method).descending(desc);
                let key = format!("{m}:{}", if desc { "desc" } else { "asc" });
                exprs.push(col(name).rank(o).alias(format!("rank {key}")));
            }
        }
        let out = df.clone().lazy().select(exprs).collect().unwrap();
        for (k, _) in window_exprs(name) {
            let Some(want) = w.get(format!("{prefix}{k}")) else {
                continue;
            };
            let got = out.column_f64(&k).unwrap();
            assert_close(&got, &golden_support::floats(want), &format!("{name} {k}"));
            if name == "i" && k != "cum_count" {
                assert_eq!(out.column(&k).unwrap().data_type(), &DataType::Int64, "{k}");
            }
        }
        for (m, _) in methods {
            for dir in ["asc", "desc"] {
                let key = format!("{m}:{dir}");
                let want = golden_support::floats(&w["rank"][format!("{rank_prefix}{key}")]);
                let got = out.column_f64(&format!("rank {key}")).unwrap();
                assert_close(&got, &want, &format!("{name} rank {key}"));
            }
        }
    }
    let out = frame(vec![("s", s)])
        .lazy()
        .select([col("s").rank(RankOptions::new().method(RankMethod::Dense))])
        .collect()
        .unwrap();
    assert_eq!(ints(&out, "s"), json_ints(&w["s_rank_dense"]));
}

#[test]
fn rolling_by_time_matches_polars() {
    let g = golden();
    let r = &g["rolling_by"];
    let df = frame(vec![
        ("d", date_array(&json_strs(&r["d"]))),
        (
            "x",
            Arc::new(Float64Array::from(golden_support::floats(&r["x"]))),
        ),
    ]);
    let kinds = [
        ("sum", RollingKind::Sum),
        ("mean", RollingKind::Mean),
        ("min", RollingKind::Min),
        ("max", RollingKind::Max),
        ("std", RollingKind::Std),
        ("var", RollingKind::Var),
        ("median", RollingKind::Median),
    ];
    for lf in through_files(&df) {
        let outs = r["out"].as_object().unwrap();
        let exprs: Vec<Expr> = outs
            .keys()
            .map(|k| {
                let p: Vec<&str> = k.split(':').collect();
                let kind = kinds.iter().find(|(n, _)| *n == p[0]).unwrap().1;
                col("x")
                    .rolling_by(kind, col("d"), p[1], p[2].parse().unwrap())
                    .alias(k.as_str())
            })
            .collect();
        let out = lf.select(exprs).collect().unwrap();
        for (k, want) in outs {
            let got = out.column_f64(k).unwrap();
            assert_close(&got, &golden_support::floats(want), k);
        }
    }
    // Hourly readings across New York's spring-forward, a calendar day in local time.
    let z = &r["zoned"];
    let t = TimestampMicrosecondArray::from(json_ints(&z["t_us"]))
        .with_timezone(z["tz"].as_str().unwrap());
    let df = frame(vec![
        ("t", Arc::new(t) as ArrayRef),
        (
            "x",
            Arc::new(Float64Array::from(golden_support::floats(&z["x"]))),
        ),
    ]);
    let out = df
        .lazy()
        .select([
            col("x").rolling_sum_by(col("t"), "1d").alias("sum:1d"),
            col("x").rolling_sum_by(col("t"), "10h").alias("sum:10h"),
        ])
        .collect()
        .unwrap();
    for k in ["sum:1d", "sum:10h"] {
        assert_close(
            &out.column_f64(k).unwrap(),
            &golden_support::floats(&z[k]),
            k,
        );
    }
}

#[test]
fn date_parts_and_ranges_match_chrono_row_by_row() {
    use chrono::Datelike;
    let mut r = Lcg(7);
    let n = 150_000;
    // Days from year 1 to 9999, every tenth row null.
    let days: Vec<Option<i32>> = (0..n)
        .map(|i| (i % 10 != 3).then(|| (r.next() % 3_652_059) as i32 - 719_162))
        .collect();
    let df = frame(vec![(
        "d",
        Arc::new(Date32Array::from(days.clone())) as ArrayRef,
    )]);
    let out = df
        .lazy()
        .select([
            part(col("d"), "year"),
            part(col("d"), "month"),
            part(col("d"), "day"),
            part(col("d"), "weekday"),
            part(col("d"), "ordinal_day"),
            col("d")
                .is_between(date("1900-03-01"), date("2000-02-29"))
                .alias("between"),
            col("d").dt().truncate("1q").alias("q"),
        ])
        .collect_with(&ExecOptions::new().threads(3))
        .unwrap();
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let lo = chrono::NaiveDate::from_ymd_opt(1900, 3, 1).unwrap();
    let hi = chrono::NaiveDate::from_ymd_opt(2000, 2, 29).unwrap();
    let cols: Vec<Vec<Option<i64>>> = ["year", "month", "day", "weekday", "ordinal_day", "q"]
        .iter()
        .map(|c| ints(&out, c))
        .collect();
    let between = bools(&out, "between");
    for (i, d) in days.iter().enumerate() {
        let Some(d) = d else {
            assert!(cols.iter().all(|c| c[i].is_none()) && between[i].is_none());
            continue;
        };
        let c = epoch + chrono::Duration::days(i64::from(*d));
        let q = chrono::NaiveDate::from_ymd_opt(c.year(), (c.month() - 1) / 3 * 3 + 1, 1).unwrap();
        let want = [
            i64::from(c.year()),
            i64::from(c.month()),
            i64::from(c.day()),
            i64::from(c.weekday().number_from_monday()),
            i64::from(c.ordinal()),
            (q - epoch).num_days(),
        ];
        for (k, w) in want.iter().enumerate() {
            assert_eq!(cols[k][i], Some(*w), "row {i} ({c}) column {k}");
        }
        assert_eq!(between[i], Some(lo <= c && c <= hi), "row {i} ({c})");
    }
}

#[test]
fn timestamps_compare_across_units_zones_and_dates() {
    use arrow::array::{TimestampMillisecondArray, TimestampSecondArray};
    let secs: Vec<i64> = vec![-86_401, -1, 0, 1, 86_399, 86_400, 1_600_000_000];
    let s: ArrayRef = Arc::new(TimestampSecondArray::from(secs.clone()));
    let ms: ArrayRef = Arc::new(
        TimestampMillisecondArray::from(secs.iter().map(|v| v * 1000 + 1).collect::<Vec<_>>())
            .with_timezone("+05:45"),
    );
    let utc: ArrayRef = Arc::new(
        TimestampMicrosecondArray::from(secs.iter().map(|v| v * 1_000_000).collect::<Vec<_>>())
            .with_timezone("America/New_York"),
    );
    let d: ArrayRef = Arc::new(Date32Array::from(
        secs.iter()
            .map(|v| v.div_euclid(86_400) as i32)
            .collect::<Vec<_>>(),
    ));
    let df = frame(vec![("s", s), ("ms", ms), ("z", utc), ("d", d)]);
    let out = df
        .lazy()
        .select([
            col("ms").gt(col("z")).alias("ms_gt_z"),
            col("z")
                .eq(datetime("1970-01-01T00:00:00Z"))
                .alias("z_eq_epoch"),
            col("d").le(col("s")).alias("d_le_s"),
            col("s").ge(date("1970-01-02")).alias("s_ge_d"),
            (col("s") - col("d"))
                .dt()
                .total_seconds()
                .alias("since_midnight"),
            col("ms").dt().hour().alias("h"),
            col("z")
                .is_in([datetime("1970-01-01T00:00:00Z")])
                .alias("in"),
        ])
        .collect()
        .unwrap();
    // Zoned instants compare as instants: ms is 1 ms later than z.
    assert!(bools(&out, "ms_gt_z").iter().all(|b| *b == Some(true)));
    let eq: Vec<bool> = secs.iter().map(|v| *v == 0).collect();
    assert_eq!(
        bools(&out, "z_eq_epoch"),
        eq.iter().map(|b| Some(*b)).collect::<Vec<_>>()
    );
    assert_eq!(bools(&out, "in"), bools(&out, "z_eq_epoch"));
    assert!(bools(&out, "d_le_s").iter().all(|b| *b == Some(true)));
    let ge: Vec<Option<bool>> = secs.iter().map(|v| Some(*v >= 86_400)).collect();
    assert_eq!(bools(&out, "s_ge_d"), ge);
    let tod: Vec<Option<i64>> = secs.iter().map(|v| Some(v.rem_euclid(86_400))).collect();
    assert_eq!(ints(&out, "since_midnight"), tod);
    // +05:45: local hour of each instant.
    let h: Vec<Option<i64>> = secs
        .iter()
        .map(|v| Some((v + 5 * 3600 + 45 * 60).rem_euclid(86_400) / 3600))
        .collect();
    assert_eq!(ints(&out, "h"), h);
}

#[test]
fn string_slices_and_lengths_match_a_char_oracle() {
    let alphabet: Vec<char> = "aZ09 éßЖ日本語😀\u{301}".chars().collect();
    let mut r = Lcg(11);
    let strings: Vec<Option<String>> = (0..5000)
        .map(|i| {
            (i % 17 != 0).then(|| {
                let len = (r.next() % 12) as usize;
                (0..len)
                    .map(|_| alphabet[(r.next() % alphabet.len() as u64) as usize])
                    .collect()
            })
        })
        .collect();
    let df = frame(vec![(
        "s",
        Arc::new(StringArray::from(strings.clone())) as ArrayRef,
    )]);
    for (off, len) in [(0i64, 3u64), (2, 4), (-3, 2), (-20, 25), (7, u64::MAX)] {
        let out = df
            .clone()
            .lazy()
            .select([
                col("s").str().slice(off, len).alias("sl"),
                col("s").str().len_chars().alias("n"),
                col("s").str().to_uppercase().alias("up"),
            ])
            .collect()
            .unwrap();
        let got = texts(&out, "sl");
        let n = ints(&out, "n");
        let up = texts(&out, "up");
        for (i, s) in strings.iter().enumerate() {
            let Some(s) = s else {
                assert!(got[i].is_none() && n[i].is_none() && up[i].is_none());
                continue;
            };
            let chars: Vec<char> = s.chars().collect();
            let k = chars.len() as i64;
            let start = if off < 0 { k + off } else { off };
            let end = start.saturating_add(len.min(i64::MAX as u64) as i64);
            let (a, b) = (start.clamp(0, k) as usize, end.clamp(0, k) as usize);
            let want: String = if a < b {
                chars[a..b].iter().collect()
            } else {
                String::new()
            };
            assert_eq!(got[i].as_deref(), Some(want.as_str()), "{s:?} {off} {len}");
            assert_eq!(n[i], Some(k));
            assert_eq!(up[i].as_deref(), Some(s.to_uppercase().as_str()));
        }
    }
}

#[test]
fn misuse_is_a_plan_error_naming_the_column() {
    let df = frame(vec![
        ("x", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef),
        ("s", Arc::new(StringArray::from(vec!["a"])) as ArrayRef),
        ("d", Arc::new(Date32Array::from(vec![1])) as ArrayRef),
        (
            "z",
            Arc::new(TimestampMicrosecondArray::from(vec![0]).with_timezone("UTC")) as ArrayRef,
        ),
    ]);
    let err = |e: Expr| {
        df.clone()
            .lazy()
            .select([e])
            .schema()
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    for (e, want) in [
        (
            col("x").dt().year(),
            "year() needs a date or datetime, got col(\"x\") (f64)",
        ),
        (
            col("d").dt().hour(),
            "hour() needs a datetime, got col(\"d\") (date)",
        ),
        (
            col("x").str().len_chars(),
            "len_chars() needs a string, got col(\"x\") (f64)",
        ),
        (
            col("s").str().contains_regex("a(b"),
            "invalid regular expression \"a(b\"",
        ),
        (
            col("d").gt("1994-01-01"),
            "write date(\"1994-01-01\") for a date",
        ),
        (
            col("z").gt(datetime("2020-01-01T00:00:00")),
            "instants and wall-clock times do not compare",
        ),
        (
            col("s").is_in([1, 2]),
            "is_in(): col(\"s\") (str) cannot be compared with 1 (i64)",
        ),
        (col("x").is_in([col("s")]), "is_in() takes literal values"),
        (
            col("x").rolling_mean_by(col("s"), "7d"),
            "must be a date or datetime",
        ),
        (
            col("x").rolling_mean_by(col("d"), "7 days"),
            "invalid duration \"7 days\"",
        ),
        (
            col("s").cum_sum(),
            "cum_sum() needs a number, duration or decimal, got col(\"s\")",
        ),
        (col("d").dt().truncate("1h"), "finer than a day"),
        (date("2023-02-29"), "invalid date literal \"2023-02-29\""),
    ] {
        let msg = err(e);
        assert!(msg.contains(want), "{msg}\n  wanted: {want}");
    }
    // Unsorted `by` is found when the data is read.
    let unsorted = frame(vec![
        ("d", Arc::new(Date32Array::from(vec![5, 1])) as ArrayRef),
        (
            "x",
            Arc::new(Float64Array::from(vec![1.0, 2.0])) as ArrayRef,
        ),
    ]);
    let msg = unsorted
        .lazy()
        .select([col("x").rolling_mean_by(col("d"), "7d")])
        .collect()
        .unwrap_err()
        .to_string();
    assert!(msg.contains("sorted ascending"), "{msg}");
}

#[test]
fn streamed_shift_and_diff_match_the_whole_column() {
    // A filter before the windows keeps them in a streaming pipeline (shift/diff with n >= 0
    // carry n rows between pieces); the reference filters first and computes on the result.
    let n = 300_000;
    let mut r = Lcg(5);
    let x: Vec<Option<f64>> = (0..n)
        .map(|i| (i % 31 != 4).then(|| (r.next() % 2000) as f64 - 900.0))
        .collect();
    let df = frame(vec![("x", Arc::new(Float64Array::from(x)) as ArrayRef)]);
    let windows = || {
        [
            col("x").shift(3).alias("s3"),
            col("x").shift(0).alias("s0"),
            col("x").diff(2).alias("d2"),
            col("x").diff(70_000).alias("d70k"),
        ]
    };
    // Looking ahead needs the whole column: a node of its own, after the streamed one.
    let ahead = || [col("x").shift(-2).alias("ahead")];
    let filtered = df
        .clone()
        .lazy()
        .filter(col("x").gt(0.0))
        .collect()
        .unwrap();
    let want = filtered
        .lazy()
        .with_columns(windows())
        .with_columns(ahead())
        .collect()
        .unwrap();
    let plan = df
        .clone()
        .lazy()
        .filter(col("x").gt(0.0))
        .with_columns(windows())
        .with_columns(ahead());
    assert!(
        plan.explain_physical().unwrap().contains("WINDOW ["),
        "{}",
        plan.explain_physical().unwrap()
    );
    for threads in [1, 2, 3] {
        let got = plan
            .clone()
            .collect_with(&ExecOptions::new().threads(threads))
            .unwrap();
        assert!(got.equals(&want), "threads {threads}");
    }
}
