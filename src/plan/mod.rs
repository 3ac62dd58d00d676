//! Logical plans: the tree of query nodes a `LazyFrame` builds, its output schema (resolved
//! without reading data), and its plan text.
//!
//! Nodes hold plain owned children (`Arc<LogicalPlan>`); the optimizer rewrites by building new
//! trees. Plan text is one line per node, `NAME key=value`, two spaces of indent per level.

mod describe;
mod explain;
pub(crate) use explain::{expr_list, sort_text};
mod frames;
mod group;
pub mod join;
mod lazy;
mod sampling;
mod sources;

pub use frames::concat;
pub(crate) use frames::concat_schema;
pub(crate) use group::{effective_keys, first_of_each};
pub use group::{GroupOutput, LazyGroupBy};
pub use join::JoinType;
pub(crate) use join::{JoinColumn, JoinLayout};
pub use lazy::{ExecOptions, IntoSortOptions, LazyFrame, ProgressFn, RowsFn};
pub use sources::{full, ones, range, scan_csv, scan_csv_with, scan_ipc, scan_parquet, zeros};

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::error::{Error, Result};
use crate::expr::lookup::NameIndex;
use crate::expr::types::expand_selectors;
use crate::expr::{Expr, SortOptions};
use crate::frame::DataFrame;
use crate::io::ScanSource;

/// One node of a logical plan.
#[derive(Clone, Debug)]
pub enum LogicalPlan {
    /// A file scan. `projection`, `predicate` and `limit` are filled in by the optimizer's
    /// pushdown rules; `None` means all columns / no filter / every row. The predicate filters
    /// each morsel right after decoding (and lets Parquet skip row groups by their statistics);
    /// `limit` says only the first `limit` rows that pass the predicate are needed, so a reader
    /// may stop early (a `SLICE` above still cuts the exact rows).
    Scan {
        /// Where the rows come from (file path(s), format and options).
        source: Arc<ScanSource>,
        /// The columns to read; `None` reads all of them.
        projection: Option<Vec<String>>,
        /// Rows to keep, applied to each decoded morsel; `None` keeps every row.
        predicate: Option<Expr>,
        /// How many rows (after the predicate) are needed at most; `None` means all.
        limit: Option<usize>,
    },
    /// A frame already in memory.
    InMemory {
        /// The frame itself (cheap to clone: its columns are shared Arrow arrays).
        df: DataFrame,
        /// The columns to keep; `None` keeps all of them.
        projection: Option<Vec<String>>,
    },
    /// Keep rows where the predicate is true (false and null rows are dropped).
    Filter {
        /// The rows to filter.
        input: Arc<LogicalPlan>,
        /// A boolean expression; a row is kept where it is true.
        predicate: Expr,
    },
    /// Output exactly these expressions.
    Select {
        /// The rows the expressions are evaluated over.
        input: Arc<LogicalPlan>,
        /// The output columns, in order (each named by its alias or its column).
        exprs: Vec<Expr>,
    },
    /// Add or replace columns, keeping the rest.
    WithColumns {
        /// The frame the columns are added to.
        input: Arc<LogicalPlan>,
        /// The columns to add or replace, evaluated over the input.
        exprs: Vec<Expr>,
    },
    /// Sort rows by keys, each with its own options.
    Sort {
        /// The rows to sort.
        input: Arc<LogicalPlan>,
        /// The sort keys, most significant first.
        by: Vec<Expr>,
        /// One per key: descending, nulls first or last.
        options: Vec<SortOptions>,
    },
    /// Rows `offset..offset+len`; a negative offset counts from the end (`tail`).
    Slice {
        /// The rows to slice.
        input: Arc<LogicalPlan>,
        /// The first row; negative counts from the end.
        offset: i64,
        /// How many rows at most.
        len: usize,
    },
    /// Remove columns.
    Drop {
        /// The frame the columns are removed from.
        input: Arc<LogicalPlan>,
        /// The names of the columns to remove.
        columns: Vec<String>,
    },
    /// Rename columns (`existing[i]` becomes `new[i]`).
    Rename {
        /// The frame whose columns are renamed.
        input: Arc<LogicalPlan>,
        /// The current names.
        existing: Vec<String>,
        /// The new names, one per current name.
        new: Vec<String>,
    },
    /// Take rows at the positions an integer expression gives (after `arg_sort`, say).
    Gather {
        /// The rows to take from.
        input: Arc<LogicalPlan>,
        /// The positions to take, an integer expression (negative counts from the end).
        indices: Expr,
    },
    /// Named scalar aggregates over the input, computed together in one pass; the rows pass
    /// through unchanged and the nodes above read the values as `Expr::Param`s (the
    /// optimizer's aggregate hoisting builds it). A pipeline breaker: the input is
    /// materialized, since the rows above are needed again after the aggregates are known.
    Aggregates {
        /// The rows the aggregates are computed over (passed through unchanged).
        input: Arc<LogicalPlan>,
        /// Each aggregate's parameter name and expression.
        aggs: Vec<(String, Expr)>,
    },
    /// Rows of `left` and `right` matched on keys (`left_on[i]` over the left input equals
    /// `right_on[i]` over the right one); see [`join`] for the output's columns and rows.
    Join {
        /// The left input.
        left: Arc<LogicalPlan>,
        /// The right input.
        right: Arc<LogicalPlan>,
        /// Key expressions over the left input.
        left_on: Vec<Expr>,
        /// Key expressions over the right input, one per left key.
        right_on: Vec<Expr>,
        /// Inner, left, right, full, semi, anti or cross.
        how: JoinType,
    },
    /// The inputs' rows one after another, columns matched by name (see [`concat()`]).
    Concat {
        /// The inputs, in order.
        inputs: Vec<Arc<LogicalPlan>>,
    },
    /// Rows grouped by the values of `keys` (null keys one group, NaN keys one group), groups
    /// in order of first appearance; `output` says what each group gives (aggregates, its
    /// first rows, or its first row for `unique`). A pipeline breaker.
    GroupBy {
        /// The rows to group.
        input: Arc<LogicalPlan>,
        /// The grouping key expressions.
        keys: Vec<Expr>,
        /// What each group gives.
        output: GroupOutput,
    },
}

