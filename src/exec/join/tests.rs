//! Every join type against a row-by-row nested-loop oracle: random keys (integers, floats
//! with NaN and signed zeros, strings, two keys), nulls, both build sides, several thread
//! counts, and inputs read from Parquet files in row groups of a few rows, so both sides
//! arrive as many morsels.

use proptest::prelude::*;

use crate::exec::value::array_to_scalar;
use crate::expr::Scalar;
use crate::physical::{lower_with, PhysicalPlan, Side};
use crate::prelude::*;

#[derive(Clone, Copy, Debug)]
enum KeyKind {
    Int,
    Float,
    Str,
    Two,
    /// An integer and a float key (NaN, signed zeros): the tuple-of-words encoding.
    TwoNumbers,
}

const FLOATS: [f64; 5] = [0.0, -0.0, 1.5, f64::NAN, 2.0];
const STRS: [&str; 4] = ["a", "b", "", "ü"];

/// One side's rows: key codes (`None`: null) and a second key code.
#[derive(Clone, Debug)]
struct SideKeys {
    k: Vec<Option<u8>>,
    k2: Vec<Option<u8>>,
}

fn side(max: usize) -> impl Strategy<Value = SideKeys> {
    (0..=max).prop_flat_map(|n| {
        (
            prop::collection::vec(prop::option::weighted(0.85, 0u8..5), n),
            prop::collection::vec(prop::option::weighted(0.9, 0u8..2), n),
        )
            .prop_map(|(k, k2)| SideKeys { k, k2 })
    })
}

/// The frame of one side: key column(s) named `prefix + k` (and `k2`), a row number `v`
/// named `lv`/`rv`, and a clashing `x`.
fn frame(s: &SideKeys, kind: KeyKind, key: &str, v: &str) -> DataFrame {
    let n = s.k.len();
    let key_col = match kind {
        KeyKind::Float => Column::new(
            key,
            s.k.iter()
                .map(|c| c.map(|c| FLOATS[c as usize]))
                .collect::<Vec<_>>(),
        ),
        KeyKind::Str => Column::new(
            key,
            s.k.iter()
                .map(|c| c.map(|c| STRS[c as usize % 4]))
                .collect::<Vec<_>>(),
        ),
        _ => Column::new(
            key,
            s.k.iter().map(|c| c.map(i64::from)).collect::<Vec<_>>(),
        ),
    };
    let mut cols = vec![key_col];
    match kind {
        KeyKind::Two => cols.push(Column::new(
            format!("{key}2"),
            s.k2.iter()
                .map(|c| c.map(|c| STRS[c as usize]))
                .collect::<Vec<_>>(),
        )),
        // The second code alone reaches only 0.0 and -0.0: adding the first reaches NaN too.
        KeyKind::TwoNumbers => cols.push(Column::new(
            format!("{key}2"),
            s.k.iter()
                .zip(&s.k2)
                .map(|(a, b)| b.map(|b| FLOATS[(usize::from(b) + a.unwrap_or(0) as usize) % 5]))
                .collect::<Vec<_>>(),
        )),
        _ => {}
    }
    cols.push(Column::new(v, (0..n as i64).collect::<Vec<_>>()));
    cols.push(Column::new(
        "x",
        (0..n as i64).map(|i| i * 10).collect::<Vec<_>>(),
    ));
    DataFrame::new(cols).unwrap()
}

fn same_key(a: &Scalar, b: &Scalar) -> bool {
    match (a, b) {
        (Scalar::Null, _) | (_, Scalar::Null) => false,
        (Scalar::Float64(x), Scalar::Float64(y)) => x == y || (x.is_nan() && y.is_nan()),
        _ => a == b,
    }
}

fn rows(df: &DataFrame) -> Vec<Vec<Scalar>> {
    (0..df.height())
        .map(|r| {
            df.columns()
                .iter()
                .map(|c| array_to_scalar(c.as_ref(), r).unwrap())
                .collect()
        })
        .collect()
}

