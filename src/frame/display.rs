//! `Display` for `DataFrame`, modelled on Polars: shape line, names, dtypes, and the first and
//! last rows when the frame is long.

use std::fmt;

use arrow::array::{Array, ArrayRef};
use arrow::datatypes::{DataType, TimeUnit};
use arrow::util::display::{ArrayFormatter, FormatOptions};

use super::DataFrame;
use crate::expr::temporal::calendar::{ticks_per_second, unit_name, Zone};
use crate::expr::{array_to_scalar, Scalar};
/// Type names and floats print the same in plan text, messages and tables, so they are
/// defined once in the expression layer below (and stay reachable here).
pub use crate::expr::{dtype_name, format_float};

/// Rows shown before eliding the middle (like Polars' default of 10: five head, five tail).
const MAX_ROWS: usize = 10;
/// Columns shown before eliding the middle (the first and last ten), so a wide frame (a
/// model's 10,000 components) prints as a table a terminal can show. Polars elides past 8;
/// more are kept here because a job's printed table is often its result (a per-group summary
/// of a dozen aggregates), and the notebook table shows as many.
pub(crate) const MAX_COLS: usize = 20;

/// Which of `n` items (rows or columns) to show: all of them, or the first and last `max / 2`
/// around a gap (`None`, printed as `…`).
pub(crate) fn shown(n: usize, max: usize) -> Vec<Option<usize>> {
    if n <= max {
        (0..n).map(Some).collect()
    } else {
        let half = max / 2;
        (0..half)
            .map(Some)
            .chain(std::iter::once(None))
            .chain((n - half..n).map(Some))
            .collect()
    }
}
/// Cells longer than this are cut with an ellipsis.
const MAX_CELL: usize = 32;

/// Format one cell as the table (and the CLI's table output) shows it.
pub(crate) fn format_cell(array: &ArrayRef, row: usize) -> String {
    if array.is_null(row) {
        return "null".into();
    }
    let s = match array.data_type() {
        DataType::Float64 | DataType::Float32 => {
            let v = arrow::compute::cast(&array.slice(row, 1), &DataType::Float64)
                .ok()
                .and_then(|a| {
                    a.as_any()
                        .downcast_ref::<arrow::array::Float64Array>()
                        .map(|a| a.value(0))
                });
            match v {
                Some(v) => format_float(v),
                None => "?".into(),
            }
        }
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => {
            let f = ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default());
            match f {
                Ok(f) => format!("\"{}\"", f.value(row)),
                Err(_) => "?".into(),
            }
        }
        DataType::Timestamp(_, Some(_)) | DataType::Duration(_) => temporal_cell(array, row),
        _ => match ArrayFormatter::try_new(array.as_ref(), &FormatOptions::default()) {
            Ok(f) => f.value(row).to_string(),
            Err(_) => "?".into(),
        },
    };
    if s.chars().count() > MAX_CELL {
        let cut: String = s.chars().take(MAX_CELL - 1).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// A zoned timestamp as its local time with the offset (`2020-03-08T03:30:00-04:00`), a
/// duration as Polars writes it (`13d`, `1h 30m`, `250ms`).
fn temporal_cell(array: &ArrayRef, row: usize) -> String {
    match array.data_type() {
        DataType::Timestamp(_, Some(_)) => zoned_timestamp_text(array, row),
        _ => duration_text(array, row),
    }
}

/// The value at `row` of a zoned timestamp column as RFC 3339 local time with its offset
/// (`2020-03-08T03:30:00-04:00`), which Arrow's formatter cannot give for named zones without
/// its own zone database. The CSV and JSON writers use it too.
pub(crate) fn zoned_timestamp_text(array: &ArrayRef, row: usize) -> String {
    let Ok(v) = array_to_scalar(array.as_ref(), row) else {
        return "?".into();
    };
    match v {
        Scalar::Timestamp(t, u, Some(tz)) => {
            let Ok(zone) = Zone::parse(&tz) else {
                return "?".into();
            };
            let per = ticks_per_second(u);
            let offset = zone.offset_at(t.div_euclid(per));
            let local = t.wrapping_add(offset.wrapping_mul(per));
            let naive = ArrayFormatter::try_new(
                &arrow::array::TimestampSecondArray::from(vec![local.div_euclid(per)]),
                &FormatOptions::default(),
            )
            .map(|f| f.value(0).to_string())
            .unwrap_or_else(|_| "?".into());
            let sub = local.rem_euclid(per);
            let frac = match (sub, u) {
                (0, _) => String::new(),
                (_, TimeUnit::Millisecond) => format!(".{sub:03}"),
                (_, TimeUnit::Microsecond) => format!(".{sub:06}"),
                _ => format!(".{sub:09}"),
            };
            let sign = if offset < 0 { '-' } else { '+' };
            let o = offset.unsigned_abs();
            format!("{naive}{frac}{sign}{:02}:{:02}", o / 3600, o % 3600 / 60)
        }
        _ => "?".into(),
    }
}

/// A duration as Polars writes it: `13d`, `1h 30m`, `250ms`.
fn duration_text(array: &ArrayRef, row: usize) -> String {
    let Ok(v) = array_to_scalar(array.as_ref(), row) else {
        return "?".into();
    };
    match v {
        Scalar::Duration(d, u) => {
            let ns_per_tick = 1_000_000_000 / i128::from(ticks_per_second(u));
            let mut ns = i128::from(d) * ns_per_tick;
            let sign = if ns < 0 { "-" } else { "" };
            ns = ns.abs();
            let units: [(i128, &str); 7] = [
                (86_400_000_000_000, "d"),
                (3_600_000_000_000, "h"),
                (60_000_000_000, "m"),
                (1_000_000_000, "s"),
                (1_000_000, "ms"),
                (1_000, "μs"),
                (1, "ns"),
            ];
            let mut parts = vec![];
            for (size, name) in units {
                if ns >= size {
                    parts.push(format!("{}{name}", ns / size));
                    ns %= size;
                }
            }
            if parts.is_empty() {
                format!("0{}", unit_name(u))
            } else {
                format!("{sign}{}", parts.join(" "))
            }
        }
        _ => "?".into(),
    }
}

impl fmt::Display for DataFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, w) = self.shape();
        writeln!(f, "shape: ({h}, {w})")?;
        if w == 0 {
            return write!(f, "┌┐\n└┘");
        }
        let rows = shown(h, MAX_ROWS);
        let schema = self.schema();
        let mut cols: Vec<Vec<String>> = Vec::with_capacity(MAX_COLS + 1);
        for i in shown(w, MAX_COLS) {
            let Some(i) = i else {
                cols.push(vec!["…".into(); 3 + rows.len()]);
                continue;
            };
            let (field, array) = (schema.field(i), &self.columns()[i]);
            let mut c = vec![
                field.name().clone(),
                "---".into(),
                dtype_name(field.data_type()),
            ];
            for r in &rows {
                c.push(match r {
                    Some(r) => format_cell(array, *r),
                    None => "…".into(),
                });
            }
            cols.push(c);
        }
        let widths: Vec<usize> = cols
            .iter()
            .map(|c| c.iter().map(|s| s.chars().count()).max().unwrap_or(0))
            .collect();
        let line = |l: &str, m: &str, r: &str, fill: &str| -> String {
            let parts: Vec<String> = widths.iter().map(|w| fill.repeat(w + 2)).collect();
            format!("{l}{}{r}", parts.join(m))
        };
        writeln!(f, "{}", line("┌", "┬", "┐", "─"))?;
        let n_lines = 3 + rows.len();
        for i in 0..n_lines {
            if i == 3 {
                writeln!(f, "{}", line("╞", "╪", "╡", "═"))?;
            }
            let cells: Vec<String> = cols
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!(" {:<w$} ", c[i], w = *w))
                .collect();
            writeln!(f, "│{}│", cells.join("┆"))?;
        }
        write!(f, "{}", line("└", "┴", "┘", "─"))
    }
}

