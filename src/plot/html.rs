//! HTML for notebooks: a frame as a table in the style of Polars' notebook repr (shape, column
//! names over their dtypes, head and tail rows around an ellipsis row, numbers right-aligned,
//! `null` greyed apart from `NaN`), a lazy frame as its optimized plan and output schema, and a
//! model as its summary line over its table.
//!
//! Everything that comes from data or names is escaped, so a cell holding `<script>` shows as
//! text. Styles are inline (no `<style>` block), so an output cannot restyle the page around it.

use arrow::array::ArrayRef;
use arrow::datatypes::{DataType, SchemaRef};

use crate::frame::display::{dtype_name, format_cell, shown, MAX_COLS};
use crate::frame::DataFrame;
use crate::ml::{KMeansModel, LinearModel, PcaModel};
use crate::plan::LazyFrame;

/// Rows shown before the middle is elided: five from the head, five from the tail (Polars'
/// default of ten).
pub(crate) const MAX_ROWS: usize = 10;

const TABLE: &str = "border-collapse:collapse;font-size:12px;font-family:monospace";
const CELL: &str = "padding:2px 8px;border-bottom:1px solid #ddd;white-space:pre";
const NUMERIC: &str = "text-align:right";
const TEXT: &str = "text-align:left";
const NULL: &str = "color:#999;font-style:italic";
const DTYPE: &str = "color:#777;font-weight:normal;font-style:italic";

/// `s` with `& < > " '` replaced by entities: safe inside elements and quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// True for the types whose cells are right-aligned.
fn is_numeric(dt: &DataType) -> bool {
    dt.is_numeric()
}

/// The frame as an HTML table: `shape: (rows, columns)`, then the table.
pub fn frame_html(df: &DataFrame) -> String {
    let (h, w) = df.shape();
    let mut out = format!("<div><small>shape: ({h}, {w})</small>\n");
    out.push_str(&table_html(df.schema(), df.columns(), h));
    out.push_str("</div>");
    out
}

