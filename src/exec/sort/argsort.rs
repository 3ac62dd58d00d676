//! The ARG_SORT operator: `arg_sort` of an elementwise key as an external sort of (row number,
//! key) pairs, so it runs within the memory budget whatever the input's length.
//!
//! The input streams in waves of morsels, as a sort's does. Each piece's key is evaluated in
//! parallel and goes, in row order, through the SORT operator's sorter, which numbers the
//! rows (counted over the pipeline's output, so they are the rows of the materialized input):
//! buffered while they fit, and then the sorted order is the row numbers with nothing else to
//! make; else sorted into runs of (row number, key) pairs that spill to Arrow IPC and are
//! merged, the key riding along for the merge. The sorter is stable
//! and orders keys as the in-memory kernel does (NaN after numbers, `-0.0 == 0.0`, nulls where
//! the options say), so the row numbers come out exactly as the in-memory `arg_sort` gives
//! them, for any thread count and any budget. The output is the row numbers (UInt64) alone,
//! in pieces made in order as the pipeline above asks for them.

use std::sync::Arc;

use arrow::array::ArrayRef;
use arrow::datatypes::{Field, Schema, SchemaRef};

use super::{stream, stream_input, Buffered, Sorter};
use crate::error::{Error, Result};
use crate::exec::eval::evaluate;
use crate::exec::pipeline::{Opened, Running};
use crate::exec::Context;
use crate::expr::{col, Expr, SortOptions};
use crate::frame::DataFrame;
use crate::physical::PhysicalNode;

/// The key's column beside the row numbers: a NUL cannot come from a file header or a script.
const KEY: &str = "\0arg_sort_key";

/// The row numbers (one column, `out`) that sort `input` by `key` under `options`.
pub(crate) fn open(
    input: &PhysicalNode,
    key: &Expr,
    options: &SortOptions,
    out: SchemaRef,
    ctx: &mut Context,
) -> Result<Opened> {
    let key_type = key.data_type(&input.schema())?;
    let numbers = out
        .fields()
        .first()
        .ok_or_else(|| Error::Internal("ARG_SORT without an output column".into()))?
        .clone();
    let pairs: SchemaRef = Arc::new(Schema::new(vec![
        numbers,
        Arc::new(Field::new(KEY, key_type.clone(), true)),
    ]));
    let (source, ops) = stream_input(input, ctx)?;
    let running = Running::new(source, ops, ctx);
    let by = [col(KEY)];
    let sorter = Sorter::new(
        &by,
        std::slice::from_ref(options),
        pairs.clone(),
        out,
        ctx,
        ctx.reserve("ARG_SORT"),
    )
    .of_row_numbers();
    let key_only: SchemaRef = Arc::new(Schema::new(vec![pairs.field(1).clone()]));
    stream(
        running,
        sorter,
        &|piece, params| {
            let k = evaluate(key, &piece, params)?.into_array(piece.height())?;
            if k.data_type() == &key_type {
                Ok(k)
            } else {
                Ok(arrow::compute::cast(&k, &key_type)?)
            }
        },
        |k: ArrayRef| {
            // The row numbers are made only if the buffer spills (`Sorter::of_row_numbers`).
            let piece = DataFrame::from_arrays(key_only.clone(), vec![k.clone()])?;
            Ok(Buffered::with_keys(piece, vec![k]))
        },
    )
}

#[cfg(test)]
mod tests {
    use super::super::tests::{context, frame, pool};
    use super::*;
    use crate::exec::kernels::sort::arg_sort_u32;
    use crate::memory::MemoryPool;
    use crate::physical::{Pipeline, Source};
    use arrow::array::AsArray;
    use arrow::datatypes::{DataType, UInt64Type};

    /// The row numbers a streamed `arg_sort` gives under `limit`, and whether it spilled.
    fn streamed(df: &DataFrame, key: &Expr, o: &SortOptions, limit: usize) -> (Vec<u64>, bool) {
        let temp = tempfile::tempdir().expect("tempdir");
        let input = PhysicalNode::Pipeline(Pipeline::new(Source::Frame(df.clone())));
        let out: SchemaRef = Arc::new(Schema::new(vec![Field::new("i", DataType::UInt64, true)]));
        let mut ctx = context(limit, temp.path());
        let opened = open(&input, key, o, out, &mut ctx).expect("arg_sort");
        let spilled = matches!(opened, Opened::Sequential(_));
        let all = MemoryPool::unbounded().reserve("TEST");
        let got = Running::new(opened, &[], &ctx)
            .collect(&all)
            .expect("collect");
        assert_eq!(ctx.memory.reserved(), 0, "everything held is given back");
        drop(ctx);
        assert_eq!(std::fs::read_dir(temp.path()).expect("dir").count(), 0);
        let got = got.columns()[0]
            .as_primitive::<UInt64Type>()
            .values()
            .to_vec();
        (got, spilled)
    }

    #[test]
    fn spilled_arg_sorts_equal_the_kernel() {
        let df = frame();
        let cases = [
            (col("x"), SortOptions::default()),
            (
                col("x") * 2.0,
                SortOptions::default().descending(true).nulls_last(false),
            ),
            (col("k"), SortOptions::default().nulls_last(false)),
            (col("s"), SortOptions::default().descending(true)),
        ];
        for (key, o) in &cases {
            let values = evaluate(key, &df, &Default::default())
                .and_then(|v| v.into_array(df.height()))
                .expect("key");
            let want: Vec<u64> = arg_sort_u32(&[values], std::slice::from_ref(o))
                .expect("kernel")
                .into_iter()
                .map(u64::from)
                .collect();
            let (got, spilled) = streamed(&df, key, o, usize::MAX);
            assert!(!spilled);
            assert_eq!(got, want, "{key} in memory");
            for threads in [1, 2] {
                for limit in [4 << 20, 1 << 20, 300 << 10] {
                    let (got, spilled) = pool(threads).install(|| streamed(&df, key, o, limit));
                    assert!(spilled, "{key} under {limit}");
                    assert!(got == want, "{key} under {limit} on {threads} threads");
                }
            }
        }
    }
}
