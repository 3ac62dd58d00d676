//! Compute kernels over Arrow arrays: arithmetic, comparison, elementwise functions,
//! aggregates and sorting. Each takes `Value`s (arrays or broadcast scalars) and returns one.

pub mod agg;
pub mod argsort;
pub mod arith;
pub mod cmp;
pub mod func;
pub mod gather;
pub mod random;
pub mod sort;
pub mod stats;
// Issue 4 part A: missing values, scaling, windows
pub mod describe;
pub mod fill;
pub mod horizontal;
pub mod rolling;
mod rolling_order;
pub mod scale;
pub mod seed_a;
