//! The AXI-Stream wrapper: lint- and yosys-clean, and co-simulated under random backpressure on
//! both sides — every output arrives exactly once, in order, bit-exact against the reference
//! interpreter, with its input's tlast; at full rate it accepts one vector every II cycles.

use crate::common::*;
use std::path::Path;
use std::process::Command;
use tachyon_driver::axis::{cosim, wrapper_path};
use tachyon_testbenches::AxisRun;

/// `verilator --lint-only -Wall` of core + wrapper prints nothing; yosys synthesizes the wrapper
/// as the top (`synth_xilinx`) and `synth_ice40`.
fn lint_and_synth(p: &Path, config: &str) {
    let core = p.join("rtl/tachyon_top.v");
    let wrapper = p.join(wrapper_path("tachyon_top"));
    if have("verilator") {
        let out = Command::new("verilator").args(["--lint-only", "-Wall"]).arg(&core).arg(&wrapper).output().unwrap();
        let text = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success() && text.trim().is_empty(), "verilator -Wall:\n{text}");
    }
    if !have("yosys") {
        return;
    }
    // UltraScale+: the core instantiates LUT6_2/CARRY8, which synth_xilinx knows.
    let yosys = |core: &Path, synth: &str| {
        let script =
            format!("read_verilog {} {}; {synth} -top tachyon_top_axis; stat", core.display(), wrapper.display());
        let out = Command::new("yosys").arg("-q").arg("-p").arg(&script).output().unwrap();
        assert!(out.status.success(), "yosys {synth}:\n{}", String::from_utf8_lossy(&out.stderr));
    };
    yosys(&core, "synth_xilinx -family xcup -flatten");
    // iCE40: the same model and config with portable Verilog (the default for that family).
    let portable = scratch("axis_portable");
    let cfg = portable.with_extension("json");
    let mut json: serde_json::Value = serde_json::from_str(config).unwrap();
    json["default"]["primitives"] = "portable".into();
    std::fs::write(&cfg, json.to_string()).unwrap();
    let mut o = build_options(repo().join("examples/tiny_mlp/tiny_mlp.onnx"), &portable);
    o.config = Some(cfg);
    tachyon_driver::project::build(&o).unwrap();
    yosys(&portable.join("rtl/tachyon_top.v"), "synth_ice40");
}

/// Runs the AXI-Stream co-simulation with each (p_valid, p_ready) and checks exactly-once,
/// in-order, bit-exact delivery, tlast and the AXI-Stream rules; returns the full-rate accept gap.
fn check_under_backpressure(p: &Path, n: usize, ii: u64) {
    let (_, built) = tachyon_driver::project::load(p).unwrap();
    let vectors = tachyon_driver::sim::random_vectors(&built.qmodel, n, 7);
    let runs = [(1.0, 1.0), (1.0, 0.25), (0.3, 1.0), (0.5, 0.5), (0.9, 0.7), (1.0, 0.05)];
    for (k, &(p_valid, p_ready)) in runs.iter().enumerate() {
        let run = AxisRun { p_valid, p_ready, seed: 11 + k as u64, tlast_every: 5 };
        let s = cosim(p, &vectors, &run).unwrap();
        let what = format!("p_valid {p_valid}, p_ready {p_ready}");
        assert_eq!(s.received, n, "{what}: outputs lost or duplicated");
        assert_eq!(s.mismatches, 0, "{what}: {:?}", s.first_mismatches);
        assert_eq!(s.tlast_errors, 0, "{what}: tlast not carried");
        assert!(s.protocol_errors.is_empty(), "{what}: {:?}", s.protocol_errors);
        assert!(s.min_accept_gap >= ii, "{what}: inputs accepted {} cycles apart, II is {ii}", s.min_accept_gap);
        if p_valid == 1.0 && p_ready == 1.0 {
            assert_eq!((s.min_accept_gap, s.max_accept_gap), (ii, ii), "full rate is one vector every II cycles");
        }
    }
}

#[test]
fn axis_wrapper_ii1_delivers_every_output_once_under_backpressure() {
    let p = scratch("axis_ii1");
    tachyon_driver::project::build(&build_options(repo().join("examples/tiny_mlp/tiny_mlp.onnx"), &p)).unwrap();
    lint_and_synth(&p, r#"{"default": {}}"#);
    if !have("verilator") {
        return;
    }
    check_under_backpressure(&p, 400, 1);
}

/// A reuse-3 design takes a vector every 3 cycles; the wrapper must never offer tready sooner.
#[test]
fn axis_wrapper_respects_ii() {
    let p = scratch("axis_ii3");
    let cfg = scratch("axis_ii3_cfg").with_extension("json");
    std::fs::write(&cfg, r#"{"default": {"reuse": 3}}"#).unwrap();
    let mut o = build_options(repo().join("examples/tiny_mlp/tiny_mlp.onnx"), &p);
    o.config = Some(cfg);
    let b = tachyon_driver::project::build(&o).unwrap();
    assert_eq!(b.manifest.ii_cycles, 3);
    lint_and_synth(&p, r#"{"default": {"reuse": 3}}"#);
    if !have("verilator") {
        return;
    }
    check_under_backpressure(&p, 200, 3);
}
