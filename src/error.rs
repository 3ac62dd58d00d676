//! The one error type of the crate.
//!
//! User mistakes (an unknown column, a type mismatch, a bad file, a script typo) are separate
//! variants from bugs ([`Error::Internal`]), so callers can tell "fix your query" from "report
//! this". Every user error names the place: the column, the path, the line and column.

use std::path::PathBuf;

/// Result alias used across fusedframe.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in fusedframe.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A column name that the input does not have.
    #[error("column not found: \"{name}\"{}; available columns: [{}]",
        .suggestion.as_ref().map(|s| format!(" (did you mean \"{s}\"?)")).unwrap_or_default(),
        .available.join(", "))]
    ColumnNotFound {
        /// The name asked for.
        name: String,
        /// The closest existing name, when one is close enough to be a likely typo.
        suggestion: Option<String>,
        /// The input's column names.
        available: Vec<String>,
    },
    /// A type that does not fit the operation, found while planning, before any data is read.
    #[error("type error: {0}")]
    Type(String),
    /// A schema problem: duplicate names, shapes that do not line up, bad overrides.
    #[error("schema error: {0}")]
    Schema(String),
    /// A plan that cannot be built or run as written (bad arguments, unsupported combination).
    #[error("plan error: {0}")]
    Plan(String),
    /// A value-level problem found while computing (out-of-range index, empty input).
    #[error("compute error: {0}")]
    Compute(String),
    /// A file that cannot be opened, read or written.
    #[error("I/O error on {}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        #[source]
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// A malformed CSV file: the line (1-based, counting the header) and column are named.
    #[error("CSV error in {} at line {line}, column {column}: {message}", .path.display())]
    Csv {
        /// The file.
        path: PathBuf,
        /// The 1-based line (the header is line 1).
        line: u64,
        /// The column's name (or position when the file has no header).
        column: String,
        /// What is wrong with the field.
        message: String,
    },
    /// A Parquet or Arrow IPC file that cannot be decoded.
    #[error("{format} error in {}: {message}", .path.display())]
    File {
        /// `"Parquet"` or `"Arrow IPC"`.
        format: &'static str,
        /// The file.
        path: PathBuf,
        /// What could not be decoded, and where (row group, column) when known.
        message: String,
    },
    /// A query-script error, already formatted with `file:line:column` and the source line.
    #[error("{0}")]
    Script(String),
    /// A query that needs more memory than its budget: `operator` (as plan text names it)
    /// asked for `requested` more bytes while `reserved` of the `limit` were in use. See
    /// [`crate::memory`].
    #[error("memory limit exceeded: {operator} needs {} more, but {} of the {} budget are in use; \
        raise the budget (ExecOptions::memory_limit, --memory-limit, FUSEDFRAME_MEMORY_LIMIT) or \
        reduce what the query holds at once (write with a sink instead of collecting)",
        human_bytes(*.requested),
        human_bytes(*.reserved),
        human_bytes(*.limit))]
    MemoryLimit {
        /// The operator asking, as plan text names it (`SORT`, `GROUP_BY`, `HASH_JOIN`, ...).
        operator: String,
        /// The bytes it asked for.
        requested: usize,
        /// The bytes of the budget already in use.
        reserved: usize,
        /// The budget in bytes.
        limit: usize,
    },
    /// A problem fitting a model (NaN in features, too few rows, singular system).
    #[error("model error: {0}")]
    Model(String),
    /// A bug in fusedframe, not in the query: please report it.
    #[error("internal error (a bug in fusedframe): {0}")]
    Internal(String),
}

impl Error {
    /// Build a [`Error::ColumnNotFound`] with the closest existing name as a suggestion.
    pub fn column_not_found<'a>(name: &str, available: impl IntoIterator<Item = &'a str>) -> Self {
        let available: Vec<String> = available.into_iter().map(str::to_string).collect();
        let suggestion = closest(name, available.iter().map(String::as_str)).map(str::to_string);
        Error::ColumnNotFound {
            name: name.to_string(),
            suggestion,
            available,
        }
    }

    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// True for errors caused by the query or its input, false for bugs.
    pub fn is_user_error(&self) -> bool {
        !matches!(self, Error::Internal(_))
    }
}

impl From<arrow::error::ArrowError> for Error {
    fn from(e: arrow::error::ArrowError) -> Self {
        use arrow::error::ArrowError as A;
        match e {
            A::CastError(m) | A::ParseError(m) | A::InvalidArgumentError(m) => Error::Compute(m),
            A::DivideByZero => Error::Compute("division by zero".into()),
            A::ArithmeticOverflow(m) => Error::Compute(format!("arithmetic overflow: {m}")),
            A::SchemaError(m) => Error::Schema(m),
            A::IoError(m, source) => Error::Io {
                path: PathBuf::from(m),
                source,
            },
            other => Error::Internal(other.to_string()),
        }
    }
}

/// `bytes` as people read it (`1.5 GiB`), for messages ([`Error::MemoryLimit`] shows its sizes
/// with it, so it lives here, below every module that reports sizes).
pub fn human_bytes(bytes: usize) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// The candidate closest to `name` by edit distance (case-insensitive), if any is close enough
/// to be a plausible typo.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let d = levenshtein(&lower, &c.to_lowercase());
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    // A suggestion that rewrites most of the word is noise, not help.
    best.filter(|(d, c)| *d <= (name.len().max(c.len()) / 2).max(1))
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_closest_column() {
        let e = Error::column_not_found("sepal_lenght", ["sepal_length", "petal_width"]);
        let msg = e.to_string();
        assert!(msg.contains("did you mean \"sepal_length\""), "{msg}");
    }

    #[test]
    fn no_suggestion_when_far() {
        assert_eq!(closest("zzzzzz", ["sepal_length"]), None);
        assert_eq!(closest("X", ["x", "y"]), Some("x"));
    }
}
