//! A pipeline's opened source ([`Opened`]): where its morsels come from and how they are cut
//! into pieces; and the streaming operators applied to a piece ([`apply`]).
//!
//! Pieces are sized by bytes ([`piece_rows`]): at most [`MORSEL_ROWS`] rows, fewer when the
//! widest schema along the pipeline would make a piece larger than [`PIECE_BYTES`] (a
//! 10,000-column float32 table gets pieces of 192 rows, about 7.7 MB, not 64K rows of
//! 2.5 GB). The size depends on the schemas only, never on the data, the thread count or the
//! memory budget, so results stay bit-identical.

use std::sync::Arc;

use arrow::array::BooleanArray;
use arrow::datatypes::SchemaRef;

use crate::error::{Error, Result};
use crate::exec::eval::{evaluate, evaluate_array, evaluate_as, evaluate_mask, filter_frame};
use crate::exec::join::{probe_morsel, BuiltSide};
use crate::exec::Params;
use crate::expr::lookup::NameIndex;
use crate::expr::Expr;
use crate::frame::DataFrame;
use crate::io::MorselSource;
use crate::memory::Reservation;
#[cfg(doc)]
use crate::memory::{piece_rows, MORSEL_ROWS, PIECE_BYTES};
use crate::physical::StreamOp;

/// A source whose morsels must be asked for in increasing order, a wave at a time (the merge
/// of a spilled sort's runs): each is made when asked for, and those asked for early are
/// buffered until then.
pub(crate) trait SequentialSource: Send + Sync {
    fn schema(&self) -> SchemaRef;
    fn num_morsels(&self) -> usize;
    fn morsel_rows(&self, i: usize) -> usize;
    /// Morsel `i`; every morsel before it must have been asked for, or be in the same wave.
    fn morsel(&self, i: usize) -> Result<DataFrame>;
}

/// A pipeline's source, opened.
pub(crate) enum Opened {
    /// A file's morsels, decoded on demand (also a spill file's).
    Morsels(Arc<dyn MorselSource>),
    /// A frame in memory, cut into morsels of one piece each (zero-copy slices).
    Frame(DataFrame),
    /// A breaker's output frame, as [`Opened::Frame`], with its reservation from the budget
    /// (released when the pipeline reading it is done).
    HeldFrame(DataFrame, Reservation),
    /// Pieces an operator holds (an earlier pass's, a sort's output), morsel by morsel.
    Pieces(Box<Kept>),
    /// Another source's morsels through streaming operators: a second pass over an input
    /// that was not kept (see [`Through`]).
    Through(Box<Through>),
    /// Morsels made in order (the merge of a spilled sort).
    Sequential(Arc<dyn SequentialSource>),
}

/// Pieces an operator holds, morsel by morsel, with their reservation from the budget
/// (released when the pipeline reading them is done).
pub(crate) struct Kept {
    pub(crate) morsels: Vec<Vec<DataFrame>>,
    pub(crate) schema: SchemaRef,
    /// Held for its release when the pieces are dropped.
    #[allow(dead_code)]
    pub(crate) memory: Option<Reservation>,
}

/// Morsels of `source` through `ops` (no windows), cut into pieces of `piece_rows` rows as
/// the first pass cut them, so both passes see the same pieces.
pub(crate) struct Through {
    pub(crate) source: Opened,
    pub(crate) ops: Vec<(StreamOp, SchemaRef)>,
    pub(crate) params: Params,
    /// The join builds its operators probe (shared with the run's context).
    pub(crate) builds: Builds,
    pub(crate) piece_rows: usize,
    pub(crate) schema: SchemaRef,
}

impl Opened {
    /// The frame, when the source is one in memory.
    pub(crate) fn frame(&self) -> Option<&DataFrame> {
        match self {
            Opened::Frame(df) | Opened::HeldFrame(df, _) => Some(df),
            _ => None,
        }
    }

