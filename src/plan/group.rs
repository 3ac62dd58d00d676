//! Grouping in the logical plan: the `GROUP_BY` / `UNIQUE` node's [`GroupOutput`], its schema
//! rule and plan text, and the builders users call: `lf.group_by([..]).agg([..])`,
//! `lf.group_by([..]).head(n)`, `lf.unique()` and `lf.unique_subset([..])`.
//!
//! Semantics (as Polars with `maintain_order=True`): rows are grouped by the values of the key
//! expressions; null keys form one group and so do NaN keys (`-0.0` and `0.0` are one key);
//! groups come out in order of first appearance, the same for any thread count.

use arrow::datatypes::{Field, Schema, SchemaRef};

use super::{unique_schema, LazyFrame, LogicalPlan};
use crate::error::{Error, Result};
use crate::expr::over::check_key_type;
use crate::expr::{col, Expr};

/// What a grouping gives for each group.
#[derive(Clone, Debug, PartialEq)]
pub enum GroupOutput {
    /// One row per group: the keys, then these expressions (aggregates, one value per group).
    Aggregate(Vec<Expr>),
    /// The first `n` rows of each group, in input order: the keys first, then the input's
    /// other columns.
    Head(usize),
    /// The first row of each group, every column as in the input (`unique`). No keys means
    /// every column is a key.
    First,
}

/// A grouping waiting for what to compute per group: `lf.group_by([col("a")])`, then
/// [`agg`](Self::agg) or [`head`](Self::head).
#[derive(Clone, Debug)]
pub struct LazyGroupBy {
    input: LazyFrame,
    keys: Vec<Expr>,
}

impl LazyFrame {
    /// Group rows by the values of `keys` (columns or any elementwise expressions); then
    /// `.agg([..])` computes aggregates per group, `.head(n)` keeps each group's first rows.
    /// Null keys form one group, and so do NaN keys; groups come out in order of first
    /// appearance (deterministic for any thread count, as Polars' `maintain_order=True`).
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("g" => ["a", "b", "a"], "v" => [1.0, 2.0, 4.0])?;
    /// let out = df.lazy()
    ///     .group_by([col("g")])
    ///     .agg([col("v").sum(), col("v").mean().alias("m"), len().alias("n")])
    ///     .collect()?;
    /// assert_eq!(out.column_f64("v")?, vec![Some(5.0), Some(2.0)]);
    /// assert_eq!(out.column_f64("m")?, vec![Some(2.5), Some(2.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn group_by<E: Into<Expr>>(self, keys: impl IntoIterator<Item = E>) -> LazyGroupBy {
        LazyGroupBy {
            input: self,
            keys: keys.into_iter().map(Into::into).collect(),
        }
    }

    /// Drop duplicate rows, keeping the first occurrence of each (rows stay in input order;
    /// Polars' `unique(maintain_order=True, keep="first")`). NaN equals NaN and null equals
    /// null here.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("a" => [1, 1, 2, 1], "b" => ["x", "x", "y", "z"])?;
    /// let out = df.lazy().unique().collect()?;
    /// assert_eq!(out.height(), 3);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn unique(self) -> LazyFrame {
        self.unique_by(vec![])
    }

    /// Keep the first row of each distinct combination of `columns` (the row that comes
    /// first in the input, with all its columns), rows in input order.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("a" => [1, 1, 2, 1], "b" => ["x", "y", "z", "w"])?;
    /// let out = df.lazy().unique_subset(["a"]).collect()?;
    /// assert_eq!(out.column_f64("a")?, vec![Some(1.0), Some(2.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn unique_subset<S: Into<String>>(self, columns: impl IntoIterator<Item = S>) -> LazyFrame {
        let keys = columns.into_iter().map(|c| col(c.into())).collect();
        self.unique_by(keys)
    }

    fn unique_by(self, keys: Vec<Expr>) -> LazyFrame {
        LazyFrame::from_plan(LogicalPlan::GroupBy {
            input: self.logical_plan().clone(),
            keys,
            output: GroupOutput::First,
        })
    }
}

