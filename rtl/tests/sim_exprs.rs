//! Simulator semantics per Expr kind against hand-computed values, with signed/unsigned
//! mixing and widths up to 128.

use tachyon_rtl::{CmpOp, Expr, Module, SignalId, Sim};

/// Evaluates one expression: inputs are `(width, signed, value)`, the destination is
/// `(width, signed)`; returns the destination value read with its signedness.
fn eval(inputs: &[(u32, bool, i128)], dst: (u32, bool), mk: impl Fn(&[SignalId]) -> Expr) -> i128 {
    let mut m = Module::new("t");
    let ids: Vec<SignalId> =
        inputs.iter().enumerate().map(|(i, &(w, s, _))| m.add_input(&format!("in{i}"), w, s)).collect();
    let y = m.add_output("y", dst.0, dst.1);
    m.assign(y, mk(&ids));
    let mut sim = Sim::new(&m).unwrap_or_else(|e| panic!("{e}"));
    for (&id, &(_, _, v)) in ids.iter().zip(inputs) {
        sim.set_input(id, v);
    }
    sim.eval();
    sim.get(y)
}

const I: bool = true;
const U: bool = false;
const P127: i128 = i128::MAX; // 2^127 - 1

#[test]
fn constants() {
    assert_eq!(eval(&[], (8, I), |_| Expr::Const(-5)), -5);
    assert_eq!(eval(&[], (128, I), |_| Expr::Const(i128::MIN)), i128::MIN);
    assert_eq!(eval(&[], (128, U), |_| Expr::Const(P127)), P127);
}

#[test]
fn ext_sign_and_zero_extends_by_the_source_and_truncates() {
    assert_eq!(eval(&[(8, I, -1)], (16, U), |i| Expr::Ext(i[0])), 0xffff);
    assert_eq!(eval(&[(8, I, -1)], (16, I), |i| Expr::Ext(i[0])), -1);
    assert_eq!(eval(&[(8, U, 200)], (16, I), |i| Expr::Ext(i[0])), 200);
    assert_eq!(eval(&[(8, U, 200)], (8, I), |i| Expr::Ext(i[0])), -56);
    assert_eq!(eval(&[(8, U, 200)], (3, U), |i| Expr::Ext(i[0])), 0);
    assert_eq!(eval(&[(1, I, -1)], (128, I), |i| Expr::Ext(i[0])), -1);
    // u128 all ones comes back as its bit pattern.
    assert_eq!(eval(&[(1, I, -1)], (128, U), |i| Expr::Ext(i[0])) as u128, u128::MAX);
    assert_eq!(eval(&[(128, U, -1)], (65, I), |i| Expr::Ext(i[0])), -1);
}

#[test]
fn set_input_wraps_to_width() {
    assert_eq!(eval(&[(8, U, -1)], (9, U), |i| Expr::Ext(i[0])), 255);
    assert_eq!(eval(&[(8, I, 255)], (9, I), |i| Expr::Ext(i[0])), -1);
    assert_eq!(eval(&[(4, U, 0x123)], (4, U), |i| Expr::Ext(i[0])), 3);
}

#[test]
fn add_and_sub_are_exact_then_wrapped() {
    assert_eq!(eval(&[(8, I, -128), (8, U, 255)], (10, I), |i| Expr::Add(i[0], i[1])), 127);
    assert_eq!(eval(&[(8, U, 200), (8, U, 100)], (9, U), |i| Expr::Add(i[0], i[1])), 300);
    assert_eq!(eval(&[(8, U, 200), (8, U, 100)], (8, U), |i| Expr::Add(i[0], i[1])), 44);
    assert_eq!(eval(&[(4, U, 0), (4, U, 1)], (5, I), |i| Expr::Sub(i[0], i[1])), -1);
    assert_eq!(eval(&[(4, U, 0), (4, U, 1)], (4, U), |i| Expr::Sub(i[0], i[1])), 15);
    assert_eq!(eval(&[(4, I, -8), (4, U, 15)], (6, I), |i| Expr::Sub(i[0], i[1])), -23);
    // 128 bits: MAX + 1 wraps to MIN; u128 max + 1 wraps to 0.
    assert_eq!(eval(&[(128, I, P127), (1, U, 1)], (128, I), |i| Expr::Add(i[0], i[1])), i128::MIN);
    assert_eq!(eval(&[(128, U, -1), (1, U, 1)], (128, U), |i| Expr::Add(i[0], i[1])), 0);
    // Mixed 128-bit: u128 max - i1(-1) = 2^128 → 0 in 128 bits.
    assert_eq!(eval(&[(128, U, -1), (1, I, -1)], (128, U), |i| Expr::Sub(i[0], i[1])), 0);
    assert_eq!(eval(&[(100, I, -1), (100, U, -1)], (100, I), |i| Expr::Add(i[0], i[1])), -2);
}

