//! The lazy side of the models: `LazyFrame::kmeans / pca / linear_regression` return builders
//! that are terminal plan nodes. They show in `explain` as a `KMEANS ...` / `PCA ...` /
//! `LINEAR_REGRESSION ...` line above the input plan, and `fit()` collects only the model's
//! columns (a `select` of them, so projection pushdown reaches the scan and the preprocessing
//! runs fused straight into the model's input).

use super::data::{check_features, numeric_columns, Features};
use super::{KMeans, KMeansModel, LinearModel, LinearRegression, MiniBatchKMeans, Pca, PcaModel};
use crate::error::Result;
use crate::expr::{col, Expr};
use crate::frame::DataFrame;
use crate::plan::{LazyFrame, LogicalPlan};

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

/// Run the model's input query. A `select` of bare columns straight over an in-memory frame is
/// answered with the frame's own (zero-copy) columns: the executor would otherwise cut the
/// frame into morsels and concatenate them again, a full copy of the model's input.
fn collect_input(input: &LazyFrame, columns: &[String]) -> Result<DataFrame> {
    let lf = model_input(input, columns);
    let plan = crate::optimizer::optimize(lf.logical_plan())?;
    if let LogicalPlan::Select { input, exprs } = plan.as_ref() {
        if let LogicalPlan::InMemory { df, .. } = input.as_ref() {
            let bare: Option<Vec<&str>> = exprs
                .iter()
                .map(|e| match e {
                    Expr::Column(c) => Some(c.as_str()),
                    _ => None,
                })
                .collect();
            if let Some(names) = bare {
                let schema = plan.schema()?;
                let cols = names
                    .iter()
                    .map(|n| df.column(n).cloned())
                    .collect::<Result<Vec<_>>>()?;
                return DataFrame::from_arrays(schema, cols);
            }
        }
    }
    plan.schema()?;
    crate::exec::run(&plan)
}

/// Run `f` on the current rayon pool when called from one (the CLI's `--threads` pool, or a
/// caller's `install`), else on fusedframe's default pool: the input query and the model's
/// parallel passes then share one pool and one thread count.
fn on_pool<T: Send>(f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    if rayon::current_thread_index().is_some() {
        f()
    } else {
        crate::exec::pool::thread_pool(None)?.install(f)
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

    /// Run the input query (only the feature columns) and fit on the current rayon pool
    /// (fusedframe's default pool when called from outside one).
    pub fn fit(self) -> Result<KMeansModel> {
        on_pool(|| {
            let f = self.features()?;
            let df = collect_input(&self.input, &f)?;
            self.config
                .fit_features(&Features::from_frame(&df, &f, "kmeans")?)
        })
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

    /// Run the input query (only the feature columns) and fit on the current rayon pool.
    pub fn fit(self) -> Result<KMeansModel> {
        on_pool(|| {
            let f = self.features()?;
            let df = collect_input(&self.input, &f)?;
            self.config
                .fit_features(&Features::from_frame(&df, &f, "mini_batch_kmeans")?)
        })
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

    /// Run the input query (only the feature columns) and fit on the current rayon pool
    /// (fusedframe's default pool when called from outside one).
    pub fn fit(self) -> Result<PcaModel> {
        on_pool(|| {
            let f = self.features()?;
            let df = collect_input(&self.input, &f)?;
            self.config
                .fit_features(&Features::from_frame(&df, &f, "pca")?)
        })
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

    /// Run the input query (only the target and feature columns) and fit on the current rayon
    /// pool (fusedframe's default pool when called from outside one).
    pub fn fit(self) -> Result<LinearModel> {
        on_pool(|| {
            let cols = self.columns()?;
            let df = collect_input(&self.input, &cols)?;
            let target = Features::from_frame(&df, &cols[..1], "linear_regression")?;
            let features = Features::from_frame(&df, &cols[1..], "linear_regression")?;
            self.config.fit_features(&features, &target)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::on_pool;

    #[test]
    fn fits_run_on_the_callers_pool_or_on_fusedframes() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .expect("pool");
        let inside = pool.install(|| on_pool(|| Ok(rayon::current_num_threads())));
        assert_eq!(inside.expect("inside"), 3);
        // From a plain thread: a worker of fusedframe's default pool, not the caller's thread.
        let outside = std::thread::spawn(|| on_pool(|| Ok(rayon::current_thread_index())))
            .join()
            .expect("thread")
            .expect("outside");
        assert!(outside.is_some());
    }
}
