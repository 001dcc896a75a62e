//! Verifier, graph invariants: combinational loops, pipeline balance and output latency, and
//! the stages it returns.

use tachyon_rtl::{verify, Assign, Expr, Module, VerifyError};

fn err(m: &Module) -> VerifyError {
    verify(m).expect_err("module should be rejected")
}

#[test]
fn combinational_loops_are_rejected_with_the_cycle_named() {
    let mut m = Module::new("t");
    let a = m.add_input("a", 4, false);
    let x = m.add_wire("x", 4, false, None);
    let y = m.wire("y", 4, false, None, Expr::Add(a, x));
    let z = m.wire("z", 4, false, None, Expr::Not(y));
    m.assign(x, Expr::Ext(z));
    let o = m.add_output("o", 4, false);
    m.assign(o, Expr::Ext(z));
    let e = err(&m);
    let text = e.to_string();
    assert!(matches!(e, VerifyError::CombLoop { .. }), "{e}");
    for n in ["`x`", "`y`", "`z`"] {
        assert!(text.contains(n), "{text}");
    }
    assert!(!text.contains("`o`"), "only the cycle is named: {text}");
}

#[test]
fn self_loop_is_a_combinational_loop() {
    let mut m = Module::new("t");
    let x = m.add_wire("x", 1, false, None);
    m.assigns.push(Assign { dst: x, expr: Expr::Not(x) });
    assert!(matches!(err(&m), VerifyError::CombLoop { .. }));
}

#[test]
fn operands_must_be_at_the_same_stage() {
    let mut m = Module::new("t");
    m.add_clock();
    let a = m.add_input("a", 8, false);
    let q = m.reg("a_q", a, None, None);
    let s = m.wire("s", 9, false, None, Expr::Add(a, q));
    let y = m.add_output("y", 9, false);
    m.assign(y, Expr::Ext(s));
    let e = err(&m);
    assert!(matches!(e, VerifyError::Unbalanced { stage_a: 0, stage_b: 1, .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains("`s`") && text.contains("`a`") && text.contains("`a_q`"), "{text}");
}

#[test]
fn mux_select_is_balanced_too() {
    let mut m = Module::new("t");
    m.add_clock();
    let a = m.add_input("a", 8, false);
    let v = m.add_input("v", 1, false);
    let vq = m.reg("v_q", v, None, None);
    let s = m.wire("s", 8, false, None, Expr::Mux { sel: vq, t: a, f: a });
    let y = m.add_output("y", 8, false);
    m.assign(y, Expr::Ext(s));
    assert!(matches!(err(&m), VerifyError::Unbalanced { .. }));
}

#[test]
fn outputs_share_one_latency() {
    let mut m = Module::new("t");
    m.add_clock();
    let a = m.add_input("a", 8, false);
    let q = m.reg("a_q", a, None, None);
    let y0 = m.add_output("y0", 8, false);
    m.assign(y0, Expr::Ext(a));
    let y1 = m.add_output("y1", 8, false);
    m.assign(y1, Expr::Ext(q));
    let e = err(&m);
    assert!(matches!(e, VerifyError::OutputLatency { stage_a: 0, stage_b: 1, .. }), "{e}");
    assert!(e.to_string().contains("`y0`") && e.to_string().contains("`y1`"));
}

#[test]
fn feedback_from_a_data_input_is_rejected() {
    let mut m = Module::new("t");
    m.add_clock();
    let a = m.add_input("a", 8, false);
    let acc = m.add_wire("acc", 8, false, None);
    let q = m.reg("acc_q", acc, None, None);
    m.assign(acc, Expr::Add(a, q));
    let y = m.add_output("y", 8, false);
    m.assign(y, Expr::Ext(q));
    let e = err(&m);
    assert!(matches!(e, VerifyError::FeedbackLoop { .. }), "{e}");
    assert!(e.to_string().contains("`acc`") && e.to_string().contains("`acc_q`"), "{e}");
}

#[test]
fn constant_only_feedback_has_no_stage_and_is_allowed() {
    // A free-running counter: no data input reaches it.
    let mut m = Module::new("t");
    m.add_clock();
    m.add_reset();
    let one = m.wire("one", 4, false, None, Expr::Const(1));
    let next = m.add_wire("next", 4, false, None);
    let cnt = m.reg("cnt", next, Some(0), None);
    m.assign(next, Expr::Add(cnt, one));
    let y = m.add_output("y", 4, false);
    m.assign(y, Expr::Ext(cnt));
    let st = verify(&m).expect("valid");
    assert_eq!(st.stage(cnt), None);
    assert_eq!(st.latency, None);
}

#[test]
fn stages_count_registers_from_data_inputs() {
    let mut m = Module::new("t");
    let clk = m.add_clock();
    let rst = m.add_reset();
    let a = m.add_input("a", 8, true);
    let v = m.add_input("valid_in", 1, false);
    let k = m.wire("k", 8, true, None, Expr::Const(3));
    let p = m.wire("p", 16, true, None, Expr::Mul(a, k));
    let p1 = m.reg("p1", p, None, None);
    let kq = m.reg("kq", k, None, None); // a constant through a register: still no stage
    let s = m.wire("s", 17, true, None, Expr::Add(p1, kq));
    let s2 = m.reg("s2", s, None, None);
    let v1 = m.reg("v1", v, Some(0), None);
    let v2 = m.reg("v2", v1, Some(0), None);
    let y = m.add_output("y", 17, true);
    m.assign(y, Expr::Ext(s2));
    let vo = m.add_output("valid_out", 1, false);
    m.assign(vo, Expr::Ext(v2));
    let st = verify(&m).expect("valid");
    let stage = |id| st.stage(id);
    assert_eq!((stage(clk), stage(rst), stage(k), stage(kq)), (None, None, None, None));
    assert_eq!((stage(a), stage(p), stage(p1), stage(s), stage(s2)), (Some(0), Some(0), Some(1), Some(1), Some(2)));
    assert_eq!((stage(v1), stage(v2), stage(vo)), (Some(1), Some(2), Some(2)));
    assert_eq!(st.latency, Some(2));
    assert_eq!(st.per_signal.len(), m.signals.len());
}

#[test]
fn reset_used_as_data_has_no_stage() {
    let mut m = Module::new("t");
    let clk = m.add_clock();
    let rst = m.add_reset();
    let _ = clk;
    let a = m.add_input("a", 1, false);
    let q = m.reg("q", a, None, None);
    let g = m.wire("g", 1, false, None, Expr::And(q, rst));
    let y = m.add_output("y", 1, false);
    m.assign(y, Expr::Ext(g));
    assert_eq!(verify(&m).expect("valid").latency, Some(1));
}
