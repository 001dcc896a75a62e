//! Random netlists from a list of op recipes (so proptest can shrink by dropping recipes).
//!
//! Each [`Op`] picks its operands from a pool of live signals by index (modulo the pool size)
//! and adds one wire computing one [`Expr`] kind with a random width and signedness, adding
//! helper wires where the kind needs them (a 1-bit mux select, a narrow table index,
//! width-matched bitwise operands). Between pipeline stages every pool signal is registered,
//! so the result is always balanced; the last few pool signals become outputs.

use proptest::prelude::*;
use tachyon_rtl::bits::to_i128;
use tachyon_rtl::{CmpOp, Expr, Module, SignalId};

/// Widths the generator picks from.
pub const WIDTHS: [u32; 17] = [1, 2, 3, 7, 8, 13, 16, 31, 32, 33, 48, 63, 64, 65, 100, 127, 128];

/// One generated operation.
#[derive(Clone, Debug)]
pub struct Op {
    pub kind: u8,
    pub a: u16,
    pub b: u16,
    pub c: u16,
    pub width: u8,
    pub signed: bool,
    pub k: u8,
    pub value: u128,
}

/// A generated design.
#[derive(Clone, Debug)]
pub struct Spec {
    pub inputs: Vec<(u8, bool)>,
    pub ops: Vec<Op>,
    pub stages: u8,
    pub reset: bool,
}

pub fn op_strategy() -> impl Strategy<Value = Op> {
    (any::<u8>(), any::<u16>(), any::<u16>(), any::<u16>(), any::<u8>(), any::<bool>(), any::<u8>(), any::<u128>())
        .prop_map(|(kind, a, b, c, width, signed, k, value)| Op { kind, a, b, c, width, signed, k, value })
}

pub fn spec_strategy(max_ops: usize) -> impl Strategy<Value = Spec> {
    (
        prop::collection::vec((any::<u8>(), any::<bool>()), 1..4),
        prop::collection::vec(op_strategy(), 1..max_ops),
        0u8..3,
        any::<bool>(),
    )
        .prop_map(|(inputs, ops, stages, reset)| Spec { inputs, ops, stages, reset })
}

/// A value that fits `width` bits with the given signedness, derived from `seed`.
pub fn fitting(seed: u128, width: u32, signed: bool) -> i128 {
    let v = to_i128(seed, width, signed);
    if !signed && width == 128 {
        v & i128::MAX
    } else {
        v
    }
}

/// Builds the module described by `spec` (always passes `verify`).
pub fn build(name: &str, spec: &Spec) -> Module {
    let mut m = Module::new(name);
    m.doc.push(format!("generated: {} ops, {} stages", spec.ops.len(), spec.stages));
    if spec.stages > 0 {
        m.add_clock();
        if spec.reset {
            m.add_reset();
        }
    }
    let mut pool: Vec<SignalId> = Vec::new();
    for (i, &(w, s)) in spec.inputs.iter().enumerate() {
        pool.push(m.add_input(&format!("in{i}"), WIDTHS[w as usize % WIDTHS.len()], s));
    }
    let per_stage = spec.ops.len() / (spec.stages as usize + 1) + 1;
    for (i, op) in spec.ops.iter().enumerate() {
        if i > 0 && i % per_stage == 0 && spec.stages > 0 {
            pool = pool
                .iter()
                .enumerate()
                .map(|(j, &s)| {
                    let sig = m.signal(s).clone();
                    let reset = (spec.reset && j % 2 == 1).then(|| fitting(op.value >> 3, sig.width, sig.signed));
                    m.reg(&format!("{}_q", sig.name), s, reset, Some("stage"))
                })
                .collect();
        }
        let id = add_op(&mut m, &pool, op, i);
        pool.push(id);
    }
    while spec.stages > 0 && m.regs.is_empty() {
        // Too few ops to reach a boundary: register the pool once so clk is used.
        pool = pool.iter().map(|&s| m.reg(&format!("{}_q", m.signal(s).name.clone()), s, None, None)).collect();
    }
    let n_out = pool.len().min(5);
    for (i, &s) in pool[pool.len() - n_out..].iter().enumerate() {
        let (w, sg) = (m.signal(s).width, m.signal(s).signed);
        let o = m.add_output(&format!("out{i}"), w, sg);
        m.assign(o, Expr::Ext(s));
    }
    m
}

