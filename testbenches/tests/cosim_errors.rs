//! The harness's error detection: a misbehaving design (`erratic.v`: latency
//! that depends on the data, dropped and duplicated outputs), Verilog that
//! Verilator rejects, and interfaces or vectors that cannot be right. Also
//! checks that every fixture is lint-clean under `verilator -Wall`.

#[macro_use]
mod common;

use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};

use common::{fixture, skip_without_verilator, work_dir, Rng};
use tachyon_testbenches::{build_harness, CosimError, CosimOptions, Harness, PortElem, TopInterface};

fn erratic_iface() -> TopInterface {
    TopInterface {
        top: "erratic".into(),
        inputs: vec![PortElem::unsigned(2), PortElem::signed(38)],
        outputs: vec![PortElem::unsigned(2), PortElem::signed(38)],
        frame: vec![],
    }
}

/// `erratic.v`, built once with a default gap of 2 and a VCD trace.
fn erratic() -> MutexGuard<'static, Harness> {
    static H: OnceLock<Mutex<Harness>> = OnceLock::new();
    H.get_or_init(|| {
        let opts = CosimOptions { gap: 2, trace: true, jobs: 2, ..CosimOptions::new(work_dir("erratic")) };
        Mutex::new(build_harness(&[fixture("erratic.v")], &erratic_iface(), &opts).expect("erratic builds"))
    })
    .lock()
    .unwrap_or_else(|e| e.into_inner())
}

/// Vectors with the given modes and random payloads.
fn with_modes(modes: &[i128]) -> Vec<Vec<i128>> {
    let mut rng = Rng::new(11);
    modes.iter().map(|&m| vec![m, rng.value(PortElem::signed(38))]).collect()
}

#[test]
fn well_behaved_vectors_pass_with_build_time_gap_and_trace() {
    if skip_without_verilator() {
        return;
    }
    let h = erratic();
    let vectors = with_modes(&[0; 20]);
    let r = h.run(&vectors).unwrap();
    assert_eq!(r.outputs, vectors);
    assert_eq!((r.latency_cycles, r.ii_cycles), (1, 3), "gap 2 from CosimOptions");
    let vcd = std::fs::read_to_string(h.vcd_path()).unwrap();
    assert!(vcd.contains("$enddefinitions") && vcd.contains("out_valid"));
    let r = h.run_with_gap(&vectors, 0).unwrap();
    assert_eq!((r.latency_cycles, r.ii_cycles), (1, 1));
}

#[test]
fn data_dependent_latency_is_an_error() {
    if skip_without_verilator() {
        return;
    }
    let err = erratic().run(&with_modes(&[0, 0, 1, 0])).unwrap_err();
    assert!(matches!(err, CosimError::NonConstantLatency { index: 2, latency: 2, first_latency: 1 }), "{err}");
    assert!(err.to_string().starts_with("non-constant latency: output 2"), "{err}");
}

#[test]
fn dropped_output_is_reported_after_timeout() {
    if skip_without_verilator() {
        return;
    }
    let err = erratic().run(&with_modes(&[0, 2, 0])).unwrap_err();
    assert!(matches!(err, CosimError::MissingOutputs { produced: 2, expected: 3, .. }), "{err}");
    assert!(err.to_string().starts_with("design produced 2 of 3 outputs"), "{err}");
}

#[test]
fn duplicated_output_is_reported() {
    if skip_without_verilator() {
        return;
    }
    let err = erratic().run(&with_modes(&[0, 3])).unwrap_err();
    assert!(matches!(err, CosimError::ExtraOutputs { produced: 3, expected: 2 }), "{err}");
}

