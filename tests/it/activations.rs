//! Element-wise float functions (Selu, Elu, Celu, Softplus, Softsign, HardSwish, Mish, Exp, Log,
//! Abs; Tanh in float models) and float batch norm, on models built here and checked against
//! the reference executors:
//!
//! * between two QONNX quantizers every input code must give exactly qonnx's output (the
//!   function's float32 value quantized by the next Quant), and the RTL the interpreter's;
//! * in a float model the function is a table at the config's precision: with one entry per
//!   input code it is within half a result step of onnxruntime; with entries spanning several
//!   codes within `|f(mid) − f(x)|` more (the table's bound, computed here per sample);
//! * a batch norm after a dense layer of a float model is folded into its float weights before
//!   they are quantized (the DSP count stays that of the MLP without it), and hls4ml's
//!   `three_layer_bn_keras` (keras2onnx's transposed batch norm) builds and matches onnxruntime.

use crate::common::*;
use prost::Message;
use std::path::Path;
use tachyon_common::onnx_builder::{Attr, GraphBuilder, QONNX_DOMAIN};
use tachyon_driver::project::build;
use tachyon_quantize::{interp, Config, QModel};

/// One function: its ONNX op, attributes, and an independent binary64 definition.
struct Func {
    op: &'static str,
    attrs: fn() -> Vec<Attr>,
    f: fn(f64) -> f64,
}

fn softplus(x: f64) -> f64 {
    if x > 30.0 {
        x
    } else {
        x.exp().ln_1p()
    }
}

const SELU_A: f64 = 1.673_263_192_176_818_8;
const SELU_G: f64 = 1.050_701_022_148_132_3;

fn funcs() -> Vec<Func> {
    vec![
        Func {
            op: "Selu",
            attrs: Vec::new,
            f: |x| if x > 0.0 { SELU_G * x } else { SELU_G * SELU_A * (x.exp() - 1.0) },
        },
        Func {
            op: "Elu",
            attrs: || vec![Attr::float("alpha", 0.5)],
            f: |x| if x >= 0.0 { x } else { 0.5 * x.exp_m1() },
        },
        Func {
            op: "Celu",
            attrs: || vec![Attr::float("alpha", 1.5)],
            f: |x| x.max(0.0) + (1.5 * (x / 1.5).exp_m1()).min(0.0),
        },
        Func { op: "Softplus", attrs: Vec::new, f: softplus },
        Func { op: "Softsign", attrs: Vec::new, f: |x| x / (1.0 + x.abs()) },
        Func { op: "HardSwish", attrs: Vec::new, f: |x| x * (x / 6.0 + 0.5).clamp(0.0, 1.0) },
        Func { op: "Mish", attrs: Vec::new, f: |x| x * softplus(x).tanh() },
        Func { op: "Exp", attrs: Vec::new, f: f64::exp },
        Func { op: "Log", attrs: Vec::new, f: f64::ln },
        Func { op: "Abs", attrs: Vec::new, f: f64::abs },
        Func { op: "Tanh", attrs: Vec::new, f: f64::tanh },
    ]
}

const N: usize = 16;

/// x[1,16] → (QONNX: Quant 2^-4, 8 bits) → one branch per function (QONNX: → Quant 2^-5, 8
/// bits; Log reads Relu(x), its domain) → Concat → y[1, 16·functions].
fn model(quantized: bool) -> Vec<u8> {
    let fs = funcs();
    let mut g = GraphBuilder::new(if quantized { "acts_q" } else { "acts_f" });
    let x = g.input("x", &[1, N as i64]);
    g.output("y", &[1, (N * fs.len()) as i64]);
    let xq = if quantized { g.quant(&x, "xq", 1.0 / 16.0, 0.0, 8.0, true, false, "ROUND") } else { x.clone() };
    let mut outs = vec![];
    for f in &fs {
        let name = f.op.to_ascii_lowercase();
        let src = if quantized && f.op == "Log" {
            g.node("Relu", "", "log_relu", &[&xq], &["log_relu"], vec![])
        } else {
            xq.clone()
        };
        let y = g.node(f.op, "", &name, &[&src], &[&format!("{name}_y")], (f.attrs)());
        outs.push(if quantized {
            g.quant(&y, &format!("{name}_q"), 1.0 / 32.0, 0.0, 8.0, true, false, "ROUND")
        } else {
            y
        });
    }
    let refs: Vec<&str> = outs.iter().map(String::as_str).collect();
    g.node("Concat", "", "concat", &refs, &["y"], vec![Attr::int("axis", 1)]);
    g.build(&[("", 18), (QONNX_DOMAIN, 1)]).encode_to_vec()
}