fn add_op(m: &mut Module, pool: &[SignalId], op: &Op, i: usize) -> SignalId {
    let pick = |x: u16| pool[x as usize % pool.len()];
    let (a, b, c) = (pick(op.a), pick(op.b), pick(op.c));
    let wa = m.signal(a).width;
    let w = WIDTHS[op.width as usize % WIDTHS.len()];
    let s = op.signed;
    let k = u32::from(op.k);
    let origin = format!("op{i}");
    let org = Some(origin.as_str());
    let name = format!("n{i}");
    match op.kind % 17 {
        0 => m.wire(&name, w, s, org, Expr::Const(fitting(op.value, w, s))),
        1 => m.wire(&name, w, s, org, Expr::Ext(a)),
        2 => m.wire(&name, w, s, org, Expr::Add(a, b)),
        3 => m.wire(&name, w, s, org, Expr::Sub(a, b)),
        4 => m.wire(&name, w, s, org, Expr::Neg(a)),
        5 => m.wire(&name, w, s, org, Expr::Mul(a, b)),
        6 => m.wire(&name, w, s, org, Expr::Shl(a, k % (w + 4))),
        7 => m.wire(&name, w, s, org, Expr::Shr(a, k % (wa + 4))),
        8 => {
            let ws = 1 + w % wa;
            let lo = k % (wa - ws + 1);
            m.wire(&name, ws, s, org, Expr::Slice { src: a, lo })
        }
        9 => {
            let mut parts = vec![a, b];
            if k % 2 == 1 {
                parts.push(c);
            }
            let mut total: u32 = parts.iter().map(|&p| m.signal(p).width).sum();
            if total > 128 {
                parts = vec![a];
                total = wa;
            }
            m.wire(&name, total, s, org, Expr::Concat(parts))
        }
        10 => {
            let sel = one_bit(m, c, k, &name);
            m.wire(&name, w, s, org, Expr::Mux { sel, t: a, f: b })
        }
        11 => {
            let ops = [CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge, CmpOp::Eq, CmpOp::Ne];
            m.wire(&name, 1, s, org, Expr::Cmp(ops[k as usize % 6], a, b))
        }
        kind @ 12..=14 => {
            let b2 = if m.signal(b).width == wa { b } else { m.wire(&format!("{name}_b"), wa, s, org, Expr::Ext(b)) };
            let e = match kind {
                12 => Expr::And(a, b2),
                13 => Expr::Or(a, b2),
                _ => Expr::Xor(a, b2),
            };
            m.wire(&name, wa, s, org, e)
        }
        15 => m.wire(&name, wa, s, org, Expr::Not(a)),
        _ => {
            let iw = 1 + k % 4;
            let index = if wa <= 4 {
                a
            } else {
                m.wire(&format!("{name}_ix"), iw, false, org, Expr::Slice { src: a, lo: k % (wa - iw + 1) })
            };
            let n = 1usize << m.signal(index).width;
            let entries = (0..n)
                .map(|j| {
                    fitting(
                        op.value.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835).rotate_left(j as u32 * 7),
                        w,
                        s,
                    )
                })
                .collect();
            m.wire(&name, w, s, org, Expr::Table { index, entries })
        }
    }
}

/// A 1-bit signal from `x`: itself if 1 bit wide, else one of its bits.
fn one_bit(m: &mut Module, x: SignalId, k: u32, name: &str) -> SignalId {
    let w = m.signal(x).width;
    if w == 1 {
        return x;
    }
    m.wire(&format!("{name}_sel"), 1, false, None, Expr::Slice { src: x, lo: k % w })
}
