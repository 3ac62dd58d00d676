//! Parsers for single field texts: booleans, integers, floats (with NaN and infinities), ISO
//! dates and datetimes, and dates/datetimes in a user's chrono format.
//!
//! Type inference and decoding call the same functions, so a column inferred as, say, Int64
//! always decodes as Int64. Everything works on raw bytes without allocating: the numeric
//! fast paths run straight on the field's bytes, and only a failed parse looks further (for
//! surrounding spaces or spelled-out float specials).

use chrono::format::{Item, Parsed, StrftimeItems};
use chrono::{Datelike, NaiveDate};

/// Days from 0001-01-01 (chrono's "CE" day 1) to 1970-01-01.
const UNIX_EPOCH_DAY_CE: i64 = 719_163;
const SECS_PER_DAY: i64 = 86_400;

/// The text without leading and trailing ASCII spaces and tabs.
pub(crate) fn trim_spaces(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| *c != b' ' && *c != b'\t');
    match start {
        None => &[],
        Some(s) => {
            let end = b
                .iter()
                .rposition(|c| *c != b' ' && *c != b'\t')
                .map_or(s, |e| e + 1);
            &b[s..end]
        }
    }
}

/// Calls `f` on the text, and once more on the trimmed text when it has surrounding spaces:
/// `" 42"` is a number to a person reading the file, and the retry costs nothing for the
/// common, untrimmed case.
#[inline]
fn with_trim<T>(b: &[u8], f: impl Fn(&[u8]) -> Option<T>) -> Option<T> {
    match f(b) {
        Some(v) => Some(v),
        None => {
            let t = trim_spaces(b);
            if t.len() != b.len() && !t.is_empty() {
                f(t)
            } else {
                None
            }
        }
    }
}

/// `true` / `false` in any letter case.
#[inline]
pub(crate) fn parse_bool(b: &[u8]) -> Option<bool> {
    with_trim(b, |b| {
        if b.eq_ignore_ascii_case(b"true") {
            Some(true)
        } else if b.eq_ignore_ascii_case(b"false") {
            Some(false)
        } else {
            None
        }
    })
}

/// A decimal integer of any primitive integer type (optional sign; out of range fails).
#[inline]
pub(crate) fn parse_int<T: lexical_core::FromLexical>(b: &[u8]) -> Option<T> {
    with_trim(b, |b| lexical_core::parse::<T>(b).ok())
}

/// The float specials spelled out: `nan`, `inf`, `infinity`, each in any case and with an
/// optional sign.
fn parse_special(b: &[u8]) -> Option<f64> {
    let (neg, rest) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    let v = if rest.eq_ignore_ascii_case(b"nan") {
        f64::NAN
    } else if rest.eq_ignore_ascii_case(b"inf") || rest.eq_ignore_ascii_case(b"infinity") {
        f64::INFINITY
    } else {
        return None;
    };
    Some(if neg { -v } else { v })
}

/// A float: decimal or exponent notation, or a special (`NaN`, `inf`, `-Infinity`, ...).
#[inline]
pub(crate) fn parse_f64(b: &[u8]) -> Option<f64> {
    if let Some(v) = fast_f64(b) {
        return Some(v);
    }
    with_trim(b, |b| {
        lexical_core::parse::<f64>(b)
            .ok()
            .or_else(|| parse_special(b))
    })
}

/// Exact powers of ten representable in an `f64`.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

const ZEROS: u64 = 0x3030_3030_3030_3030;

/// The value of eight ASCII digits in a little-endian word (the first byte is the most
/// significant digit); the caller has checked they are digits.
#[inline(always)]
fn eight_digits_value(w: u64) -> u64 {
    // Combine digit pairs, then pairs of pairs, then the two halves.
    let w = w - ZEROS;
    let w = (w * 10 + (w >> 8)) & 0x00FF_00FF_00FF_00FF;
    let w = (w * 100 + (w >> 16)) & 0x0000_FFFF_0000_FFFF;
    (w * 10_000 + (w >> 32)) & 0xFFFF_FFFF
}

