//! Model input: the feature columns of a collected frame as checked slices, and the chunked
//! passes every model starts with (column means and variances, the centred row-major copy
//! k-means runs on).
//!
//! Float32 features stay Float32: a frame whose feature columns are all Float32 is fitted on
//! its own `f32` buffers ([`View::F32`]), never widened to a second `f64` copy; passes convert
//! a few values at a time and accumulate in `f64`. Anything else (integers, Float64, a mix) is
//! cast to Float64 once, as scikit-learn's `check_array` does.
//!
//! Every pass cuts rows into fixed [`CHUNK`]-row pieces processed in parallel and merges the
//! per-chunk partial results in chunk order, so results are identical for any thread count.
//!
//! The columns may lie in several segments of rows (the executor's pieces, e.g. the record
//! batches of a mapped Arrow IPC file, taken as they are instead of copied into one frame:
//! `super::segments`). Every pass walks a column's stretch of rows segment by segment and
//! adds its values in the same order, into the same partial sums, as over one contiguous
//! column, so the results do not depend on where the segments are cut.

use std::collections::HashMap;

use arrow::array::{Array, ArrayRef, PrimitiveArray};
use arrow::datatypes::{ArrowPrimitiveType, DataType, Float32Type, Float64Type, Schema};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::frame::DataFrame;

/// Rows per chunk of every parallel pass. Fixed (never derived from the thread count) so that
/// partial sums, and therefore results, do not depend on how many threads run them.
pub(crate) const CHUNK: usize = 4096;

/// The element types a fit runs on: `f64`, and `f32` for Float32 inputs.
pub(crate) trait Elem:
    faer::traits::RealField
    + super::linalg::Backend
    + std::ops::Sub<Output = Self>
    + Copy
    + Send
    + Sync
    + Default
    + std::fmt::Debug
    + 'static
{
    /// The Arrow type whose buffers hold these values.
    type Arrow: ArrowPrimitiveType<Native = Self>;
    fn into_f64(self) -> f64;
    /// Round an `f64` to this type.
    fn from_f64_rounded(v: f64) -> Self;
    /// `acc += a b` for column-major `a` and `b` in this type, `acc` (column-major) in `f64`;
    /// `tmp` is scratch space.
    fn add_product(
        acc: &mut [f64],
        a: faer::MatRef<'_, Self>,
        b: faer::MatRef<'_, Self>,
        tmp: &mut Vec<Self>,
    );
    /// `f` on this thread's packed-block buffer (kept from call to call: a block of a few
    /// MiB allocated afresh each time would be faulted in page by page every time).
    fn with_block_buffer<R>(f: impl FnOnce(&mut Vec<Self>) -> R) -> R;
}

