//! Splitting CSV bytes into records and fields, and the file into morsels.
//!
//! The quoting rules (RFC 4180, read leniently) live here, once, for both the record parser and
//! the morsel splitter, because the two must agree byte for byte: a morsel boundary is only
//! ever placed where the parser would also see the start of a record. The rules:
//!
//! - a record ends at `\n` outside quotes; a `\r` right before it is dropped (CRLF files);
//! - a field that *starts* with the quote character is quoted: it runs to the next single
//!   quote, a doubled quote inside it is one literal quote, and delimiters and newlines inside
//!   it are text;
//! - a quote anywhere else (`5'10"`) is an ordinary character, and text between a closing
//!   quote and the next delimiter is kept as-is (`"ab"c` reads `abc`), as Python's csv does.
//!
//! Splitting first checks, in parallel, whether the data holds any quote character; if not,
//! each boundary is just the next line end. Otherwise it is a serial scan that only visits
//! quote characters (memchr) and looks for one line end per boundary. Field ends come from
//! [`Seps`], 64 bytes at a time.

use memchr::memchr;

use super::seps::Seps;
use super::Bytes;

/// The record separator. A lone `\r` (classic Mac OS) is not a line end.
pub(crate) const NL: u8 = b'\n';

/// Delimiter and quote character.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dialect {
    pub delim: u8,
    pub quote: u8,
}

/// Why a record could not be split, or why the per-field callback stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldErrorKind {
    /// A quoted field with no closing quote before the end of the input.
    Unterminated,
    /// The callback rejected the value (wrong type, bad UTF-8): it knows why.
    Rejected,
}

/// A field-level failure: which field of the record, and the byte offset where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub kind: FieldErrorKind,
    pub field: usize,
    pub offset: usize,
}

/// If a blank line starts at `pos` (`\n` or `\r\n`, or a final `\r`), the position after it.
#[inline(always)]
pub(crate) fn blank_line(buf: &[u8], pos: usize, end: usize) -> Option<usize> {
    match buf[pos] {
        NL => Some(pos + 1),
        b'\r' if pos + 1 == end => Some(end),
        b'\r' if buf[pos + 1] == NL => Some(pos + 2),
        _ => None,
    }
}

/// Split the record starting at `pos` (which must be `< end`; `seps` must search the same
/// `buf[..end]`), calling
/// `on_field(index, text, quoted, offset)` for each field in order. `text` has its quotes
/// removed and doubled quotes undone (using `scratch` only when it must be rewritten).
/// Returns the start of the next record and the number of fields.
#[inline(always)]
pub(crate) fn parse_record<F>(
    buf: &[u8],
    mut pos: usize,
    end: usize,
    d: Dialect,
    seps: &mut Seps<'_>,
    scratch: &mut Vec<u8>,
    mut on_field: F,
) -> Result<(usize, usize), FieldError>
where
    F: FnMut(usize, &[u8], bool, usize) -> Result<(), FieldErrorKind>,
{
    let mut i = 0;
    loop {
        let fstart = pos;
        let term; // position of the delimiter or newline ending this field, or `end`
        if pos < end && buf[pos] == d.quote {
            let (t, text) = quoted_field(buf, pos, end, d, seps, scratch).ok_or(FieldError {
                kind: FieldErrorKind::Unterminated,
                field: i,
                offset: fstart,
            })?;
            term = t;
            let r = match text {
                Some((s, e)) => on_field(i, &buf[s..e], true, fstart),
                None => on_field(i, scratch, true, fstart),
            };
            r.map_err(|kind| FieldError {
                kind,
                field: i,
                offset: fstart,
            })?;
        } else {
            term = seps.next(pos);
            let mut fend = term;
            if (term == end || buf[term] == NL) && fend > pos && buf[fend - 1] == b'\r' {
                fend -= 1;
            }
            on_field(i, &buf[pos..fend], false, fstart).map_err(|kind| FieldError {
                kind,
                field: i,
                offset: fstart,
            })?;
        }
        i += 1;
        if term >= end {
            return Ok((end, i));
        }
        if buf[term] == NL {
            return Ok((term + 1, i));
        }
        pos = term + 1;
    }
}

