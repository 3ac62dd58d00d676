//! Property test: the optimizer never changes a result. Random pipelines (filters, with_columns
//! and selects with arithmetic, `when`, NaN fills, scalers, rolling windows, arg_sort and
//! aggregates, sorts, gathers, slices, drops, renames, aggregations) over random data with NaN and null, read from memory or from
//! a Parquet file of small row groups, must give the same frames optimized and unoptimized
//! (`ExecOptions::optimize(false)`), or fail in both.
//!
//! "The same" is bit-identical except for float values, which may differ in their last bits
//! (a relative 1e-12): hoisting a statistic out of a column streams it over the file's row
//! groups, so its partial states merge in another order than over the collected column. A
//! result that cancels to about zero (the sum of `x - mean`) keeps only those last bits, so
//! values within 1e-12 of each other also count as equal: the numbers drawn are at most 2.5 in
//! size (or infinite, or -1e300) over at most 120 rows, so other plans' rounding stays far below.
//! Either plan gives the same bytes for any thread count (other tests check that).

use fusedframe::io::parquet::write_with_row_groups;
use fusedframe::prelude::*;
use proptest::prelude::*;

/// One random value of a float column: a number, NaN, infinity or null.
fn float_cell() -> impl Strategy<Value = Option<f64>> {
    prop_oneof![
        6 => (-5i32..5).prop_map(|v| Some(f64::from(v) * 0.5)),
        1 => Just(Some(f64::NAN)),
        1 => Just(None),
        1 => prop_oneof![Just(Some(f64::INFINITY)), Just(Some(-1e300))],
    ]
}

fn int_cell() -> impl Strategy<Value = Option<i64>> {
    prop_oneof![6 => (-4i64..6).prop_map(Some), 1 => Just(None)]
}

/// A frame of `n` rows: floats `f`, `g`, ints `i`, `k`.
fn frame() -> impl Strategy<Value = DataFrame> {
    (0usize..120).prop_flat_map(|n| {
        (
            prop::collection::vec(float_cell(), n),
            prop::collection::vec(float_cell(), n),
            prop::collection::vec(int_cell(), n),
            prop::collection::vec(int_cell(), n),
        )
            .prop_map(|(f, g, i, k)| {
                DataFrame::new(vec![
                    Column::new("f", f),
                    Column::new("g", g),
                    Column::new("i", i),
                    Column::new("k", k),
                ])
                .expect("frame")
            })
    })
}

/// The numeric columns of the current schema.
fn numeric(lf: &LazyFrame) -> Vec<String> {
    lf.schema()
        .map(|s| {
            s.fields()
                .iter()
                .filter(|f| f.data_type().is_numeric())
                .map(|f| f.name().clone())
                .collect()
        })
        .unwrap_or_default()
}

fn pick(cols: &[String], seed: u32) -> Expr {
    col(cols[seed as usize % cols.len()].as_str())
}

/// How far ordered comparisons stay from a tie. A value compared with a statistic of its own
/// column can equal it in exact arithmetic (a NaN filled with the mean, compared with the mean
/// of the filled column; `x - x.mean()` compared with 0), and then the last bits that differ
/// between the plans (see the module docs) decide the comparison. Such ties are no property
/// of the optimizer, so the thresholds sit this far (relative and absolute) off them; the data
/// are multiples of 0.5, far from these thresholds.
const TIE: f64 = 1e-9;

/// `stat` moved off a tie with the column's own values, by [`TIE`] relative and absolute.
fn off_tie(stat: Expr) -> Expr {
    stat.clone() + stat.abs() * lit(TIE) + lit(TIE)
}

