//! Interpreter tests: each script must build exactly the plan the Rust API builds (compared as
//! plan text and as `Expr` trees), and every mistake must be an error at the right place.

use crate::prelude::*;
use crate::script::{Output, Script};

fn frame() -> DataFrame {
    df!("x" => [1.0, -2.0, 3.0], "y" => [1, 2, 3], "s" => ["a", "b", "c"]).unwrap()
}

/// Interpret `body` with `let df = ...` prepended (an in-memory frame needs no reader).
fn eval(body: &str) -> crate::Result<Output> {
    let src = format!(
        "let df = df!(\"x\" => [1.0, -2.0, 3.0], \"y\" => [1, 2, 3], \"s\" => [\"a\", \"b\", \"c\"])?;\n{body}"
    );
    Ok(Script::new("t.fq", src).eval()?.output)
}

fn plan(body: &str) -> String {
    match eval(body) {
        Ok(o) => o.into_lazy().unwrap().logical_plan().display_indent(),
        Err(e) => panic!("{e}"),
    }
}

fn err(body: &str) -> String {
    match eval(body) {
        Ok(_) => panic!("expected an error for {body}"),
        Err(e) => e.to_string(),
    }
}

fn same(body: &str, rust: LazyFrame) {
    assert_eq!(plan(body), rust.logical_plan().display_indent(), "{body}");
}

#[test]
fn filter_select_sort() {
    same(
        "df.lazy().filter(col(\"x\").gt(0.0) & col(\"y\").lt(3)).select([col(\"x\"), (col(\"y\") * 2).alias(\"y2\")])",
        frame()
            .lazy()
            .filter(col("x").gt(0.0) & col("y").lt(3))
            .select([col("x"), (col("y") * 2).alias("y2")]),
    );
    same(
        "df.lazy().sort(\"x\", SortOptions::default().descending(true).nulls_last(false))",
        frame().lazy().sort(
            "x",
            SortOptions::default().descending(true).nulls_last(false),
        ),
    );
    same(
        "df.lazy().sort_by([col(\"y\"), col(\"x\")], [SortOptions::new(), SortOptions::new().descending(true)])",
        frame().lazy().sort_by(
            [col("y"), col("x")],
            [SortOptions::new(), SortOptions::new().descending(true)],
        ),
    );
}

#[test]
fn precedence_and_literals_like_rust() {
    same(
        "df.lazy().with_columns([2.0 * col(\"x\") + 1 - col(\"x\").mean() / lit(3), -col(\"x\") % 2.5])",
        frame().lazy().with_columns([
            2.0 * col("x") + 1 - col("x").mean() / lit(3),
            -col("x") % 2.5,
        ]),
    );
    same(
        "df.lazy().filter(!(col(\"x\").gt(1) & col(\"y\").lt(2.5)) | col(\"x\").is_nan())",
        frame()
            .lazy()
            .filter(!(col("x").gt(1) & col("y").lt(2.5)) | col("x").is_nan()),
    );
    // Literal arithmetic folds as Rust would before reaching the API.
    same(
        "df.lazy().head(2 * 3 - 1).slice(-1, 1)",
        frame().lazy().head(5).slice(-1, 1),
    );
    same(
        "df.lazy().select([lit(5u64), lit(5usize), lit(7i64), lit(0.1f32), lit(\"s\"), lit(true)])",
        frame().lazy().select([
            lit(5u64),
            lit(5usize),
            lit(7i64),
            lit(0.1f32),
            lit("s"),
            lit(true),
        ]),
    );
}