/// Every code of the 8-bit input quantizer, then off-grid values (ties of the 2^-4 grid, values
/// beyond its range).
fn quantized_inputs() -> Vec<Vec<f64>> {
    let codes: Vec<f64> = (-128..128).map(|k| f64::from(k) / 16.0).collect();
    let mut rows: Vec<Vec<f64>> = codes.chunks(N).map(|c| c.to_vec()).collect();
    let mut r = Lcg(5);
    rows.extend((0..6).map(|_| (0..N).map(|_| r.int(-2600, 2600) as f64 / 256.0).collect()));
    rows
}

fn flat(rows: &[Vec<f64>]) -> Vec<f32> {
    rows.iter().flatten().map(|&v| v as f32).collect()
}

#[test]
fn between_quantizers_every_code_equals_qonnx_and_the_rtl_the_interpreter() {
    let dir = scratch("activations_q");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("acts_q.onnx");
    std::fs::write(&path, model(true)).unwrap();
    let g = tachyon_frontend::load_model(&path).unwrap();
    let m = tachyon_quantize::lower(&g, &Config::default()).unwrap();
    let xs = quantized_inputs();
    if let Some(want) = reference_outputs(&path, &flat(&xs), N, Reference::Qonnx) {
        for (x, w) in xs.iter().zip(&want) {
            let got: Vec<f32> = interp::evaluate(&m, x).unwrap().iter().map(|&v| v as f32).collect();
            for (k, f) in funcs().iter().enumerate() {
                let s = k * N..(k + 1) * N;
                assert_eq!(got[s.clone()], w[s], "{} on {x:?}", f.op);
            }
        }
    }
    let out = dir.join("prj");
    build(&build_options(&path, &out)).unwrap();
    cosim_random(&out, 300);
}

#[test]
fn log_of_a_signed_quantizer_is_a_clear_error() {
    let dir = scratch("activations_log_err");
    std::fs::create_dir_all(&dir).unwrap();
    let mut g = GraphBuilder::new("log_err");
    let x = g.input("x", &[1, 4]);
    g.output("y", &[1, 4]);
    let xq = g.quant(&x, "xq", 0.25, 0.0, 6.0, true, false, "ROUND");
    let l = g.node("Log", "", "the_log", &[&xq], &["l"], vec![]);
    g.quant(&l, "y", 0.25, 0.0, 6.0, true, false, "ROUND");
    let path = dir.join("log_err.onnx");
    std::fs::write(&path, g.build(&[("", 13), (QONNX_DOMAIN, 1)]).encode_to_vec()).unwrap();
    let graph = tachyon_frontend::load_model(&path).unwrap();
    let e = tachyon_quantize::lower(&graph, &Config::default()).unwrap_err().to_string();
    for want in ["log_err.onnx", "the_log", "NaN", "-8", "unsigned Quant before Log"] {
        assert!(e.contains(want), "{want:?} missing from: {e}");
    }
}