/// A column expression built from a template number and column choices.
fn expr(cols: &[String], t: u32, a: u32, b: u32) -> Expr {
    let (x, y) = (pick(cols, a), pick(cols, b));
    let k = f64::from(b % 5) - 1.0;
    match t % 20 {
        12 => x.fill_nan_with(Fill::Mean),
        13 => x.fill_nan_with([Fill::Min, Fill::Max, Fill::Median, Fill::Forward][b as usize % 4]),
        14 => x.min_max_scale(),
        15 => x.min_max_scale() * y,
        16 => x.rolling_mean((b % 4 + 1) as usize),
        17 => x.standardize(),
        18 => x.arg_sort(SortOptions::new().nulls_last(b.is_multiple_of(2))),
        19 => x.clone().fill_nan_with(Fill::Mean).min_max_scale() - x.nan_mean(),
        0 => x + y,
        1 => x * lit(k),
        2 => x.clone() - x.mean(),
        3 => x.clone().fill_nan(x.nan_mean()),
        4 => (x.clone() - x.clone().nan_min()) / (x.clone().nan_max() - x.nan_min()),
        5 => when(x.clone().gt(k + TIE)).then(x).otherwise(y),
        6 => x.abs() + (lit(1.0) + lit(2.0)),
        7 => (x.clone() + y.clone()) * (x + y),
        8 => x.fill_null(lit(0)),
        9 => x.sqrt() - y.nan_max(),
        10 => (x.clone() - x.nan_mean()).abs().nan_mean() + y,
        _ => x / y.std(0),
    }
}

/// Ordered comparisons are drawn a little off ties (see [`TIE`]).
fn predicate(cols: &[String], t: u32, a: u32, b: u32) -> Expr {
    let (x, y) = (pick(cols, a), pick(cols, b));
    let k = f64::from(b % 5) - 1.0;
    match t % 9 {
        0 => x.gt(k + TIE),
        1 => x.lt(k - TIE) & y.is_not_null(),
        2 => x.is_nan() | y.gt(k + TIE),
        3 => !x.gt(k + TIE),
        4 => x.clone().gt(off_tie(x.nan_mean())),
        5 => lit(true) & x.neq(k),
        6 => x.eq(y),
        7 => x.ge(k + TIE) | lit(1).gt(lit(2)),
        _ => x.le(y).not(),
    }
}

/// Apply one random operation to `lf`, naming new columns `c{step}`.
fn step(lf: LazyFrame, step: usize, op: (u32, u32, u32, u32)) -> LazyFrame {
    let cols = numeric(&lf);
    if cols.is_empty() {
        return lf;
    }
    let (kind, t, a, b) = op;
    let name = format!("c{step}");
    match kind % 10 {
        0 | 1 => lf.filter(predicate(&cols, t, a, b)),
        2 | 3 => lf.with_columns([expr(&cols, t, a, b).alias(name.as_str())]),
        // Redefine an existing column (filters above must not move below this).
        4 => {
            let target = cols[a as usize % cols.len()].clone();
            lf.with_columns([expr(&cols, t, a, b).alias(target.as_str())])
        }
        5 => lf.select([
            pick(&cols, a),
            expr(&cols, t, a, b).alias(name.as_str()),
            pick(&cols, b).alias(format!("{name}_b")),
        ]),
        6 => lf.sort(
            &cols[a as usize % cols.len()],
            SortOptions::new()
                .descending(t % 2 == 0)
                .nulls_last(b % 2 == 0),
        ),
        7 => match t % 3 {
            0 => lf.head((a % 30) as usize),
            1 => lf.tail((a % 30) as usize),
            _ => lf.slice(i64::from(a % 10), (b % 20) as usize),
        },
        8 if cols.len() > 1 => lf.drop([cols[a as usize % cols.len()].clone()]),
        // Align every column to one column's order (the seed's arg_sort + gather).
        9 if t % 2 == 0 => {
            lf.gather(pick(&cols, a).arg_sort(SortOptions::new().nulls_last(b % 2 == 0)))
        }
        _ => lf.rename([cols[a as usize % cols.len()].clone()], [name]),
    }
}

/// Optionally end with an aggregation.
fn finish(lf: LazyFrame, end: u32) -> LazyFrame {
    let cols = numeric(&lf);
    if cols.is_empty() || !end.is_multiple_of(3) {
        return lf;
    }
    let x = pick(&cols, end / 3);
    lf.select([
        x.clone().sum().alias("sum"),
        x.clone().nan_mean().alias("mean"),
        x.clone().nan_max().alias("max"),
        x.count().alias("n"),
    ])
}

