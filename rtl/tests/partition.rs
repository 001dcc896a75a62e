//! The partitioned form (`emit_partitioned`: distinct part modules under a top, for synthesizing
//! big designs) must simulate exactly like the netlist: in Verilator, cycle by cycle against
//! `Sim`, on the coverage design and random pipelined netlists with signals spread over a few
//! ONNX-node groups, and on a design of identical copies, which must share one module.

#[macro_use]
mod common;

use common::fixtures::coverage;
use common::gen::{build, spec_strategy};
use common::rng::Rng;
use common::tools::skip_without;
use common::verilator::{random_stimulus, run_text, sim_outputs};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use tachyon_rtl::{emit_partitioned, emit_rtl, emit_verilog, CmpOp, Expr, Module};

/// Eight tokens through the same logic (a constant shared by all, a product, a sum, a table, a
/// register), then a sum over the tokens in another group.
fn copies() -> Module {
    copies_of(8, 0)
}

/// `tokens` tokens as in [`copies`], each with a chain of `chain` more signed additions (so that
/// a token's module grows past the size of a hierarchical block).
fn copies_of(tokens: usize, chain: usize) -> Module {
    let mut m = Module::new("copies");
    m.add_clock();
    m.add_reset();
    let c = m.wire("c", 4, false, Some("layer"), Expr::Const(11));
    let mut qs = vec![];
    for t in 0..tokens {
        let x = m.add_input(&format!("x{t}"), 6, true);
        let p = m.wire(&format!("p{t}"), 10, true, Some("layer"), Expr::Mul(x, c));
        let mut s = m.wire(&format!("s{t}"), 11, true, Some("layer"), Expr::Add(p, x));
        for k in 0..chain {
            s = m.wire(&format!("s{t}_{k}"), 11, true, Some("layer"), Expr::Add(s, x));
        }
        let i = m.wire(&format!("i{t}"), 3, false, Some("layer"), Expr::Slice { src: s, lo: 4 });
        let v = m.wire(
            &format!("v{t}"),
            5,
            false,
            Some("layer"),
            Expr::Table { index: i, entries: (0..8).map(|k| k * 3 + 1).collect() },
        );
        let big = m.wire(&format!("g{t}"), 1, false, Some("layer"), Expr::Cmp(CmpOp::Gt, s, c));
        let w = m.wire(&format!("w{t}"), 5, false, Some("layer"), Expr::Mux { sel: big, t: v, f: i });
        qs.push(m.reg(&format!("q{t}"), w, Some(0), Some("layer")));
    }
    let mut acc = qs[0];
    for (t, &q) in qs.iter().enumerate().skip(1) {
        acc = m.wire(&format!("acc{t}"), 12, false, Some("mix"), Expr::Add(acc, q));
    }
    let y = m.add_output("y", 12, false);
    m.assign(y, Expr::Ext(acc));
    let z = m.add_output("z", 5, false);
    m.assign(z, Expr::Ext(qs[3.min(tokens - 1)]));
    tachyon_rtl::verify(&m).expect("fixture verifies");
    m
}

/// A time-multiplexed accumulator: a phase counter (group `ctl`) and an accumulator (group
/// `mac`) that a start flag restarts, both state registers whose inputs close loops through
/// each other's group.
fn state_loops() -> Module {
    let mut m = Module::new("state_loops");
    m.add_clock();
    m.add_reset();
    let x = m.add_input("x", 8, true);
    let start = m.add_input("start", 1, false);
    let cnt = m.state_reg("cnt", 2, false, Some(0), None, Some("ctl"));
    let one = m.wire("one", 2, false, Some("ctl"), Expr::Const(1));
    let inc = m.wire("inc", 3, false, Some("ctl"), Expr::Add(cnt, one));
    let wrap = m.wire("wrap", 2, false, Some("ctl"), Expr::Slice { src: inc, lo: 0 });
    let zero = m.wire("zero", 2, false, Some("ctl"), Expr::Const(0));
    let next = m.wire("next", 2, false, Some("ctl"), Expr::Mux { sel: start, t: zero, f: wrap });
    m.set_state_input(cnt, next);
    let acc = m.state_reg("acc", 12, true, None, None, Some("mac"));
    let xe = m.wire("xe", 12, true, Some("mac"), Expr::Ext(x));
    let odd = m.wire("odd", 1, false, Some("mac"), Expr::Slice { src: cnt, lo: 0 });
    let sum = m.wire("sum", 12, true, Some("mac"), Expr::Add(acc, xe));
    let dif = m.wire("dif", 12, true, Some("mac"), Expr::Sub(acc, xe));
    let step = m.wire("step", 12, true, Some("mac"), Expr::Mux { sel: odd, t: dif, f: sum });
    let acc_next = m.wire("acc_next", 12, true, Some("mac"), Expr::Mux { sel: start, t: xe, f: step });
    m.set_state_input(acc, acc_next);
    let y = m.add_output("y", 12, true);
    m.assign(y, Expr::Ext(acc));
    let c = m.add_output("c", 2, false);
    m.assign(c, Expr::Ext(cnt));
    tachyon_rtl::verify(&m).expect("fixture verifies");
    m
}