thread_local! {
    static BLOCK_F64: std::cell::RefCell<Vec<f64>> = const { std::cell::RefCell::new(Vec::new()) };
    static BLOCK_F32: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Elem for f64 {
    type Arrow = Float64Type;
    #[inline(always)]
    fn into_f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn from_f64_rounded(v: f64) -> Self {
        v
    }
    fn add_product(
        acc: &mut [f64],
        a: faer::MatRef<'_, f64>,
        b: faer::MatRef<'_, f64>,
        _: &mut Vec<f64>,
    ) {
        super::products::add_product_f64(acc, a, b);
    }
    fn with_block_buffer<R>(f: impl FnOnce(&mut Vec<Self>) -> R) -> R {
        BLOCK_F64.with(|c| f(&mut c.borrow_mut()))
    }
}

impl Elem for f32 {
    type Arrow = Float32Type;
    #[inline(always)]
    fn into_f64(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn from_f64_rounded(v: f64) -> Self {
        v as f32
    }
    fn add_product(
        acc: &mut [f64],
        a: faer::MatRef<'_, f32>,
        b: faer::MatRef<'_, f32>,
        tmp: &mut Vec<f32>,
    ) {
        super::products::add_product_via(acc, a, b, tmp);
    }
    fn with_block_buffer<R>(f: impl FnOnce(&mut Vec<Self>) -> R) -> R {
        BLOCK_F32.with(|c| f(&mut c.borrow_mut()))
    }
}

/// The feature columns' buffers, segment-major: segment `s`'s stretch of feature `j` is entry
/// `s * d + j`.
#[derive(Debug)]
pub(super) enum Data {
    F64(Vec<PrimitiveArray<Float64Type>>),
    F32(Vec<PrimitiveArray<Float32Type>>),
}

/// Feature columns checked free of nulls, as `f64` (or `f32`, see the module docs). NaN and
/// infinity are caught by [`Cols::check_finite`] from sums the models compute anyway (a NaN or
/// infinite value makes its column's sum non-finite), which saves a separate pass.
#[derive(Debug)]
pub(crate) struct Features {
    pub names: Vec<String>,
    pub n: usize,
    /// The first row of each segment, then `n` (`[0, n]` for one segment, `[0]` for none).
    pub(super) starts: Vec<usize>,
    pub(super) data: Data,
}

/// Borrowed feature columns of one element type: what the fitting passes run on. The rows lie
/// in one or more segments (see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct Cols<'a, T> {
    pub names: &'a [String],
    pub n: usize,
    /// Features.
    d: usize,
    /// The first row of each segment, then `n`.
    starts: Vec<usize>,
    /// Segment-major: segment `s`'s stretch of feature `j` is `segs[s * d + j]`.
    segs: Vec<&'a [T]>,
}

/// Where a stretch of rows lies: per segment it touches, in row order, the segment and the
/// range of offsets inside it.
pub(crate) type Span = Vec<(usize, usize, usize)>;

/// [`Features`] seen with their element type.
pub(crate) enum View<'a> {
    F64(Cols<'a, f64>),
    F32(Cols<'a, f32>),
}

/// Run `$body` with `$c` bound to the typed columns of `$features` (a `Cols<f64>` or a
/// `Cols<f32>`): the generic fitting code is instantiated for both.
macro_rules! with_cols {
    ($features:expr, $c:ident => $body:expr) => {
        match $features.view() {
            $crate::ml::data::View::F64($c) => $body,
            $crate::ml::data::View::F32($c) => $body,
        }
    };
}
pub(crate) use with_cols;

/// `df`'s column `name`, found by position first: model inputs are usually exactly the
/// features in order, and a by-name lookup per column is quadratic for wide frames.
fn column_at<'a>(df: &'a DataFrame, pos: usize, name: &str) -> Result<&'a ArrayRef> {
    match df.schema().fields().get(pos) {
        Some(f) if f.name() == name => Ok(&df.columns()[pos]),
        _ => df.column(name),
    }
}

impl Features {
    /// Take `names` from `df`; a null is an [`Error::Model`] naming the column (and the first
    /// null row). All-Float32 features stay Float32; others are cast to Float64.
    pub(crate) fn from_frame(df: &DataFrame, names: &[String], model: &str) -> Result<Self> {
        let columns = names
            .iter()
            .enumerate()
            .map(|(i, name)| column_at(df, i, name))
            .collect::<Result<Vec<_>>>()?;
        let all_f32 =
            !columns.is_empty() && columns.iter().all(|a| *a.data_type() == DataType::Float32);
        let data = if all_f32 {
            Data::F32(typed::<Float32Type>(&columns, names, model)?)
        } else {
            Data::F64(typed::<Float64Type>(&columns, names, model)?)
        };
        let n = df.height();
        let (starts, data) = if n == 0 {
            // No segment at all: a pass over no rows touches none.
            let empty = match data {
                Data::F32(_) => Data::F32(vec![]),
                Data::F64(_) => Data::F64(vec![]),
            };
            (vec![0], empty)
        } else {
            (vec![0, n], data)
        };
        Ok(Self {
            names: names.to_vec(),
            n,
            starts,
            data,
        })
    }

