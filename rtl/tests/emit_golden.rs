//! Golden snapshots of the Verilog and the text dump of a small showcase module, plus
//! targeted checks of the emitter's layout rules (UNUSED bracketing, origin comments,
//! determinism). Re-bless on purpose with `BLESS=1 cargo test -p tachyon-rtl --test
//! emit_golden`; never edit the golden files by hand.

#[macro_use]
mod common;

use common::tools::{lint, skip_without};
use tachyon_rtl::{dump, emit_verilog, verify, CmpOp, Expr, Module};

/// A 2-stage pipeline: requantize a MAC through a LUT, with a valid chain.
fn showcase() -> Module {
    let mut m = Module::new("showcase");
    m.doc = vec!["Showcase module for the emitter golden test.".into(), "Second line.".into()];
    m.add_clock();
    m.add_reset();
    let x = m.add_input("x", 8, true);
    let w = m.add_input("w", 4, false);
    let v = m.add_input("valid_in", 1, false);
    let p = m.wire("p", 12, true, Some("dense/MatMul"), Expr::Mul(x, w));
    let bias = m.wire("bias", 12, true, Some("dense/BiasAdd"), Expr::Const(-100));
    let acc = m.wire("acc", 13, true, Some("dense/BiasAdd"), Expr::Add(p, bias));
    let acc_q = m.reg("acc_q", acc, None, Some("dense/BiasAdd"));
    let v1 = m.reg("valid_d1", v, Some(0), None);
    let neg = m.wire("is_neg", 1, false, Some("relu"), Expr::Cmp(CmpOp::Lt, acc_q, bias));
    let top = m.wire("acc_hi", 3, false, Some("verilator lint_off WIDTH"), Expr::Slice { src: acc_q, lo: 10 });
    let lut = m.wire(
        "act",
        6,
        true,
        Some("act/Sigmoid\nline2"),
        Expr::Table { index: top, entries: vec![-32, -20, -8, 0, 8, 20, 31, 31] },
    );
    let zero = m.wire("zero", 6, true, None, Expr::Const(0));
    let relu = m.wire("relu", 6, true, Some("relu"), Expr::Mux { sel: neg, t: zero, f: lut });
    let r_q = m.reg("relu_q", relu, Some(0), Some("relu"));
    let v2 = m.reg("valid_d2", v1, Some(0), None);
    let y = m.add_output("y", 6, true);
    m.assign(y, Expr::Ext(r_q));
    let vo = m.add_output("valid_out", 1, false);
    m.assign(vo, Expr::Ext(v2));
    m
}

fn check_golden(file: &str, actual: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(file);
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, actual).expect("bless golden");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with BLESS=1 to create)", path.display()));
    assert_eq!(actual, expected, "golden {file} differs; re-bless with BLESS=1 only if the change is intended");
}

#[test]
fn showcase_is_valid_with_latency_2() {
    assert_eq!(verify(&showcase()).expect("valid").latency, Some(2));
}

#[test]
fn showcase_verilog_golden() {
    check_golden("showcase.v", &emit_verilog(&showcase()));
}

#[test]
fn showcase_dump_golden() {
    check_golden("showcase.dump", &dump(&showcase()));
}

#[test]
fn showcase_lints_clean() {
    if skip_without("verilator") {
        return;
    }
    assert_eq!(lint(&showcase()), "");
}

#[test]
fn emission_is_deterministic() {
    let a = emit_verilog(&showcase());
    let b = emit_verilog(&showcase().clone());
    assert_eq!(a, b);
    assert!(a.ends_with("endmodule\n"));
}

/// Whether the declaration of `name` in `v` sits between `lint_off UNUSED` and `lint_on`.
fn bracketed(v: &str, name: &str) -> bool {
    let lines: Vec<&str> = v.lines().collect();
    let Some(i) = lines.iter().position(|l| {
        let l = l.split("//").next().unwrap_or("").trim_end();
        l.ends_with(&format!(" {name};")) || l.ends_with(&format!(" {name},")) || l.ends_with(&format!(" {name}"))
    }) else {
        panic!("{name} not declared in:\n{v}")
    };
    i > 0 && lines[i - 1].contains("lint_off UNUSED") && lines.get(i + 1).is_some_and(|l| l.contains("lint_on UNUSED"))
}

#[test]
fn fully_read_declarations_are_not_bracketed() {
    let v = emit_verilog(&showcase());
    for name in ["acc_q", "acc", "x", "w", "zero", "rst", "clk", "act", "y"] {
        assert!(!bracketed(&v, name), "{name}:\n{v}");
    }
    assert!(!v.contains("UNUSEDSIGNAL"));
}

#[test]
fn dropped_bits_and_unread_signals_are_bracketed() {
    let mut m = Module::new("drops");
    let a = m.add_input("a", 8, false);
    let b = m.add_input("b", 8, false); // never read
    let hi = m.wire("hi", 4, false, None, Expr::Slice { src: a, lo: 4 });
    let spare = m.wire("spare", 2, false, None, Expr::Ext(hi)); // never read
    let y = m.add_output("y", 4, false);
    m.assign(y, Expr::Ext(hi));
    let _ = (b, spare);
    let v = emit_verilog(&m);
    for name in ["a", "b", "spare"] {
        assert!(bracketed(&v, name), "{name}:\n{v}");
    }
    assert!(!bracketed(&v, "hi") && !bracketed(&v, "y"), "{v}");
    if !skip_without("verilator") {
        assert_eq!(lint(&m), "");
    }
}

#[test]
fn origins_become_single_line_non_pragma_comments() {
    let v = emit_verilog(&showcase());
    assert!(v.contains("wire signed [11:0] p;  // dense/MatMul\n"), "{v}");
    assert!(v.contains("// act/Sigmoid line2\n"), "{v}");
    assert!(v.contains("// origin: verilator lint_off WIDTH\n"), "{v}");
    assert!(v.starts_with("// Showcase module for the emitter golden test.\n// Second line.\nmodule showcase (\n"));
}
