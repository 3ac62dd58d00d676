//! No input makes the script parser or interpreter panic: random text, random sequences of
//! script tokens, and real scripts cut short or with a character removed must all give either a
//! value or an `Error::Script` naming a position.

use std::path::Path;

use fusedframe::script::Script;
use fusedframe::Error;
use proptest::prelude::*;

/// Interpret, and when that succeeds, plan (plan text resolves every type: it must not panic
/// either). Errors are fine; a script error must carry a position or the file name.
fn exercise(src: &str) {
    match Script::new("fuzz.fq", src).eval() {
        Ok(ev) => {
            let _ = ev.output.explain(false);
        }
        Err(Error::Script(msg)) => assert!(msg.contains("fuzz.fq"), "{msg}"),
        // `df!(..)?` and other fallible calls surface engine errors at their `?` as script
        // errors; anything else escaping `eval` is a bug.
        Err(other) => panic!("non-script error from eval: {other}"),
    }
}

const PREFIX: &str = "let df = df!(\"x\" => [1.0, -2.0, f64::NAN], \"y\" => [1, 2, 3], \"s\" => [\"a\", \"b\", \"c\"])?;\n";

fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "df",
        "df.lazy()",
        ".lazy()",
        "col",
        "(",
        ")",
        "[",
        "]",
        "\"x\"",
        "\"y\"",
        "\"s\"",
        ".",
        "gt",
        "lt",
        "eq",
        "alias",
        "sum",
        "mean",
        "std",
        "filter",
        "select",
        "with_columns",
        "sort",
        "head",
        "1",
        "0",
        "-1",
        "2.5",
        "1e300",
        "3000000000",
        "f64::NAN",
        "true",
        "+",
        "-",
        "*",
        "/",
        "%",
        "&",
        "|",
        "!",
        ",",
        ";",
        "let",
        "a",
        "=",
        "a",
        "?",
        "&",
        "SortOptions::default()",
        ".descending(true)",
        "when",
        ".then",
        ".otherwise",
        "lit",
        "DataType::Float64",
        "cast",
        "vec!",
        "df!",
        "=>",
        "Some",
        "None",
        "as",
        "f64",
        "clone",
        "{",
        "}",
        "|v|",
        "if",
        "::",
        "5usize",
        "b';'",
        "'c'",
        "\"unterminated",
        "/*",
        "*/",
        "//",
        "\n",
        "#",
        "r\"raw\"",
        "0x10",
        "1_000",
        "..",
        "collect()",
        "?",
        "ExecOptions::new()",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(src in ".{0,200}") {
        exercise(&src);
    }

    #[test]
    fn random_token_sequences_never_panic(tokens in prop::collection::vec(token(), 0..40)) {
        let body = tokens.join(" ");
        exercise(&body);
        exercise(&format!("{PREFIX}{body}"));
        exercise(&format!("{PREFIX}df.lazy().select([{body}])"));
    }
}

fn real_scripts() -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["queries", "tests/scripts/errors"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        for e in std::fs::read_dir(dir).expect("script dir").flatten() {
            if e.path().extension().is_some_and(|x| x == "fq") {
                out.push(std::fs::read_to_string(e.path()).expect("read script"));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn truncated_and_damaged_scripts_never_panic(pick in any::<prop::sample::Index>(), cut in any::<prop::sample::Index>(), drop in any::<bool>()) {
        let scripts = real_scripts();
        let src = pick.get(&scripts);
        let chars: Vec<char> = src.chars().collect();
        if chars.is_empty() {
            return Ok(());
        }
        let at = cut.index(chars.len());
        let damaged: String = if drop {
            chars.iter().enumerate().filter(|(i, _)| *i != at).map(|(_, c)| *c).collect()
        } else {
            chars[..at].iter().collect()
        };
        // Data-reading scripts would run their scans in `explain`; parsing and interpreting is
        // what is under test, so plan text is only built for in-memory scripts.
        match Script::new("fuzz.fq", damaged.as_str()).eval() {
            Ok(ev) if !damaged.contains("scan_") => { let _ = ev.output.explain(false); }
            Ok(_) => {}
            Err(Error::Script(msg)) => prop_assert!(msg.contains("fuzz.fq"), "{}", msg),
            Err(other) => prop_assert!(false, "non-script error: {}", other),
        }
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for src in [
        format!(
            "{PREFIX}df.lazy().select([{}col(\"x\"){}])",
            "(".repeat(60),
            ")".repeat(60)
        ),
        format!(
            "{PREFIX}df.lazy().select([col(\"x\"){}])",
            ".abs()".repeat(990)
        ),
        format!("{PREFIX}df.lazy().select([{}col(\"x\")])", "-".repeat(990)),
        format!(
            "{PREFIX}df.lazy().select([col(\"x\"){}])",
            " + 1".repeat(990)
        ),
        format!("{}1{}", "(".repeat(5000), ")".repeat(5000)),
        format!("col(\"x\"){}", ".abs()".repeat(50_000)),
        "!".repeat(100_000),
    ] {
        exercise(&src);
    }
}
