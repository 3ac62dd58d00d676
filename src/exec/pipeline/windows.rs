//! Pipelines with window operators: morsels run in waves of one pool's width, stage by stage.
//!
//! A `WINDOW` operator computes each piece with the last `lookback` rows before it in front
//! (of the columns its windows read), so a morsel depends on the ones before it. Within a wave
//! the operators before the first window run on every morsel in parallel; then, in row order,
//! each morsel is given the rows before it (the carry from the last wave, then the tails of the
//! morsels before it in this wave: a cheap sequential step over a few rows), and the window and
//! the operators up to the next window run on every morsel in parallel again; the last stage
//! ends in the consumer. Pieces inside a morsel pass the rows on in order. Only the wave's
//! morsels are held at once.
//!
//! Values are those of the window kernel over the rows before and the piece, so they depend on
//! where pieces start (a running sum restarts there) but never on the thread count: pieces are
//! cut at fixed positions of the source.

use std::ops::Range;

use arrow::datatypes::SchemaRef;
use rayon::prelude::*;

use super::{Carry, Consume, Running};
use crate::error::{Error, Result};
use crate::exec::eval::evaluate;
use crate::expr::Expr;
use crate::frame::DataFrame;
use crate::physical::StreamOp;

/// A window operator's parameters, borrowed from the plan.
struct Window<'a> {
    exprs: &'a [(String, Expr)],
    carry: &'a [String],
    lookback: usize,
    schema: &'a SchemaRef,
}

/// `df`'s columns `cols`, by name (a frame of `df`'s height when there are none).
fn project(df: &DataFrame, cols: &[String]) -> Result<DataFrame> {
    if cols.is_empty() {
        return Ok(DataFrame::with_height(df.height()));
    }
    let schema = std::sync::Arc::new(
        df.schema().project(
            &cols
                .iter()
                .map(|c| df.schema().index_of(c))
                .collect::<std::result::Result<Vec<_>, _>>()?,
        )?,
    );
    let arrays = cols
        .iter()
        .map(|c| df.column(c).cloned())
        .collect::<Result<Vec<_>>>()?;
    DataFrame::from_arrays(schema, arrays)
}

/// The last `n` rows of `before` followed by `pieces` (projected to `cols`).
fn tail_after(
    before: Option<&DataFrame>,
    pieces: &[DataFrame],
    cols: &[String],
    n: usize,
) -> Result<Option<DataFrame>> {
    let mut parts: Vec<DataFrame> = vec![];
    let mut rows = 0;
    for p in pieces.iter().rev() {
        if rows >= n {
            break;
        }
        let p = project(p, cols)?;
        rows += p.height();
        parts.push(p);
    }
    if rows < n {
        if let Some(b) = before {
            parts.push(b.clone());
        }
    }
    if parts.is_empty() {
        return Ok(before.cloned());
    }
    parts.reverse();
    let schema = parts[0].schema().clone();
    let all = DataFrame::vstack(schema, &parts)?;
    Ok(Some(all.tail(n)))
}

impl Window<'_> {
    /// `piece` with the windows' columns appended, computed with `before` (the last rows of
    /// the input before it) in front; and the rows before the next piece.
    fn apply(
        &self,
        r: &Running,
        before: Option<DataFrame>,
        piece: DataFrame,
    ) -> Result<(DataFrame, DataFrame)> {
        let own = project(&piece, self.carry)?;
        let ext = match &before {
            Some(b) if b.height() > 0 => {
                DataFrame::vstack(own.schema().clone(), &[b.clone(), own])?
            }
            _ => own,
        };
        let skip = ext.height() - piece.height();
        let mut cols = piece.columns().to_vec();
        for (_, e) in self.exprs {
            let v = evaluate(e, &ext, r.params())?.into_array(ext.height())?;
            cols.push(v.slice(skip, piece.height()));
        }
        let out = if cols.is_empty() {
            DataFrame::with_height(piece.height())
        } else {
            DataFrame::from_arrays(self.schema.clone(), cols)?
        };
        Ok((out, ext.tail(self.lookback)))
    }
}

