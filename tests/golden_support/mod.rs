//! Reading the golden JSON files shared by the seed tests: numbers, or the strings "NaN",
//! "inf" and "-inf" (JSON has no such numbers), or null.

use serde_json::Value as Json;

/// `tests/golden/<file>` parsed.
pub fn load(file: &str) -> Json {
    let path = format!("{}/tests/golden/{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A golden float: a number, "NaN", "inf", "-inf", or null.
pub fn float(v: &Json) -> Option<f64> {
    match v {
        Json::Null => None,
        Json::String(s) => Some(match s.as_str() {
            "NaN" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            other => panic!("bad golden float {other}"),
        }),
        n => Some(n.as_f64().expect("number")),
    }
}

/// A golden array of floats.
pub fn floats(v: &Json) -> Vec<Option<f64>> {
    v.as_array().expect("array").iter().map(float).collect()
}
