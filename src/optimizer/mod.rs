//! The optimizer: an ordered list of rewrite rules, one per file, run to a fixed point.
//!
//! Each rule implements [`OptimizerRule`]. After every rule the driver checks that the plan's
//! output schema is unchanged (a rule that changes it is a bug, reported with the rule's name)
//! and records the plan text for `explain --verbose`.

mod projection_pushdown;

pub use projection_pushdown::ProjectionPushdown;

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::expr::types::expand_selectors;
use crate::plan::LogicalPlan;

/// A plan and whether a rule changed it.
#[derive(Debug)]
pub struct Transformed<T> {
    pub data: T,
    pub changed: bool,
}

impl<T> Transformed<T> {
    /// A changed result.
    pub fn yes(data: T) -> Self {
        Self {
            data,
            changed: true,
        }
    }
    /// An unchanged result.
    pub fn no(data: T) -> Self {
        Self {
            data,
            changed: false,
        }
    }
}

/// One rewrite rule.
pub trait OptimizerRule: Send + Sync {
    /// The rule's name as `explain --verbose` prints it.
    fn name(&self) -> &'static str;
    /// Rewrite the plan (or return it unchanged).
    fn rewrite(&self, plan: Arc<LogicalPlan>) -> Result<Transformed<Arc<LogicalPlan>>>;
}

/// The rules in the order they run. Projection pushdown runs last so that it sees the final
/// shape of every expression (rules that add or remove expressions change what is read).
fn rules() -> Vec<Box<dyn OptimizerRule>> {
    vec![Box::new(ProjectionPushdown)]
}

/// Passes over the rule list before giving up on a fixed point.
const MAX_PASSES: usize = 8;

/// Expand selectors (`cols`, `all_numeric`) everywhere and type-check the plan; what every plan
/// goes through before running, optimized or not.
pub fn resolve(plan: &Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    let inputs: Vec<Arc<LogicalPlan>> = plan
        .inputs()
        .into_iter()
        .map(resolve)
        .collect::<Result<_>>()?;
    let mut node = match inputs.into_iter().next() {
        Some(i) => plan.with_input(i),
        None => plan.as_ref().clone(),
    };
    match &mut node {
        LogicalPlan::Select { input, exprs } | LogicalPlan::WithColumns { input, exprs } => {
            *exprs = expand_selectors(exprs, input.schema()?.as_ref())?;
        }
        _ => {}
    }
    node.schema()?;
    Ok(Arc::new(node))
}

/// Optimize a plan.
pub fn optimize(plan: &Arc<LogicalPlan>) -> Result<Arc<LogicalPlan>> {
    Ok(optimize_traced(plan)?.0)
}

/// One recorded optimizer step: the rule's label and the plan text after it (`None`: unchanged).
pub type Step = (String, Option<String>);

/// Optimize a plan, recording each rule application.
pub fn optimize_traced(plan: &Arc<LogicalPlan>) -> Result<(Arc<LogicalPlan>, Vec<Step>)> {
    let mut plan = resolve(plan)?;
    let schema = plan.schema()?;
    let mut steps = vec![];
    for pass in 0..MAX_PASSES {
        let mut changed_any = false;
        for rule in rules() {
            let t = rule.rewrite(plan.clone())?;
            let after = t.data.schema().map_err(|e| {
                Error::Internal(format!(
                    "rule {} produced an invalid plan: {e}",
                    rule.name()
                ))
            })?;
            if after != schema {
                return Err(Error::Internal(format!(
                    "rule {} changed the output schema",
                    rule.name()
                )));
            }
            let label = format!("pass {} / {}", pass + 1, rule.name());
            if t.changed {
                steps.push((label, Some(t.data.display_indent())));
                changed_any = true;
            } else {
                steps.push((label, None));
            }
            plan = t.data;
        }
        if !changed_any {
            break;
        }
    }
    Ok((plan, steps))
}