/// See the module docs; the arguments are those of [`Running::run_morsels`].
pub(super) fn run_staged<P: Send>(
    r: &Running,
    range: Range<usize>,
    carry: &mut Carry,
    masked: bool,
    start: &(dyn Fn(usize) -> Result<P> + Sync),
    consume: Consume<P>,
) -> Result<Vec<P>> {
    let mut windows: Vec<(usize, Window)> = vec![];
    for (at, (op, schema)) in r.ops.iter().enumerate() {
        if let StreamOp::Window {
            exprs,
            carry,
            lookback,
        } = op
        {
            windows.push((
                at,
                Window {
                    exprs,
                    carry,
                    lookback: *lookback,
                    schema,
                },
            ));
        }
    }
    let first = windows
        .first()
        .map(|(at, _)| *at)
        .ok_or_else(|| Error::Internal("a staged pipeline without windows".into()))?;
    carry.tails.resize(windows.len(), None);
    let wave = rayon::current_num_threads().max(1);
    let mut out = Vec::with_capacity(range.len());
    let mut next = range.start;
    while next < range.end {
        let end = (next + wave).min(range.end);
        // The operators before the first window, on every morsel of the wave.
        let mut morsels: Vec<Vec<DataFrame>> = (next..end)
            .into_par_iter()
            .map(|i| {
                let mut pieces = vec![];
                r.for_each_piece(i, &mut |piece| {
                    pieces.push(r.apply(&r.ops[..first], piece)?);
                    Ok(())
                })?;
                Ok(pieces)
            })
            .collect::<Result<_>>()?;
        for (j, (at, w)) in windows.iter().enumerate() {
            // In row order: the rows before each morsel, and the carry after the wave.
            let mut befores = Vec::with_capacity(morsels.len());
            for pieces in &morsels {
                let before = carry.tails[j].take();
                carry.tails[j] = tail_after(before.as_ref(), pieces, w.carry, w.lookback)?;
                befores.push(before);
            }
            let stop = windows.get(j + 1).map_or(r.ops.len(), |(a, _)| *a);
            let rest = &r.ops[at + 1..stop];
            let taken = std::mem::take(&mut morsels);
            if j + 1 < windows.len() {
                morsels = taken
                    .into_par_iter()
                    .zip(befores)
                    .map(|(pieces, mut before)| {
                        let mut done = Vec::with_capacity(pieces.len());
                        for piece in pieces {
                            let (with, tail) = w.apply(r, before, piece)?;
                            before = Some(tail);
                            done.push(r.apply(rest, with)?);
                        }
                        Ok(done)
                    })
                    .collect::<Result<_>>()?;
            } else {
                // The last window, the operators after it, and the consumer.
                let parts: Vec<P> = (next..end)
                    .into_par_iter()
                    .zip(taken.into_par_iter().zip(befores))
                    .map(|(i, (pieces, mut before))| {
                        let mut p = start(i)?;
                        for piece in pieces {
                            let (with, tail) = w.apply(r, before, piece)?;
                            before = Some(tail);
                            r.deliver(rest, with, masked, &mut |df, mask| {
                                consume(&mut p, df, mask)
                            })?;
                        }
                        r.report();
                        Ok(p)
                    })
                    .collect::<Result<_>>()?;
                out.extend(parts);
            }
        }
        next = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::expr::{col, lit, RollingKind, RollingOptions};
    use crate::frame::{Column, DataFrame};
    use crate::plan::ExecOptions;

    /// 200,003 rows (four 64K morsels): values with NaN, nulls and a large offset.
    fn frame() -> DataFrame {
        let n = 200_003usize;
        let x: Vec<Option<f64>> = (0..n)
            .map(|i| match i % 97 {
                3 => None,
                5 if i % 2 == 0 => Some(f64::NAN),
                _ => Some(1e6 + ((i * 7919) % 1013) as f64 * 0.37),
            })
            .collect();
        let g: Vec<i64> = (0..n as i64).map(|i| (i * 31) % 7).collect();
        DataFrame::new(vec![Column::new("x", x), Column::new("g", g)]).expect("frame")
    }

    fn close(a: &[Option<f64>], b: &[Option<f64>]) -> bool {
        a.len() == b.len()
            && a.iter().zip(b).all(|(x, y)| match (x, y) {
                (None, None) => true,
                (Some(x), Some(y)) if x.is_nan() || y.is_nan() => x.is_nan() && y.is_nan(),
                (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                _ => false,
            })
    }

    /// Streamed windows give the whole-column kernel's values (to rounding for running sums),
    /// after a filter that makes pieces of every size, for every kind and window length,
    /// bit-identical for any thread count.
    #[test]
    fn streamed_windows_match_the_whole_column() {
        let df = frame();
        let kinds = [
            RollingKind::Sum,
            RollingKind::Mean,
            RollingKind::Min,
            RollingKind::Max,
            RollingKind::Std,
            RollingKind::Var,
            RollingKind::Median,
        ];
        for w in [1usize, 3, 20, 70_000] {
            let mut exprs = vec![];
            for (k, kind) in kinds.iter().enumerate() {
                let o = RollingOptions::new(w).min_periods(1);
                exprs.push(col("x").rolling(*kind, o).alias(format!("r{k}")));
            }
            exprs.push(
                col("x")
                    .rolling_mean_with(RollingOptions::new(w.min(50)).weights(vec![1.0; w.min(50)]))
                    .alias("weighted"),
            );
            let lf = df.clone().lazy().filter(col("g").neq(lit(3)));
            let streamed = lf.clone().with_columns(exprs.clone());
            assert!(streamed.explain_physical().unwrap().contains("WINDOW"));
            let got = streamed.clone().collect().expect("streamed");
            // The reference: the kernel over the whole filtered column.
            let filtered = lf.collect().expect("filtered");
            let want = DataFrame::new(vec![Column::new("x", filtered.column_f64("x").expect("x"))])
                .expect("x")
                .lazy()
                .with_columns(exprs)
                .collect()
                .expect("whole");
            for (k, kind) in kinds.iter().enumerate() {
                let name = format!("r{k}");
                let (a, b) = (
                    got.column_f64(&name).unwrap(),
                    want.column_f64(&name).unwrap(),
                );
                assert!(close(&a, &b), "window {w}, {kind:?}");
            }
            for threads in [1, 3] {
                let again = streamed
                    .clone()
                    .collect_with(&ExecOptions::new().threads(threads))
                    .expect("threads");
                assert_eq!(again, got, "window {w}, {threads} threads");
            }
        }
    }

    /// Two windows in one pipeline (the second over the first's result), and slices through
    /// them: the rows before each morsel are carried whichever rows are asked for.
    #[test]
    fn chained_windows_and_slices() {
        let df = frame();
        let lf = df
            .lazy()
            .with_columns([col("x").rolling_mean(5).alias("m")])
            .with_columns([col("m").rolling_max(70_000).alias("mm")]);
        let text = lf.explain_physical().unwrap();
        assert_eq!(text.matches("WINDOW").count(), 2, "{text}");
        let all = lf.clone().collect().expect("all");
        let n = all.height();
        for (offset, len) in [(0i64, 10usize), (131_000, 5), (-7, 7), (-70_000, 3)] {
            let part = lf.clone().slice(offset, len).collect().expect("slice");
            let start = if offset < 0 {
                n - offset.unsigned_abs() as usize
            } else {
                offset as usize
            };
            assert_eq!(part, all.slice(start, len), "slice {offset} {len}");
        }
        let sum = lf
            .select([col("mm").nan_sum()])
            .collect()
            .expect("sum")
            .column_f64("mm")
            .unwrap();
        let direct: f64 = all
            .column_f64("mm")
            .unwrap()
            .into_iter()
            .flatten()
            .filter(|v| !v.is_nan())
            .sum();
        assert!((sum[0].unwrap() - direct).abs() <= 1e-9 * direct.abs());
    }
}