    /// Features from a row-major matrix, named `x0, x1, ...` (an `f32` matrix stays `f32`).
    pub(crate) fn from_ndarray<T: crate::frame::NdElement>(
        x: &ndarray::Array2<T>,
        model: &str,
    ) -> Result<Self> {
        let names: Vec<String> = (0..x.ncols()).map(|j| format!("x{j}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let df = DataFrame::from_ndarray(x, &refs)?;
        Self::from_frame(&df, &names, model)
    }

    /// The columns with their element type.
    pub(crate) fn view(&self) -> View<'_> {
        fn cols<'a, T>(f: &'a Features, segs: Vec<&'a [T]>) -> Cols<'a, T> {
            Cols {
                names: &f.names,
                n: f.n,
                d: f.names.len(),
                starts: f.starts.clone(),
                segs,
            }
        }
        match &self.data {
            Data::F64(a) => View::F64(cols(self, a.iter().map(|c| c.values().as_ref()).collect())),
            Data::F32(a) => View::F32(cols(self, a.iter().map(|c| c.values().as_ref()).collect())),
        }
    }

    /// The columns as `f64` (Float32 ones widened: for models that copy their input anyway).
    pub(crate) fn widened(&self) -> Features {
        let data = match &self.data {
            Data::F64(a) => Data::F64(a.clone()),
            Data::F32(a) => Data::F64(
                a.iter()
                    .map(|c| c.values().iter().map(|&v| f64::from(v)).collect())
                    .collect(),
            ),
        };
        Features {
            names: self.names.clone(),
            n: self.n,
            starts: self.starts.clone(),
            data,
        }
    }

    /// The `f64` columns (after [`Features::widened`], or of a frame without Float32 features).
    pub(crate) fn f64_cols(&self) -> Result<Cols<'_, f64>> {
        match self.view() {
            View::F64(c) => Ok(c),
            View::F32(_) => Err(Error::Internal("f64 columns asked of f32 features".into())),
        }
    }

    /// Whether the columns are Float32.
    #[cfg(test)]
    pub(crate) fn is_f32(&self) -> bool {
        matches!(self.data, Data::F32(_))
    }
}

/// Feature column `a` (named `name`) cast to `P` (a no-op when it already is); a column that
/// does not cast is reported as not numeric.
pub(super) fn cast_feature<P: ArrowPrimitiveType>(
    a: &ArrayRef,
    name: &str,
    model: &str,
) -> Result<PrimitiveArray<P>> {
    let c = arrow::compute::cast(a, &P::DATA_TYPE).map_err(|_| {
        Error::Model(format!(
            "{model}: feature column \"{name}\" is {}, not numeric",
            crate::frame::display::dtype_name(a.data_type())
        ))
    })?;
    c.as_any()
        .downcast_ref::<PrimitiveArray<P>>()
        .cloned()
        .ok_or_else(|| Error::Internal("cast gave another type".into()))
}

/// Cast each column to `P` (a no-op when it already is) and check for nulls.
fn typed<P: ArrowPrimitiveType>(
    columns: &[&ArrayRef],
    names: &[String],
    model: &str,
) -> Result<Vec<PrimitiveArray<P>>> {
    columns
        .iter()
        .zip(names)
        .map(|(a, name)| {
            let c = cast_feature::<P>(a, name, model)?;
            if c.null_count() > 0 {
                let first = (0..c.len()).find(|&i| c.is_null(i)).unwrap_or(0);
                return Err(null_error(model, name, c.null_count(), first));
            }
            Ok(c)
        })
        .collect()
}

impl<'a, T: Elem> Cols<'a, T> {
    /// Number of features.
    pub(crate) fn d(&self) -> usize {
        self.d
    }

    /// Where rows `lo..hi` lie (see [`Span`]).
    pub(crate) fn span(&self, lo: usize, hi: usize) -> Span {
        let mut out = Vec::with_capacity(1);
        if lo >= hi {
            return out;
        }
        // The segment holding row `lo`: the last one starting at or before it.
        let first = self.starts.partition_point(|&s| s <= lo) - 1;
        for s in first..self.starts.len() - 1 {
            let (s0, s1) = (self.starts[s], self.starts[s + 1]);
            if s0 >= hi {
                break;
            }
            out.push((s, lo.max(s0) - s0, hi.min(s1) - s0));
        }
        out
    }

