//! Machine-learning terminal nodes: k-means ([`KMeans`], [`MiniBatchKMeans`]), PCA ([`Pca`])
//! and least squares ([`LinearRegression`]), with scikit-learn's semantics; and NumPy's
//! `svd`, `solve` and `lstsq` on matrices and frames ([`svd`], [`solve`], [`lstsq`]).
//!
//! A model ends a lazy query (`lf.kmeans(KMeans::new(3)).fit()`): the query's preprocessing
//! runs fused and hands only the model's columns to the fit. Fitted models score new data
//! lazily (`predict` / `transform` add columns built from plain expressions), expose their
//! matrices as `ndarray` arrays, print a summary and export a table (`to_dataframe`).
//! Everything runs on the current rayon pool in fixed row chunks merged in order, so a seeded
//! fit gives the same result for any thread count. Float32 features are fitted in place, not
//! widened to a copy in `f64`. Linear algebra is pure-Rust `faer`, or LAPACK through
//! `ndarray-linalg` with the `lapack` feature.

mod chunks;
mod data;
mod decompose;
mod kernels;
mod kmeans;
mod kmeans_rows;
mod kmeans_stream;
mod kmeans_wide;
mod lazy;
mod linalg;
mod linear;
mod lloyd;
mod minibatch;
mod moments;
mod numpy_random;
mod pca;
mod pca_model;
mod pca_stream;
mod products;
mod randomized;
mod segments;
mod stream;

pub use decompose::{lstsq, solve, svd, Lstsq, Rhs, Svd};
pub use kmeans::{KMeans, KMeansModel};
pub use lazy::{LazyKMeans, LazyLinearRegression, LazyMiniBatchKMeans, LazyPca};
pub use linear::{LinearModel, LinearRegression};
pub use minibatch::MiniBatchKMeans;
pub use pca::{NComponents, Pca, PcaModel, PcaSolver, PowerIterationNormalizer};

/// The model types the crate prelude re-exports.
pub mod prelude {
    pub use super::{
        lstsq, solve, svd, KMeans, KMeansModel, LinearModel, LinearRegression, Lstsq,
        MiniBatchKMeans, NComponents, Pca, PcaModel, PcaSolver, PowerIterationNormalizer, Svd,
    };
}