#[test]
fn when_cast_consts_and_options() {
    same(
        "df.lazy().with_column(when(col(\"x\").gt(0)).then(lit(1)).when(col(\"x\").lt(-1.0)).then(-1).otherwise(0).alias(\"sign\"))",
        frame().lazy().with_column(
            when(col("x").gt(0))
                .then(lit(1))
                .when(col("x").lt(-1.0))
                .then(-1)
                .otherwise(0)
                .alias("sign"),
        ),
    );
    same(
        "df.lazy().with_columns([col(\"y\").cast(DataType::Float64).fill_nan(f64::NAN).clip(0.0, f64::INFINITY), when(col(\"x\").is_null()).then(col(\"x\")).otherwise(col(\"y\"))])",
        frame().lazy().with_columns([
            col("y")
                .cast(DataType::Float64)
                .fill_nan(f64::NAN)
                .clip(0.0, f64::INFINITY),
            when(col("x").is_null()).then(col("x")).otherwise(col("y")),
        ]),
    );
    // A `Then` is `impl Into<Expr>`, so it is accepted where an Expr is expected.
    same(
        "df.lazy().filter(when(col(\"x\").gt(0)).then(true))",
        frame().lazy().filter(when(col("x").gt(0)).then(true)),
    );
    same(
        "df.lazy().drop([\"s\"]).rename([\"x\"], [\"z\"]).tail(2).gather(col(\"y\"))",
        frame()
            .lazy()
            .drop(["s"])
            .rename(["x"], ["z"])
            .tail(2)
            .gather(col("y")),
    );
}

#[test]
fn variables_and_selectors() {
    same(
        "let c = cols([\"x\", \"y\"]);\nlet e = c.clone().abs();\ndf.lazy().select([e, c.std(0), all_numeric().nan_max()])",
        frame()
            .lazy()
            .select([cols(["x", "y"]).abs(), cols(["x", "y"]).std(0), all_numeric().nan_max()]),
    );
    same(
        "let v = vec![col(\"x\").sum(), col(\"y\").quantile(0.5)];\nLazyFrame::from_dataframe(df).select(v)",
        frame()
            .lazy()
            .select(vec![col("x").sum(), col("y").quantile(0.5)]),
    );
}

#[test]
fn csv_options_build_the_same_scan() {
    let src = "scan_csv_with(\"d.csv\", CsvOptions::new().delimiter(b';').has_header(false).null_value(\"NA\").infer_schema_length(Some(10)).infer_schema_length(None).schema_override(\"a\", DataType::Int32).date_format(\"d\", \"%Y/%m/%d\").datetime_format(\"t\", \"%Y/%m/%d %H:%M\"))";
    let out = Script::new("t.fq", src).eval().unwrap().output;
    let Output::Lazy(lf) = out else {
        panic!("not lazy")
    };
    let crate::plan::LogicalPlan::Scan { source, .. } = &**lf.logical_plan() else {
        panic!("not a scan")
    };
    let crate::io::FileFormat::Csv(o) = source.format() else {
        panic!("not csv")
    };
    let want = CsvOptions::new()
        .delimiter(b';')
        .has_header(false)
        .null_value("NA")
        .infer_schema_length(Some(10))
        .infer_schema_length(None)
        .schema_override("a", DataType::Int32)
        .date_format("d", "%Y/%m/%d")
        .datetime_format("t", "%Y/%m/%d %H:%M");
    assert_eq!(o, &want);
}

#[test]
fn collected_frames_and_exec_options() {
    let out =
        eval("df.lazy().head(2).collect_with(&ExecOptions::new().threads(1).optimize(false))?")
            .unwrap();
    let Output::Frame(df) = out else {
        panic!("not a frame")
    };
    assert_eq!(df.height(), 2);
    let out = eval("let n = df.height();\ndf.lazy().head(n)").unwrap();
    assert!(matches!(out, Output::Lazy(_)));
}

#[test]
fn unknown_names_suggest_and_point() {
    let e = err("df.lazy().sortt(\"x\", SortOptions::default())");
    assert!(e.starts_with("no method `sortt` on `LazyFrame`"), "{e}");
    assert!(e.contains("t.fq:2:11"), "{e}");
    assert!(e.contains("^^^^^ did you mean `sort`?"), "{e}");
    let e = err("df.lazy().select([coll(\"x\")])");
    assert!(
        e.contains("unknown function `coll`") && e.contains("did you mean `col`?"),
        "{e}"
    );
    let e = err("df.lazy().alias(\"x\")");
    assert!(e.contains("`alias` is a method of Expr"), "{e}");
    let e = err("df.lazy().select([col(\"x\").cast(DataType::Float65)])");
    assert!(
        e.contains("unknown constant `DataType::Float65`") && e.contains("DataType::Float64"),
        "{e}"
    );
    let e = err("dff.lazy()");
    assert!(
        e.contains("cannot find value `dff`") && e.contains("did you mean `df`?"),
        "{e}"
    );
}