    pub(crate) fn schema(&self) -> SchemaRef {
        match self {
            Opened::Morsels(m) => m.schema(),
            Opened::Frame(df) | Opened::HeldFrame(df, _) => df.schema().clone(),
            Opened::Pieces(k) => k.schema.clone(),
            Opened::Through(t) => t.schema.clone(),
            Opened::Sequential(s) => s.schema(),
        }
    }

    /// Whether morsels must be taken in order (see [`SequentialSource`]).
    pub(crate) fn is_sequential(&self) -> bool {
        match self {
            Opened::Sequential(_) => true,
            Opened::Through(t) => t.source.is_sequential(),
            _ => false,
        }
    }

    /// Whether the morsels can be read again (a file, memory, kept pieces), so a second pass
    /// need not keep the first one's output.
    pub(crate) fn rereadable(&self) -> bool {
        !self.is_sequential()
    }

    /// How many morsels there are, when a frame is cut into pieces of `rows` rows.
    pub(crate) fn num_morsels(&self, rows: usize) -> usize {
        match self {
            Opened::Morsels(m) => m.num_morsels(),
            Opened::Frame(df) | Opened::HeldFrame(df, _) => df.height().div_ceil(rows),
            Opened::Pieces(k) => k.morsels.len(),
            Opened::Through(t) => t.source.num_morsels(t.piece_rows),
            Opened::Sequential(s) => s.num_morsels(),
        }
    }

    /// Rows of morsel `i`, when known before decoding it.
    pub(crate) fn morsel_rows(&self, i: usize, rows: usize) -> Option<usize> {
        match self {
            Opened::Morsels(m) => m.morsel_rows(i),
            Opened::Frame(df) | Opened::HeldFrame(df, _) => {
                Some(rows.min(df.height().saturating_sub(i * rows)))
            }
            Opened::Pieces(k) => Some(k.morsels[i].iter().map(DataFrame::height).sum()),
            Opened::Through(t) => {
                let filters = t
                    .ops
                    .iter()
                    .any(|(op, _)| matches!(op, StreamOp::Filter(_) | StreamOp::FilterKeep(..)));
                if filters {
                    None
                } else {
                    t.source.morsel_rows(i, t.piece_rows)
                }
            }
            Opened::Sequential(s) => Some(s.morsel_rows(i)),
        }
    }

    /// Morsel `i` as pieces of at most `rows` rows (sources cut before keep their pieces),
    /// handed to `f` in order.
    pub(crate) fn for_each_piece(
        &self,
        i: usize,
        rows: usize,
        f: &mut dyn FnMut(DataFrame) -> Result<()>,
    ) -> Result<()> {
        match self {
            Opened::Morsels(m) => m.for_each_piece(i, rows, f),
            // Frame morsels are one piece already.
            Opened::Frame(df) | Opened::HeldFrame(df, _) => f(df.slice(i * rows, rows)),
            Opened::Pieces(k) => k.morsels[i].iter().try_for_each(|piece| f(piece.clone())),
            Opened::Through(t) => {
                let input = t.source.schema();
                t.source.for_each_piece(i, t.piece_rows, &mut |piece| {
                    f(apply(&input, &t.ops, piece, &t.params, &t.builds)?)
                })
            }
            Opened::Sequential(s) => f(s.morsel(i)?),
        }
    }
}

/// The hash tables of a run's join builds, by build number.
pub(crate) type Builds = Vec<(usize, Arc<BuiltSide>)>;