fn check(m: &Module, seed: u64) {
    let hier = emit_partitioned(m);
    let stim = random_stimulus(m, 40, seed);
    let got = run_text(m, &hier.verilog, &stim).unwrap_or_else(|e| panic!("{e}\n{}", hier.verilog));
    assert_eq!(got, sim_outputs(m, &stim), "{}\n{}", tachyon_rtl::dump(m), hier.verilog);
}

#[test]
fn identical_copies_share_one_module() {
    let m = copies();
    let hier = emit_partitioned(&m);
    // Eight tokens, the sum, and one part per output port.
    assert_eq!(hier.parts, 8 + 1 + 2, "{}", hier.verilog);
    // The tokens are one module; the sum and the two outputs are three more.
    assert_eq!(hier.modules, 4, "{}", hier.verilog);
    // Each token's module holds its own copy of the shared constant.
    assert!(hier.verilog.contains("11"), "{}", hier.verilog);
    // Deterministic.
    assert_eq!(emit_partitioned(&m).verilog, hier.verilog);
    if skip_without("verilator") {
        return;
    }
    check(&m, 1);
}

/// Tokens of more than a few lines become hierarchical blocks, which Verilator 5.006 builds
/// once (`--hierarchical`) only if their ports are unsigned: the tokens read signed inputs.
#[test]
fn repeated_parts_are_hierarchical_blocks() {
    let m = copies_of(16, 400);
    let hier = emit_partitioned(&m);
    assert_eq!(hier.verilog.matches("/*verilator hier_block*/").count(), 1, "{}", hier.verilog);
    assert!(hier.hier_share() > 0.9, "{}", hier.hier_share());
    for pm in &hier.part_modules {
        assert!(!pm.verilog.contains("input wire signed"), "{}", pm.verilog);
    }
    // Small: the project keeps the flat form.
    assert_eq!(emit_rtl(&m), emit_verilog(&m));
    if skip_without("verilator") {
        return;
    }
    check(&m, 3);
}

/// A design past `HIERARCHY_MIN_STATEMENTS` of mostly repeated parts ships as the hierarchy; one
/// without repeated parts stays flat.
#[test]
fn large_repeated_designs_ship_as_a_hierarchy() {
    let m = copies_of(64, 320);
    assert!(m.assigns.len() + m.regs.len() >= tachyon_rtl::emit::HIERARCHY_MIN_STATEMENTS);
    assert_eq!(emit_rtl(&m), emit_partitioned(&m).verilog);
    let one = copies_of(1, 64 * 320);
    assert!(one.assigns.len() + one.regs.len() >= tachyon_rtl::emit::HIERARCHY_MIN_STATEMENTS);
    assert_eq!(emit_rtl(&one), emit_verilog(&one));
}

#[test]
fn partitioned_form_matches_sim_with_state_loops_across_parts() {
    let m = state_loops();
    let hier = emit_partitioned(&m);
    assert!(hier.parts >= 4, "{}", hier.verilog);
    if skip_without("verilator") {
        return;
    }
    check(&m, 7);
}

#[test]
fn partitioned_form_matches_sim_on_every_expr_kind() {
    if skip_without("verilator") {
        return;
    }
    let mut m = coverage("part_cov", &[1, 7, 33, 65, 128], 3);
    // Spread the signals over three groups and no group.
    let mut rng = Rng::new(4);
    for s in &mut m.signals {
        s.origin = [Some("a"), Some("b"), Some("c"), None][rng.below(4) as usize].map(str::to_string);
    }
    check(&m, 5);
}

#[test]
fn partitioned_form_matches_sim_on_random_netlists() {
    if skip_without("verilator") {
        return;
    }
    let mut runner = TestRunner::deterministic();
    let strategy = spec_strategy(40);
    for seed in 0..3u64 {
        let spec = strategy.new_tree(&mut runner).expect("spec").current();
        let mut m = build(&format!("part_gen{seed}"), &spec);
        let mut rng = Rng::new(seed + 10);
        for s in &mut m.signals {
            s.origin = [Some("a"), Some("b"), None][rng.below(3) as usize].map(str::to_string);
        }
        tachyon_rtl::verify(&m).expect("generated netlists verify");
        check(&m, seed);
    }
}