fn table_html(schema: &SchemaRef, columns: &[ArrayRef], height: usize) -> String {
    let cols = shown(columns.len(), MAX_COLS);
    let rows = shown(height, MAX_ROWS);
    let align = |c: &Option<usize>| match c {
        Some(i) if is_numeric(schema.field(*i).data_type()) => NUMERIC,
        _ => TEXT,
    };
    let mut out = format!("<table style=\"{TABLE}\">\n<thead>\n<tr>");
    for c in &cols {
        let name = c.map_or("…".to_string(), |i| escape(schema.field(i).name()));
        out.push_str(&format!("<th style=\"{CELL};{}\">{name}</th>", align(c)));
    }
    out.push_str("</tr>\n<tr>");
    for c in &cols {
        let dtype = c.map_or(String::new(), |i| {
            escape(&dtype_name(schema.field(i).data_type()))
        });
        out.push_str(&format!(
            "<th style=\"{CELL};{};{DTYPE}\">{dtype}</th>",
            align(c)
        ));
    }
    out.push_str("</tr>\n</thead>\n<tbody>\n");
    for r in &rows {
        out.push_str("<tr>");
        for c in &cols {
            let (text, extra) = match (r, c) {
                (Some(r), Some(i)) if columns[*i].is_null(*r) => ("null".to_string(), NULL),
                (Some(r), Some(i)) => (escape(&format_cell(&columns[*i], *r)), ""),
                _ => ("…".to_string(), ""),
            };
            out.push_str(&format!(
                "<td style=\"{CELL};{};{extra}\">{text}</td>",
                align(c)
            ));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out
}

/// The lazy frame without running it: its optimized plan and its output schema (or the
/// planning error, which is what a user needs to see first).
pub fn lazy_html(lf: &LazyFrame) -> String {
    let mut out = String::from("<div><b>LazyFrame</b> <small>(not run yet)</small>\n");
    match lf.explain(true) {
        Ok(plan) => {
            out.push_str("<div><small>optimized plan</small></div>\n");
            out.push_str(&format!("<pre>{}</pre>\n", escape(&plan)));
        }
        Err(e) => {
            out.push_str(&error_html(&e.to_string()));
            out.push_str("</div>");
            return out;
        }
    }
    match lf.schema() {
        Ok(schema) => {
            out.push_str(&format!(
                "<div><small>output schema: {} columns</small></div>\n",
                schema.fields().len()
            ));
            out.push_str(&format!("<table style=\"{TABLE}\">\n<tbody>\n"));
            for f in schema.fields() {
                out.push_str(&format!(
                    "<tr><td style=\"{CELL};{TEXT}\">{}</td><td style=\"{CELL};{TEXT};{DTYPE}\">{}</td></tr>\n",
                    escape(f.name()),
                    escape(&dtype_name(f.data_type()))
                ));
            }
            out.push_str("</tbody>\n</table>\n");
        }
        Err(e) => out.push_str(&error_html(&e.to_string())),
    }
    out.push_str("</div>");
    out
}

/// The lazy frame as plain text: the plan and `name: dtype` lines.
pub fn lazy_text(lf: &LazyFrame) -> String {
    let plan = match lf.explain(true) {
        Ok(p) => p,
        Err(e) => return format!("LazyFrame (not run yet)\nerror: {e}"),
    };
    let schema = match lf.schema() {
        Ok(s) => crate::io::schema_text(&s),
        Err(e) => format!("error: {e}"),
    };
    format!("LazyFrame (not run yet)\noptimized plan:\n{plan}\noutput schema:\n{schema}")
}

/// An error message as a red `<pre>` block.
pub(crate) fn error_html(message: &str) -> String {
    format!("<pre style=\"color:#b00\">{}</pre>\n", escape(message))
}

/// A summary line over a table (what models show).
fn summary_html(title: &str, facts: &[(&str, String)], table: crate::Result<DataFrame>) -> String {
    let mut out = format!("<div><b>{}</b>", escape(title));
    for (name, value) in facts {
        out.push_str(&format!(
            " &middot; {}: <code>{}</code>",
            escape(name),
            escape(value)
        ));
    }
    out.push('\n');
    match table {
        Ok(df) => out.push_str(&table_html(df.schema(), df.columns(), df.height())),
        Err(e) => out.push_str(&error_html(&e.to_string())),
    }
    out.push_str("</div>");
    out
}

/// k-means: the centres table with cluster sizes, and the inertia.
pub fn kmeans_html(m: &KMeansModel) -> String {
    summary_html(
        "KMeans",
        &[
            ("k", m.k().to_string()),
            ("features", m.features.join(", ")),
            ("iterations", m.n_iter.to_string()),
            ("inertia", m.inertia.to_string()),
        ],
        m.to_dataframe(),
    )
}

/// PCA: the components with their explained variance.
pub fn pca_html(m: &PcaModel) -> String {
    summary_html(
        "PCA",
        &[
            (
                "components",
                format!("{} of {}", m.n_components(), m.features.len()),
            ),
            ("rows", m.n_samples.to_string()),
            ("solver", format!("{:?}", m.solver)),
            (
                "explained variance ratio",
                m.explained_variance_ratio.sum().to_string(),
            ),
        ],
        m.to_dataframe(),
    )
}

/// Least squares: the coefficients, R² and MSE.
pub fn linear_html(m: &LinearModel) -> String {
    summary_html(
        "LinearRegression",
        &[
            (
                "model",
                format!("{} ~ {}", m.target, m.features.join(" + ")),
            ),
            ("rows", m.n_samples.to_string()),
            ("R²", m.r2.to_string()),
            ("MSE", m.mse.to_string()),
        ],
        m.to_dataframe(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::df;
    use crate::expr::col;

    /// The text of every `<td>` in `html`, row by row.
    fn cells(html: &str) -> Vec<Vec<String>> {
        html.split("<tr>")
            .skip(1)
            .filter(|row| row.contains("<td"))
            .map(|row| {
                row.split("<td")
                    .skip(1)
                    .map(|c| {
                        let start = c.find('>').map_or(0, |i| i + 1);
                        let end = c.find("</td>").unwrap_or(c.len());
                        c[start..end].to_string()
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn small_frame_has_shape_names_dtypes_and_every_row() {
        let df = df!("a" => [1, 2, 3], "x" => [0.5, f64::NAN, 2.0], "s" => ["p", "q", "r"])
            .expect("frame");
        let html = frame_html(&df);
        assert!(html.contains("shape: (3, 3)"), "{html}");
        for name in ["a", "x", "s"] {
            assert!(html.contains(&format!(">{name}</th>")), "{html}");
        }
        for dtype in ["i64", "f64", "str"] {
            assert!(html.contains(&format!(">{dtype}</th>")), "{html}");
        }
        assert_eq!(
            cells(&html),
            vec![
                vec!["1", "0.5", "&quot;p&quot;"],
                vec!["2", "NaN", "&quot;q&quot;"],
                vec!["3", "2.0", "&quot;r&quot;"],
            ]
        );
    }

    #[test]
    fn long_frame_shows_head_and_tail_around_an_ellipsis_row() {
        let df = df!("i" => (0..100).collect::<Vec<i64>>()).expect("frame");
        let html = frame_html(&df);
        let rows = cells(&html);
        let flat: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        assert_eq!(
            flat,
            vec!["0", "1", "2", "3", "4", "…", "95", "96", "97", "98", "99"]
        );
        assert!(html.contains("shape: (100, 1)"));
    }

    #[test]
    fn wide_frame_elides_middle_columns() {
        let cols: Vec<crate::frame::Column> = (0..30)
            .map(|i| crate::frame::Column::new(format!("c{i}"), [i as i64]))
            .collect();
        let df = DataFrame::new(cols).expect("frame");
        let html = frame_html(&df);
        assert!(
            html.contains(">c9</th>") && html.contains(">c20</th>"),
            "{html}"
        );
        assert!(!html.contains(">c10</th>") && !html.contains(">c19</th>"));
        assert!(html.contains(">…</th>"));
        assert_eq!(cells(&html)[0].len(), 21);
    }

    #[test]
    fn null_and_nan_look_different_and_numbers_align_right() {
        let df = df!("x" => [Some(1.0), None, Some(f64::NAN)], "s" => [Some("a"), None, Some("b")])
            .expect("frame");
        let html = frame_html(&df);
        let null_cells = html.matches(&format!("{NULL}\">null</td>")).count();
        assert_eq!(null_cells, 2, "{html}");
        assert!(html.contains(&format!("{NUMERIC};\">NaN</td>")), "{html}");
        assert!(
            html.contains(&format!("{TEXT};\">&quot;a&quot;</td>")),
            "{html}"
        );
    }

    #[test]
    fn markup_in_names_and_cells_is_escaped() {
        let df = df!(
            "<b>col</b>" => ["<script>alert('x')</script>", "a & b"]
        )
        .expect("frame");
        let html = frame_html(&df);
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<b>col"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;col&lt;/b&gt;"), "{html}");
        assert!(html.contains("a &amp; b"), "{html}");
    }

    #[test]
    fn lazy_frame_shows_plan_and_schema_without_running() {
        let lf = df!("a" => [1, 2], "b" => [0.5, 1.5])
            .expect("frame")
            .lazy()
            .filter(col("a").gt(1))
            .select([col("b").alias("<b>")]);
        let html = lazy_html(&lf);
        assert!(html.contains("<pre>"), "{html}");
        assert!(
            html.contains("FILTER") || html.contains("Filter") || html.contains("filter"),
            "{html}"
        );
        assert!(html.contains("&lt;b&gt;</td>"), "{html}");
        assert!(html.contains(">f64</td>"), "{html}");
        let text = lazy_text(&lf);
        assert!(text.contains("output schema:\n<b>: f64"), "{text}");
        // A planning error is shown, escaped, instead of a plan.
        let bad = df!("a" => [1])
            .expect("frame")
            .lazy()
            .select([col("<nope>")]);
        let html = lazy_html(&bad);
        assert!(
            html.contains("column not found: &quot;&lt;nope&gt;&quot;"),
            "{html}"
        );
    }
}
