//! Sorting, indexing and random numbers beyond the goldens: thread-count determinism,
//! distribution sanity, empty and one-row frames, errors (not panics), multi-key sorts, plan
//! text, sources and ndarray.

use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, StringArray};
use fusedframe::prelude::*;

fn run(lf: LazyFrame, threads: usize) -> DataFrame {
    lf.collect_with(&ExecOptions::new().threads(threads))
        .unwrap()
}

fn err(lf: LazyFrame) -> Error {
    lf.collect().unwrap_err()
}

fn f(df: &DataFrame, c: &str) -> Vec<f64> {
    df.column_f64(c)
        .unwrap()
        .into_iter()
        .map(|v| v.unwrap_or(f64::MIN))
        .collect()
}

#[test]
fn random_values_identical_for_one_and_two_threads() {
    // Several 64K blocks, and a filter before the random columns (rows are numbered after it).
    let lf = range(0, 300_001)
        .filter((col("range") % 3).neq(1))
        .with_columns([
            rand_uniform(-1.0, 1.0, 5).alias("u"),
            rand_normal(0.0, 1.0, 5).alias("n"),
            rand_int(0, 1000, 5).alias("k"),
        ])
        .filter(col("u").gt(-0.5))
        .shuffle(9);
    let a = run(lf.clone(), 1);
    let b = run(lf.clone(), 2);
    assert!(a.height() > 100_000);
    assert_eq!(a, b);
    // And the same as building the columns without the optimizer.
    let c = lf
        .collect_with(&ExecOptions::new().threads(2).optimize(false))
        .unwrap();
    assert_eq!(a, c);
}

#[test]
fn distributions_have_the_right_moments() {
    let n = 1_000_000;
    let out = run(
        zeros(n, ["z"])
            .with_columns([
                rand_uniform(2.0, 5.0, 1).alias("u"),
                rand_normal(-3.0, 0.5, 2).alias("g"),
                rand_int(-10, 11, 3).alias("k"),
            ])
            .select([
                col("u").mean().alias("u_mean"),
                col("u").std(0).alias("u_std"),
                col("u").min().alias("u_min"),
                col("u").max().alias("u_max"),
                col("g").mean().alias("g_mean"),
                col("g").std(0).alias("g_std"),
                col("k").mean().alias("k_mean"),
                col("k").min().alias("k_min"),
                col("k").max().alias("k_max"),
            ]),
        2,
    );
    let v = |c: &str| f(&out, c)[0];
    assert!((v("u_mean") - 3.5).abs() < 0.005, "{}", v("u_mean"));
    assert!((v("u_std") - 3.0 / 12f64.sqrt()).abs() < 0.005);
    assert!(v("u_min") >= 2.0 && v("u_max") < 5.0);
    assert!((v("g_mean") + 3.0).abs() < 0.002, "{}", v("g_mean"));
    assert!((v("g_std") - 0.5).abs() < 0.002, "{}", v("g_std"));
    assert!(v("k_mean").abs() < 0.02, "{}", v("k_mean"));
    assert_eq!((v("k_min"), v("k_max")), (-10.0, 10.0));
    // Different seeds, different values.
    let two = run(
        zeros(4, ["z"]).select([
            rand_uniform(0.0, 1.0, 1).alias("a"),
            rand_uniform(0.0, 1.0, 2).alias("b"),
        ]),
        1,
    );
    assert_ne!(f(&two, "a"), f(&two, "b"));
}

fn large_input(n: usize) -> Vec<Option<f64>> {
    let u = run(
        zeros(n, ["z"]).select([
            rand_normal(0.0, 1e3, 11).alias("v"),
            rand_int(0, 50, 12).alias("kind"),
        ]),
        2,
    );
    // Duplicates (rounded values), NaN, nulls, infinities and -0.0 mixed in.
    let v = u.column_f64("v").unwrap();
    let kind = u.column_f64("kind").unwrap();
    v.into_iter()
        .zip(kind)
        .map(|(x, k)| match k.unwrap() as i64 {
            0 => None,
            1 => Some(f64::NAN),
            2 => Some(f64::INFINITY),
            3 => Some(-0.0),
            4..=20 => Some(x.unwrap().round()),
            _ => x,
        })
        .collect()
}