    /// Feature `j`'s values at offsets `a..b` of segment `s` (an entry of a [`Span`]).
    #[inline]
    pub(crate) fn piece(&self, s: usize, j: usize, a: usize, b: usize) -> &'a [T] {
        &self.segs[s * self.d + j][a..b]
    }

    /// Feature `j`'s values over `span`, stretch by stretch in row order.
    #[inline]
    pub(crate) fn pieces<'s>(
        &'s self,
        j: usize,
        span: &'s [(usize, usize, usize)],
    ) -> impl Iterator<Item = &'a [T]> + 's {
        span.iter().map(move |&(s, a, b)| self.piece(s, j, a, b))
    }

    /// Feature `j`'s values of every row, in row order.
    pub(crate) fn values(&self, j: usize) -> impl Iterator<Item = T> + '_ {
        (0..self.starts.len() - 1).flat_map(move |s| self.segs[s * self.d + j].iter().copied())
    }

    /// Feature `j`'s values as one slice, when the rows lie in one segment (or none).
    pub(crate) fn whole(&self, j: usize) -> Option<&'a [T]> {
        match self.starts.len() {
            1 => Some(&[]),
            2 => Some(self.segs[j]),
            _ => None,
        }
    }

    /// Feature `j`'s value in row `i`.
    #[inline]
    pub(crate) fn value(&self, j: usize, i: usize) -> T {
        let s = self.starts.partition_point(|&s| s <= i) - 1;
        self.segs[s * self.d + j][i - self.starts[s]]
    }

    /// The row of feature `j`'s first NaN or infinite value, if any.
    pub(crate) fn first_non_finite(&self, j: usize) -> Option<usize> {
        (0..self.starts.len() - 1)
            .find_map(|s| first_non_finite(self.segs[s * self.d + j]).map(|i| self.starts[s] + i))
    }

    /// Given per-column sums (or means) of the data, report the first NaN or infinite value of
    /// any column whose sum is not finite as an [`Error::Model`] naming the column and row.
    pub(crate) fn check_finite(&self, sums: &[f64], model: &str) -> Result<()> {
        for (j, s) in sums.iter().enumerate() {
            if s.is_finite() {
                continue;
            }
            if let Some(i) = self.first_non_finite(j) {
                let v = self.value(j, i).into_f64();
                return Err(non_finite_error(model, &self.names[j], i, v.is_nan()));
            }
        }
        Ok(())
    }

    /// Feature `j`'s sum over all rows, as [`sum4`] adds a contiguous column.
    pub(crate) fn sum(&self, j: usize) -> f64 {
        let span = self.span(0, self.n);
        super::segments::sum4_pieces(self.pieces(j, &span), self.n)
    }

    /// Column means, summed chunk by chunk (in `f64`) and merged in chunk order.
    pub(crate) fn means(&self) -> Vec<f64> {
        let (n, d) = (self.n, self.d());
        if n == 0 {
            return vec![f64::NAN; d];
        }
        let parts: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let (lo, hi) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
                let span = self.span(lo, hi);
                (0..d)
                    .map(|j| super::segments::sum4_pieces(self.pieces(j, &span), hi - lo))
                    .collect()
            })
            .collect();
        merge(parts, d).iter().map(|s| s / n as f64).collect()
    }

    /// Column means and sums of squared deviations from them, in one pass: sums of
    /// `x - x_0` and `(x - x_0)²` around each column's first value (a provisional mean that
    /// keeps the final `Σ(x - x_0)² - n (m - x_0)²` from cancelling), merged in chunk order.
    pub(crate) fn means_and_sq_devs(&self) -> (Vec<f64>, Vec<f64>) {
        let (n, d) = (self.n, self.d());
        if n == 0 {
            return (vec![f64::NAN; d], vec![f64::NAN; d]);
        }
        let shift = self.first_row();
        let parts: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                self.rows(c * CHUNK, ((c + 1) * CHUNK).min(n))
                    .shifted_part(&shift)
            })
            .collect();
        means_and_sq_devs(&merge(parts, 2 * d), &shift, n)
    }

    /// The first row's values (the provisional means of [`Cols::means_and_sq_devs`]).
    pub(crate) fn first_row(&self) -> Vec<f64> {
        (0..self.d()).map(|j| self.value(j, 0).into_f64()).collect()
    }

    /// Rows `lo..hi` (zero-copy).
    pub(crate) fn rows(&self, lo: usize, hi: usize) -> Cols<'a, T> {
        let span = self.span(lo, hi);
        let mut starts = Vec::with_capacity(span.len() + 1);
        let mut segs = Vec::with_capacity(span.len() * self.d);
        let mut row = 0;
        for &(s, a, b) in &span {
            starts.push(row);
            row += b - a;
            segs.extend((0..self.d).map(|j| self.piece(s, j, a, b)));
        }
        starts.push(row);
        Cols {
            names: self.names,
            n: hi - lo,
            d: self.d,
            starts,
            segs,
        }
    }

    /// One chunk's part of [`Cols::means_and_sq_devs`]: per column the sums of `x - shift`,
    /// then of `(x - shift)²`.
    pub(crate) fn shifted_part(&self, shift: &[f64]) -> Vec<f64> {
        let d = self.d();
        let span = self.span(0, self.n);
        let mut out = vec![0.0; 2 * d];
        for j in 0..d {
            let (s, q) =
                super::segments::shifted_sums_pieces(self.pieces(j, &span), self.n, shift[j]);
            out[j] = s;
            out[d + j] = q;
        }
        out
    }

    /// The matrix minus `shift`, row-major (n x d, `f64`), built in parallel row chunks, with
    /// the per-column sums of squares of the shifted values (merged in chunk order) computed
    /// on the way, since the values are loaded anyway.
    pub(crate) fn row_major_minus(&self, shift: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let (n, d) = (self.n, self.d());
        if d == 0 {
            return (vec![], vec![]);
        }
        // Rows are written a tile at a time, each tile's 16-ish columns while its rows are in
        // L1, into memory that is never zeroed first: with reused heap memory a zeroing pass
        // and column-at-a-time writes over a whole chunk cost a third of a 20-step k-means.
        const TILE: usize = 256;
        let mut out: Vec<f64> = Vec::with_capacity(n * d);
        let parts: Vec<Vec<f64>> = out.spare_capacity_mut()[..n * d]
            .par_chunks_mut(CHUNK * d)
            .enumerate()
            .map(|(c, block)| {
                let lo = c * CHUNK;
                let rows = block.len() / d;
                let mut acc = vec![[0.0f64; 4]; d];
                for t0 in (0..rows).step_by(TILE) {
                    let t1 = (t0 + TILE).min(rows);
                    let span = self.span(lo + t0, lo + t1);
                    for (j, a) in acc.iter_mut().enumerate() {
                        let s = shift[j];
                        let mut i = t0;
                        for col in self.pieces(j, &span) {
                            for v in col {
                                let t = v.into_f64() - s;
                                block[i * d + j].write(t);
                                a[i % 4] += t * t;
                                i += 1;
                            }
                        }
                    }
                }
                acc.iter().map(|a| (a[0] + a[1]) + (a[2] + a[3])).collect()
            })
            .collect();
        // SAFETY: the chunks tile `0..n * d`, and each chunk wrote every one of its `rows * d`
        // entries: every row index `i < rows` of every column `j < d` in the loops above.
        unsafe { out.set_len(n * d) };
        (out, merge(parts, d))
    }
}