#[cfg(test)]
mod tests {
    use crate::df;

    #[test]
    fn display_small_frame() {
        let df = df!("a" => [1, 2], "b" => [0.5, f64::NAN], "s" => ["x", "y"]).unwrap();
        let s = df.to_string();
        assert_eq!(
            s,
            "shape: (2, 3)
┌─────┬─────┬─────┐
│ a   ┆ b   ┆ s   │
│ --- ┆ --- ┆ --- │
│ i64 ┆ f64 ┆ str │
╞═════╪═════╪═════╡
│ 1   ┆ 0.5 ┆ \"x\" │
│ 2   ┆ NaN ┆ \"y\" │
└─────┴─────┴─────┘"
        );
    }

    #[test]
    fn display_elides_middle_rows() {
        let df = df!("i" => (0..100).collect::<Vec<i64>>()).unwrap();
        let s = df.to_string();
        assert!(s.contains("│ …   │"), "{s}");
        assert!(s.contains("│ 99  │"), "{s}");
        assert!(!s.contains("│ 50  │"), "{s}");
    }

    #[test]
    fn display_elides_middle_columns() {
        let columns = (0..24)
            .map(|i| crate::frame::Column::new(format!("c{i}"), vec![1i64]))
            .collect();
        let df = crate::frame::DataFrame::new(columns).unwrap();
        let s = df.to_string();
        assert_eq!(
            s,
            "shape: (1, 24)
┌─────┬─────┬─────┬─────┬─────┬─────┬─────┬─────┬─────┬─────┬───┬─────┬─────┬─────┬─────┬─────┬─────┬─────┬─────┬─────┬─────┐
│ c0  ┆ c1  ┆ c2  ┆ c3  ┆ c4  ┆ c5  ┆ c6  ┆ c7  ┆ c8  ┆ c9  ┆ … ┆ c14 ┆ c15 ┆ c16 ┆ c17 ┆ c18 ┆ c19 ┆ c20 ┆ c21 ┆ c22 ┆ c23 │
│ --- ┆ --- ┆ --- ┆ --- ┆ --- ┆ --- ┆ --- ┆ --- ┆ --- ┆ --- ┆ … ┆ --- ┆ --- ┆ --- ┆ --- ┆ --- ┆ --- ┆ --- ┆ --- ┆ --- ┆ --- │
│ i64 ┆ i64 ┆ i64 ┆ i64 ┆ i64 ┆ i64 ┆ i64 ┆ i64 ┆ i64 ┆ i64 ┆ … ┆ i64 ┆ i64 ┆ i64 ┆ i64 ┆ i64 ┆ i64 ┆ i64 ┆ i64 ┆ i64 ┆ i64 │
╞═════╪═════╪═════╪═════╪═════╪═════╪═════╪═════╪═════╪═════╪═══╪═════╪═════╪═════╪═════╪═════╪═════╪═════╪═════╪═════╪═════╡
│ 1   ┆ 1   ┆ 1   ┆ 1   ┆ 1   ┆ 1   ┆ 1   ┆ 1   ┆ 1   ┆ 1   ┆ … ┆ 1   ┆ 1   ┆ 1   ┆ 1   ┆ 1   ┆ 1   ┆ 1   ┆ 1   ┆ 1   ┆ 1   │
└─────┴─────┴─────┴─────┴─────┴─────┴─────┴─────┴─────┴─────┴───┴─────┴─────┴─────┴─────┴─────┴─────┴─────┴─────┴─────┴─────┘"
        );
    }
}