#[test]
fn neg() {
    assert_eq!(eval(&[(8, I, -128)], (9, I), |i| Expr::Neg(i[0])), 128);
    assert_eq!(eval(&[(8, I, -128)], (8, I), |i| Expr::Neg(i[0])), -128);
    assert_eq!(eval(&[(8, U, 5)], (9, I), |i| Expr::Neg(i[0])), -5);
    assert_eq!(eval(&[(8, U, 255)], (9, I), |i| Expr::Neg(i[0])), -255);
    assert_eq!(eval(&[(128, I, i128::MIN)], (128, I), |i| Expr::Neg(i[0])), i128::MIN);
}

#[test]
fn mul_is_the_full_product_wrapped() {
    assert_eq!(eval(&[(8, I, -128), (8, I, -128)], (16, I), |i| Expr::Mul(i[0], i[1])), 16384);
    assert_eq!(eval(&[(8, I, -128), (8, I, -128)], (15, I), |i| Expr::Mul(i[0], i[1])), -16384);
    assert_eq!(eval(&[(8, U, 255), (8, I, -1)], (17, I), |i| Expr::Mul(i[0], i[1])), -255);
    assert_eq!(eval(&[(8, U, 255), (8, I, -1)], (16, U), |i| Expr::Mul(i[0], i[1])), 65536 - 255);
    // (2^64 + 1)(2^64 - 1) = 2^128 - 1.
    let (p, q) = ((1i128 << 64) + 1, (1i128 << 64) - 1);
    assert_eq!(eval(&[(65, U, p), (64, U, q)], (128, U), |i| Expr::Mul(i[0], i[1])) as u128, u128::MAX);
    assert_eq!(eval(&[(65, U, p), (64, U, q)], (128, I), |i| Expr::Mul(i[0], i[1])), -1);
    // 2^254 has 128 zero low bits; (-2^127)·(-1) = 2^127 wraps to MIN.
    assert_eq!(eval(&[(128, I, i128::MIN), (128, I, i128::MIN)], (128, I), |i| { Expr::Mul(i[0], i[1]) }), 0);
    assert_eq!(eval(&[(128, I, i128::MIN), (1, I, -1)], (128, I), |i| Expr::Mul(i[0], i[1])), i128::MIN);
    // (2^100 - 1)^2 mod 2^100 = 1, and mod 2^128 = 2^128 - 2^101 + 1.
    let m100 = (1i128 << 100) - 1;
    assert_eq!(eval(&[(100, U, m100), (100, U, m100)], (100, U), |i| Expr::Mul(i[0], i[1])), 1);
    assert_eq!(
        eval(&[(100, U, m100), (100, U, m100)], (128, U), |i| Expr::Mul(i[0], i[1])) as u128,
        0u128.wrapping_sub(1 << 101) + 1
    );
}

#[test]
fn shifts() {
    assert_eq!(eval(&[(4, I, -3)], (8, I), |i| Expr::Shl(i[0], 2)), -12);
    assert_eq!(eval(&[(4, I, -3)], (4, U), |i| Expr::Shl(i[0], 2)), 4);
    assert_eq!(eval(&[(4, I, -3)], (8, I), |i| Expr::Shl(i[0], 200)), 0);
    assert_eq!(eval(&[(1, U, 1)], (128, U), |i| Expr::Shl(i[0], 127)) as u128, 1u128 << 127);
    assert_eq!(eval(&[(8, I, -7)], (8, I), |i| Expr::Shr(i[0], 1)), -4);
    assert_eq!(eval(&[(8, U, 250)], (8, U), |i| Expr::Shr(i[0], 4)), 15);
    assert_eq!(eval(&[(8, I, -6)], (8, U), |i| Expr::Shr(i[0], 4)), 255);
    assert_eq!(eval(&[(8, I, -1)], (16, I), |i| Expr::Shr(i[0], 100)), -1);
    assert_eq!(eval(&[(8, I, 100)], (16, I), |i| Expr::Shr(i[0], 100)), 0);
    assert_eq!(eval(&[(8, U, 255)], (8, U), |i| Expr::Shr(i[0], 8)), 0);
    assert_eq!(eval(&[(128, I, i128::MIN)], (8, I), |i| Expr::Shr(i[0], 127)), -1);
    assert_eq!(eval(&[(128, U, i128::MIN)], (8, I), |i| Expr::Shr(i[0], 127)), 1);
    assert_eq!(eval(&[(128, U, -1)], (128, U), |i| Expr::Shr(i[0], 1)), P127);
}

