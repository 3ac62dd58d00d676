//! The spilling join (`join::spill`) forced on small inputs: every join type, key kind and
//! build side gives exactly the nested-loop oracle's rows in order, for one to three threads,
//! whether the join is a streaming probe (the spilled rows become the pipeline's source and
//! the operators after the probe still run) or an ordering breaker.

use std::sync::Arc;

use proptest::prelude::*;

use super::{how, kind, matches_the_oracle, side};
use crate::exec::join::spill::{join, probe_at};
use crate::exec::join::BuiltSide;
use crate::exec::pipeline::Running;
use crate::exec::{open, open_pipeline, Context};
use crate::physical::{lower_with, PhysicalNode, PhysicalPlan, Side};
use crate::prelude::*;

/// Run the plan's join (its root, or its root pipeline's one build) through spill files,
/// however small its sides.
fn spilled(physical: &PhysicalPlan, threads: usize) -> crate::Result<DataFrame> {
    let pool = crate::exec::pool::thread_pool(Some(threads))?;
    pool.install(|| {
        let mut ctx = Context::default();
        let memory = ctx.reserve("COLLECT");
        match &physical.root {
            PhysicalNode::Join { build, probe, spec } => {
                let source = open_pipeline(probe, &mut ctx)?;
                let joined = join(spec, build, source, &probe.ops, &mut ctx)?;
                Running::new(joined, &[], &ctx).collect(&memory)
            }
            PhysicalNode::Pipeline(p) => {
                let b = &p.builds[0];
                let k = probe_at(&p.ops, &b.spec).expect("a probe");
                let source = open(&p.source, &mut ctx)?;
                let joined = join(&b.spec, &b.input, source, &p.ops[..k], &mut ctx)?;
                let mark = BuiltSide::spilled(ctx.reserve("HASH_JOIN"));
                ctx.builds.push((b.spec.id, Arc::new(mark)));
                Running::new(joined, &p.ops, &ctx).collect(&memory)
            }
            other => panic!("not a join: {other:?}"),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn spilled_joins_match_a_nested_loop(
        l in side(40),
        r in side(40),
        how in how().prop_filter("keyed", |h| *h != JoinType::Cross),
        kind in kind(),
        same_names in any::<bool>(),
        build in prop::sample::select(vec![None, Some(Side::Left), Some(Side::Right)]),
        threads in 1usize..=3,
        group in 1usize..=7,
    ) {
        let run = |p: &PhysicalPlan| spilled(p, threads);
        matches_the_oracle(&l, &r, how, kind, same_names, (build, group), run)?;
    }
}

#[test]
fn operators_after_a_spilled_probe_still_run() {
    let l = df!("k" => [1i64, 2, 3, 2], "v" => [10i64, 20, 30, 40]).unwrap();
    let r = df!("k" => [2i64, 3, 9], "w" => ["b", "c", "z"]).unwrap();
    let lf = l
        .lazy()
        .filter(col("v").gt(10))
        .join(r.lazy(), [col("k")], [col("k")], JoinType::Left)
        .with_columns([(col("v") * 2).alias("v2")])
        .filter(col("v2").lt(80));
    let plan = crate::optimizer::optimize(lf.logical_plan()).unwrap();
    let physical = lower_with(&plan, Some(Side::Right)).unwrap();
    assert!(
        matches!(physical.root, PhysicalNode::Pipeline(_)),
        "{}",
        physical.display_indent()
    );
    let got = spilled(&physical, 2).unwrap();
    assert_eq!(got, lf.collect().unwrap());
    assert_eq!(got.height(), 2);
}
