//! One-pass fits over a streamed input: the states the executor's `FIT` operator drives over
//! its input's morsels (`exec::fit`) instead of materializing the input, for covariance PCA
//! ([`PcaStream`]) and least squares ([`LinearStream`]).
//!
//! Each piece of a morsel is taken as model features (checked for nulls, Float32 kept as
//! such) and reduced to mergeable statistics ([`super::moments`]) in fixed row blocks; a
//! morsel's pieces fold in order and morsels merge in morsel order, so a fit gives the same
//! bits for any thread count and any memory budget. Bad values are found on the way and
//! reported as the in-memory fit reports them, with rows counted from the input's first row:
//! each state counts its own rows and merging re-bases the later state's.

use std::any::Any;

use arrow::array::Array;

use super::data::{non_finite_error, null_error, with_cols, Cols, Elem, Features};
use super::moments::{stats_of, BlockStats, Moments, QrMoments};
use super::{LinearRegression, Pca};
use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::physical::FitState;

/// Null and non-finite values seen in the rows of a state, per column (rows counted from the
/// state's first row).
#[derive(Clone, Debug)]
struct Faults {
    /// Rows seen, good or not.
    rows: usize,
    /// Per column: nulls, and the row of the first.
    nulls: Vec<(usize, Option<usize>)>,
    /// Per column: the row of the first NaN or infinite value, and whether it is NaN.
    bad: Vec<Option<(usize, bool)>>,
}

impl Faults {
    fn new(d: usize) -> Self {
        Self {
            rows: 0,
            nulls: vec![(0, None); d],
            bad: vec![None; d],
        }
    }

    /// Count the nulls of `piece`'s columns `names`; true when it has any (its rows are then
    /// not fitted: the fit fails at the end).
    fn nulls_in(&mut self, piece: &DataFrame, names: &[String]) -> Result<bool> {
        let mut any = false;
        for (slot, name) in self.nulls.iter_mut().zip(names) {
            let c = piece.column(name)?;
            if c.null_count() > 0 {
                any = true;
                slot.0 += c.null_count();
                if slot.1.is_none() {
                    slot.1 = (0..c.len()).find(|&i| c.is_null(i)).map(|i| self.rows + i);
                }
            }
        }
        Ok(any)
    }

    /// Note the first non-finite value of each column of `c` whose mean is not finite.
    fn non_finite<T: Elem>(&mut self, c: &Cols<'_, T>, means: &[f64]) {
        for (j, m) in means.iter().enumerate() {
            if m.is_finite() || self.bad[j].is_some() {
                continue;
            }
            if let Some(i) = c.first_non_finite(j) {
                self.bad[j] = Some((self.rows + i, c.value(j, i).into_f64().is_nan()));
            }
        }
    }

    /// Add the faults of the rows right after these.
    fn merge(&mut self, next: &Faults) {
        let base = self.rows;
        for (a, b) in self.nulls.iter_mut().zip(&next.nulls) {
            a.0 += b.0;
            a.1 = a.1.or(b.1.map(|r| base + r));
        }
        for (a, b) in self.bad.iter_mut().zip(&next.bad) {
            *a = a.or(b.map(|(r, nan)| (base + r, nan)));
        }
        self.rows += next.rows;
    }

    /// The in-memory fit's error for the first faulty column: nulls first (columns in
    /// `null_order`), then non-finite values (columns in `bad_order`).
    fn check(
        &self,
        model: &str,
        names: &[String],
        null_order: &[usize],
        bad_order: &[usize],
    ) -> Result<()> {
        for &j in null_order {
            if let (count, Some(first)) = self.nulls[j] {
                return Err(null_error(model, &names[j], count, first));
            }
        }
        for &j in bad_order {
            if let Some((row, nan)) = self.bad[j] {
                return Err(non_finite_error(model, &names[j], row, nan));
            }
        }
        Ok(())
    }
}

/// Statistics of the features `names` over the rows seen, with their faults.
struct Pass<S> {
    model: &'static str,
    names: Vec<String>,
    stats: S,
    faults: Faults,
}

