//! A fitted PCA: its matrices, the lazy `transform` / `inverse_transform` (plain expressions
//! that fuse with the rest of a query), the same on `ndarray` matrices, the table and summary.

use std::fmt;

use ndarray::{Array1, Array2};

use super::kmeans::sum_exprs;
use super::pca::PcaSolver;
use crate::error::{Error, Result};
use crate::expr::{col, lit, Expr};
use crate::frame::{Column, DataFrame};
use crate::plan::LazyFrame;

/// A fitted PCA.
#[derive(Clone, Debug)]
pub struct PcaModel {
    /// Feature columns, in the order of the component columns.
    pub features: Vec<String>,
    /// Principal axes, components x features (rows have unit length).
    pub components: Array2<f64>,
    /// Variance along each component, `S² / (n - 1)`.
    pub explained_variance: Array1<f64>,
    /// Fraction of the total variance along each component.
    pub explained_variance_ratio: Array1<f64>,
    /// Singular values of the centred data for the kept components.
    pub singular_values: Array1<f64>,
    /// Feature means subtracted before projecting.
    pub mean: Array1<f64>,
    /// The probabilistic-PCA noise variance (scikit-learn's `noise_variance_`): the average
    /// variance of the dropped components, 0 when all are kept.
    pub noise_variance: f64,
    /// Training rows.
    pub n_samples: usize,
    /// The solver that ran (never `Auto`).
    pub solver: PcaSolver,
    /// Whether `transform` whitens.
    pub whiten: bool,
}

impl PcaModel {
    /// Number of kept components.
    pub fn n_components(&self) -> usize {
        self.components.nrows()
    }

    /// `sqrt(explained variance)` of component `j` when whitening, else 1.
    fn scale(&self, j: usize) -> f64 {
        if self.whiten {
            self.explained_variance[j].sqrt()
        } else {
            1.0
        }
    }

    /// The expressions `pc1..pck`: `sum_f (col(f) - mean_f) * component_jf`, divided by
    /// `sqrt(explained_variance_j)` when whitening.
    pub fn component_exprs(&self) -> Vec<Expr> {
        (0..self.n_components())
            .map(|j| {
                let terms = self.features.iter().enumerate().map(|(f, name)| {
                    (col(name.as_str()) - lit(self.mean[f])) * lit(self.components[[j, f]])
                });
                let e = sum_exprs(terms);
                let e = if self.whiten {
                    e / lit(self.scale(j))
                } else {
                    e
                };
                e.alias(format!("pc{}", j + 1))
            })
            .collect()
    }

    /// Project new data lazily: adds columns `pc1..pck` (fused with the rest of the query).
    pub fn transform(&self, lf: LazyFrame) -> LazyFrame {
        lf.with_columns(self.component_exprs())
    }

    /// The expressions rebuilding each feature from `pc1..pck`: `mean_f + sum_j pc_j *
    /// component_jf` (times `sqrt(explained_variance_j)` when whitening), named as the feature.
    pub fn inverse_exprs(&self) -> Vec<Expr> {
        self.features
            .iter()
            .enumerate()
            .map(|(f, name)| {
                let terms = (0..self.n_components()).map(|j| {
                    col(format!("pc{}", j + 1).as_str())
                        * lit(self.components[[j, f]] * self.scale(j))
                });
                (sum_exprs(terms) + lit(self.mean[f])).alias(name.as_str())
            })
            .collect()
    }

    /// Map projected data back to feature space lazily (scikit-learn's `inverse_transform`):
    /// reads columns `pc1..pck` and adds (or replaces) one column per feature.
    pub fn inverse_transform(&self, lf: LazyFrame) -> LazyFrame {
        lf.with_columns(self.inverse_exprs())
    }

    /// Project a row-major matrix (one column per feature, in order): n x components.
    pub fn transform_ndarray(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        if x.ncols() != self.features.len() {
            return Err(Error::Compute(format!(
                "pca transform: the matrix has {} columns, the model {} features",
                x.ncols(),
                self.features.len()
            )));
        }
        let centred = x - &self.mean.view().insert_axis(ndarray::Axis(0));
        let mut out = centred.dot(&self.components.t());
        for (j, mut c) in out.columns_mut().into_iter().enumerate() {
            let s = self.scale(j);
            c.mapv_inplace(|v| v / s);
        }
        Ok(out)
    }

    /// Map projected rows (n x components) back to feature space: n x features.
    pub fn inverse_transform_ndarray(&self, z: &Array2<f64>) -> Result<Array2<f64>> {
        if z.ncols() != self.n_components() {
            return Err(Error::Compute(format!(
                "pca inverse_transform: the matrix has {} columns, the model {} components",
                z.ncols(),
                self.n_components()
            )));
        }
        let scaled = Array2::from_shape_fn(self.components.dim(), |(j, f)| {
            self.components[[j, f]] * self.scale(j)
        });
        Ok(z.dot(&scaled) + self.mean.view().insert_axis(ndarray::Axis(0)))
    }

    /// The components as a table: `component` (pc1..), `explained_variance`,
    /// `explained_variance_ratio`, then one loading column per feature.
    pub fn to_dataframe(&self) -> Result<DataFrame> {
        let k = self.n_components();
        let mut cols = vec![
            Column::new(
                "component",
                (1..=k).map(|j| format!("pc{j}")).collect::<Vec<String>>(),
            ),
            Column::new("explained_variance", self.explained_variance.to_vec()),
            Column::new(
                "explained_variance_ratio",
                self.explained_variance_ratio.to_vec(),
            ),
        ];
        for (f, name) in self.features.iter().enumerate() {
            cols.push(Column::new(
                name.as_str(),
                self.components.column(f).to_vec(),
            ));
        }
        DataFrame::new(cols)
    }

    /// A human-readable summary (what the CLI prints).
    pub fn summary(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for PcaModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cum: f64 = self.explained_variance_ratio.sum();
        writeln!(
            f,
            "PCA: {} of {} components, {} rows, solver={}, whiten={}, cumulative explained variance ratio={}",
            self.n_components(),
            self.features.len(),
            self.n_samples,
            self.solver.name(),
            self.whiten,
            cum
        )?;
        match self.to_dataframe() {
            Ok(df) => write!(f, "components:\n{df}"),
            Err(e) => write!(f, "(component table unavailable: {e})"),
        }
    }
}
