//! Co-simulation of well-behaved fixtures: a two-stage arithmetic pipeline
//! (`pipe2.v`) and a combinational passthrough whose output bus is read with
//! a different element layout than the input bus (`comb_pass.v`), checked
//! against Rust-computed expectations for seeded random vectors.

#[macro_use]
mod common;

use std::sync::{Mutex, MutexGuard, OnceLock};

use common::{fixture, from_bits, skip_without_verilator, work_dir, Rng};
use tachyon_testbenches::{build_harness, CosimOptions, Harness, PortElem, TopInterface};

fn pipe2_iface() -> TopInterface {
    TopInterface {
        top: "pipe2".into(),
        inputs: vec![PortElem::signed(7), PortElem::signed(70), PortElem::signed(128)],
        outputs: vec![PortElem::signed(8), PortElem::signed(71), PortElem::signed(128)],
        frame: vec![],
    }
}

/// What `pipe2.v` computes, written independently of the Verilog.
fn pipe2_reference(v: &[i128]) -> Vec<i128> {
    vec![v[0] + 3, v[1] - 12345, v[2].wrapping_neg()]
}

/// One build of `pipe2.v` shared by the tests of this file (runs are serialised).
fn pipe2() -> MutexGuard<'static, Harness> {
    static H: OnceLock<Mutex<Harness>> = OnceLock::new();
    H.get_or_init(|| {
        let opts = CosimOptions { jobs: 2, ..CosimOptions::new(work_dir("pipe2")) };
        let h = build_harness(&[fixture("pipe2.v")], &pipe2_iface(), &opts).expect("pipe2 builds");
        println!("pipe2 build: {:.1} s", h.build_seconds());
        Mutex::new(h)
    })
    .lock()
    .unwrap_or_else(|e| e.into_inner())
}

fn random_vectors(seed: u64, n: usize, elems: &[PortElem]) -> Vec<Vec<i128>> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| rng.vector(elems)).collect()
}

#[test]
fn pipe2_back_to_back_matches_reference() {
    if skip_without_verilator() {
        return;
    }
    let vectors = random_vectors(1, 300, &pipe2_iface().inputs);
    let r = pipe2().run(&vectors).unwrap();
    let expected: Vec<_> = vectors.iter().map(|v| pipe2_reference(v)).collect();
    assert_eq!(r.outputs, expected);
    assert_eq!((r.latency_cycles, r.ii_cycles), (2, 1));
    // 4 reset edges, 300 vectors, 2 cycles of latency, then the drain.
    assert_eq!(r.total_cycles, 4 + 300 + 2 + 16);
    assert!(r.build_seconds > 0.0 && r.run_seconds > 0.0);
}

#[test]
fn pipe2_with_gaps_keeps_latency() {
    if skip_without_verilator() {
        return;
    }
    let vectors = random_vectors(2, 50, &pipe2_iface().inputs);
    let expected: Vec<_> = vectors.iter().map(|v| pipe2_reference(v)).collect();
    for gap in [1, 3] {
        let r = pipe2().run_with_gap(&vectors, gap).unwrap();
        assert_eq!(r.outputs, expected, "gap {gap}");
        assert_eq!((r.latency_cycles, r.ii_cycles), (2, 1 + gap), "gap {gap}");
    }
}

#[test]
fn pipe2_extremes_and_single_vector() {
    if skip_without_verilator() {
        return;
    }
    let (min7, max7) = (-64, 63);
    let (min70, max70) = (-(1i128 << 69), (1i128 << 69) - 1);
    let vectors = vec![vec![min7, min70, i128::MIN], vec![max7, max70, i128::MAX], vec![-1, -1, -1], vec![0, 0, 0]];
    let r = pipe2().run(&vectors).unwrap();
    let expected: Vec<_> = vectors.iter().map(|v| pipe2_reference(v)).collect();
    assert_eq!(r.outputs, expected);
    assert_eq!(r.outputs[0][2], i128::MIN, "-(-2^127) wraps in 128 bits");
    let r = pipe2().run(&vectors[1..2]).unwrap();
    assert_eq!((r.outputs.len(), r.latency_cycles, r.ii_cycles), (1, 2, 1));
}

/// 455 bits as 1, 5, 32, 33, 64, 65, 127, 128-bit elements of mixed signedness.
fn pass_inputs() -> Vec<PortElem> {
    [(1, false), (5, true), (32, true), (33, false), (64, true), (65, false), (127, true), (128, false)]
        .map(|(w, s)| PortElem { width: w, signed: s })
        .to_vec()
}

/// The same 455 bits cut differently, so the output offsets differ from the input ones.
fn pass_outputs() -> Vec<PortElem> {
    [(128, true), (33, true), (1, true), (65, true), (5, false), (127, false), (64, false), (32, false)]
        .map(|(w, s)| PortElem { width: w, signed: s })
        .to_vec()
}

