//! The external sort against the in-memory sort: same rows, same order, for budgets from
//! generous to tiny.

use super::*;
use crate::expr::col;
use crate::frame::Column;
use crate::memory::MemoryPool;
use crate::physical::{Pipeline, Source};

/// 200,003 rows: float keys with NaN, -0.0, nulls and many ties; an integer key; text; and
/// the row number, which shows stability.
pub(super) fn frame() -> DataFrame {
    let n = 200_003usize;
    let x: Vec<Option<f64>> = (0..n)
        .map(|i| match i % 97 {
            3 => None,
            5 => Some(f64::NAN),
            7 => Some(-0.0),
            11 => Some(0.0),
            _ => Some(((i * 7919) % 1013) as f64 * 0.5 - 200.0),
        })
        .collect();
    let k: Vec<Option<i64>> = (0..n as i64)
        .map(|i| (i % 31 != 4).then_some((i * 13) % 7))
        .collect();
    let s: Vec<String> = (0..n).map(|i| format!("s{}", (i * 31) % 101)).collect();
    let id: Vec<i64> = (0..n as i64).collect();
    DataFrame::new(vec![
        Column::new("x", x),
        Column::new("k", k),
        Column::new("s", s),
        Column::new("id", id),
    ])
    .expect("frame")
}

/// Sort `df` under a budget of `limit` bytes; the output, and whether runs were spilled.
fn sort_with(
    df: &DataFrame,
    by: &[Expr],
    options: &[SortOptions],
    limit: usize,
    temp: &std::path::Path,
) -> (DataFrame, bool) {
    let input = PhysicalNode::Pipeline(Pipeline::new(Source::Frame(df.clone())));
    sort_node(&input, by, options, limit, temp).expect("sort")
}

/// A run's context with a budget of `limit` bytes and its spill files under `temp`.
pub(super) fn context(limit: usize, temp: &std::path::Path) -> Context {
    Context {
        memory: MemoryPool::new(limit),
        spill: crate::exec::spill::SpillDir::new(temp.to_path_buf()),
        ..Context::default()
    }
}

/// A pool of `threads` workers.
pub(super) fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool")
}

/// Sort `input` under a budget of `limit` bytes; the output, and whether runs were spilled.
fn sort_node(
    input: &PhysicalNode,
    by: &[Expr],
    options: &[SortOptions],
    limit: usize,
    temp: &std::path::Path,
) -> Result<(DataFrame, bool)> {
    let mut ctx = context(limit, temp);
    let opened = open(input, by, options, &mut ctx)?;
    let spilled = matches!(opened, Opened::Sequential(_));
    let all = MemoryPool::unbounded().reserve("TEST");
    let out = Running::new(opened, &[], &ctx)
        .collect(&all)
        .expect("collect");
    // Everything the sort held is given back.
    assert_eq!(ctx.memory.reserved(), 0);
    Ok((out, spilled))
}

#[test]
fn spilled_sorts_equal_the_in_memory_sort() {
    let df = frame();
    let temp = tempfile::tempdir().expect("tempdir");
    let cases: Vec<(Vec<Expr>, Vec<SortOptions>)> = vec![
        (vec![col("x")], vec![SortOptions::default()]),
        (
            vec![col("x")],
            vec![SortOptions::default().descending(true).nulls_last(false)],
        ),
        (
            vec![col("k"), col("x")],
            vec![
                SortOptions::default().nulls_last(false),
                SortOptions::default().descending(true),
            ],
        ),
        (vec![col("s"), col("k")], vec![SortOptions::default(); 2]),
        (vec![col("x") * 2.0], vec![SortOptions::default()]),
    ];
    for (by, options) in cases {
        let (want, spilled) = sort_with(&df, &by, &options, usize::MAX, temp.path());
        assert!(!spilled);
        for limit in [8 << 20, 1 << 20, 200 << 10] {
            let (got, spilled) = sort_with(&df, &by, &options, limit, temp.path());
            assert!(spilled, "{by:?} under {limit}");
            assert!(got.equals(&want), "{by:?} {options:?} under {limit}");
        }
    }
    // Spill files and their directory are gone.
    assert_eq!(std::fs::read_dir(temp.path()).expect("dir").count(), 0);
}

