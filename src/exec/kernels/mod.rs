//! Compute kernels over Arrow arrays: arithmetic, comparison, elementwise functions,
//! aggregates and sorting. Each takes `Value`s (arrays or broadcast scalars) and returns one.

pub mod agg;
pub mod arith;
pub mod cmp;
pub mod func;
pub mod sort;
pub mod stats;
