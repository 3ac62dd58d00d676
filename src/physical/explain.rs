//! Physical plan text: one operator a line, two spaces of indent per level, like the logical
//! plan's. A pipeline is a `PIPELINE` line over its streaming operators (the last one first,
//! so data flows upwards as in the logical plan), its source, and last the hash tables its
//! join probes read (`BUILD #n` over the build side's plan); a breaker is one line over its
//! input(s). Tests compare it with insta snapshots: keep it stable.

use std::fmt::Write;

use super::{
    GroupedOp, OrderingOp, PhysicalNode, PhysicalPlan, Pipeline, Source, StreamOp, WholeOp,
};
use crate::expr::sort_options_text;
use crate::plan::{expr_list, sort_text, LogicalPlan};

impl PhysicalPlan {
    /// The plan as indented text.
    pub(crate) fn display_indent(&self) -> String {
        let mut out = String::new();
        self.root.write(&mut out, 0);
        out.trim_end().to_string()
    }
}

fn line(out: &mut String, depth: usize, text: &str) {
    let _ = writeln!(out, "{}{text}", "  ".repeat(depth));
}

fn params(ps: &[(String, crate::expr::Expr)]) -> String {
    let parts: Vec<String> = ps.iter().map(|(n, e)| format!("${n} = {e}")).collect();
    format!("[{}]", parts.join(", "))
}

/// Columns a window operator adds: `name = expr`.
fn columns(cs: &[(String, crate::expr::Expr)]) -> String {
    let parts: Vec<String> = cs.iter().map(|(n, e)| format!("{n} = {e}")).collect();
    format!("[{}]", parts.join(", "))
}

impl PhysicalNode {
    fn write(&self, out: &mut String, depth: usize) {
        match self {
            PhysicalNode::Pipeline(p) => p.write(out, depth),
            PhysicalNode::Aggregate {
                input,
                aggs,
                outputs,
                ..
            } => {
                line(
                    out,
                    depth,
                    &format!("AGGREGATE {} -> {}", params(aggs), expr_list(outputs)),
                );
                input.write(out, depth + 1);
            }
            PhysicalNode::Hoisted { input, params: ps } => {
                line(out, depth, &format!("HOISTED {}", params(ps)));
                input.write(out, depth + 1);
            }
            PhysicalNode::Slice { input, offset, len } => {
                line(out, depth, &format!("SLICE offset={offset} len={len}"));
                input.write(out, depth + 1);
            }
            PhysicalNode::Sort { input, by, options } => {
                line(out, depth, &sort_text(by, options));
                input.write(out, depth + 1);
            }
            PhysicalNode::Gather { input, indices } => {
                line(out, depth, &format!("GATHER {indices}"));
                input.write(out, depth + 1);
            }
            PhysicalNode::Evaluate { input, op, .. } => {
                let text = match op {
                    WholeOp::Filter(p) => format!("FILTER {p}"),
                    WholeOp::Select(es) => format!("SELECT {}", expr_list(es)),
                    WholeOp::WithColumns(es) => format!("WITH_COLUMNS {}", expr_list(es)),
                };
                line(out, depth, &format!("EVALUATE {text}"));
                input.write(out, depth + 1);
            }
            PhysicalNode::Ordering { input, op, schema } => {
                let names = schema.fields().iter().map(|f| f.name());
                let text = match op {
                    OrderingOp::TopK { k, columns } => {
                        let cs: Vec<String> = columns
                            .iter()
                            .zip(names)
                            .map(|(c, n)| {
                                let end = if c.largest { "largest" } else { "smallest" };
                                format!("{n} = {} {end}", c.input)
                            })
                            .collect();
                        format!("TOP_K k={k} [{}]", cs.join(", "))
                    }
                    OrderingOp::ArgSort { key, options } => {
                        let name = names.map(String::as_str).next().unwrap_or_default();
                        format!("ARG_SORT {name} = {key} {}", sort_options_text(options))
                    }
                };
                line(out, depth, &text);
                input.write(out, depth + 1);
            }
            PhysicalNode::GroupBy {
                input,
                keys,
                aggs,
                outputs,
                ..
            } => {
                let named: Vec<String> = aggs
                    .iter()
                    .enumerate()
                    .map(|(j, a)| format!("__agg{j} = {a}"))
                    .collect();
                line(
                    out,
                    depth,
                    &format!(
                        "GROUP_BY keys={} aggs=[{}] -> {}",
                        expr_list(keys),
                        named.join(", "),
                        expr_list(outputs)
                    ),
                );
                input.write(out, depth + 1);
            }
            PhysicalNode::Grouped {
                input, keys, op, ..
            } => {
                let text = match op {
                    GroupedOp::Head(n) => format!("GROUP_HEAD keys={} n={n}", expr_list(keys)),
                    GroupedOp::Evaluate(es) => {
                        format!("GROUP_EVALUATE keys={} {}", expr_list(keys), expr_list(es))
                    }
                };
                line(out, depth, &text);
                input.write(out, depth + 1);
            }
            PhysicalNode::Fit { input, model } => {
                line(out, depth, &format!("FIT {}", model.text()));
                input.write(out, depth + 1);
            }
            PhysicalNode::Join { build, probe, spec } => {
                line(out, depth, &format!("HASH_JOIN {}", spec.text()));
                let keys = expr_list(spec.keys(spec.build));
                line(out, depth + 1, &format!("BUILD keys={keys}"));
                build.write(out, depth + 2);
                probe.write(out, depth + 1);
            }
            PhysicalNode::Shared { id, input } => {
                let uses = input.uses.load(std::sync::atomic::Ordering::Relaxed);
                line(out, depth, &format!("SHARED #{id} uses={uses}"));
                input.node.write(out, depth + 1);
            }
            PhysicalNode::Concat { inputs, .. } => {
                line(out, depth, "CONCAT");
                for i in inputs {
                    i.write(out, depth + 1);
                }
            }
        }
    }
}

