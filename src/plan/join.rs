//! Joins on the logical plan: [`JoinType`], the builder methods (`join`, `inner_join`,
//! `left_join`, `cross_join`) and the join's output columns (`JoinLayout`), which the schema
//! rule, the optimizer's pushdown rules and the executor all read, so they agree on where
//! every output column comes from.
//!
//! # Semantics
//!
//! - Keys are elementwise expressions, evaluated on each side (`left_on[i]` over the left
//!   input, `right_on[i]` over the right one) and compared in their common type (integers of
//!   different widths, integers and floats, any two string types). A null key never matches
//!   anything (SQL's and Polars' default); NaN matches NaN, and `-0.0` matches `0.0`.
//! - Columns: the left input's columns, then the right input's. When a left and a right key
//!   are plain columns with the same name (`col("k")` and `col("k")`), the right one is left
//!   out and the left one holds the key; in a right or full join it holds the right row's key
//!   where there is no left row (the keys are coalesced). Any other right column whose name
//!   a left column already has gets the suffix `_right`. Semi and anti joins output the left
//!   columns only. Columns of the side that may be missing (the right in a left join, both
//!   in a full join) are nullable.
//! - Rows, whatever side the executor builds its hash table on: left rows in input order,
//!   and for each left row its matches in right input order. A left join keeps a left row
//!   without match once, with nulls on the right; a semi join keeps each left row that has a
//!   match once, an anti join each that has none. A right join is the mirror: right rows in
//!   input order, each with its left matches in left input order. A full join gives the left
//!   join's rows, then the right rows that matched nothing, in right input order. A cross
//!   join pairs every left row with every right row, in that order.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::{LazyFrame, LogicalPlan};
use crate::error::{Error, Result};
use crate::expr::types::{supertype, typed};
use crate::expr::{col, Expr};

/// How a join matches rows (see the [module docs](self) for columns and row order).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JoinType {
    /// Pairs of matching rows.
    Inner,
    /// Every left row, with its matches or with nulls.
    Left,
    /// Every right row, with its matches or with nulls (the mirror of `Left`).
    Right,
    /// Every row of both sides, matched where they match.
    Full,
    /// Left rows that have a match (left columns only).
    Semi,
    /// Left rows that have no match (left columns only).
    Anti,
    /// Every left row with every right row (no keys).
    Cross,
}

impl JoinType {
    /// The name in plan text (`inner`, `left`, ...).
    pub fn name(self) -> &'static str {
        match self {
            JoinType::Inner => "inner",
            JoinType::Left => "left",
            JoinType::Right => "right",
            JoinType::Full => "full",
            JoinType::Semi => "semi",
            JoinType::Anti => "anti",
            JoinType::Cross => "cross",
        }
    }

    /// True when the output holds the right side's columns.
    pub(crate) fn keeps_right_columns(self) -> bool {
        !matches!(self, JoinType::Semi | JoinType::Anti)
    }
}

/// Where one output column of a join comes from (indices into the input schemas).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum JoinColumn {
    Left(usize),
    Right(usize),
    /// A key both sides name alike: the left value, or the right one where the left row is
    /// missing (right and full joins).
    Coalesced {
        left: usize,
        right: usize,
    },
}

/// A join's output columns and the type each key pair is compared in.
#[derive(Clone, Debug)]
pub(crate) struct JoinLayout {
    pub(crate) columns: Vec<JoinColumn>,
    pub(crate) schema: SchemaRef,
    pub(crate) key_types: Vec<DataType>,
}

impl JoinLayout {
    /// Work out the output of joining `left` and `right` on these keys.
    pub(crate) fn new(
        left: &Schema,
        right: &Schema,
        left_on: &[Expr],
        right_on: &[Expr],
        how: JoinType,
    ) -> Result<Self> {
        let key_types = key_types(left, right, left_on, right_on, how)?;
        // Right keys that a same-named left key stands for: right index -> left index.
        let mut shared: Vec<(usize, usize)> = vec![];
        for (l, r) in left_on.iter().zip(right_on) {
            if let (Expr::Column(a), Expr::Column(b)) = (l, r) {
                if a == b {
                    let li = left.index_of(a).map_err(|_| missing(a, left))?;
                    let ri = right.index_of(b).map_err(|_| missing(b, right))?;
                    if !shared.iter().any(|(r, _)| *r == ri) {
                        shared.push((ri, li));
                    }
                }
            }
        }
        let coalesce = matches!(how, JoinType::Right | JoinType::Full);
        let left_nullable = coalesce;
        let right_nullable = matches!(how, JoinType::Left | JoinType::Full);
        let mut columns = vec![];
        let mut fields: Vec<Field> = vec![];
        for (i, f) in left.fields().iter().enumerate() {
            match shared.iter().find(|(_, l)| *l == i) {
                Some(&(r, _)) if coalesce => {
                    let (lt, rt) = (f.data_type(), right.field(r).data_type());
                    let t = if lt == rt {
                        lt.clone()
                    } else {
                        supertype(lt, rt).unwrap_or_else(|| lt.clone())
                    };
                    columns.push(JoinColumn::Coalesced { left: i, right: r });
                    fields.push(Field::new(f.name(), t, true));
                }
                _ => {
                    columns.push(JoinColumn::Left(i));
                    fields.push(
                        f.as_ref()
                            .clone()
                            .with_nullable(f.is_nullable() || left_nullable),
                    );
                }
            }
        }
        if how.keeps_right_columns() {
            for (j, f) in right.fields().iter().enumerate() {
                if shared.iter().any(|(r, _)| *r == j) {
                    continue;
                }
                let name = if left.field_with_name(f.name()).is_ok() {
                    format!("{}_right", f.name())
                } else {
                    f.name().clone()
                };
                columns.push(JoinColumn::Right(j));
                fields.push(
                    f.as_ref()
                        .clone()
                        .with_name(name)
                        .with_nullable(f.is_nullable() || right_nullable),
                );
            }
        }
        let mut seen = std::collections::HashSet::new();
        for f in &fields {
            if !seen.insert(f.name().as_str()) {
                return Err(Error::Schema(format!(
                    "the join outputs \"{}\" twice (a right column clashing with a left one \
                     gets the suffix \"_right\"); rename one side first",
                    f.name()
                )));
            }
        }
        Ok(Self {
            columns,
            schema: Arc::new(Schema::new(fields)),
            key_types,
        })
    }

