//! Operator overloads: `+ - * / %` and unary `-` between expressions and with numeric literals
//! on either side, `& | !` for booleans.

use std::ops::{Add, BitAnd, BitOr, Div, Mul, Neg, Not, Rem, Sub};

use super::{BinaryOp, Expr};

fn bin(l: Expr, op: BinaryOp, r: Expr) -> Expr {
    Expr::Binary {
        left: Box::new(l),
        op,
        right: Box::new(r),
    }
}

macro_rules! impl_op {
    ($tr:ident, $m:ident, $op:expr) => {
        impl<T: Into<Expr>> $tr<T> for Expr {
            type Output = Expr;
            fn $m(self, rhs: T) -> Expr {
                bin(self, $op, rhs.into())
            }
        }
        // Only f64 and i32 on the left: with one impl per literal kind, `2.0 * col("x")` and
        // `1 - col("x")` infer their literal types (more impls would make them ambiguous).
        impl_op!(@lhs $tr, $m, $op; f64, i32);
    };
    (@lhs $tr:ident, $m:ident, $op:expr; $($t:ty),*) => {$(
        impl $tr<Expr> for $t {
            type Output = Expr;
            fn $m(self, rhs: Expr) -> Expr {
                bin(Expr::from(self), $op, rhs)
            }
        }
    )*};
}

impl_op!(Add, add, BinaryOp::Add);
impl_op!(Sub, sub, BinaryOp::Sub);
impl_op!(Mul, mul, BinaryOp::Mul);
impl_op!(Div, div, BinaryOp::Div);
impl_op!(Rem, rem, BinaryOp::Rem);

impl<T: Into<Expr>> BitAnd<T> for Expr {
    type Output = Expr;
    fn bitand(self, rhs: T) -> Expr {
        bin(self, BinaryOp::And, rhs.into())
    }
}

impl<T: Into<Expr>> BitOr<T> for Expr {
    type Output = Expr;
    fn bitor(self, rhs: T) -> Expr {
        bin(self, BinaryOp::Or, rhs.into())
    }
}

impl Not for Expr {
    type Output = Expr;
    fn not(self) -> Expr {
        Expr::Not(Box::new(self))
    }
}

impl Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::Negate(Box::new(self))
    }
}

#[cfg(test)]
mod tests {
    use crate::expr::{col, lit};

    #[test]
    fn literals_on_either_side() {
        let e: crate::expr::Expr = 2.0 * col("x") + 1 - col("x").mean() / lit(3);
        assert_eq!(
            e.to_string(),
            "(((2.0 * col(\"x\")) + 1) - (col(\"x\").mean() / 3))"
        );
        let b = !(col("a").gt(1) & col("b").lt(2.5)) | col("c").is_nan();
        assert_eq!(
            b.to_string(),
            "(!(col(\"a\").gt(1) & col(\"b\").lt(2.5)) | col(\"c\").is_nan())"
        );
        assert_eq!((-col("x")).to_string(), "-col(\"x\")");
    }
}