impl Pipeline {
    fn write(&self, out: &mut String, depth: usize) {
        line(out, depth, "PIPELINE");
        let d = depth + 1;
        for (op, schema) in self.ops.iter().rev() {
            let text = match op {
                StreamOp::Filter(p) => format!("FILTER {p}"),
                StreamOp::FilterKeep(p, _) => {
                    let keep: Vec<&str> =
                        schema.fields().iter().map(|f| f.name().as_str()).collect();
                    format!("FILTER {p} keep=[{}]", keep.join(", "))
                }
                StreamOp::Select(es) => format!("SELECT {}", expr_list(es)),
                StreamOp::WithColumns(es) => format!("WITH_COLUMNS {}", expr_list(es)),
                StreamOp::Probe(spec) => format!("PROBE #{} {}", spec.id, spec.text()),
                StreamOp::Window {
                    exprs, lookback, ..
                } => format!("WINDOW {} lookback={lookback}", columns(exprs)),
            };
            line(out, d, &text);
        }
        match &self.source {
            Source::Scan {
                source,
                columns,
                predicate,
                limit,
                coded,
                ..
            } => {
                let mut text = LogicalPlan::Scan {
                    source: source.clone(),
                    projection: columns.clone(),
                    predicate: predicate.clone(),
                    limit: *limit,
                }
                .node_text();
                if !coded.is_empty() {
                    text.push_str(&format!(" dictionary=[{}]", coded.join(", ")));
                }
                line(out, d, &text);
            }
            Source::Frame(df) => {
                let (h, w) = df.shape();
                line(out, d, &format!("DATAFRAME rows={h} width={w}"));
            }
            Source::Node(n) => n.write(out, d),
        }
        for b in &self.builds {
            let keys = expr_list(b.spec.keys(b.spec.build));
            line(out, d, &format!("BUILD #{} keys={keys}", b.spec.id));
            b.input.write(out, d + 1);
        }
    }
}