/// How many of the word's bytes, from the first, are ASCII digits (0..=8).
#[inline(always)]
fn leading_digits(w: u64) -> usize {
    let x = w ^ ZEROS;
    // High bit of a byte set iff it is not a digit: x >= 10 there, tested without carries
    // between bytes (the low 7 bits plus 0x76 stay below 0x100).
    let non_digit =
        (((x & 0x7F7F_7F7F_7F7F_7F7F) + 0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080;
    (non_digit.trailing_zeros() / 8) as usize
}

/// Up to eight bytes from `b[i..]` as a little-endian word, zero-filled past the end.
#[inline(always)]
fn load_word(b: &[u8], i: usize) -> u64 {
    if let Some(chunk) = b.get(i..i + 8) {
        let mut a = [0u8; 8];
        a.copy_from_slice(chunk);
        return u64::from_le_bytes(a);
    }
    if b.len() >= 8 {
        // The field's last eight bytes, shifted so `b[i]` is the first.
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[b.len() - 8..]);
        return u64::from_le_bytes(a) >> (8 * (i + 8 - b.len()));
    }
    let mut w = 0u64;
    for (k, c) in b[i.min(b.len())..].iter().enumerate() {
        w |= u64::from(*c) << (8 * k);
    }
    w
}

const POW10_U64: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// Digits at `b[*i..]` appended to `m`, eight at a time, counting them in `n`; stops at the
/// first non-digit. Past 19 digits `m` could overflow, so it stops with `n > 19` and the
/// caller declines.
#[inline(always)]
fn digits(b: &[u8], i: &mut usize, m: &mut u64, n: &mut usize) {
    while *i < b.len() {
        let w = load_word(b, *i);
        let t = leading_digits(w);
        if t == 0 {
            return;
        }
        *n += t;
        if *n > 19 {
            return;
        }
        // Move the t digits to the end of the word and fill the front with '0's.
        let v = if t == 8 {
            eight_digits_value(w)
        } else {
            eight_digits_value((w << (8 * (8 - t))) | (ZEROS >> (8 * t)))
        };
        *m = *m * POW10_U64[t] + v;
        *i += t;
        if t < 8 {
            return;
        }
    }
}

/// The common float shapes (`-12.5`, `0.1234567890123456`, `1e-3`) without a library call:
/// a mantissa of at most 2^53 and a power of ten within +-22 take Clinger's fast path (both
/// are exact in an `f64`, so one IEEE multiplication or division gives the correctly rounded
/// value). Anything else (longer mantissas, large exponents, specials, odd syntax) returns
/// `None` and goes to lexical.
#[inline]
fn fast_f64(b: &[u8]) -> Option<f64> {
    let mut i = 0;
    let neg = match b.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let mut m = 0u64;
    let mut n = 0usize;
    digits(b, &mut i, &mut m, &mut n);
    let int_digits = n;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        digits(b, &mut i, &mut m, &mut n);
    }
    if n == 0 || n > 19 {
        return None;
    }
    let mut e10 = -((n - int_digits) as i64);
    if i < b.len() && (b[i] | 0x20) == b'e' {
        i += 1;
        let eneg = match b.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        let mut e = 0i64;
        while i < b.len() && b[i].is_ascii_digit() && i - start < 4 {
            e = e * 10 + i64::from(b[i] - b'0');
            i += 1;
        }
        if i == start {
            return None;
        }
        e10 += if eneg { -e } else { e };
    }
    if i != b.len() || !(-22..=22).contains(&e10) {
        return None;
    }
    if m > (1u64 << 53) {
        // Longer mantissas (17-19 digits) go to lexical's Eisel-Lemire path: measured on the
        // seed CSV, faster even with the re-parse than exact 128-bit integer scaling here.
        return None;
    }
    let v = m as f64;
    let v = match e10 {
        0 => v,
        1..=22 => v * POW10[e10 as usize],
        _ => v / POW10[(-e10) as usize],
    };
    Some(if neg { -v } else { v })
}

/// As [`parse_f64`], rounded to the nearest `f32` by the parser itself (not via `f64`).
#[inline]
pub(crate) fn parse_f32(b: &[u8]) -> Option<f32> {
    with_trim(b, |b| {
        lexical_core::parse::<f32>(b)
            .ok()
            .or_else(|| parse_special(b).map(|v| v as f32))
    })
}

