//! Passes over an input read chunk by chunk ([`RowChunks`]: read again, or spilled once):
//! per-chunk results in chunk order, and the in-memory fit's errors for nulls and non-finite
//! values with rows numbered from the input's first row.

use std::sync::OnceLock;

use arrow::array::Array;

use super::data::{
    means_and_sq_devs, merge, non_finite_error, null_error, with_cols, Elem, Features, View,
};
use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::physical::RowChunks;

/// `f(c, chunk)` for every chunk, results in chunk order.
pub(crate) fn per_chunk<R: Send + Sync>(
    rows: &dyn RowChunks,
    f: &(dyn Fn(usize, &DataFrame) -> Result<R> + Sync),
) -> Result<Vec<R>> {
    let chunks = rows.rows().div_ceil(rows.chunk_rows());
    let slots: Vec<OnceLock<R>> = (0..chunks).map(|_| OnceLock::new()).collect();
    rows.for_each_chunk(&|c, df| {
        let r = f(c, df)?;
        slots[c]
            .set(r)
            .map_err(|_| Error::Internal(format!("chunk {c} came twice")))
    })?;
    slots
        .into_iter()
        .enumerate()
        .map(|(c, s)| {
            s.into_inner()
                .ok_or_else(|| Error::Internal(format!("chunk {c} never came")))
        })
        .collect()
}

/// `f` of every chunk's features `names`, in chunk order, after checking them for nulls as
/// the in-memory fit does: the first column with any gets `model`'s error with their count
/// and the first one's row.
pub(crate) fn checked_parts<R: Send + Sync>(
    model: &str,
    names: &[String],
    rows: &dyn RowChunks,
    f: &(dyn Fn(&Features) -> R + Sync),
) -> Result<Vec<R>> {
    let d = names.len();
    // Per chunk: per column, nulls and the first one's row; or `f`'s result.
    type Part<R> = std::result::Result<R, Vec<(usize, usize)>>;
    let parts: Vec<Part<R>> = per_chunk(rows, &|c, df| {
        let mut nulls = vec![(0, 0); d];
        for (slot, name) in nulls.iter_mut().zip(names) {
            let a = df.column(name)?;
            if a.null_count() > 0 {
                let first = (0..a.len()).find(|&i| a.is_null(i)).unwrap_or(0);
                *slot = (a.null_count(), c * rows.chunk_rows() + first);
            }
        }
        if nulls.iter().any(|(k, _)| *k > 0) {
            return Ok(Err(nulls));
        }
        Ok(Ok(f(&Features::from_frame(df, names, model)?)))
    })?;
    for (j, name) in names.iter().enumerate() {
        let faulty = parts.iter().filter_map(|p| p.as_ref().err().map(|v| v[j]));
        let (count, first) = faulty
            .filter(|(k, _)| *k > 0)
            .fold((0, None), |(t, f), (k, r)| (t + k, f.or(Some(r))));
        if let Some(first) = first {
            return Err(null_error(model, name, count, first));
        }
    }
    Ok(parts.into_iter().filter_map(|p| p.ok()).collect())
}

/// Given the columns' sums (or means), `model`'s error for the first NaN or infinite value of
/// the first column whose sum is not finite (one more pass per such column).
pub(crate) fn check_finite(
    model: &str,
    names: &[String],
    rows: &dyn RowChunks,
    sums: &[f64],
) -> Result<()> {
    for (j, m) in sums.iter().enumerate() {
        if m.is_finite() {
            continue;
        }
        let firsts = per_chunk(rows, &|c, df| {
            let f = Features::from_frame(df, &names[j..=j], model)?;
            Ok(with_cols!(f, col => col.first_non_finite(0)
                .map(|i| (c * rows.chunk_rows() + i, col.value(0, i).into_f64().is_nan()))))
        })?;
        if let Some((row, nan)) = firsts.into_iter().flatten().next() {
            return Err(non_finite_error(model, &names[j], row, nan));
        }
    }
    Ok(())
}

/// Column means and sums of squared deviations from them, as [`super::data::Cols::means_and_sq_devs`]
/// computes them in memory (around the first row, per-chunk parts merged in chunk order), with
/// the in-memory fit's errors for nulls and non-finite values; and whether the features are all
/// Float32 (fitted in `f32`). Two passes, three with a non-finite column.
pub(crate) fn means_and_devs(
    model: &str,
    names: &[String],
    rows: &dyn RowChunks,
) -> Result<(Vec<f64>, Vec<f64>, bool)> {
    let (n, d) = (rows.rows(), names.len());
    let first = Features::from_frame(&rows.chunk(0)?, names, model)?;
    let f32 = matches!(first.view(), View::F32(_));
    let shift = with_cols!(first, c => c.first_row());
    let parts = checked_parts(
        model,
        names,
        rows,
        &|f| with_cols!(f, c => c.shifted_part(&shift)),
    )?;
    let (mean, devs) = means_and_sq_devs(&merge(parts, 2 * d), &shift, n);
    check_finite(model, names, rows, &mean)?;
    Ok((mean, devs, f32))
}

/// A frame in memory as chunks of [`super::data::CHUNK`] rows, handed on in parallel in no
/// particular order: the chunked fits' input in unit tests.
#[cfg(test)]
pub(crate) struct InMemory(pub DataFrame);

#[cfg(test)]
impl RowChunks for InMemory {
    fn rows(&self) -> usize {
        self.0.height()
    }
    fn chunk_rows(&self) -> usize {
        super::data::CHUNK
    }
    fn for_each_chunk(&self, f: &(dyn Fn(usize, &DataFrame) -> Result<()> + Sync)) -> Result<()> {
        use rayon::prelude::*;
        (0..self.rows().div_ceil(self.chunk_rows()))
            .into_par_iter()
            .rev()
            .try_for_each(|c| f(c, &self.chunk(c)?))
    }
    fn chunk(&self, c: usize) -> Result<DataFrame> {
        let lo = c * self.chunk_rows();
        Ok(self.0.slice(lo, self.chunk_rows().min(self.rows() - lo)))
    }
}

/// `x` as a frame with columns `x0, x1, ...`, and those names.
#[cfg(test)]
pub(crate) fn named_frame<T: crate::frame::NdElement>(
    x: &ndarray::Array2<T>,
) -> (DataFrame, Vec<String>) {
    let names: Vec<String> = (0..x.ncols()).map(|j| format!("x{j}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let df = DataFrame::from_ndarray(x, &refs).expect("frame");
    (df, names)
}