impl LazyGroupBy {
    /// One row per group: the keys, then `aggs` (expressions with one value per group:
    /// `col("v").sum()`, `(col("a") * col("b")).mean()`, `len()`, `corr(a, b)`,
    /// `col("v").max() - col("v").min()`, ...).
    pub fn agg<E: Into<Expr>>(self, aggs: impl IntoIterator<Item = E>) -> LazyFrame {
        let aggs = aggs.into_iter().map(Into::into).collect();
        self.build(GroupOutput::Aggregate(aggs))
    }

    /// The first `n` rows of each group, groups in order of first appearance and each group's
    /// rows in input order: the key columns first, then the other columns.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("g" => [1, 2, 1, 1], "v" => [1.0, 2.0, 3.0, 4.0])?;
    /// let out = df.lazy().group_by([col("g")]).head(2).collect()?;
    /// assert_eq!(out.column_f64("v")?, vec![Some(1.0), Some(3.0), Some(2.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn head(self, n: usize) -> LazyFrame {
        self.build(GroupOutput::Head(n))
    }

    fn build(self, output: GroupOutput) -> LazyFrame {
        LazyFrame::from_plan(LogicalPlan::GroupBy {
            input: self.input.logical_plan().clone(),
            keys: self.keys,
            output,
        })
    }
}

/// The keys of a grouping over `schema`: `keys`, or every column for a `unique()` without
/// them.
pub(crate) fn effective_keys(keys: &[Expr], output: &GroupOutput, schema: &Schema) -> Vec<Expr> {
    if keys.is_empty() && *output == GroupOutput::First {
        schema.fields().iter().map(|f| col(f.name())).collect()
    } else {
        keys.to_vec()
    }
}

/// The output schema of a grouping of `input`.
pub(crate) fn group_schema(
    keys: &[Expr],
    output: &GroupOutput,
    input: &SchemaRef,
) -> Result<SchemaRef> {
    let keys = effective_keys(keys, output, input);
    if keys.is_empty() && !input.fields().is_empty() {
        return Err(Error::Plan("group_by needs at least one key".into()));
    }
    let mut key_fields = Vec::with_capacity(keys.len());
    for k in &keys {
        if !k.is_elementwise() && !matches!(k, Expr::Column(_)) {
            return Err(Error::Plan(format!(
                "a group_by key must be computed row by row; {k} is not (compute it first with \
                 with_columns)"
            )));
        }
        let t = k.data_type(input)?;
        check_key_type(k, &t)?;
        key_fields.push(Field::new(k.output_name(), t, true));
    }
    match output {
        GroupOutput::Aggregate(aggs) => {
            let mut fields = key_fields;
            for a in aggs {
                if !a.is_scalar() {
                    return Err(Error::Plan(format!(
                        "agg() takes expressions with one value per group, such as \
                         col(\"v\").sum(); {a} is not one (add an aggregate: .first(), \
                         .mean(), ...)"
                    )));
                }
                fields.push(a.to_field(input)?);
            }
            unique_schema(fields)
        }
        GroupOutput::Head(_) => {
            let names: Vec<&String> = key_fields.iter().map(|f| f.name()).collect();
            let rest: Vec<Field> = input
                .fields()
                .iter()
                .filter(|f| !names.contains(&f.name()))
                .map(|f| f.as_ref().clone())
                .collect();
            let mut fields = key_fields;
            fields.extend(rest);
            unique_schema(fields)
        }
        GroupOutput::First => Ok(input.clone()),
    }
}

/// The node's line of plan text.
pub(crate) fn group_text(keys: &[Expr], output: &GroupOutput) -> String {
    let list = crate::plan::expr_list(keys);
    match output {
        GroupOutput::Aggregate(aggs) => {
            format!("GROUP_BY keys={list} aggs={}", crate::plan::expr_list(aggs))
        }
        GroupOutput::Head(n) => format!("GROUP_BY keys={list} head={n}"),
        GroupOutput::First if keys.is_empty() => "UNIQUE keys=*".into(),
        GroupOutput::First => format!("UNIQUE keys={list}"),
    }
}

/// The columns `unique` reads back as `first()` of each input column, keys and all.
pub(crate) fn first_of_each(schema: &Schema) -> Vec<Expr> {
    schema
        .fields()
        .iter()
        .map(|f| col(f.name()).first())
        .collect()
}