    /// The input column an output column named `name` reads: `(false, left name)` or
    /// `(true, right name)`; `None` for a coalesced key or an unknown name.
    pub(crate) fn source_of(
        &self,
        name: &str,
        left: &Schema,
        right: &Schema,
    ) -> Option<(bool, String)> {
        let i = self.schema.index_of(name).ok()?;
        match self.columns[i] {
            JoinColumn::Left(l) => Some((false, left.field(l).name().clone())),
            JoinColumn::Right(r) => Some((true, right.field(r).name().clone())),
            JoinColumn::Coalesced { .. } => None,
        }
    }
}

impl LogicalPlan {
    /// For a join node: its output layout and its inputs' schemas (`None` for other nodes).
    pub(crate) fn join_layout(&self) -> Result<Option<(JoinLayout, SchemaRef, SchemaRef)>> {
        let LogicalPlan::Join {
            left,
            right,
            left_on,
            right_on,
            how,
        } = self
        else {
            return Ok(None);
        };
        let (ls, rs) = (left.schema()?, right.schema()?);
        let layout = JoinLayout::new(&ls, &rs, left_on, right_on, *how)?;
        Ok(Some((layout, ls, rs)))
    }
}

fn missing(name: &str, s: &Schema) -> Error {
    Error::column_not_found(name, s.fields().iter().map(|f| f.name().as_str()))
}

/// The common type of each key pair, checking the keys' count and shape.
fn key_types(
    left: &Schema,
    right: &Schema,
    left_on: &[Expr],
    right_on: &[Expr],
    how: JoinType,
) -> Result<Vec<DataType>> {
    if how == JoinType::Cross {
        if !left_on.is_empty() || !right_on.is_empty() {
            return Err(Error::Plan(
                "a cross join takes no keys (pass empty key lists)".into(),
            ));
        }
        return Ok(vec![]);
    }
    if left_on.len() != right_on.len() {
        return Err(Error::Plan(format!(
            "a join needs as many left keys as right keys, got {} and {}",
            left_on.len(),
            right_on.len()
        )));
    }
    if left_on.is_empty() {
        return Err(Error::Plan(
            "a join needs at least one key on each side (JoinType::Cross joins without keys)"
                .into(),
        ));
    }
    let mut out = vec![];
    for (l, r) in left_on.iter().zip(right_on) {
        for k in [l, r] {
            if !k.is_elementwise() {
                return Err(Error::Plan(format!(
                    "join key {k} is not elementwise; compute it in a with_columns first"
                )));
            }
        }
        let lt = l.data_type(left)?;
        let rt = r.data_type(right)?;
        let t = supertype(&lt, &rt).filter(|t| *t != DataType::Null);
        match t {
            Some(t) => out.push(t),
            None => {
                return Err(Error::Type(format!(
                    "join keys {} and {} cannot be compared",
                    typed(l, &lt),
                    typed(r, &rt)
                )))
            }
        }
    }
    Ok(out)
}

