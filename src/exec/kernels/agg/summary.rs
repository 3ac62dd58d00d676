//! Float aggregates over the same column share one look at each piece. `sum`, `mean`, `min`,
//! `max`, their `nan_*` forms, `count` and `null_count` all read a piece of a null-free
//! Float64 column through the few statistics in a [`FloatSummary`], each computed once
//! however many aggregates want it (a query asking for the sum and the mean of `x` sums it
//! once).
//!
//! Under a filter, the aggregates read only the selected rows: [`update_group`] copies them
//! into a scratch buffer that lives as long as the morsel, instead of building a filtered
//! Arrow array per piece. The statistics are the same kernels over the same values in the
//! same order as when the filter materializes its output, so fusing changes no bit of the
//! result.

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray};
use arrow::buffer::BooleanBuffer;
use arrow::datatypes::{DataType, Float64Type};

use super::super::scale::{nan_min_max, nan_sum_count};
use super::super::stats::pairwise_sum;
use super::{Groups, GroupsAccumulator};
use crate::error::Result;

/// Which statistics a group of aggregates reads.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Needs {
    plain_sum: bool,
    nan_sum: bool,
    min_max: bool,
}

impl Needs {
    fn union(self, o: Needs) -> Needs {
        Needs {
            plain_sum: self.plain_sum || o.plain_sum,
            nan_sum: self.nan_sum || o.nan_sum,
            min_max: self.min_max || o.min_max,
        }
    }

    /// Nothing but the row count (`count`, `null_count`, `len`).
    pub(super) fn rows() -> Needs {
        Needs::default()
    }

    /// A sum: NaN-skipping or plain.
    pub(super) fn sums(skip_nan: bool) -> Needs {
        Needs {
            plain_sum: !skip_nan,
            nan_sum: skip_nan,
            min_max: false,
        }
    }

    /// The smallest and largest non-NaN value.
    pub(super) fn extremes() -> Needs {
        Needs {
            min_max: true,
            ..Needs::default()
        }
    }
}

/// Statistics of the (selected) values of one piece of a null-free Float64 column. Only those
/// asked for are computed; the others stay at their empty values and are not read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FloatSummary {
    pub(super) rows: usize,
    /// Pairwise sum, NaN propagating (`sum`, `mean`).
    pub(super) plain_sum: f64,
    /// Pairwise sum and count of the non-NaN values (`nan_sum`, `nan_mean`).
    pub(super) nan_sum: (f64, usize),
    /// Smallest and largest non-NaN value and how many values are not NaN.
    pub(super) min_max: (f64, f64, usize),
}

impl FloatSummary {
    pub(super) fn of(v: &[f64], needs: Needs) -> Self {
        Self {
            rows: v.len(),
            plain_sum: if needs.plain_sum {
                pairwise_sum(v)
            } else {
                0.0
            },
            nan_sum: if needs.nan_sum {
                nan_sum_count(v)
            } else {
                (0.0, 0)
            },
            min_max: if needs.min_max {
                nan_min_max(v)
            } else {
                (f64::INFINITY, f64::NEG_INFINITY, 0)
            },
        }
    }
}

/// The values at the set bits of `mask`, in order, written to the front of `scratch` (grown
/// to `values.len()` when shorter, so one buffer serves a morsel's pieces).
pub(crate) fn compact<'a>(
    values: &[f64],
    mask: &BooleanBuffer,
    scratch: &'a mut Vec<f64>,
) -> &'a [f64] {
    if scratch.len() < values.len() {
        scratch.resize(values.len(), 0.0);
    }
    let out = &mut scratch[..values.len()];
    #[cfg(target_arch = "x86_64")]
    let k = if std::arch::is_x86_feature_detected!("avx512f") {
        // SAFETY: only called where the CPU has AVX-512F.
        unsafe { x86::compact_avx512(values, mask, out) }
    } else {
        compact_words(values, mask, out)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let k = compact_words(values, mask, out);
    &scratch[..k]
}

