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
pub(super) const NONE: u32 = crate::frame::NO_ROW;

/// Bytes per row of `df` (its columns' bytes over its rows, rounded up): what an output row
/// taken from it is reserved at before it is built.
pub(super) fn row_bytes(df: &DataFrame) -> usize {
    crate::memory::frame_bytes(df).div_ceil(df.height().max(1))
}

/// Row positions as an index array, `NONE` as null.
fn index_array(idx: Vec<u32>) -> UInt32Array {
    let nulls = idx
        .contains(&NONE)
        .then(|| NullBuffer::from_iter(idx.iter().map(|&i| i != NONE)));
    UInt32Array::new(ScalarBuffer::from(idx), nulls)
}

/// Which rows of a frame the output takes, in order.
enum Rows {
    /// Every row, in order.
    All,
    /// The rows of a mask, in order (each row once at most, none missing: a cheaper copy
    /// than a gather, above all for strings).
    Mask(arrow::compute::FilterPredicate),
    /// Any rows (nulls for `NONE`).
    Take(UInt32Array),
}

impl Rows {
    /// The rows `idx` gives out of a frame of `height` rows.
    fn new(idx: Vec<u32>, height: usize) -> Self {
        let increasing = idx.windows(2).all(|w| w[0] < w[1]) && idx.last() != Some(&NONE);
        if !increasing {
            return Rows::Take(index_array(idx));
        }
        if idx.len() == height {
            return Rows::All;
        }
        let mut mask = vec![false; height];
        for &i in &idx {
            mask[i as usize] = true;
        }
        let mut f = arrow::compute::FilterBuilder::new(&BooleanArray::from(mask));
        f = f.optimize();
        Rows::Mask(f.build())
    }

    fn of(&self, c: &ArrayRef) -> Result<ArrayRef> {
        Ok(match self {
            Rows::All => c.clone(),
            Rows::Mask(f) => f.filter(c.as_ref())?,
            Rows::Take(i) => arrow::compute::take(c.as_ref(), i, None)?,
        })
    }

    /// Rows without a source row (nulls), if any.
    fn missing(&self) -> Option<&NullBuffer> {
        match self {
            Rows::Take(i) => i.nulls(),
            _ => None,
        }
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
    let o_rows = o_idx.map_or(Rows::All, |i| Rows::new(i, o.height()));
    let t_rows = Rows::Take(index_array(t_idx));
    let ((left, li), (right, ri)) = match spec.order_side() {
        Side::Left => ((o, &o_rows), (t, &t_rows)),
        Side::Right => ((t, &t_rows), (o, &o_rows)),
    };
    let schema = spec.layout.schema.clone();
    let mut cols: Vec<ArrayRef> = Vec::with_capacity(schema.fields().len());
    for (c, f) in spec.layout.columns.iter().zip(schema.fields()) {
        let col = match *c {
            JoinColumn::Left(i) => li.of(&left.columns()[i])?,
            JoinColumn::Right(j) => ri.of(&right.columns()[j])?,
            JoinColumn::Coalesced { left: i, right: j } => {
                let cast = |a: ArrayRef| -> Result<ArrayRef> {
                    if a.data_type() == f.data_type() {
                        Ok(a)
                    } else {
                        Ok(arrow::compute::cast(&a, f.data_type())?)
                    }
                };
                let l = cast(li.of(&left.columns()[i])?)?;
                match li.missing() {
                    None => l,
                    Some(missing) => {
                        let r = cast(ri.of(&right.columns()[j])?)?;
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

/// One column of a join's output for one probed morsel, from the column `c` of a side at
/// rows `idx`: the order side's rows (`None`: all, in order) are selected as `assemble`
/// selects them, the other side's taken (`NONE` rows null).
pub(crate) fn pick(c: &ArrayRef, idx: Option<&[u32]>, order_side: bool) -> Result<ArrayRef> {
    match idx {
        None => Ok(c.clone()),
        Some(idx) if order_side => Rows::new(idx.to_vec(), c.len()).of(c),
        Some(idx) => Rows::Take(index_array(idx.to_vec())).of(c),
    }
}
