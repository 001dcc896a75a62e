//! Emitted Verilog synthesizes: yosys 0.23 `read_verilog` + `synth_xilinx -family xcup
//! -flatten` succeeds on the coverage design (small widths, to keep synthesis fast) and on the
//! small pipeline fixture.

#[macro_use]
mod common;

use common::fixtures::{coverage, small};
use common::tools::{skip_without, yosys_synth};

#[test]
fn yosys_synthesizes_the_coverage_design() {
    if skip_without("yosys") {
        return;
    }
    let m = coverage("cov_yosys", &[1, 3, 8], 3);
    tachyon_rtl::verify(&m).expect("fixture verifies");
    yosys_synth(&m).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn yosys_synthesizes_the_small_pipeline() {
    if skip_without("yosys") {
        return;
    }
    yosys_synth(&small()).unwrap_or_else(|e| panic!("{e}"));
}
