//! Builder: names are sanitized and made unique, ports/regs/clock are recorded correctly.

use tachyon_rtl::{verify, Expr, Module, Reg, RegRole, SignalKind};

#[test]
fn duplicate_names_get_numeric_suffixes() {
    let mut m = Module::new("t");
    let ids: Vec<_> = (0..4).map(|_| m.add_wire("acc", 4, false, None)).collect();
    let names: Vec<_> = ids.iter().map(|&i| m.signal(i).name.as_str()).collect();
    assert_eq!(names, ["acc", "acc_1", "acc_2", "acc_3"]);
}

#[test]
fn suffixes_fill_the_smallest_gap_and_skip_existing_suffixed_names() {
    let mut m = Module::new("t");
    m.add_wire("x", 1, false, None);
    m.add_wire("x_2", 1, false, None);
    let a = m.add_wire("x", 1, false, None);
    let b = m.add_wire("x", 1, false, None);
    assert_eq!(m.signal(a).name, "x_1");
    assert_eq!(m.signal(b).name, "x_3");
}

#[test]
fn names_are_sanitized_into_legal_identifiers() {
    let mut m = Module::new("t");
    let cases = [
        ("conv1/Relu:0", "conv1_Relu_0"),
        ("3x", "_3x"),
        ("", "_"),
        ("reg", "reg_"),
        ("logic", "logic_"),
        ("a b", "a_b"),
    ];
    for (raw, want) in cases {
        let id = m.add_wire(raw, 1, false, None);
        assert_eq!(m.signal(id).name, want, "from {raw:?}");
        assert!(tachyon_rtl::names::is_legal_identifier(&m.signal(id).name));
    }
    // Sanitizing can create a clash; uniquifying resolves it.
    let id = m.add_wire("a.b", 1, false, None);
    assert_eq!(m.signal(id).name, "a_b_1");
}

#[test]
fn ports_wires_and_registers() {
    let mut m = Module::new("t");
    let clk = m.add_clock();
    assert_eq!(m.add_clock(), clk, "add_clock is idempotent");
    let rst = m.add_reset();
    assert_eq!(m.add_reset(), rst);
    let a = m.add_input("a", 8, true);
    let w = m.wire("w", 9, true, Some("node/add"), Expr::Add(a, a));
    let q = m.reg("w_q", w, Some(-3), Some("node/add"));
    let y = m.add_output("y", 9, true);
    m.assign(y, Expr::Ext(q));

    assert_eq!(m.ports, vec![clk, rst, a, y]);
    assert_eq!((m.clk, m.rst), (Some(clk), Some(rst)));
    assert_eq!(m.signal(clk).name, "clk");
    assert_eq!((m.signal(clk).width, m.signal(clk).kind), (1, SignalKind::Input));
    let qs = m.signal(q);
    assert_eq!((qs.width, qs.signed, qs.kind, qs.origin.as_deref()), (9, true, SignalKind::Reg, Some("node/add")));
    assert_eq!(m.regs, vec![Reg { q, d: w, reset: Some(-3), role: RegRole::Pipeline }]);
    assert_eq!(m.assigns.len(), 2);
    assert_eq!(m.find("w_q"), Some(q));
    assert_eq!(m.find("nope"), None);
    assert_eq!(verify(&m).expect("valid").latency, Some(1));
}

#[test]
fn clock_name_clash_is_resolved() {
    let mut m = Module::new("t");
    m.add_input("clk", 4, false);
    let clk = m.add_clock();
    assert_eq!(m.signal(clk).name, "clk_1");
    assert_eq!(m.clk, Some(clk));
}

/// State registers close feedback loops (an accumulator) without breaking pipeline balance:
/// their output takes the stage they declare, and the loop is not a pipeline cycle.
#[test]
fn state_registers_close_loops_and_declare_their_stage() {
    let mut m = Module::new("acc");
    m.add_clock();
    let x = m.add_input("x", 8, false);
    let one = m.wire("one", 1, false, None, Expr::Const(1));
    let acc = m.state_reg("acc", 12, false, None, Some(3), None);
    let sum = m.wire("sum", 12, false, None, Expr::Add(acc, one));
    m.set_state_input(acc, sum);
    let q = m.reg("q", acc, None, None);
    let x3 = m.reg("x1", x, None, None);
    let x3 = m.reg("x2", x3, None, None);
    let x3 = m.reg("x3", x3, None, None);
    let both = m.wire("both", 13, false, None, Expr::Add(acc, x3));
    let y = m.add_output("y", 12, false);
    m.assign(y, Expr::Ext(q));
    let z = m.add_output("z", 13, false);
    let bq = m.reg("bq", both, None, None);
    m.assign(z, Expr::Ext(bq));
    let st = verify(&m).expect("a state loop verifies");
    assert_eq!(st.stage(acc), Some(3));
    assert_eq!(st.stage(both), Some(3));
    assert_eq!(st.latency, Some(4));
    assert!(m.regs.iter().any(|r| r.q == acc && r.role == RegRole::State { stage: Some(3) }));
    // Read against data of another stage, its declared stage is checked like any other.
    let mut off = m.clone();
    let w = off.wire("off_by_one", 13, false, None, Expr::Add(acc, x));
    let o = off.add_output("o", 13, false);
    off.assign(o, Expr::Ext(w));
    assert!(matches!(verify(&off), Err(tachyon_rtl::VerifyError::Unbalanced { .. })));
    // The same loop through a pipeline register is refused.
    let mut bad = Module::new("loop");
    bad.add_clock();
    let x = bad.add_input("x", 8, false);
    let w = bad.add_wire("w", 8, false, None);
    let r = bad.reg("r", w, None, None);
    bad.assign(w, Expr::Add(r, x));
    assert!(verify(&bad).is_err());
}