#[test]
fn the_order_is_the_kernel_order() {
    let df = frame();
    let temp = tempfile::tempdir().expect("tempdir");
    let (got, _) = sort_with(
        &df,
        &[col("x")],
        &[SortOptions::default()],
        1 << 20,
        temp.path(),
    );
    let x = got.column_f64("x").expect("x");
    let id = got.column("id").expect("id");
    let id = id.as_primitive::<arrow::datatypes::Int64Type>();
    // Numbers ascending (-0.0 with 0.0, ties by input order), then NaN, then nulls.
    for i in 1..x.len() {
        match (x[i - 1], x[i]) {
            (Some(a), Some(b)) if !a.is_nan() && !b.is_nan() => {
                assert!(a <= b, "row {i}");
                if a == b {
                    assert!(id.value(i - 1) < id.value(i), "stable at row {i}");
                }
            }
            (Some(a), Some(b)) => assert!(!a.is_nan() || b.is_nan(), "NaN last at {i}"),
            (None, b) => assert!(b.is_none(), "nulls last at {i}"),
            (Some(_), None) => {}
        }
    }
}

#[test]
fn many_runs_merge_in_passes() {
    // A budget so small that the merge cannot take every run at once.
    let df = frame();
    let temp = tempfile::tempdir().expect("tempdir");
    let (want, _) = sort_with(
        &df,
        &[col("k"), col("s")],
        &vec![SortOptions::default(); 2],
        usize::MAX,
        temp.path(),
    );
    let (got, spilled) = sort_with(
        &df,
        &[col("k"), col("s")],
        &vec![SortOptions::default(); 2],
        300 << 10,
        temp.path(),
    );
    assert!(spilled);
    assert!(got.equals(&want));
}

/// Keys that need whole columns: seeded random numbers, a min-max scaled column (ties kept).
fn whole_column_keys() -> Vec<(Vec<Expr>, Vec<SortOptions>)> {
    vec![
        (
            vec![crate::expr::rand_uniform(0.0, 1.0, 7)],
            vec![SortOptions::default()],
        ),
        (
            vec![col("k"), col("x").min_max_scale()],
            vec![
                SortOptions::default().nulls_last(false),
                SortOptions::default().descending(true),
            ],
        ),
    ]
}

#[test]
fn materialized_inputs_spill_in_slices_and_equal_the_in_memory_sort() {
    let df = frame();
    let bytes = crate::memory::frame_bytes(&df);
    let temp = tempfile::tempdir().expect("tempdir");
    let input = PhysicalNode::Pipeline(Pipeline::new(Source::Frame(df.clone())));
    for (by, options) in whole_column_keys() {
        assert!(!by[by.len() - 1].is_elementwise());
        let (want, spilled) = sort_with(&df, &by, &options, usize::MAX, temp.path());
        assert!(!spilled);
        for threads in [1, 2] {
            let pool = pool(threads);
            // The frame and its keys fit, their sorted copy does not.
            for limit in [bytes * 3 / 2, bytes + (bytes >> 2)] {
                let (got, spilled) = pool
                    .install(|| sort_node(&input, &by, &options, limit, temp.path()))
                    .expect("sort");
                assert!(spilled, "{by:?} under {limit}");
                assert!(got.equals(&want), "{by:?} under {limit}, {threads} threads");
            }
        }
    }
    assert_eq!(std::fs::read_dir(temp.path()).expect("dir").count(), 0);
}