impl LogicalPlan {
    /// The plan's inputs.
    pub fn inputs(&self) -> Vec<&Arc<LogicalPlan>> {
        match self {
            LogicalPlan::Scan { .. } | LogicalPlan::InMemory { .. } => vec![],
            LogicalPlan::Filter { input, .. }
            | LogicalPlan::Select { input, .. }
            | LogicalPlan::WithColumns { input, .. }
            | LogicalPlan::Sort { input, .. }
            | LogicalPlan::Slice { input, .. }
            | LogicalPlan::Drop { input, .. }
            | LogicalPlan::Rename { input, .. }
            | LogicalPlan::Gather { input, .. }
            | LogicalPlan::Aggregates { input, .. }
            | LogicalPlan::GroupBy { input, .. } => vec![input],
            LogicalPlan::Join { left, right, .. } => vec![left, right],
            LogicalPlan::Concat { inputs } => inputs.iter().collect(),
        }
    }

    /// The same node over new inputs, given in [`inputs`](Self::inputs) order (a node keeps
    /// any input the list is too short for; sources are returned as they are).
    pub fn with_inputs(&self, new_inputs: Vec<Arc<LogicalPlan>>) -> LogicalPlan {
        let mut p = self.clone();
        let mut new = new_inputs.into_iter();
        let mut set = |slot: &mut Arc<LogicalPlan>| {
            if let Some(n) = new.next() {
                *slot = n;
            }
        };
        match &mut p {
            LogicalPlan::Scan { .. } | LogicalPlan::InMemory { .. } => {}
            LogicalPlan::Filter { input, .. }
            | LogicalPlan::Select { input, .. }
            | LogicalPlan::WithColumns { input, .. }
            | LogicalPlan::Sort { input, .. }
            | LogicalPlan::Slice { input, .. }
            | LogicalPlan::Drop { input, .. }
            | LogicalPlan::Rename { input, .. }
            | LogicalPlan::Gather { input, .. }
            | LogicalPlan::Aggregates { input, .. }
            | LogicalPlan::GroupBy { input, .. } => set(input),
            LogicalPlan::Join { left, right, .. } => {
                set(left);
                set(right);
            }
            LogicalPlan::Concat { inputs } => inputs.iter_mut().for_each(set),
        }
        p
    }

    /// The same node over a new (first) input: for single-input nodes.
    pub fn with_input(&self, new_input: Arc<LogicalPlan>) -> LogicalPlan {
        self.with_inputs(vec![new_input])
    }

