//! What a script evaluates to: a lazy query, a collected frame, or a model (a terminal node
//! still to fit, like `lf.kmeans(KMeans::new(3))`, or an already fitted one). The CLI explains
//! or runs each kind; for a model it fits, prints the summary and writes the model's table.

use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::ml::{
    KMeansModel, LazyKMeans, LazyLinearRegression, LazyMiniBatchKMeans, LazyPca, LinearModel,
    PcaModel,
};
use crate::plan::{ExecOptions, LazyFrame};

use super::value::Value;

/// A script's result.
#[derive(Clone, Debug)]
pub enum Output {
    /// A lazy query (the usual case): the CLI explains or collects it.
    Lazy(LazyFrame),
    /// A frame the script already collected (`.collect()?`).
    Frame(DataFrame),
    /// A model: the CLI fits it (when lazy) and prints its summary. Boxed: models are large
    /// next to the other variants.
    Model(Box<Model>),
    /// Nothing left to do: the script ended with a sink call (`...sink_parquet("out.parquet")?`)
    /// that wrote its result.
    Done,
    /// A picture: the CLI draws it into `--output fig.svg` or `fig.png`; as a frame it is the
    /// plotted columns.
    #[cfg(feature = "plot")]
    Plot(Box<crate::plot::Plot>),
}

#[cfg(feature = "plot")]
impl From<crate::plot::Plot> for Output {
    fn from(p: crate::plot::Plot) -> Self {
        Output::Plot(Box::new(p))
    }
}

/// A model a script ends with. Adding a model type is a variant here, a `From` line in
/// `model_outputs!` and an arm in [`Model::explain`] / [`Model::fit`].
#[derive(Clone, Debug)]
pub enum Model {
    /// A k-means fit still to run (`.kmeans(..)`).
    KMeans(LazyKMeans),
    /// A mini-batch k-means fit still to run.
    MiniBatchKMeans(LazyMiniBatchKMeans),
    /// A PCA fit still to run (`.pca(..)`).
    Pca(LazyPca),
    /// A least-squares fit still to run (`.linear_regression(..)`).
    LinearRegression(LazyLinearRegression),
    /// A fitted k-means model.
    FittedKMeans(KMeansModel),
    /// A fitted PCA model.
    FittedPca(PcaModel),
    /// A fitted linear model.
    FittedLinear(LinearModel),
}

/// A fitted model as the CLI shows it.
pub struct Fitted {
    /// Human-readable summary (parameters, statistics, the table).
    pub summary: String,
    /// The model's table (centroids, components, coefficients): what `--output` writes.
    pub table: DataFrame,
}

impl Model {
    /// The plan of a model still to fit (its node above the input plan).
    pub fn explain(&self, optimized: bool) -> Result<String> {
        match self {
            Model::KMeans(m) => m.explain(optimized),
            Model::MiniBatchKMeans(m) => m.explain(optimized),
            Model::Pca(m) => m.explain(optimized),
            Model::LinearRegression(m) => m.explain(optimized),
            Model::FittedKMeans(_) | Model::FittedPca(_) | Model::FittedLinear(_) => {
                Err(Error::Plan(
                    "the script's result is a fitted model, which has no plan; end the script \
                     before `.fit()?` to see the plan"
                        .into(),
                ))
            }
        }
    }

    /// The physical plan of a model still to fit (`FIT ...` above its input's pipelines).
    pub fn explain_physical(&self) -> Result<String> {
        match self {
            Model::KMeans(m) => m.explain_physical(),
            Model::MiniBatchKMeans(m) => m.explain_physical(),
            Model::Pca(m) => m.explain_physical(),
            Model::LinearRegression(m) => m.explain_physical(),
            Model::FittedKMeans(_) | Model::FittedPca(_) | Model::FittedLinear(_) => {
                self.explain(true)
            }
        }
    }

    /// Fit (unless fitted already) with default options, and describe.
    pub fn fit(self) -> Result<Fitted> {
        self.fit_with(&ExecOptions::default())
    }

    /// Fit (unless fitted already) on the pool `options` choose, and describe.
    pub fn fit_with(self, options: &ExecOptions) -> Result<Fitted> {
        fn fitted(summary: String, table: Result<DataFrame>) -> Result<Fitted> {
            Ok(Fitted {
                summary,
                table: table?,
            })
        }
        match self {
            Model::KMeans(m) => Model::FittedKMeans(m.fit_with(options)?).fit(),
            Model::MiniBatchKMeans(m) => Model::FittedKMeans(m.fit_with(options)?).fit(),
            Model::Pca(m) => Model::FittedPca(m.fit_with(options)?).fit(),
            Model::LinearRegression(m) => Model::FittedLinear(m.fit_with(options)?).fit(),
            Model::FittedKMeans(m) => fitted(m.summary(), m.to_dataframe()),
            Model::FittedPca(m) => fitted(m.summary(), m.to_dataframe()),
            Model::FittedLinear(m) => fitted(m.summary(), m.to_dataframe()),
        }
    }
}

