//! A model's input read again on every pass, as fixed chunks of rows ([`RowChunks`]): for fits
//! whose input is over the memory budget and whose algorithm makes many passes (k-means'
//! Lloyd steps).
//!
//! A first pass counts every morsel's rows, so each morsel knows the row number it starts at.
//! On every pass after that, each morsel cuts its pieces at multiples of the chunk size: a
//! chunk wholly inside the morsel is handed on at once (in the morsel's worker), and the
//! fragments of a chunk that spans morsels are stitched together in morsel order by the
//! driver, a few pool widths of morsels at a time. Chunks therefore hold exactly the rows the
//! materialized input would hold at those row numbers, whatever the source's morsel sizes, so
//! a fit that works chunk by chunk gives the bits of its in-memory run.

use std::collections::BTreeMap;

use super::pipeline::{Carry, Running};
use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::physical::RowChunks;

/// Morsels per wave, in pool widths.
const WAVE_WIDTHS: usize = 4;

/// A re-readable pipeline's output as chunks of `chunk_rows` rows.
pub(super) struct Rescan<'a> {
    running: &'a Running<'a>,
    chunk_rows: usize,
    /// The row number each morsel starts at, and the total at the end.
    starts: Vec<usize>,
}

/// Fragments of chunks that span morsels: `(chunk, pieces)`, in row order.
type Fragments = Vec<(usize, Vec<DataFrame>)>;

impl<'a> Rescan<'a> {
    /// Count every morsel's rows (one pass) for chunks of `chunk_rows` rows.
    pub(super) fn new(running: &'a Running<'a>, chunk_rows: usize) -> Result<Self> {
        if running.has_windows() || !running.source.rereadable() {
            return Err(Error::Internal(
                "rescanning a source that cannot be re-read".into(),
            ));
        }
        let counts = running.run_morsels(
            0..running.num_morsels(),
            &mut Carry::default(),
            false,
            &|_| Ok(0usize),
            &|rows, piece, _| {
                *rows += piece.height();
                Ok(())
            },
        )?;
        let mut starts = Vec::with_capacity(counts.len() + 1);
        let mut at = 0;
        starts.push(0);
        for c in counts {
            at += c;
            starts.push(at);
        }
        Ok(Self {
            running,
            chunk_rows: chunk_rows.max(1),
            starts,
        })
    }

    /// Rows of chunk `c`.
    fn rows_of(&self, c: usize) -> usize {
        let n = self.rows();
        (n - c * self.chunk_rows).min(self.chunk_rows)
    }

    /// `parts` as one frame.
    fn stitch(&self, parts: &[DataFrame]) -> Result<DataFrame> {
        match parts {
            [one] => Ok(one.clone()),
            _ => DataFrame::vstack(self.running.schema(), parts),
        }
    }
}

/// One morsel's cutting of its pieces at chunk boundaries.
struct Cutter {
    /// Row number of the next row.
    at: usize,
    /// Rows of the chunk being filled, from row `from`.
    buf: Vec<DataFrame>,
    from: usize,
    fragments: Fragments,
}

impl Cutter {
    /// Take the next piece: chunks it completes that began in this morsel go to `f`.
    fn add(
        &mut self,
        mut piece: DataFrame,
        scan: &Rescan,
        f: &(dyn Fn(usize, &DataFrame) -> Result<()> + Sync),
    ) -> Result<()> {
        let (cr, n) = (scan.chunk_rows, scan.rows());
        while piece.height() > 0 {
            let c = self.at / cr;
            let end = ((c + 1) * cr).min(n);
            let take = (end - self.at).min(piece.height());
            if self.buf.is_empty() {
                self.from = self.at;
            }
            self.buf.push(piece.slice(0, take));
            piece = piece.slice(take, piece.height() - take);
            self.at += take;
            if self.at == end {
                let parts = std::mem::take(&mut self.buf);
                if self.from == c * cr {
                    f(c, &scan.stitch(&parts)?)?;
                } else {
                    self.fragments.push((c, parts));
                }
            }
        }
        Ok(())
    }

    /// The fragments, the unfinished chunk last.
    fn finish(mut self, cr: usize) -> Fragments {
        if !self.buf.is_empty() {
            self.fragments.push((self.from / cr, self.buf));
        }
        self.fragments
    }
}

impl RowChunks for Rescan<'_> {
    fn rows(&self) -> usize {
        self.starts.last().copied().unwrap_or(0)
    }

    fn chunk_rows(&self) -> usize {
        self.chunk_rows
    }

    fn for_each_chunk(&self, f: &(dyn Fn(usize, &DataFrame) -> Result<()> + Sync)) -> Result<()> {
        use rayon::prelude::*;
        let wave = self.running.wave() * WAVE_WIDTHS;
        let mut pending: BTreeMap<usize, Vec<DataFrame>> = BTreeMap::new();
        let mut carry = Carry::default();
        for morsels in self.running.waves(0, wave) {
            let start = |i: usize| {
                Ok(Cutter {
                    at: self.starts[i],
                    buf: vec![],
                    from: self.starts[i],
                    fragments: vec![],
                })
            };
            let cutters = self.running.run_morsels(
                morsels,
                &mut carry,
                false,
                &start,
                &|cut: &mut Cutter, piece, _| cut.add(piece, self, f),
            )?;
            let mut ready = vec![];
            for cut in cutters {
                for (c, parts) in cut.finish(self.chunk_rows) {
                    let slot = pending.entry(c).or_default();
                    slot.extend(parts);
                    if slot.iter().map(DataFrame::height).sum::<usize>() == self.rows_of(c) {
                        ready.extend(pending.remove(&c).map(|p| (c, p)));
                    }
                }
            }
            ready
                .par_iter()
                .try_for_each(|(c, parts)| f(*c, &self.stitch(parts)?))?;
        }
        if let Some(c) = pending.keys().next() {
            return Err(Error::Internal(format!(
                "chunk {c} of a re-read input came out short"
            )));
        }
        Ok(())
    }

    fn chunk(&self, c: usize) -> Result<DataFrame> {
        let (lo, hi) = (c * self.chunk_rows, c * self.chunk_rows + self.rows_of(c));
        // The morsels holding rows lo..hi.
        let first = self.starts.partition_point(|&s| s <= lo).saturating_sub(1);
        let last = self.starts.partition_point(|&s| s < hi).max(first + 1);
        let starts = &self.starts;
        let parts = self.running.run_morsels(
            first..last.min(self.running.num_morsels()),
            &mut Carry::default(),
            false,
            &|i| Ok((starts[i], vec![])),
            &|(at, out): &mut (usize, Vec<DataFrame>), piece, _| {
                let (p0, p1) = (*at, *at + piece.height());
                *at = p1;
                let (a, b) = (p0.max(lo), p1.min(hi));
                if a < b {
                    out.push(piece.slice(a - p0, b - a));
                }
                Ok(())
            },
        )?;
        let parts: Vec<DataFrame> = parts.into_iter().flat_map(|(_, p)| p).collect();
        self.stitch(&parts)
    }
}
