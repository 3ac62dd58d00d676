//! Helpers for tests/ml.rs: a tiny reader for the simple numeric CSVs in datasets/ (until the
//! crate's own CSV reader lands: then `scan_csv` replaces `load_csv`), and a small JSON parser
//! for the scikit-learn golden files (so the tests need no extra dependency).

use std::collections::BTreeMap;
use std::ops::Index;
use std::path::PathBuf;

use fusedframe::prelude::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A dataset from datasets/: numeric columns as Float64 (an empty field is null), other columns
/// (text, dates) as Utf8. Fields never contain commas inside quotes in the files used here.
pub fn load_csv(name: &str) -> DataFrame {
    let text = std::fs::read_to_string(root().join("datasets").join(name)).expect("dataset");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let rows: Vec<Vec<&str>> = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').collect())
        .collect();
    let cols = header
        .iter()
        .enumerate()
        .map(|(j, h)| {
            let raw: Vec<&str> = rows.iter().map(|r| r[j]).collect();
            let nums: Option<Vec<Option<f64>>> = raw
                .iter()
                .map(|v| {
                    if v.is_empty() {
                        Some(None)
                    } else {
                        v.parse::<f64>().ok().map(Some)
                    }
                })
                .collect();
            match nums {
                Some(v) => Column::new(*h, v),
                None => Column::new(
                    *h,
                    raw.iter().map(|s| s.to_string()).collect::<Vec<String>>(),
                ),
            }
        })
        .collect();
    DataFrame::new(cols).expect("frame")
}

/// `|a - b| <= rel * max(|b|, 1e-300)`, with a message naming the quantity.
pub fn assert_close(a: f64, b: f64, rel: f64, what: &str) {
    let tol = rel * b.abs().max(1e-300);
    assert!(
        (a - b).abs() <= tol,
        "{what}: {a} vs {b} (rel diff {:e})",
        ((a - b) / b).abs()
    );
}

/// A parsed golden file from tests/golden/.
pub fn golden(name: &str) -> Json {
    let text =
        std::fs::read_to_string(root().join("tests/golden").join(name)).expect("golden file");
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    p.value()
}

/// A JSON value.
#[derive(Debug, Clone)]
pub enum Json {
    Null,
    /// true or false (the golden files hold none; kept so any JSON parses).
    Bool,
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(BTreeMap<String, Json>),
}

impl Index<&str> for Json {
    type Output = Json;
    fn index(&self, key: &str) -> &Json {
        match self {
            Json::Obj(m) => m.get(key).unwrap_or_else(|| panic!("no key {key}")),
            _ => panic!("not an object"),
        }
    }
}

impl Json {
    /// The value at `key` of an object, if present.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(m) => m.get(key),
            _ => None,
        }
    }
    pub fn number(&self) -> f64 {
        match self {
            Json::Num(v) => *v,
            other => panic!("not a number: {other:?}"),
        }
    }
    pub fn string(&self) -> String {
        match self {
            Json::Str(s) => s.clone(),
            other => panic!("not a string: {other:?}"),
        }
    }
    fn items(&self) -> &[Json] {
        match self {
            Json::Arr(v) => v,
            other => panic!("not an array: {other:?}"),
        }
    }
    pub fn numbers(&self) -> Vec<f64> {
        self.items().iter().map(Json::number).collect()
    }
    pub fn strings(&self) -> Vec<String> {
        self.items().iter().map(Json::string).collect()
    }
    pub fn rows(&self) -> Vec<Vec<f64>> {
        self.items().iter().map(Json::numbers).collect()
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn eat(&mut self, c: u8) {
        self.ws();
        assert_eq!(
            self.s[self.i], c,
            "JSON: expected {} at {}",
            c as char, self.i
        );
        self.i += 1;
    }
    fn value(&mut self) -> Json {
        self.ws();
        match self.s[self.i] {
            b'{' => {
                self.i += 1;
                let mut m = BTreeMap::new();
                self.ws();
                if self.s[self.i] == b'}' {
                    self.i += 1;
                    return Json::Obj(m);
                }
                loop {
                    self.ws();
                    let k = match self.value() {
                        Json::Str(s) => s,
                        other => panic!("JSON key {other:?}"),
                    };
                    self.eat(b':');
                    let v = self.value();
                    m.insert(k, v);
                    self.ws();
                    self.i += 1;
                    if self.s[self.i - 1] == b'}' {
                        return Json::Obj(m);
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut v = vec![];
                self.ws();
                if self.s[self.i] == b']' {
                    self.i += 1;
                    return Json::Arr(v);
                }
                loop {
                    v.push(self.value());
                    self.ws();
                    self.i += 1;
                    if self.s[self.i - 1] == b']' {
                        return Json::Arr(v);
                    }
                }
            }
            b'"' => {
                self.i += 1;
                let start = self.i;
                while self.s[self.i] != b'"' {
                    self.i += 1;
                }
                self.i += 1;
                Json::Str(String::from_utf8_lossy(&self.s[start..self.i - 1]).into_owned())
            }
            b't' => {
                self.i += 4;
                Json::Bool
            }
            b'f' => {
                self.i += 5;
                Json::Bool
            }
            b'n' => {
                self.i += 4;
                Json::Null
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len()
                    && matches!(
                        self.s[self.i],
                        b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'
                    )
                {
                    self.i += 1;
                }
                let t = std::str::from_utf8(&self.s[start..self.i]).expect("utf8");
                Json::Num(t.parse().unwrap_or_else(|_| panic!("JSON number {t}")))
            }
        }
    }
}