#[test]
fn large_arg_sort_matches_a_reference_stable_sort() {
    let values = large_input(400_000);
    let df = DataFrame::new(vec![Column::new("x", values.clone())]).unwrap();
    // Reference: std's stable sort with the documented order.
    let key = |v: &Option<f64>| match v {
        None => (2u8, 0.0),
        Some(x) if x.is_nan() => (1, 0.0),
        Some(x) => (0, *x + 0.0),
    };
    let mut want: Vec<usize> = (0..values.len()).collect();
    want.sort_by(|a, b| {
        let (ka, kb) = (key(&values[*a]), key(&values[*b]));
        ka.0.cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
    });
    let want: Vec<f64> = want.into_iter().map(|i| i as f64).collect();
    let lf = df
        .lazy()
        .select([col("x").arg_sort(SortOptions::default())]);
    assert_eq!(f(&run(lf.clone(), 1), "x"), want);
    assert_eq!(f(&run(lf, 2), "x"), want);
}

#[test]
fn sort_by_several_keys() {
    let df = DataFrame::new(vec![
        Column::new(
            "g",
            vec![Some("b"), Some("a"), None, Some("b"), Some("a"), Some("a")],
        ),
        Column::new(
            "x",
            vec![
                Some(1.0),
                Some(f64::NAN),
                Some(0.0),
                Some(1.0),
                None,
                Some(-2.0),
            ],
        ),
        Column::new("row", vec![0, 1, 2, 3, 4, 5]),
    ])
    .unwrap();
    let out = run(
        df.clone().lazy().sort_by(
            [col("g"), col("x")],
            [SortOptions::default(), SortOptions::new().descending(true)],
        ),
        2,
    );
    // g ascending with null last; inside a group x descending: NaN first, nulls last.
    assert_eq!(f(&out, "row"), vec![1.0, 5.0, 4.0, 0.0, 3.0, 2.0]);
    let out = run(
        df.lazy().sort_by(
            [col("g"), col("x")],
            [
                SortOptions::new().nulls_last(false),
                SortOptions::new().nulls_last(false),
            ],
        ),
        1,
    );
    assert_eq!(f(&out, "row"), vec![2.0, 4.0, 5.0, 1.0, 0.0, 3.0]);
}

#[test]
fn empty_and_one_row_frames() {
    let empty = DataFrame::new(vec![Column::new("x", Vec::<f64>::new())]).unwrap();
    let out = run(
        empty.clone().lazy().select([
            col("x").arg_sort(SortOptions::default()).alias("i"),
            col("x").sort(SortOptions::default()).alias("s"),
            col("x").shuffle(1).alias("p"),
            col("x").top_k(3).alias("t"),
        ]),
        2,
    );
    assert_eq!(out.height(), 0);
    let out = run(
        empty
            .clone()
            .lazy()
            .with_columns([rand_uniform(0, 1, 1).alias("u"), row_index().alias("r")]),
        2,
    );
    assert_eq!(out.shape(), (0, 3));
    assert_eq!(run(empty.clone().lazy().shuffle(3), 1).height(), 0);
    assert_eq!(
        run(empty.clone().lazy().sample_n(0, 3, false), 1).height(),
        0
    );
    assert_eq!(
        run(empty.clone().lazy().sample_frac(0.5, 3, true), 1).height(),
        0
    );
    assert!(matches!(
        err(empty.clone().lazy().sample_n(1, 3, true)),
        Error::Compute(_)
    ));
    assert_eq!(
        run(empty.lazy().sort("x", SortOptions::default()), 2).height(),
        0
    );

    let one = DataFrame::new(vec![Column::new("x", vec![f64::NAN])]).unwrap();
    let out = run(
        one.clone().lazy().with_columns([
            col("x")
                .arg_sort(SortOptions::new().descending(true))
                .alias("i"),
            rand_int(5, 6, 0).alias("k"),
        ]),
        1,
    );
    assert_eq!(f(&out, "i"), vec![0.0]);
    assert_eq!(f(&out, "k"), vec![5.0]);
    assert_eq!(run(one.clone().lazy().shuffle(1), 1).height(), 1);
    assert_eq!(run(one.lazy().sample_n(3, 1, true), 1).height(), 3);
}

#[test]
fn constant_columns_keep_their_order() {
    let df = DataFrame::new(vec![
        Column::new("x", vec![2.5; 5]),
        Column::new("row", vec![0, 1, 2, 3, 4]),
    ])
    .unwrap();
    for desc in [false, true] {
        let out = run(
            df.clone()
                .lazy()
                .sort("x", SortOptions::new().descending(desc)),
            2,
        );
        assert_eq!(f(&out, "row"), vec![0.0, 1.0, 2.0, 3.0, 4.0]);
    }
    let out = run(
        df.lazy()
            .select([col("row").top_k(2), col("x").top_k(2).alias("t")]),
        1,
    );
    assert_eq!(f(&out, "row"), vec![4.0, 3.0]);
    assert_eq!(f(&out, "t"), vec![2.5, 2.5]);
}

