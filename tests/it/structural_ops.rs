//! Ops that combine computed tensors or restructure them, end to end on QONNX models built here:
//! residual Add/Sub, Concat of two branches, MatMul with a shared weight over a particle axis and
//! with constant matrices on the left, ReduceSum/ReduceMean/ReduceMax, Max of two tensors,
//! Slice, Transpose, Expand, Einsum. The interpreter must equal the float QONNX semantics
//! exactly on every input, and the RTL must equal the interpreter.

use crate::common::*;
use prost::Message;
use tachyon_common::onnx_builder::{Attr, GraphBuilder, QONNX_DOMAIN};
use tachyon_common::rng::Rng;
use tachyon_driver::project::build;
use tachyon_frontend::{DType, Tensor};
use tachyon_quantize::{interp, Config};

/// Random weights on the 2^-3 grid in [-2, 2].
fn weights(rng: &mut Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| (rng.below(33) as f32 - 16.0) / 8.0).collect()
}

/// `Quant` to `bits` signed bits on the 2^-`frac` grid, rounding half to even.
fn q(g: &mut GraphBuilder, x: &str, y: &str, frac: i32, bits: f32) -> String {
    g.quant(x, y, 2f32.powi(-frac), 0.0, bits, true, false, "ROUND")
}

/// `x · W` with a fresh weight initializer, followed by a quantizer.
fn dense(g: &mut GraphBuilder, rng: &mut Rng, x: &str, name: &str, k: usize, n: usize, frac: i32) -> String {
    let w = weights(rng, k * n);
    let w = g.initializer_f32(&format!("{name}_w"), &[k, n], &w);
    let mm = g.node("MatMul", "", name, &[x, &w], &[&format!("{name}_mm")], vec![]);
    q(g, &mm, &format!("{name}_q"), frac, 10.0)
}

struct Case {
    name: &'static str,
    input: Vec<i64>,
    output: Vec<i64>,
    model: Vec<u8>,
}

/// Residual block: y = Quant(dense(xq) + xq) and its Sub twin, then a Concat with the input.
fn residual() -> Case {
    let mut rng = Rng::new(11);
    let mut g = GraphBuilder::new("residual");
    let x = g.input("x", &[1, 6]);
    let xq = q(&mut g, &x, "xq", 3, 8.0);
    let h = dense(&mut g, &mut rng, &xq, "d0", 6, 6, 2);
    let add = g.node("Add", "", "skip_add", &[&h, &xq], &["skip"], vec![]);
    let a = q(&mut g, &add, "skip_q", 2, 9.0);
    let sub = g.node("Sub", "", "diff", &[&xq, &a], &["diff_out"], vec![]);
    let cat = g.node("Concat", "", "cat", &[&sub, &h], &["cat_out"], vec![Attr::int("axis", 1)]);
    let y = dense(&mut g, &mut rng, &cat, "d1", 12, 4, 1);
    g.node("Identity", "", "out", &[&y], &["y"], vec![]);
    g.output("y", &[1, 4]);
    Case {
        name: "residual",
        input: vec![1, 6],
        output: vec![1, 4],
        model: g.build(&[("", 13), (QONNX_DOMAIN, 1)]).encode_to_vec(),
    }
}

