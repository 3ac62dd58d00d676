//! Lowering of the ordering functions that stream instead of holding their input.
//!
//! Every ordering function needs the whole column, so in general a `select` of one is an
//! `EVALUATE` over the materialized input. Some forms need no more than a bounded selection or
//! an external sort, and become operators that stream their input:
//!
//! - a `select` of `top_k(k)`/`bottom_k(k)` calls (one `k`) of elementwise inputs: `TOP_K`,
//!   holding `k` rows per column (`exec::sort::top_k`);
//! - a `select` of one `arg_sort` of an elementwise key: `ARG_SORT`, an external sort of
//!   (row number, key) pairs (`exec::sort::arg_sort`);
//! - a `select` of one `sort` of an elementwise key: the key alone through `SORT`;
//! - `gather(key.arg_sort(options))` of an elementwise key: `SORT` by the key, which gives
//!   the same rows in the same order (both sorts are stable and order keys alike).
//!
//! An input that reads no column (`lit(1).top_k(3)`) keeps the general path: the kernels take
//! a scalar input as a one-row column, which a streamed operator would broadcast instead.

use arrow::datatypes::SchemaRef;

use super::lower::extend;
use super::{OrderingOp, PhysicalNode, StreamOp, TopColumn};
use crate::expr::{col, Expr, Function, OrderingFunction, SortOptions};

/// A `select` that streams (see the module docs), ready to be lowered over its input.
pub(super) enum Streamed {
    Op(OrderingOp),
    /// One column: `key` sorted, named `name`.
    Sort {
        key: Expr,
        options: SortOptions,
        name: String,
    },
}

/// The ordering function `e` calls (under an alias) and its input, when that input streams.
fn ordering_call(e: &Expr) -> Option<(&OrderingFunction, &Expr)> {
    match e {
        Expr::Alias(inner, _) => ordering_call(inner),
        Expr::Function {
            func: Function::Ordering(f),
            args,
        } => match args.as_slice() {
            [input] if input.is_elementwise() && !input.columns_used().is_empty() => {
                Some((f, input))
            }
            _ => None,
        },
        _ => None,
    }
}

/// How the `select` of `exprs` streams, if it does.
pub(super) fn streamed_select(exprs: &[Expr]) -> Option<Streamed> {
    if let [e] = exprs {
        match ordering_call(e)? {
            (OrderingFunction::ArgSort(o), key) => {
                return Some(Streamed::Op(OrderingOp::ArgSort {
                    key: key.clone(),
                    options: o.clone(),
                }))
            }
            (OrderingFunction::Sort(o), key) => {
                return Some(Streamed::Sort {
                    key: key.clone(),
                    options: o.clone(),
                    name: e.output_name(),
                })
            }
            _ => {}
        }
    }
    let mut k_all = None;
    let columns = exprs
        .iter()
        .map(|e| {
            let (k, largest) = match ordering_call(e)? {
                (OrderingFunction::TopK(k), _) => (*k, true),
                (OrderingFunction::BottomK(k), _) => (*k, false),
                _ => return None,
            };
            // Columns of different lengths cannot make one frame: left to the general path.
            if *k_all.get_or_insert(k) != k {
                return None;
            }
            let (_, input) = ordering_call(e)?;
            Some(TopColumn {
                input: input.clone(),
                largest,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Streamed::Op(OrderingOp::TopK { k: k_all?, columns }))
}

/// The streamed `select` over `input`, with output schema `out`.
pub(super) fn lower_select(s: Streamed, input: PhysicalNode, out: SchemaRef) -> PhysicalNode {
    match s {
        Streamed::Op(op) => PhysicalNode::Ordering {
            input: Box::new(input),
            op,
            schema: out,
        },
        Streamed::Sort { key, options, name } => {
            let key = if key.output_name() == name {
                key
            } else {
                key.alias(&name)
            };
            PhysicalNode::Sort {
                input: Box::new(extend(input, StreamOp::Select(vec![key]), out)),
                by: vec![col(name)],
                options: vec![options],
            }
        }
    }
}

/// The sort a `gather(indices)` is, when `indices` is an `arg_sort` of an elementwise key.
pub(super) fn sort_of_gather(indices: &Expr) -> Option<(Expr, SortOptions)> {
    match ordering_call(indices)? {
        (OrderingFunction::ArgSort(o), key) => Some((key.clone(), o.clone())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::expr::{col, lit, SortOptions};
    use crate::optimizer::test_util::frame;

    #[test]
    fn streamed_ordering_operators_in_plan_text() {
        let lf = frame()
            .lazy()
            .select([col("a").top_k(2).alias("top"), (col("b") * 2.0).bottom_k(2)]);
        insta::assert_snapshot!(lf.explain_physical().expect("lower"), @r#"
            TOP_K k=2 [top = col("a") largest, b = (col("b") * 2.0) smallest]
              PIPELINE
                DATAFRAME rows=4 width=2
            "#);
        let out = lf.collect().expect("run");
        let top = out.column_f64("top").expect("top");
        assert!(
            top[0].is_some_and(f64::is_nan) && top[1] == Some(1.0),
            "{top:?}"
        );
        let lf = frame().lazy().select([col("b")
            .arg_sort(SortOptions::new().descending(true))
            .alias("o")]);
        insta::assert_snapshot!(lf.explain_physical().expect("lower"), @r#"
            ARG_SORT o = col("b") SortOptions::new().descending(true)
              PIPELINE
                DATAFRAME rows=4 width=1
            "#);
        let out = lf.collect().expect("run");
        assert_eq!(
            out.column_f64("o").expect("o"),
            vec![Some(2.0), Some(1.0), Some(0.0), Some(3.0)]
        );
        let lf = frame()
            .lazy()
            .select([col("c").sort(SortOptions::new().descending(true))]);
        insta::assert_snapshot!(lf.explain_physical().expect("lower"), @r#"
            SORT by=[col("c") desc]
              PIPELINE
                SELECT [col("c")]
                DATAFRAME rows=4 width=1
            "#);
        let out = lf.collect().expect("run");
        assert_eq!(
            out.column_f64("c").expect("c"),
            vec![Some(4.0), Some(3.0), Some(2.0), Some(1.0)]
        );
        let lf = frame().lazy().gather(col("b").arg_sort(SortOptions::new()));
        insta::assert_snapshot!(lf.explain_physical().expect("lower"), @r#"
            SORT by=[col("b")]
              PIPELINE
                DATAFRAME rows=4 width=4
            "#);
        let out = lf.collect().expect("run");
        assert_eq!(
            out.column_f64("c").expect("c"),
            vec![Some(1.0), Some(2.0), Some(3.0), Some(4.0)]
        );
    }

    #[test]
    fn other_forms_keep_the_whole_column_path() {
        // Different lengths, an ordering inside arithmetic.
        for lf in [
            frame()
                .lazy()
                .select([col("a").top_k(1), col("b").top_k(2)]),
            frame()
                .lazy()
                .select([col("a").arg_sort(SortOptions::new()) + lit(1)]),
        ] {
            let text = lf.explain_physical().expect("lower");
            assert!(text.starts_with("EVALUATE SELECT"), "{text}");
        }
    }
}