#[test]
fn argument_errors_name_the_argument() {
    let e = err("df.lazy().head(\"5\")");
    assert!(
        e.starts_with("argument 1 of `head`: expected usize, found string \"5\""),
        "{e}"
    );
    assert!(e.contains("t.fq:2:16"), "{e}");
    let e = err("df.lazy().select([col(\"x\").clip(0, 1)])");
    assert!(
        e.contains("expected f64, found integer `0` (write `0.0`)"),
        "{e}"
    );
    let e = err("df.lazy().head(1, 2)");
    assert!(
        e.starts_with("`head` takes 1 argument but 2 were given"),
        "{e}"
    );
    assert!(e.contains("the signature is `head(n: usize)`"), "{e}");
    let e = err("df.lazy().head(-1)");
    assert!(e.contains("out of range for usize"), "{e}");
    let e = err("df.lazy().filter(col(\"x\").gt(3000000000))");
    assert!(e.contains("out of range for i32"), "{e}");
    let e = err("df.lazy().collect_with(ExecOptions::new())");
    assert!(e.contains("borrow it with `&`"), "{e}");
}

#[test]
fn rust_typing_rules() {
    let e = err("df.lazy().select([col(\"x\"), 1])");
    assert!(
        e.contains("array element of type `integer` after elements of type `Expr`"),
        "{e}"
    );
    let e = err("df.lazy().select([col(\"x\") + 1.0 * 2])");
    assert!(e.contains("does not mix integers and floats"), "{e}");
    let e = err("df.lazy().filter(col(\"x\") > 1)");
    assert!(e.contains("use the methods `.lt(..)`"), "{e}");
    let e = err("df.lazy().filter(col(\"x\").gt(1) && col(\"y\").gt(1))");
    assert!(e.contains("combine conditions with `&`"), "{e}");
    let e = err("let e = col(\"x\");\ndf.lazy().select([e.clone().alias(\"a\"), e.abs(), e])");
    assert!(
        e.contains("use of moved value `e`") && e.contains("t.fq:3:50"),
        "{e}"
    );
    let e = err("df.lazy().collect().height()");
    assert!(
        e.contains("this is a `Result`") && e.contains("add `?`"),
        "{e}"
    );
    let e = err("df.lazy().collect()");
    assert!(
        e.contains("must end with a LazyFrame, a DataFrame, a model, a plot or a sink call")
            && e.contains("add `?`"),
        "{e}"
    );
}

#[test]
fn unsupported_syntax_says_what_is_supported() {
    for (body, what) in [
        (
            "df.lazy().select([col(\"x\").map(|v| v)])",
            "closures are not supported",
        ),
        (
            "if true { df.lazy() } else { df.lazy() }",
            "`if` and `match` are not supported",
        ),
        ("let mut a = 1;\ndf.lazy()", "`mut` is not supported"),
        (
            "let a: usize = 1;\ndf.lazy()",
            "type annotations are not supported",
        ),
        ("SortOptions { descending: true }", "struct literals"),
        ("println!(\"x\")", "macro `println!` is not supported"),
        (
            "fn f() {}\ndf.lazy()",
            "items (`fn`, `use`, ...) are not supported",
        ),
        ("df.lazy();", "the script ends with `;`"),
        ("let a = df.lazy();", "the script ends with a `let`"),
        ("df.lazy(", "syntax error"),
        (
            "col(\"x\")",
            "must end with a LazyFrame, a DataFrame, a model, a plot or a sink call",
        ),
        (
            "df.lazy().head(SortOptions::new().descending)",
            "field access",
        ),
        ("df.lazy().head([1, 2][0])", "indexing"),
        ("df.lazy().head(1);\ndf.lazy()", "use of moved value `df`"),
        ("df.lazy().collect();\ndf", "this `Result` is ignored"),
    ] {
        let e = err(body);
        assert!(e.contains(what), "{body}: {e}");
        assert!(e.contains("t.fq:"), "{body}: {e}");
    }
    let e = Script::new("t.fq", "// only a comment\n")
        .eval()
        .map(|_| ())
        .unwrap_err();
    assert!(e.to_string().starts_with("empty script"), "{e}");
}