/// A small deep set: φ shared over 4 particles (rank-3 MatMul), then sum, mean and max over
/// the particles, concatenated, and ρ.
fn deep_set() -> Case {
    let mut rng = Rng::new(12);
    let mut g = GraphBuilder::new("deep_set");
    let x = g.input("x", &[1, 4, 3]);
    let xq = q(&mut g, &x, "xq", 3, 8.0);
    let h = dense(&mut g, &mut rng, &xq, "phi", 3, 5, 2);
    let r = g.node("Relu", "", "phi_relu", &[&h], &["phi_act"], vec![]);
    let axes = g.initializer_i64("axes", &[1], &[1]);
    let s = g.node("ReduceSum", "", "pool_sum", &[&r, &axes], &["sum"], vec![Attr::int("keepdims", 0)]);
    let m = g.node(
        "ReduceMean",
        "",
        "pool_mean",
        &[&r],
        &["mean"],
        vec![Attr::ints("axes", &[1]), Attr::int("keepdims", 0)],
    );
    let mq = q(&mut g, &m, "mean_q", 3, 9.0);
    let mx =
        g.node("ReduceMax", "", "pool_max", &[&r], &["max"], vec![Attr::ints("axes", &[-2]), Attr::int("keepdims", 0)]);
    let cat = g.node("Concat", "", "cat", &[&s, &mq, &mx], &["pooled"], vec![Attr::int("axis", -1)]);
    let y = dense(&mut g, &mut rng, &cat, "rho", 15, 3, 1);
    g.node("Identity", "", "out", &[&y], &["y"], vec![]);
    g.output("y", &[1, 3]);
    Case {
        name: "deep_set",
        input: vec![1, 4, 3],
        output: vec![1, 3],
        model: g.build(&[("", 13), (QONNX_DOMAIN, 1)]).encode_to_vec(),
    }
}

/// Interaction-network plumbing: receiving/sending matrices on the left of a MatMul, the
/// pair features concatenated, a shared edge network, aggregation back with Rᵀ, an Einsum,
/// Slice, Transpose, Expand and an element-wise Max.
fn pairs() -> Case {
    let mut rng = Rng::new(13);
    let n = 3;
    let mut g = GraphBuilder::new("pairs");
    let x = g.input("x", &[1, n as i64, 2]);
    let xq = q(&mut g, &x, "xq", 3, 7.0);
    // Ordered pairs (i, j), i ≠ j: receiving and sending one-hot matrices.
    let pairs: Vec<(usize, usize)> =
        (0..n).flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j))).collect();
    let mut rr = vec![0f32; pairs.len() * n];
    let mut rs = vec![0f32; pairs.len() * n];
    for (p, &(i, j)) in pairs.iter().enumerate() {
        rr[p * n + i] = 1.0;
        rs[p * n + j] = 1.0;
    }
    let e = pairs.len();
    let rr_t = g.initializer_f32("Rr", &[e, n], &rr);
    let rs_t = g.initializer_f32("Rs", &[e, n], &rs);
    let recv = g.node("MatMul", "", "recv", &[&rr_t, &xq], &["recv_out"], vec![]);
    let send = g.node("MatMul", "", "send", &[&rs_t, &xq], &["send_out"], vec![]);
    let cat = g.node("Concat", "", "pair_cat", &[&recv, &send], &["pair"], vec![Attr::int("axis", 2)]);
    let edge = dense(&mut g, &mut rng, &cat, "edge", 4, 3, 2);
    let rrt: Vec<f32> = (0..n * e).map(|k| rr[(k % e) * n + k / e]).collect();
    let rrt = g.initializer_f32("RrT", &[n, e], &rrt);
    let agg = g.node("MatMul", "", "aggregate", &[&rrt, &edge], &["agg"], vec![]);
    let wo = weights(&mut rng, 3 * 2);
    let wo = g.initializer_f32("Wo", &[3, 2], &wo);
    let obj = g.node("Einsum", "", "object", &[&agg, &wo], &["obj"], vec![Attr::string("equation", "bnf,fh->bnh")]);
    let objq = q(&mut g, &obj, "obj_q", 1, 10.0);
    let tr = g.node("Transpose", "", "tr", &[&objq], &["tr_out"], vec![Attr::ints("perm", &[0, 2, 1])]);
    let starts = g.initializer_i64("starts", &[1], &[1]);
    let ends = g.initializer_i64("ends", &[1], &[3]);
    let sax = g.initializer_i64("slice_axes", &[1], &[2]);
    let sl = g.node("Slice", "", "slice", &[&tr, &starts, &ends, &sax], &["sl"], vec![]);
    let shape = g.initializer_i64("shape", &[3], &[1, 2, 2]);
    let first = g.initializer_i64("first", &[1], &[0]);
    let one = g.initializer_i64("one", &[1], &[1]);
    let s0 = g.node("Slice", "", "slice0", &[&tr, &first, &one, &sax], &["s0"], vec![]);
    let ex = g.node("Expand", "", "expand", &[&s0, &shape], &["ex"], vec![]);
    let mx = g.node("Max", "", "max", &[&sl, &ex], &["mx"], vec![]);
    let fl = g.node("Flatten", "", "flat", &[&mx], &["flat"], vec![Attr::int("axis", 1)]);
    g.node("Identity", "", "out", &[&fl], &["y"], vec![]);
    g.output("y", &[1, 4]);
    Case {
        name: "pairs",
        input: vec![1, n as i64, 2],
        output: vec![1, 4],
        model: g.build(&[("", 13), (QONNX_DOMAIN, 1)]).encode_to_vec(),
    }
}

