//! Rich display in evcxr notebooks.
//!
//! evcxr shows the last expression of a cell by calling its `evcxr_display(&self)` method if
//! the type has one. The method prints blocks to stdout, each
//! `EVCXR_BEGIN_CONTENT <mime type>\n<content>\nEVCXR_END_CONTENT\n`; evcxr collects every
//! block of the cell into one Jupyter bundle keyed by MIME type, and the front end picks the
//! richest it can show. So each display sends `text/html` (or `image/svg+xml`) and a
//! `text/plain` fallback. evcxr reads content line by line until a line that is exactly
//! `EVCXR_END_CONTENT`, so [`payload`] indents such a line inside content.
//!
//! Frames show an HTML table, lazy frames their optimized plan and output schema (without
//! running), models their summary tables; plots (see [`Plot`](super::Plot)) their SVG.

use std::io::Write;

use super::html;
use crate::frame::DataFrame;
use crate::ml::{KMeansModel, LinearModel, PcaModel};
use crate::plan::LazyFrame;

/// The text evcxr reads for these `(mime type, content)` blocks.
pub fn payload(blocks: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (mime, content) in blocks {
        out.push_str("EVCXR_BEGIN_CONTENT ");
        out.push_str(mime);
        out.push('\n');
        for (i, line) in content.split('\n').enumerate() {
            if i > 0 {
                out.push('\n');
            }
            if line == "EVCXR_END_CONTENT" {
                out.push(' ');
            }
            out.push_str(line);
        }
        out.push_str("\nEVCXR_END_CONTENT\n");
    }
    out
}

/// Print the blocks in one write on a locked stdout, so nothing interleaves with them.
pub(crate) fn emit(blocks: &[(&str, &str)]) {
    emit_payload(&payload(blocks));
}

/// Print a [`payload`] in one write on a locked stdout.
pub(crate) fn emit_payload(text: &str) {
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    // Display is best effort: a closed stdout has nowhere to report to either.
    let _ = lock.write_all(text.as_bytes());
    let _ = lock.flush();
}

impl DataFrame {
    /// The frame as an HTML table (Polars' notebook style: shape, names over dtypes, head and
    /// tail rows around an ellipsis row when long, `null` apart from `NaN`, every value
    /// escaped).
    ///
    /// ```
    /// use fusedframe::prelude::*;
    /// let html = df!("x" => [1.5, f64::NAN])?.to_html();
    /// assert!(html.contains("shape: (2, 1)") && html.contains(">NaN</td>"));
    /// # Ok::<(), fusedframe::Error>(())
    /// ```
    pub fn to_html(&self) -> String {
        html::frame_html(self)
    }

    /// Show the frame in an evcxr notebook: the HTML table, with its text table as fallback.
    pub fn evcxr_display(&self) {
        emit(&[
            ("text/html", &self.to_html()),
            ("text/plain", &self.to_string()),
        ]);
    }
}

impl LazyFrame {
    /// The query as HTML without running it: its optimized plan and output schema (or the
    /// error that planning found).
    pub fn to_html(&self) -> String {
        html::lazy_html(self)
    }

    /// Show the query in an evcxr notebook without running it: the optimized plan and the
    /// output schema.
    pub fn evcxr_display(&self) {
        emit(&[
            ("text/html", &self.to_html()),
            ("text/plain", &html::lazy_text(self)),
        ]);
    }
}

/// `to_html` and `evcxr_display` for a fitted model with a `summary()`.
macro_rules! model_display {
    ($($t:ty => $html:path),* $(,)?) => {$(
        impl $t {
            /// The summary as HTML: the parameters and statistics over the model's table.
            pub fn to_html(&self) -> String {
                $html(self)
            }

            /// Show the model in an evcxr notebook: its summary table, with the text
            /// summary as fallback.
            pub fn evcxr_display(&self) {
                emit(&[("text/html", &self.to_html()), ("text/plain", &self.summary())]);
            }
        }
    )*};
}

model_display!(
    KMeansModel => html::kmeans_html,
    PcaModel => html::pca_html,
    LinearModel => html::linear_html,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_follow_evcxr_protocol() {
        let text = payload(&[("text/html", "<b>x</b>"), ("text/plain", "x\ny")]);
        assert_eq!(
            text,
            "EVCXR_BEGIN_CONTENT text/html\n<b>x</b>\nEVCXR_END_CONTENT\n\
             EVCXR_BEGIN_CONTENT text/plain\nx\ny\nEVCXR_END_CONTENT\n"
        );
    }

    #[test]
    fn content_cannot_end_a_block_early() {
        let text = payload(&[("text/plain", "a\nEVCXR_END_CONTENT\nb")]);
        let ends = text.lines().filter(|l| *l == "EVCXR_END_CONTENT").count();
        assert_eq!(ends, 1, "{text}");
        assert!(text.contains("\n EVCXR_END_CONTENT\nb\n"), "{text}");
    }

    #[test]
    fn models_show_their_tables() {
        use crate::ml::{KMeans, LinearRegression, Pca};
        let x = ndarray::array![[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]];
        let km = KMeans::new(2).seed(1).fit_ndarray(&x).expect("kmeans");
        let html = km.to_html();
        assert!(
            html.contains("<b>KMeans</b>") && html.contains("inertia"),
            "{html}"
        );
        assert!(
            html.contains(">cluster</th>") && html.contains(">size</th>"),
            "{html}"
        );
        let pca = Pca::new(1).fit_ndarray(&x).expect("pca");
        let html = pca.to_html();
        assert!(html.contains(">explained_variance_ratio</th>"), "{html}");
        assert!(html.contains("&quot;pc1&quot;"), "{html}");
        let y = ndarray::array![1.0, 2.0, 3.0, 4.5];
        let lm = LinearRegression::fit_ndarray(&x, &y).expect("linear");
        let html = lm.to_html();
        assert!(
            html.contains("R²") && html.contains(">coefficient</th>"),
            "{html}"
        );
        assert!(html.contains("&quot;intercept&quot;"), "{html}");
    }
}
