//! Ordinary least squares with an intercept, as scikit-learn's `LinearRegression`: features and
//! target are centred, the coefficients solve the centred problem by Householder QR, and the
//! intercept is `mean(y) - mean(X) · coef`. R² and MSE are measured on the training rows (R²
//! is 1 for a perfect fit of a constant target and 0 for an imperfect one, as `r2_score`).
//!
//! scikit-learn solves with LAPACK's SVD-based `gelsd`, which also returns a minimum-norm answer
//! for collinear features; QR here instead reports rank deficiency as an error naming the
//! dependent column, since such coefficients are rarely what a user meant.

use std::fmt;

use ndarray::{Array1, Array2};

use super::data::Features;
use super::kmeans::sum_exprs;
use super::linalg;
use super::moments::QrMoments;
use crate::error::{Error, Result};
use crate::expr::{col, lit, Expr};
use crate::frame::{Column, DataFrame};
use crate::plan::LazyFrame;

/// Least-squares settings: the target column and the feature columns.
///
/// Usually built through [`LazyFrame::linear_regression`]:
///
/// ```
/// use fusedframe::prelude::*;
/// let df = df!("x" => [1.0, 2.0, 3.0, 4.0], "y" => [3.0, 5.0, 7.0, 9.0])?;
/// let m = df.lazy().linear_regression("y", ["x"]).fit()?;
/// assert!((m.coefficients[0] - 2.0).abs() < 1e-12 && (m.intercept - 1.0).abs() < 1e-12);
/// assert!((m.r2 - 1.0).abs() < 1e-12);
/// # Ok::<(), fusedframe::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LinearRegression {
    /// The column to predict.
    pub target: String,
    /// The predictor columns.
    pub features: Vec<String>,
}

impl LinearRegression {
    /// Regress `target` on `features`.
    pub fn new<S: Into<String>>(
        target: impl Into<String>,
        features: impl IntoIterator<Item = S>,
    ) -> Self {
        Self {
            target: target.into(),
            features: features.into_iter().map(Into::into).collect(),
        }
    }

    /// Fit on a matrix of features (rows are samples) and a target vector.
    pub fn fit_ndarray(x: &Array2<f64>, y: &Array1<f64>) -> Result<LinearModel> {
        let f = Features::from_ndarray(x, "linear_regression")?;
        let y2 = y.clone().insert_axis(ndarray::Axis(1));
        let mut t = Features::from_ndarray(&y2, "linear_regression")?;
        t.names = vec!["y".into()];
        Self::new("y", f.names.clone()).fit_features(&f, &t)
    }

    /// The plan line: `LINEAR_REGRESSION target=y features=[a, b]`.
    pub(crate) fn node_text(&self) -> String {
        format!(
            "LINEAR_REGRESSION target={} features=[{}]",
            self.target,
            self.features.join(", ")
        )
    }

    /// Fit on checked feature and target columns.
    pub(crate) fn fit_features(&self, f: &Features, target: &Features) -> Result<LinearModel> {
        // Least squares copies the features into a design matrix anyway: work in f64.
        let (f, target) = (f.widened(), target.widened());
        let (f, target) = (f.f64_cols()?, target.f64_cols()?);
        let (n, d) = (f.n, f.d());
        self.check_shape(n)?;
        let means = f.means();
        f.check_finite(&means, "linear_regression")?;
        fn whole<'a>(c: &super::data::Cols<'a, f64>, j: usize) -> Result<&'a [f64]> {
            c.whole(j).ok_or_else(|| {
                Error::Internal("least squares over features in several segments".into())
            })
        }
        let y = whole(&target, 0)?;
        let y_mean = target.means()[0];
        target.check_finite(&[y_mean], "linear_regression")?;
        let xc = Array2::from_shape_vec((n, d), f.row_major_minus(&means).0)
            .map_err(|e| Error::Internal(format!("design matrix shape: {e}")))?;
        let yc: Vec<f64> = y.iter().map(|v| v - y_mean).collect();
        let coef = linalg::lstsq_qr(&xc, &yc, f.names)?;
        let intercept = y_mean - means.iter().zip(&coef).map(|(m, c)| m * c).sum::<f64>();
        let cols = (0..d).map(|j| whole(&f, j)).collect::<Result<Vec<_>>>()?;
        let (mut ss_res, mut ss_tot) = (0.0, 0.0);
        for (i, &yi) in y.iter().enumerate().take(n) {
            let pred = intercept + (0..d).map(|j| cols[j][i] * coef[j]).sum::<f64>();
            ss_res += (yi - pred).powi(2);
            ss_tot += (yi - y_mean).powi(2);
        }
        Ok(self.model(coef, intercept, ss_res, ss_tot, n))
    }
}

