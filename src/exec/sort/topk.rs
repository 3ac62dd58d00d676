//! The TOP_K operator: `top_k(k)`/`bottom_k(k)` of elementwise inputs in memory that grows
//! with `k`, not with the input.
//!
//! Each morsel keeps, per output column, the rows a selection picks from its pieces (the
//! candidates so far followed by the next piece's own picks, selected again), and after each
//! wave the morsels' candidates are merged into the result so far in morsel order, the same
//! way. The
//! selection (`kernels::sort::top_k_rows`) orders rows by key and breaks ties by position, and
//! a set of candidates lists equal keys in row order, so selecting again over earlier
//! candidates followed by later ones picks exactly the rows, in exactly the order, that one
//! selection over the whole column picks (nulls included: they come last, first rows first).
//! The output is the in-memory kernel's, bit for bit, for any thread count and any budget.
//!
//! Only candidates are held, reserved from the budget as `TOP_K`: about `k` rows per column
//! for the result and for each morsel in flight, and while a selection runs, a piece's own
//! picks and the copy of one column's candidates followed by them. When those rows do not fit (a `k` near the
//! input's length under a small budget), the query stops with a `MemoryLimit` naming `TOP_K`.

use arrow::array::{new_empty_array, ArrayRef};
use arrow::datatypes::SchemaRef;

use super::stream_input;
use crate::error::Result;
use crate::exec::eval::evaluate;
use crate::exec::kernels::gather::take_u32;
use crate::exec::kernels::sort::top_k_rows;
use crate::exec::pipeline::{Carry, Running};
use crate::exec::{frame_of_types, Context};
use crate::frame::DataFrame;
use crate::memory::{array_bytes, Reservation};
use crate::physical::{PhysicalNode, TopColumn};

/// The `k` largest (or smallest) rows of each of `columns` over `input`, as a frame of
/// `schema`.
pub(crate) fn top_k(
    input: &PhysicalNode,
    k: usize,
    columns: &[TopColumn],
    schema: &SchemaRef,
    ctx: &mut Context,
) -> Result<DataFrame> {
    let (source, ops) = stream_input(input, ctx)?;
    let running = Running::new(source, ops, ctx);
    let memory = ctx.reserve("TOP_K");
    let select = Selection {
        k,
        columns,
        memory: &memory,
    };
    let mut carry = Carry::default();
    let mut kept: Option<Candidates> = None;
    for wave in running.waves(0, running.wave()) {
        let parts = running.run_morsels(
            wave,
            &mut carry,
            false,
            &|_| Ok(None),
            &|state: &mut Option<Candidates>, piece, _| {
                let values = columns
                    .iter()
                    .map(|c| {
                        evaluate(&c.input, &piece, running.params())?.into_array(piece.height())
                    })
                    .collect::<Result<Vec<_>>>()?;
                *state = Some(select.then(state.take(), values)?);
                Ok(())
            },
        )?;
        for p in parts.into_iter().flatten() {
            kept = Some(match kept.take() {
                None => p,
                Some(before) => select.then(Some(before), p.columns.clone())?,
            });
        }
    }
    let cols = match kept {
        Some(c) => c.columns.clone(),
        None => schema
            .fields()
            .iter()
            .map(|f| new_empty_array(f.data_type()))
            .collect(),
    };
    frame_of_types(schema, cols)
}

/// The rows a selection keeps of each column, with the bytes reserved for them (given back
/// when dropped).
struct Candidates<'r> {
    columns: Vec<ArrayRef>,
    bytes: usize,
    memory: &'r Reservation,
}

impl Drop for Candidates<'_> {
    fn drop(&mut self) {
        self.memory.shrink(self.bytes);
    }
}

/// What a selection picks, and the budget its candidates are reserved from.
struct Selection<'a> {
    k: usize,
    columns: &'a [TopColumn],
    memory: &'a Reservation,
}

impl<'a> Selection<'a> {
    /// The candidates of `before` (earlier rows) followed by `values` (one array per column),
    /// selected again.
    ///
    /// Each column's `values` are selected on their own first (at most `k` rows), and only
    /// those picks are concatenated after the earlier candidates and selected again: the `k`
    /// best of a union are the `k` best of each part's `k` best (ties broken by position, and
    /// the earlier part comes first), so the copy is of at most `2k` rows, never of a piece.
    fn then(
        &self,
        before: Option<Candidates<'a>>,
        values: Vec<ArrayRef>,
    ) -> Result<Candidates<'a>> {
        let picks = values
            .iter()
            .zip(self.columns)
            .map(|(v, c)| take_u32(v, top_k_rows(v, self.k, c.largest)?))
            .collect::<Result<Vec<_>>>()?;
        drop(values);
        let picked = Candidates::reserve(picks, self.memory)?;
        let Some(before) = before else {
            return Ok(picked);
        };
        let columns = before
            .columns
            .iter()
            .zip(&picked.columns)
            .zip(self.columns)
            .map(|((b, p), c)| {
                // The copy of one column at a time, held while it is selected again.
                let copy = array_bytes(b) + array_bytes(p);
                self.memory.try_grow(copy)?;
                let selected = arrow::compute::concat(&[b.as_ref(), p.as_ref()])
                    .map_err(Into::into)
                    .and_then(|all| take_u32(&all, top_k_rows(&all, self.k, c.largest)?));
                self.memory.shrink(copy);
                selected
            })
            .collect::<Result<Vec<_>>>()?;
        // The earlier candidates and the picks are let go as they drop.
        Candidates::reserve(columns, self.memory)
    }
}

