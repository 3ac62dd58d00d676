//! Feature columns over several segments of rows: a fit's input taken as the executor's
//! pieces are (a mapped Arrow IPC file's record batches, a frame's slices, a Parquet scan's
//! decoded pieces) instead of copied into one frame first. Copying a 400 MB input into fresh
//! memory cost more than the fit's own passes over it (the kernel clears every new page).
//!
//! Pieces that are adjacent stretches of one allocation (the slices a source cuts from one
//! record batch or one frame's columns) are joined back into one segment, so a file of a
//! single batch, or a frame, is fitted over its own buffers as one contiguous column each.
//!
//! The sums that run along a column (`sum4`'s four partial sums, [`shifted_sums`]) have
//! versions over a column's stretch given as pieces that add the same values into the same
//! partial sums in the same order as over the contiguous stretch: the results are the same
//! bits wherever the segments are cut.

use std::sync::Arc;

use arrow::array::{Array, ArrayRef, PrimitiveArray};
use arrow::buffer::{Buffer, ScalarBuffer};
use arrow::datatypes::{ArrowPrimitiveType, Float32Type, Float64Type, Schema};

use super::data::{null_error, shifted_sums, sum4, Data, Elem, Features};
use crate::error::{Error, Result};
use crate::frame::DataFrame;

/// Feed the values of `pieces` (`len` in all) to `lane(l, v)`, `l` being the value's position
/// modulo 4, for the first `len - len % 4` of them, and the rest to `tail(v)`, in order: what a
/// `chunks_exact(4)` walk over the concatenated values does.
#[inline]
fn by_lanes<'p, T: Elem>(
    pieces: impl Iterator<Item = &'p [T]>,
    len: usize,
    mut lane: impl FnMut(usize, T),
    mut tail: impl FnMut(T),
) {
    let body = len - len % 4;
    let mut pos = 0;
    for p in pieces {
        let mut i = 0;
        // Up to the next multiple of 4, one by one.
        while i < p.len() && pos % 4 != 0 && pos < body {
            lane(pos % 4, p[i]);
            (i, pos) = (i + 1, pos + 1);
        }
        let whole = (p.len() - i).min(body.saturating_sub(pos)) / 4 * 4;
        for c in p[i..i + whole].chunks_exact(4) {
            lane(0, c[0]);
            lane(1, c[1]);
            lane(2, c[2]);
            lane(3, c[3]);
        }
        (i, pos) = (i + whole, pos + whole);
        for &v in &p[i..] {
            if pos < body {
                lane(pos % 4, v);
            } else {
                tail(v);
            }
            pos += 1;
        }
    }
}

/// [`sum4`] of the concatenation of `pieces` (`len` values in all), the same bits.
pub(crate) fn sum4_pieces<'p, T: Elem>(
    mut pieces: impl Iterator<Item = &'p [T]>,
    len: usize,
) -> f64 {
    let Some(first) = pieces.next() else {
        return sum4::<T>(&[]);
    };
    if first.len() == len {
        return sum4(first);
    }
    let mut acc = [0.0f64; 4];
    let (mut rest, mut k) = ([0.0f64; 3], 0);
    by_lanes(
        std::iter::once(first).chain(pieces),
        len,
        |l, v| acc[l] += v.into_f64(),
        |v| {
            rest[k] = v.into_f64();
            k += 1;
        },
    );
    let tail: f64 = rest[..k].iter().sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// [`shifted_sums`] of the concatenation of `pieces` (`len` values in all), the same bits.
pub(crate) fn shifted_sums_pieces<'p, T: Elem>(
    mut pieces: impl Iterator<Item = &'p [T]>,
    len: usize,
    s: f64,
) -> (f64, f64) {
    let Some(first) = pieces.next() else {
        return shifted_sums::<T>(&[], s);
    };
    if first.len() == len {
        return shifted_sums(first, s);
    }
    let (mut a, mut q) = ([0.0f64; 4], [0.0f64; 4]);
    let (mut ta, mut tq) = (0.0, 0.0);
    by_lanes(
        std::iter::once(first).chain(pieces),
        len,
        |l, v| {
            let t = v.into_f64() - s;
            a[l] += t;
            q[l] += t * t;
        },
        |v| {
            let t = v.into_f64() - s;
            ta += t;
            tq += t * t;
        },
    );
    (
        (a[0] + a[1]) + (a[2] + a[3]) + ta,
        (q[0] + q[1]) + (q[2] + q[3]) + tq,
    )
}