#[test]
fn engine_errors_point_at_the_step() {
    let src = "let df = df!(\"x\" => [1.0])?;\ndf.lazy()\n    .filter(col(\"x\").gt(0.0))\n    .with_columns([col(\"xx\").abs()])\n    .head(1)";
    let ev = Script::new("t.fq", src).eval().unwrap();
    let err = ev.output.explain(false).unwrap_err();
    let e = ev.locate(err).to_string();
    assert!(e.starts_with("column not found: \"xx\""), "{e}");
    assert!(e.contains("t.fq:4:6"), "{e}");
    assert!(e.contains("^^^^^^^^^^^^ while planning"), "{e}");
}

#[test]
fn df_macro_and_columns() {
    let out = Script::new(
        "t.fq",
        "DataFrame::new(vec![Column::new(\"a\", [Some(1.5), None]), Column::new(\"b\", [true, false])])?",
    )
    .eval()
    .unwrap()
    .output;
    let Output::Frame(df) = out else { panic!() };
    let want = DataFrame::new(vec![
        Column::new("a", [Some(1.5), None]),
        Column::new("b", [true, false]),
    ])
    .unwrap();
    assert!(df.equals(&want));
    let e = Script::new("t.fq", "df!(\"a\" => [1, 2], \"b\" => [1])?.lazy()")
        .eval()
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(e.contains("schema error") && e.contains("t.fq:1:"), "{e}");
}

#[test]
fn ambiguous_literal_operand_has_no_methods() {
    // Rust: "type annotations needed" (both the f32 and f64 `Mul<Expr>` impls apply).
    let e = err("df.lazy().select([(2.0 * col(\"x\")).alias(\"y\")])");
    assert!(e.contains("ambiguous") && e.contains("t.fq:2:19"), "{e}");
    let e = err("let a = 2 * col(\"x\") + 1;\ndf.lazy().select([a.clone()])");
    assert!(e.contains("ambiguous"), "{e}");
    same(
        "df.lazy().select([(col(\"x\") * 2.0).alias(\"y\"), (2.0f64 * col(\"x\")).alias(\"z\"), col(\"y\") + 2 * col(\"x\")])",
        frame().lazy().select([
            (col("x") * 2.0).alias("y"),
            (2.0f64 * col("x")).alias("z"),
            col("y") + 2 * col("x"),
        ]),
    );
}

/// Inherent `pub fn`s of `ty` taking `self` by value (the builder methods; `&self` methods
/// inspect rather than build), found by parsing every file under `src/`.
fn api_methods(ty: &str) -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut found = Vec::new();
    for f in files {
        let Ok(src) = std::fs::read_to_string(&f) else {
            continue;
        };
        let Ok(file) = syn::parse_file(&src) else {
            continue;
        };
        for item in file.items {
            let syn::Item::Impl(imp) = item else { continue };
            let is_ty = matches!(&*imp.self_ty, syn::Type::Path(p)
                if p.path.segments.last().is_some_and(|s| s.ident == ty));
            if imp.trait_.is_some() || !is_ty {
                continue;
            }
            for it in imp.items {
                let syn::ImplItem::Fn(m) = it else { continue };
                let by_value = m.sig.receiver().is_some_and(|r| r.reference.is_none());
                if matches!(m.vis, syn::Visibility::Public(_)) && by_value {
                    let sig = quote_sig(&m.sig);
                    found.push((m.sig.ident.to_string(), sig));
                }
            }
        }
    }
    found
}

/// The signature as written (span locations give the source text back).
fn quote_sig(sig: &syn::Signature) -> String {
    use syn::spanned::Spanned;
    sig.span().source_text().unwrap_or_default()
}

