//! A join as the executor runs it: which side the hash table is built on, and the keys and
//! output columns of each side. Shared by the streaming probe ([`StreamOp::Probe`] with its
//! pipeline's [`Build`]) and the ordering breaker ([`PhysicalNode::Join`]).
//!
//! [`StreamOp::Probe`]: super::StreamOp::Probe
//! [`Build`]: super::Build
//! [`PhysicalNode::Join`]: super::PhysicalNode::Join

use crate::expr::Expr;
use crate::plan::{expr_list, JoinLayout, JoinType};

/// One input of a join.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Left,
    Right,
}

impl Side {
    pub(crate) fn other(self) -> Side {
        match self {
            Side::Left => Side::Right,
            Side::Right => Side::Left,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }
}

/// A lowered join.
#[derive(Debug)]
pub(crate) struct JoinSpec {
    /// The build's number in the plan: a pipeline's probe finds its hash table under it.
    pub(crate) id: usize,
    pub(crate) how: JoinType,
    pub(crate) left_on: Vec<Expr>,
    pub(crate) right_on: Vec<Expr>,
    pub(crate) layout: JoinLayout,
    /// The side the hash table is built on.
    pub(crate) build: Side,
}

impl JoinSpec {
    /// The side whose rows order the output: right for a right join, left otherwise.
    pub(crate) fn order_side(&self) -> Side {
        if self.how == JoinType::Right {
            Side::Right
        } else {
            Side::Left
        }
    }

    /// The key expressions over one side.
    pub(crate) fn keys(&self, side: Side) -> &[Expr] {
        match side {
            Side::Left => &self.left_on,
            Side::Right => &self.right_on,
        }
    }

    /// `type=inner left_on=[..] right_on=[..] build=right` for plan text.
    pub(crate) fn text(&self) -> String {
        let mut s = format!("type={}", self.how.name());
        if self.how != JoinType::Cross {
            s.push_str(&format!(
                " left_on={} right_on={}",
                expr_list(&self.left_on),
                expr_list(&self.right_on)
            ));
        }
        s.push_str(&format!(" build={}", self.build.name()));
        s
    }
}

#[cfg(test)]
mod tests {
    use crate::prelude::*;

    fn frame(n: i64) -> LazyFrame {
        DataFrame::new(vec![
            Column::new("k", (0..n).collect::<Vec<_>>()),
            Column::new("v", (0..n).map(|i| i as f64).collect::<Vec<_>>()),
        ])
        .unwrap()
        .lazy()
    }

    #[test]
    fn the_smaller_side_is_built_and_the_ordering_side_streams_when_it_can() {
        // Small right side: the left side streams through the probe; the filter on a right
        // column went into the build side.
        let lf = frame(100)
            .join(frame(10), [col("k")], [col("k")], JoinType::Inner)
            .filter(col("v_right").gt(1.0));
        insta::assert_snapshot!(lf.explain_physical().unwrap(), @r#"
            PIPELINE
              PROBE #0 type=inner left_on=[col("k")] right_on=[col("k")] build=right
              DATAFRAME rows=100 width=2
              BUILD #0 keys=[col("k")]
                PIPELINE
                  FILTER col("v").gt(1.0)
                  DATAFRAME rows=10 width=2
            "#);
        // Small left side: the table is on it and a breaker restores the left order.
        let lf = frame(10).join(frame(100), [col("k")], [col("k")], JoinType::Left);
        insta::assert_snapshot!(lf.explain_physical().unwrap(), @r#"
            HASH_JOIN type=left left_on=[col("k")] right_on=[col("k")] build=left
              BUILD keys=[col("k")]
                PIPELINE
                  DATAFRAME rows=10 width=2
              PIPELINE
                DATAFRAME rows=100 width=2
            "#);
        // A right join mirrors it: a small left side is built, the right side streams.
        let lf = frame(10).join(frame(100), [col("k")], [col("k")], JoinType::Right);
        insta::assert_snapshot!(lf.explain_physical().unwrap(), @r#"
            PIPELINE
              PROBE #0 type=right left_on=[col("k")] right_on=[col("k")] build=left
              DATAFRAME rows=100 width=2
              BUILD #0 keys=[col("k")]
                PIPELINE
                  DATAFRAME rows=10 width=2
            "#);
    }

    #[test]
    fn a_chain_of_joins_builds_each_dimension_and_streams_the_fact_table() {
        // TPC-H shaped: a fact table joined with two filtered dimension tables.
        let fact = DataFrame::new(vec![
            Column::new("o", (0..1000i64).map(|i| i % 50).collect::<Vec<_>>()),
            Column::new("p", (0..1000i64).map(|i| i % 20).collect::<Vec<_>>()),
            Column::new("q", (0..1000i64).collect::<Vec<_>>()),
        ])
        .unwrap()
        .lazy();
        let orders = frame(50).rename(["k", "v"], ["o", "odate"]);
        let parts = frame(20).rename(["k", "v"], ["p", "size"]);
        let lf = fact
            .join(orders, [col("o")], [col("o")], JoinType::Inner)
            .join(parts, [col("p")], [col("p")], JoinType::Inner)
            .filter(col("odate").lt(10.0) & col("size").gt(3.0))
            .select([col("q").sum()]);
        insta::assert_snapshot!(lf.explain_physical().unwrap(), @r#"
            AGGREGATE [$agg0 = col("q").sum()] -> [$agg0]
              PIPELINE
                PROBE #1 type=inner left_on=[col("p")] right_on=[col("p")] build=right
                PROBE #0 type=inner left_on=[col("o")] right_on=[col("o")] build=right
                DATAFRAME rows=1000 width=3
                BUILD #0 keys=[col("o")]
                  PIPELINE
                    SELECT [col("k").alias("o"), col("v").alias("odate")]
                    FILTER col("v").lt(10.0)
                    DATAFRAME rows=50 width=2
                BUILD #1 keys=[col("p")]
                  PIPELINE
                    SELECT [col("k").alias("p"), col("v").alias("size")]
                    FILTER col("v").gt(3.0)
                    DATAFRAME rows=20 width=2
            "#);
    }
}
