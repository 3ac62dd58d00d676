//! Parquet row-group pruning: decide from a row group's column statistics (min, max, null
//! count, NaN count) that a scan predicate is false for every row in it, so the group is never
//! decoded.
//!
//! The check is one-sided: [`never_true`] answers `true` only when the statistics *prove* no
//! row can pass; anything it does not understand keeps the group. The proofs follow the
//! engine's comparison semantics (`exec::kernels::cmp`): NumPy's, where every comparison with
//! NaN is false except `!=`, and a comparison with null is null, which a filter drops.
//!
//! - Parquet's float min/max exclude NaN (the spec; arrow-rs writes NaN only when a group has
//!   nothing else). So `x > v` with `max <= v` is false for every number in the group and for
//!   every NaN too: pruning on min/max is safe for `>`, `>=`, `<`, `<=`, `==`. A NaN min or max
//!   proves nothing and is ignored.
//! - `!=` is *true* for NaN, so `x != v` with `min == max == v` prunes a float column only when
//!   the NaN count is known to be zero (integers have no NaN).
//! - Nulls: min/max ignore them and every comparison with null is dropped, so they never make a
//!   group matter; a group whose values are all null fails every comparison.
//! - Values are compared in the type the kernel compares in (`arith_type`): integers with an
//!   integer literal exactly as `i64`, anything with a float as `f64`. The casts are monotone, so
//!   a bound on the stored values stays a bound after the cast.

use arrow::datatypes::{DataType, Schema};
use parquet::file::metadata::{ParquetMetaData, RowGroupMetaData};
use parquet::file::statistics::Statistics;

use crate::expr::{BinaryOp, Expr, Function, PredicateFunction, Scalar};

/// The row groups of `meta` that `predicate` may keep rows of (all of them without one).
pub fn kept_row_groups(
    predicate: Option<&Expr>,
    meta: &ParquetMetaData,
    schema: &Schema,
) -> Vec<usize> {
    (0..meta.num_row_groups())
        .filter(|&i| match predicate {
            None => true,
            Some(p) => !never_true(p, meta.row_group(i), schema),
        })
        .collect()
}

