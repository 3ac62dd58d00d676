//! The spilling join (`join::spill`) forced on small inputs: every join type, key kind and
//! build side gives exactly the nested-loop oracle's rows in order, for one to three threads,
//! whether the join is a streaming probe (the spilled rows become the pipeline's source and
//! the operators after the probe still run) or an ordering breaker.

use std::sync::Arc;

use proptest::prelude::*;

use super::{how, kind, matches_the_oracle, side};
use crate::exec::join::spill::{join_forced, probe_at};
use crate::exec::join::BuiltSide;
use crate::exec::pipeline::Running;
use crate::exec::{open, open_pipeline, Context};
use crate::memory::MemoryPool;
use crate::physical::{lower_with, PhysicalNode, PhysicalPlan, Side};
use crate::prelude::*;

/// Run the plan's join (its root, or its root pipeline's one build) through spill files,
/// however small its sides.
fn spilled(physical: &PhysicalPlan, threads: usize) -> crate::Result<DataFrame> {
    spilled_within(physical, threads, MemoryPool::unbounded())
}

/// [`spilled`] with the run's budget `memory`.
fn spilled_within(
    physical: &PhysicalPlan,
    threads: usize,
    memory: Arc<MemoryPool>,
) -> crate::Result<DataFrame> {
    let pool = crate::exec::pool::thread_pool(Some(threads))?;
    pool.install(|| {
        let mut ctx = Context {
            memory,
            ..Context::default()
        };
        // The result is not the join's: it is reserved elsewhere.
        let memory = MemoryPool::unbounded().reserve("COLLECT");
        match &physical.root {
            PhysicalNode::Join { build, probe, spec } => {
                let source = open_pipeline(probe, &mut ctx)?;
                let joined = join_forced(spec, build, source, &probe.ops, &mut ctx)?;
                Running::new(joined, &[], &ctx).collect(&memory)
            }
            PhysicalNode::Pipeline(p) => {
                let b = &p.builds[0];
                let k = probe_at(&p.ops, &b.spec).expect("a probe");
                let source = open(&p.source, &mut ctx)?;
                let joined = join_forced(&b.spec, &b.input, source, &p.ops[..k], &mut ctx)?;
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

#[test]
fn a_spilled_join_reserves_each_output_part_before_it_is_built() {
    // One wide probe row (250 integer columns, 2 KB) matching 2,000 narrow build rows: an
    // output of 4 MB, one part under a 64 MiB budget, where the partition's table, the probe
    // chunk and the merge's batches hold 1 MB at most.
    let mut cols = vec![Column::new("k", vec![7i64, 8])];
    cols.extend((0..250).map(|i| Column::new(format!("c{i}"), vec![i as i64; 2])));
    let probe = DataFrame::new(cols).unwrap();
    let build = DataFrame::new(vec![
        Column::new("k", vec![7i64; 2_000]),
        Column::new("v", (0..2_000i64).collect::<Vec<_>>()),
    ])
    .unwrap();
    let lf = probe
        .lazy()
        .join(build.lazy(), [col("k")], [col("k")], JoinType::Left);
    let plan = crate::optimizer::optimize(lf.logical_plan()).unwrap();
    let physical = lower_with(&plan, Some(Side::Right)).unwrap();
    let pool = MemoryPool::new(64 << 20);
    let got = spilled_within(&physical, 2, pool.clone()).unwrap();
    assert_eq!(got, lf.collect().unwrap());
    // The output part was reserved before it was built, and given back once written.
    assert!(pool.peak() >= 2_000 * 250 * 8, "peak {}", pool.peak());
    assert_eq!(pool.reserved(), 0);
}
