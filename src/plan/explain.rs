//! Plan text: one line per node, `NAME key=value`, two spaces of indent per level. Tests compare
//! it with insta snapshots, so keep it stable and free of addresses or timings.

use std::fmt;

use super::{JoinType, LogicalPlan};
use crate::expr::{Expr, SortOptions};

/// Expressions as `[a, b]` (shared with the physical plan text).
pub(crate) fn expr_list(exprs: &[Expr]) -> String {
    let parts: Vec<String> = exprs.iter().map(ToString::to_string).collect();
    format!("[{}]", parts.join(", "))
}

/// A sort's line: `SORT by=[col("a") desc, col("b") nulls_first]` (shared with the physical
/// plan text).
pub(crate) fn sort_text(by: &[Expr], options: &[SortOptions]) -> String {
    let keys: Vec<String> = by
        .iter()
        .zip(options)
        .map(|(e, o)| {
            let mut k = e.to_string();
            if o.descending {
                k.push_str(" desc");
            }
            if !o.nulls_last {
                k.push_str(" nulls_first");
            }
            k
        })
        .collect();
    format!("SORT by=[{}]", keys.join(", "))
}

/// A join's line: `JOIN type=inner left_on=[col("a")] right_on=[col("b")]`.
fn join_text(how: JoinType, left_on: &[Expr], right_on: &[Expr]) -> String {
    if how == JoinType::Cross {
        return "JOIN type=cross".into();
    }
    format!(
        "JOIN type={} left_on={} right_on={}",
        how.name(),
        expr_list(left_on),
        expr_list(right_on)
    )
}

impl LogicalPlan {
    /// The plan as indented text.
    pub fn display_indent(&self) -> String {
        let mut out = String::new();
        self.write_indent(&mut out, 0);
        out.trim_end().to_string()
    }

    fn write_indent(&self, out: &mut String, depth: usize) {
        out.push_str(&"  ".repeat(depth));
        out.push_str(&self.node_text());
        out.push('\n');
        for i in self.inputs() {
            i.write_indent(out, depth + 1);
        }
    }

    /// This node's own line, without indent or children.
    pub fn node_text(&self) -> String {
        match self {
            LogicalPlan::Scan {
                source,
                projection,
                predicate,
                limit,
            } => {
                let mut s = format!("SCAN {} path={}", source.format_name(), source.path_text());
                match projection {
                    Some(p) => s.push_str(&format!(" columns=[{}]", p.join(", "))),
                    None => s.push_str(" columns=*"),
                }
                if let Some(p) = predicate {
                    s.push_str(&format!(" predicate={p}"));
                }
                if let Some(n) = limit {
                    s.push_str(&format!(" limit={n}"));
                }
                // Parquet: how many row groups the predicate's statistics check keeps.
                if let Some((kept, total)) = source.row_groups_kept(predicate.as_ref()) {
                    s.push_str(&format!(" row_groups={kept}/{total}"));
                }
                s
            }
            LogicalPlan::InMemory { df, projection } => {
                let (h, w) = df.shape();
                let mut s = format!("DATAFRAME rows={h} width={w}");
                if let Some(p) = projection {
                    s.push_str(&format!(" columns=[{}]", p.join(", ")));
                }
                s
            }
            LogicalPlan::Filter { predicate, .. } => format!("FILTER {predicate}"),
            LogicalPlan::Select { exprs, .. } => format!("SELECT {}", expr_list(exprs)),
            LogicalPlan::WithColumns { exprs, .. } => format!("WITH_COLUMNS {}", expr_list(exprs)),
            LogicalPlan::Sort { by, options, .. } => sort_text(by, options),
            LogicalPlan::Slice { offset, len, .. } => format!("SLICE offset={offset} len={len}"),
            LogicalPlan::Drop { columns, .. } => format!("DROP [{}]", columns.join(", ")),
            LogicalPlan::Rename { existing, new, .. } => {
                let pairs: Vec<String> = existing
                    .iter()
                    .zip(new)
                    .map(|(a, b)| format!("{a} -> {b}"))
                    .collect();
                format!("RENAME [{}]", pairs.join(", "))
            }
            LogicalPlan::Gather { indices, .. } => format!("GATHER {indices}"),
            LogicalPlan::Aggregates { aggs, .. } => {
                let parts: Vec<String> = aggs.iter().map(|(n, e)| format!("${n} = {e}")).collect();
                format!("AGGREGATES [{}]", parts.join(", "))
            }
            LogicalPlan::Join {
                left_on,
                right_on,
                how,
                ..
            } => join_text(*how, left_on, right_on),
            LogicalPlan::Concat { inputs } => format!("CONCAT inputs={}", inputs.len()),
            LogicalPlan::GroupBy { keys, output, .. } => super::group::group_text(keys, output),
        }
    }
}

impl fmt::Display for LogicalPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_indent())
    }
}