impl<S: BlockStats + 'static> Pass<S> {
    /// Bytes of the state to reserve: a d x d matrix and a vector of d, in f64.
    fn bytes(&self) -> usize {
        let d = self.names.len();
        (d * d + d) * 8
    }

    fn new(model: &'static str, names: Vec<String>) -> Self {
        let d = names.len();
        Self {
            model,
            names,
            stats: S::empty(d),
            faults: Faults::new(d),
        }
    }

    /// Add the next piece: its statistics, or its faults.
    fn update(&mut self, piece: &DataFrame) -> Result<()> {
        if !self.faults.nulls_in(piece, &self.names)? {
            let f = Features::from_frame(piece, &self.names, self.model)?;
            let faults = &mut self.faults;
            let stats: S = with_cols!(f, c => {
                let s: S = stats_of(&c);
                faults.non_finite(&c, s.mean());
                s
            });
            self.stats.merge(&stats);
        }
        self.faults.rows += piece.height();
        Ok(())
    }

    /// Add the rows of `next`, which come right after these.
    fn merge(&mut self, next: &Pass<S>) {
        self.stats.merge(&next.stats);
        self.faults.merge(&next.faults);
    }
}

/// The other state of a merge, as this state's type.
fn same<T: 'static>(next: Box<dyn FitState>) -> Result<Box<T>> {
    next.into_any()
        .downcast::<T>()
        .map_err(|_| Error::Internal("a streaming fit merged another model's state".into()))
}

/// Covariance PCA over a stream: [`Moments`] of the features.
pub(crate) struct PcaStream {
    config: Pca,
    pass: Pass<Moments>,
}

impl PcaStream {
    pub(crate) fn new(config: Pca, features: Vec<String>) -> Self {
        Self {
            config,
            pass: Pass::new("pca", features),
        }
    }
}

impl FitState for PcaStream {
    fn update(&mut self, piece: &DataFrame) -> Result<()> {
        self.pass.update(piece)
    }
    fn merge(&mut self, next: Box<dyn FitState>) -> Result<()> {
        self.pass.merge(&same::<Self>(next)?.pass);
        Ok(())
    }
    fn bytes(&self) -> usize {
        self.pass.bytes()
    }
    fn finish(self: Box<Self>) -> Result<Option<Box<dyn Any + Send>>> {
        let p = &self.pass;
        let order: Vec<usize> = (0..p.names.len()).collect();
        p.faults.check(p.model, &p.names, &order, &order)?;
        let model = self.config.fit_moments(&p.names, &p.stats)?;
        Ok(model.map(|m| Box::new(m) as Box<dyn Any + Send>))
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// Least squares over a stream: [`QrMoments`] of the columns `[features..., target]`.
pub(crate) struct LinearStream {
    config: LinearRegression,
    pass: Pass<QrMoments>,
}

impl LinearStream {
    pub(crate) fn new(config: LinearRegression) -> Self {
        let mut columns = config.features.clone();
        columns.push(config.target.clone());
        Self {
            config,
            pass: Pass::new("linear_regression", columns),
        }
    }
}

impl FitState for LinearStream {
    fn update(&mut self, piece: &DataFrame) -> Result<()> {
        self.pass.update(piece)
    }
    fn merge(&mut self, next: Box<dyn FitState>) -> Result<()> {
        self.pass.merge(&same::<Self>(next)?.pass);
        Ok(())
    }
    fn bytes(&self) -> usize {
        self.pass.bytes()
    }
    fn finish(self: Box<Self>) -> Result<Option<Box<dyn Any + Send>>> {
        let p = &self.pass;
        let d = p.names.len() - 1;
        // As the in-memory fit: the target's nulls first, the features' NaN first.
        let nulls: Vec<usize> = std::iter::once(d).chain(0..d).collect();
        let bad: Vec<usize> = (0..=d).collect();
        p.faults.check(p.model, &p.names, &nulls, &bad)?;
        Ok(Some(Box::new(self.config.fit_qr(&p.stats)?)))
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}
