//! The lazy side of the models: `LazyFrame::kmeans / pca / linear_regression` return builders
//! that are terminal plan nodes. They show in `explain` as a `KMEANS ...` / `PCA ...` /
//! `LINEAR_REGRESSION ...` line above the input plan. The input is only the model's columns (a
//! `select` of them, so projection pushdown reaches the scan and the preprocessing runs fused
//! straight into the model's input); `fit_with` lowers it and puts the model's fit above it as
//! the executor's `FIT` operator, so the input query and the fit run on the pool the caller's
//! `ExecOptions` choose.

use std::any::Any;
use std::sync::Arc;

use super::data::{check_features, numeric_columns, Features};
use super::stream::{LinearStream, PcaStream};
use super::{kmeans_stream, pca_stream};
use super::{
    KMeans, KMeansModel, LinearModel, LinearRegression, MiniBatchKMeans, Pca, PcaModel, PcaSolver,
};
use crate::error::{Error, Result};
use crate::expr::col;
use crate::frame::DataFrame;
use crate::memory::Reservation;
use crate::physical::{FitState, ModelFit, PhysicalNode, PhysicalPlan, RowChunks};
use crate::plan::{ExecOptions, LazyFrame};
use arrow::datatypes::Schema;

impl LazyFrame {
    /// k-means on this query's output (every numeric column unless `KMeans::features` names
    /// some); a terminal node: call `fit()`.
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let df = df!("a" => [1.0, 1.1, 9.0, 9.2], "s" => ["p", "q", "r", "s"])?;
    /// let km = df.lazy().kmeans(KMeans::new(2).seed(42));
    /// assert!(km.explain(false)?.starts_with("KMEANS k=2 features=[a] seed=42\n  SELECT"));
    /// assert_eq!(km.fit()?.centroids.nrows(), 2);
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn kmeans(self, config: KMeans) -> LazyKMeans {
        LazyKMeans {
            input: self,
            config,
        }
    }

    /// Mini-batch k-means on this query's output (every numeric column unless
    /// `MiniBatchKMeans::features` names some); a terminal node: call `fit()`.
    pub fn mini_batch_kmeans(self, config: MiniBatchKMeans) -> LazyMiniBatchKMeans {
        LazyMiniBatchKMeans {
            input: self,
            config,
        }
    }

    /// PCA on this query's output (every numeric column unless `Pca::features` names some); a
    /// terminal node: call `fit()`.
    pub fn pca(self, config: Pca) -> LazyPca {
        LazyPca {
            input: self,
            config,
        }
    }

    /// Least squares of `target` on `features` (with an intercept); a terminal node: call
    /// `fit()`.
    pub fn linear_regression<S: Into<String>>(
        self,
        target: impl Into<String>,
        features: impl IntoIterator<Item = S>,
    ) -> LazyLinearRegression {
        LazyLinearRegression {
            input: self,
            config: LinearRegression::new(target, features),
        }
    }
}

/// Resolve the feature list against the input's schema (without reading data).
fn resolve(input: &LazyFrame, given: Option<&Vec<String>>, model: &str) -> Result<Vec<String>> {
    let schema = input.schema()?;
    let names = match given {
        Some(f) => f.clone(),
        None => numeric_columns(&schema),
    };
    check_features(&schema, &names, model)?;
    Ok(names)
}

/// The input restricted to `columns`: what `fit()` collects.
fn model_input(input: &LazyFrame, columns: &[String]) -> LazyFrame {
    input
        .clone()
        .select(columns.iter().map(|c| col(c.as_str())))
}

/// The model's physical plan: its input query (only `columns`), optimized as `options` say and
/// lowered, under a `FIT` operator that runs `model` on the input's rows.
fn fit_plan(
    input: &LazyFrame,
    columns: &[String],
    model: Arc<dyn ModelFit>,
    options: &ExecOptions,
) -> Result<PhysicalPlan> {
    let plan = model_input(input, columns).optimized_with(options)?;
    Ok(PhysicalPlan {
        root: PhysicalNode::Fit {
            input: Box::new(crate::physical::lower(&plan)?.root),
            model,
        },
    })
}

/// Run a model's plan on the pool `options` choose and take the fitted model out.
fn run_fit<T: 'static>(plan: &PhysicalPlan, options: &ExecOptions) -> Result<T> {
    crate::exec::execute_fit(plan, options)?
        .downcast::<T>()
        .map(|m| *m)
        .map_err(|_| Error::Internal("a model fit returned another model's type".into()))
}

