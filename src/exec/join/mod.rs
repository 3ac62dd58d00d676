//! Hash joins: the build side's table ([`BuiltSide`]), the streaming probe of one morsel
//! ([`probe_morsel`]) and the ordering join of two materialized sides ([`join_frames`]);
//! how a join gets its sides and when it goes on through spill files (`driver.rs`).
//!
//! Output order is the one `plan::join` documents, whatever side the table is on. Call the
//! side whose rows order the output O (left, or right for a right join) and the other T:
//!
//! - Table on T (the usual case, T being the smaller side): each morsel of O is probed on
//!   its own, row by row, and each row's matches come out of the table in T order. This is a
//!   streaming operator: the probe side stays a pipeline.
//! - Table on O (O is the smaller side): T is probed in fixed chunks in parallel, giving
//!   `(o, t)` pairs in T order, which a counting sort by `o` puts in O order (stable, so each
//!   O row's matches stay in T order). Semi and anti joins only mark the O rows matched.
//! - Full joins run as the second kind with the table on either side; T rows that matched
//!   nothing come last, in T order.
//!
//! Chunks and morsels are fixed by row position and results are put together in their
//! order, so the output is the same for any thread count.
//!
//! Memory: the table and the frame it is built over are reserved from the budget as
//! `HASH_JOIN` before they are allocated, and so is the output of an ordering join, before it
//! is built. A streaming probe's output piece is not: like every morsel in flight it comes on
//! top of the budget (it is as large as the probe morsel times its matches).
//!
//! A build side, table, held side or output that does not fit the memory budget does not stop
//! the join: it goes on through spill files ([`spill`], a grace hash join partitioned by key
//! hash), with exactly this output and order, reading each input once (`collect.rs`). Cross
//! joins (no key to partition by) and keys that need whole columns still stop with
//! `Error::MemoryLimit` naming `HASH_JOIN`.

mod collect;
mod driver;
mod keys;
mod output;
pub(crate) mod spill;
mod table;
#[cfg(test)]
mod tests;

use arrow::array::{ArrayRef, BooleanArray};
use arrow::buffer::BooleanBuffer;
use rayon::prelude::*;

pub(crate) use self::driver::{build, open_ordered, Build};
use self::keys::{KeyEncoder, Keys};
pub(crate) use self::output::pick;
use self::output::{assemble, row_bytes, NONE};
use self::table::JoinTable;
use super::eval::{evaluate_array, filter_frame};
use super::{written_vec, Params, MORSEL_ROWS};
use crate::error::{Error, Result};
use crate::frame::DataFrame;
use crate::memory::{frame_bytes, Reservation};
use crate::physical::JoinSpec;
use crate::plan::JoinType;

/// How many rows ahead a probe asks for its hash slot.
const PREFETCH: usize = 16;

/// The materialized build side of a join and its hash table (none for a cross join), with
/// the memory both hold reserved from the run's budget (released when it is dropped).
pub(crate) struct BuiltSide {
    df: DataFrame,
    table: Option<(KeyEncoder, JoinTable)>,
    /// Held only to be released with the table.
    _memory: Reservation,
    /// The join did not fit and ran through spill files before the probing pipeline's
    /// source (see [`spill`]): its probe is done already.
    spilled: bool,
}

impl BuiltSide {
    /// The table over `df`, the join's `spec.build` side, reserving through `memory` (named
    /// `HASH_JOIN`): the frame it keeps, then its keys and table before they are allocated.
    pub(crate) fn new(
        spec: &JoinSpec,
        df: DataFrame,
        params: &Params,
        memory: Reservation,
    ) -> Result<Self> {
        // The frame is already there (its input made it) but from now on the join holds it.
        memory.try_grow(frame_bytes(&df))?;
        if spec.how == JoinType::Cross {
            return Ok(Self {
                df,
                table: None,
                _memory: memory,
                spilled: false,
            });
        }
        let encoder = KeyEncoder::new(&spec.layout.key_types)?;
        // A word and a hash per row; row-encoded keys are sized once they are encoded.
        let before = memory.size();
        memory.try_grow(df.height() * 16)?;
        let keys = encode(&encoder, spec.keys(spec.build), &df, true, params)?;
        memory.try_resize(before + keys.bytes())?;
        let table = JoinTable::new(keys, &memory)?;
        Ok(Self {
            df,
            table: Some((encoder, table)),
            _memory: memory,
            spilled: false,
        })
    }

