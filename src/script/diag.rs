//! Script diagnostics, printed like rustc's: the message, `--> file:line:column`, the offending
//! source line and a caret under the place, with an optional label and help line.
//!
//! Positions come from `proc-macro2` spans (with `span-locations`: 1-based lines, 0-based
//! columns counted in chars). Everything is rendered into one string carried by
//! [`Error::Script`], so callers need not know about spans.

use proc_macro2::{LineColumn, Span};

use crate::error::Error;

/// A source range: start and end line/column.
pub(crate) type Range = (LineColumn, LineColumn);

/// A script error before rendering: where, what, and optional hints.
#[derive(Debug)]
pub(crate) struct Diag {
    /// Start and end of the offending source; `None` when only the file is known.
    pub span: Option<Range>,
    pub message: String,
    /// Printed after the caret.
    pub label: Option<String>,
    /// Printed as `= help: ...` below the snippet.
    pub help: Option<String>,
}

impl Diag {
    /// An error at `span`.
    pub fn new(span: Span, message: impl Into<String>) -> Self {
        Self {
            span: Some((span.start(), span.end())),
            message: message.into(),
            label: None,
            help: None,
        }
    }

    /// An error at a source range.
    pub fn at(range: Range, message: impl Into<String>) -> Self {
        Self {
            span: Some(range),
            message: message.into(),
            label: None,
            help: None,
        }
    }

    /// An error that concerns the whole script (no position known).
    pub fn whole(message: impl Into<String>) -> Self {
        Self {
            span: None,
            message: message.into(),
            label: None,
            help: None,
        }
    }

    /// Add a caret label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Add a help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Render against the script's name and source.
    pub fn render(&self, file: &str, source: &str) -> String {
        let mut out = self.message.clone();
        let Some((start, end)) = self.span else {
            out.push_str(&format!("\n --> {file}"));
            if let Some(h) = &self.help {
                out.push_str(&format!("\n  = help: {h}"));
            }
            return out;
        };
        let lines: Vec<&str> = source.lines().collect();
        // Spans past the end (an unexpected end of input) point just after the last char.
        let (line_no, col) = if start.line == 0 || start.line > lines.len() {
            let n = lines.len().max(1);
            (n, lines.get(n - 1).map_or(0, |l| l.chars().count()))
        } else {
            (start.line, start.column)
        };
        let text = lines.get(line_no - 1).copied().unwrap_or("");
        let width = line_no.to_string().len();
        let pad = " ".repeat(width);
        out.push_str(&format!("\n{pad}--> {file}:{line_no}:{}", col + 1));
        out.push_str(&format!("\n{pad} |"));
        out.push_str(&format!("\n{line_no} | {}", expand_tabs(text)));
        // The caret covers the span on its first line (to the line's end when it goes on).
        let line_len = text.chars().count();
        let end_col = if end.line == start.line && start.line == line_no {
            end.column.min(line_len)
        } else {
            line_len
        };
        let caret_start = display_width(text, col);
        let caret_len = display_width(text, end_col)
            .saturating_sub(caret_start)
            .max(1);
        out.push_str(&format!(
            "\n{pad} | {}{}",
            " ".repeat(caret_start),
            "^".repeat(caret_len)
        ));
        if let Some(l) = &self.label {
            out.push(' ');
            out.push_str(l);
        }
        if let Some(h) = &self.help {
            out.push_str(&format!("\n{pad} = help: {h}"));
        }
        out
    }

    /// Render into the crate's error type.
    pub fn into_error(self, file: &str, source: &str) -> Error {
        Error::Script(self.render(file, source))
    }
}

/// Tabs print as four spaces, as rustc does, so the caret lines up.
fn expand_tabs(s: &str) -> String {
    s.replace('\t', "    ")
}

/// Printed width of the first `chars` chars of `line`.
fn display_width(line: &str, chars: usize) -> usize {
    line.chars()
        .take(chars)
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum()
}

/// `did you mean `x`?` when a candidate is close enough.
pub(crate) fn suggest<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    crate::error::closest(name, candidates).map(|c| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lc(line: usize, column: usize) -> LineColumn {
        LineColumn { line, column }
    }

    #[test]
    fn renders_like_rustc() {
        let src = "let a = 1;\nscan_csv(\"x\").sortt(1)";
        let d = Diag {
            span: Some((lc(2, 14), lc(2, 19))),
            message: "no method `sortt` on `LazyFrame`".into(),
            label: Some("did you mean `sort`?".into()),
            help: None,
        };
        assert_eq!(
            d.render("q.fq", src),
            "no method `sortt` on `LazyFrame`
 --> q.fq:2:15
  |
2 | scan_csv(\"x\").sortt(1)
  |               ^^^^^ did you mean `sort`?"
        );
    }

    #[test]
    fn span_past_end_points_after_last_char() {
        let d = Diag {
            span: Some((lc(0, 0), lc(0, 0))),
            message: "unexpected end of input".into(),
            label: None,
            help: Some("finish the expression".into()),
        };
        let s = d.render("q.fq", "col(");
        assert!(s.contains("q.fq:1:5"), "{s}");
        assert!(
            s.ends_with("  |     ^\n  = help: finish the expression"),
            "{s}"
        );
    }
}
