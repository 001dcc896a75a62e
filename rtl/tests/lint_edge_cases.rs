//! Hand-picked corner cases for the emitter, each linted with `verilator --lint-only -Wall`:
//! no ports, outputs read internally, a 16-bit table, all-1-bit signed arithmetic, extreme
//! shift amounts, an unused reset, constant comparisons Verilator would fold.

#[macro_use]
mod common;

use common::tools::{lint, skip_without};
use tachyon_rtl::{emit_verilog, verify, CmpOp, Expr, Module};

fn assert_clean(m: &Module) {
    verify(m).unwrap_or_else(|e| panic!("{e}"));
    if skip_without("verilator") {
        return;
    }
    let out = lint(m);
    assert!(out.is_empty(), "{out}\n{}", emit_verilog(m));
}

#[test]
fn module_without_ports() {
    let mut m = Module::new("no_ports");
    m.wire("k", 3, false, None, Expr::Const(5));
    assert!(emit_verilog(&m).contains("module no_ports;\n"));
    assert_clean(&m);
}

#[test]
fn outputs_can_be_read_internally() {
    let mut m = Module::new("out_read");
    let a = m.add_input("a", 8, false);
    let y = m.add_output("y", 9, false);
    m.assign(y, Expr::Add(a, a));
    let z = m.add_output("z", 3, true);
    m.assign(z, Expr::Slice { src: y, lo: 2 });
    assert_clean(&m);
}

fn table_module(index_width: u32) -> Module {
    let mut m = Module::new("big_table");
    let ix = m.add_input("ix", index_width, false);
    let y = m.add_output("y", 17, true);
    m.assign(y, Expr::Table { index: ix, entries: (0..1i128 << index_width).map(|i| i - 30000).collect() });
    m
}

#[test]
fn wide_tables() {
    // The largest legal table emits one arm per entry plus a default (linting it takes
    // Verilator ~9 s, so the lint runs on a 12-bit table).
    let v = emit_verilog(&table_module(16));
    assert_eq!(v.matches(": y_lut = ").count(), (1 << 16) + 1);
    assert!(v.contains("16'hffff: y_lut = 17'h8acf;"), "last arm");
    assert_clean(&table_module(12));
}

#[test]
fn one_bit_signed_arithmetic() {
    let mut m = Module::new("one_bit");
    let a = m.add_input("a", 1, true);
    let b = m.add_input("b", 1, true);
    let exprs = [
        Expr::Neg(a),
        Expr::Mul(a, b),
        Expr::Add(a, b),
        Expr::Sub(a, b),
        Expr::Shr(a, 0),
        Expr::Shr(a, 1),
        Expr::Shl(a, 1),
        Expr::Ext(a),
        Expr::Cmp(CmpOp::Lt, a, b),
        Expr::Mux { sel: a, t: a, f: b },
        Expr::Table { index: a, entries: vec![0, -1] },
        Expr::Not(a),
        Expr::Concat(vec![a]),
        Expr::Slice { src: b, lo: 0 },
    ];
    for (i, e) in exprs.into_iter().enumerate() {
        let y = m.add_output(&format!("y{i}"), 1, i % 2 == 0);
        m.assign(y, e);
    }
    let w = m.add_output("wide", 128, true);
    m.assign(w, Expr::Mul(a, b));
    assert_clean(&m);
}

#[test]
fn extreme_shift_amounts() {
    let mut m = Module::new("shifts");
    let a = m.add_input("a", 128, true);
    let b = m.add_input("b", 7, false);
    for (i, e) in
        [Expr::Shl(a, u32::MAX), Expr::Shr(a, u32::MAX), Expr::Shr(b, u32::MAX), Expr::Shl(b, 127), Expr::Shr(a, 127)]
            .into_iter()
            .enumerate()
    {
        let y = m.add_output(&format!("y{i}"), 128, false);
        m.assign(y, e);
    }
    assert_clean(&m);
}

#[test]
fn reset_without_reset_registers() {
    let mut m = Module::new("unused_rst");
    m.add_clock();
    m.add_reset();
    let a = m.add_input("a", 4, false);
    let q = m.reg("q", a, None, None);
    let y = m.add_output("y", 4, false);
    m.assign(y, Expr::Ext(q));
    assert_clean(&m);
}

#[test]
fn comparisons_with_constants_verilator_can_fold() {
    // Unsigned x against 0 and all-ones, also through wires Verilator constant-folds
    // (`x & 0`), would be UNSIGNED/CMPCONST warnings if emitted as unsigned comparisons.
    let mut m = Module::new("const_cmp");
    let x = m.add_input("x", 8, false);
    let s = m.add_input("s", 8, true);
    let zero = m.wire("zero", 8, false, None, Expr::Const(0));
    let ones = m.wire("ones", 8, false, None, Expr::Const(255));
    let masked = m.wire("masked", 8, false, None, Expr::And(x, zero));
    let smin = m.wire("smin", 8, true, None, Expr::Const(-128));
    let mut n = 0;
    for (a, b) in
        [(x, zero), (zero, x), (x, ones), (ones, x), (x, masked), (masked, x), (s, smin), (smin, s), (zero, zero)]
    {
        for op in [CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge, CmpOp::Eq, CmpOp::Ne] {
            let y = m.add_output(&format!("y{n}"), 1, false);
            m.assign(y, Expr::Cmp(op, a, b));
            n += 1;
        }
    }
    assert_clean(&m);
}

#[test]
fn keyword_like_and_clashing_names_from_the_builder() {
    let mut m = Module::new("names");
    let a = m.add_input("input", 4, false);
    let b = m.add_input("conv/1:0", 4, false);
    let l = m.wire("x_lut", 4, false, None, Expr::Const(1));
    let t = m.wire("x", 4, false, None, Expr::Table { index: a, entries: (0..16).collect() });
    let y = m.add_output("output", 4, false);
    m.assign(y, Expr::Xor(t, b));
    let z = m.add_output("x_lut_index", 4, false);
    m.assign(z, Expr::Ext(l));
    let v = emit_verilog(&m);
    assert!(v.contains("function [3:0] x_lut_1;"), "{v}");
    assert!(v.contains("input [3:0] x_lut_index_1;"), "{v}");
    assert_clean(&m);
}
