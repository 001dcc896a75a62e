//! A float model exercising the layout and normalization ops of the end-to-end scope —
//! Flatten, Reshape, Identity, Dropout, Transpose (no-op for the data), Gemm with transB,
//! BatchNormalization (folded into the dense layer), Sub/Mul/Div by constants, Sigmoid — built
//! with the default fixed<16,6> precision: RTL equals the interpreter, which tracks the float
//! model closely.

use crate::common::*;
use prost::Message;
use tachyon_common::onnx_builder::{Attr, GraphBuilder};
use tachyon_driver::project::build;
use tachyon_frontend::{DType, Tensor};
use tachyon_quantize::{interp, Config};

fn model() -> Vec<u8> {
    let mut g = GraphBuilder::new("float_ops");
    let x = g.input("x", &[1, 2, 4]);
    g.output("y", &[1, 3]);
    let f = g.node("Flatten", "", "flatten", &[&x], &["f"], vec![Attr::int("axis", 1)]);
    let w: Vec<f32> = (0..48).map(|i| ((i * 37 % 17) as f32 - 8.0) / 16.0).collect();
    let w = g.initializer_f32("W", &[6, 8], &w); // Gemm with transB = 1
    let b = g.initializer_f32("B", &[6], &[0.1, -0.2, 0.3, 0.05, -0.15, 0.25]);
    let gemm =
        g.node("Gemm", "", "dense0", &[&f, &w, &b], &["g"], vec![Attr::int("transB", 1), Attr::float("alpha", 0.5)]);
    let sc = g.initializer_f32("bn_s", &[6], &[1.5, 0.5, 2.0, 1.0, 0.75, 1.25]);
    let bb = g.initializer_f32("bn_b", &[6], &[0.0, 0.1, -0.1, 0.2, 0.0, -0.3]);
    let mu = g.initializer_f32("bn_m", &[6], &[0.05, -0.05, 0.1, 0.0, 0.2, -0.1]);
    let var = g.initializer_f32("bn_v", &[6], &[1.0, 0.5, 2.0, 1.5, 0.8, 1.2]);
    let bn = g.node(
        "BatchNormalization",
        "",
        "bn0",
        &[&gemm, &sc, &bb, &mu, &var],
        &["bn"],
        vec![Attr::float("epsilon", 1e-3)],
    );
    let r = g.node("Relu", "", "relu0", &[&bn], &["r"], vec![]);
    let d = g.node("Dropout", "", "drop", &[&r], &["d"], vec![]);
    let i = g.node("Identity", "", "ident", &[&d], &["i"], vec![]);
    let shape = g.initializer_i64("shape", &[3], &[1, 6, 1]);
    let rs = g.node("Reshape", "", "reshape", &[&i, &shape], &["rs"], vec![]);
    let t = g.node("Transpose", "", "transpose", &[&rs], &["t"], vec![Attr::ints("perm", &[0, 2, 1])]);
    let shape2 = g.initializer_i64("shape2", &[2], &[1, 6]);
    let rs2 = g.node("Reshape", "", "reshape2", &[&t, &shape2], &["rs2"], vec![]);
    let k = g.initializer_f32("k", &[], &[0.5]);
    let sub = g.node("Sub", "", "sub", &[&rs2, &k], &["sub"], vec![]);
    let two = g.initializer_f32("two", &[], &[2.0]);
    let div = g.node("Div", "", "div", &[&sub, &two], &["div"], vec![]);
    let w2: Vec<f32> = (0..18).map(|i| ((i * 11 % 13) as f32 - 6.0) / 8.0).collect();
    let w2 = g.initializer_f32("W2", &[6, 3], &w2);
    let mm = g.node("MatMul", "", "dense1", &[&div, &w2], &["mm"], vec![]);
    let m3 = g.initializer_f32("m3", &[3], &[1.0, -1.0, 0.5]);
    let mul = g.node("Mul", "", "scale", &[&mm, &m3], &["mul"], vec![]);
    g.node("Sigmoid", "", "sigmoid", &[&mul], &["y"], vec![]);
    g.build(&[("", 13)]).encode_to_vec()
}