#[test]
fn errors_name_the_problem() {
    let df = df!("x" => [1.0, 2.0, 3.0], "i" => [0, 5, 1], "s" => ["a", "b", "c"]).unwrap();
    // Out-of-range indices: a compute error naming the index.
    let e = err(df.clone().lazy().select([col("x").gather(col("i"))]));
    assert!(matches!(e, Error::Compute(_)), "{e}");
    assert!(e.to_string().contains("index 5"), "{e}");
    let e = err(df.clone().lazy().gather(col("i")));
    assert!(e.to_string().contains("index 5"), "{e}");
    let e = err(df.clone().lazy().select([col("x").gather(-4)]));
    assert!(e.to_string().contains("-4"), "{e}");
    // Type errors at plan time, before any data is read.
    let e = df
        .clone()
        .lazy()
        .select([col("x").gather(col("x"))])
        .schema()
        .unwrap_err();
    assert!(matches!(e, Error::Type(_)), "{e}");
    let e = df
        .clone()
        .lazy()
        .select([col("x").filter(col("x"))])
        .schema()
        .unwrap_err();
    assert!(matches!(e, Error::Type(_)), "{e}");
    // Bad parameters are plan errors.
    for lf in [
        df.clone().lazy().with_columns([rand_int(3, 3, 0)]),
        df.clone().lazy().with_columns([rand_normal(0.0, -1.0, 0)]),
        df.clone()
            .lazy()
            .with_columns([rand_uniform(0.0, f64::NAN, 0)]),
        df.clone().lazy().sample_frac(-0.5, 0, false),
        df.clone().lazy().sample_frac(1.5, 0, false),
    ] {
        let e = lf.schema().unwrap_err();
        assert!(matches!(e, Error::Plan(_)), "{e}");
    }
    // Samples too large without replacement.
    let e = err(df.clone().lazy().sample_n(4, 0, false));
    assert!(matches!(e, Error::Compute(_)), "{e}");
    // A length-changing expression in with_columns is an error, not a panic.
    let e = err(df
        .clone()
        .lazy()
        .with_columns([col("x").filter(col("x").gt(1.0))]));
    assert!(e.to_string().contains("rows"), "{e}");
    // Strings sort (comparison path) but top_k on them works too.
    let out = run(df.lazy().select([col("s").top_k(2)]), 1);
    let s = out.column("s").unwrap();
    let s = s.as_any().downcast_ref::<StringArray>().unwrap();
    assert_eq!(s.iter().collect::<Vec<_>>(), vec![Some("c"), Some("b")]);
}

#[test]
fn plan_text_is_the_rust_api() {
    let df = df!("x" => [1.0, 2.0]).unwrap();
    let lf = df
        .lazy()
        .with_columns([
            col("x")
                .arg_sort(SortOptions::new().descending(true))
                .alias("o"),
            rand_uniform(0.0, 1.0, 42).alias("u"),
        ])
        .sample_n(1, 7, false);
    let text = lf.explain(false).unwrap();
    assert!(
        text.contains("col(\"x\").arg_sort(SortOptions::new().descending(true)).alias(\"o\")"),
        "{text}"
    );
    assert!(
        text.contains("rand_uniform(0.0, 1.0, 42).alias(\"u\")"),
        "{text}"
    );
    assert!(
        text.contains("GATHER row_index().sample_n(1, 7, false)"),
        "{text}"
    );
    assert_eq!(
        col("x").sample_frac(0.25, 1, true).to_string(),
        "col(\"x\").sample_frac(0.25, 1, true)"
    );
    assert_eq!(rand_int(-1, 2, 3).to_string(), "rand_int(-1, 2, 3)");
    assert_eq!(rand_normal(0, 1, 3).to_string(), "rand_normal(0.0, 1.0, 3)");
    assert_eq!(col("x").top_k(3).to_string(), "col(\"x\").top_k(3)");
    assert_eq!(
        col("x").take(col("i")).to_string(),
        "col(\"x\").gather(col(\"i\"))"
    );
}