    /// The mark of a join that spilled: its output is the probing pipeline's source, so the
    /// pipeline's operators up to its probe are done (see `pipeline::apply`).
    pub(crate) fn spilled(memory: Reservation) -> Self {
        Self {
            df: DataFrame::with_height(0),
            table: None,
            _memory: memory,
            spilled: true,
        }
    }

    /// The frame the table was built over, the table let go.
    fn into_frame(self) -> DataFrame {
        self.df
    }

    /// Whether this is [`spilled`](Self::spilled)'s mark.
    pub(crate) fn is_spilled(&self) -> bool {
        self.spilled
    }

    fn table(&self) -> Result<(&KeyEncoder, &JoinTable)> {
        self.table
            .as_ref()
            .map(|(e, t)| (e, t))
            .ok_or_else(|| Error::Internal("a keyed join without a hash table".into()))
    }

    /// The frame the table was built over.
    pub(crate) fn frame(&self) -> &DataFrame {
        &self.df
    }

    /// Rows of the build side.
    pub(crate) fn height(&self) -> usize {
        self.df.height()
    }
}

/// The keys `exprs` over `df`, encoded.
fn encode(
    encoder: &KeyEncoder,
    exprs: &[crate::expr::Expr],
    df: &DataFrame,
    full: bool,
    params: &Params,
) -> Result<Keys> {
    let cols = exprs
        .iter()
        .map(|e| evaluate_array(e, df, full, params))
        .collect::<Result<Vec<ArrayRef>>>()?;
    encoder.encode(&cols, full)
}

/// The keys of a morsel of the order side, to probe `table` with (`semi`: asking only
/// whether a key is held), hashed only when the table needs it.
fn encode_probe(
    encoder: &KeyEncoder,
    table: &JoinTable,
    semi: bool,
    spec: &JoinSpec,
    morsel: &DataFrame,
    params: &Params,
) -> Result<Keys> {
    if table.probes_hash(semi) {
        return encode(encoder, spec.keys(spec.order_side()), morsel, false, params);
    }
    let cols = spec
        .keys(spec.order_side())
        .iter()
        .map(|e| evaluate_array(e, morsel, false, params))
        .collect::<Result<Vec<ArrayRef>>>()?;
    encoder.encode_unhashed(&cols)
}

/// The join's rows for one morsel of its order side, probed against the table on the other
/// side (`built`): the morsel's rows in order, each with its matches in build order.
pub(crate) fn probe_morsel(
    spec: &JoinSpec,
    built: &BuiltSide,
    morsel: &DataFrame,
    params: &Params,
) -> Result<DataFrame> {
    probe_charged(spec, built, morsel, params, None)
}

/// [`probe_morsel`], reserving the output in `out` (when given) before it is built.
fn probe_charged(
    spec: &JoinSpec,
    built: &BuiltSide,
    morsel: &DataFrame,
    params: &Params,
    out: Option<&Reservation>,
) -> Result<DataFrame> {
    let n = morsel.height();
    if spec.how == JoinType::Cross {
        let m = built.height() as u32;
        let o: Vec<u32> = (0..n as u32)
            .flat_map(|i| std::iter::repeat_n(i, m as usize))
            .collect();
        let t: Vec<u32> = (0..n).flat_map(|_| 0..m).collect();
        charge(out, t.len() * (row_bytes(morsel) + row_bytes(&built.df)))?;
        return assemble(spec, morsel, Some(o), &built.df, t);
    }
    let (encoder, table) = built.table()?;
    let semi = matches!(spec.how, JoinType::Semi | JoinType::Anti);
    let keys = encode_probe(encoder, table, semi, spec, morsel, params)?;
    match spec.how {
        JoinType::Semi | JoinType::Anti => {
            let want = spec.how == JoinType::Semi;
            // Packed straight into bits, fetching slots ahead as `matched_pairs` does: the
            // probes of TPC-H's Q21 (millions of rows against a table of orders) waited on
            // memory at every row.
            let fetch = !table.holds_from_bits();
            let bits = BooleanBuffer::collect_bool(n, |i| {
                if fetch && i + PREFETCH < n {
                    table.prefetch(&keys, i + PREFETCH);
                }
                table.holds(&keys, i) == want
            });
            let mask = BooleanArray::new(bits, None);
            charge(out, mask.true_count() * row_bytes(morsel))?;
            filter_frame(morsel, &mask)
        }
        _ => {
            let (o, t) = pairs_of(spec, table, &keys, n);
            charge(out, t.len() * (row_bytes(morsel) + row_bytes(&built.df)))?;
            assemble(spec, morsel, o, &built.df, t)
        }
    }
}