/// Methods a script cannot use, with the reason; everything else must be in `table.rs`.
const NOT_SCRIPTABLE: &[(&str, &str)] = &[
    // `&self` inspectors (schema, explain) and methods whose signature names `Fn` are skipped
    // automatically; these take closures through a wrapper type.
    ("Expr::map_columns", "takes a Rust closure (ColumnUdf)"),
    (
        "KMeans::init",
        "takes an ndarray matrix of starting centres",
    ),
    (
        "ExecOptions::progress",
        "takes a Rust closure (ProgressFn); the CLI draws its bar with it",
    ),
    (
        "ExecOptions::memory_pool",
        "takes a shared MemoryPool (an Arc), which a script has no way to make",
    ),
    (
        "ExecOptions::on_rows_written",
        "takes a Rust closure (RowsFn); the CLI shows the rows a sink wrote with it",
    ),
];

#[test]
fn every_api_method_is_in_the_script_tables() {
    let reg = crate::script::dispatch::registry();
    let mut missing = Vec::new();
    for ty in [
        "Expr",
        "When",
        "Then",
        "LazyFrame",
        "LazyGroupBy",
        "SortOptions",
        "CsvOptions",
        "ExecOptions",
        "DtNamespace",
        "StrNamespace",
        "RankOptions",
        "RollingOptions",
    ] {
        for (name, sig) in api_methods(ty) {
            let key = format!("{ty}::{name}");
            // Closures (UDFs) exist only in Rust.
            let takes_closure = ["Fn(", "FnMut(", "FnOnce("].iter().any(|f| sig.contains(f));
            if takes_closure || NOT_SCRIPTABLE.iter().any(|(k, _)| *k == key) {
                continue;
            }
            if reg.method(ty, &name).is_none() {
                missing.push(key);
            }
        }
    }
    assert!(
        missing.is_empty(),
        "API methods missing from src/script/table.rs (add one line each, or list them in \
         NOT_SCRIPTABLE with the reason): {missing:?}"
    );
}

#[test]
fn windows_fills_random_and_sources() {
    same(
        "df.lazy().with_columns([col(\"x\").rolling_mean_with(RollingOptions::new(2).weights([1.0, 2.0]).ddof(0)).alias(\"r\"), col(\"x\").fill_nan_with(Fill::Zero), col(\"y\").rolling(RollingKind::Max, RollingOptions::new(2)).alias(\"m\"), rand_uniform(0, 1u8, 42).alias(\"u\"), rand_normal(0.5, 2, 7).alias(\"n\")])",
        frame().lazy().with_columns([
            col("x")
                .rolling_mean_with(RollingOptions::new(2).weights([1.0, 2.0]).ddof(0))
                .alias("r"),
            col("x").fill_nan_with(Fill::Zero),
            col("y")
                .rolling(RollingKind::Max, RollingOptions::new(2))
                .alias("m"),
            rand_uniform(0, 1u8, 42).alias("u"),
            rand_normal(0.5, 2, 7).alias("n"),
        ]),
    );
    same(
        "df.lazy().gather(col(\"x\").arg_sort(SortOptions::default())).sample_n(2, 1, false).drop_nulls_in([\"x\"])",
        frame()
            .lazy()
            .gather(col("x").arg_sort(SortOptions::default()))
            .sample_n(2, 1, false)
            .drop_nulls_in(["x"]),
    );
    let src = "full(3, [\"a\", \"b\"], Some(2.5)).with_columns([sum_horizontal([col(\"a\"), col(\"b\")]).alias(\"s\")])";
    let got = Script::new("t.fq", src)
        .eval()
        .unwrap()
        .output
        .into_lazy()
        .unwrap();
    let want = full(3, ["a", "b"], Some(2.5))
        .with_columns([sum_horizontal([col("a"), col("b")]).alias("s")]);
    assert_eq!(
        got.logical_plan().display_indent(),
        want.logical_plan().display_indent()
    );
    let e = err("df.lazy().with_columns([rand_uniform(0u64, 1, 42)])");
    assert!(e.contains("does not convert into f64 losslessly"), "{e}");
    let e = err("df.lazy().with_columns([col(\"x\").fill_null_with(Fill::Average)])");
    assert!(e.contains("unknown constant `Fill::Average`"), "{e}");
}