/// Pairs as PyTorch exports them: Unsqueeze + Expand of the particles both ways, Concat on the
/// feature axis, Reshape to a pair list, Gather of the off-diagonal pairs, a shared edge
/// network, ReduceSum over the edges (keepdims) and Squeeze.
fn torch_pairs() -> Case {
    let mut rng = Rng::new(14);
    let n = 3usize;
    let mut g = GraphBuilder::new("torch_pairs");
    let x = g.input("x", &[1, n as i64, 2]);
    let xq = q(&mut g, &x, "xq", 3, 6.0);
    let ax2 = g.initializer_i64("ax2", &[1], &[2]);
    let ax1 = g.initializer_i64("ax1", &[1], &[1]);
    let full = g.initializer_i64("full", &[4], &[1, n as i64, n as i64, 2]);
    let a = g.node("Unsqueeze", "", "recv_unsq", &[&xq, &ax2], &["ra"], vec![]);
    let a = g.node("Expand", "", "recv_exp", &[&a, &full], &["rb"], vec![]);
    let b = g.node("Unsqueeze", "", "send_unsq", &[&xq, &ax1], &["sa"], vec![]);
    let b = g.node("Expand", "", "send_exp", &[&b, &full], &["sb"], vec![]);
    let cat = g.node("Concat", "", "pair_cat", &[&a, &b], &["pc"], vec![Attr::int("axis", -1)]);
    let shape = g.initializer_i64("pair_shape", &[3], &[1, (n * n) as i64, 4]);
    let flat = g.node("Reshape", "", "pair_list", &[&cat, &shape], &["pl"], vec![]);
    let off: Vec<i64> = (0..n * n).filter(|k| k / n != k % n).map(|k| k as i64).collect();
    let idx = g.initializer_i64("off_diag", &[off.len()], &off);
    let edges = g.node("Gather", "", "off_diag_pairs", &[&flat, &idx], &["edges"], vec![Attr::int("axis", 1)]);
    let e = dense(&mut g, &mut rng, &edges, "edge", 4, 3, 2);
    let sum = g.node("ReduceSum", "", "edge_sum", &[&e, &ax1], &["es"], vec![Attr::int("keepdims", 1)]);
    let sq = g.node("Squeeze", "", "squeeze", &[&sum, &ax1], &["sq"], vec![]);
    let y = q(&mut g, &sq, "y_q", 1, 12.0);
    g.node("Identity", "", "out", &[&y], &["y"], vec![]);
    g.output("y", &[1, 3]);
    Case {
        name: "torch_pairs",
        input: vec![1, n as i64, 2],
        output: vec![1, 3],
        model: g.build(&[("", 13), (QONNX_DOMAIN, 1)]).encode_to_vec(),
    }
}

