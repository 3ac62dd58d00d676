//! Query scripts (`queries/*.fq`): Rust expression syntax interpreted into `LazyFrame`s.
