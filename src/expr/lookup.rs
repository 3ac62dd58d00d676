//! Lookups that stay linear on wide inputs: a query over a 10,000-column matrix
//! (`select([all_numeric().mean()])`) has 10,000 expressions over 10,000 columns, and
//! resolving each one by scanning (Arrow's `Schema::index_of`, `Vec::contains` on
//! expressions) makes planning quadratic: seconds before the first byte is read.
//!
//! [`NameIndex`] finds fields by name through a hash map built once per schema;
//! [`DistinctExprs`] keeps expressions in first-seen order and finds one by the hash of its
//! plan text, confirming with `==` (two expressions with the same text are compared, never
//! assumed equal).

use std::collections::HashMap;

use arrow::datatypes::{DataType, Field, Schema};

use super::Expr;
use crate::error::Result;

/// Field positions of a schema by name (the first of equal names, as Arrow's `index_of`).
pub(crate) struct NameIndex<'a> {
    schema: &'a Schema,
    positions: HashMap<&'a str, usize>,
}

impl<'a> NameIndex<'a> {
    pub(crate) fn new(schema: &'a Schema) -> Self {
        let mut positions = HashMap::with_capacity(schema.fields().len());
        for (i, f) in schema.fields().iter().enumerate() {
            positions.entry(f.name().as_str()).or_insert(i);
        }
        Self { schema, positions }
    }

    /// The position of the field named `name`.
    pub(crate) fn position(&self, name: &str) -> Option<usize> {
        self.positions.get(name).copied()
    }

    /// `e.data_type(schema)`, resolving `e`'s columns through the index: the type rules run
    /// over a schema of just the columns `e` reads. An expression reading a column the
    /// schema lacks takes the full schema, so its error lists the columns there are.
    pub(crate) fn data_type(&self, e: &Expr) -> Result<DataType> {
        match e {
            Expr::Column(c) => match self.position(c) {
                Some(i) => Ok(self.schema.field(i).data_type().clone()),
                None => e.data_type(self.schema),
            },
            _ => match self.narrow(e) {
                Some(s) => e.data_type(&s),
                None => e.data_type(self.schema),
            },
        }
    }

    /// `e.to_field(schema)` through the index (see [`data_type`](Self::data_type)).
    pub(crate) fn to_field(&self, e: &Expr) -> Result<Field> {
        match self.narrow(e) {
            Some(s) => e.to_field(&s),
            None => e.to_field(self.schema),
        }
    }

    /// The schema of the columns `e` reads (see [`narrow_schema`]).
    pub(crate) fn narrow(&self, e: &Expr) -> Option<Schema> {
        narrow_schema(self.schema, e, |c| self.position(c))
    }
}

/// The schema of the columns `e` reads (found by `position`), in `schema`'s order; `None`
/// when one is missing (or `e` holds an unexpanded selector). Typing `e` over it gives what
/// typing over all of `schema` would, without scanning `schema` for each column.
pub(crate) fn narrow_schema(
    schema: &Schema,
    e: &Expr,
    position: impl Fn(&str) -> Option<usize>,
) -> Option<Schema> {
    let mut found: Vec<usize> = vec![];
    let mut missing = false;
    e.visit(&mut |n| match n {
        Expr::Column(c) => match position(c) {
            Some(i) => found.push(i),
            None => missing = true,
        },
        Expr::Columns(_) | Expr::AllNumeric => missing = true,
        _ => {}
    });
    if missing {
        return None;
    }
    found.sort_unstable();
    found.dedup();
    Some(Schema::new(
        found
            .into_iter()
            .map(|i| schema.field(i).clone())
            .collect::<Vec<_>>(),
    ))
}

/// Distinct expressions in first-seen order.
#[derive(Default)]
pub(crate) struct DistinctExprs {
    exprs: Vec<Expr>,
    by_text: HashMap<String, Vec<usize>>,
}

impl DistinctExprs {
    /// The position of an expression equal to `e`.
    pub(crate) fn position(&self, e: &Expr) -> Option<usize> {
        self.by_text
            .get(&e.to_string())?
            .iter()
            .copied()
            .find(|&i| self.exprs[i] == *e)
    }

    /// The position of `e`, added at the end if no equal expression is here yet.
    pub(crate) fn insert(&mut self, e: &Expr) -> usize {
        let same_text = self.by_text.entry(e.to_string()).or_default();
        if let Some(&i) = same_text.iter().find(|&&i| self.exprs[i] == *e) {
            return i;
        }
        same_text.push(self.exprs.len());
        self.exprs.push(e.clone());
        self.exprs.len() - 1
    }

    /// The expressions, in the order they were first inserted.
    pub(crate) fn as_slice(&self) -> &[Expr] {
        &self.exprs
    }

    /// The expressions, in the order they were first inserted.
    pub(crate) fn into_vec(self) -> Vec<Expr> {
        self.exprs
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{col, lit};

    #[test]
    fn distinct_expressions_keep_first_seen_order() {
        let mut d = DistinctExprs::default();
        assert_eq!(d.insert(&col("b").sum()), 0);
        assert_eq!(d.insert(&col("a").sum()), 1);
        assert_eq!(d.insert(&col("b").sum()), 0);
        assert_eq!(d.position(&col("a").sum()), Some(1));
        assert_eq!(d.position(&col("a").mean()), None);
        // 1 and 1.0 may print alike; they are still different expressions.
        let (int, float) = (col("a") + lit(1), col("a") + lit(1.0));
        let (i, f) = (d.insert(&int), d.insert(&float));
        assert_ne!(i, f);
        assert_eq!(d.into_vec().len(), 4);
    }

    #[test]
    fn name_index_types_like_the_schema() -> Result<()> {
        let schema = Schema::new(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Float32, true),
        ]);
        let ix = NameIndex::new(&schema);
        for e in [
            col("a"),
            col("b") * lit(2.0),
            col("a").mean(),
            col("b").sum(),
        ] {
            assert_eq!(ix.data_type(&e)?, e.data_type(&schema)?, "{e}");
            assert_eq!(ix.to_field(&e)?, e.to_field(&schema)?, "{e}");
        }
        // A missing column's error lists the schema's columns, as without the index.
        let missing = col("nope") + col("a");
        assert_eq!(
            ix.data_type(&missing).unwrap_err().to_string(),
            missing.data_type(&schema).unwrap_err().to_string()
        );
        Ok(())
    }

    #[test]
    fn wide_frames_find_columns_through_their_index() -> Result<()> {
        use crate::frame::{Column, DataFrame};
        // Wider than the frame's scanning width, so lookups go through its name index.
        let cols: Vec<Column> = (0..40).map(|j| Column::new(format!("c{j}"), [j])).collect();
        let df = DataFrame::new(cols)?;
        for j in 0..40 {
            assert_eq!(df.index_of(&format!("c{j}"))?, j);
        }
        let slice = df.slice(0, 1);
        assert_eq!(slice.index_of("c39")?, 39);
        let err = df.index_of("c40").unwrap_err().to_string();
        assert!(err.contains("c40"), "{err}");
        Ok(())
    }
}