/// Products of two computed tensors, attention-style: Q·Kᵀ by MatMul, the scores times V by
/// Einsum, an element-wise Mul with a broadcast gate, then a dense layer.
fn attention_like() -> Case {
    let mut rng = Rng::new(15);
    let (s_len, d) = (3usize, 2usize);
    let mut g = GraphBuilder::new("attention_like");
    let x = g.input("x", &[1, s_len as i64, d as i64]);
    let xq = q(&mut g, &x, "xq", 3, 6.0);
    let qm = dense(&mut g, &mut rng, &xq, "wq", d, d, 2);
    let km = dense(&mut g, &mut rng, &xq, "wk", d, d, 2);
    let vm = dense(&mut g, &mut rng, &xq, "wv", d, d, 2);
    let kt = g.node("Transpose", "", "kt", &[&km], &["kt_out"], vec![Attr::ints("perm", &[0, 2, 1])]);
    let scores = g.node("MatMul", "", "scores", &[&qm, &kt], &["sc"], vec![]);
    let sq = q(&mut g, &scores, "sc_q", 2, 8.0);
    let relu = g.node("Relu", "", "sc_relu", &[&sq], &["sr"], vec![]);
    let att = g.node("Einsum", "", "attend", &[&relu, &vm], &["att"], vec![Attr::string("equation", "bij,bjk->bik")]);
    let aq = q(&mut g, &att, "att_q", 1, 10.0);
    let gate =
        g.node("ReduceMax", "", "gate", &[&aq], &["gt"], vec![Attr::ints("axes", &[1]), Attr::int("keepdims", 1)]);
    let gated = g.node("Mul", "", "gated", &[&aq, &gate], &["gd"], vec![]);
    let gq = q(&mut g, &gated, "gd_q", 0, 12.0);
    let sq2 = g.node("Mul", "", "square", &[&gq, &gq], &["sq2"], vec![]);
    let fl = g.node("Flatten", "", "flat", &[&sq2], &["fl"], vec![Attr::int("axis", 1)]);
    let y = dense(&mut g, &mut rng, &fl, "out_dense", s_len * d, 2, 0);
    g.node("Identity", "", "out", &[&y], &["y"], vec![]);
    g.output("y", &[1, 2]);
    Case {
        name: "attention_like",
        input: vec![1, s_len as i64, d as i64],
        output: vec![1, 2],
        model: g.build(&[("", 13), (QONNX_DOMAIN, 1)]).encode_to_vec(),
    }
}

fn cases() -> Vec<Case> {
    vec![residual(), deep_set(), pairs(), torch_pairs(), attention_like()]
}

fn write(case: &Case, dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("{}.onnx", case.name));
    std::fs::write(&path, &case.model).unwrap();
    path
}

#[test]
fn interpreter_equals_float_semantics() {
    let dir = scratch("structural");
    for case in cases() {
        let path = write(&case, &dir);
        let g = tachyon_frontend::load_model(&path).unwrap();
        let m = tachyon_quantize::lower(&g, &Config::default()).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        assert_eq!(
            g.value(g.outputs[0]).shape.as_deref(),
            Some(&case.output.iter().map(|&d| d as usize).collect::<Vec<_>>()[..])
        );
        let shape: Vec<usize> = case.input.iter().map(|&d| d as usize).collect();
        let count: usize = shape.iter().product();
        let mut rng = Rng::new(5);
        for _ in 0..500 {
            let x: Vec<f64> = (0..count).map(|_| (rng.below(4001) as f64 - 2000.0) / 97.0).collect();
            let want =
                tachyon_frontend::eval::run_float(&g, &[Tensor::new(DType::F32, shape.clone(), x.clone())]).unwrap();
            let got = interp::evaluate(&m, &x).unwrap();
            assert_eq!(got, want[0].data, "{}: x={x:?}", case.name);
        }
    }
}

#[test]
fn structural_models_cosimulate() {
    let dir = scratch("structural_rtl");
    for case in cases() {
        let path = write(&case, &dir);
        let out = dir.join(case.name);
        let mut o = build_options(path, &out);
        o.force = true;
        build(&o).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        lint_and_cosim(&out, 2000);
    }
}