/// Means and sums of squared deviations of `n` rows from the merged [`Cols::shifted_part`]s
/// around `shift`.
pub(crate) fn means_and_sq_devs(sums: &[f64], shift: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let d = shift.len();
    let nf = n as f64;
    let means = (0..d).map(|j| shift[j] + sums[j] / nf).collect();
    let devs = (0..d)
        .map(|j| (sums[d + j] - sums[j] * sums[j] / nf).max(0.0))
        .collect();
    (means, devs)
}

/// The error for a feature column with `count` nulls, the first at row `first`.
pub(crate) fn null_error(model: &str, name: &str, count: usize, first: usize) -> Error {
    Error::Model(format!(
        "{model}: feature column \"{name}\" has {count} null values (first at row {first}); \
         drop or fill them first, e.g. with fill_null or filter(col(\"{name}\").is_not_null())"
    ))
}

/// The error for a feature column whose first NaN (or, unless `nan`, infinite value) is at
/// row `row`.
pub(crate) fn non_finite_error(model: &str, name: &str, row: usize, nan: bool) -> Error {
    Error::Model(if nan {
        format!(
            "{model}: feature column \"{name}\" has NaN (first at row {row}); \
             replace them first, e.g. with fill_nan"
        )
    } else {
        format!("{model}: feature column \"{name}\" has an infinite value (first at row {row})")
    })
}