/// The join computed row by row: the output rows as values.
fn oracle(
    l: &DataFrame,
    r: &DataFrame,
    nkeys: usize,
    how: JoinType,
    same_names: bool,
) -> Vec<Vec<Scalar>> {
    let (lr, rr) = (rows(l), rows(r));
    let matches = |a: &[Scalar], b: &[Scalar]| (0..nkeys).all(|k| same_key(&a[k], &b[k]));
    let mut pairs: Vec<(Option<usize>, Option<usize>)> = vec![];
    match how {
        JoinType::Cross => {
            for i in 0..lr.len() {
                pairs.extend((0..rr.len()).map(|j| (Some(i), Some(j))));
            }
        }
        JoinType::Right => {
            for (j, rj) in rr.iter().enumerate() {
                let m: Vec<usize> = (0..lr.len()).filter(|&i| matches(&lr[i], rj)).collect();
                if m.is_empty() {
                    pairs.push((None, Some(j)));
                }
                pairs.extend(m.into_iter().map(|i| (Some(i), Some(j))));
            }
        }
        _ => {
            for (i, li) in lr.iter().enumerate() {
                let m: Vec<usize> = (0..rr.len()).filter(|&j| matches(li, &rr[j])).collect();
                match how {
                    JoinType::Semi | JoinType::Anti => {
                        if m.is_empty() == (how == JoinType::Anti) {
                            pairs.push((Some(i), None));
                        }
                    }
                    _ => {
                        if m.is_empty() && matches!(how, JoinType::Left | JoinType::Full) {
                            pairs.push((Some(i), None));
                        }
                        pairs.extend(m.into_iter().map(|j| (Some(i), Some(j))));
                    }
                }
            }
            if how == JoinType::Full {
                for (j, rj) in rr.iter().enumerate() {
                    if !lr.iter().any(|li| matches(li, rj)) {
                        pairs.push((None, Some(j)));
                    }
                }
            }
        }
    }
    let coalesce = same_names && matches!(how, JoinType::Right | JoinType::Full);
    let right_cols = !matches!(how, JoinType::Semi | JoinType::Anti);
    let lw = l.width();
    pairs
        .into_iter()
        .map(|(i, j)| {
            let mut out: Vec<Scalar> = (0..lw)
                .map(|c| {
                    let v = i.map_or(Scalar::Null, |i| lr[i][c].clone());
                    match (coalesce && c < nkeys, i, j) {
                        (true, None, Some(j)) => rr[j][c].clone(),
                        _ => v,
                    }
                })
                .collect();
            if right_cols {
                let skip = if same_names && how != JoinType::Cross {
                    nkeys
                } else {
                    0
                };
                out.extend((skip..r.width()).map(|c| j.map_or(Scalar::Null, |j| rr[j][c].clone())));
            }
            out
        })
        .collect()
}

fn parquet(df: &DataFrame, dir: &tempfile::TempDir, name: &str, group: usize) -> LazyFrame {
    let path = dir.path().join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    crate::io::parquet::write_with_row_groups(df, &mut f, group).unwrap();
    scan_parquet(path)
}

fn how() -> impl Strategy<Value = JoinType> {
    prop::sample::select(vec![
        JoinType::Inner,
        JoinType::Left,
        JoinType::Right,
        JoinType::Full,
        JoinType::Semi,
        JoinType::Anti,
        JoinType::Cross,
    ])
}

fn kind() -> impl Strategy<Value = KeyKind> {
    prop::sample::select(vec![
        KeyKind::Int,
        KeyKind::Float,
        KeyKind::Str,
        KeyKind::Two,
        KeyKind::TwoNumbers,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, ..ProptestConfig::default() })]

    #[test]
    fn joins_match_a_nested_loop(
        l in side(24),
        r in side(24),
        how in how(),
        kind in kind(),
        same_names in any::<bool>(),
        build in prop::sample::select(vec![None, Some(Side::Left), Some(Side::Right)]),
        threads in 1usize..=3,
        group in 1usize..=7,
    ) {
        let run = |p: &PhysicalPlan| {
            crate::exec::execute_physical(p, &ExecOptions::new().threads(threads))
        };
        matches_the_oracle(&l, &r, how, kind, same_names, (build, group), run)?;
    }
}

