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