/// k-means as the executor's `FIT` operator.
#[derive(Debug)]
struct KMeansFit {
    config: KMeans,
    features: Vec<String>,
}

impl ModelFit for KMeansFit {
    fn text(&self) -> String {
        self.config.node_text(&self.features)
    }
    fn fit(
        &self,
        schema: &Schema,
        pieces: Vec<DataFrame>,
        budget: &Reservation,
    ) -> Result<Box<dyn Any + Send>> {
        let f = Features::from_pieces(schema, pieces, &self.features, "kmeans")?;
        Ok(Box::new(self.config.fit_features(&f, budget)?))
    }
    /// Narrow data is fitted on a centred row-major copy anyway: the executor can write the
    /// input into it directly.
    fn row_major_features(&self) -> Option<&[String]> {
        (self.features.len() < super::kmeans::WIDE).then_some(&self.features[..])
    }
    fn fit_row_major(&self, x: Vec<f64>, budget: &Reservation) -> Result<Box<dyn Any + Send>> {
        Ok(Box::new(self.config.fit_row_major(
            &self.features,
            x,
            budget,
        )?))
    }
    fn rescan_chunk_rows(&self) -> Option<usize> {
        Some(kmeans_stream::STREAM_CHUNK)
    }
    fn fit_rescanning(
        &self,
        rows: &dyn RowChunks,
        budget: &Reservation,
    ) -> Result<Option<Box<dyn Any + Send>>> {
        let m = kmeans_stream::fit_rescanning(&self.config, &self.features, rows, budget)?;
        Ok(Some(Box::new(m)))
    }
}

/// Mini-batch k-means as the executor's `FIT` operator.
#[derive(Debug)]
struct MiniBatchKMeansFit {
    config: MiniBatchKMeans,
    features: Vec<String>,
}

impl ModelFit for MiniBatchKMeansFit {
    fn text(&self) -> String {
        self.config.node_text(&self.features)
    }
    /// Mini-batches read rows at random: the features are joined into one segment each.
    fn fit(
        &self,
        schema: &Schema,
        pieces: Vec<DataFrame>,
        budget: &Reservation,
    ) -> Result<Box<dyn Any + Send>> {
        let f = Features::from_pieces(schema, pieces, &self.features, "mini_batch_kmeans")?
            .contiguous()?;
        Ok(Box::new(self.config.fit_features(&f, budget)?))
    }
}

/// PCA as the executor's `FIT` operator.
#[derive(Debug)]
struct PcaFit {
    config: Pca,
    features: Vec<String>,
}

impl ModelFit for PcaFit {
    fn text(&self) -> String {
        self.config.node_text(&self.features)
    }
    fn fit(
        &self,
        schema: &Schema,
        pieces: Vec<DataFrame>,
        budget: &Reservation,
    ) -> Result<Box<dyn Any + Send>> {
        let f = Features::from_pieces(schema, pieces, &self.features, "pca")?;
        Ok(Box::new(self.config.fit_features(&f, budget)?))
    }
    /// The covariance solver, and `auto` where it can pick it (at most 1000 features),
    /// streams.
    fn stream(&self) -> Option<Box<dyn FitState>> {
        let streams = match self.config.solver {
            PcaSolver::CovarianceEigh => true,
            PcaSolver::Auto => self.features.len() <= Pca::MAX_COVARIANCE_FEATURES,
            PcaSolver::Full | PcaSolver::Randomized => false,
        };
        streams
            .then(|| Box::new(PcaStream::new(self.config.clone(), self.features.clone())) as Box<_>)
    }
    /// `auto` picks another solver for fewer than 10 rows per feature.
    fn keep_rows(&self) -> usize {
        match self.config.solver {
            PcaSolver::Auto => 10 * self.features.len(),
            _ => 0,
        }
    }
    /// The randomized solver (and `auto` where it picks it) reads its input again per pass.
    fn rescan_chunk_rows(&self) -> Option<usize> {
        matches!(self.config.solver, PcaSolver::Auto | PcaSolver::Randomized)
            .then_some(pca_stream::STREAM_CHUNK)
    }
    fn fit_rescanning(
        &self,
        rows: &dyn RowChunks,
        budget: &Reservation,
    ) -> Result<Option<Box<dyn Any + Send>>> {
        let m = pca_stream::fit_rescanning(&self.config, &self.features, rows, budget)?;
        Ok(m.map(|m| Box::new(m) as Box<dyn Any + Send>))
    }
}

/// Least squares as the executor's `FIT` operator; `columns` are the target, then the
/// features.
#[derive(Debug)]
struct LinearFit {
    config: LinearRegression,
    columns: Vec<String>,
}