/// Apply `ops` (streaming operators, no windows) to one piece; join probes read `builds`.
/// Where each of `exprs`' outputs goes in `schema`. Through a name map when there are many:
/// `index_of` per expression compares names quadratically, which for `with_columns` over a
/// 10,000-column matrix is billions of comparisons per morsel.
fn output_positions(schema: &SchemaRef, exprs: &[Expr]) -> Result<Vec<usize>> {
    // Most outputs replace a column in place or append in order: the k-th expression's
    // column is then where the previous one's was, plus one, or at the same place as in a
    // full-width rewrite. Look there first; a name index is built only on a miss (it is
    // O(width) a piece, which a 10,000-column `with_columns` pays for every piece otherwise).
    let mut index: Option<NameIndex> = None;
    let mut at = Vec::with_capacity(exprs.len());
    for (k, e) in exprs.iter().enumerate() {
        let name = e.output_name();
        let guess = [at.last().map_or(0, |&p: &usize| p + 1), k];
        if let Some(&p) = guess
            .iter()
            .find(|&&p| schema.fields().get(p).is_some_and(|f| *f.name() == name))
        {
            at.push(p);
            continue;
        }
        let index = index.get_or_insert_with(|| NameIndex::new(schema));
        at.push(index.position(&name).ok_or_else(|| {
            Error::Internal(format!("with_columns output {name} is not in its schema"))
        })?);
    }
    Ok(at)
}

/// Whether `df`'s columns have the names and types of `schema`, the schema the plan typed
/// the next operator's expressions with: then their output types are the operator's output
/// schema's, and need not be worked out again for the piece.
fn typed_as(df: &DataFrame, schema: &SchemaRef) -> bool {
    let have = df.schema();
    Arc::ptr_eq(have, schema)
        || (have.fields().len() == schema.fields().len()
            && have
                .fields()
                .iter()
                .zip(schema.fields())
                .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type()))
}

pub(crate) fn apply(
    source: &SchemaRef,
    ops: &[(StreamOp, SchemaRef)],
    mut df: DataFrame,
    params: &Params,
    builds: &[(usize, Arc<BuiltSide>)],
) -> Result<DataFrame> {
    // A join that spilled made the pipeline's source: its probe and the operators before it
    // are done.
    let done = ops
        .iter()
        .rposition(|(op, _)| {
            matches!(op, StreamOp::Probe(s)
                if builds.iter().any(|(id, b)| *id == s.id && b.is_spilled()))
        })
        .map_or(0, |k| k + 1);
    for (k, (op, schema)) in ops.iter().enumerate().skip(done) {
        let input = match k.checked_sub(1).and_then(|j| ops.get(j)) {
            Some((_, s)) => s,
            None => source,
        };
        df = match op {
            StreamOp::Filter(_) | StreamOp::FilterKeep(..) => {
                let (kept, mask) = filter_input(op, schema, &df, params)?;
                filter_frame(&kept, &mask)?
            }
            StreamOp::Select(exprs) => {
                let typed = typed_as(&df, input);
                let cols = exprs
                    .iter()
                    .zip(schema.fields())
                    .map(|(e, f)| {
                        let v = if typed {
                            evaluate_as(e, &df, params, f.data_type())?
                        } else {
                            evaluate(e, &df, params)?
                        };
                        v.into_array_of(f.data_type(), df.height())
                    })
                    .collect::<Result<Vec<_>>>()?;
                if cols.is_empty() {
                    DataFrame::with_height(df.height())
                } else {
                    DataFrame::from_arrays(schema.clone(), cols)?
                }
            }
            StreamOp::WithColumns(exprs) => {
                let mut cols = df.columns().to_vec();
                let at = output_positions(schema, exprs)?;
                let typed = typed_as(&df, input);
                for (e, i) in exprs.iter().zip(at) {
                    let a = match schema.fields().get(i) {
                        Some(f) if typed => {
                            evaluate_as(e, &df, params, f.data_type())?.into_array(df.height())?
                        }
                        _ => evaluate_array(e, &df, false, params)?,
                    };
                    if i < cols.len() {
                        cols[i] = a;
                    } else {
                        cols.push(a);
                    }
                }
                crate::exec::frame_of_types(schema, cols)?
            }
            StreamOp::Probe(spec) => {
                let built = builds
                    .iter()
                    .find(|(id, _)| *id == spec.id)
                    .map(|(_, b)| b.as_ref())
                    .ok_or_else(|| {
                        Error::Internal(format!("join build #{} has not run", spec.id))
                    })?;
                probe_morsel(spec, built, &df, params)?
            }
            StreamOp::Window { .. } => {
                return Err(Error::Internal(
                    "a window operator runs only in the staged driver".into(),
                ))
            }
        };
    }
    Ok(df)
}

