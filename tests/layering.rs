//! The crate's module layering: each top-level module of `src/` refers (through `crate::` or
//! `super::` paths) only to the modules below it in [`LAYERS`], so the modules form no import
//! cycle and each layer can be read, tested and changed knowing only those below it. The
//! layers and the reason for their order are in the crate docs (`src/lib.rs`); this test keeps
//! the code to them.
//!
//! Test code (`#[cfg(test)]` items and the files of `#[cfg(test)] mod ..;`) may reach any
//! module and is skipped, as are comments and string literals (doc links may point anywhere).
//! A reference that breaks the order fails the test with its file and line: move the item it
//! needs down to the lowest layer that uses it (a re-export from the item's old module keeps
//! that module's path working), or, when a type's method needs a higher layer, put that
//! `impl` block in the higher module (an inherent `impl` may sit anywhere in the crate).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The top-level modules, lowest first. Why this order:
/// - `error`: the one error type, needed by everything; needs nothing.
/// - `expr`: the expression language and the values it holds (`Scalar`, type names, the
///   calendar); pure description, no tables.
/// - `frame`: `DataFrame`, shown through the value formatting of `expr`.
/// - `memory`: the memory budget and the piece sizes every layer that holds data uses.
/// - `io`: file readers and writers of frames (a scan's predicate is an `Expr`).
/// - `plan`: logical plans and the `LazyFrame` builder, whose scans name `io` sources.
/// - `physical`: the lowering of a logical plan into pipelines and breakers.
/// - `exec`: the executor of physical plans.
/// - `optimizer`: logical rewrites; its constant folding evaluates with the executor's
///   kernels, so the folded value is exactly what evaluation gives.
/// - `lazy`: `explain`, `collect` and `sink_*`: optimize, lower, run.
/// - `ml`: models fitted as plan nodes that the executor runs.
/// - `plot`: pictures of frames and models.
/// - `script`: the query-script interpreter, which registers every user-facing type
///   (plots included).
const LAYERS: &[&str] = &[
    "error",
    "expr",
    "frame",
    "memory",
    "io",
    "plan",
    "physical",
    "exec",
    "optimizer",
    "lazy",
    "ml",
    "plot",
    "script",
];

/// References allowed against the order: `(from, to, why)`. Each must still occur, so an
/// exception goes away with the reference it excuses.
const EXCEPTIONS: &[(&str, &str, &str)] = &[];

/// Items of the crate root reached as `crate::<name>`, with the module each comes from.
/// `prelude` is not here: it re-exports every layer, so no module may use it outside tests.
const ROOT_ITEMS: &[(&str, &str)] = &[
    ("Error", "error"),
    ("Result", "error"),
    ("tune_allocator", "exec"),
    // `#[macro_export]` puts `df!` at the crate root; it is defined in `frame`.
    ("df", "frame"),
];

#[test]
fn modules_refer_only_to_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let declared = root_modules(&src.join("lib.rs"));
    let listed: BTreeSet<String> = LAYERS.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        declared, listed,
        "src/lib.rs declares these top-level modules; place each new one in LAYERS"
    );

    let mut seen_files = BTreeSet::new();
    let mut violations = vec![];
    let mut used_exceptions = BTreeSet::new();
    for (rank, &module) in LAYERS.iter().enumerate() {
        let mut files = vec![];
        let root = match module_file(&src, module) {
            Some(f) => f,
            None => panic!("no file for module {module}"),
        };
        collect_files(
            &root,
            &src.join(module),
            &[module.to_string()],
            &mut files,
            &mut seen_files,
        );
        for file in files {
            for r in references(&file.text, &file.module_path) {
                let target = if LAYERS.contains(&r.name.as_str()) {
                    r.name.clone()
                } else if let Some((_, m)) = ROOT_ITEMS.iter().find(|(n, _)| *n == r.name) {
                    m.to_string()
                } else {
                    violations.push(format!(
                        "{}:{}: crate::{} is not a module in LAYERS nor a known root item",
                        file.path.strip_prefix(&src).unwrap_or(&file.path).display(),
                        r.line,
                        r.name
                    ));
                    continue;
                };
                if target == module {
                    continue;
                }
                let target_rank = LAYERS
                    .iter()
                    .position(|l| *l == target)
                    .unwrap_or(usize::MAX);
                if target_rank < rank {
                    continue;
                }
                if EXCEPTIONS
                    .iter()
                    .any(|(f, t, _)| *f == module && *t == target)
                {
                    used_exceptions.insert((module.to_string(), target.clone()));
                    continue;
                }
                violations.push(format!(
                    "{}:{}: {module} refers to {target}, which is above it",
                    file.path.strip_prefix(&src).unwrap_or(&file.path).display(),
                    r.line
                ));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "references against the layering (see LAYERS):\n{}",
        violations.join("\n")
    );
    for (f, t, _) in EXCEPTIONS {
        assert!(
            used_exceptions.contains(&(f.to_string(), t.to_string())),
            "the exception {f} -> {t} is no longer needed: remove it"
        );
    }

    // Every source file was reached from its module's root, so none escaped the check.
    let mut missed = vec![];
    for f in rust_files(&src) {
        let rel = f.strip_prefix(&src).unwrap_or(&f).to_path_buf();
        let top = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().to_string());
        if rel == Path::new("lib.rs") || top.as_deref() == Some("bin") {
            continue;
        }
        if !seen_files.contains(&f) {
            missed.push(rel.display().to_string());
        }
    }
    assert!(
        missed.is_empty(),
        "files not reached by any `mod` declaration: {missed:?}"
    );
}

