//! Tachyon's own fixed-point ops (`tachyon.fixed` FixedQuant and Lookup, the form HGQ2 models are
//! exported in) end to end on models built here: per-element widths, pruned elements, WRAP, SAT,
//! SAT_SYM, RND/TRN/RND_CONV, a table. The interpreter must equal the
//! ops' float semantics exactly on inputs that overflow every quantizer, and the RTL must equal
//! the interpreter.

use crate::common::*;
use prost::Message;
use tachyon_common::onnx_builder::{Attr, GraphBuilder};
use tachyon_driver::project::build;
use tachyon_frontend::{DType, Tensor, FIXED_DOMAIN};
use tachyon_quantize::{interp, Config};

/// `FixedQuant(x)` with per-element `k, i, f` (shape `[1, n]`).
fn fixed(g: &mut GraphBuilder, x: &str, y: &str, kif: &[(i64, i64, i64)], round: &str, overflow: &str) -> String {
    let n = kif.len();
    let col = |j: usize| kif.iter().map(|p| [p.0, p.1, p.2][j] as f32).collect::<Vec<f32>>();
    let k = g.initializer_f32(&format!("{y}_k"), &[1, n], &col(0));
    let i = g.initializer_f32(&format!("{y}_i"), &[1, n], &col(1));
    let f = g.initializer_f32(&format!("{y}_f"), &[1, n], &col(2));
    g.node(
        "FixedQuant",
        FIXED_DOMAIN,
        y,
        &[x, &k, &i, &f],
        &[y],
        vec![Attr::string("round_mode", round), Attr::string("overflow_mode", overflow)],
    )
}

/// x[1,6] → FixedQuant(per element, RND WRAP, one pruned) → MatMul(6×5, weights down to 2^-14)
/// + bias → Relu → FixedQuant(`round`, `overflow`) → [Lookup of a 3-bit table] → output.
fn model(seed: u64, round: &str, overflow: &str, table: bool) -> Vec<u8> {
    let mut r = Lcg(seed);
    let mut g = GraphBuilder::new("fixed_ops");
    let x = g.input("x", &[1, 6]);
    let iq: Vec<(i64, i64, i64)> = vec![(1, 2, 3), (1, 0, 5), (0, 3, 1), (1, -2, 6), (1, 3, -4), (1, 4, 2)];
    let xq = fixed(&mut g, &x, "iq", &iq, "RND", "WRAP");
    // Every partial sum stays exact in float32 (the float semantics round to f32 after each step).
    let w: Vec<f32> = (0..30)
        .map(|k| if k % 7 == 3 { 0.0 } else { r.int(-15, 15) as f32 * 2f32.powi(-(r.int(2, 10) as i32)) })
        .collect();
    let w = g.initializer_f32("W", &[6, 5], &w);
    let b: Vec<f32> = (0..5).map(|_| r.int(-40, 40) as f32 / 32.0).collect();
    let b = g.initializer_f32("B", &[5], &b);
    let mm = g.node("MatMul", "", "mm", &[&xq, &w], &["mm"], vec![]);
    let add = g.node("Add", "", "bias", &[&mm, &b], &["add"], vec![]);
    let relu = g.node("Relu", "", "relu", &[&add], &["relu"], vec![]);
    let oq: Vec<(i64, i64, i64)> = vec![(0, 2, 3), (1, 1, 4), (0, 0, 3), (1, 3, 0), (0, -1, 2)];
    if table {
        let y = fixed(&mut g, &relu, "oq", &[(0, 1, 2); 5], round, overflow);
        // Codes 0..7 of ufixed<3,1> → an arbitrary table on the 2^-5 grid.
        let values: Vec<f32> = (0..8).map(|_| r.int(-50, 50) as f32 / 32.0).collect();
        let t = g.initializer_f32("table", &[8], &values);
        g.node("Lookup", FIXED_DOMAIN, "lut", &[&y, &t], &["y"], vec![Attr::int("frac", 2), Attr::int("first", 0)]);
    } else {
        let y = fixed(&mut g, &relu, "oq", &oq, round, overflow);
        g.node("Identity", "", "out", &[&y], &["y"], vec![]);
    }
    g.output("y", &[1, 5]);
    g.build(&[("", 17), (FIXED_DOMAIN, 1)]).encode_to_vec()
}

fn inputs(seed: u64, n: usize) -> Vec<Vec<f64>> {
    let mut r = Lcg(seed);
    // Values on a fine grid, with exact ties of the quantizers, far beyond every range.
    (0..n).map(|_| (0..6).map(|_| r.int(-80000, 80000) as f64 / 1024.0).collect()).collect()
}

const CASES: [(&str, &str, bool); 6] = [
    ("RND", "WRAP", false),
    ("TRN", "SAT", false),
    ("RND_CONV", "SAT_SYM", false),
    ("RND", "SAT", true),
    ("TRN", "WRAP", true),
    ("RND_CONV", "WRAP", false),
];

#[test]
fn interpreter_equals_the_fixed_ops_float_semantics() {
    let dir = scratch("fixed_ops");
    std::fs::create_dir_all(&dir).unwrap();
    for (k, &(round, overflow, table)) in CASES.iter().enumerate() {
        let path = dir.join(format!("m{k}.onnx"));
        std::fs::write(&path, model(k as u64 + 3, round, overflow, table)).unwrap();
        let g = tachyon_frontend::load_model(&path).unwrap();
        let m = tachyon_quantize::lower(&g, &Config::default()).unwrap_or_else(|e| panic!("{round} {overflow}: {e}"));
        // The input bus is the quantizer's own widths: 6 + 6 + 4 + 5 + 7 bits; the pruned
        // element (always 0) is not on it.
        let widths: Vec<u32> = m.input_elems().iter().map(|e| e.width()).collect();
        assert_eq!(widths, [6, 6, 4, 5, 7], "{round} {overflow}");
        assert_eq!(m.prologue.select, Some(vec![0, 1, 2, 3, 5]));
        for x in inputs(k as u64, 400) {
            let want =
                tachyon_frontend::eval::run_float(&g, &[Tensor::new(DType::F32, vec![1, 6], x.clone())]).unwrap();
            let got = interp::evaluate(&m, &x).unwrap();
            assert_eq!(got, want[0].data, "{round} {overflow} table={table} x={x:?}");
        }
    }
}

#[test]
fn fixed_ops_model_cosimulates() {
    let dir = scratch("fixed_ops_rtl");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, &(round, overflow, table)) in [CASES[0], CASES[4]].iter().enumerate() {
        let path = dir.join(format!("f{i}.onnx"));
        std::fs::write(&path, model(11 + i as u64, round, overflow, table)).unwrap();
        let out = dir.join(format!("out{i}"));
        let mut o = build_options(path, &out);
        o.clock_ns = Some(2.5);
        build(&o).unwrap_or_else(|e| panic!("{round} {overflow}: {e:#}"));
        lint_and_cosim(&out, 2000);
    }
}