/// Element-wise sum of equally long partial vectors, in their order.
pub(crate) fn merge(parts: Vec<Vec<f64>>, len: usize) -> Vec<f64> {
    let mut total = vec![0.0; len];
    for p in parts {
        for (t, v) in total.iter_mut().zip(p) {
            *t += v;
        }
    }
    total
}

/// Index of the first NaN or infinite value, if any (checked in parallel chunks).
pub(crate) fn first_non_finite<T: Elem>(v: &[T]) -> Option<usize> {
    v.par_chunks(CHUNK * 16)
        .enumerate()
        .find_map_first(|(c, s)| {
            s.iter()
                .position(|x| !x.into_f64().is_finite())
                .map(|i| c * CHUNK * 16 + i)
        })
}

/// Sum (in `f64`) with four partial sums (vectorizes; a fixed order, so deterministic).
pub(crate) fn sum4<T: Elem>(v: &[T]) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut it = v.chunks_exact(4);
    for c in &mut it {
        for l in 0..4 {
            acc[l] += c[l].into_f64();
        }
    }
    let tail: f64 = it.remainder().iter().map(|x| x.into_f64()).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `(Σ (x - s), Σ (x - s)²)` with four partial sums each.
pub(crate) fn shifted_sums<T: Elem>(v: &[T], s: f64) -> (f64, f64) {
    let (mut a, mut q) = ([0.0f64; 4], [0.0f64; 4]);
    let mut it = v.chunks_exact(4);
    for c in &mut it {
        for l in 0..4 {
            let t = c[l].into_f64() - s;
            a[l] += t;
            q[l] += t * t;
        }
    }
    let (mut ta, mut tq) = (0.0, 0.0);
    for x in it.remainder() {
        let t = x.into_f64() - s;
        ta += t;
        tq += t * t;
    }
    (
        (a[0] + a[1]) + (a[2] + a[3]) + ta,
        (q[0] + q[1]) + (q[2] + q[3]) + tq,
    )
}

/// The numeric columns of a schema, in order: the default feature list of k-means and PCA.
pub(crate) fn numeric_columns(schema: &Schema) -> Vec<String> {
    schema
        .fields()
        .iter()
        .filter(|f| f.data_type().is_numeric())
        .map(|f| f.name().clone())
        .collect()
}