#[test]
fn the_checker_sees_through_comments_strings_and_test_code() {
    let text = "use crate::plan::X;\n// crate::script\nlet s = \"crate::ml\";\n\
                #[cfg(test)]\nmod tests { use crate::lazy::Y; }\n\
                #[cfg(all(test, feature = \"plot\"))]\nfn f() { crate::plot::g(); }\n\
                use crate::{exec::A, memory};\nfn g() { super::super::io::h(); let c = '\"'; }\n\
                let d = '\\''; let e = \"\\\"\"; crate::ml::k();";
    let refs: Vec<(String, usize)> = references(
        &blank_test_items(&strip(text)),
        &["frame".into(), "x".into()],
    )
    .into_iter()
    .map(|r| (r.name, r.line))
    .collect();
    assert_eq!(
        refs,
        vec![
            ("plan".into(), 1),
            ("exec".into(), 8),
            ("memory".into(), 8),
            ("io".into(), 9),
            ("ml".into(), 10)
        ]
    );
    assert_eq!(
        test_modules(&strip("#[cfg(test)]\nmod tests;\nmod real;")),
        vec!["tests"]
    );
    // `super` inside an inline module climbs to that module's parent, not out of the file.
    let inline = "pub mod prelude {\n    pub use super::{a, b};\n}\nuse super::{io, plan::X};";
    let refs: Vec<String> = references(&strip(inline), &["ml".into()])
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(refs, vec!["io", "plan"]);
}

/// A source file of a module, with comments, strings and test code blanked out.
struct SourceFile {
    path: PathBuf,
    /// The module path of the file (`["exec", "kernels"]` for `src/exec/kernels/mod.rs`).
    module_path: Vec<String>,
    text: String,
}

/// One `crate::<name>` (or `super::` path that reaches the crate root) in a file.
struct Reference {
    name: String,
    line: usize,
}

/// The `mod` declarations of `lib.rs`.
fn root_modules(lib: &Path) -> BTreeSet<String> {
    let text = strip(&read(lib));
    declared_modules(&text).into_iter().collect()
}

fn module_file(dir: &Path, name: &str) -> Option<PathBuf> {
    [
        dir.join(format!("{name}.rs")),
        dir.join(name).join("mod.rs"),
    ]
    .into_iter()
    .find(|p| p.exists())
}

/// The file of a module and those of its non-test submodules, recursively; the files of test
/// submodules are marked seen but not checked.
fn collect_files(
    file: &Path,
    child_dir: &Path,
    module_path: &[String],
    out: &mut Vec<SourceFile>,
    seen: &mut BTreeSet<PathBuf>,
) {
    seen.insert(file.to_path_buf());
    let raw = strip(&read(file));
    let tests = test_modules(&raw);
    let text = blank_test_items(&raw);
    for name in declared_modules(&text) {
        let Some(child) = module_file(child_dir, &name) else {
            panic!("{}: no file for `mod {name};`", file.display());
        };
        let mut path = module_path.to_vec();
        path.push(name.clone());
        collect_files(&child, &child_dir.join(&name), &path, out, seen);
    }
    for name in tests {
        if let Some(child) = module_file(child_dir, &name) {
            mark_seen(&child, &child_dir.join(&name), seen);
        }
    }
    out.push(SourceFile {
        path: file.to_path_buf(),
        module_path: module_path.to_vec(),
        text,
    });
}

fn mark_seen(file: &Path, child_dir: &Path, seen: &mut BTreeSet<PathBuf>) {
    seen.insert(file.to_path_buf());
    let text = strip(&read(file));
    for name in declared_modules(&text)
        .into_iter()
        .chain(test_modules(&text))
    {
        if let Some(child) = module_file(child_dir, &name) {
            mark_seen(&child, &child_dir.join(&name), seen);
        }
    }
}

