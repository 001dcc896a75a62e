//! The Verilog testbench (`run_testbench`) in both event-driven simulators: the two-stage
//! pipeline gives the outputs, latency and II the C++ harness measures (128-bit elements, gaps,
//! a stream frame), and the misbehaving fixture's handshake errors are reported the same way.

#[macro_use]
mod common;

use common::{fixture, work_dir, Rng};
use tachyon_testbenches::{run_testbench, CosimError, PortElem, Simulator, TestbenchOptions, TopInterface};

fn pipe2_iface() -> TopInterface {
    TopInterface {
        top: "pipe2".into(),
        inputs: vec![PortElem::signed(7), PortElem::signed(70), PortElem::signed(128)],
        outputs: vec![PortElem::signed(8), PortElem::signed(71), PortElem::signed(128)],
        frame: vec![],
    }
}

fn options(name: &str, simulator: Simulator, file: &str, gap: u32) -> Option<TestbenchOptions> {
    if !simulator.available() {
        skip_note!("skipped: {} is not installed", simulator.tool());
        return None;
    }
    Some(TestbenchOptions {
        work_dir: work_dir(&format!("tb-{name}-{simulator}")),
        simulator,
        files: vec![fixture(file)],
        libraries: vec![],
        defines: vec![],
        foreign: false,
        gap,
        timeout: 40,
        jobs: 2,
    })
}

fn pipe2_matches(simulator: Simulator) {
    let iface = pipe2_iface();
    let mut rng = Rng::new(5);
    let vectors: Vec<Vec<i128>> = (0..60).map(|_| rng.vector(&iface.inputs)).collect();
    let expected: Vec<Vec<i128>> = vectors.iter().map(|v| vec![v[0] + 3, v[1] - 12345, v[2].wrapping_neg()]).collect();
    for gap in [0, 2] {
        let Some(o) = options("pipe2", simulator, "pipe2.v", gap) else { return };
        let r = run_testbench(&iface, &vectors, &o).unwrap_or_else(|e| panic!("{simulator}: {e}"));
        assert_eq!(r.outputs, expected, "{simulator}, gap {gap}");
        assert_eq!((r.latency_cycles, r.ii_cycles), (2, 1 + gap), "{simulator}, gap {gap}");
        // Reset, the vectors with their gaps, the latency, then the drain.
        assert_eq!(r.total_cycles, 4 + 60 + 59 * u64::from(gap) + 2 + 16 + u64::from(gap), "{simulator}");
    }
}

#[test]
fn pipe2_in_icarus_matches_the_reference() {
    pipe2_matches(Simulator::Icarus);
}

#[test]
fn pipe2_in_verilator_binary_matches_the_reference() {
    pipe2_matches(Simulator::Verilator);
}

/// `pipe2` driven as a stream of two beats per vector: each beat is a valid cycle of its own
/// (pipe2 answers each, so two vectors give four outputs, an error for a frame design).
#[test]
fn stream_frames_are_driven_beat_by_beat() {
    let mut iface = pipe2_iface();
    iface.frame = vec![3, 4, 5, 0, 1, 2];
    let Some(o) = options("frame", Simulator::Icarus, "pipe2.v", 0) else { return };
    let vectors = vec![vec![1, 2, 3, -4, -5, -6], vec![7, 8, 9, 10, 11, 12]];
    let e = run_testbench(&iface, &vectors, &o).unwrap_err();
    assert!(matches!(e, CosimError::ExtraOutputs { produced: 4, expected: 2 }), "{e}");
}

/// `erratic.v` (its mode in bits 1:0): mode 1 answers a cycle late, mode 2 never, mode 3 twice.
#[test]
fn handshake_errors_are_reported_like_the_harness() {
    let iface = TopInterface {
        top: "erratic".into(),
        inputs: vec![PortElem::unsigned(2), PortElem::signed(38)],
        outputs: vec![PortElem::unsigned(2), PortElem::signed(38)],
        frame: vec![],
    };
    let with_modes = |m: &[i128]| -> Vec<Vec<i128>> { m.iter().map(|&k| vec![k, -(k << 30) - 7]).collect() };
    for sim in [Simulator::Icarus, Simulator::Verilator] {
        let Some(o) = options("erratic", sim, "erratic.v", 2) else { continue };
        let r = run_testbench(&iface, &with_modes(&[0, 0, 0]), &o).unwrap();
        assert_eq!((r.outputs, r.latency_cycles, r.ii_cycles), (with_modes(&[0, 0, 0]), 1, 3), "{sim}");
        let e = run_testbench(&iface, &with_modes(&[0, 1, 0]), &o).unwrap_err();
        assert!(matches!(e, CosimError::NonConstantLatency { index: 1, latency: 2, first_latency: 1 }), "{sim}: {e}");
        let e = run_testbench(&iface, &with_modes(&[0, 2, 0]), &o).unwrap_err();
        assert!(matches!(e, CosimError::MissingOutputs { produced: 2, expected: 3, timeout: 40 }), "{sim}: {e}");
        let e = run_testbench(&iface, &with_modes(&[0, 3]), &o).unwrap_err();
        assert!(matches!(e, CosimError::ExtraOutputs { produced: 3, expected: 2 }), "{sim}: {e}");
    }
}

#[test]
fn a_missing_simulator_says_what_to_install() {
    let e = CosimError::SimulatorMissing { tool: "iverilog", install: "apt-get install -y iverilog", alternative: "" };
    assert_eq!(e.to_string(), "iverilog not found on PATH: install it (apt-get install -y iverilog)");
}