impl From<LazyFrame> for Output {
    fn from(lf: LazyFrame) -> Self {
        Output::Lazy(lf)
    }
}

impl From<DataFrame> for Output {
    fn from(df: DataFrame) -> Self {
        Output::Frame(df)
    }
}

impl From<()> for Output {
    fn from(_: ()) -> Self {
        Output::Done
    }
}

macro_rules! model_outputs {
    ($($t:ty => $variant:ident),* $(,)?) => {
        $(impl From<$t> for Output {
            fn from(m: $t) -> Self {
                Output::Model(Box::new(Model::$variant(m)))
            }
        })*

        /// The script value as an output, or the value back if it is none of them.
        fn model_from_value(v: Value) -> std::result::Result<Output, Value> {
            $(let v = match v.into_object::<$t>() {
                Ok(m) => return Ok(Output::from(m)),
                Err(v) => v,
            };)*
            Err(v)
        }
    };
}

model_outputs!(
    LazyKMeans => KMeans,
    LazyMiniBatchKMeans => MiniBatchKMeans,
    LazyPca => Pca,
    LazyLinearRegression => LinearRegression,
    KMeansModel => FittedKMeans,
    PcaModel => FittedPca,
    LinearModel => FittedLinear,
);

impl Output {
    /// The script's final value as an output; the value back if it cannot be one.
    pub(crate) fn from_value(v: Value) -> std::result::Result<Output, Value> {
        if matches!(v, Value::Unit) {
            return Ok(Output::Done);
        }
        let v = match v.into_object::<LazyFrame>() {
            Ok(lf) => return Ok(Output::Lazy(lf)),
            Err(v) => v,
        };
        let v = match v.into_object::<DataFrame>() {
            Ok(df) => return Ok(Output::Frame(df)),
            Err(v) => v,
        };
        #[cfg(feature = "plot")]
        let v = match v.into_object::<crate::plot::Plot>() {
            Ok(p) => return Ok(Output::from(p)),
            Err(v) => v,
        };
        model_from_value(v)
    }

    /// The query as a lazy frame (a collected frame becomes an in-memory scan, a plot the
    /// query of its columns); an error for a model, which is not a frame.
    pub fn into_lazy(self) -> Result<LazyFrame> {
        match self {
            Output::Lazy(lf) => Ok(lf),
            Output::Frame(df) => Ok(df.lazy()),
            #[cfg(feature = "plot")]
            Output::Plot(p) => Ok(p.query()),
            Output::Model(_) => Err(Error::Plan(
                "the script's result is a model, not a frame".into(),
            )),
            Output::Done => Err(done()),
        }
    }

    /// Plan text: optimized (`true`) or as built (`false`).
    pub fn explain(&self, optimized: bool) -> Result<String> {
        match self {
            Output::Model(m) => m.explain(optimized),
            other => other.clone().into_lazy()?.explain(optimized),
        }
    }

    /// The physical plan the executor runs.
    pub fn explain_physical(&self) -> Result<String> {
        match self {
            Output::Model(m) => m.explain_physical(),
            other => other.clone().into_lazy()?.explain_physical(),
        }
    }

    /// Every optimizer step (for a model: its optimized plan).
    pub fn explain_verbose(&self) -> Result<String> {
        match self {
            Output::Model(m) => m.explain(true),
            other => other.clone().into_lazy()?.explain_verbose(),
        }
    }

    /// The result as a frame (for a model: fitted, its table; for a plot: its columns).
    pub fn collect_with(self, options: &ExecOptions) -> Result<DataFrame> {
        match self {
            Output::Lazy(lf) => lf.collect_with(options),
            #[cfg(feature = "plot")]
            Output::Plot(p) => p.query().collect_with(options),
            Output::Frame(df) => Ok(df),
            Output::Model(m) => Ok(m.fit_with(options)?.table),
            Output::Done => Err(done()),
        }
    }
}

/// What asking a [`Output::Done`] for a table or a plan gives.
fn done() -> Error {
    Error::Plan(
        "the script ends with a sink call, which wrote its result; there is no table left \
         (end the script with the query itself to print it or write it with --output)"
            .into(),
    )
}
