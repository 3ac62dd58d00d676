//! Casts between Arrow types: Arrow's `cast` with a fast path for the one conversion that is
//! hot in analytic queries, decimals to `Float64` (a decimal compared with a float literal, a
//! mean of prices, `cast(Float64)`: TPC-H's Q6 spent a third of its time there).
//!
//! Arrow converts each `i128` to `f64` in software (`__floattidf`) before scaling. Decimals of
//! the files users read (precision up to 18) fit in an `i64`, whose conversion is one
//! instruction, and the result is bit-identical: an integer below 2^53 in magnitude is exact
//! either way, and the division by the power of ten is the same one Arrow does in that range
//! (`single_decimal_to_float_lossy`). Arrays with any value outside that range take Arrow's
//! path whole.

use arrow::array::{Array, ArrayRef, AsArray, Float64Array};
use arrow::compute::CastOptions;
use arrow::datatypes::{DataType, Decimal128Type};
use arrow::error::ArrowError;
use std::sync::Arc;

/// Integers below this magnitude convert to `f64` exactly (2^53).
const EXACT: i128 = 1 << 53;

/// Arrow's `cast`, faster for decimals to `Float64` (same bits).
pub(crate) fn cast(a: &ArrayRef, to: &DataType) -> Result<ArrayRef, ArrowError> {
    match decimal_to_f64(a, to) {
        Some(out) => Ok(out),
        None => arrow::compute::cast(a, to),
    }
}

/// Arrow's `cast_with_options`, faster for decimals to `Float64` (same bits; that cast never
/// fails, so the options change nothing there).
pub(crate) fn cast_with_options(
    a: &ArrayRef,
    to: &DataType,
    options: &CastOptions,
) -> Result<ArrayRef, ArrowError> {
    match decimal_to_f64(a, to) {
        Some(out) => Ok(out),
        None => arrow::compute::cast_with_options(a, to, options),
    }
}

/// The fast path, when it applies: a `Decimal128` of scale 0..=22 cast to `Float64` whose
/// values are all below 2^53 in magnitude.
fn decimal_to_f64(a: &ArrayRef, to: &DataType) -> Option<ArrayRef> {
    let (DataType::Float64, DataType::Decimal128(_, scale)) = (to, a.data_type()) else {
        return None;
    };
    if !(0..=22).contains(scale) {
        return None;
    }
    let d = a.as_primitive::<Decimal128Type>();
    // Null slots hold arbitrary values; they are converted too (and stay null), so they must
    // be in range as well for the check to be this simple.
    if d.values().iter().any(|&v| !(-EXACT < v && v < EXACT)) {
        return None;
    }
    let p = 10f64.powi(i32::from(*scale));
    let values = d
        .values()
        .iter()
        .map(|&v| (v as i64) as f64 / p)
        .collect::<Vec<f64>>();
    Some(Arc::new(Float64Array::new(
        values.into(),
        d.nulls().cloned(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Decimal128Array;

    fn decimals(values: Vec<Option<i128>>, p: u8, s: i8) -> ArrayRef {
        Arc::new(
            Decimal128Array::from(values)
                .with_precision_and_scale(p, s)
                .unwrap(),
        )
    }

    fn same_bits(a: &ArrayRef) {
        let ours = cast(a, &DataType::Float64).unwrap();
        let arrows = arrow::compute::cast(a, &DataType::Float64).unwrap();
        let (o, w) = (
            ours.as_primitive::<arrow::datatypes::Float64Type>(),
            arrows.as_primitive::<arrow::datatypes::Float64Type>(),
        );
        assert_eq!(o.nulls(), w.nulls());
        for i in 0..o.len() {
            if w.is_valid(i) {
                assert_eq!(
                    o.value(i).to_bits(),
                    w.value(i).to_bits(),
                    "{i}: {}",
                    w.value(i)
                );
            }
        }
    }

    #[test]
    fn decimals_convert_to_the_same_floats_as_arrow() {
        // A deterministic spread over magnitudes, signs and the 2^53 boundary.
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut v: Vec<Option<i128>> = (0..4000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let m = (x >> (i % 60)) as i128;
                (i % 17 != 0).then_some(if i % 2 == 0 { m } else { -m })
            })
            .collect();
        v.extend([
            Some(EXACT - 1),
            Some(-(EXACT - 1)),
            Some(0),
            Some(5),
            Some(-7),
        ]);
        for s in [0i8, 2, 4, 9, 18] {
            same_bits(&decimals(v.clone(), 38, s));
        }
        // Past 2^53 the whole array takes Arrow's path, with the same answer.
        v.push(Some(EXACT + 1));
        same_bits(&decimals(v.clone(), 38, 2));
        // Scales beyond the fast path's range and negative ones are Arrow's.
        same_bits(&decimals(vec![Some(123), None, Some(-4)], 38, 30));
        same_bits(&decimals(vec![Some(123), None, Some(-4)], 38, -3));
    }

    #[test]
    fn other_casts_are_arrows() {
        let a: ArrayRef = Arc::new(arrow::array::Int32Array::from(vec![Some(1), None]));
        let out = cast(&a, &DataType::Float64).unwrap();
        assert_eq!(out.data_type(), &DataType::Float64);
        assert!(out.is_null(1));
    }
}