impl Features {
    /// Take `names` from the rows of `pieces` (in order; `schema` is theirs), keeping them in
    /// place as segments (adjacent stretches of one allocation joined into one). Errors are
    /// those of [`Features::from_frame`] on the pieces stacked, rows numbered from the first.
    /// The pieces are let go as their columns are taken: what stays is the features' arrays,
    /// one per segment and feature (a piece of a wide input is 10,000 small arrays).
    pub(crate) fn from_pieces(
        schema: &Schema,
        pieces: Vec<DataFrame>,
        names: &[String],
        model: &str,
    ) -> Result<Self> {
        let mut pieces: Vec<DataFrame> = pieces.into_iter().filter(|p| p.height() > 0).collect();
        if pieces.len() <= 1 {
            let one = pieces
                .pop()
                .unwrap_or_else(|| DataFrame::empty(Arc::new(schema.clone())));
            return Self::from_frame(&one, names, model);
        }
        // The types and names, checked as for one frame.
        let f32s = Self::from_frame(&pieces[0].slice(0, 0), names, model)?.is_f32s();
        let heights: Vec<usize> = pieces.iter().map(DataFrame::height).collect();
        let mut columns = pieces
            .into_iter()
            .map(|p| {
                (0..names.len())
                    .map(|j| column_at(&p, j, &names[j]).map(|a| Some(a.clone())))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        let (starts, data) = if f32s {
            let (starts, a) = segments::<Float32Type>(&heights, names, model, &mut columns)?;
            (starts, Data::F32(a))
        } else {
            let (starts, a) = segments::<Float64Type>(&heights, names, model, &mut columns)?;
            (starts, Data::F64(a))
        };
        Ok(Self {
            names: names.to_vec(),
            n: heights.iter().sum(),
            starts,
            data,
        })
    }

    /// Whether the features are fitted as `f32`.
    fn is_f32s(&self) -> bool {
        matches!(self.data, Data::F32(_))
    }

    /// These features with every column in one segment (concatenated when there are several,
    /// a column at a time, each column's segments let go once copied): for fits that read
    /// rows at random (mini-batch k-means' samples, least squares' residuals).
    pub(crate) fn contiguous(self) -> Result<Features> {
        let segments = self.starts.len() - 1;
        if segments <= 1 {
            return Ok(self);
        }
        let d = self.names.len();
        fn join<P: ArrowPrimitiveType>(
            arrays: Vec<PrimitiveArray<P>>,
            segments: usize,
            d: usize,
        ) -> Result<Vec<PrimitiveArray<P>>> {
            let mut slots: Vec<Option<PrimitiveArray<P>>> = arrays.into_iter().map(Some).collect();
            (0..d)
                .map(|j| {
                    let parts: Vec<PrimitiveArray<P>> = (0..segments)
                        .filter_map(|s| slots[s * d + j].take())
                        .collect();
                    let refs: Vec<&dyn Array> = parts.iter().map(|a| a as &dyn Array).collect();
                    let joined = arrow::compute::concat(&refs)?;
                    joined
                        .as_any()
                        .downcast_ref::<PrimitiveArray<P>>()
                        .cloned()
                        .ok_or_else(|| Error::Internal("concat gave another type".into()))
                })
                .collect()
        }
        let data = match self.data {
            Data::F64(a) => Data::F64(join(a, segments, d)?),
            Data::F32(a) => Data::F32(join(a, segments, d)?),
        };
        Ok(Features {
            starts: vec![0, self.n],
            names: self.names,
            n: self.n,
            data,
        })
    }

    /// How many segments the rows lie in.
    #[cfg(test)]
    pub(crate) fn segments(&self) -> usize {
        self.starts.len() - 1
    }
}

/// Column `name` of a piece, by position first (see [`Features::from_frame`]).
fn column_at<'a>(df: &'a DataFrame, pos: usize, name: &str) -> Result<&'a ArrayRef> {
    match df.schema().fields().get(pos) {
        Some(f) if f.name() == name => Ok(&df.columns()[pos]),
        _ => df.column(name),
    }
}

