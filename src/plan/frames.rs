//! Frames put together or numbered: [`concat`] stacks lazy frames vertically, matching
//! columns by name, and [`LazyFrame::with_row_index`] numbers the rows.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use super::{LazyFrame, LogicalPlan};
use crate::error::{Error, Result};
use crate::expr::types::is_string;
use crate::expr::{col, row_index, Expr};
use crate::frame::display::dtype_name;

/// The frames one after another (Polars' vertical `concat`): the rows of the first, then of
/// the second, and so on. Columns are matched by name and come out in the first frame's
/// order; every frame must have the same column names with the same types (string columns
/// of different Arrow string types are read as one `Utf8` column). A missing or extra column
/// or a type mismatch is an error naming the column and the frame.
///
/// ```
/// use fusedframe::prelude::*;
/// let a = df!("x" => [1, 2], "s" => ["a", "b"])?;
/// let b = df!("s" => ["c"], "x" => [3])?;
/// let out = concat([a.lazy(), b.lazy()]).collect()?;
/// assert_eq!(out.column_names(), vec!["x", "s"]);
/// assert_eq!(out.column_f64("x")?, vec![Some(1.0), Some(2.0), Some(3.0)]);
/// # Ok::<(), fusedframe::Error>(())
/// ```
pub fn concat(frames: impl IntoIterator<Item = LazyFrame>) -> LazyFrame {
    let inputs: Vec<Arc<LogicalPlan>> = frames
        .into_iter()
        .map(|f| f.logical_plan().clone())
        .collect();
    LazyFrame::from_plan(LogicalPlan::Concat { inputs })
}

/// The output schema of a concat of inputs with these schemas.
pub(crate) fn concat_schema(inputs: &[SchemaRef]) -> Result<SchemaRef> {
    let Some(first) = inputs.first() else {
        return Err(Error::Plan("concat needs at least one frame".into()));
    };
    let mut fields: Vec<Field> = first.fields().iter().map(|f| f.as_ref().clone()).collect();
    for (k, s) in inputs.iter().enumerate().skip(1) {
        let frame = k + 1;
        for f in s.fields() {
            if first.field_with_name(f.name()).is_err() {
                return Err(Error::Schema(format!(
                    "concat: frame {frame} has a column \"{}\" that frame 1 has not",
                    f.name()
                )));
            }
        }
        for out in fields.iter_mut() {
            let f = s.field_with_name(out.name()).map_err(|_| {
                Error::Schema(format!(
                    "concat: frame {frame} has no column \"{}\" (frame 1 has)",
                    out.name()
                ))
            })?;
            let (a, b) = (out.data_type(), f.data_type());
            let t = if a == b {
                a.clone()
            } else if is_string(a) && is_string(b) {
                DataType::Utf8
            } else {
                return Err(Error::Schema(format!(
                    "concat: column \"{}\" is {} in frame 1 but {} in frame {frame}",
                    out.name(),
                    dtype_name(a),
                    dtype_name(b)
                )));
            };
            let nullable = out.is_nullable() || f.is_nullable();
            *out = out.clone().with_data_type(t).with_nullable(nullable);
        }
    }
    Ok(Arc::new(Schema::new(fields)))
}

impl LazyFrame {
    /// A first column `name` numbering the rows `0, 1, ..` (UInt64; Polars uses its index
    /// type, UInt32), then the frame's columns.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let out = df!("x" => [5.0, 6.0])?.lazy().with_row_index("i").collect()?;
    /// assert_eq!(out.column_names(), vec!["i", "x"]);
    /// assert_eq!(out.column_f64("i")?, vec![Some(0.0), Some(1.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn with_row_index(self, name: &str) -> LazyFrame {
        // The columns are read from the schema now, as `describe` does; an input whose schema
        // fails keeps failing the same way at `collect`.
        let mut exprs: Vec<Expr> = vec![row_index().alias(name)];
        if let Ok(s) = self.schema() {
            exprs.extend(s.fields().iter().map(|f| col(f.name())));
        }
        self.select(exprs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;

    fn err(frames: Vec<DataFrame>) -> String {
        concat(frames.into_iter().map(DataFrame::lazy))
            .collect()
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn concat_errors_name_the_column_and_the_frame() {
        let a = || df!("x" => [1, 2], "s" => ["a", "b"]).unwrap();
        insta::assert_snapshot!(err(vec![a(), df!("x" => [1]).unwrap()]), @r#"schema error: concat: frame 2 has no column "s" (frame 1 has)"#);
        insta::assert_snapshot!(err(vec![a(), df!("x" => [1], "s" => ["q"], "y" => [0.5]).unwrap()]), @r#"schema error: concat: frame 2 has a column "y" that frame 1 has not"#);
        insta::assert_snapshot!(err(vec![a(), a(), df!("x" => [1.5], "s" => ["q"]).unwrap()]), @r#"schema error: concat: column "x" is i64 in frame 1 but f64 in frame 3"#);
        insta::assert_snapshot!(err(vec![]), @"plan error: concat needs at least one frame");
    }

    #[test]
    fn concat_matches_columns_by_name_and_keeps_order() {
        let a = df!("x" => [1, 2], "s" => ["a", "b"]).unwrap();
        let b = df!("s" => [Some("c"), None], "x" => [3, 4]).unwrap();
        let out = concat([a.lazy(), b.clone().lazy().filter(col("x").gt(3)), b.lazy()])
            .collect()
            .unwrap();
        assert_eq!(
            out.column_f64("x").unwrap(),
            [1.0, 2.0, 4.0, 3.0, 4.0].map(Some).to_vec()
        );
        assert_eq!(out.column("s").unwrap().null_count(), 2);
    }

    #[test]
    fn row_index_comes_first() {
        let lf = df!("x" => [5.0, 6.0, 7.0])
            .unwrap()
            .lazy()
            .with_row_index("i");
        let out = lf.filter(col("i").gt(0)).collect().unwrap();
        assert_eq!(out.column_f64("i").unwrap(), vec![Some(1.0), Some(2.0)]);
        assert_eq!(out.column_f64("x").unwrap(), vec![Some(6.0), Some(7.0)]);
    }
}