    /// The node with every input replaced by `f(input)`; the node itself (not a copy) when
    /// `f` returns every input unchanged.
    pub fn map_inputs(
        self: &Arc<Self>,
        mut f: impl FnMut(&Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>>,
    ) -> Result<Arc<LogicalPlan>> {
        let old = self.inputs();
        let new = old.iter().map(|i| f(i)).collect::<Result<Vec<_>>>()?;
        if old.iter().zip(&new).all(|(a, b)| Arc::ptr_eq(a, b)) {
            return Ok(self.clone());
        }
        Ok(Arc::new(self.with_inputs(new)))
    }

    /// The expressions this node evaluates (for rules that inspect or rewrite them).
    pub fn expressions(&self) -> Vec<&Expr> {
        match self {
            LogicalPlan::Scan { predicate, .. } => predicate.iter().collect(),
            LogicalPlan::Filter { predicate, .. } => vec![predicate],
            LogicalPlan::Select { exprs, .. } | LogicalPlan::WithColumns { exprs, .. } => {
                exprs.iter().collect()
            }
            LogicalPlan::Sort { by, .. } => by.iter().collect(),
            LogicalPlan::Gather { indices, .. } => vec![indices],
            LogicalPlan::Aggregates { aggs, .. } => aggs.iter().map(|(_, e)| e).collect(),
            LogicalPlan::Join {
                left_on, right_on, ..
            } => left_on.iter().chain(right_on).collect(),
            LogicalPlan::GroupBy { keys, output, .. } => match output {
                GroupOutput::Aggregate(aggs) => keys.iter().chain(aggs).collect(),
                GroupOutput::Head(_) | GroupOutput::First => keys.iter().collect(),
            },
            _ => vec![],
        }
    }

    /// The same node with every expression it holds replaced by `f(expr)` (inputs unchanged).
    pub fn map_expressions(&self, f: &mut impl FnMut(Expr) -> Expr) -> LogicalPlan {
        let mut p = self.clone();
        let all = |es: &mut Vec<Expr>, f: &mut dyn FnMut(Expr) -> Expr| {
            *es = std::mem::take(es).into_iter().map(&mut *f).collect();
        };
        match &mut p {
            LogicalPlan::Scan { predicate, .. } => *predicate = predicate.take().map(&mut *f),
            LogicalPlan::Filter { predicate, .. } => *predicate = f(predicate.clone()),
            LogicalPlan::Select { exprs, .. } | LogicalPlan::WithColumns { exprs, .. } => {
                all(exprs, f)
            }
            LogicalPlan::Sort { by, .. } => all(by, f),
            LogicalPlan::Gather { indices, .. } => *indices = f(indices.clone()),
            LogicalPlan::Aggregates { aggs, .. } => {
                for (_, e) in aggs {
                    *e = f(e.clone());
                }
            }
            LogicalPlan::Join {
                left_on, right_on, ..
            } => {
                all(left_on, f);
                all(right_on, f);
            }
            LogicalPlan::GroupBy { keys, output, .. } => {
                all(keys, f);
                if let GroupOutput::Aggregate(aggs) = output {
                    all(aggs, f);
                }
            }
            LogicalPlan::InMemory { .. }
            | LogicalPlan::Slice { .. }
            | LogicalPlan::Drop { .. }
            | LogicalPlan::Rename { .. }
            | LogicalPlan::Concat { .. } => {}
        }
        p
    }

    /// The output schema, resolved from file metadata and type rules, without reading data.
    pub fn schema(&self) -> Result<SchemaRef> {
        let inputs = self
            .inputs()
            .into_iter()
            .map(|i| i.schema())
            .collect::<Result<Vec<_>>>()?;
        self.output_schema(&inputs)
    }

    /// This node's output schema given its inputs' schemas (in [`inputs`](Self::inputs)
    /// order): what [`schema`](Self::schema) computes at each node, for callers that already
    /// hold the inputs' schemas (lowering walks the plan once, bottom up).
    pub fn output_schema(&self, inputs: &[SchemaRef]) -> Result<SchemaRef> {
        let input_schema = || {
            inputs
                .first()
                .cloned()
                .ok_or_else(|| Error::Internal(format!("{} has no input schema", self.node_text())))
        };
        match self {
            LogicalPlan::Scan {
                source, projection, ..
            } => {
                let s = source.schema()?;
                project_schema(&s, projection.as_deref())
            }
            LogicalPlan::InMemory { df, projection } => {
                project_schema(df.schema(), projection.as_deref())
            }
            LogicalPlan::Filter { predicate, .. } => {
                let s = input_schema()?;
                let t = predicate.data_type(&s)?;
                if !matches!(t, DataType::Boolean | DataType::Null) {
                    return Err(Error::Type(format!(
                        "filter needs a boolean predicate, got {predicate} ({})",
                        crate::frame::display::dtype_name(&t)
                    )));
                }
                Ok(s)
            }
            LogicalPlan::Select { exprs, .. } => {
                let s = input_schema()?;
                let exprs = expand_selectors(exprs, &s)?;
                unique_schema(expr_fields(&exprs, &s)?)
            }
            LogicalPlan::WithColumns { exprs, .. } => with_columns_schema(&input_schema()?, exprs),
            LogicalPlan::Sort { by, options, .. } => {
                let s = input_schema()?;
                if by.len() != options.len() {
                    return Err(Error::Plan(format!(
                        "sort_by got {} keys but {} sort options",
                        by.len(),
                        options.len()
                    )));
                }
                for e in by {
                    e.data_type(&s)?;
                }
                Ok(s)
            }
            LogicalPlan::Slice { .. } => input_schema(),
            LogicalPlan::Drop { columns, .. } => {
                let s = input_schema()?;
                for c in columns {
                    if s.field_with_name(c).is_err() {
                        return Err(Error::column_not_found(
                            c,
                            s.fields().iter().map(|f| f.name().as_str()),
                        ));
                    }
                }
                let fields: Vec<Field> = s
                    .fields()
                    .iter()
                    .filter(|f| !columns.contains(f.name()))
                    .map(|f| f.as_ref().clone())
                    .collect();
                Ok(Arc::new(Schema::new(fields)))
            }
            LogicalPlan::Rename { existing, new, .. } => {
                let s = input_schema()?;
                let mut fields: Vec<Field> =
                    s.fields().iter().map(|f| f.as_ref().clone()).collect();
                for (old, new) in existing.iter().zip(new) {
                    let i = s.index_of(old).map_err(|_| {
                        Error::column_not_found(old, s.fields().iter().map(|f| f.name().as_str()))
                    })?;
                    fields[i] = fields[i].clone().with_name(new);
                }
                unique_schema(fields)
            }
            LogicalPlan::Gather { indices, .. } => {
                let s = input_schema()?;
                let t = indices.data_type(&s)?;
                if !t.is_integer() {
                    return Err(Error::Type(format!(
                        "gather needs integer indices, got {indices} ({})",
                        crate::frame::display::dtype_name(&t)
                    )));
                }
                Ok(s)
            }
            LogicalPlan::Aggregates { aggs, .. } => {
                let s = input_schema()?;
                let index = NameIndex::new(&s);
                for (_, e) in aggs {
                    if !e.is_scalar() {
                        return Err(Error::Internal(format!(
                            "AGGREGATES holds a non-scalar expression {e}"
                        )));
                    }
                    index.data_type(e)?;
                }
                Ok(s)
            }
            LogicalPlan::Join {
                left_on,
                right_on,
                how,
                ..
            } => {
                let [l, r] = inputs else {
                    return Err(Error::Internal("JOIN needs two input schemas".into()));
                };
                Ok(JoinLayout::new(l, r, left_on, right_on, *how)?.schema)
            }
            LogicalPlan::Concat { .. } => concat_schema(inputs),
            LogicalPlan::GroupBy { keys, output, .. } => {
                group::group_schema(keys, output, &input_schema()?)
            }
        }
    }
}

/// The output field of each expression over `s`. Wide schemas resolve names through one
/// index (see `expr::lookup`): a field at a time by scanning would be quadratic.
fn expr_fields(exprs: &[Expr], s: &Schema) -> Result<Vec<Field>> {
    if exprs.len() <= 16 {
        return exprs.iter().map(|e| e.to_field(s)).collect();
    }
    let index = crate::expr::lookup::NameIndex::new(s);
    exprs.iter().map(|e| index.to_field(e)).collect()
}

/// The schema of `with_columns(exprs)` over rows of `s`: its columns, each replaced by the
/// expression of the same name, then the new ones in order.
pub(crate) fn with_columns_schema(s: &SchemaRef, exprs: &[Expr]) -> Result<SchemaRef> {
    let exprs = expand_selectors(exprs, s)?;
    let mut fields: Vec<Field> = s.fields().iter().map(|f| f.as_ref().clone()).collect();
    let index = NameIndex::new(s);
    let mut seen = std::collections::HashSet::new();
    for e in &exprs {
        let f = index.to_field(e)?;
        if !seen.insert(f.name().clone()) {
            return Err(Error::Schema(format!(
                "with_columns sets \"{}\" twice",
                f.name()
            )));
        }
        // Names are distinct (checked above), so a new one is never set again.
        match index.position(f.name()) {
            Some(i) => fields[i] = f,
            None => fields.push(f),
        }
    }
    Ok(Arc::new(Schema::new(fields)))
}

fn project_schema(s: &SchemaRef, projection: Option<&[String]>) -> Result<SchemaRef> {
    match projection {
        None => Ok(s.clone()),
        Some(cols) => {
            let index = NameIndex::new(s);
            let fields = cols
                .iter()
                .map(|c| match index.position(c) {
                    Some(i) => Ok(s.field(i).clone()),
                    None => Err(Error::column_not_found(
                        c,
                        s.fields().iter().map(|f| f.name().as_str()),
                    )),
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(Arc::new(Schema::new(fields)))
        }
    }
}

fn unique_schema(fields: Vec<Field>) -> Result<SchemaRef> {
    let mut seen = std::collections::HashSet::new();
    for f in &fields {
        if !seen.insert(f.name().as_str()) {
            return Err(Error::Schema(format!(
                "duplicate output column \"{}\"; give one of them an alias",
                f.name()
            )));
        }
    }
    Ok(Arc::new(Schema::new(fields)))
}