/// Check that every feature exists in `schema` (naming the closest column when not) and is
/// numeric, and that there is at least one. Linear in the number of columns (inputs can be
/// 10,000 columns wide).
pub(crate) fn check_features(schema: &Schema, names: &[String], model: &str) -> Result<()> {
    if names.is_empty() {
        return Err(Error::Model(format!(
            "{model}: no feature columns (the input has no numeric columns, or an empty list was given)"
        )));
    }
    let index: HashMap<&str, usize> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| (f.name().as_str(), i))
        .collect();
    let mut seen = std::collections::HashSet::with_capacity(names.len());
    for n in names {
        let f = match index.get(n.as_str()) {
            Some(&i) => schema.field(i),
            None => {
                return Err(Error::column_not_found(
                    n,
                    schema.fields().iter().map(|f| f.name().as_str()),
                ))
            }
        };
        if !f.data_type().is_numeric() {
            return Err(Error::Model(format!(
                "{model}: feature column \"{n}\" is {}, not numeric",
                crate::frame::display::dtype_name(f.data_type())
            )));
        }
        if !seen.insert(n.as_str()) {
            return Err(Error::Model(format!(
                "{model}: feature \"{n}\" is listed twice"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::df;

    #[test]
    fn row_major_copy_is_complete_across_chunks_and_tiles() {
        // Rows spanning several chunks and a partial tile; three columns.
        let n = 2 * CHUNK + 300;
        let cols: Vec<Vec<f64>> = (0..3)
            .map(|j| (0..n).map(|i| (i * 3 + j) as f64 * 0.5).collect())
            .collect();
        let df = DataFrame::new(
            cols.iter()
                .enumerate()
                .map(|(j, c)| crate::frame::Column::new(format!("c{j}"), c.clone()))
                .collect(),
        )
        .expect("frame");
        let names: Vec<String> = (0..3).map(|j| format!("c{j}")).collect();
        let f = Features::from_frame(&df, &names, "pca").expect("features");
        let shift = [1.0, 2.0, 3.0];
        let (x, sq) = f.f64_cols().expect("f64").row_major_minus(&shift);
        assert_eq!(x.len(), n * 3);
        for i in [0, 1, CHUNK - 1, CHUNK, 2 * CHUNK + 299] {
            for j in 0..3 {
                assert_eq!(x[i * 3 + j], cols[j][i] - shift[j], "row {i} column {j}");
            }
        }
        for j in 0..3 {
            let want: f64 = cols[j].iter().map(|v| (v - shift[j]).powi(2)).sum();
            assert!((sq[j] - want).abs() <= 1e-9 * want, "column {j}");
        }
    }

    #[test]
    fn nan_and_null_name_the_column() {
        let df = df!("a" => [1.0, 2.0], "b" => [1.0, f64::NAN]).expect("df");
        let f = Features::from_frame(&df, &["a".into(), "b".into()], "kmeans").expect("no nulls");
        let c = f.f64_cols().expect("f64");
        let e = c.check_finite(&c.means(), "kmeans").expect_err("NaN error");
        assert!(matches!(e, Error::Model(_)));
        assert!(
            e.to_string().contains("\"b\" has NaN (first at row 1)"),
            "{e}"
        );
        let df = df!("a" => [Some(1.0), None]).expect("df");
        let e = Features::from_frame(&df, &["a".into()], "pca").expect_err("null error");
        assert!(e.to_string().contains("\"a\" has 1 null values"), "{e}");
    }

    #[test]
    fn means_and_row_major() {
        let df = df!("a" => [1.0, 2.0, 3.0], "b" => [10, 20, 30]).expect("df");
        let f = Features::from_frame(&df, &["a".into(), "b".into()], "t").expect("features");
        let c = f.f64_cols().expect("f64");
        assert_eq!(c.means(), vec![2.0, 20.0]);
        let (m, dev) = c.means_and_sq_devs();
        assert_eq!(m, vec![2.0, 20.0]);
        assert_eq!(dev, vec![2.0, 200.0]);
        let (x, sq) = c.row_major_minus(&[1.0, 0.0]);
        assert_eq!(x, vec![0.0, 10.0, 1.0, 20.0, 2.0, 30.0]);
        assert_eq!(sq, vec![5.0, 1400.0]);
    }

    #[test]
    fn float32_features_stay_float32() {
        let df = df!("a" => [1.0f32, 2.0, 4.0], "b" => [0.5f32, 0.25, 0.0]).expect("df");
        let f = Features::from_frame(&df, &["a".into(), "b".into()], "pca").expect("features");
        assert!(f.is_f32());
        let (m, dev) = with_cols!(f, c => c.means_and_sq_devs());
        assert!((m[0] - 7.0 / 3.0).abs() < 1e-15 && (m[1] - 0.25).abs() < 1e-15);
        assert!((dev[0] - 14.0 / 3.0).abs() < 1e-14 && (dev[1] - 0.125).abs() < 1e-15);
        // A Float32 column next to a Float64 one: both become f64, as in scikit-learn.
        let df = df!("a" => [1.0f32, 2.0], "b" => [0.5, 0.25]).expect("df");
        let f = Features::from_frame(&df, &["a".into(), "b".into()], "pca").expect("features");
        assert!(!f.is_f32());
    }
}