/// [`compact`] one word at a time: the portable version, and the reference of the tests.
fn compact_words(values: &[f64], mask: &BooleanBuffer, out: &mut [f64]) -> usize {
    for_each_word(values, mask, out, |word, base, out, k| {
        compact_word(values, word, 64, base, out, k)
    })
}

/// Walk `mask` a 64-bit word at a time, appending the selected rows of `values` to `out` and
/// returning how many there are: words of all ones or zeros and the partial last word by
/// [`compact_word`], the other full words by `mixed(word, first row, out, cursor)`.
#[inline(always)]
fn for_each_word(
    values: &[f64],
    mask: &BooleanBuffer,
    out: &mut [f64],
    mut mixed: impl FnMut(u64, usize, &mut [f64], &mut usize),
) -> usize {
    let chunks = mask.inner().bit_chunks(mask.offset(), mask.len());
    let mut k = 0;
    let mut base = 0;
    for word in chunks.iter() {
        if word == u64::MAX || word == 0 {
            compact_word(values, word, 64, base, out, &mut k);
        } else {
            mixed(word, base, out, &mut k);
        }
        base += 64;
    }
    compact_word(
        values,
        chunks.remainder_bits(),
        chunks.remainder_len(),
        base,
        out,
        &mut k,
    );
    k
}