#[test]
fn slice_and_concat_are_bit_patterns() {
    assert_eq!(eval(&[(8, U, 0b1011_0110)], (4, U), |i| Expr::Slice { src: i[0], lo: 2 }), 0b1101);
    assert_eq!(eval(&[(8, U, 0b1011_0110)], (4, I), |i| Expr::Slice { src: i[0], lo: 2 }), -3);
    assert_eq!(eval(&[(128, I, -2)], (1, U), |i| Expr::Slice { src: i[0], lo: 0 }), 0);
    assert_eq!(eval(&[(128, I, i128::MIN)], (1, U), |i| Expr::Slice { src: i[0], lo: 127 }), 1);
    assert_eq!(
        eval(&[(4, U, 0xA), (4, I, -1), (1, U, 1)], (9, U), |i| { Expr::Concat(vec![i[0], i[1], i[2]]) }),
        0x15F
    );
    assert_eq!(
        eval(&[(4, U, 0xA), (4, I, -1), (1, U, 1)], (9, I), |i| { Expr::Concat(vec![i[0], i[1], i[2]]) }),
        0x15F - 512
    );
    let hi = 0x0123_4567_89ab_cdef_i128;
    let got = eval(&[(64, U, hi), (64, I, -1)], (128, U), |i| Expr::Concat(vec![i[0], i[1]])) as u128;
    assert_eq!(got, ((hi as u128) << 64) | u128::from(u64::MAX));
    assert_eq!(eval(&[(128, I, -5)], (128, I), |i| Expr::Concat(vec![i[0]])), -5);
}

#[test]
fn mux_extends_the_chosen_operand_by_its_own_signedness() {
    let ins = |s| [(1, U, s), (4, I, -2), (4, U, 14)];
    assert_eq!(eval(&ins(1), (8, I), |i| Expr::Mux { sel: i[0], t: i[1], f: i[2] }), -2);
    assert_eq!(eval(&ins(0), (8, I), |i| Expr::Mux { sel: i[0], t: i[1], f: i[2] }), 14);
    assert_eq!(eval(&ins(1), (8, U), |i| Expr::Mux { sel: i[0], t: i[1], f: i[2] }), 254);
    // A signed 1-bit select holding -1 is true.
    assert_eq!(
        eval(&[(1, I, -1), (4, I, -2), (4, U, 14)], (8, I), |i| { Expr::Mux { sel: i[0], t: i[1], f: i[2] } }),
        -2
    );
}

#[test]
fn comparisons_use_numeric_values() {
    let cmp = |op, a: (u32, bool, i128), b: (u32, bool, i128)| eval(&[a, b], (1, U), |i| Expr::Cmp(op, i[0], i[1]));
    assert_eq!(cmp(CmpOp::Lt, (8, I, -1), (8, U, 255)), 1);
    assert_eq!(cmp(CmpOp::Eq, (8, I, -1), (8, U, 255)), 0, "same bits, different numbers");
    assert_eq!(cmp(CmpOp::Ne, (8, I, -1), (8, U, 255)), 1);
    assert_eq!(cmp(CmpOp::Eq, (4, I, 7), (8, U, 7)), 1);
    assert_eq!(cmp(CmpOp::Le, (4, I, 7), (8, U, 7)), 1);
    assert_eq!(cmp(CmpOp::Gt, (4, I, 7), (8, U, 7)), 0);
    assert_eq!(cmp(CmpOp::Ge, (4, I, -8), (4, I, -8)), 1);
    assert_eq!(cmp(CmpOp::Gt, (128, U, -1), (128, I, P127)), 1);
    assert_eq!(cmp(CmpOp::Lt, (128, I, i128::MIN), (1, U, 0)), 1);
    assert_eq!(cmp(CmpOp::Lt, (1, I, -1), (1, U, 0)), 1);
    // Signed 1-bit destination: true reads as -1.
    assert_eq!(eval(&[(2, U, 1), (2, U, 2)], (1, I), |i| Expr::Cmp(CmpOp::Lt, i[0], i[1])), -1);
}

#[test]
fn bitwise_ops_work_on_bit_patterns() {
    assert_eq!(eval(&[(8, I, -1), (8, U, 0x0F)], (8, I), |i| Expr::And(i[0], i[1])), 15);
    assert_eq!(eval(&[(8, I, -128), (8, U, 1)], (8, I), |i| Expr::Or(i[0], i[1])), -127);
    assert_eq!(eval(&[(8, U, 0xF0), (8, U, 0xFF)], (8, U), |i| Expr::Xor(i[0], i[1])), 0x0F);
    assert_eq!(eval(&[(8, U, 0)], (8, U), |i| Expr::Not(i[0])), 255);
    assert_eq!(eval(&[(8, U, 0)], (8, I), |i| Expr::Not(i[0])), -1);
    assert_eq!(eval(&[(128, U, 0)], (128, I), |i| Expr::Not(i[0])), -1);
    assert_eq!(eval(&[(65, I, -1), (65, U, 1 << 64)], (65, U), |i| Expr::Xor(i[0], i[1])), (1 << 64) - 1);
}

#[test]
fn table_index_is_unsigned() {
    let entries = vec![10, -20, 30, -40];
    assert_eq!(eval(&[(2, U, 2)], (8, I), |i| Expr::Table { index: i[0], entries: entries.clone() }), 30);
    assert_eq!(eval(&[(2, I, -1)], (8, I), |i| Expr::Table { index: i[0], entries: entries.clone() }), -40);
    assert_eq!(eval(&[(1, I, -1)], (128, I), |i| Expr::Table { index: i[0], entries: vec![0, i128::MIN] }), i128::MIN);
}