#[test]
fn models_are_terminal_values() {
    let out = eval("df.lazy().kmeans(KMeans::new(2).seed(1).n_init(2).features([\"x\"]))").unwrap();
    let want = frame()
        .lazy()
        .kmeans(KMeans::new(2).seed(1).n_init(2).features(["x"]));
    assert_eq!(out.explain(false).unwrap(), want.explain(false).unwrap());
    let Output::Model(m) = out else {
        panic!("not a model")
    };
    let fitted = m.fit().unwrap();
    assert_eq!(fitted.table.height(), 2);
    assert!(
        fitted.summary.starts_with("KMeans: k=2"),
        "{}",
        fitted.summary
    );
    let out = eval(
        "let m = df.clone().lazy().linear_regression(\"x\", [\"y\"]).fit()?;\nlet e = m.prediction_expr();\nm.predict(df.lazy()).with_columns([e.alias(\"again\")])",
    )
    .unwrap();
    assert!(matches!(out, Output::Lazy(_)));
    let e = err("df.lazy().pca(Pca::new(2).solver(PcaSolver::Fastest))");
    assert!(e.contains("unknown constant `PcaSolver::Fastest`"), "{e}");
}

#[test]
fn dates_strings_membership_and_row_windows() {
    same(
        "df.lazy().filter(col(\"s\").is_in([\"a\", \"c\"]) & col(\"y\").is_between(1, 2)).with_columns([date(\"1994-01-01\").dt().year().alias(\"yr\"), datetime(\"2020-01-01T10:00:00Z\").dt().truncate(\"1d\").alias(\"d\"), col(\"s\").str().contains_regex(\"a|b\").alias(\"r\"), col(\"s\").str().slice(-1, 1).alias(\"l\")])",
        frame()
            .lazy()
            .filter(col("s").is_in(["a", "c"]) & col("y").is_between(1, 2))
            .with_columns([
                date("1994-01-01").dt().year().alias("yr"),
                datetime("2020-01-01T10:00:00Z")
                    .dt()
                    .truncate("1d")
                    .alias("d"),
                col("s").str().contains_regex("a|b").alias("r"),
                col("s").str().slice(-1, 1).alias("l"),
            ]),
    );
    same(
        "df.lazy().with_columns([col(\"x\").shift(-1).alias(\"a\"), col(\"y\").diff(1).alias(\"b\"), col(\"x\").cum_max().alias(\"c\"), col(\"x\").rank(RankOptions::new().method(RankMethod::Dense).descending(true)).alias(\"r\"), col(\"x\").rolling_by(RollingKind::Median, col(\"d\"), \"2d\", 2).alias(\"m\"), col(\"x\").rolling_mean_by(col(\"d\"), \"7d\")])",
        frame().lazy().with_columns([
            col("x").shift(-1).alias("a"),
            col("y").diff(1).alias("b"),
            col("x").cum_max().alias("c"),
            col("x")
                .rank(RankOptions::new().method(RankMethod::Dense).descending(true))
                .alias("r"),
            col("x")
                .rolling_by(RollingKind::Median, col("d"), "2d", 2)
                .alias("m"),
            col("x").rolling_mean_by(col("d"), "7d"),
        ]),
    );
    assert_eq!(
        plan("df.lazy().select([col(\"x\").rolling_sum_by(col(\"d\"), \"1mo\")])"),
        "SELECT [col(\"x\").rolling_sum_by(col(\"d\"), \"1mo\")]\n  DATAFRAME rows=3 width=3"
    );
    same(
        "df.lazy().select([col(\"x\").cast(DataType::Decimal128(12, 2)).sum().alias(\"total\")])",
        frame().lazy().select([col("x")
            .cast(DataType::Decimal128(12, 2))
            .sum()
            .alias("total")]),
    );
    let e = err("df.lazy().select([col(\"x\").dt().year()]).collect()?");
    assert!(e.contains("year() needs a date or datetime"), "{e}");
    let e = err("df.lazy().select([col(\"s\").str().contains_regex(\"(\")]).collect()?");
    assert!(e.contains("invalid regular expression \"(\""), "{e}");
}
