//! A join's output columns from row positions: for each output row, the row of each side it
//! comes from (`NONE`: no row, the columns are null there), turned into columns by `take`, in
//! the order and with the names the join's layout gives.

use arrow::array::{Array, ArrayRef, BooleanArray, UInt32Array};
use arrow::buffer::{NullBuffer, ScalarBuffer};
use arrow::compute::kernels::zip::zip;

use crate::error::Result;
use crate::frame::DataFrame;
use crate::physical::{JoinSpec, Side};
use crate::plan::JoinColumn;

/// "No row on this side".
pub(super) const NONE: u32 = u32::MAX;

/// Row positions as an index array, `NONE` as null.
fn index_array(idx: Vec<u32>) -> UInt32Array {
    let nulls = idx
        .contains(&NONE)
        .then(|| NullBuffer::from_iter(idx.iter().map(|&i| i != NONE)));
    UInt32Array::new(ScalarBuffer::from(idx), nulls)
}

/// The rows of a column at `idx` (`None`: all rows, in order).
fn take(c: &ArrayRef, idx: Option<&UInt32Array>) -> Result<ArrayRef> {
    match idx {
        None => Ok(c.clone()),
        Some(i) => Ok(arrow::compute::take(c.as_ref(), i, None)?),
    }
}

/// The join's output: `o` is the frame of the side whose rows order the output, at rows
/// `o_idx` (`None`: every row of `o`, in order), `t` the other side's frame at rows `t_idx`.
pub(super) fn assemble(
    spec: &JoinSpec,
    o: &DataFrame,
    o_idx: Option<Vec<u32>>,
    t: &DataFrame,
    t_idx: Vec<u32>,
) -> Result<DataFrame> {
    let rows = t_idx.len();
    let o_idx = o_idx.map(index_array);
    let t_idx = index_array(t_idx);
    let ((left, li), (right, ri)) = match spec.order_side() {
        Side::Left => ((o, o_idx.as_ref()), (t, Some(&t_idx))),
        Side::Right => ((t, Some(&t_idx)), (o, o_idx.as_ref())),
    };
    let schema = spec.layout.schema.clone();
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (c, f) in spec.layout.columns.iter().zip(schema.fields()) {
        let col = match *c {
            JoinColumn::Left(i) => take(&left.columns()[i], li)?,
            JoinColumn::Right(j) => take(&right.columns()[j], ri)?,
            JoinColumn::Coalesced { left: i, right: j } => {
                let cast = |a: ArrayRef| -> Result<ArrayRef> {
                    if a.data_type() == f.data_type() {
                        Ok(a)
                    } else {
                        Ok(arrow::compute::cast(&a, f.data_type())?)
                    }
                };
                let l = cast(take(&left.columns()[i], li)?)?;
                match li.and_then(|x| x.nulls()) {
                    None => l,
                    Some(missing) => {
                        let r = cast(take(&right.columns()[j], ri)?)?;
                        let has_left = BooleanArray::new(missing.inner().clone(), None);
                        zip(&has_left, &l, &r)?
                    }
                }
            }
        };
        cols.push(col);
    }
    if cols.is_empty() {
        return Ok(DataFrame::with_height(rows));
    }
    crate::exec::frame_of_types(&schema, cols)
}