/// The float model's outputs against onnxruntime, the table bound per sample: `|y − clamp(f(x))|
/// ≤ |f(mid) − f(x)| + 2^-11 + float32 slack`, `mid` the middle of the codes that share x's entry
/// (`shift` bits of the input code dropped) and f clamped to fixed<16,6>'s range.
fn check_float(config: &str, frac: i32, shift: u32, xs: &[Vec<f64>]) -> Option<()> {
    let dir = scratch(&format!("activations_f{shift}"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("acts_f.onnx");
    std::fs::write(&path, model(false)).unwrap();
    let g = tachyon_frontend::load_model(&path).unwrap();
    let cfg = Config::parse(config).unwrap();
    let m = tachyon_quantize::lower(&g, &cfg).unwrap();
    let want = reference_outputs(&path, &flat(xs), N, Reference::Ort)?;
    let (lo, hi) = (-32.0, 32.0 - 2f64.powi(-10));
    let clamp = |v: f64| if v.is_nan() { lo } else { v.clamp(lo, hi) };
    let mut worst = vec![0f64; funcs().len()];
    for (x, w) in xs.iter().zip(&want) {
        let got = interp::evaluate(&m, x).unwrap();
        for (k, f) in funcs().iter().enumerate() {
            for i in 0..N {
                let code = (x[i] * 2f64.powi(frac)) as i64;
                let first = (code >> shift) << shift;
                let mid = (first as f64 + (first + (1 << shift) - 1) as f64) / 2.0 * 2f64.powi(-frac);
                let r = clamp(f64::from(w[k * N + i]));
                let table = (clamp((f.f)(mid)) - clamp((f.f)(x[i]))).abs();
                let bound = table + 2f64.powi(-11) + 1e-6 * r.abs().max(1.0);
                let d = (got[k * N + i] - r).abs();
                assert!(
                    d <= bound,
                    "{} at x = {}: tachyon {} onnxruntime {r} (bound {bound})",
                    f.op,
                    x[i],
                    got[k * N + i]
                );
                worst[k] = worst[k].max(d);
            }
        }
    }
    let names: Vec<String> = funcs().iter().zip(&worst).map(|(f, w)| format!("{} {w:.2e}", f.op)).collect();
    println!("max |Δ| vs onnxruntime ({config}): {}", names.join(", "));
    Some(())
}

#[test]
fn float_model_one_entry_per_code_within_half_a_step_of_onnxruntime_and_cosimulated() {
    // fixed<10,4>: 1,024 input codes, so each has its own entry: |Δ| ≤ 2^-11 (result grid 2^-10).
    let xs: Vec<Vec<f64>> =
        (-512..512).map(|k| f64::from(k) / 64.0).collect::<Vec<_>>().chunks(N).map(|c| c.to_vec()).collect();
    let cfg = r#"{"input": "fixed<10,4>"}"#;
    check_float(cfg, 6, 0, &xs);
    let dir = scratch("activations_f_rtl");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("acts_f.onnx");
    std::fs::write(&path, model(false)).unwrap();
    std::fs::write(dir.join("c.json"), cfg).unwrap();
    let out = dir.join("prj");
    let mut o = build_options(&path, &out);
    o.config = Some(dir.join("c.json"));
    build(&o).unwrap();
    cosim_random(&out, 300);
}

#[test]
fn float_model_default_precision_within_the_table_bound() {
    // fixed<16,6> input: 65,536 codes, 1,024 entries of 64 codes each.
    let mut r = Lcg(9);
    let xs: Vec<Vec<f64>> = (0..40).map(|_| (0..N).map(|_| r.int(-30000, 30000) as f64 / 1024.0).collect()).collect();
    check_float("{}", 10, 6, &xs);
}

/// Where a float MLP 16 → 32 → 16 → 5 (Gemm, Relu) has BatchNormalizations.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Bn {
    None,
    /// Right after each Gemm (Keras Dense → BatchNormalization → ReLU): folded into the weights.
    AfterDense,
    /// After each ReLU: a layer of its own with a result type.
    AfterRelu,
}

fn mlp(bn: Bn) -> Vec<u8> {
    let mut r = Lcg(21);
    let mut w =
        |n: usize, scale: f64| -> Vec<f32> { (0..n).map(|_| (r.int(-1000, 1000) as f64 * scale) as f32).collect() };
    let mut g = GraphBuilder::new("mlp");
    let mut h = g.input("x", &[1, 16]);
    g.output("y", &[1, 5]);
    for (i, (k, n)) in [(16usize, 32usize), (32, 16), (16, 5)].into_iter().enumerate() {
        let wt = g.initializer_f32(&format!("w{i}"), &[k, n], &w(k * n, 0.4e-3));
        let b = g.initializer_f32(&format!("b{i}"), &[n], &w(n, 0.2e-3));
        h = g.node("Gemm", "", &format!("dense{i}"), &[&h, &wt, &b], &[&format!("d{i}")], vec![]);
        let s: Vec<f32> = w(n, 0.5e-3).iter().map(|v| 1.0 + v).collect();
        let (be, mu) = (w(n, 0.3e-3), w(n, 0.2e-3));
        let var: Vec<f32> = w(n, 0.4e-3).iter().map(|v| 1.0 + v).collect();
        let norm = |g: &mut GraphBuilder, h: &str| -> String {
            let s = g.initializer_f32(&format!("s{i}"), &[n], &s);
            let be = g.initializer_f32(&format!("be{i}"), &[n], &be);
            let mu = g.initializer_f32(&format!("mu{i}"), &[n], &mu);
            let var = g.initializer_f32(&format!("var{i}"), &[n], &var);
            g.node(
                "BatchNormalization",
                "",
                &format!("bn{i}"),
                &[h, &s, &be, &mu, &var],
                &[&format!("bn{i}_y")],
                vec![],
            )
        };
        if bn == Bn::AfterDense {
            h = norm(&mut g, &h);
        }
        if i < 2 {
            h = g.node("Relu", "", &format!("relu{i}"), &[&h], &[&format!("r{i}")], vec![]);
            if bn == Bn::AfterRelu {
                h = norm(&mut g, &h);
            }
        }
    }
    g.node("Identity", "", "out", &[&h], &["y"], vec![]);
    g.build(&[("", 13)]).encode_to_vec()
}

/// The largest `|interpreter − onnxruntime|` over the outputs of `xs` (rows of the model's
/// input); `None` when no onnxruntime is available (the reference helper says why).
fn max_diff_to_onnxruntime(path: &Path, q: &QModel, xs: &[Vec<f64>]) -> Option<f64> {
    let width = xs.first().map_or(0, Vec::len);
    let want = reference_outputs(path, &flat(xs), width, Reference::Ort)?;
    let mut maxd = 0f64;
    for (x, w) in xs.iter().zip(&want) {
        for (a, b) in interp::evaluate(q, x).unwrap().iter().zip(w) {
            maxd = maxd.max((a - f64::from(*b)).abs());
        }
    }
    Some(maxd)
}

#[test]
fn float_batch_norm_is_folded_into_the_dense_weights() {
    let dir = scratch("activations_bn");
    std::fs::create_dir_all(&dir).unwrap();
    let mut dsp = vec![];
    let mut err = vec![];
    let xs: Vec<Vec<f64>> = {
        let mut r = Lcg(3);
        (0..64).map(|_| (0..16).map(|_| r.int(-3000, 3000) as f64 / 1000.0).collect()).collect()
    };
    for bn in [Bn::None, Bn::AfterDense, Bn::AfterRelu] {
        let path = dir.join(format!("mlp_{bn:?}.onnx"));
        std::fs::write(&path, mlp(bn)).unwrap();
        let b = tachyon_driver::project::compile(&path, &Config::default(), 5.0, "tachyon_top", None).unwrap();
        let text = b.qmodel.to_string();
        // After a dense layer: one Linear per dense layer, the batch norm folded in. After a
        // ReLU: its own layer, requantized to its result type before the next dense layer.
        assert_eq!(text.contains("[dense0, bn0]") && text.contains("[dense2, bn2]"), bn == Bn::AfterDense, "{text}");
        assert_eq!(text.contains("; bn0_result [bn0]"), bn == Bn::AfterRelu, "{text}");
        err.extend(max_diff_to_onnxruntime(&path, &b.qmodel, &xs));
        dsp.push(b.design.report.total.dsp);
    }
    println!("no / folded / separate batch norm: DSPs {dsp:?}, max |Δ| vs onnxruntime {err:?}");
    assert!(dsp[1] <= dsp[0] + dsp[0] / 5 + 2, "DSPs without / with batch norm: {dsp:?}");
    // A separate batch norm multiplies each of its 48 elements once (on a DSP at most).
    assert!(dsp[2] <= dsp[0] + dsp[0] / 5 + 48, "DSPs without / with batch norm after ReLU: {dsp:?}");
    // Truncating fixed<16,6> layers: the models with batch norm are as close to onnxruntime as
    // the one without.
    if let [plain, folded, separate] = err[..] {
        assert!(folded < 2.0 * plain + 0.02 && separate < 2.0 * plain + 0.02, "max |Δ|: {err:?}");
    }
}

/// keras2onnx's batch norm after a Dense (Transpose [1, C] → [C, 1], BatchNormalization with C
/// parameters, Transpose back), which onnxruntime refuses: Tachyon reads it per feature, as
/// Keras means it. The reference is onnxruntime on the same model with the Transposes made
/// Identity (BatchNormalization then sees [1, C], its C channels).
#[test]
fn three_layer_bn_keras_builds_and_matches_onnxruntime() {
    let Some(d) = shared_models() else { return };
    let model = d.join("hls4ml-example-models/three_layer_bn_keras.onnx");
    let dir = scratch("three_layer_bn_keras");
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = std::fs::read(&model).unwrap();
    let mut proto = tachyon_frontend::proto::ModelProto::decode(bytes.as_slice()).unwrap();
    let graph = proto.graph.as_mut().unwrap();
    let mut transposes = 0;
    for n in graph.node.iter_mut().filter(|n| n.op_type == "Transpose") {
        n.op_type = "Identity".into();
        transposes += 1;
    }
    assert_eq!(transposes, 8);
    let repaired = dir.join("repaired.onnx");
    std::fs::write(&repaired, proto.encode_to_vec()).unwrap();
    let a = tachyon_common::npy::read_npy(d.join("hls4ml-example-models/three_layer_keras.input.npy")).unwrap();
    let xs: Vec<Vec<f64>> = a.to_f64().chunks(16).take(300).map(|c| c.to_vec()).collect();
    let out = dir.join("prj");
    build(&build_options(&model, &out)).unwrap();
    let Some(want) = reference_outputs(&repaired, &flat(&xs), 16, Reference::Ort) else { return };
    let (_, loaded) = tachyon_driver::project::load(&out).unwrap();
    let g = tachyon_frontend::load_model(&model).unwrap();
    let mut float_maxd = 0f64;
    for (x, w) in xs.iter().zip(&want) {
        // Tachyon's float semantics of the original file equal onnxruntime's of the repaired one.
        let t = tachyon_frontend::Tensor::new(tachyon_frontend::DType::F32, vec![1, 16], x.clone());
        for (a, b) in tachyon_frontend::eval::run_float(&g, &[t]).unwrap()[0].data.iter().zip(w) {
            float_maxd = float_maxd.max((a - f64::from(*b)).abs());
        }
    }
    assert!(float_maxd < 1e-5, "float semantics differ from onnxruntime's by {float_maxd}");
    let argmax = |v: &[f64]| (0..v.len()).fold(0, |b, k| if v[k] > v[b] { k } else { b });
    let compare = |q: &tachyon_quantize::QModel| -> (f64, f64) {
        let (mut agree, mut maxd) = (0, 0f64);
        for (x, w) in xs.iter().zip(&want) {
            let w: Vec<f64> = w.iter().map(|&v| f64::from(v)).collect();
            let got = interp::evaluate(q, x).unwrap();
            for (a, b) in got.iter().zip(&w) {
                maxd = maxd.max((a - b).abs());
            }
            agree += usize::from(argmax(&got) == argmax(&w));
        }
        (agree as f64 / xs.len() as f64, maxd)
    };
    // hls4ml's default fixed<16,6>: the last batch norm reaches 33 on a few samples and wraps
    // (as in hls4ml), so only the argmax is compared, like the other hls4ml float examples.
    let (agreement, maxd) = compare(&loaded.qmodel);
    println!("three_layer_bn_keras at fixed<16,6>: argmax agreement {:.1} %, max |Δ| {maxd:.4}", agreement * 100.0);
    assert!(agreement >= 0.95, "agreement {agreement}");
    // Two more integer bits for the results: no overflow, and the probabilities match closely.
    let cfg = tachyon_quantize::Config::parse(r#"{"default": {"result": "fixed<18,8>"}}"#).unwrap();
    let wide = tachyon_driver::project::compile(&model, &cfg, 5.0, "tachyon_top", None).unwrap();
    let (agreement, maxd) = compare(&wide.qmodel);
    println!("three_layer_bn_keras at fixed<18,8>: argmax agreement {:.1} %, max |Δ| {maxd:.4}", agreement * 100.0);
    assert!(agreement >= 0.98 && maxd < 0.05, "agreement {agreement}, max |Δ| {maxd}");
}

/// A float CNN (Conv → BatchNormalization → ReLU, twice, then a dense layer): each batch norm
/// is folded into its convolution's float weights before they are quantized (hls4ml's
/// batch-norm fusion), so the design costs what the CNN without batch norm costs, and the
/// outputs stay as close to onnxruntime's.
fn cnn(with_bn: bool) -> Vec<u8> {
    let mut r = Lcg(77);
    let mut w =
        |n: usize, scale: f64| -> Vec<f32> { (0..n).map(|_| (r.int(-1000, 1000) as f64 * scale) as f32).collect() };
    let mut g = GraphBuilder::new("cnn");
    let mut h = g.input("x", &[1, 2, 8, 8]);
    g.output("y", &[1, 4]);
    for (i, (cin, cout)) in [(2usize, 4usize), (4, 4)].into_iter().enumerate() {
        let k = g.initializer_f32(&format!("k{i}"), &[cout, cin, 3, 3], &w(cout * cin * 9, 0.5e-3));
        let b = g.initializer_f32(&format!("kb{i}"), &[cout], &w(cout, 0.2e-3));
        h = g.node(
            "Conv",
            "",
            &format!("conv{i}"),
            &[&h, &k, &b],
            &[&format!("c{i}")],
            vec![Attr::ints("kernel_shape", &[3, 3]), Attr::ints("pads", &[1, 1, 1, 1])],
        );
        if with_bn {
            let s: Vec<f32> = w(cout, 0.5e-3).iter().map(|v| 1.0 + v).collect();
            let var: Vec<f32> = w(cout, 0.4e-3).iter().map(|v| 1.0 + v).collect();
            let s = g.initializer_f32(&format!("s{i}"), &[cout], &s);
            let be = g.initializer_f32(&format!("be{i}"), &[cout], &w(cout, 0.3e-3));
            let mu = g.initializer_f32(&format!("mu{i}"), &[cout], &w(cout, 0.2e-3));
            let var = g.initializer_f32(&format!("var{i}"), &[cout], &var);
            h = g.node(
                "BatchNormalization",
                "",
                &format!("bn{i}"),
                &[&h, &s, &be, &mu, &var],
                &[&format!("bn{i}_y")],
                vec![],
            );
        }
        h = g.node("Relu", "", &format!("relu{i}"), &[&h], &[&format!("r{i}")], vec![]);
    }
    let shape = g.initializer_i64("flat_shape", &[2], &[1, 256]);
    h = g.node("Reshape", "", "flatten", &[&h, &shape], &["f"], vec![]);
    let wd = g.initializer_f32("wd", &[256, 4], &w(256 * 4, 0.2e-3));
    let bd = g.initializer_f32("bd", &[4], &w(4, 0.1e-3));
    g.node("Gemm", "", "dense", &[&h, &wd, &bd], &["y"], vec![]);
    g.build(&[("", 13)]).encode_to_vec()
}

#[test]
fn float_batch_norm_is_folded_into_the_conv_weights() {
    let dir = scratch("activations_conv_bn");
    std::fs::create_dir_all(&dir).unwrap();
    let xs: Vec<Vec<f64>> = {
        let mut r = Lcg(5);
        (0..32).map(|_| (0..128).map(|_| r.int(-3000, 3000) as f64 / 1000.0).collect()).collect()
    };
    let (mut dsp, mut cost) = (vec![], vec![]);
    let mut err = vec![];
    for with_bn in [false, true] {
        let path = dir.join(format!("cnn_{with_bn}.onnx"));
        std::fs::write(&path, cnn(with_bn)).unwrap();
        let b = tachyon_driver::project::compile(&path, &Config::default(), 5.0, "tachyon_top", None).unwrap();
        let text = b.qmodel.to_string();
        assert_eq!(text.contains("[conv0, bn0]") && text.contains("[conv1, bn1]"), with_bn, "{text}");
        err.extend(max_diff_to_onnxruntime(&path, &b.qmodel, &xs));
        dsp.push(b.design.report.total.dsp);
        cost.push(b.design.report.total.lut + 100 * b.design.report.total.dsp);
    }
    println!(
        "CNN without / with folded batch norm: DSPs {dsp:?}, LUT + 100·DSP {cost:?}, max |Δ| vs onnxruntime {err:?}"
    );
    // Folded, the batch norm costs about what the convolution alone does (unfolded it took
    // 10,762 DSPs); a folded coefficient may have a digit more, so count DSPs at their price.
    assert!(cost[1] <= cost[0] + cost[0] / 5 + 200, "LUT + 100·DSP without / with batch norm: {cost:?}");
    if let [plain, folded] = err[..] {
        assert!(folded < 2.0 * plain + 0.02, "max |Δ|: {err:?}");
    }
}
