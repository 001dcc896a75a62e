//! Verifier, structural invariants (names, widths, ids, ports, clock/reset, drivers,
//! registers): one test per invariant, each breaking the valid `small()` fixture.

#[macro_use]
mod common;

use common::fixtures::small;
use tachyon_rtl::{verify, Assign, Expr, Module, Reg, RegRole, SignalId, SignalKind, VerifyError};

fn err(m: &Module) -> VerifyError {
    verify(m).expect_err("module should be rejected")
}

fn id(m: &Module, name: &str) -> SignalId {
    m.find(name).expect("fixture signal")
}

#[test]
fn fixture_is_valid() {
    let st = verify(&small()).expect("valid");
    assert_eq!(st.latency, Some(1));
}

#[test]
fn module_name_must_be_legal() {
    let mut m = small();
    m.name = "module".into();
    assert!(matches!(err(&m), VerifyError::IllegalModuleName { .. }));
}

#[test]
fn ids_must_be_in_range() {
    let mut m = small();
    m.assigns[0].expr = Expr::Add(SignalId(99), SignalId(0));
    let e = err(&m);
    assert!(matches!(e, VerifyError::BadId { id: SignalId(99), .. }), "{e}");
    assert!(e.to_string().contains("`sum`"), "{e}");

    let mut m = small();
    m.regs[0].d = SignalId(1000);
    assert!(matches!(err(&m), VerifyError::BadId { .. }));
    let mut m = small();
    m.ports.push(SignalId(77));
    assert!(matches!(err(&m), VerifyError::BadId { .. }));
    let mut m = small();
    m.clk = Some(SignalId(77));
    assert!(matches!(err(&m), VerifyError::BadId { .. }));
}

#[test]
fn widths_must_be_1_to_128() {
    for w in [0, 129] {
        let mut m = small();
        let s = id(&m, "sum");
        m.signals[s.index()].width = w;
        let e = err(&m);
        assert!(matches!(e, VerifyError::BadWidth { width, .. } if width == w), "{e}");
        assert!(e.to_string().contains("`sum`"));
    }
}

#[test]
fn names_must_be_legal_identifiers() {
    for bad in ["wire", "3a", "a-b", ""] {
        let mut m = small();
        let s = id(&m, "sum");
        m.signals[s.index()].name = bad.into();
        assert!(matches!(err(&m), VerifyError::IllegalName { .. }), "{bad:?}");
    }
}

#[test]
fn names_must_be_unique() {
    let mut m = small();
    let s = id(&m, "sum");
    m.signals[s.index()].name = "a".into();
    let e = err(&m);
    assert!(matches!(e, VerifyError::DuplicateName { .. }));
    assert!(e.to_string().contains("(s2)") && e.to_string().contains(&format!("({s})")), "{e}");
}

#[test]
fn port_list_holds_only_ports() {
    let mut m = small();
    m.ports.push(id(&m, "sum"));
    assert!(matches!(err(&m), VerifyError::NotAPort { .. }));
}

#[test]
fn port_list_has_no_duplicates() {
    let mut m = small();
    m.ports.push(id(&m, "a"));
    assert!(matches!(err(&m), VerifyError::DuplicatePort { .. }));
}

#[test]
fn every_port_is_listed() {
    let mut m = small();
    let y = id(&m, "y");
    m.ports.retain(|&p| p != y);
    let e = err(&m);
    assert!(matches!(e, VerifyError::MissingPort { .. }) && e.to_string().contains("`y`"), "{e}");
}

#[test]
fn clock_and_reset_are_one_bit_inputs() {
    let mut m = small();
    m.clk = Some(id(&m, "a"));
    assert!(matches!(err(&m), VerifyError::BadClockOrReset { role: "clock", .. }));
    let mut m = small();
    m.rst = Some(id(&m, "sum"));
    assert!(matches!(err(&m), VerifyError::BadClockOrReset { role: "reset", .. }));
}

#[test]
fn clock_and_reset_are_distinct() {
    let mut m = small();
    m.rst = m.clk;
    assert!(matches!(err(&m), VerifyError::ClockIsReset { .. }));
}