/// True when the statistics of `rg` prove `pred` is false or null for every row.
pub fn never_true(pred: &Expr, rg: &RowGroupMetaData, schema: &Schema) -> bool {
    match pred {
        Expr::Literal(Scalar::Boolean(b)) => !*b,
        Expr::Literal(Scalar::Null) => true,
        Expr::Alias(e, _) => never_true(e, rg, schema),
        Expr::Binary {
            left,
            op: BinaryOp::And,
            right,
        } => never_true(left, rg, schema) || never_true(right, rg, schema),
        Expr::Binary {
            left,
            op: BinaryOp::Or,
            right,
        } => never_true(left, rg, schema) && never_true(right, rg, schema),
        Expr::Binary { left, op, right } if op.is_comparison() => {
            match (left.as_ref(), right.as_ref()) {
                (Expr::Column(c), Expr::Literal(v)) => compare_never(c, *op, v, rg, schema),
                (Expr::Literal(v), Expr::Column(c)) => compare_never(c, flip(*op), v, rg, schema),
                _ => false,
            }
        }
        Expr::Function { func, args } if args.len() == 1 => {
            let Expr::Column(c) = &args[0] else {
                return false;
            };
            let Some(st) = ColumnStats::of(c, rg, schema) else {
                return false;
            };
            match func {
                Function::Predicate(PredicateFunction::IsNull) => st.nulls == Some(0),
                Function::Predicate(PredicateFunction::IsNotNull) => st.all_null(),
                // Integers are never NaN; floats need a known NaN count of zero.
                Function::Predicate(PredicateFunction::IsNan) => {
                    st.all_null() || !st.float || st.nans == Some(0)
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// `v op x` is `x flip(op) v`.
fn flip(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::GtEq => BinaryOp::LtEq,
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::LtEq => BinaryOp::GtEq,
        other => other,
    }
}

/// A column's statistics in one row group, in comparable form.
struct ColumnStats {
    /// The column is a float type (so it may hold NaN).
    float: bool,
    /// Min and max as stored, when known and not NaN.
    min: Option<Num>,
    max: Option<Num>,
    nulls: Option<u64>,
    nans: Option<u64>,
    rows: u64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Num {
    I(i64),
    F(f64),
}

impl Num {
    fn f64(self) -> f64 {
        match self {
            Num::I(v) => v as f64,
            Num::F(v) => v,
        }
    }
}

impl ColumnStats {
    fn of(name: &str, rg: &RowGroupMetaData, schema: &Schema) -> Option<Self> {
        let field = schema.field_with_name(name).ok()?;
        let float = match field.data_type() {
            DataType::Float32 | DataType::Float64 => true,
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 => false,
            // Unsigned, temporal, decimal and string columns: stored orders or comparison
            // casts differ from the plain numeric case; keep such groups.
            _ => return None,
        };
        // A top-level column's leaf: the one whose path is exactly its name.
        let chunk = rg
            .columns()
            .iter()
            .find(|c| c.column_path().parts() == [name.to_string()])?;
        let stats = chunk.statistics()?;
        let not_nan = |v: f64| (!v.is_nan()).then_some(Num::F(v));
        let (min, max) = match stats {
            Statistics::Int32(s) => (
                s.min_opt().map(|v| Num::I(i64::from(*v))),
                s.max_opt().map(|v| Num::I(i64::from(*v))),
            ),
            Statistics::Int64(s) => (
                s.min_opt().map(|v| Num::I(*v)),
                s.max_opt().map(|v| Num::I(*v)),
            ),
            Statistics::Float(s) => (
                s.min_opt().and_then(|v| not_nan(f64::from(*v))),
                s.max_opt().and_then(|v| not_nan(f64::from(*v))),
            ),
            Statistics::Double(s) => (
                s.min_opt().and_then(|v| not_nan(*v)),
                s.max_opt().and_then(|v| not_nan(*v)),
            ),
            _ => return None,
        };
        // Old files may hold min/max in the deprecated signed-order fields; only trust them
        // for signed types, which is all we accept above.
        Some(Self {
            float,
            min,
            max,
            nulls: stats.null_count_opt(),
            nans: if float {
                stats.nan_count_opt()
            } else {
                Some(0)
            },
            rows: u64::try_from(rg.num_rows()).unwrap_or(0),
        })
    }

    fn all_null(&self) -> bool {
        self.nulls == Some(self.rows)
    }

    /// Every value is NaN or null (so every comparison but `!=` is false).
    fn all_nan_or_null(&self) -> bool {
        matches!((self.nulls, self.nans), (Some(a), Some(b)) if a + b == self.rows)
    }
}

/// True when `column op v` is provably false or null for every row of the group.
fn compare_never(
    column: &str,
    op: BinaryOp,
    v: &Scalar,
    rg: &RowGroupMetaData,
    schema: &Schema,
) -> bool {
    let Some(st) = ColumnStats::of(column, rg, schema) else {
        return false;
    };
    if st.all_null() {
        return true;
    }
    if op != BinaryOp::NotEq && st.all_nan_or_null() {
        return true;
    }
    let v = match v {
        Scalar::Int64(i) => Num::I(*i),
        Scalar::UInt64(u) => match i64::try_from(*u) {
            Ok(i) => Num::I(i),
            Err(_) => return false,
        },
        Scalar::Float64(f) => Num::F(*f),
        Scalar::Null => return true, // a comparison with null is null everywhere
        _ => return false,
    };
    let (Some(min), Some(max)) = (st.min, st.max) else {
        return false;
    };
    // Compare as the kernel does: exact integers when both sides are integers, else as f64.
    use std::cmp::Ordering;
    let cmp = |a: Num, b: Num| -> Option<Ordering> {
        match (a, b) {
            (Num::I(x), Num::I(y)) => Some(x.cmp(&y)),
            (a, b) => a.f64().partial_cmp(&b.f64()),
        }
    };
    let (Some(max_v), Some(min_v)) = (cmp(max, v), cmp(min, v)) else {
        return false; // a NaN literal: leave it to the filter
    };
    match op {
        BinaryOp::Gt => max_v != Ordering::Greater,
        BinaryOp::GtEq => max_v == Ordering::Less,
        BinaryOp::Lt => min_v != Ordering::Less,
        BinaryOp::LtEq => min_v == Ordering::Greater,
        BinaryOp::Eq => max_v == Ordering::Less || min_v == Ordering::Greater,
        // NaN != v is true, so a float group needs a known zero NaN count.
        BinaryOp::NotEq => {
            min_v == Ordering::Equal && max_v == Ordering::Equal && st.nans == Some(0)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{col, lit};
    use crate::frame::{Column, DataFrame};
    use ::parquet::arrow::arrow_reader::ArrowReaderMetadata;

    /// The footer of `df` written with row groups of 4 rows.
    fn meta(df: &DataFrame) -> ArrowReaderMetadata {
        let mut file = tempfile::tempfile().unwrap();
        super::super::parquet::write_with_row_groups(df, &mut file, 4).unwrap();
        ArrowReaderMetadata::load(&file, Default::default()).unwrap()
    }

    fn kept(df: &DataFrame, pred: Expr) -> Vec<usize> {
        let m = meta(df);
        kept_row_groups(Some(&pred), m.metadata(), df.schema())
    }

    fn frame() -> DataFrame {
        let nan = f64::NAN;
        DataFrame::new(vec![
            Column::new("i", (0..12i64).collect::<Vec<_>>()),
            // Group 0: numbers; group 1: NaN mixed in; group 2: all NaN / null.
            Column::new(
                "f",
                vec![
                    Some(1.0),
                    Some(2.0),
                    Some(3.0),
                    Some(4.0),
                    Some(5.0),
                    Some(nan),
                    Some(5.0),
                    None,
                    Some(nan),
                    None,
                    Some(nan),
                    None,
                ],
            ),
        ])
        .unwrap()
    }

    #[test]
    fn sorted_integer_ranges() {
        let df = frame();
        assert_eq!(kept(&df, col("i").lt(4)), vec![0]);
        assert_eq!(kept(&df, col("i").gt(7)), vec![2]);
        assert_eq!(kept(&df, col("i").ge(7)), vec![1, 2]);
        assert_eq!(kept(&df, col("i").eq(5)), vec![1]);
        assert_eq!(kept(&df, lit(5).lt(col("i"))), vec![1, 2]);
        assert_eq!(kept(&df, col("i").lt(2) | col("i").gt(9)), vec![0, 2]);
        assert_eq!(kept(&df, col("i").gt(2) & col("i").lt(5)), vec![0, 1]);
        // A float literal against an integer column compares as f64.
        assert_eq!(kept(&df, col("i").gt(7.5)), vec![2]);
    }

    #[test]
    fn nan_and_null_are_handled() {
        let df = frame();
        // Group 2 holds only NaN and null: no comparison but `!=` can be true there.
        assert_eq!(kept(&df, col("f").gt(0.0)), vec![0, 1]);
        assert_eq!(kept(&df, col("f").gt(4.5)), vec![1]);
        assert_eq!(kept(&df, col("f").eq(5.0)), vec![1]);
        // NaN != 5 is true: a group with NaN (or unknown NaN count) must stay.
        assert_eq!(kept(&df, col("f").neq(5.0)), vec![0, 1, 2]);
        assert_eq!(kept(&df, col("i").neq(5)), vec![0, 1, 2]);
        assert_eq!(kept(&df, col("f").is_null()), vec![1, 2]);
        assert_eq!(kept(&df, col("f").is_nan()), vec![1, 2]);
        // A NaN literal proves nothing from min/max (the filter drops every row anyway).
        assert_eq!(kept(&df, col("f").lt(f64::NAN)), vec![0, 1]);
    }

    #[test]
    fn not_equal_prunes_constant_groups_without_nan() {
        let df = DataFrame::new(vec![Column::new(
            "f",
            vec![5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 6.0],
        )])
        .unwrap();
        assert_eq!(kept(&df, col("f").neq(5.0)), vec![1]);
    }

    #[test]
    fn unknown_shapes_keep_everything() {
        let df = frame();
        assert_eq!(kept(&df, !col("i").lt(4)), vec![0, 1, 2]);
        assert_eq!(kept(&df, (col("i") + 1).lt(4)), vec![0, 1, 2]);
        assert_eq!(kept(&df, col("i").lt(col("f"))), vec![0, 1, 2]);
    }
}