/// The pieces' columns (`columns[piece][feature]`, taken one feature at a time) cast to `P`
/// (in place when they already are), checked for nulls column by column as
/// [`Features::from_frame`] checks the stacked column; in segments: runs of pieces whose every
/// column continues the previous piece's buffer are joined into one. Returns the segments'
/// first rows (then the total) and their arrays, segment-major.
fn segments<P: ArrowPrimitiveType>(
    heights: &[usize],
    names: &[String],
    model: &str,
    columns: &mut [Vec<Option<ArrayRef>>],
) -> Result<(Vec<usize>, Vec<PrimitiveArray<P>>)> {
    let d = names.len();
    fn plain<P: ArrowPrimitiveType>(a: &Option<ArrayRef>) -> Option<&PrimitiveArray<P>> {
        a.as_ref()
            .and_then(|a| a.as_any().downcast_ref::<PrimitiveArray<P>>())
            .filter(|a| a.null_count() == 0)
    }
    // Runs of pieces continuing one another in every column (as they are: a cast copies).
    let mut runs: Vec<(usize, usize)> = vec![];
    for i in 0..heights.len() {
        let joins = i > 0
            && (0..d).all(
                |j| match (plain::<P>(&columns[i - 1][j]), plain::<P>(&columns[i][j])) {
                    (Some(p), Some(q)) => continues(p, q),
                    _ => false,
                },
            );
        match runs.last_mut() {
            Some((_, end)) if joins => *end = i + 1,
            _ => runs.push((i, i + 1)),
        }
    }
    // Per feature, its array in each segment.
    let mut by_feature: Vec<Vec<PrimitiveArray<P>>> = Vec::with_capacity(d);
    for (j, name) in names.iter().enumerate() {
        let (mut nulls, mut first, mut row) = (0, None, 0);
        let mut typed = Vec::with_capacity(heights.len());
        for (piece, h) in columns.iter_mut().zip(heights) {
            let a = piece[j]
                .take()
                .ok_or_else(|| Error::Internal(format!("feature {name} taken twice")))?;
            let c = super::data::cast_feature::<P>(&a, name, model)?;
            if c.null_count() > 0 {
                nulls += c.null_count();
                first = first.or_else(|| (0..c.len()).find(|&r| c.is_null(r)).map(|r| row + r));
            }
            row += h;
            typed.push(c);
        }
        if nulls > 0 {
            return Err(null_error(model, name, nulls, first.unwrap_or(0)));
        }
        by_feature.push(
            runs.iter()
                .map(|&(a, b)| {
                    if b - a == 1 {
                        typed[a].clone()
                    } else {
                        joined(&typed[a..b].iter().collect::<Vec<_>>())
                    }
                })
                .collect(),
        );
    }
    let mut starts = Vec::with_capacity(runs.len() + 1);
    let mut row = 0;
    for &(a, b) in &runs {
        starts.push(row);
        row += heights[a..b].iter().sum::<usize>();
    }
    starts.push(row);
    let mut arrays = Vec::with_capacity(runs.len() * d);
    for s in 0..runs.len() {
        arrays.extend(by_feature.iter().map(|f| f[s].clone()));
    }
    Ok((starts, arrays))
}

/// Whether `next`'s values start right where `prev`'s end, in the same allocation (the same
/// underlying bytes: one batch's or one column's buffer, sliced).
fn continues<P: ArrowPrimitiveType>(prev: &PrimitiveArray<P>, next: &PrimitiveArray<P>) -> bool {
    let (p, q) = (prev.values().inner(), next.values().inner());
    p.data_ptr() == q.data_ptr() && p.as_ptr().wrapping_add(p.len()) == q.as_ptr()
}