#[test]
fn sources() {
    let r = run(range(-2, 3), 1);
    assert_eq!(r.schema().field(0).name(), "range");
    assert_eq!(f(&r, "range"), vec![-2.0, -1.0, 0.0, 1.0, 2.0]);
    assert_eq!(run(range(3, 3), 1).height(), 0);
    assert_eq!(run(range(5, 1), 1).height(), 0);
    let z = run(zeros(0, ["a", "b"]), 1);
    assert_eq!(z.shape(), (0, 2));
    let o = run(ones(2, ["a"]).with_columns([(col("a") * 3).alias("b")]), 1);
    assert_eq!(f(&o, "b"), vec![3.0, 3.0]);
    let b = run(full(2, ["t"], true), 1);
    assert_eq!(b.schema().field(0).data_type(), &DataType::Boolean);
    let x = run(
        full(3, ["x", "y"], 2.5).select([(col("x") + col("y")).sum()]),
        2,
    );
    assert_eq!(f(&x, "x"), vec![15.0]);
    // No columns at all still has a height.
    let none = run(
        zeros(4, Vec::<String>::new()).with_columns([row_index().alias("i")]),
        1,
    );
    assert_eq!(f(&none, "i"), vec![0.0, 1.0, 2.0, 3.0]);
    let e = zeros(2, ["a", "a"]).schema().unwrap_err();
    assert!(e.to_string().contains("duplicate"), "{e}");
}

#[test]
fn ndarray_round_trips() {
    let df =
        df!("a" => [1.0, f64::NAN, f64::INFINITY], "b" => [1, 2, 3], "t" => [true, false, true])
            .unwrap();
    let m = df.to_ndarray::<f64>().unwrap();
    assert_eq!(m.shape(), &[3, 3]);
    assert!(m[[1, 0]].is_nan() && m[[2, 0]].is_infinite());
    assert_eq!(m[[2, 1]], 3.0);
    assert_eq!(m[[1, 2]], 0.0);
    let m32 = df.to_ndarray::<f32>().unwrap();
    assert_eq!(m32[[0, 1]], 1.0f32);
    // i64 refuses float columns rather than truncating them silently.
    assert!(matches!(
        df.to_ndarray::<i64>().unwrap_err(),
        Error::Type(_)
    ));
    let ints = df!("b" => [1, 2, 3], "t" => [true, false, true]).unwrap();
    let mi = ints.to_ndarray::<i64>().unwrap();
    assert_eq!(mi.row(2).to_vec(), vec![3, 1]);
    let back = DataFrame::from_ndarray(&mi, &["b", "t"]).unwrap();
    assert_eq!(back.schema().field(1).data_type(), &DataType::Int64);
    let back = DataFrame::from_ndarray(&m, &["a", "b", "t"]).unwrap();
    assert_eq!(
        back.to_ndarray::<f64>().unwrap().row(0).to_vec(),
        vec![1.0, 1.0, 1.0]
    );
    // Nulls and strings are errors naming the column.
    let bad = DataFrame::new(vec![Column::new("n", vec![Some(1.0), None])]).unwrap();
    assert!(bad
        .to_ndarray::<f64>()
        .unwrap_err()
        .to_string()
        .contains("\"n\""));
    let s = df!("s" => ["x"]).unwrap();
    assert!(matches!(s.to_ndarray::<f64>().unwrap_err(), Error::Type(_)));
    // Empty and one-row frames; a transposed (column-major) matrix.
    let e = DataFrame::new(vec![Column::new("x", Vec::<f64>::new())]).unwrap();
    assert_eq!(e.to_ndarray::<f64>().unwrap().shape(), &[0, 1]);
    let t = ndarray::array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]].reversed_axes();
    let df = DataFrame::from_ndarray(&t, &["p", "q"]).unwrap();
    assert_eq!(
        df.column_f64("q").unwrap(),
        vec![Some(4.0), Some(5.0), Some(6.0)]
    );
    assert_eq!(df.schema().field(0).data_type(), &DataType::Float32);
    let arr: ArrayRef = Arc::new(Float64Array::from(vec![7.0]));
    let one = DataFrame::new(vec![Column::new("x", arr)]).unwrap();
    assert_eq!(one.to_ndarray::<f64>().unwrap()[[0, 0]], 7.0);
}

#[test]
fn queries_that_read_no_column_keep_the_height() {
    let dir = tempfile::tempdir().unwrap();
    let df = df!("x" => [1.0, 2.0, 3.0], "y" => [4, 5, 6]).unwrap();
    let pq = dir.path().join("t.parquet");
    let ipc = dir.path().join("t.arrow");
    df.clone().lazy().sink_parquet(&pq).unwrap();
    df.clone().lazy().sink_ipc(&ipc).unwrap();
    for lf in [df.lazy(), scan_parquet(&pq), scan_ipc(&ipc)] {
        let out = run(
            lf.select([row_index().alias("i"), rand_int(0, 2, 1).alias("k")]),
            2,
        );
        assert_eq!(f(&out, "i"), vec![0.0, 1.0, 2.0]);
    }
}