#[test]
fn a_frame_larger_than_the_budget_names_the_sort() {
    let df = frame();
    let temp = tempfile::tempdir().expect("tempdir");
    let input = PhysicalNode::Pipeline(Pipeline::new(Source::Frame(df)));
    let (by, options) = whole_column_keys().remove(0);
    let err = sort_node(&input, &by, &options, 1 << 20, temp.path()).expect_err("over budget");
    assert!(
        matches!(err, Error::MemoryLimit { ref operator, .. } if operator == "SORT"),
        "{err:?}"
    );
    assert_eq!(std::fs::read_dir(temp.path()).expect("dir").count(), 0);
}

#[test]
fn a_sort_of_a_sort_streams_the_inner_output_and_spills() {
    // The outer sort reads the inner one's output (a breaker, not a pipeline) as pieces.
    let df = frame();
    let temp = tempfile::tempdir().expect("tempdir");
    let inner = PhysicalNode::Sort {
        input: Box::new(PhysicalNode::Pipeline(Pipeline::new(Source::Frame(df)))),
        by: vec![col("s")],
        options: vec![SortOptions::default()],
    };
    let by = [col("k")];
    let options = [SortOptions::default().descending(true)];
    let (want, spilled) = sort_node(&inner, &by, &options, usize::MAX, temp.path()).expect("sort");
    assert!(!spilled);
    for threads in [1, 2] {
        let pool = pool(threads);
        let (got, spilled) = pool
            .install(|| sort_node(&inner, &by, &options, 1 << 20, temp.path()))
            .expect("sort");
        assert!(spilled);
        assert!(got.equals(&want), "{threads} threads");
    }
    assert_eq!(std::fs::read_dir(temp.path()).expect("dir").count(), 0);
}

#[test]
fn a_key_that_is_a_column_is_counted_once() {
    let df = frame().slice(0, 1000);
    let params = Params::default();
    let by_column = Buffered::new(df.clone(), &[col("x")], &params).expect("column key");
    assert_eq!(
        by_column.bytes,
        frame_bytes(&df),
        "a column key shares the piece's buffers"
    );
    let derived = Buffered::new(df.clone(), &[col("x") * 2.0], &params).expect("derived key");
    assert_eq!(
        derived.bytes,
        frame_bytes(&df) + array_bytes(&derived.keys[0]),
        "a computed key is held beside the piece"
    );
}

/// A float key without nulls is ordered from its pieces in place: the kernel's order over the
/// concatenated key, ascending and descending, with NaN, `-0.0`, ties and a shorter last
/// piece. Pieces of other shapes are left to the concatenation.
#[test]
fn float_keys_in_place_equal_the_kernel() {
    let x: Vec<f64> = (0..10_000usize)
        .map(|i| match i % 97 {
            5 => f64::NAN,
            7 => -0.0,
            11 => 0.0,
            _ => ((i * 7919) % 1013) as f64 * 0.5 - 200.0,
        })
        .collect();
    let key: ArrayRef = Arc::new(arrow::array::Float64Array::from(x));
    let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new("x", DataType::Float64, true)]));
    let pieces = |len: usize| -> Vec<Buffered> {
        (0..key.len())
            .step_by(len)
            .map(|at| {
                let k = key.slice(at, len.min(key.len() - at));
                let piece = DataFrame::from_arrays(schema.clone(), vec![k.clone()]).expect("piece");
                Buffered::with_keys(piece, vec![k])
            })
            .collect()
    };
    for len in [1024, 4096, 16_384] {
        for o in [
            SortOptions::default(),
            SortOptions::default().descending(true),
        ] {
            let want =
                arg_sort_u32(std::slice::from_ref(&key), std::slice::from_ref(&o)).expect("kernel");
            let got = float_order_in_place(&pieces(len), std::slice::from_ref(&o));
            assert_eq!(got, Some(want), "pieces of {len}, {o:?}");
        }
    }
    let o = [SortOptions::default()];
    assert_eq!(float_order_in_place(&pieces(1000), &o), None);
}
