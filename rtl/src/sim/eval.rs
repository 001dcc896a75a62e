//! Evaluation of one [`Expr`] on bit patterns, exactly as the netlist semantics state.
//!
//! Operands are read as 128-bit two's complement numbers (sign- or zero-extended by their own
//! signedness). Add, Sub, Neg, Mul and Shl are computed with wrapping `i128`/`u128` arithmetic,
//! i.e. modulo 2^128, and then wrapped to the destination width. That is exact: reduction
//! modulo 2^128 is a ring homomorphism, so the result modulo 2^128 equals the mathematically
//! exact result modulo 2^128 (even when the full product of two wide operands needs up to 256
//! bits), and truncating it to a destination of ≤ 128 bits only keeps bits that were already
//! exact. Shr, Cmp and Mux need the true value, which is handled explicitly (an unsigned
//! 128-bit operand is kept as `u128`).

use crate::bits::{compare, shl, to_i128, wrap, Num};
use crate::netlist::{CmpOp, Expr};

/// Width, signedness and current bit pattern of every signal.
pub(crate) struct Values<'a> {
    pub widths: &'a [u32],
    pub signed: &'a [bool],
    pub bits: &'a [u128],
}

impl Values<'_> {
    /// Raw bit pattern of signal `i`.
    fn raw(&self, i: usize) -> u128 {
        self.bits[i]
    }

    /// Value of signal `i` modulo 2^128 (sign/zero-extended pattern).
    fn ext(&self, i: usize) -> u128 {
        to_i128(self.bits[i], self.widths[i], self.signed[i]) as u128
    }

    /// Exact value of signal `i`.
    fn num(&self, i: usize) -> Num {
        Num::of(self.bits[i], self.widths[i], self.signed[i])
    }
}

/// Bit pattern of `expr` for a destination of `width` bits.
pub(crate) fn eval_expr(expr: &Expr, width: u32, v: &Values) -> u128 {
    let ix = |id: &crate::SignalId| id.index();
    let bits = match expr {
        Expr::Const(c) => *c as u128,
        Expr::Ext(a) => v.ext(ix(a)),
        Expr::Add(a, b) => v.ext(ix(a)).wrapping_add(v.ext(ix(b))),
        Expr::Sub(a, b) => v.ext(ix(a)).wrapping_sub(v.ext(ix(b))),
        Expr::Add3(t) => t.iter().fold(0u128, |acc, d| {
            let x = shl(v.ext(ix(&d.sig)), d.shift);
            if d.neg {
                acc.wrapping_sub(x)
            } else {
                acc.wrapping_add(x)
            }
        }),
        Expr::Add3Gated { t, gate } => t.iter().enumerate().fold(0u128, |acc, (i, d)| {
            let on = i < 2 || v.raw(ix(gate)) != 0;
            let x = if on { shl(v.ext(ix(&d.sig)), d.shift) } else { 0 };
            if d.neg {
                acc.wrapping_sub(x)
            } else {
                acc.wrapping_add(x)
            }
        }),
        Expr::GatedAdd(t) => t.iter().fold(0u128, |acc, g| {
            let x = if v.raw(ix(&g.gate)) != 0 { shl(v.ext(ix(&g.term.sig)), g.term.shift) } else { 0 };
            if g.term.neg {
                acc.wrapping_sub(x)
            } else {
                acc.wrapping_add(x)
            }
        }),
        Expr::Neg(a) => v.ext(ix(a)).wrapping_neg(),
        Expr::Mul(a, b) => v.ext(ix(a)).wrapping_mul(v.ext(ix(b))),
        Expr::Shl(a, k) => shl(v.ext(ix(a)), *k),
        Expr::Shr(a, k) => match v.num(ix(a)) {
            Num::S(x) => (x >> (*k).min(127)) as u128,
            Num::U(x) => x.checked_shr(*k).unwrap_or(0),
        },
        Expr::Slice { src, lo } => v.raw(ix(src)).checked_shr(*lo).unwrap_or(0),
        Expr::Concat(parts) => parts.iter().fold(0u128, |acc, p| shl(acc, v.widths[ix(p)]) | v.raw(ix(p))),
        Expr::Mux { sel, t, f } => {
            if v.raw(ix(sel)) != 0 {
                v.ext(ix(t))
            } else {
                v.ext(ix(f))
            }
        }
        Expr::Cmp(op, a, b) => {
            let o = compare(v.num(ix(a)), v.num(ix(b)));
            let r = match op {
                CmpOp::Lt => o.is_lt(),
                CmpOp::Le => o.is_le(),
                CmpOp::Gt => o.is_gt(),
                CmpOp::Ge => o.is_ge(),
                CmpOp::Eq => o.is_eq(),
                CmpOp::Ne => o.is_ne(),
            };
            u128::from(r)
        }
        Expr::And(a, b) => v.raw(ix(a)) & v.raw(ix(b)),
        Expr::Or(a, b) => v.raw(ix(a)) | v.raw(ix(b)),
        Expr::Xor(a, b) => v.raw(ix(a)) ^ v.raw(ix(b)),
        Expr::Not(a) => !v.raw(ix(a)),
        Expr::Table { index, entries } => {
            let i = usize::try_from(v.raw(ix(index))).unwrap_or(usize::MAX);
            entries.get(i).copied().unwrap_or(0) as u128
        }
    };
    wrap(bits, width)
}