/// What filter `op` (of output `schema`) selects from: `df` reduced to the columns the filter
/// keeps, not yet filtered, and the mask over it.
pub(crate) fn filter_input(
    op: &StreamOp,
    schema: &SchemaRef,
    df: &DataFrame,
    params: &Params,
) -> Result<(DataFrame, BooleanArray)> {
    match op {
        StreamOp::Filter(pred) => Ok((df.clone(), evaluate_mask(pred, df, false, params)?)),
        StreamOp::FilterKeep(pred, keep) => {
            let mask = evaluate_mask(pred, df, false, params)?;
            if keep.is_empty() {
                return Ok((DataFrame::with_height(df.height()), mask));
            }
            let cols = keep.iter().map(|&k| df.columns()[k].clone()).collect();
            Ok((DataFrame::from_arrays(schema.clone(), cols)?, mask))
        }
        _ => Err(Error::Internal(format!("{op:?} is not a filter"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::{col, lit};
    use arrow::array::{ArrayRef, Float32Array, Float64Array};
    use arrow::datatypes::{DataType, Field, Schema};

    fn schema(names: &[&str]) -> SchemaRef {
        Arc::new(Schema::new(
            names
                .iter()
                .map(|n| Field::new(*n, DataType::Float64, true))
                .collect::<Vec<_>>(),
        ))
    }

    /// Outputs in place, appended, or anywhere else are found, whatever the guesses say.
    #[test]
    fn output_positions_in_place_appended_and_moved() {
        let out = schema(&["a", "b", "c", "d"]);
        let exprs = [
            col("b") * lit(2.0),
            (col("a") + lit(1.0)).alias("d"),
            col("c"),
        ];
        assert_eq!(output_positions(&out, &exprs).unwrap(), vec![1, 3, 2]);
        let wide: Vec<String> = (0..40).map(|i| format!("c{i}")).collect();
        let names: Vec<&str> = wide.iter().map(String::as_str).collect();
        let out = schema(&names);
        let mut exprs: Vec<Expr> = names.iter().rev().map(|n| col(*n)).collect();
        exprs.swap(0, 5);
        let want: Vec<usize> = exprs
            .iter()
            .map(|e| out.index_of(&e.output_name()).unwrap())
            .collect();
        assert_eq!(output_positions(&out, &exprs).unwrap(), want);
        assert!(output_positions(&out, &[col("nope")]).is_err());
    }

    /// A piece whose column types differ from the plan's is evaluated with its own types
    /// (never with the output schema's), and one that agrees takes the output schema's.
    #[test]
    fn expressions_are_typed_from_the_plan_only_when_the_piece_agrees() {
        let plan_input = schema(&["x"]);
        let out = schema(&["x"]);
        let ops = vec![(StreamOp::WithColumns(vec![col("x") * lit(2.0)]), out)];
        let params = Params::default();
        let f64_piece = DataFrame::from_arrays(
            plan_input.clone(),
            vec![Arc::new(Float64Array::from(vec![1.5, 2.0])) as ArrayRef],
        )
        .unwrap();
        assert!(typed_as(&f64_piece, &plan_input));
        let got = apply(&plan_input, &ops, f64_piece, &params, &[]).unwrap();
        assert_eq!(got.column_f64("x").unwrap(), vec![Some(3.0), Some(4.0)]);
        let f32_schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Float32, true)]));
        let f32_piece = DataFrame::from_arrays(
            f32_schema,
            vec![Arc::new(Float32Array::from(vec![1.5f32, 2.0])) as ArrayRef],
        )
        .unwrap();
        assert!(!typed_as(&f32_piece, &plan_input));
        let got = apply(&plan_input, &ops, f32_piece, &params, &[]).unwrap();
        assert_eq!(got.column_f64("x").unwrap(), vec![Some(3.0), Some(4.0)]);
    }
}