#[inline]
fn digits2(b: &[u8]) -> Option<u32> {
    let (h, l) = (b[0].wrapping_sub(b'0'), b[1].wrapping_sub(b'0'));
    if h < 10 && l < 10 {
        Some(u32::from(h) * 10 + u32::from(l))
    } else {
        None
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date, or `None` if the date does not exist.
pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || d == 0 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if d > dim {
        return None;
    }
    // Howard Hinnant's days_from_civil: shift the year to start in March so the leap day is
    // last, then count whole 400-year eras.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The proleptic Gregorian `(year, month, day)` of a count of days since 1970-01-01 (the
/// inverse of [`days_from_civil`]).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DD` exactly (the ISO form type inference recognizes), as days since the epoch.
#[inline]
pub(crate) fn parse_iso_date_strict(b: &[u8]) -> Option<i64> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y = digits2(&b[0..2])? * 100 + digits2(&b[2..4])?;
    days_from_civil(i64::from(y), digits2(&b[5..7])?, digits2(&b[8..10])?)
}

/// A timestamp as whole seconds since the epoch plus nanoseconds within the second.
pub(crate) type SecNanos = (i64, u32);

/// `YYYY-MM-DD HH:MM[:SS[.fffffffff]]`, with a space or `T` between date and time.
#[inline]
pub(crate) fn parse_iso_datetime_strict(b: &[u8]) -> Option<SecNanos> {
    if b.len() < 16 || (b[10] != b' ' && b[10] != b'T') || b[13] != b':' {
        return None;
    }
    let days = parse_iso_date_strict(&b[..10])?;
    let (h, mi) = (digits2(&b[11..13])?, digits2(&b[14..16])?);
    let mut s = 0;
    let mut nanos = 0u32;
    if b.len() > 16 {
        if b.len() < 19 || b[16] != b':' {
            return None;
        }
        s = digits2(&b[17..19])?;
        if b.len() > 19 {
            let frac = &b[20..];
            if b[19] != b'.' || frac.is_empty() || frac.len() > 9 {
                return None;
            }
            for (i, c) in frac.iter().enumerate() {
                let d = c.wrapping_sub(b'0');
                if d >= 10 {
                    return None;
                }
                nanos += u32::from(d) * 10u32.pow(8 - i as u32);
            }
        }
    }
    // 60 seconds allows a leap second, as chrono does, folded into the next minute.
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let secs = days * SECS_PER_DAY + i64::from(h * 3600 + mi * 60 + s);
    Some((secs, nanos))
}

/// A date, ISO first (fast), then anything chrono reads as `%Y-%m-%d` (one-digit months,
/// signed or five-digit years): used where the schema says Date32 without a format.
pub(crate) fn parse_date_lenient(b: &[u8]) -> Option<i64> {
    if let Some(d) = parse_iso_date_strict(b) {
        return Some(d);
    }
    let s = std::str::from_utf8(trim_spaces(b)).ok()?;
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(i64::from(d.num_days_from_ce()) - UNIX_EPOCH_DAY_CE)
}

/// A datetime where the schema says Timestamp without a format: ISO datetime, or an ISO date
/// meaning midnight (so a column mixing both, inferred as Timestamp, reads back whole).
pub(crate) fn parse_datetime_lenient(b: &[u8]) -> Option<SecNanos> {
    if let Some(v) = parse_iso_datetime_strict(b) {
        return Some(v);
    }
    let t = trim_spaces(b);
    if t.len() != b.len() {
        if let Some(v) = parse_iso_datetime_strict(t) {
            return Some(v);
        }
    }
    parse_date_lenient(b).map(|d| (d * SECS_PER_DAY, 0))
}

/// A chrono format string, parsed once into items so each field does not re-parse it.
#[derive(Debug)]
pub(crate) struct ChronoFormat {
    /// The format as the user wrote it (for messages).
    pub text: String,
    items: Vec<Item<'static>>,
}

impl ChronoFormat {
    /// Parse `text`; `Err` carries chrono's complaint.
    pub fn new(text: &str) -> Result<Self, String> {
        let items = StrftimeItems::new(text)
            .parse_to_owned()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            text: text.to_string(),
            items,
        })
    }

    fn parsed(&self, b: &[u8]) -> Option<Parsed> {
        let s = std::str::from_utf8(b).ok()?;
        let mut p = Parsed::new();
        chrono::format::parse(&mut p, s, self.items.iter()).ok()?;
        Some(p)
    }

    /// The field as a date (days since the epoch). A format with a time part is accepted;
    /// the time is dropped.
    pub fn parse_date(&self, b: &[u8]) -> Option<i64> {
        let d = self.parsed(b)?.to_naive_date().ok()?;
        Some(i64::from(d.num_days_from_ce()) - UNIX_EPOCH_DAY_CE)
    }

    /// The field as a datetime. A format without a time part reads as midnight.
    pub fn parse_datetime(&self, b: &[u8]) -> Option<SecNanos> {
        let p = self.parsed(b)?;
        match p.to_naive_datetime_with_offset(0) {
            Ok(dt) => {
                let dt = dt.and_utc();
                Some((dt.timestamp(), dt.timestamp_subsec_nanos()))
            }
            Err(_) => {
                let d = p.to_naive_date().ok()?;
                Some((
                    (i64::from(d.num_days_from_ce()) - UNIX_EPOCH_DAY_CE) * SECS_PER_DAY,
                    0,
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_and_specials() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-2e3"), Some(-2000.0));
        assert_eq!(parse_f64(b" 7 "), Some(7.0));
        assert_eq!(parse_f64(b".5"), Some(0.5));
        for s in ["nan", "NaN", "NAN", "-nan"] {
            assert!(parse_f64(s.as_bytes()).is_some_and(f64::is_nan), "{s}");
        }
        for s in ["inf", "Inf", "INF", "infinity", "Infinity", "+inf"] {
            assert_eq!(parse_f64(s.as_bytes()), Some(f64::INFINITY), "{s}");
        }
        for s in ["-inf", "-Infinity", "-INFINITY"] {
            assert_eq!(parse_f64(s.as_bytes()), Some(f64::NEG_INFINITY), "{s}");
        }
        for s in ["", "abc", "1.2.3", "1e", "nanx", "in", "-", "."] {
            assert_eq!(parse_f64(s.as_bytes()), None, "{s}");
        }
        assert_eq!(parse_f32(b"0.1"), Some(0.1f32));
    }

    #[test]
    fn fast_float_path_agrees_with_the_standard_parser() {
        let mut cases: Vec<String> = [
            "0",
            "-0",
            "-0.0",
            "1",
            "+1.5",
            "12.",
            ".5",
            "1e5",
            "1E-5",
            "2.5e+3",
            "9007199254740992",
            "9007199254740993",
            "0.1",
            "0.30000000000000004",
            "123456789012345678",
            "1234567890123456789",
            "12345678901234567890",
            "1e22",
            "1e23",
            "1e-22",
            "1e-23",
            "4.9e-324",
            "1.7976931348623157e308",
            "00000000000000000001",
            "1.e",
            "1e+",
            "--1",
            "1.2.3",
            "e5",
            ".",
            "1_0",
            "12345678.87654321",
            "99999999.99999999",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut state = 7u64;
        for _ in 0..20_000 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let x = f64::from_bits(state >> 2) * if state & 1 == 0 { 1.0 } else { -1.0 };
            if x.is_finite() {
                cases.push(format!("{x}"));
                cases.push(format!("{x:e}"));
            }
            let scaled = (state >> 11) as f64 / (1u64 << 20) as f64;
            cases.push(format!("{scaled}"));
            cases.push(format!("{scaled:.3}"));
            // Long mantissas (17 to 19 digits) at every power of ten the fast path takes.
            let digits = (state % 9_000_000_000_000_000_000) + 100_000_000_000_000_000;
            let e = (state >> 40) as i64 % 45 - 22;
            cases.push(format!("{digits}e{e}"));
            let text = digits.to_string();
            let cut = 1 + (state >> 50) as usize % (text.len() - 1);
            cases.push(format!("{}.{}", &text[..cut], &text[cut..]));
        }
        for c in &cases {
            let want = c.parse::<f64>().ok();
            let fast = fast_f64(c.as_bytes());
            if let Some(v) = fast {
                assert_eq!(Some(v.to_bits()), want.map(f64::to_bits), "{c}");
            }
            assert_eq!(
                parse_f64(c.as_bytes()).map(f64::to_bits),
                want.map(f64::to_bits),
                "{c}"
            );
        }
        for w in [
            *b"12345678",
            *b"00000000",
            *b"99999999",
            *b"1234567a",
            *b"1234567/",
        ] {
            let s = std::str::from_utf8(&w).unwrap();
            let lead = s.bytes().take_while(u8::is_ascii_digit).count();
            assert_eq!(leading_digits(u64::from_le_bytes(w)), lead, "{s}");
            if lead == 8 {
                assert_eq!(
                    Some(eight_digits_value(u64::from_le_bytes(w))),
                    s.parse().ok()
                );
            }
        }
        for c in 0..=255u8 {
            let w = u64::from_le_bytes([b'1', c, b'2', b'3', b'4', b'5', b'6', b'7']);
            let want = if c.is_ascii_digit() { 8 } else { 1 };
            assert_eq!(leading_digits(w), want, "{c}");
        }
        // Short fields, and digits running into the field's end from every offset.
        for s in [
            "1",
            "12",
            "1.5",
            "-7.25",
            "1234567.12345678",
            "0.000001",
            "5e-7",
        ] {
            assert_eq!(fast_f64(s.as_bytes()), s.parse().ok(), "{s}");
        }
        // Exact halfway cases between two doubles (2^53 + 1 and its scaled forms) round to
        // even, one unit past halfway rounds up, and long mantissas at the exponent limits
        // (mantissas above 2^53 leave the fast path for lexical's).
        for s in [
            "9007199254740993",
            "9007199254740995",
            "90071992547409930e-1",
            "9007199254740993000e-3",
            "900719925474099.3e1",
            "18014398509481985",
            "18014398509481987",
            "97.62429492718849",
            "0.30000000000000004",
            "9999999999999999999e-22",
            "9999999999999999999e22",
            "1844674407370955161e2",
            "1000000000000000001e-22",
        ] {
            let want: f64 = s.parse().unwrap();
            let got = parse_f64(s.as_bytes()).map(f64::to_bits);
            assert_eq!(got, Some(want.to_bits()), "{s}");
        }
        assert_eq!(fast_f64(b"9007199254740993.0000001"), None); // 23 digits: lexical's job
    }

    #[test]
    fn ints_and_bools() {
        assert_eq!(parse_int::<i64>(b"-42"), Some(-42));
        assert_eq!(parse_int::<i64>(b"+42"), Some(42));
        assert_eq!(parse_int::<i64>(b"1.0"), None);
        assert_eq!(parse_int::<i64>(b"99999999999999999999"), None);
        assert_eq!(parse_int::<i8>(b"200"), None);
        assert_eq!(parse_int::<u8>(b"200"), Some(200));
        assert_eq!(parse_bool(b"TRUE"), Some(true));
        assert_eq!(parse_bool(b"False"), Some(false));
        assert_eq!(parse_bool(b"1"), None);
    }

    #[test]
    fn civil_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), Some(days), "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(18321), (2020, 2, 29));
    }

    #[test]
    fn iso_dates() {
        assert_eq!(parse_iso_date_strict(b"1970-01-01"), Some(0));
        assert_eq!(parse_iso_date_strict(b"2000-03-01"), Some(11017));
        assert_eq!(parse_iso_date_strict(b"1969-12-31"), Some(-1));
        assert_eq!(parse_iso_date_strict(b"2021-02-29"), None);
        assert_eq!(parse_iso_date_strict(b"2020-02-29"), Some(18321));
        assert_eq!(parse_iso_date_strict(b"2020-13-01"), None);
        assert_eq!(parse_iso_date_strict(b"2020/01/01"), None);
        assert_eq!(parse_date_lenient(b"2020-1-5"), Some(18266));
        assert_eq!(
            parse_iso_datetime_strict(b"2020-01-01 00:00:01"),
            Some((1_577_836_801, 0))
        );
        assert_eq!(
            parse_iso_datetime_strict(b"2020-01-01T10:20:30.25"),
            Some((1_577_836_800 + 37_230, 250_000_000))
        );
        assert_eq!(
            parse_iso_datetime_strict(b"2020-01-01 10:20"),
            Some((1_577_836_800 + 37_200, 0))
        );
        assert_eq!(parse_iso_datetime_strict(b"2020-01-01 24:00:00"), None);
        assert_eq!(parse_iso_datetime_strict(b"2020-01-01 10:20:30."), None);
        assert_eq!(parse_iso_datetime_strict(b"2020-01-01"), None);
        assert_eq!(
            parse_datetime_lenient(b"2020-01-01"),
            Some((1_577_836_800, 0))
        );
    }

    #[test]
    fn chrono_formats() {
        let f = ChronoFormat::new("%b %d %Y").unwrap();
        assert_eq!(f.parse_date(b"Jan 1 2000"), Some(10957));
        assert_eq!(f.parse_date(b"Jan 01 2000"), Some(10957));
        assert_eq!(f.parse_date(b"2000-01-01"), None);
        let f = ChronoFormat::new("%Y/%m/%d %H:%M").unwrap();
        assert_eq!(
            f.parse_datetime(b"2010/01/01 01:00"),
            Some((1_262_307_600, 0))
        );
        let f = ChronoFormat::new("%Y/%m/%d").unwrap();
        assert_eq!(f.parse_datetime(b"2010/01/01"), Some((1_262_304_000, 0)));
        assert!(ChronoFormat::new("%Y-%").is_err());
    }
}