#[test]
fn vectors_are_checked_against_the_interface() {
    if skip_without_verilator() {
        return;
    }
    let h = erratic();
    let err = h.run(&[vec![0, 0], vec![4, 0]]).unwrap_err();
    assert_eq!(err.to_string(), "input vector 1: element 0 = 4 does not fit in unsigned 2-bit");
    let err = h.run(&[vec![0, 1 << 37]]).unwrap_err();
    assert!(err.to_string().contains("does not fit in signed 38-bit"), "{err}");
    let err = h.run(&[vec![0]]).unwrap_err();
    assert_eq!(err.to_string(), "input vector 0: has 1 elements, the top module takes 2");
    assert!(matches!(h.run(&[]), Err(CosimError::Vector { .. })));
}

#[test]
fn verilator_warnings_fail_the_build_with_its_diagnostics() {
    if skip_without_verilator() {
        return;
    }
    let dir = work_dir("broken");
    std::fs::create_dir_all(&dir).unwrap();
    let rtl = dir.join("broken.v");
    // out_data is 4 bits but assigned 8: Verilator's WIDTH warning, fatal by default.
    std::fs::write(
        &rtl,
        "module broken (input wire clk, input wire rst, input wire in_valid, input wire [3:0] in_data,\n\
         \x20              output wire out_valid, output wire [3:0] out_data);\n\
         \x20   assign out_valid = in_valid;\n\
         \x20   assign out_data = {in_data, in_data};\n\
         endmodule\n",
    )
    .unwrap();
    let iface = TopInterface {
        top: "broken".into(),
        inputs: vec![PortElem::unsigned(4)],
        outputs: vec![PortElem::unsigned(4)],
        frame: vec![],
    };
    let err = build_harness(&[rtl], &iface, &CosimOptions::new(&dir)).unwrap_err();
    let CosimError::BuildFailed { stderr_tail, log, .. } = &err else { panic!("{err}") };
    assert!(stderr_tail.contains("%Warning-WIDTH"), "{stderr_tail}");
    assert!(log.is_file());
    assert!(err.to_string().contains("broken.v:4"), "{err}");
}

#[test]
fn missing_rtl_file_names_the_path() {
    if skip_without_verilator() {
        return;
    }
    let iface = erratic_iface();
    let err = build_harness(&[fixture("no_such.v")], &iface, &CosimOptions::new(work_dir("missing"))).unwrap_err();
    assert!(matches!(err, CosimError::Io { .. }) && err.to_string().contains("no_such.v"), "{err}");
}

#[test]
fn invalid_interfaces_are_rejected_before_building() {
    let ok = erratic_iface();
    let cases = [
        (TopInterface { top: "1top".into(), ..ok.clone() }, "simple Verilog identifier"),
        (TopInterface { top: "a b".into(), ..ok.clone() }, "simple Verilog identifier"),
        (TopInterface { inputs: vec![], ..ok.clone() }, "no input elements"),
        (TopInterface { outputs: vec![PortElem::signed(0)], ..ok.clone() }, "output element 0 is 0 bits wide"),
        (
            TopInterface { inputs: vec![PortElem::signed(3), PortElem::signed(129)], ..ok.clone() },
            "input element 1 is 129 bits wide",
        ),
    ];
    for (iface, want) in cases {
        let err = build_harness(&[], &iface, &CosimOptions::new(work_dir("invalid"))).unwrap_err();
        assert!(matches!(err, CosimError::Interface { .. }) && err.to_string().contains(want), "{err}");
    }
}

#[test]
fn error_messages_say_what_to_do() {
    assert_eq!(
        CosimError::VerilatorMissing.to_string(),
        "verilator not found on PATH: install it with apt-get install verilator"
    );
}

#[test]
fn fixtures_are_lint_clean() {
    if skip_without_verilator() {
        return;
    }
    for name in ["pipe2.v", "comb_pass.v", "erratic.v"] {
        let out = Command::new("verilator").args(["--lint-only", "-Wall"]).arg(fixture(name)).output().unwrap();
        assert!(out.status.success() && out.stderr.is_empty(), "{name}:\n{}", String::from_utf8_lossy(&out.stderr));
    }
}