impl LazyFrame {
    /// Join with `other` on keys: `left_on[i]` of this frame equals `right_on[i]` of
    /// `other`. Keys are column names or elementwise expressions; see the [module
    /// docs](crate::plan::join) for which columns come out and in which row order.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let orders = df!("id" => [1, 2, 3, 4], "cust" => [10, 20, 10, 30])?;
    /// let customers = df!("cust" => [10, 20], "name" => ["ann", "bob"])?;
    /// let out = orders
    ///     .lazy()
    ///     .join(customers.lazy(), [col("cust")], [col("cust")], JoinType::Left)
    ///     .collect()?;
    /// assert_eq!(out.column_names(), vec!["id", "cust", "name"]);
    /// assert_eq!(out.column_f64("id")?, vec![Some(1.0), Some(2.0), Some(3.0), Some(4.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn join<L: Into<Expr>, R: Into<Expr>>(
        self,
        other: LazyFrame,
        left_on: impl IntoIterator<Item = L>,
        right_on: impl IntoIterator<Item = R>,
        how: JoinType,
    ) -> LazyFrame {
        LazyFrame::from_plan(LogicalPlan::Join {
            left: self.logical_plan().clone(),
            right: other.logical_plan().clone(),
            left_on: left_on.into_iter().map(Into::into).collect(),
            right_on: right_on.into_iter().map(Into::into).collect(),
            how,
        })
    }

    /// Inner join on one column of each side.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let a = df!("k" => [1, 2, 2], "x" => [0.5, 1.5, 2.5])?;
    /// let b = df!("k" => [2, 1], "y" => ["two", "one"])?;
    /// let out = a.lazy().inner_join(b.lazy(), "k", "k").collect()?;
    /// assert_eq!(out.column_f64("x")?, vec![Some(0.5), Some(1.5), Some(2.5)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn inner_join(self, other: LazyFrame, left_on: &str, right_on: &str) -> LazyFrame {
        self.join(other, [col(left_on)], [col(right_on)], JoinType::Inner)
    }

    /// Left join on one column of each side.
    pub fn left_join(self, other: LazyFrame, left_on: &str, right_on: &str) -> LazyFrame {
        self.join(other, [col(left_on)], [col(right_on)], JoinType::Left)
    }

    /// Every row of this frame with every row of `other`.
    pub fn cross_join(self, other: LazyFrame) -> LazyFrame {
        self.join(
            other,
            Vec::<Expr>::new(),
            Vec::<Expr>::new(),
            JoinType::Cross,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema(cols: &[(&str, DataType)]) -> Schema {
        Schema::new(
            cols.iter()
                .map(|(n, t)| Field::new(*n, t.clone(), false))
                .collect::<Vec<_>>(),
        )
    }

    fn names(l: &JoinLayout) -> Vec<String> {
        l.schema
            .fields()
            .iter()
            .map(|f| format!("{}:{}", f.name(), f.is_nullable()))
            .collect()
    }

    #[test]
    fn same_named_keys_are_kept_once_and_clashes_get_a_suffix() {
        let l = schema(&[("k", DataType::Int64), ("x", DataType::Float64)]);
        let r = schema(&[("x", DataType::Float64), ("k", DataType::Int32)]);
        let on = [col("k")];
        let inner = JoinLayout::new(&l, &r, &on, &on, JoinType::Inner).unwrap();
        assert_eq!(names(&inner), ["k:false", "x:false", "x_right:false"]);
        assert_eq!(inner.key_types, [DataType::Int64]);
        let left = JoinLayout::new(&l, &r, &on, &on, JoinType::Left).unwrap();
        assert_eq!(names(&left), ["k:false", "x:false", "x_right:true"]);
        let full = JoinLayout::new(&l, &r, &on, &on, JoinType::Full).unwrap();
        assert_eq!(full.columns[0], JoinColumn::Coalesced { left: 0, right: 1 });
        assert_eq!(names(&full), ["k:true", "x:true", "x_right:true"]);
        let semi = JoinLayout::new(&l, &r, &on, &on, JoinType::Semi).unwrap();
        assert_eq!(names(&semi), ["k:false", "x:false"]);
        // Differently named keys are both kept.
        let other = JoinLayout::new(&l, &r, &[col("k")], &[col("x")], JoinType::Inner);
        assert!(other.is_ok());
    }

    #[test]
    fn bad_keys_are_plan_errors() {
        let l = schema(&[("k", DataType::Int64)]);
        let r = schema(&[("s", DataType::Utf8), ("k", DataType::Int64)]);
        let e = |lo: &[Expr], ro: &[Expr], how| {
            JoinLayout::new(&l, &r, lo, ro, how)
                .unwrap_err()
                .to_string()
        };
        insta::assert_snapshot!(e(&[col("k")], &[col("s")], JoinType::Inner), @r#"type error: join keys col("k") (i64) and col("s") (str) cannot be compared"#);
        insta::assert_snapshot!(e(&[col("k")], &[], JoinType::Inner), @"plan error: a join needs as many left keys as right keys, got 1 and 0");
        insta::assert_snapshot!(e(&[], &[], JoinType::Left), @"plan error: a join needs at least one key on each side (JoinType::Cross joins without keys)");
        insta::assert_snapshot!(e(&[col("k")], &[col("k")], JoinType::Cross), @"plan error: a cross join takes no keys (pass empty key lists)");
        insta::assert_snapshot!(e(&[col("k").sum()], &[col("k")], JoinType::Inner), @r#"plan error: join key col("k").sum() is not elementwise; compute it in a with_columns first"#);
        insta::assert_snapshot!(e(&[col("q")], &[col("k")], JoinType::Inner), @r#"column not found: "q" (did you mean "k"?); available columns: [k]"#);
    }
}