/// Whether [`probe_pairs`] gives the output of `spec`'s streaming probe: a keyed join that
/// outputs rows of both sides (inner, left, right) and did not spill. Semi, anti and cross
/// joins, and full joins (which coalesce keys), assemble their output in the probe.
pub(crate) fn pairs_give_output(spec: &JoinSpec, built: &BuiltSide) -> bool {
    matches!(spec.how, JoinType::Inner | JoinType::Left | JoinType::Right)
        && !built.is_spilled()
        && built.table.is_some()
        && spec
            .layout
            .columns
            .iter()
            .all(|c| !matches!(c, crate::plan::JoinColumn::Coalesced { .. }))
}

/// The rows [`probe_morsel`] would output for `morsel` (a join [`pairs_give_output`]
/// accepts), as positions: of the morsel's rows (`None`: every row once, in order), and of
/// the build side's (`NONE` where a left or right join keeps a row without match). The
/// collection of a pipeline ending in the probe gathers its output columns from them
/// straight into their final place (`frame::gather`), instead of a piece per morsel copied
/// again at the end.
pub(crate) fn probe_pairs(
    spec: &JoinSpec,
    built: &BuiltSide,
    morsel: &DataFrame,
    params: &Params,
) -> Result<(Option<Vec<u32>>, Vec<u32>)> {
    let (encoder, table) = built.table()?;
    let keys = encode_probe(encoder, table, false, spec, morsel, params)?;
    Ok(pairs_of(spec, table, &keys, morsel.height()))
}

/// The matched pairs of the `n` probe rows of `keys` for an inner, left or right join, the
/// probe rows `None` when every row matched once (its columns are output as they are).
fn pairs_of(
    spec: &JoinSpec,
    table: &JoinTable,
    keys: &Keys,
    n: usize,
) -> (Option<Vec<u32>>, Vec<u32>) {
    let keep = matches!(spec.how, JoinType::Left | JoinType::Right);
    let (o, t) = matched_pairs(table, keys, 0..n, keep);
    let identity = o.len() == n && o.iter().enumerate().all(|(k, &v)| k as u32 == v);
    ((!identity).then_some(o), t)
}

/// Reserve `bytes` in `out`, when given: an output's, before it is built (its rows times the
/// bytes per row of the frames it takes them from).
fn charge(out: Option<&Reservation>, bytes: usize) -> Result<()> {
    out.map_or(Ok(()), |out| out.try_grow(bytes))
}

/// The join of the table's side (`built`, side `spec.build`) and the other side, given
/// whole, for the cases a streaming probe cannot order: the table on the order side, or a
/// full join. The output is reserved in `out` before it is built (at the two sides' bytes
/// per row), then settled to its size.
pub(crate) fn join_frames(
    spec: &JoinSpec,
    built: &BuiltSide,
    probe: &DataFrame,
    params: &Params,
    out: &Reservation,
) -> Result<DataFrame> {
    let df = join_whole(spec, built, probe, params, out)?;
    out.try_resize(frame_bytes(&df))?;
    Ok(df)
}