fn read(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `text` with comments, string and character literals replaced by spaces (newlines kept, so
/// lines still count).
fn strip(text: &str) -> String {
    let c: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, s: &[char]| {
        for ch in s {
            out.push(if *ch == '\n' { '\n' } else { ' ' });
        }
    };
    let mut i = 0;
    while i < c.len() {
        let prev_ident = i > 0 && is_ident(c[i - 1]);
        if c[i] == '/' && c.get(i + 1) == Some(&'/') {
            let end = (i..c.len()).find(|&j| c[j] == '\n').unwrap_or(c.len());
            blank(&mut out, &c[i..end]);
            i = end;
        } else if c[i] == '/' && c.get(i + 1) == Some(&'*') {
            let (mut depth, mut j) = (0usize, i);
            while j < c.len() {
                if c[j] == '/' && c.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if c[j] == '*' && c.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            blank(&mut out, &c[i..j.min(c.len())]);
            i = j.min(c.len());
        } else if !prev_ident && (c[i] == 'r' || (c[i] == 'b' && c.get(i + 1) == Some(&'r'))) && {
            let k = if c[i] == 'b' { i + 2 } else { i + 1 };
            let hashes = c[k..].iter().take_while(|&&h| h == '#').count();
            c.get(k + hashes) == Some(&'"')
        } {
            // A raw string: r"..", r#".."#, br"..".
            let k = if c[i] == 'b' { i + 2 } else { i + 1 };
            let hashes = c[k..].iter().take_while(|&&h| h == '#').count();
            let mut j = k + hashes + 1;
            while j < c.len() {
                if c[j] == '"'
                    && c[j + 1..]
                        .iter()
                        .take(hashes)
                        .filter(|&&h| h == '#')
                        .count()
                        == hashes
                {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            blank(&mut out, &c[i..j.min(c.len())]);
            i = j.min(c.len());
        } else if c[i] == '"' {
            let mut j = i + 1;
            while j < c.len() && c[j] != '"' {
                j += if c[j] == '\\' { 2 } else { 1 };
            }
            blank(&mut out, &c[i..(j + 1).min(c.len())]);
            i = (j + 1).min(c.len());
        } else if c[i] == '\'' {
            // A character literal ('a', '\n', '\u{1F600}') or a lifetime ('a), which is kept.
            let end = if c.get(i + 1) == Some(&'\\') {
                (i + 3..c.len()).find(|&j| c[j] == '\'').map(|j| j + 1)
            } else if c.get(i + 2) == Some(&'\'') {
                Some(i + 3)
            } else {
                None
            };
            match end {
                Some(e) => {
                    blank(&mut out, &c[i..e]);
                    i = e;
                }
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// Byte ranges of the items under a test-only `#[cfg(..)]` (`test`, or `all(test, ..)`), each
/// with the name of the module when the item is `mod name;`.
fn test_items(text: &str) -> Vec<(usize, usize, Option<String>)> {
    let b = text.as_bytes();
    let mut out = vec![];
    let mut from = 0;
    while let Some(at) = text[from..].find("#[cfg(").map(|k| k + from) {
        let open = at + "#[cfg".len();
        let close = matching(b, open, b'(', b')');
        let pred: String = text[open + 1..close]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let test_only = pred == "test"
            || (pred.starts_with("all(") && pred[4..].split([',', ')']).any(|p| p == "test"));
        let attr_end = matching(b, at + 1, b'[', b']') + 1;
        if !test_only {
            from = attr_end;
            continue;
        }
        // Skip further attributes, then the item up to its `;` or its closing brace.
        let mut j = attr_end;
        loop {
            while j < b.len() && b[j].is_ascii_whitespace() {
                j += 1;
            }
            if b.get(j) == Some(&b'#') && b.get(j + 1) == Some(&b'[') {
                j = matching(b, j + 1, b'[', b']') + 1;
            } else {
                break;
            }
        }
        let item_start = j;
        let mut depth = 0i32;
        while j < b.len() {
            match b[j] {
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth -= 1,
                b';' if depth == 0 => break,
                b'{' if depth == 0 => {
                    j = matching(b, j, b'{', b'}');
                    break;
                }
                _ => {}
            }
            j += 1;
        }
        let end = (j + 1).min(b.len());
        let item = &text[item_start..end];
        let module = item
            .strip_suffix(';')
            .and_then(|s| s.trim().rsplit_once("mod "))
            .map(|(_, n)| n.trim().to_string());
        out.push((at, end, module));
        from = end;
    }
    out
}

/// The index of the bracket closing the one at `open`.
fn matching(b: &[u8], open: usize, l: u8, r: u8) -> usize {
    let mut depth = 0;
    for (j, &ch) in b.iter().enumerate().skip(open) {
        if ch == l {
            depth += 1;
        } else if ch == r {
            depth -= 1;
            if depth == 0 {
                return j;
            }
        }
    }
    b.len().saturating_sub(1)
}

fn test_modules(text: &str) -> Vec<String> {
    test_items(text)
        .into_iter()
        .filter_map(|(_, _, m)| m)
        .collect()
}

fn blank_test_items(text: &str) -> String {
    let mut out = text.to_string();
    for (a, e, _) in test_items(text) {
        let blanked: String = text[a..e]
            .chars()
            .map(|c| if c == '\n' { '\n' } else { ' ' })
            .collect();
        out.replace_range(a..e, &blanked);
    }
    out
}

/// `mod name;` declarations (file modules) in `text`.
fn declared_modules(text: &str) -> Vec<String> {
    let mut out = vec![];
    for (i, _) in text.match_indices("mod ") {
        if i > 0 && is_ident(text[..i].chars().next_back().unwrap_or(' ')) {
            continue;
        }
        let rest = &text[i + 4..];
        let name: String = rest
            .trim_start()
            .chars()
            .take_while(|&c| is_ident(c))
            .collect();
        let after = rest.trim_start()[name.len()..].trim_start();
        if !name.is_empty() && after.starts_with(';') {
            out.push(name);
        }
    }
    out
}

/// The top-level names `text` reaches: `crate::name` (`$crate::` too), the names of a
/// `crate::{a, b::c}` group, and `super::` chains that climb out of the file's top module
/// (counting the inline `mod name { .. }` blocks they sit in).
fn references(text: &str, module_path: &[String]) -> Vec<Reference> {
    let mut out = vec![];
    let line_of = |i: usize| text[..i].matches('\n').count() + 1;
    let preceded_by_ident = |i: usize| i > 0 && text[..i].chars().next_back().is_some_and(is_ident);
    for (i, _) in text.match_indices("crate::") {
        if preceded_by_ident(i) {
            continue;
        }
        for name in names_after(&text[i + "crate::".len()..]) {
            out.push(Reference {
                name,
                line: line_of(i),
            });
        }
    }
    let inline = inline_modules(text);
    for (i, _) in text.match_indices("super::") {
        if preceded_by_ident(i) || text[..i].ends_with("::") {
            continue;
        }
        let mut rest = &text[i..];
        let mut ups = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            ups += 1;
            rest = r;
        }
        let depth = module_path.len() + inline.iter().filter(|(a, e)| *a < i && i < *e).count();
        if ups >= depth {
            for name in names_after(rest) {
                out.push(Reference {
                    name,
                    line: line_of(i),
                });
            }
        }
    }
    out.sort_by_key(|r| r.line);
    out
}

/// The first segment of the path `rest` starts with, or of each path of a `{..}` group.
fn names_after(rest: &str) -> Vec<String> {
    let first = |s: &str| -> String { s.trim().chars().take_while(|&c| is_ident(c)).collect() };
    let names = match rest.strip_prefix('{') {
        Some(group) => {
            let close = matching(rest.as_bytes(), 0, b'{', b'}');
            split_top(&group[..close.saturating_sub(1)])
                .into_iter()
                .map(first)
                .collect()
        }
        None => vec![first(rest)],
    };
    names
        .into_iter()
        .filter(|n| !n.is_empty() && n != "self")
        .collect()
}

/// Byte ranges of the inline `mod name { .. }` blocks of `text`.
fn inline_modules(text: &str) -> Vec<(usize, usize)> {
    let mut out = vec![];
    for (i, _) in text.match_indices("mod ") {
        if i > 0 && text[..i].chars().next_back().is_some_and(is_ident) {
            continue;
        }
        let rest = text[i + 4..].trim_start();
        let name: String = rest.chars().take_while(|&c| is_ident(c)).collect();
        let after = &rest[name.len()..];
        if !name.is_empty() && after.trim_start().starts_with('{') {
            let open = text.len() - after.trim_start().len();
            out.push((open, matching(text.as_bytes(), open, b'{', b'}')));
        }
    }
    out
}

/// The comma-separated parts of a `{..}` group's body, not splitting inside nested groups.
fn split_top(body: &str) -> Vec<&str> {
    let mut parts = vec![];
    let (mut depth, mut start) = (0, 0);
    for (j, ch) in body.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&body[start..j]);
                start = j + 1;
            }
            _ => {}
        }
    }
    parts.push(&body[start..]);
    parts
}
