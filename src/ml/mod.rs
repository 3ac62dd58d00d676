//! Machine-learning terminal nodes: k-means ([`KMeans`]), PCA ([`Pca`]) and least squares
//! ([`LinearRegression`]), with scikit-learn's semantics.
//!
//! A model ends a lazy query (`lf.kmeans(KMeans::new(3)).fit()`): the query's preprocessing
//! runs fused and hands only the model's columns to the fit. Fitted models score new data
//! lazily (`predict` / `transform` add columns built from plain expressions), expose their
//! matrices as `ndarray` arrays, print a summary and export a table (`to_dataframe`).
//! Everything runs on the current rayon pool in fixed row chunks merged in order, so a seeded
//! fit gives the same result for any thread count. Linear algebra is pure-Rust `faer`, or
//! LAPACK through `ndarray-linalg` with the `lapack` feature.

mod data;
mod kernels;
mod kmeans;
mod lazy;
mod linalg;
mod linear;
mod pca;

pub use kmeans::{KMeans, KMeansModel};
pub use lazy::{LazyKMeans, LazyLinearRegression, LazyPca};
pub use linear::{LinearModel, LinearRegression};
pub use pca::{NComponents, Pca, PcaModel, PcaSolver};

/// The model types the crate prelude re-exports.
pub mod prelude {
    pub use super::{
        KMeans, KMeansModel, LinearModel, LinearRegression, NComponents, Pca, PcaModel, PcaSolver,
    };
}