/// A quoted field starting at `open` (the opening quote). Returns the terminator position and
/// either the content's range in `buf` (no rewriting needed) or `None` when the content was
/// written to `scratch`. `None` overall means the quote is never closed.
#[inline]
#[allow(clippy::type_complexity)]
fn quoted_field(
    buf: &[u8],
    open: usize,
    end: usize,
    d: Dialect,
    seps: &mut Seps<'_>,
    scratch: &mut Vec<u8>,
) -> Option<(usize, Option<(usize, usize)>)> {
    let start = open + 1;
    let mut p = start;
    let mut escaped = false;
    // Find the closing quote: a quote not followed by another quote.
    let close = loop {
        let j = p + memchr(d.quote, &buf[p..end])?;
        if j + 1 < end && buf[j + 1] == d.quote {
            escaped = true;
            p = j + 2;
        } else {
            break j;
        }
    };
    let after = close + 1;
    // The usual case: the closing quote is followed by a delimiter, a line end or the end.
    let clean_end = if after >= end || buf[after] == d.delim || buf[after] == NL {
        Some(after)
    } else if buf[after] == b'\r' && (after + 1 == end || buf[after + 1] == NL) {
        Some(after + 1)
    } else {
        None
    };
    if let (Some(t), false) = (clean_end, escaped) {
        return Some((t, Some((start, close))));
    }
    scratch.clear();
    unescape(&buf[start..close], d.quote, scratch);
    let t = match clean_end {
        Some(t) => t,
        None => {
            // Text after the closing quote is kept, as Python's csv module does.
            let t = seps.next(after);
            let mut tail = &buf[after..t];
            if (t == end || buf[t] == NL) && tail.last() == Some(&b'\r') {
                tail = &tail[..tail.len() - 1];
            }
            scratch.extend_from_slice(tail);
            t
        }
    };
    Some((t, None))
}

/// Append `s` to `out` with each doubled quote replaced by one quote.
fn unescape(s: &[u8], quote: u8, out: &mut Vec<u8>) {
    let mut p = 0;
    while let Some(k) = memchr(quote, &s[p..]) {
        out.extend_from_slice(&s[p..=p + k]);
        // Skip the second quote of the pair (inside a closed field quotes always come paired).
        p += k + 2;
        if p >= s.len() {
            return;
        }
    }
    out.extend_from_slice(&s[p..]);
}

/// Walks the quote characters of `buf[start..end]` in order, tracking whether the scan
/// position is inside a quoted field, by the same rules as [`parse_record`].
struct QuoteScan<'a> {
    buf: &'a [u8],
    start: usize,
    end: usize,
    d: Dialect,
    /// Every byte before `pos` has been accounted for.
    pos: usize,
    inside: bool,
    /// Cache of the next quote at or after `cached_from` (`end` when there is none), so a file
    /// with few quotes is searched once in total, not once per boundary.
    cached_from: usize,
    cached_quote: usize,
}

impl<'a> QuoteScan<'a> {
    fn new(buf: &'a [u8], start: usize, end: usize, d: Dialect) -> Self {
        Self {
            buf,
            start,
            end,
            d,
            pos: start,
            inside: false,
            cached_from: usize::MAX,
            cached_quote: 0,
        }
    }

    /// The first quote at or after `p`, or `end`.
    fn next_quote(&mut self, p: usize) -> usize {
        if self.cached_from <= p && p <= self.cached_quote {
            return self.cached_quote;
        }
        let q = if p >= self.end {
            self.end
        } else {
            memchr(self.d.quote, &self.buf[p..self.end]).map_or(self.end, |k| p + k)
        };
        self.cached_from = p;
        self.cached_quote = q;
        q
    }

    /// Inside a quoted field: consume up to and including its closing quote (or everything,
    /// when it never closes).
    fn step_inside(&mut self) {
        let j = self.next_quote(self.pos);
        if j >= self.end {
            self.pos = self.end;
        } else if j + 1 < self.end && self.buf[j + 1] == self.d.quote {
            self.pos = j + 2;
        } else {
            self.inside = false;
            self.pos = j + 1;
        }
    }

