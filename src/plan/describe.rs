//! Summaries and missing-value row filters on `LazyFrame`: `describe()` and the row filters
//! `drop_nans`, `drop_nulls` (all columns) and `drop_nans_in`, `drop_nulls_in` (a subset).
//!
//! All stay lazy: the drops are ordinary `filter` nodes (so later rules can push them down)
//! and `describe` is a `select` of per-column statistic kernels. They read the input's schema
//! when called to know its columns; if that fails, the same error surfaces at `collect`.

use super::LazyFrame;
use crate::expr::types::is_numeric;
use crate::expr::{col, lit, DescribeFunction, Expr, STATISTICS};

impl LazyFrame {
    /// Summary statistics of every numeric column, like pandas' and Polars' `describe`.
    ///
    /// The result has a `statistic` column (`count`, `null_count`, `mean`, `std`, `min`,
    /// `25%`, `50%`, `75%`, `max`) and one Float64 column per numeric input column, in input
    /// order (other columns are left out). Statistics skip nulls *and* NaN: `count` is the
    /// number of values they use (pandas' count), `null_count` the number of nulls, so NaN
    /// rows are `height - count - null_count`. `std` has ddof 1 (pandas), quartiles
    /// interpolate linearly (NumPy, pandas; Polars' describe uses nearest). A statistic with
    /// too few values (none; one for `std`) is null.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("x" => [Some(1.0), Some(f64::NAN), None, Some(3.0), Some(5.0)], "s" => ["a", "b", "c", "d", "e"])?;
    /// let d = df.lazy().describe().collect()?;
    /// assert_eq!(d.column_names(), vec!["statistic", "x"]);
    /// assert_eq!(d.column_f64("x")?,
    ///     vec![Some(3.0), Some(1.0), Some(3.0), Some(2.0), Some(1.0), Some(2.0), Some(3.0), Some(4.0), Some(5.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn describe(self) -> LazyFrame {
        let numeric: Vec<String> = match self.schema() {
            Ok(s) => s
                .fields()
                .iter()
                .filter(|f| is_numeric(f.data_type()))
                .map(|f| f.name().clone())
                .collect(),
            Err(_) => vec![],
        };
        let labels = STATISTICS.iter().map(|s| lit(*s)).collect();
        let mut exprs = vec![Expr::call(DescribeFunction::Stack, labels).alias("statistic")];
        for c in numeric {
            exprs.push(Expr::call(DescribeFunction::Stats, vec![col(c)]));
        }
        self.select(exprs)
    }

    /// Drop rows holding NaN in any float column; nulls are not NaN and stay (as in Polars).
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("a" => [Some(1.0), None, Some(f64::NAN)], "b" => [1, 2, 3])?;
    /// let out = df.lazy().drop_nans().collect()?;
    /// assert_eq!(out.column_f64("b")?, vec![Some(1.0), Some(2.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn drop_nans(self) -> LazyFrame {
        let cols = self.columns_where(|t| t.is_floating());
        self.drop_nans_in(cols)
    }

    /// Drop rows holding a null in any column (NaN is a value and stays).
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("a" => [Some(1.0), None, Some(f64::NAN)], "s" => [Some("x"), Some("y"), None])?;
    /// let out = df.lazy().drop_nulls().collect()?;
    /// assert_eq!(out.height(), 1);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn drop_nulls(self) -> LazyFrame {
        let cols = self.columns_where(|_| true);
        self.drop_nulls_in(cols)
    }

    /// Drop rows holding NaN in any of `columns` (integer columns never do; an unknown or
    /// non-numeric column is an error at plan time).
    pub fn drop_nans_in<S: Into<String>>(self, columns: impl IntoIterator<Item = S>) -> LazyFrame {
        // `is_not_nan` is null on null rows: count those as "not NaN" so they are kept.
        let keep = columns
            .into_iter()
            .map(|c| col(c).is_not_nan().fill_null(true))
            .reduce(Expr::and);
        match keep {
            Some(p) => self.filter(p),
            None => self,
        }
    }

    /// Drop rows holding a null in any of `columns`.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("a" => [Some(1.0), None, Some(3.0)], "b" => [None, Some(2), Some(3)])?;
    /// let out = df.lazy().drop_nulls_in(["a"]).collect()?;
    /// assert_eq!(out.column_f64("a")?, vec![Some(1.0), Some(3.0)]);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn drop_nulls_in<S: Into<String>>(self, columns: impl IntoIterator<Item = S>) -> LazyFrame {
        let keep = columns
            .into_iter()
            .map(|c| col(c).is_not_null())
            .reduce(Expr::and);
        match keep {
            Some(p) => self.filter(p),
            None => self,
        }
    }

    /// Names of the input's columns whose type passes `keep`. When the schema cannot be
    /// resolved this is empty: the input is returned as is and its own error surfaces at
    /// `collect`/`schema`.
    fn columns_where(&self, keep: impl Fn(&arrow::datatypes::DataType) -> bool) -> Vec<String> {
        match self.schema() {
            Ok(s) => s
                .fields()
                .iter()
                .filter(|f| keep(f.data_type()))
                .map(|f| f.name().clone())
                .collect(),
            Err(_) => vec![],
        }
    }
}