impl LinearRegression {
    /// Fit from the statistics of one streaming pass: the [`QrMoments`] of the columns
    /// `[features..., target]`. The coefficients solve `R_xx b = r_xy` by back substitution,
    /// and the R factor's last entry is the residual norm, so no second pass is needed for R²
    /// and MSE.
    pub(crate) fn fit_qr(&self, m: &QrMoments) -> Result<LinearModel> {
        let (n, d) = (m.n, self.features.len());
        self.check_shape(n)?;
        let p = d + 1;
        let r = |i: usize, j: usize| m.r[j * p + i];
        let diag: Vec<f64> = (0..d).map(|j| r(j, j)).collect();
        linalg::check_rank(&diag, n, &self.features)?;
        let mut coef = vec![0.0; d];
        for i in (0..d).rev() {
            let rest: f64 = (i + 1..d).map(|j| r(i, j) * coef[j]).sum();
            coef[i] = (r(i, d) - rest) / r(i, i);
        }
        let (means, y_mean) = (&m.mean[..d], m.mean[d]);
        let intercept = y_mean - means.iter().zip(&coef).map(|(m, c)| m * c).sum::<f64>();
        let ss_res = r(d, d) * r(d, d);
        let ss_tot: f64 = (0..p).map(|i| r(i, d) * r(i, d)).sum();
        Ok(self.model(coef, intercept, ss_res, ss_tot, n))
    }

    /// The error for no features or too few rows, if so.
    fn check_shape(&self, n: usize) -> Result<()> {
        let d = self.features.len();
        if d == 0 {
            return Err(Error::Model("linear_regression: no feature columns".into()));
        }
        if n < d + 1 {
            return Err(Error::Model(format!(
                "linear_regression: {n} rows cannot determine {d} coefficients and an intercept"
            )));
        }
        Ok(())
    }

    /// The fitted model from its coefficients and the residual and total sums of squares.
    fn model(
        &self,
        coef: Vec<f64>,
        intercept: f64,
        ss_res: f64,
        ss_tot: f64,
        n: usize,
    ) -> LinearModel {
        let r2 = if ss_tot > 0.0 {
            1.0 - ss_res / ss_tot
        } else if ss_res == 0.0 {
            1.0
        } else {
            0.0
        };
        LinearModel {
            target: self.target.clone(),
            features: self.features.clone(),
            coefficients: Array1::from(coef),
            intercept,
            r2,
            mse: ss_res / n as f64,
            n_samples: n,
        }
    }
}

/// A fitted linear model.
#[derive(Clone, Debug)]
pub struct LinearModel {
    /// The predicted column.
    pub target: String,
    /// Predictor columns, in the order of `coefficients`.
    pub features: Vec<String>,
    /// One coefficient per feature.
    pub coefficients: Array1<f64>,
    /// The constant term.
    pub intercept: f64,
    /// Coefficient of determination on the training rows.
    pub r2: f64,
    /// Mean squared error on the training rows.
    pub mse: f64,
    /// Training rows.
    pub n_samples: usize,
}

impl LinearModel {
    /// `intercept + sum_f coef_f * col(f)`, named `prediction`.
    pub fn prediction_expr(&self) -> Expr {
        let terms = self
            .features
            .iter()
            .zip(self.coefficients.iter())
            .map(|(name, c)| lit(*c) * col(name.as_str()));
        (lit(self.intercept) + sum_exprs(terms)).alias("prediction")
    }

    /// Score new data lazily: adds a Float64 `prediction` column.
    pub fn predict(&self, lf: LazyFrame) -> LazyFrame {
        lf.with_columns([self.prediction_expr()])
    }

    /// The coefficients as a table: `term` (`intercept`, then each feature) and `coefficient`.
    pub fn to_dataframe(&self) -> Result<DataFrame> {
        let mut terms = vec!["intercept".to_string()];
        terms.extend(self.features.iter().cloned());
        let mut values = vec![self.intercept];
        values.extend(self.coefficients.iter().copied());
        DataFrame::new(vec![
            Column::new("term", terms),
            Column::new("coefficient", values),
        ])
    }

    /// A human-readable summary (what the CLI prints).
    pub fn summary(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for LinearModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "LinearRegression: {} ~ {}; {} rows, R^2={}, MSE={}",
            self.target,
            self.features.join(" + "),
            self.n_samples,
            self.r2,
            self.mse
        )?;
        match self.to_dataframe() {
            Ok(df) => write!(f, "coefficients:\n{df}"),
            Err(e) => write!(f, "(coefficient table unavailable: {e})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_plane() {
        let x = Array2::from_shape_fn((10, 2), |(i, j)| {
            (i * (j + 1)) as f64 + (i % 3) as f64 * j as f64
        });
        let y = Array1::from_shape_fn(10, |i| 1.5 + 2.0 * x[[i, 0]] - 0.5 * x[[i, 1]]);
        let m = LinearRegression::fit_ndarray(&x, &y).expect("fit");
        assert!((m.coefficients[0] - 2.0).abs() < 1e-10);
        assert!((m.coefficients[1] + 0.5).abs() < 1e-10);
        assert!((m.intercept - 1.5).abs() < 1e-10);
        assert!((m.r2 - 1.0).abs() < 1e-12 && m.mse < 1e-20);
    }

    #[test]
    fn too_few_rows() {
        let x = ndarray::array![[1.0, 2.0], [2.0, 1.0]];
        let y = ndarray::array![1.0, 2.0];
        assert!(matches!(
            LinearRegression::fit_ndarray(&x, &y),
            Err(Error::Model(_))
        ));
    }
}
