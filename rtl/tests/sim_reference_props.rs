//! Property: the simulator agrees with a deliberately naive reference — exact `i128`
//! arithmetic on operand values (operands ≤ 62 bits, so nothing overflows) followed by
//! `rem_euclid` wrapping to destinations of 1..=126 bits.

use proptest::prelude::*;
use tachyon_rtl::{CmpOp, Expr, Module, SignalId, Sim};

/// `v` wrapped into a `w`-bit signed/unsigned range (w ≤ 126), the mathematical way.
fn wrap(v: i128, w: u32, signed: bool) -> i128 {
    let r = v.rem_euclid(1i128 << w);
    if signed && r >= 1i128 << (w - 1) {
        r - (1i128 << w)
    } else {
        r
    }
}

fn pow2(k: u32) -> i128 {
    1i128 << k
}

/// Bit pattern of a value as a non-negative number.
fn pattern(v: i128, w: u32) -> i128 {
    v.rem_euclid(pow2(w))
}

#[derive(Clone, Debug)]
struct Case {
    kind: u8,
    a: (u32, bool, i128),
    b: (u32, bool, i128),
    sel: bool,
    k: u32,
    dst: (u32, bool),
}

fn operand() -> impl Strategy<Value = (u32, bool, i128)> {
    (1u32..=62, any::<bool>(), any::<i64>()).prop_map(|(w, s, v)| (w, s, wrap(i128::from(v), w, s)))
}

fn case() -> impl Strategy<Value = Case> {
    (0u8..16, operand(), operand(), any::<bool>(), 0u32..70, 1u32..=126, any::<bool>())
        .prop_map(|(kind, a, b, sel, k, w, s)| Case { kind, a, b, sel, k, dst: (w, s) })
}

/// The naive expected value and the expression, or None when the case does not apply.
fn reference(c: &Case, ids: &[SignalId]) -> Option<(i128, Expr, (u32, bool))> {
    let (wa, _, va) = c.a;
    let (wb, _, vb) = c.b;
    let (w, s) = c.dst;
    let (a, b) = (ids[0], ids[1]);
    let ops = [CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge, CmpOp::Eq, CmpOp::Ne];
    let r = match c.kind {
        0 => (va, Expr::Ext(a), c.dst),
        1 => (va + vb, Expr::Add(a, b), c.dst),
        2 => (va - vb, Expr::Sub(a, b), c.dst),
        3 => (-va, Expr::Neg(a), c.dst),
        4 => (va * vb, Expr::Mul(a, b), c.dst),
        5 => (va * pow2(c.k.min(60)), Expr::Shl(a, c.k.min(60)), c.dst),
        6 => (va.div_euclid(pow2(c.k)), Expr::Shr(a, c.k), c.dst),
        7 => {
            let ws = 1 + w % wa;
            let lo = c.k % (wa - ws + 1);
            (pattern(va, wa) / pow2(lo), Expr::Slice { src: a, lo }, (ws, s))
        }
        8 => (pattern(va, wa) * pow2(wb) + pattern(vb, wb), Expr::Concat(vec![a, b]), (wa + wb, s)),
        9 => (if c.sel { va } else { vb }, Expr::Mux { sel: ids[2], t: a, f: b }, c.dst),
        10 => {
            let op = ops[c.k as usize % 6];
            let r = match op {
                CmpOp::Lt => va < vb,
                CmpOp::Le => va <= vb,
                CmpOp::Gt => va > vb,
                CmpOp::Ge => va >= vb,
                CmpOp::Eq => va == vb,
                CmpOp::Ne => va != vb,
            };
            (i128::from(r), Expr::Cmp(op, a, b), (1, s))
        }
        11..=14 if wa == wb => {
            let (pa, pb) = (pattern(va, wa), pattern(vb, wa));
            let (v, e) = match c.kind {
                11 => (pa & pb, Expr::And(a, b)),
                12 => (pa | pb, Expr::Or(a, b)),
                13 => (pa ^ pb, Expr::Xor(a, b)),
                _ => (pow2(wa) - 1 - pa, Expr::Not(a)),
            };
            (v, e, (wa, s))
        }
        15 if wa <= 6 => {
            let entries: Vec<i128> = (0..pow2(wa)).map(|i| wrap(i * 37 - 50 + vb, w, s)).collect();
            (entries[pattern(va, wa) as usize], Expr::Table { index: a, entries }, c.dst)
        }
        _ => return None,
    };
    Some((wrap(r.0, r.2 .0, r.2 .1), r.1, r.2))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn sim_matches_naive_reference(mut c in case()) {
        if matches!(c.kind, 11..=14) {
            // Bitwise ops need equal widths: give b a's width.
            c.b = (c.a.0, c.b.1, wrap(c.b.2, c.a.0, c.b.1));
        }
        let mut m = Module::new("t");
        let ids = vec![m.add_input("a", c.a.0, c.a.1), m.add_input("b", c.b.0, c.b.1), m.add_input("sel", 1, false)];
        let Some((want, expr, (w, s))) = reference(&c, &ids) else { return Ok(()) };
        let y = m.add_output("y", w, s);
        m.assign(y, expr.clone());
        let mut sim = Sim::new(&m).map_err(|e| TestCaseError::fail(e.to_string()))?;
        sim.set_input(ids[0], c.a.2);
        sim.set_input(ids[1], c.b.2);
        sim.set_input(ids[2], i128::from(c.sel));
        sim.eval();
        prop_assert_eq!(sim.get(y), want, "{:?} -> {:?}", expr, (w, s));
    }
}