/// One array over the values of `run` (pieces each [`continues`] the one before), without
/// copying them.
fn joined<P: ArrowPrimitiveType>(run: &[&PrimitiveArray<P>]) -> PrimitiveArray<P> {
    let buffers: Vec<Buffer> = run.iter().map(|a| a.values().inner().clone()).collect();
    let len: usize = run.iter().map(|a| a.len()).sum();
    let bytes: usize = buffers.iter().map(Buffer::len).sum();
    let start = buffers[0].as_ptr();
    let owner: Arc<Vec<Buffer>> = Arc::new(buffers);
    let ptr = std::ptr::NonNull::new(start as *mut u8).unwrap_or(std::ptr::NonNull::dangling());
    // SAFETY: every buffer of the run has the same underlying allocation (`continues` found the
    // same `data_ptr`, the start of the bytes each buffer slices: one address lies in one
    // allocation) and starts where the previous one ends, so `start..start + bytes` is the
    // buffers' ranges laid end to end, all inside that allocation, readable and never written
    // (Arrow buffers are immutable). `owner` holds every one of the buffers, so each part of
    // the range stays alive as long as the new buffer does.
    let buffer = unsafe { Buffer::from_custom_allocation(ptr, bytes, owner) };
    PrimitiveArray::<P>::new(ScalarBuffer::new(buffer, 0, len), None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::data::{with_cols, CHUNK};

    /// A frame of `d` Float32 (or Float64) columns with awkward values (NaN-free).
    fn frame(n: usize, d: usize, f32s: bool) -> (DataFrame, Vec<String>) {
        let x = ndarray::Array2::from_shape_fn((n, d), |(i, j)| {
            ((i * 37 + j * 11) % 101) as f64 / 3.0 + (i % 7) as f64 * 1e-3 + 1000.0
        });
        if f32s {
            crate::ml::chunks::named_frame(&x.mapv(|v| v as f32))
        } else {
            crate::ml::chunks::named_frame(&x)
        }
    }

    /// `df` cut at `cuts`, each piece a copy of its own (so nothing is joined back).
    fn copied_pieces(df: &DataFrame, cuts: &[usize]) -> Vec<DataFrame> {
        let mut out = vec![];
        let mut lo = 0;
        for &hi in cuts.iter().chain(std::iter::once(&df.height())) {
            let piece = df.slice(lo, hi - lo);
            let cols: Vec<ArrayRef> = piece
                .columns()
                .iter()
                // `concat` of one array hands it back uncopied: an empty second one makes it copy.
                .map(|c| {
                    arrow::compute::concat(&[c.as_ref(), c.slice(0, 0).as_ref()]).expect("copy")
                })
                .collect();
            out.push(DataFrame::from_arrays(piece.schema().clone(), cols).expect("piece"));
            lo = hi;
        }
        out
    }

    #[test]
    fn lane_sums_over_pieces_are_the_contiguous_bits() {
        let v: Vec<f64> = (0..1003)
            .map(|i| (i as f64 * 0.37).sin() * 1e3 + 0.1)
            .collect();
        for cuts in [vec![], vec![1, 2, 3], vec![5, 6, 999, 1001]] {
            for len in [1003, 1000, 7, 3, 0] {
                // `v[..len]` cut at the cuts below `len`.
                let mut bounds: Vec<usize> = cuts.iter().copied().filter(|&c| c < len).collect();
                bounds.insert(0, 0);
                bounds.push(len);
                let pieces: Vec<&[f64]> = bounds.windows(2).map(|w| &v[w[0]..w[1]]).collect();
                let got = sum4_pieces(pieces.iter().copied(), len);
                assert_eq!(
                    got.to_bits(),
                    sum4(&v[..len]).to_bits(),
                    "cuts {cuts:?} len {len}"
                );
                let (a, q) = shifted_sums_pieces(pieces.iter().copied(), len, 2.5);
                let (wa, wq) = shifted_sums(&v[..len], 2.5);
                assert_eq!((a.to_bits(), q.to_bits()), (wa.to_bits(), wq.to_bits()));
            }
        }
    }

    #[test]
    fn slices_of_one_buffer_join_into_one_segment() {
        let (df, names) = frame(1000, 5, true);
        let sliced: Vec<DataFrame> = (0..1000)
            .step_by(192)
            .map(|lo| df.slice(lo, 192.min(1000 - lo)))
            .collect();
        let f =
            Features::from_pieces(df.schema(), sliced.clone(), &names, "pca").expect("features");
        assert_eq!(f.segments(), 1);
        let copied = copied_pieces(&df, &[192, 384, 700]);
        let f = Features::from_pieces(df.schema(), copied, &names, "pca").expect("features");
        assert_eq!(f.segments(), 4);
        // The joined segment reads the frame's own values.
        let g =
            Features::from_pieces(df.schema(), sliced.clone(), &names, "pca").expect("features");
        with_cols!(g, c => {
            let whole = Features::from_frame(&df, &names, "pca").expect("features");
            with_cols!(whole, w => for j in 0..5 {
                assert!(c.values(j).zip(w.values(j)).all(|(a, b)| a.into_f64().to_bits() == b.into_f64().to_bits()));
                assert_eq!(c.values(j).count(), 1000);
            });
        });
    }

    #[test]
    fn nulls_and_types_are_reported_as_for_the_stacked_frame() {
        let a = crate::df!("a" => [1.0, 2.0], "b" => [1.0, 2.0]).expect("df");
        let b = crate::df!("a" => [3.0, 4.0], "b" => [Some(1.0), None]).expect("df");
        let c = crate::df!("a" => [5.0, 6.0], "b" => [None, Some(1.0)]).expect("df");
        let names: Vec<String> = vec!["a".into(), "b".into()];
        let e = Features::from_pieces(a.schema(), vec![a.clone(), b, c], &names, "kmeans")
            .expect_err("nulls");
        assert!(
            e.to_string()
                .contains("\"b\" has 2 null values (first at row 3)"),
            "{e}"
        );
        let s = crate::df!("a" => [1.0, 2.0], "b" => ["x", "y"]).expect("df");
        let e = Features::from_pieces(s.schema(), vec![s.clone(), s.clone()], &names, "pca")
            .expect_err("strings");
        // The error the stacked frame gives, whatever its wording.
        let stacked =
            DataFrame::vstack(s.schema().clone(), &[s.clone(), s.clone()]).expect("stack");
        let want = Features::from_frame(&stacked, &names, "pca").expect_err("strings");
        assert_eq!(e.to_string(), want.to_string());
        // A mix of Float32 and integers is fitted in f64, as one frame would be.
        let m = crate::df!("a" => [1.0f32, 2.0], "b" => [1i64, 2]).expect("df");
        let f = Features::from_pieces(m.schema(), vec![m.clone(), m.clone()], &names, "pca")
            .expect("features");
        assert!(!f.is_f32());
        assert_eq!(f.n, 4);
        // No rows at all.
        let f = Features::from_pieces(m.schema(), vec![], &names, "pca").expect("features");
        assert_eq!((f.n, f.segments()), (0, 0));
    }

    #[test]
    fn passes_over_segments_give_the_contiguous_bits() {
        // Segments cut inside chunks, tiles and fused blocks (not at multiples of 4 either).
        let n = 2 * CHUNK + 301;
        for f32s in [true, false] {
            let (df, names) = frame(n, 70, f32s);
            let cuts = [1, 130, 1001, CHUNK - 3, CHUNK + 128, 2 * CHUNK + 5];
            let seg = Features::from_pieces(df.schema(), copied_pieces(&df, &cuts), &names, "t")
                .expect("segments");
            assert_eq!(seg.segments(), cuts.len() + 1);
            let whole = Features::from_frame(&df, &names, "t").expect("whole");
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            let summary = |f: &Features| {
                with_cols!(f, c => {
                    let (m, dev) = c.means_and_sq_devs();
                    let means = c.means();
                    let (x, sq) = c.row_major_minus(&means);
                    let sums: Vec<f64> = (0..c.d()).map(|j| c.sum(j)).collect();
                    let q = crate::ml::linalg::ColMajor {
                        data: (0..c.d() * 3).map(|i| ((i * 7) % 11) as f64 - 5.0).collect(),
                        nrows: c.d(),
                        ncols: 3,
                    };
                    let y = c.centred_mul(&means, &q);
                    let w = c.centred_tmul(&means, &y);
                    let (y2, w2) = c.centred_mul_tmul(&means, &q);
                    let copy = c.centred_copy(&means).data.iter().map(|v| v.into_f64()).collect::<Vec<_>>();
                    let row: Vec<f64> = (0..c.d()).map(|j| c.value(j, CHUNK + 129).into_f64()).collect();
                    [m, dev, means, x, sq, sums, y.data, w.data, y2.data, w2.data, copy, row, c.first_row()]
                        .iter()
                        .map(|v| bits(v))
                        .collect::<Vec<_>>()
                })
            };
            for threads in [1, 2] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("pool");
                let (a, b) = pool.install(|| (summary(&seg), summary(&whole)));
                assert_eq!(a, b, "f32 {f32s}, {threads} threads");
            }
            // Rows cut across a segment boundary read the same values.
            with_cols!(seg, c => with_cols!(whole, w => {
                let (cr, wr) = (c.rows(CHUNK - 10, CHUNK + 200), w.rows(CHUNK - 10, CHUNK + 200));
                for j in [0, 69] {
                    assert!(cr.values(j).zip(wr.values(j)).all(|(a, b)| a.into_f64().to_bits() == b.into_f64().to_bits()));
                }
            }));
            let joined = seg.contiguous().expect("contiguous");
            assert_eq!(joined.segments(), 1);
            assert_eq!(summary(&joined), summary(&whole));
        }
    }
}