/// [`join_frames`] before the output's reservation is settled.
fn join_whole(
    spec: &JoinSpec,
    built: &BuiltSide,
    probe: &DataFrame,
    params: &Params,
    out: &Reservation,
) -> Result<DataFrame> {
    if spec.build != spec.order_side() && spec.how != JoinType::Full {
        return probe_charged(spec, built, probe, params, Some(out));
    }
    let (encoder, table) = built.table()?;
    let keys = encode(encoder, spec.keys(spec.build.other()), probe, true, params)?;
    // Matches of each chunk of probe rows: (probe row, build row), in probe order; probe rows
    // without a match are listed with `NONE` when `keep_probe` is set.
    let keep_probe = spec.how == JoinType::Full;
    let chunks: Vec<(Vec<u32>, Vec<u32>)> = (0..probe.height().div_ceil(MORSEL_ROWS))
        .into_par_iter()
        .map(|c| {
            let end = ((c + 1) * MORSEL_ROWS).min(probe.height());
            matched_pairs(table, &keys, c * MORSEL_ROWS..end, keep_probe)
        })
        .collect();
    if spec.build != spec.order_side() {
        // A full join with the table on T: O rows in order with their matches, then the T
        // rows nobody matched.
        let (mut o, mut t): (Vec<u32>, Vec<u32>) = (vec![], vec![]);
        for (p, b) in chunks {
            o.extend(p);
            t.extend(b);
        }
        let mut matched = vec![false; built.height()];
        for &r in &t {
            if r != NONE {
                matched[r as usize] = true;
            }
        }
        for (r, _) in matched.iter().enumerate().filter(|(_, m)| !**m) {
            o.push(NONE);
            t.push(r as u32);
        }
        charge(
            Some(out),
            t.len() * (row_bytes(probe) + row_bytes(&built.df)),
        )?;
        return assemble(spec, probe, Some(o), &built.df, t);
    }
    // The table is on O: the pairs are (t, o) in T order.
    let o_rows = built.height();
    if matches!(spec.how, JoinType::Semi | JoinType::Anti) {
        let mut hit = vec![false; o_rows];
        for (_, b) in &chunks {
            for &r in b {
                hit[r as usize] = true;
            }
        }
        let want = spec.how == JoinType::Semi;
        let mask: BooleanArray = hit.into_iter().map(|h| Some(h == want)).collect();
        charge(Some(out), mask.true_count() * row_bytes(&built.df))?;
        return filter_frame(&built.df, &mask);
    }
    let keep_o = matches!(spec.how, JoinType::Left | JoinType::Right | JoinType::Full);
    let (o, mut t) = in_order_of_build(&chunks, o_rows, keep_o);
    let mut o = o;
    if spec.how == JoinType::Full {
        for (p, b) in &chunks {
            for (&i, &r) in p.iter().zip(b) {
                if r == NONE {
                    o.push(NONE);
                    t.push(i);
                }
            }
        }
    }
    charge(
        Some(out),
        t.len() * (row_bytes(&built.df) + row_bytes(probe)),
    )?;
    assemble(spec, &built.df, Some(o), probe, t)
}

/// The probe rows `rows` (with their encoded `keys`) matched against `table`: `(probe row,
/// build row)` pairs in probe order, each probe row's matches in build order; with
/// `keep_unmatched`, a probe row without match gets one pair with `NONE` as its build row.
fn matched_pairs(
    table: &JoinTable,
    keys: &Keys,
    rows: std::ops::Range<usize>,
    keep_unmatched: bool,
) -> (Vec<u32>, Vec<u32>) {
    let end = rows.end;
    let (mut p, mut b) = (
        Vec::with_capacity(rows.len()),
        Vec::with_capacity(rows.len()),
    );
    for i in rows {
        if i + PREFETCH < end {
            table.prefetch(keys, i + PREFETCH);
        }
        let m = table.matches(keys, i);
        if m.is_empty() {
            if keep_unmatched {
                p.push(i as u32);
                b.push(NONE);
            }
        } else {
            for &r in m {
                p.push(i as u32);
                b.push(r);
            }
        }
    }
    (p, b)
}

/// Matched `(probe, build)` pairs, given in probe order, put in build-row order by a stable
/// counting sort: `(build rows, probe rows)`. With `keep_unmatched`, a build row without
/// match gets one row with `NONE` as its probe row. Unmatched probe rows (`NONE` builds)
/// are left out.
fn in_order_of_build(
    chunks: &[(Vec<u32>, Vec<u32>)],
    build_rows: usize,
    keep_unmatched: bool,
) -> (Vec<u32>, Vec<u32>) {
    let mut start = written_vec(build_rows + 1, 0u32);
    for (_, b) in chunks {
        for &r in b {
            if r != NONE {
                start[r as usize + 1] += 1;
            }
        }
    }
    if keep_unmatched {
        for c in &mut start[1..] {
            *c = (*c).max(1);
        }
    }
    for i in 0..build_rows {
        start[i + 1] += start[i];
    }
    let total = start[build_rows] as usize;
    let mut o = vec![0u32; total];
    let mut t = vec![NONE; total];
    for r in 0..build_rows {
        o[start[r] as usize..start[r + 1] as usize].fill(r as u32);
    }
    let mut next = start;
    for (p, b) in chunks {
        for (&i, &r) in p.iter().zip(b) {
            if r != NONE {
                let at = &mut next[r as usize];
                t[*at as usize] = i;
                *at += 1;
            }
        }
    }
    (o, t)
}