#[test]
fn float_ops_model_is_exact_in_rtl_and_close_to_float() {
    let dir = scratch("float_ops");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("float_ops.onnx");
    std::fs::write(&path, model()).unwrap();
    let g = tachyon_frontend::load_model(&path).unwrap();
    let m = tachyon_quantize::lower(&g, &Config::default()).unwrap();
    let text = m.to_string();
    // Gemm + BatchNorm fused into one linear layer; the no-op transpose costs nothing.
    assert!(text.contains("[dense0, bn0]"), "batch norm folded into the dense layer:\n{text}");
    assert!(!text.contains("gather"), "the transpose only moves a size-1 axis:\n{text}");
    let mut worst: f64 = 0.0;
    for s in 0..200u64 {
        let x: Vec<f64> = (0..8).map(|i| (((s * 31 + i * 7) % 41) as f64 - 20.0) / 10.0).collect();
        let want = tachyon_frontend::eval::run_float(&g, &[Tensor::new(DType::F32, vec![1, 2, 4], x.clone())]).unwrap();
        let got = interp::evaluate(&m, &x).unwrap();
        for (a, b) in got.iter().zip(&want[0].data) {
            worst = worst.max((a - b).abs());
        }
    }
    println!("float_ops: max |interpreter − float| = {worst:.5}");
    assert!(worst < 0.02, "fixed<16,6> tracks the float model: {worst}");
    let out = dir.join("out");
    build(&build_options(path, &out)).unwrap();
    lint(&out);
    yosys_synth(&out);
    cosim_random(&out, 3000);
}

/// A transpose that really moves data (channels-last to channels-first) becomes wiring.
#[test]
fn real_transpose_is_wiring_and_exact() {
    let mut g = GraphBuilder::new("transpose");
    let x = g.input("x", &[1, 6]);
    g.output("y", &[1, 2]);
    // Integer weights keep every fixed<16,6> result exact, so the float model is matched exactly.
    let w0: Vec<f32> = (0..36).map(|i| (i * 7 % 5) as f32 - 2.0).collect();
    let w0 = g.initializer_f32("W0", &[6, 6], &w0);
    let d0 = g.node("MatMul", "", "dense0", &[&x, &w0], &["d0"], vec![]);
    let shape = g.initializer_i64("shape", &[3], &[1, 2, 3]);
    let r = g.node("Reshape", "", "to_hwc", &[&d0, &shape], &["r"], vec![]);
    let t = g.node("Transpose", "", "to_chw", &[&r], &["t"], vec![Attr::ints("perm", &[0, 2, 1])]);
    let f = g.node("Flatten", "", "flatten", &[&t], &["f"], vec![]);
    let w: Vec<f32> = (0..12).map(|i| (i * 3 % 7) as f32 - 3.0).collect();
    let w = g.initializer_f32("W", &[6, 2], &w);
    g.node("MatMul", "", "dense1", &[&f, &w], &["y"], vec![]);
    let dir = scratch("transpose");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("t.onnx");
    std::fs::write(&path, g.build(&[("", 13)]).encode_to_vec()).unwrap();
    let gr = tachyon_frontend::load_model(&path).unwrap();
    let m = tachyon_quantize::lower(&gr, &Config::default()).unwrap();
    assert!(m.to_string().contains("gather"), "{m}");
    for s in 0..50u64 {
        // Values on the fixed<16,6> grid, so the float model is exact too.
        let x: Vec<f64> = (0..6).map(|i| (((s * 13 + i * 5) % 9) as f64 - 4.0) / 8.0).collect();
        let want = tachyon_frontend::eval::run_float(&gr, &[Tensor::new(DType::F32, vec![1, 6], x.clone())]).unwrap();
        let got = interp::evaluate(&m, &x).unwrap();
        assert_eq!(got, want[0].data);
    }
    let out = dir.join("out");
    build(&build_options(path, &out)).unwrap();
    lint_and_cosim(&out, 500);
}