impl ModelFit for LinearFit {
    fn text(&self) -> String {
        self.config.node_text()
    }
    /// The residuals read rows by index: the columns are joined into one segment each.
    fn fit(
        &self,
        schema: &Schema,
        pieces: Vec<DataFrame>,
        _budget: &Reservation,
    ) -> Result<Box<dyn Any + Send>> {
        let model = "linear_regression";
        let target = Features::from_pieces(schema, pieces.clone(), &self.columns[..1], model)?;
        let features = Features::from_pieces(schema, pieces, &self.columns[1..], model)?;
        let (target, features) = (target.contiguous()?, features.contiguous()?);
        Ok(Box::new(self.config.fit_features(&features, &target)?))
    }
    fn stream(&self) -> Option<Box<dyn FitState>> {
        Some(Box::new(LinearStream::new(self.config.clone())))
    }
}

/// `line` above `plan`, indented one level.
fn with_header(line: String, plan: &str) -> String {
    let mut out = line;
    for l in plan.lines() {
        out.push_str("\n  ");
        out.push_str(l);
    }
    out
}

/// The lazy k-means node; see [`LazyFrame::kmeans`].
#[derive(Clone, Debug)]
pub struct LazyKMeans {
    input: LazyFrame,
    config: KMeans,
}

impl LazyKMeans {
    /// The feature columns the model will use.
    pub fn features(&self) -> Result<Vec<String>> {
        resolve(&self.input, self.config.features.as_ref(), "kmeans")
    }

    /// The plan: `KMEANS k=3 features=[a, b] seed=42` above the (optimized or built) input plan.
    pub fn explain(&self, optimized: bool) -> Result<String> {
        let f = self.features()?;
        let plan = model_input(&self.input, &f).explain(optimized)?;
        Ok(with_header(self.config.node_text(&f), &plan))
    }

    /// The physical plan: the input's pipelines under `FIT KMEANS ...`.
    pub fn explain_physical(&self) -> Result<String> {
        Ok(self.plan(&ExecOptions::default())?.display_indent())
    }

    fn plan(&self, options: &ExecOptions) -> Result<PhysicalPlan> {
        let features = self.features()?;
        let model = Arc::new(KMeansFit {
            config: self.config.clone(),
            features: features.clone(),
        });
        fit_plan(&self.input, &features, model, options)
    }

    /// Run the input query (only the feature columns) and fit, with default options.
    pub fn fit(self) -> Result<KMeansModel> {
        self.fit_with(&ExecOptions::default())
    }

    /// Run the input query and fit, both on the pool `options` choose.
    pub fn fit_with(self, options: &ExecOptions) -> Result<KMeansModel> {
        run_fit(&self.plan(options)?, options)
    }
}

/// The lazy mini-batch k-means node; see [`LazyFrame::mini_batch_kmeans`].
#[derive(Clone, Debug)]
pub struct LazyMiniBatchKMeans {
    input: LazyFrame,
    config: MiniBatchKMeans,
}

impl LazyMiniBatchKMeans {
    /// The feature columns the model will use.
    pub fn features(&self) -> Result<Vec<String>> {
        resolve(
            &self.input,
            self.config.features.as_ref(),
            "mini_batch_kmeans",
        )
    }

    /// The plan: `MINI_BATCH_KMEANS k=8 features=[a, b] batch_size=1024 seed=0` above the
    /// input plan.
    pub fn explain(&self, optimized: bool) -> Result<String> {
        let f = self.features()?;
        let plan = model_input(&self.input, &f).explain(optimized)?;
        Ok(with_header(self.config.node_text(&f), &plan))
    }

    /// The physical plan: the input's pipelines under `FIT MINI_BATCH_KMEANS ...`.
    pub fn explain_physical(&self) -> Result<String> {
        Ok(self.plan(&ExecOptions::default())?.display_indent())
    }

    fn plan(&self, options: &ExecOptions) -> Result<PhysicalPlan> {
        let features = self.features()?;
        let model = Arc::new(MiniBatchKMeansFit {
            config: self.config.clone(),
            features: features.clone(),
        });
        fit_plan(&self.input, &features, model, options)
    }

    /// Run the input query (only the feature columns) and fit, with default options.
    pub fn fit(self) -> Result<KMeansModel> {
        self.fit_with(&ExecOptions::default())
    }

    /// Run the input query and fit, both on the pool `options` choose.
    pub fn fit_with(self, options: &ExecOptions) -> Result<KMeansModel> {
        run_fit(&self.plan(options)?, options)
    }
}