/// Softmax along one axis of a multi-row tensor (attention scores): the last axis and a middle
/// axis. The tables approximate exp and 1/x, so the interpreter is compared with the float
/// semantics within the tables' error, and the RTL with the interpreter exactly.
#[test]
fn softmax_along_an_axis_of_several_rows() {
    let dir = scratch("softmax_rows");
    std::fs::create_dir_all(&dir).unwrap();
    for (k, axis) in [-1i64, 1].into_iter().enumerate() {
        let mut g = GraphBuilder::new("softmax_rows");
        let x = g.input("x", &[1, 3, 4]);
        let xq = q(&mut g, &x, "xq", 3, 8.0);
        let sm = g.node("Softmax", "", "attn_softmax", &[&xq], &["sm"], vec![Attr::int("axis", axis)]);
        g.node("Identity", "", "out", &[&sm], &["y"], vec![]);
        g.output("y", &[1, 3, 4]);
        let path = dir.join(format!("softmax_{k}.onnx"));
        std::fs::write(&path, g.build(&[("", 13), (QONNX_DOMAIN, 1)]).encode_to_vec()).unwrap();
        let graph = tachyon_frontend::load_model(&path).unwrap();
        let m = tachyon_quantize::lower(&graph, &Config::default()).unwrap();
        let mut rng = Rng::new(3);
        let mut worst: f64 = 0.0;
        for _ in 0..300 {
            let x: Vec<f64> = (0..12).map(|_| (rng.below(161) as f64 - 80.0) / 16.0).collect();
            let want = tachyon_frontend::eval::run_float(&graph, &[Tensor::new(DType::F32, vec![1, 3, 4], x.clone())])
                .unwrap();
            let got = interp::evaluate(&m, &x).unwrap();
            // Each softmax group sums to 1 in the float model.
            for (a, b) in got.iter().zip(&want[0].data) {
                worst = worst.max((a - b).abs());
            }
        }
        assert!(worst < 0.01, "axis {axis}: softmax rows off by {worst}");
        let out = dir.join(format!("out{k}"));
        build(&build_options(&path, &out)).unwrap();
        lint_and_cosim(&out, 1000);
    }
}

/// LayerNormalization over the last axis of [1, 3, F] (tokens), F = 4 and 5, with Scale and B,
/// followed by a Quant. The 1/√x tables approximate the float semantics: the interpreter stays
/// within two output steps of them, and the RTL equals the interpreter exactly — including rows
/// with zero variance (ε alone).
#[test]
fn layer_normalization_of_tokens() {
    let dir = scratch("layernorm");
    std::fs::create_dir_all(&dir).unwrap();
    for f in [4usize, 5] {
        let mut rng = Rng::new(f as u64);
        let mut g = GraphBuilder::new("layernorm");
        let x = g.input("x", &[1, 3, f as i64]);
        let xq = q(&mut g, &x, "xq", 4, 8.0);
        let scale = g.initializer_f32("gamma", &[f], &weights(&mut rng, f));
        let bias = g.initializer_f32("beta", &[f], &weights(&mut rng, f));
        let ln = g.node(
            "LayerNormalization",
            "",
            "ln",
            &[&xq, &scale, &bias],
            &["ln_out"],
            vec![Attr::int("axis", -1), Attr::float("epsilon", 1e-3)],
        );
        let y = q(&mut g, &ln, "yq", 5, 10.0);
        g.node("Identity", "", "out", &[&y], &["y"], vec![]);
        g.output("y", &[1, 3, f as i64]);
        let path = dir.join(format!("ln{f}.onnx"));
        std::fs::write(&path, g.build(&[("", 17), (QONNX_DOMAIN, 1)]).encode_to_vec()).unwrap();
        let graph = tachyon_frontend::load_model(&path).unwrap();
        let m = tachyon_quantize::lower(&graph, &Config::default()).unwrap();
        let mut worst: f64 = 0.0;
        for k in 0..400 {
            let x: Vec<f64> = if k % 50 == 0 {
                vec![(k / 50) as f64 * 0.25; 3 * f] // equal values: zero variance
            } else {
                (0..3 * f).map(|_| (rng.below(161) as f64 - 80.0) / 16.0).collect()
            };
            let want = tachyon_frontend::eval::run_float(&graph, &[Tensor::new(DType::F32, vec![1, 3, f], x.clone())])
                .unwrap();
            let got = interp::evaluate(&m, &x).unwrap();
            for (a, b) in got.iter().zip(&want[0].data) {
                worst = worst.max((a - b).abs());
            }
        }
        assert!(worst <= 2.0 / 32.0, "F = {f}: layer normalization off by {worst}");
        let out = dir.join(format!("out{f}"));
        build(&build_options(&path, &out)).unwrap();
        lint_and_cosim(&out, 1000);
    }
}