/// The rows of `values[base..base + width]` whose bit is set in `word`, appended at `out[*k..]`.
/// Branch-free for mixed words: every value is written at the cursor, which moves on only when
/// its bit is set (a filter of random data mispredicts a per-row branch half of the time).
/// Words of all ones or all zeros take the short cuts.
#[inline(always)]
fn compact_word(
    values: &[f64],
    word: u64,
    width: usize,
    base: usize,
    out: &mut [f64],
    k: &mut usize,
) {
    let v = &values[base..base + width];
    if width == 64 && word == u64::MAX {
        out[*k..*k + 64].copy_from_slice(v);
        *k += 64;
    } else if word != 0 {
        for (j, &x) in v.iter().enumerate() {
            out[*k] = x;
            *k += ((word >> j) & 1) as usize;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! Compaction with AVX-512's compress: eight values packed per instruction instead of one
    //! store per row (the portable loop was 5% of a filtered aggregate over Parquet).

    use std::arch::x86_64::*;

    use arrow::buffer::BooleanBuffer;

    use super::for_each_word;

    /// [`super::compact`]'s body with AVX-512F; returns how many values were kept.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn compact_avx512(
        values: &[f64],
        mask: &BooleanBuffer,
        out: &mut [f64],
    ) -> usize {
        for_each_word(values, mask, out, |word, base, out, k| {
            for g in 0..8 {
                let src = &values[base + 8 * g..base + 8 * g + 8];
                let m = (word >> (8 * g)) as u8;
                // At most `base + 8g` values were kept before this group, so the eight lanes
                // written at `k` end by `base + 8g + 8 <= values.len() == out.len()` (the
                // slice below checks it); lanes past the kept ones are overwritten by the
                // next group or left past the result.
                let dst = &mut out[*k..*k + 8];
                // SAFETY: `src` and `dst` each hold eight f64s (sliced above), and the CPU
                // has AVX-512F (this function's contract).
                unsafe {
                    let v = _mm512_loadu_pd(src.as_ptr());
                    _mm512_storeu_pd(dst.as_mut_ptr(), _mm512_maskz_compress_pd(m, v));
                }
                *k += m.count_ones() as usize;
            }
        })
    }
}

/// Update `group`, one-group accumulators of aggregates that all read `values`, with one
/// piece; with a `mask`, only the rows where it is set (nulls in the mask count as unset).
pub(crate) fn update_group(
    group: &mut [Box<dyn GroupsAccumulator>],
    values: &ArrayRef,
    mask: Option<&BooleanArray>,
    scratch: &mut Vec<f64>,
) -> Result<()> {
    let needs = group
        .iter()
        .map(|s| s.float_needs())
        .try_fold(Needs::default(), |acc, n| n.map(|n| acc.union(n)));
    match needs {
        Some(needs) if *values.data_type() == DataType::Float64 && values.null_count() == 0 => {
            let p = values.as_primitive::<Float64Type>();
            let v = match mask {
                Some(m) if m.null_count() == 0 => compact(p.values(), m.values(), scratch),
                Some(m) => compact(
                    p.values(),
                    arrow::compute::prep_null_mask_filter(m).values(),
                    scratch,
                ),
                None => p.values(),
            };
            let s = FloatSummary::of(v, needs);
            for state in group.iter_mut() {
                state.absorb(&s);
            }
        }
        _ => {
            let filtered;
            let v = match mask {
                Some(m) => {
                    filtered = arrow::compute::filter(values, m)?;
                    &filtered
                }
                None => values,
            };
            for state in group.iter_mut() {
                state.update(std::slice::from_ref(v), Groups::One, 1)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int64Array};

    use super::super::tests::{one, result};
    use super::*;
    use crate::expr::{AggFunc, Scalar};

    fn funcs() -> Vec<AggFunc> {
        vec![
            AggFunc::Sum,
            AggFunc::NanSum,
            AggFunc::Mean,
            AggFunc::NanMean,
            AggFunc::Min,
            AggFunc::Max,
            AggFunc::NanMin,
            AggFunc::NanMax,
            AggFunc::Count,
            AggFunc::NullCount,
            AggFunc::Median,
            AggFunc::ArgMax,
        ]
    }

    /// Results of `funcs()` over `values` under `mask` through `update_group`, piece by piece.
    fn grouped(values: &ArrayRef, mask: Option<&BooleanArray>, piece: usize) -> Vec<Scalar> {
        let mut states: Vec<Box<dyn GroupsAccumulator>> =
            funcs().iter().map(|f| one(f, values.data_type())).collect();
        let mut scratch = vec![];
        let mut start = 0;
        while start < values.len() {
            let len = piece.min(values.len() - start);
            let v = values.slice(start, len);
            let m = mask.map(|m| m.slice(start, len));
            update_group(&mut states, &v, m.as_ref(), &mut scratch).unwrap();
            start += len;
        }
        states.into_iter().map(result).collect()
    }

    /// The same through a materialized filter and one `update` per aggregate.
    fn separately(values: &ArrayRef, mask: Option<&BooleanArray>, piece: usize) -> Vec<Scalar> {
        let mut states: Vec<Box<dyn GroupsAccumulator>> =
            funcs().iter().map(|f| one(f, values.data_type())).collect();
        let mut start = 0;
        while start < values.len() {
            let len = piece.min(values.len() - start);
            let mut v = values.slice(start, len);
            if let Some(m) = mask {
                v = arrow::compute::filter(&v, &m.slice(start, len)).unwrap();
            }
            for s in &mut states {
                s.update(std::slice::from_ref(&v), Groups::One, 1).unwrap();
            }
            start += len;
        }
        states.into_iter().map(result).collect()
    }

    /// Equal to the bit: `Scalar` compares floats by their bits, NaN included.
    fn same(a: &[Scalar], b: &[Scalar]) {
        assert_eq!(a, b);
    }

    fn data(n: usize, nan_every: usize) -> ArrayRef {
        let mut s = 0x9E37_79B9_7F4A_7C15u64;
        Arc::new(Float64Array::from_iter_values((0..n).map(|i| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            if nan_every > 0 && i % nan_every == 7 {
                f64::NAN
            } else {
                (s >> 11) as f64 / (1u64 << 53) as f64 * 200.0 - 100.0
            }
        })))
    }

    #[test]
    fn fused_filter_equals_materialized_filter_to_the_bit() {
        for (n, nan_every) in [(1000, 0), (1000, 97), (4099, 0), (200, 3)] {
            let v = data(n, nan_every);
            let p = v.as_primitive::<Float64Type>();
            // Random selection, an all-true word, an all-false word, and a partial tail.
            let mask = BooleanArray::from_iter(p.values().iter().enumerate().map(|(i, x)| {
                Some(if (64..128).contains(&i) {
                    true
                } else if (128..192).contains(&i) {
                    false
                } else {
                    *x > 0.0
                })
            }));
            for piece in [64, 100, n] {
                same(
                    &grouped(&v, Some(&mask), piece),
                    &separately(&v, Some(&mask), piece),
                );
                same(&grouped(&v, None, piece), &separately(&v, None, piece));
            }
        }
    }

    #[test]
    fn a_mask_with_nulls_drops_those_rows() {
        let v = data(300, 0);
        let mask = BooleanArray::from_iter((0..300).map(|i| match i % 3 {
            0 => None,
            1 => Some(true),
            _ => Some(false),
        }));
        let plain = BooleanArray::from_iter((0..300).map(|i| Some(i % 3 == 1)));
        same(
            &grouped(&v, Some(&mask), 128),
            &grouped(&v, Some(&plain), 128),
        );
        let r = grouped(&v, Some(&plain), 128);
        assert_eq!(r[8], Scalar::UInt64(100), "count of selected rows");
    }

    #[test]
    fn arrays_with_nulls_or_other_types_take_the_general_path() {
        let v: ArrayRef = Arc::new(Float64Array::from(vec![Some(1.0), None, Some(3.0)]));
        let m = BooleanArray::from(vec![true, true, false]);
        same(&grouped(&v, Some(&m), 2), &separately(&v, Some(&m), 2));
        let i: ArrayRef = Arc::new(Int64Array::from(vec![5, -2, 9, 4]));
        let m = BooleanArray::from(vec![true, false, true, true]);
        let r = grouped(&i, Some(&m), 3);
        assert_eq!(r[0], Scalar::Int64(18));
        same(&r, &separately(&i, Some(&m), 3));
    }

    #[test]
    fn every_compaction_path_keeps_the_same_rows() {
        let v: Vec<f64> = (0..1000).map(|i| f64::from(i) * 0.5).collect();
        let mut s = 0x2545_F491_4F6C_DD1Du64;
        let mask = BooleanBuffer::from_iter((0..1000).map(|i| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            // Random rows, then a run of ones and a run of zeros.
            (256..320).contains(&i) || (!(320..384).contains(&i) && s.is_multiple_of(3))
        }));
        for (off, len) in [(0, 1000), (5, 990), (64, 700)] {
            let m = mask.slice(off, len);
            let vals = &v[off..off + len];
            let want: Vec<f64> = vals
                .iter()
                .zip(m.iter())
                .filter(|(_, b)| *b)
                .map(|(x, _)| *x)
                .collect();
            let mut out = vec![0.0; len];
            let k = compact_words(vals, &m, &mut out);
            assert_eq!(&out[..k], &want[..]);
            let mut scratch = vec![];
            assert_eq!(compact(vals, &m, &mut scratch), &want[..]);
        }
    }

    #[test]
    fn compact_keeps_set_rows_in_order() {
        let v: Vec<f64> = (0..200).map(f64::from).collect();
        let mask = BooleanBuffer::from_iter((0..200).map(|i| i % 5 == 0 || (64..128).contains(&i)));
        let mut scratch = vec![];
        let got = compact(&v, &mask, &mut scratch).to_vec();
        let want: Vec<f64> = (0..200)
            .filter(|i| i % 5 == 0 || (64..128).contains(i))
            .map(f64::from)
            .collect();
        assert_eq!(got, want);
        // A sliced mask reads from its offset.
        let sliced = mask.slice(3, 150);
        let got = compact(&v[3..153], &sliced, &mut scratch).to_vec();
        let want: Vec<f64> = (3..153)
            .filter(|i| i % 5 == 0 || (64..128).contains(i))
            .map(f64::from)
            .collect();
        assert_eq!(got, want);
    }
}