/// Equal frames, float values within a relative 1e-12 (see the module docs); NaN equals NaN
/// and nulls must sit at the same rows.
fn same_frames(p: &DataFrame, o: &DataFrame) -> bool {
    use arrow::array::{Array, Float64Array};
    use arrow::datatypes::DataType;
    if p.schema() != o.schema() || p.height() != o.height() {
        return false;
    }
    p.columns().iter().zip(o.columns()).all(|(a, b)| {
        if !matches!(a.data_type(), DataType::Float64 | DataType::Float32) {
            return a.as_ref() == b.as_ref();
        }
        let cast = |x: &arrow::array::ArrayRef| {
            arrow::compute::cast(x, &DataType::Float64)
                .ok()
                .and_then(|c| c.as_any().downcast_ref::<Float64Array>().cloned())
        };
        let (Some(a), Some(b)) = (cast(a), cast(b)) else {
            return false;
        };
        a.iter().zip(b.iter()).all(|(x, y)| match (x, y) {
            (None, None) => true,
            (Some(x), Some(y)) => {
                x.to_bits() == y.to_bits()
                    || (x.is_nan() && y.is_nan())
                    || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0)
            }
            _ => false,
        })
    })
}

fn check(lf: LazyFrame) -> Result<(), TestCaseError> {
    let plain = lf.clone().collect_with(&ExecOptions::new().optimize(false));
    let optimized = lf.clone().collect();
    match (plain, optimized) {
        (Ok(p), Ok(o)) => prop_assert!(
            same_frames(&p, &o),
            "results differ\nplan:\n{}\noptimized:\n{}\nunoptimized result:\n{p}\noptimized result:\n{o}",
            lf.explain(false).unwrap_or_default(),
            lf.explain(true).unwrap_or_default()
        ),
        (Err(_), Err(_)) => {}
        (p, o) => prop_assert!(
            false,
            "one run failed\nplan:\n{}\nunoptimized: {:?}\noptimized: {:?}",
            lf.explain(false).unwrap_or_default(),
            p.map(|d| d.shape()),
            o.map(|d| d.shape())
        ),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn optimized_equals_unoptimized(
        df in frame(),
        ops in prop::collection::vec((0u32..10, 0u32..100, 0u32..100, 0u32..100), 1..6),
        parquet in any::<bool>(),
        end in 0u32..100,
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut lf = if parquet {
            let path = dir.path().join("t.parquet");
            let mut f = std::fs::File::create(&path).expect("create");
            write_with_row_groups(&df, &mut f, 16).expect("write");
            scan_parquet(&path)
        } else {
            df.lazy()
        };
        for (i, op) in ops.into_iter().enumerate() {
            lf = step(lf, i, op);
        }
        check(finish(lf, end))?;
    }
}

/// The same check over several morsels (more than 64K rows), where chunked aggregates and
/// morsel-wise pipelines meet their boundaries.
#[test]
fn multi_morsel_pipeline_matches() {
    let n = 150_000usize;
    let f: Vec<Option<f64>> = (0..n)
        .map(|i| match i % 97 {
            0 => Some(f64::NAN),
            1 => None,
            _ => Some(((i * 7919) % 1000) as f64 / 7.0 - 60.0),
        })
        .collect();
    let i: Vec<i64> = (0..n as i64).map(|v| (v * 31) % 17).collect();
    let df = DataFrame::new(vec![Column::new("f", f), Column::new("i", i)]).expect("frame");
    let x = col("f");
    let lf = df
        .lazy()
        .filter(col("i").gt(3))
        .with_columns([x.clone().fill_nan(x.nan_mean()).alias("xf")])
        .with_columns([((col("xf") - col("xf").nan_min())
            / (col("xf").nan_max() - col("xf").nan_min()))
        .alias("xs")])
        .filter(col("xs").gt(col("xs").nan_mean()))
        .select([col("xs"), (col("xs") * col("i")).alias("w")]);
    check(lf.clone()).expect("pipeline");
    check(lf.select([col("w").sum(), col("xs").nan_mean(), col("w").std(1)])).expect("aggregate");
}