/// Packs elements into a little-endian bit vector and cuts it again: the
/// reference for a passthrough read with another layout.
fn repack(values: &[i128], from: &[PortElem], to: &[PortElem]) -> Vec<i128> {
    let mut bits = Vec::new();
    for (&v, e) in values.iter().zip(from) {
        bits.extend((0..e.width).map(|i| (v as u128 >> i) & 1 == 1));
    }
    let mut out = Vec::new();
    let mut off = 0;
    for &e in to {
        let raw = (0..e.width as usize).fold(0u128, |acc, i| acc | (u128::from(bits[off + i]) << i));
        out.push(from_bits(raw, e));
        off += e.width as usize;
    }
    out
}

#[test]
fn comb_pass_wide_elements_straddle_words() {
    if skip_without_verilator() {
        return;
    }
    let iface = TopInterface { top: "comb_pass".into(), inputs: pass_inputs(), outputs: pass_outputs(), frame: vec![] };
    assert_eq!((iface.in_bits(), iface.out_bits()), (455, 455));
    let opts = CosimOptions { jobs: 2, ..CosimOptions::new(work_dir("comb_pass")) };
    let h = build_harness(&[fixture("comb_pass.v")], &iface, &opts).unwrap();
    println!("comb_pass build: {:.1} s", h.build_seconds());

    let mut vectors = random_vectors(3, 200, &iface.inputs);
    // One-hot vectors: each single set bit must land exactly where the layout says.
    for (i, e) in iface.inputs.iter().enumerate() {
        for b in 0..e.width {
            let mut v = vec![0; iface.inputs.len()];
            v[i] = from_bits(1u128 << b, *e);
            vectors.push(v);
        }
    }
    let r = h.run(&vectors).unwrap();
    for (k, (v, out)) in vectors.iter().zip(&r.outputs).enumerate() {
        assert_eq!(out, &repack(v, &iface.inputs, &iface.outputs), "vector {k}: {v:?}");
    }
    assert_eq!((r.latency_cycles, r.ii_cycles), (0, 1));
    let r = h.run_with_gap(&vectors[..10], 2).unwrap();
    assert_eq!((r.latency_cycles, r.ii_cycles), (0, 3));
}

/// The optimized build (`optimize`, for long runs) goes to its own object folder and computes
/// the same outputs, latency and II.
#[test]
fn optimized_build_matches_reference() {
    if skip_without_verilator() {
        return;
    }
    let dir = work_dir("pipe2_O1");
    let opts = CosimOptions { jobs: 2, optimize: true, ..CosimOptions::new(&dir) };
    let h = build_harness(&[fixture("pipe2.v")], &pipe2_iface(), &opts).expect("pipe2 builds at -O1");
    assert!(h.binary().starts_with(dir.join("obj_dir_O1")), "{}", h.binary().display());
    let vectors = random_vectors(2, 300, &pipe2_iface().inputs);
    let r = h.run(&vectors).unwrap();
    let expected: Vec<_> = vectors.iter().map(|v| pipe2_reference(v)).collect();
    assert_eq!(r.outputs, expected);
    assert_eq!((r.latency_cycles, r.ii_cycles), (2, 1));
}

/// With `lint`, the build runs Verilator's `-Wall` over the design: a clean design builds and
/// says it was linted, and one unused signal fails the build, naming the warning.
#[test]
fn lint_builds_run_wall_and_fail_on_a_warning() {
    if skip_without_verilator() {
        return;
    }
    let opts = CosimOptions { jobs: 2, lint: true, ..CosimOptions::new(work_dir("pipe2_lint")) };
    let h = build_harness(&[fixture("pipe2.v")], &pipe2_iface(), &opts).expect("pipe2 is -Wall clean");
    assert!(h.linted());
    let r = h.run(&random_vectors(3, 20, &pipe2_iface().inputs)).unwrap();
    assert!(r.linted);
    let text = std::fs::read_to_string(fixture("pipe2.v")).unwrap();
    let spare = text.replacen(
        "    reg                v1;\n",
        "    reg                v1;\n    wire               spare = v1;\n",
        1,
    );
    assert_ne!(spare, text, "pipe2.v changed; update this test");
    let dir = work_dir("pipe2_lint_warning");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("pipe2.v"), spare).unwrap();
    let opts = CosimOptions { jobs: 2, lint: true, ..CosimOptions::new(dir.join("work")) };
    let e = build_harness(&[dir.join("pipe2.v")], &pipe2_iface(), &opts).expect_err("an unused signal fails -Wall");
    assert!(e.to_string().contains("UNUSED"), "{e}");
    let opts = CosimOptions { jobs: 2, ..CosimOptions::new(dir.join("work_default")) };
    let h = build_harness(&[dir.join("pipe2.v")], &pipe2_iface(), &opts).expect("without lint it builds");
    assert!(!h.linted());
}