    /// Outside quotes, at the quote at `i`: it opens a quoted field only at a field start.
    fn step_outside_quote(&mut self, i: usize) {
        if i == self.start || self.buf[i - 1] == self.d.delim || self.buf[i - 1] == NL {
            self.inside = true;
        }
        self.pos = i + 1;
    }

    /// The first record start after a line end at or after `from` (or `end`).
    fn next_record_start(&mut self, from: usize) -> usize {
        // Bring the state up to `from`.
        while self.pos < from {
            if self.inside {
                self.step_inside();
            } else {
                let i = self.next_quote(self.pos);
                if i >= from {
                    self.pos = from;
                } else {
                    self.step_outside_quote(i);
                }
            }
        }
        loop {
            if self.pos >= self.end {
                return self.end;
            }
            if self.inside {
                self.step_inside();
                continue;
            }
            // The newline search stops at the next quote, so no byte is searched twice.
            let i = self.next_quote(self.pos);
            if let Some(k) = memchr(NL, &self.buf[self.pos..i]) {
                self.pos += k + 1;
                return self.pos;
            }
            if i >= self.end {
                self.pos = self.end;
                return self.end;
            }
            self.step_outside_quote(i);
        }
    }
}

/// Cut `buf[start..end]` (whole records) into byte ranges of about `target` bytes, each
/// ending at a record boundary. Depends only on the bytes, never on the thread count.
///
/// Every byte is read once here (to look for quotes), a chunk at a time, and released after
/// (see [`Bytes`]), so a scan of a mapped file does not keep the whole file resident.
pub(crate) fn morsel_ranges(
    buf: &Bytes,
    start: usize,
    end: usize,
    d: Dialect,
    target: usize,
) -> Vec<(usize, usize)> {
    // Most files have no quote at all. Checking that in parallel first spares the serial scan
    // (and takes the page faults of a fresh mapping on all workers); the boundaries are the
    // same either way, as without quotes every line end is a record end.
    let quoted = contains_in_parallel(buf, start, end, d.quote, target);
    ranges_by(buf, start, end, d, target, quoted, &|s, b| {
        buf.release(s, b)
    })
}

/// [`morsel_ranges`], told whether the data may hold quotes; `done(s, b)` is called with each
/// range once the scan has passed it.
fn ranges_by(
    buf: &[u8],
    start: usize,
    end: usize,
    d: Dialect,
    target: usize,
    quoted: bool,
    done: &dyn Fn(usize, usize),
) -> Vec<(usize, usize)> {
    let mut ranges = vec![];
    let mut scan = QuoteScan::new(buf, start, end, d);
    let mut s = start;
    while s < end {
        let t = s.saturating_add(target.max(1));
        let b = if t >= end {
            end
        } else if quoted {
            scan.next_record_start(t)
        } else {
            memchr(NL, &buf[t..end]).map_or(end, |k| t + k + 1)
        };
        ranges.push((s, b));
        done(s, b);
        s = b;
    }
    ranges
}

