//! Turning script text into `syn` statements.
//!
//! A cheap lexical pre-scan runs first. It rejects what `syn` would turn into attributes
//! (`#[..]`, doc comments), which scripts do not support, with a clearer message than the
//! interpreter could give later; and it bounds nesting, because `syn`, the interpreter and the
//! engine all recurse over the tree: a pathological input (ten thousand `(` or a chain of ten
//! thousand method calls) must be an error, not a stack overflow that no `Result` can catch.

use proc_macro2::LineColumn;
use syn::parse::{ParseStream, Parser};

use super::diag::Diag;

/// Deepest bracket nesting accepted.
pub(crate) const MAX_DEPTH: usize = 64;
/// Most calls/operators in one statement (each can add a level to the tree).
pub(crate) const MAX_OPS_PER_STATEMENT: usize = 1000;

const GRAMMAR_HELP: &str = "a script is zero or more `let name = <expr>;` statements and one \
    final expression, written with the Rust API (calls, method calls, literals, arrays, `+ - * \
    / % & | !`)";

/// Parse the script into statements.
pub(crate) fn parse(source: &str) -> Result<Vec<syn::Stmt>, Diag> {
    prescan(source)?;
    let parser = |input: ParseStream| syn::Block::parse_within(input);
    parser.parse_str(source).map_err(|e| {
        let span = e.span();
        let mut d = Diag::new(span, format!("syntax error: {e}"));
        // syn reports the end of input at line 0 (no token there); the renderer points
        // after the last char for it.
        if span.start().line == 0 {
            d.message = format!("syntax error: {e} (the script ends too early)");
        }
        d.help(GRAMMAR_HELP)
    })
}

fn at(line: usize, column: usize, message: &str, help: &str) -> Diag {
    let p = LineColumn { line, column };
    Diag {
        span: Some((
            p,
            LineColumn {
                line,
                column: column + 1,
            },
        )),
        message: message.into(),
        label: None,
        help: Some(help.into()),
    }
}

/// Skip strings and comments; reject attributes and doc comments; bound nesting.
fn prescan(source: &str) -> Result<(), Diag> {
    let chars: Vec<char> = source.chars().collect();
    let (mut line, mut col) = (1usize, 0usize);
    let mut depth = 0usize;
    let mut ops = 0usize;
    let mut i = 0;
    // Advance over `n` chars keeping line/column in step.
    let advance = |i: &mut usize, line: &mut usize, col: &mut usize, n: usize| {
        for _ in 0..n {
            if *i < chars.len() {
                if chars[*i] == '\n' {
                    *line += 1;
                    *col = 0;
                } else {
                    *col += 1;
                }
                *i += 1;
            }
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let next2 = chars.get(i + 2).copied();
        match c {
            '/' if next == Some('/') => {
                let doc =
                    (next2 == Some('/') && chars.get(i + 3) != Some(&'/')) || next2 == Some('!');
                if doc {
                    return Err(at(
                        line,
                        col,
                        "doc comments are not supported in scripts",
                        "use a plain `//` comment",
                    ));
                }
                while i < chars.len() && chars[i] != '\n' {
                    advance(&mut i, &mut line, &mut col, 1);
                }
            }
            '/' if next == Some('*') => {
                let doc = (next2 == Some('*') && !matches!(chars.get(i + 3), Some('*' | '/')))
                    || next2 == Some('!');
                if doc {
                    return Err(at(
                        line,
                        col,
                        "doc comments are not supported in scripts",
                        "use a plain `/* */` or `//` comment",
                    ));
                }
                // Block comments nest in Rust.
                let mut level = 0usize;
                while i < chars.len() {
                    if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                        level += 1;
                        advance(&mut i, &mut line, &mut col, 2);
                    } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                        level -= 1;
                        advance(&mut i, &mut line, &mut col, 2);
                        if level == 0 {
                            break;
                        }
                    } else {
                        advance(&mut i, &mut line, &mut col, 1);
                    }
                }
            }
            '"' => {
                advance(&mut i, &mut line, &mut col, 1);
                while i < chars.len() && chars[i] != '"' {
                    let n = if chars[i] == '\\' { 2 } else { 1 };
                    advance(&mut i, &mut line, &mut col, n);
                }
                advance(&mut i, &mut line, &mut col, 1);
            }
            // A char literal such as `'"'` must not start a string.
            '\'' if next2 == Some('\'') => advance(&mut i, &mut line, &mut col, 3),
            '#' => {
                return Err(at(
                    line,
                    col,
                    "attributes (`#[..]`) are not supported in scripts",
                    GRAMMAR_HELP,
                ))
            }
            '(' | '[' | '{' => {
                depth += 1;
                ops += 1;
                if depth > MAX_DEPTH {
                    return Err(at(
                        line,
                        col,
                        &format!("brackets nest more than {MAX_DEPTH} levels deep"),
                        "split the expression with `let` bindings",
                    ));
                }
                advance(&mut i, &mut line, &mut col, 1);
            }
            ')' | ']' | '}' => {
                depth = depth.saturating_sub(1);
                advance(&mut i, &mut line, &mut col, 1);
            }
            ';' if depth == 0 => {
                ops = 0;
                advance(&mut i, &mut line, &mut col, 1);
            }
            '.' | '+' | '-' | '*' | '/' | '%' | '&' | '|' | '!' => {
                ops += 1;
                if ops > MAX_OPS_PER_STATEMENT {
                    return Err(at(
                        line,
                        col,
                        &format!(
                            "statement too long: more than {MAX_OPS_PER_STATEMENT} calls and operators"
                        ),
                        "split it into several `let` statements",
                    ));
                }
                advance(&mut i, &mut line, &mut col, 1);
            }
            _ => advance(&mut i, &mut line, &mut col, 1),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lets_and_final_expression() {
        let stmts = parse("// c\nlet a = col(\"x\"); /* b */ a.gt(1)").unwrap();
        assert_eq!(stmts.len(), 2);
    }

    #[test]
    fn rejects_doc_comments_and_attributes() {
        let e = parse("/// doc\ncol(\"x\")").unwrap_err();
        assert!(e.message.contains("doc comments"), "{}", e.message);
        let e = parse("#[allow(x)] col(\"x\")").unwrap_err();
        assert!(e.message.contains("attributes"), "{}", e.message);
        // Four slashes and strings holding `#` are fine.
        parse("//// not doc\ncol(\"#x\")").unwrap();
    }

    #[test]
    fn bounds_nesting() {
        let deep = format!("{}1{}", "(".repeat(100), ")".repeat(100));
        assert!(parse(&deep).unwrap_err().message.contains("nest"));
        let long = format!("col(\"x\"){}", ".abs()".repeat(2000));
        assert!(parse(&long).unwrap_err().message.contains("too long"));
    }

    #[test]
    fn syntax_error_has_position() {
        let e = parse("let a = col(\"x\")\na.gt(1)").unwrap_err();
        let s = e.render("q.fq", "let a = col(\"x\")\na.gt(1)");
        assert!(s.starts_with("syntax error: expected `;`"), "{s}");
        assert!(s.contains("q.fq:2:1"), "{s}");
    }
}