/// The lazy PCA node; see [`LazyFrame::pca`].
#[derive(Clone, Debug)]
pub struct LazyPca {
    input: LazyFrame,
    config: Pca,
}

impl LazyPca {
    /// The feature columns the model will use.
    pub fn features(&self) -> Result<Vec<String>> {
        resolve(&self.input, self.config.features.as_ref(), "pca")
    }

    /// The plan: `PCA n_components=2 features=[a, b]` above the input plan.
    pub fn explain(&self, optimized: bool) -> Result<String> {
        let f = self.features()?;
        let plan = model_input(&self.input, &f).explain(optimized)?;
        Ok(with_header(self.config.node_text(&f), &plan))
    }

    /// The physical plan: the input's pipelines under `FIT PCA ...`.
    pub fn explain_physical(&self) -> Result<String> {
        Ok(self.plan(&ExecOptions::default())?.display_indent())
    }

    fn plan(&self, options: &ExecOptions) -> Result<PhysicalPlan> {
        let features = self.features()?;
        let model = Arc::new(PcaFit {
            config: self.config.clone(),
            features: features.clone(),
        });
        fit_plan(&self.input, &features, model, options)
    }

    /// Run the input query (only the feature columns) and fit, with default options.
    pub fn fit(self) -> Result<PcaModel> {
        self.fit_with(&ExecOptions::default())
    }

    /// Run the input query and fit, both on the pool `options` choose.
    pub fn fit_with(self, options: &ExecOptions) -> Result<PcaModel> {
        run_fit(&self.plan(options)?, options)
    }
}

/// The lazy least-squares node; see [`LazyFrame::linear_regression`].
#[derive(Clone, Debug)]
pub struct LazyLinearRegression {
    input: LazyFrame,
    config: LinearRegression,
}

impl LazyLinearRegression {
    fn columns(&self) -> Result<Vec<String>> {
        let mut all = vec![self.config.target.clone()];
        all.extend(self.config.features.iter().cloned());
        check_features(self.input.schema()?.as_ref(), &all, "linear_regression")?;
        Ok(all)
    }

    /// The plan: `LINEAR_REGRESSION target=y features=[a, b]` above the input plan.
    pub fn explain(&self, optimized: bool) -> Result<String> {
        let cols = self.columns()?;
        let plan = model_input(&self.input, &cols).explain(optimized)?;
        Ok(with_header(self.config.node_text(), &plan))
    }

    /// The physical plan: the input's pipelines under `FIT LINEAR_REGRESSION ...`.
    pub fn explain_physical(&self) -> Result<String> {
        Ok(self.plan(&ExecOptions::default())?.display_indent())
    }

    fn plan(&self, options: &ExecOptions) -> Result<PhysicalPlan> {
        let columns = self.columns()?;
        let model = Arc::new(LinearFit {
            config: self.config.clone(),
            columns: columns.clone(),
        });
        fit_plan(&self.input, &columns, model, options)
    }

    /// Run the input query (only the target and feature columns) and fit, with default
    /// options.
    pub fn fit(self) -> Result<LinearModel> {
        self.fit_with(&ExecOptions::default())
    }

    /// Run the input query and fit, both on the pool `options` choose.
    pub fn fit_with(self, options: &ExecOptions) -> Result<LinearModel> {
        run_fit(&self.plan(options)?, options)
    }
}

#[cfg(test)]
mod tests {
    use crate::expr::col;
    use crate::frame::DataFrame;
    use crate::ml::{KMeans, Pca};
    use crate::plan::ExecOptions;

    #[test]
    fn fits_are_physical_operators_over_the_input_pipeline() {
        let df = DataFrame::new(vec![
            crate::frame::Column::new("a", vec![1.0, 1.1, 9.0, 9.2]),
            crate::frame::Column::new("b", vec![0.5, 0.4, 3.0, 3.1]),
        ])
        .expect("frame");
        let km = df
            .clone()
            .lazy()
            .filter(col("a").gt(0.0))
            .kmeans(KMeans::new(2).seed(42));
        insta::assert_snapshot!(km.explain_physical().expect("plan"), @r#"
        FIT KMEANS k=2 features=[a, b] seed=42
          PIPELINE
            FILTER col("a").gt(0.0)
            DATAFRAME rows=4 width=2
        "#);
        let pca = df.lazy().pca(Pca::new(1));
        let one = pca
            .clone()
            .fit_with(&ExecOptions::new().threads(1))
            .expect("1");
        let three = pca.fit_with(&ExecOptions::new().threads(3)).expect("3");
        assert_eq!(one.components, three.components);
    }
}