/// Join `l` and `r` (written as Parquet files of `group`-row row groups, the build side
/// chosen by `build`) on keys of `kind`, run the physical plan with `run`, and compare the
/// rows with the nested-loop oracle.
fn matches_the_oracle(
    l: &SideKeys,
    r: &SideKeys,
    how: JoinType,
    kind: KeyKind,
    same_names: bool,
    (build, group): (Option<Side>, usize),
    run: impl Fn(&PhysicalPlan) -> crate::Result<DataFrame>,
) -> Result<(), TestCaseError> {
    let rk = if same_names { "k" } else { "rk" };
    let (ldf, rdf) = (frame(l, kind, "k", "lv"), frame(r, kind, rk, "rv"));
    let nkeys = if matches!(kind, KeyKind::Two | KeyKind::TwoNumbers) {
        2
    } else {
        1
    };
    let on = |k: &str| {
        let mut v = vec![col(k)];
        if nkeys == 2 {
            v.push(col(format!("{k}2")));
        }
        if how == JoinType::Cross {
            vec![]
        } else {
            v
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let lf = parquet(&ldf, &dir, "l.parquet", group).join(
        parquet(&rdf, &dir, "r.parquet", group + 1),
        on("k"),
        on(rk),
        how,
    );
    let plan = crate::optimizer::optimize(lf.logical_plan()).unwrap();
    let physical = lower_with(&plan, build).unwrap();
    let got = run(&physical).unwrap();
    let want = oracle(&ldf, &rdf, nkeys, how, same_names);
    prop_assert_eq!(rows(&got), want, "{}", physical.display_indent());
    Ok(())
}

#[test]
fn column_names_and_coalesced_keys() {
    let l = df!("k" => [Some(1), None, Some(2)], "x" => [1.0, 2.0, 3.0]).unwrap();
    let r = df!("k" => [Some(2), Some(3), None], "x" => ["b", "c", "n"]).unwrap();
    let full = l
        .clone()
        .lazy()
        .join(r.clone().lazy(), [col("k")], [col("k")], JoinType::Full)
        .collect()
        .unwrap();
    assert_eq!(full.column_names(), ["k", "x", "x_right"]);
    assert_eq!(
        full.column_f64("k").unwrap(),
        [Some(1.0), None, Some(2.0), Some(3.0), None]
    );
    let right = l
        .lazy()
        .join(r.lazy(), [col("k")], [col("k")], JoinType::Right)
        .collect()
        .unwrap();
    assert_eq!(right.column_f64("k").unwrap(), [Some(2.0), Some(3.0), None]);
    assert_eq!(right.column_f64("x").unwrap(), [Some(3.0), None, None]);
}

#[test]
fn expression_keys_and_mixed_key_types() {
    let l = df!("a" => [1i64, 2, 3, 4]).unwrap();
    let r = df!("b" => [2.0, 4.0, 6.0], "tag" => ["two", "four", "six"]).unwrap();
    let out = l
        .lazy()
        .join(r.lazy(), [col("a") * 2], [col("b")], JoinType::Inner)
        .collect()
        .unwrap();
    assert_eq!(
        out.column_f64("a").unwrap(),
        [Some(1.0), Some(2.0), Some(3.0)]
    );
    assert_eq!(
        out.column_f64("b").unwrap(),
        [Some(2.0), Some(4.0), Some(6.0)]
    );
}

#[test]
fn a_large_build_side_is_partitioned_and_keeps_its_order() {
    // 600k build rows: several partitions; every key twice.
    let n = 600_000i64;
    let build = DataFrame::new(vec![
        Column::new("k", (0..n).map(|i| i % (n / 2)).collect::<Vec<_>>()),
        Column::new("row", (0..n).collect::<Vec<_>>()),
    ])
    .unwrap();
    let probe = df!("k" => [5i64, n / 2 - 1, n, 7]).unwrap();
    let out = probe
        .lazy()
        .join(build.lazy(), [col("k")], [col("k")], JoinType::Left)
        .collect_with(&ExecOptions::new().threads(2))
        .unwrap();
    assert_eq!(
        out.column_f64("row").unwrap(),
        [
            Some(5.0),
            Some(5.0 + (n / 2) as f64),
            Some((n / 2 - 1) as f64),
            Some((n - 1) as f64),
            None,
            Some(7.0),
            Some(7.0 + (n / 2) as f64)
        ]
    );
}

#[test]
fn a_build_side_over_the_memory_budget_spills_unless_the_join_is_a_cross_join() {
    use crate::memory::MemoryPool;
    let n = 100_000i64;
    let big = DataFrame::new(vec![
        Column::new("k", (0..n).collect::<Vec<_>>()),
        Column::new("v", (0..n).map(|i| i as f64).collect::<Vec<_>>()),
    ])
    .unwrap();
    let small = df!("k" => [3i64, 5, 7]).unwrap();
    let tiny = |temp: &tempfile::TempDir| {
        ExecOptions::new()
            .memory_limit(64 << 10)
            .temp_dir(temp.path())
    };
    let temp = tempfile::tempdir().unwrap();
    // A cross join's table cannot be partitioned by key: the typed error names the join.
    let cross = small.clone().lazy().cross_join(big.clone().lazy());
    let err = cross.collect_with(&tiny(&temp)).unwrap_err();
    assert!(
        matches!(err, crate::Error::MemoryLimit { ref operator, .. } if operator == "HASH_JOIN"),
        "{err}"
    );
    assert!(err.to_string().contains("HASH_JOIN"), "{err}");
    // The ordering breaker with the table on the small left side holds the big right side
    // whole: over the budget, it spills and gives the same frame.
    let lf = small
        .lazy()
        .join(big.lazy(), [col("k")], [col("k")], JoinType::Left);
    let want = lf.clone().collect().unwrap();
    assert_eq!(lf.clone().collect_with(&tiny(&temp)).unwrap(), want);
    assert_eq!(std::fs::read_dir(temp.path()).unwrap().count(), 0);
    // Within the budget, the join's reservation is given back when the query ends.
    let pool = MemoryPool::new(64 << 20);
    let out = lf
        .collect_with(&ExecOptions::new().memory_pool(pool.clone()))
        .unwrap();
    assert_eq!(out, want);
    assert!(pool.peak() > 0);
    assert_eq!(pool.reserved(), 0);
}

mod spilled;

mod gathered;