/// Whether `byte` occurs in `buf[start..end]`, searched in chunks of `chunk` bytes on the
/// rayon pool, each held while searched.
fn contains_in_parallel(buf: &Bytes, start: usize, end: usize, byte: u8, chunk: usize) -> bool {
    use rayon::prelude::*;
    let chunk = chunk.max(1 << 16);
    (start..end).into_par_iter().step_by(chunk).any(|s| {
        let e = (s + chunk).min(end);
        let _held = buf.hold(s, e);
        memchr(byte, &buf[s..e]).is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: Dialect = Dialect {
        delim: b',',
        quote: b'"',
    };

    fn split(s: &str) -> Result<Vec<Vec<(String, bool)>>, FieldError> {
        let buf = s.as_bytes();
        let mut out = vec![];
        let mut pos = 0;
        let mut scratch = vec![];
        let mut seps = Seps::new(buf, buf.len(), D.delim);
        while pos < buf.len() {
            let mut rec = vec![];
            let (next, n) = parse_record(
                buf,
                pos,
                buf.len(),
                D,
                &mut seps,
                &mut scratch,
                |_, t, q, _| {
                    rec.push((String::from_utf8_lossy(t).into_owned(), q));
                    Ok(())
                },
            )?;
            assert_eq!(n, rec.len());
            out.push(rec);
            pos = next;
        }
        Ok(out)
    }

    fn texts(s: &str) -> Vec<Vec<String>> {
        split(s)
            .unwrap()
            .into_iter()
            .map(|r| r.into_iter().map(|(t, _)| t).collect())
            .collect()
    }

    #[test]
    fn plain_and_quoted_fields() {
        assert_eq!(texts("a,b\n1,2\n"), [["a", "b"], ["1", "2"]]);
        assert_eq!(texts("a,b\r\n1,2\r\n"), [["a", "b"], ["1", "2"]]);
        assert_eq!(texts("a,b\n1,2"), [["a", "b"], ["1", "2"]]);
        assert_eq!(texts("1,\n"), [["1", ""]]);
        assert_eq!(texts(",\n"), [["", ""]]);
        assert_eq!(
            texts("\"x,y\",\"he said \"\"hi\"\"\"\n"),
            [["x,y", "he said \"hi\""]]
        );
        assert_eq!(texts("\"multi\nline\",2\n"), [["multi\nline", "2"]]);
        assert_eq!(texts("\"q\"\r\n"), [["q"]]);
        assert_eq!(texts("\"\",x"), [["", "x"]]);
        assert_eq!(texts("5'10\",x\n"), [["5'10\"", "x"]]);
        assert_eq!(texts("\"ab\"c,d\n"), [["abc", "d"]]);
        assert_eq!(texts("\"a\"\"\"\r\n"), [["a\""]]);
        let q = split("\"a\",b").unwrap();
        assert!(q[0][0].1 && !q[0][1].1);
    }

    #[test]
    fn unterminated_quote_is_an_error() {
        let e = split("a,b\n1,\"open\n2,3\n").unwrap_err();
        assert_eq!(e.kind, FieldErrorKind::Unterminated);
        assert_eq!((e.field, e.offset), (1, 6));
        assert!(split("\"a\"\"").is_err());
    }

    /// Record starts as the parser sees them.
    fn record_starts(s: &[u8]) -> Vec<usize> {
        let mut starts = vec![];
        let mut pos = 0;
        let mut scratch = vec![];
        let mut seps = Seps::new(s, s.len(), D.delim);
        while pos < s.len() {
            starts.push(pos);
            match parse_record(s, pos, s.len(), D, &mut seps, &mut scratch, |_, _, _, _| {
                Ok(())
            }) {
                Ok((next, _)) => pos = next,
                Err(_) => break,
            }
        }
        starts
    }

    #[test]
    fn quote_free_shortcut_gives_the_same_boundaries() {
        let text = b"a,b\n1,2\n\n333,4444\n5,6\r\n7,8";
        for target in 1..text.len() + 2 {
            let fast = ranges_by(text, 4, text.len(), D, target, false, &|_, _| {});
            let scanned = ranges_by(text, 4, text.len(), D, target, true, &|_, _| {});
            assert_eq!(fast, scanned, "target {target}");
            assert_eq!(
                morsel_ranges(&Bytes::owned(text.to_vec()), 4, text.len(), D, target),
                fast
            );
        }
    }

    #[test]
    fn boundaries_agree_with_the_parser() {
        let text =
            b"a,\"x\ny\",c\n\"\"\"\n\",2,3\n5'10\",\"q\nq\",\"\"\n\n\"a\"\"\nb\",x\"\ny\n,\"\n\"\n";
        let starts = record_starts(text);
        for target in 1..text.len() + 2 {
            let ranges = morsel_ranges(&Bytes::owned(text.to_vec()), 0, text.len(), D, target);
            let mut prev = 0;
            for (s, e) in &ranges {
                assert_eq!(*s, prev);
                assert!(e > s);
                assert!(
                    starts.contains(s),
                    "target {target}: {s} is not a record start"
                );
                prev = *e;
            }
            assert_eq!(prev, text.len());
        }
    }
}
