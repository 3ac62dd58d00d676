//! Merging sorted runs: a k-way merge over one batch of every run at a time, ties to the
//! earlier run (which keeps the sort stable), and the merged output as a source whose pieces
//! are made in order as the pipeline above asks for them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::SchemaRef;
use arrow::row::{RowConverter, Rows, SortField};

use super::{comparable, lost_rows};
use crate::error::{Error, Result};
use crate::exec::eval::evaluate;
use crate::exec::pipeline::SequentialSource;
use crate::exec::spill::{SpillFile, SpillReader};
use crate::exec::Params;
use crate::expr::{Expr, SortOptions};
use crate::frame::DataFrame;
use crate::memory::{frame_bytes, Reservation};

/// How a batch's sort keys become comparable rows.
pub(crate) struct KeyRows {
    by: Vec<Expr>,
    params: Params,
    converter: RowConverter,
}

impl KeyRows {
    pub(crate) fn new(
        by: &[Expr],
        options: &[SortOptions],
        schema: &SchemaRef,
        params: &Params,
    ) -> Result<Self> {
        let fields = by
            .iter()
            .zip(options)
            .map(|(e, o)| {
                let dt = e.data_type(schema)?;
                // The type the keys have after `comparable`.
                let empty = arrow::array::new_empty_array(&dt);
                let dt = comparable(&empty)?.data_type().clone();
                Ok(SortField::new_with_options(
                    dt,
                    arrow::compute::SortOptions {
                        descending: o.descending,
                        nulls_first: !o.nulls_last,
                    },
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let converter = RowConverter::new(fields)
            .map_err(|e| Error::Type(format!("cannot sort by these keys outside memory: {e}")))?;
        Ok(Self {
            by: by.to_vec(),
            params: params.clone(),
            converter,
        })
    }

    fn rows(&self, df: &DataFrame) -> Result<Rows> {
        let keys = self
            .by
            .iter()
            .map(|e| comparable(&evaluate(e, df, &self.params)?.into_array(df.height())?))
            .collect::<Result<Vec<ArrayRef>>>()?;
        Ok(self.converter.convert_columns(&keys)?)
    }
}

/// A run being read: its current batch, that batch's key rows, and the next row.
struct Cursor {
    reader: SpillReader,
    batch: DataFrame,
    rows: Rows,
    pos: usize,
    bytes: usize,
}

/// A k-way merge of runs (in input order).
pub(super) struct Merger {
    cursors: Vec<Cursor>,
    /// A binary min-heap of cursor positions, by (current row, cursor).
    heap: Vec<usize>,
    keys: Arc<KeyRows>,
    schema: SchemaRef,
}

impl Merger {
    /// Open `runs` (their order is the input's) and read a batch of each, reserved from
    /// `memory`.
    pub(super) fn new(
        runs: Vec<Arc<SpillFile>>,
        keys: Arc<KeyRows>,
        memory: &Reservation,
    ) -> Result<Self> {
        let mut cursors = Vec::with_capacity(runs.len());
        let mut schema = None;
        for run in &runs {
            let mut reader = run.reader()?;
            if let Some(batch) = reader.next_frame()? {
                schema.get_or_insert_with(|| batch.schema().clone());
                let bytes = frame_bytes(&batch);
                memory.try_grow(bytes)?;
                let rows = keys.rows(&batch)?;
                cursors.push(Cursor {
                    reader,
                    batch,
                    rows,
                    pos: 0,
                    bytes,
                });
            }
        }
        let mut m = Self {
            heap: (0..cursors.len()).collect(),
            cursors,
            keys,
            schema: schema.unwrap_or_else(|| Arc::new(arrow::datatypes::Schema::empty())),
        };
        for i in (0..m.heap.len() / 2).rev() {
            m.sift_down(i);
        }
        Ok(m)
    }

    fn less(&self, a: usize, b: usize) -> bool {
        let (ca, cb) = (&self.cursors[a], &self.cursors[b]);
        match ca.rows.row(ca.pos).cmp(&cb.rows.row(cb.pos)) {
            std::cmp::Ordering::Less => true,
            std::cmp::Ordering::Greater => false,
            std::cmp::Ordering::Equal => a < b,
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let l = 2 * i + 1;
            if l >= n {
                return;
            }
            let mut m = l;
            if l + 1 < n && self.less(self.heap[l + 1], self.heap[l]) {
                m = l + 1;
            }
            if self.less(self.heap[m], self.heap[i]) {
                self.heap.swap(m, i);
                i = m;
            } else {
                return;
            }
        }
    }

    /// The next (up to) `n` rows in order, or `None` when every run is done.
    pub(super) fn next(&mut self, n: usize, memory: &Reservation) -> Result<Option<DataFrame>> {
        if self.heap.is_empty() {
            return Ok(None);
        }
        // The batches this output reads, and (batch, row) per output row. A batch a cursor
        // leaves stays here until the output is built (it is then part of the piece being
        // made, not of the merge's reservation); when many are held, what is picked so far is
        // built into a part.
        let mut used: Vec<DataFrame> = vec![];
        let mut slot: Vec<Option<usize>> = vec![None; self.cursors.len()];
        let mut picks: Vec<(usize, usize)> = Vec::with_capacity(n);
        let mut parts: Vec<DataFrame> = vec![];
        let mut taken = 0;
        while taken < n && !self.heap.is_empty() {
            let c = self.heap[0];
            let s = *slot[c].get_or_insert_with(|| {
                used.push(self.cursors[c].batch.clone());
                used.len() - 1
            });
            let cur = &mut self.cursors[c];
            picks.push((s, cur.pos));
            cur.pos += 1;
            taken += 1;
            if cur.pos == cur.batch.height() {
                slot[c] = None;
                memory.shrink(cur.bytes);
                match cur.reader.next_frame()? {
                    Some(batch) => {
                        cur.bytes = frame_bytes(&batch);
                        memory.try_grow(cur.bytes)?;
                        cur.rows = self.keys.rows(&batch)?;
                        cur.batch = batch;
                        cur.pos = 0;
                        self.sift_down(0);
                    }
                    None => {
                        let last = self.heap.len() - 1;
                        self.heap.swap(0, last);
                        self.heap.pop();
                        self.sift_down(0);
                    }
                }
                if used.len() > 2 * self.cursors.len() + 8 {
                    parts.push(self.build(&used, &picks)?);
                    picks.clear();
                    used.clear();
                    slot.iter_mut().for_each(|s| *s = None);
                }
            } else {
                self.sift_down(0);
            }
        }
        parts.push(self.build(&used, &picks)?);
        if parts.len() == 1 {
            return Ok(parts.pop());
        }
        Ok(Some(DataFrame::vstack(self.schema.clone(), &parts)?))
    }

    fn build(&self, used: &[DataFrame], picks: &[(usize, usize)]) -> Result<DataFrame> {
        if self.schema.fields().is_empty() {
            return Ok(DataFrame::with_height(picks.len()));
        }
        if picks.is_empty() {
            return Ok(DataFrame::empty(self.schema.clone()));
        }
        let cols = (0..self.schema.fields().len())
            .map(|c| {
                let arrays: Vec<&dyn Array> =
                    used.iter().map(|b| b.columns()[c].as_ref()).collect();
                Ok(arrow::compute::interleave(&arrays, picks)?)
            })
            .collect::<Result<Vec<_>>>()?;
        DataFrame::from_arrays(self.schema.clone(), cols)
    }
}

/// The merged output of a spilled sort, as a source of pieces of `rows` rows made in order.
pub(crate) struct Merge {
    schema: SchemaRef,
    rows: usize,
    total: usize,
    state: Mutex<MergeState>,
}

struct MergeState {
    merger: Merger,
    memory: Reservation,
    /// The next piece to make.
    made: usize,
    /// Pieces made before they were asked for (their wave asked out of order).
    early: BTreeMap<usize, DataFrame>,
}

impl Merge {
    pub(super) fn new(
        runs: Vec<Arc<SpillFile>>,
        keys: Arc<KeyRows>,
        schema: SchemaRef,
        rows: usize,
        memory: Reservation,
    ) -> Result<Self> {
        let total = runs.iter().map(|r| r.rows()).sum();
        let merger = Merger::new(runs, keys, &memory)?;
        Ok(Self {
            schema,
            rows: rows.max(1),
            total,
            state: Mutex::new(MergeState {
                merger,
                memory,
                made: 0,
                early: BTreeMap::new(),
            }),
        })
    }
}

impl Merge {
    /// A merged piece without the keys that rode along (see `sort_frame`).
    fn narrow(&self, df: DataFrame) -> Result<DataFrame> {
        let width = self.schema.fields().len();
        if df.width() == width {
            return Ok(df);
        }
        if width == 0 {
            return Ok(DataFrame::with_height(df.height()));
        }
        DataFrame::from_arrays(self.schema.clone(), df.columns()[..width].to_vec())
    }
}

impl SequentialSource for Merge {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn num_morsels(&self) -> usize {
        self.total.div_ceil(self.rows)
    }

    fn morsel_rows(&self, i: usize) -> usize {
        self.rows.min(self.total.saturating_sub(i * self.rows))
    }

    fn morsel(&self, i: usize) -> Result<DataFrame> {
        let mut st = self
            .state
            .lock()
            .map_err(|_| Error::Internal("merge lock poisoned".into()))?;
        if let Some(df) = st.early.remove(&i) {
            return Ok(df);
        }
        if i < st.made {
            return Err(Error::Internal(format!("merged piece {i} asked for twice")));
        }
        loop {
            let MergeState { merger, memory, .. } = &mut *st;
            let df = merger.next(self.rows, memory)?.ok_or_else(lost_rows)?;
            let df = self.narrow(df)?;
            let done = st.made;
            st.made += 1;
            if done == i {
                return Ok(df);
            }
            // Pieces of the wave in flight, not held by the merge: not reserved.
            st.early.insert(done, df);
        }
    }
}
