//! End to end: the coverage design (every Expr kind at widths 1, 7, 33, 64, 65, 100, 128,
//! signed and unsigned, registered with and without reset) is compiled with Verilator
//! (`-Wall`, warnings fatal) and must produce exactly the outputs of `Sim` for random
//! inputs, cycle by cycle, including reset cycles. A second test does the same for random
//! pipelined netlists from the generator (`TACHYON_E2E_SEEDS=n` runs n of them; default 1).

#[macro_use]
mod common;

use common::fixtures::coverage;
use common::gen::{build, spec_strategy};
use common::tools::skip_without;
use common::verilator::{outputs, random_stimulus, run, sim_outputs};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use tachyon_rtl::Module;

#[test]
fn verilator_matches_sim_on_every_expr_kind() {
    if skip_without("verilator") {
        return;
    }
    compare(&coverage("cov_e2e", &[1, 7, 33, 64, 65, 100, 128], 7), 48, 11);
}

#[test]
fn verilator_matches_sim_on_random_pipelines() {
    if skip_without("verilator") {
        return;
    }
    let seeds: usize = std::env::var("TACHYON_E2E_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut runner = TestRunner::deterministic();
    for seed in 0..seeds {
        let mut spec = spec_strategy(40).new_tree(&mut runner).expect("strategy").current();
        spec.stages = 2;
        spec.reset = true;
        let m = build("rand_e2e", &spec);
        compare(&m, 24, seed as u64);
    }
}

/// Runs `m` in Verilator and in `Sim` on the same random stimulus and compares every output.
fn compare(m: &Module, cycles: usize, seed: u64) {
    let stim = random_stimulus(m, cycles, seed);
    let m = m.clone();
    let expected = sim_outputs(&m, &stim);
    let got = run(&m, &stim).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(got.len(), expected.len(), "cycle count");
    let outs = outputs(&m);
    for (c, (g, e)) in got.iter().zip(&expected).enumerate() {
        for (i, (gv, ev)) in g.iter().zip(e).enumerate() {
            let o = m.signal(outs[i]);
            assert_eq!(
                gv,
                ev,
                "cycle {c}, output {} ({}{}): verilator {gv:#x}, sim {ev:#x}\n{}",
                o.name,
                if o.signed { 'i' } else { 'u' },
                o.width,
                tachyon_rtl::dump(&m)
            );
        }
    }
}