#[test]
fn clock_is_not_data() {
    let mut m = small();
    let clk = m.clk.expect("clk");
    let w = m.wire("clk_copy", 1, false, None, Expr::Ext(clk));
    let _ = w;
    assert!(matches!(err(&m), VerifyError::ClockAsData { .. }));
}

#[test]
fn inputs_are_not_driven() {
    let mut m = small();
    let a = id(&m, "a");
    m.assigns.push(Assign { dst: a, expr: Expr::Const(0) });
    assert!(matches!(err(&m), VerifyError::InputDriven { .. }));
}

#[test]
fn outputs_and_wires_are_driven() {
    let mut m = small();
    m.add_wire("dangling", 3, false, None);
    let e = err(&m);
    assert!(matches!(e, VerifyError::Undriven { .. }) && e.to_string().contains("`dangling`"), "{e}");
    let mut m = small();
    let y = id(&m, "y");
    m.assigns.retain(|a| a.dst != y);
    assert!(matches!(err(&m), VerifyError::Undriven { .. }));
}

#[test]
fn exactly_one_assignment_per_wire() {
    let mut m = small();
    let s = id(&m, "sum");
    m.assign(s, Expr::Const(1));
    assert!(matches!(err(&m), VerifyError::MultiplyDriven { count: 2, .. }));
}

#[test]
fn registers_drive_only_reg_kind_signals() {
    let mut m = small();
    let (s, a) = (id(&m, "sum"), id(&m, "a"));
    m.regs.push(Reg { q: s, d: a, reset: None, role: RegRole::Pipeline });
    assert!(matches!(err(&m), VerifyError::RegDrivesNonReg { .. }));
}

#[test]
fn reg_kind_signals_are_not_assigned() {
    let mut m = small();
    let q = id(&m, "sum_q");
    m.regs.retain(|r| r.q != q);
    m.assign(q, Expr::Const(0));
    assert!(matches!(err(&m), VerifyError::AssignDrivesReg { .. }));
}

#[test]
fn reg_kind_signals_are_driven() {
    let mut m = small();
    m.add_signal("lonely_q", 2, false, SignalKind::Reg, None);
    assert!(matches!(err(&m), VerifyError::Undriven { .. }));
}

#[test]
fn register_q_and_d_match() {
    let mut m = small();
    let q = id(&m, "sum_q");
    m.signals[q.index()].width = 10;
    let y = id(&m, "y");
    m.signals[y.index()].width = 10;
    assert!(matches!(err(&m), VerifyError::RegTypeMismatch { .. }));
    let mut m = small();
    m.signals[q.index()].signed = false;
    let e = err(&m);
    assert!(
        matches!(e, VerifyError::RegTypeMismatch { .. })
            && e.to_string().contains("u9")
            && e.to_string().contains("i9"),
        "{e}"
    );
}

#[test]
fn registers_need_a_clock() {
    let mut m = small();
    m.clk = None;
    let clk = m.ports.remove(0);
    m.signals[clk.index()].kind = SignalKind::Wire;
    m.assign(clk, Expr::Const(0));
    assert!(matches!(err(&m), VerifyError::MissingClock { .. }));
}

#[test]
fn a_clock_needs_registers() {
    let mut m = Module::new("t");
    m.add_clock();
    let a = m.add_input("a", 2, false);
    let y = m.add_output("y", 2, false);
    m.assign(y, Expr::Ext(a));
    assert!(matches!(err(&m), VerifyError::ClockWithoutRegs { .. }));
}

#[test]
fn reset_values_need_rst() {
    let mut m = small();
    m.rst = None;
    assert!(matches!(err(&m), VerifyError::ResetWithoutRst { .. }));
}

#[test]
fn reset_values_fit() {
    let mut m = small();
    m.regs[0].reset = Some(256);
    let e = err(&m);
    assert!(matches!(e, VerifyError::ResetOutOfRange { value: 256, .. }) && e.to_string().contains("`sum_q`"), "{e}");
    let mut m = small();
    m.regs[1].reset = Some(-1); // valid_q is u1
    assert!(matches!(err(&m), VerifyError::ResetOutOfRange { .. }));
}
