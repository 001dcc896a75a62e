//! Property: every random netlist (all Expr kinds, random widths and signedness, 0–2 pipeline
//! stages, with and without reset) verifies, emits deterministically, and passes
//! `verilator --lint-only -Wall` with no output at all.

#[macro_use]
mod common;

use common::gen::{build, spec_strategy};
use common::tools::{lint, skip_without};
use proptest::prelude::*;
use tachyon_rtl::{emit_verilog, verify};

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_netlists_verify_and_emit_deterministically(spec in spec_strategy(24)) {
        let m = build("gen", &spec);
        prop_assert!(verify(&m).is_ok(), "{:?}", verify(&m));
        prop_assert_eq!(emit_verilog(&m), emit_verilog(&m.clone()));
    }
}

#[test]
fn random_netlists_lint_clean() {
    if skip_without("verilator") {
        return;
    }
    let config = ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() };
    proptest!(config, |(spec in spec_strategy(16))| {
        let m = build("lint_gen", &spec);
        prop_assert!(verify(&m).is_ok(), "{:?}", verify(&m));
        let out = lint(&m);
        prop_assert!(out.is_empty(), "verilator output:\n{}\n{}", out, emit_verilog(&m));
    });
}