impl<'r> Candidates<'r> {
    /// `columns` held under `memory`.
    fn reserve(columns: Vec<ArrayRef>, memory: &'r Reservation) -> Result<Self> {
        let bytes = columns.iter().map(array_bytes).sum();
        memory.try_grow(bytes)?;
        Ok(Self {
            columns,
            bytes,
            memory,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{context, frame, pool};
    use super::*;
    use crate::error::Error;
    use crate::expr::{col, Expr};
    use crate::physical::{Pipeline, Source};
    use arrow::datatypes::{Field, Schema};
    use std::sync::Arc;

    /// Each of `exprs` (with `largest`) selected by the kernel over the whole column.
    fn in_memory(df: &DataFrame, exprs: &[(Expr, bool)], k: usize) -> Vec<ArrayRef> {
        exprs
            .iter()
            .map(|(e, largest)| {
                let a = evaluate(e, df, &Default::default())
                    .and_then(|v| v.into_array(df.height()))
                    .expect("input");
                take_u32(&a, top_k_rows(&a, k, *largest).expect("rows")).expect("take")
            })
            .collect()
    }

    fn streamed(
        df: &DataFrame,
        exprs: &[(Expr, bool)],
        k: usize,
        limit: usize,
    ) -> Result<DataFrame> {
        let temp = tempfile::tempdir().expect("tempdir");
        let input = PhysicalNode::Pipeline(Pipeline::new(Source::Frame(df.clone())));
        let columns: Vec<TopColumn> = exprs
            .iter()
            .map(|(e, largest)| TopColumn {
                input: e.clone(),
                largest: *largest,
            })
            .collect();
        let fields: Vec<Field> = exprs
            .iter()
            .enumerate()
            .map(|(i, (e, _))| {
                let t = e.data_type(df.schema()).expect("type");
                Field::new(format!("c{i}"), t, true)
            })
            .collect();
        let schema: SchemaRef = Arc::new(Schema::new(fields));
        let mut ctx = context(limit, temp.path());
        let out = top_k(&input, k, &columns, &schema, &mut ctx);
        assert_eq!(ctx.memory.reserved(), 0, "everything held is given back");
        out
    }

    #[test]
    fn streamed_selections_equal_the_kernel_bit_for_bit() {
        let df = frame();
        // NaN, -0.0 beside 0.0, nulls, ties (by row), integers and strings.
        let exprs = [
            (col("x"), true),
            (col("x"), false),
            (col("x") * -1.0, true),
            (col("k"), true),
            (col("k"), false),
            (col("s"), false),
        ];
        for k in [0, 1, 7, 1000, 30_000] {
            let want = in_memory(&df, &exprs, k);
            // A few hundred KiB for up to 1,000 rows a column; 30,000 rows of six columns
            // are 1.4 MB a morsel.
            let small = if k <= 1000 { 256 << 10 } else { 16 << 20 };
            for threads in [1, 2] {
                for limit in [usize::MAX, small] {
                    let got = pool(threads)
                        .install(|| streamed(&df, &exprs, k, limit))
                        .expect("top_k");
                    for (i, w) in want.iter().enumerate() {
                        assert!(
                            got.columns()[i].to_data() == w.to_data(),
                            "column {i}, k={k}, {threads} threads, limit {limit}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn nulls_fill_in_when_too_few_values() {
        // One row in 97 is null: with k past the valid rows, the first nulls follow them.
        let df = frame();
        let k = df.height() - 10;
        let exprs = [(col("x"), true), (col("x"), false)];
        let want = in_memory(&df, &exprs, k);
        for threads in [1, 2] {
            let got = pool(threads)
                .install(|| streamed(&df, &exprs, k, usize::MAX))
                .expect("top_k");
            assert!(got.columns()[0].null_count() > 0);
            for (i, w) in want.iter().enumerate() {
                assert!(got.columns()[i].to_data() == w.to_data(), "column {i}");
            }
        }
    }

    #[test]
    fn rows_that_do_not_fit_name_top_k() {
        let df = frame();
        let err = streamed(&df, &[(col("x"), true)], df.height(), 256 << 10).expect_err("k rows");
        assert!(
            matches!(err, Error::MemoryLimit { ref operator, .. } if operator == "TOP_K"),
            "{err:?}"
        );
    }

    #[test]
    fn the_concatenated_candidates_are_reserved() {
        // Morsels of rows merged into 30,000 candidates: the peak holds the earlier
        // candidates, the next piece's picks and the copy of both being selected again.
        let df = frame();
        let k = 30_000;
        let temp = tempfile::tempdir().expect("tempdir");
        let input = PhysicalNode::Pipeline(Pipeline::new(Source::Frame(df.clone())));
        let columns = [TopColumn {
            input: col("x"),
            largest: true,
        }];
        let schema: SchemaRef = Arc::new(Schema::new(vec![Field::new(
            "x",
            arrow::datatypes::DataType::Float64,
            true,
        )]));
        let mut ctx = context(usize::MAX, temp.path());
        let out = pool(1)
            .install(|| top_k(&input, k, &columns, &schema, &mut ctx))
            .expect("top_k");
        let candidates = array_bytes(&out.columns()[0]);
        let peak = ctx.memory.peak();
        assert!(
            peak >= 3 * candidates,
            "peak {peak}, candidates {candidates}"
        );
    }
}
