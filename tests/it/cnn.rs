//! Convolutional networks in both hardware styles — `parallel` (every layer unrolled, II = 1)
//! and `stream` (pixels one per clock through line buffers, II = pixels) — end to end on small
//! QONNX models built here: Conv 2-D (stride, non-square kernel, one-sided pads, dilation,
//! bias, quantized weights), depthwise and pointwise Conv, Conv 1-D, MaxPool and AveragePool
//! (stride, padding, `count_include_pad` 0 and 1, counts that are not powers of two), global
//! pools, Pad (constant, reflect, edge), Concat on the channel axis, a residual Add of two conv
//! branches, Clip, LeakyRelu, Tanh and HardSigmoid before a Quant, and the Transposes Keras
//! exporters put around channels-last graphs.
//!
//! For every fixture the interpreter must equal the float QONNX semantics exactly on a few
//! hundred random inputs, and in both styles the Verilog must lint clean and the RTL must equal
//! the interpreter on random vectors (the stream design also with idle gaps between frames).
//! The hls4ml `conv1d_small_keras` and `conv2d_small_keras` models (float models, config
//! precision) are built in both styles and co-simulated on their own input samples when
//! `../shared/models` is present; random window geometries are co-simulated in the stream
//! style.

use crate::common::*;
use prost::Message;
use std::path::{Path, PathBuf};
use tachyon_common::onnx_builder::{Attr, GraphBuilder, QONNX_DOMAIN};
use tachyon_common::rng::Rng;
use tachyon_driver::project::build;
use tachyon_frontend::{DType, Tensor};
use tachyon_quantize::{interp, Config};

/// Random values on the 2^-`frac` grid in [-`lim`, `lim`].
fn grid(rng: &mut Rng, n: usize, frac: i32, lim: f32) -> Vec<f32> {
    let steps = (lim * 2f32.powi(frac)) as u64;
    (0..n).map(|_| (rng.below(2 * steps + 1) as f32 - steps as f32) * 2f32.powi(-frac)).collect()
}

/// `Quant` to `bits` signed bits on the 2^-`frac` grid, rounding half to even.
fn q(g: &mut GraphBuilder, x: &str, y: &str, frac: i32, bits: f32) -> String {
    g.quant(x, y, 2f32.powi(-frac), 0.0, bits, true, false, "ROUND")
}

/// Geometry and extras of one Conv node.
#[derive(Default)]
struct ConvSpec<'a> {
    cin: usize,
    cout: usize,
    kernel: &'a [usize],
    strides: Option<&'a [i64]>,
    pads: Option<&'a [i64]>,
    dilations: Option<&'a [i64]>,
    /// `auto_pad` (e.g. `SAME_UPPER`, as some Keras exporters write padding='same').
    auto_pad: Option<&'a str>,
    group: usize,
    bias: bool,
    /// Float weights quantized by a weight `Quant` node (as QONNX exporters write them) rather
    /// than stored on the grid.
    weight_quant: bool,
}

/// A Conv node with fresh weights (2^-3 grid in [-1, 1]) and bias (2^-4 grid).
fn conv(g: &mut GraphBuilder, rng: &mut Rng, x: &str, name: &str, s: ConvSpec) -> String {
    let group = s.group.max(1);
    let mut wshape = vec![s.cout, s.cin / group];
    wshape.extend_from_slice(s.kernel);
    let count: usize = wshape.iter().product();
    let mut w = if s.weight_quant {
        let raw: Vec<f32> = (0..count).map(|_| (rng.uniform() as f32 - 0.5) * 2.2).collect();
        let w = g.initializer_f32(&format!("{name}_wf"), &wshape, &raw);
        q(g, &w, &format!("{name}_w"), 3, 5.0)
    } else {
        let w = grid(rng, count, 3, 1.0);
        g.initializer_f32(&format!("{name}_w"), &wshape, &w)
    };
    let mut inputs = vec![x.to_string(), std::mem::take(&mut w)];
    if s.bias {
        let b = grid(rng, s.cout, 4, 1.0);
        inputs.push(g.initializer_f32(&format!("{name}_b"), &[s.cout], &b));
    }
    let mut attrs = vec![Attr::ints("kernel_shape", &s.kernel.iter().map(|&k| k as i64).collect::<Vec<_>>())];
    if let Some(v) = s.strides {
        attrs.push(Attr::ints("strides", v));
    }
    if let Some(v) = s.pads {
        attrs.push(Attr::ints("pads", v));
    }
    if let Some(v) = s.dilations {
        attrs.push(Attr::ints("dilations", v));
    }
    if let Some(v) = s.auto_pad {
        attrs.push(Attr::string("auto_pad", v));
    }
    if group > 1 {
        attrs.push(Attr::int("group", group as i64));
    }
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    g.node("Conv", "", name, &refs, &[&format!("{name}_out")], attrs)
}

/// A pooling node with explicit geometry.
fn pool(g: &mut GraphBuilder, op: &str, x: &str, name: &str, kernel: &[i64], strides: &[i64], pads: &[i64]) -> String {
    let mut attrs = vec![Attr::ints("kernel_shape", kernel), Attr::ints("strides", strides)];
    if !pads.is_empty() {
        attrs.push(Attr::ints("pads", pads));
    }
    g.node(op, "", name, &[x], &[&format!("{name}_out")], attrs)
}

/// A test model: its name, input shape (as the graph declares it) and serialized QONNX.
struct Case {
    name: &'static str,
    /// Whether the stream style applies (reflect and edge pads are position-dependent wiring,
    /// not sliding windows: a model that starts with them stays parallel, and says so).
    streams: bool,
    input: Vec<usize>,
    model: Vec<u8>,
}

fn case(name: &'static str, input: &[i64], g: GraphBuilder) -> Case {
    Case {
        name,
        streams: true,
        input: input.iter().map(|&d| d as usize).collect(),
        model: g.build(&[("", 13), (QONNX_DOMAIN, 1)]).encode_to_vec(),
    }
}

/// Conv 2-D: stride 2 on one axis, a 3×2 kernel, pads on one side only, quantized weights,
/// bias; then a dilated conv with symmetric pads. NCHW input.
fn conv2d_geometry() -> Case {
    let mut rng = Rng::new(101);
    let mut g = GraphBuilder::new("conv2d_geometry");
    let x = g.input("x", &[1, 2, 7, 5]);
    let xq = q(&mut g, &x, "xq", 3, 7.0);
    let spec = ConvSpec {
        cin: 2,
        cout: 3,
        kernel: &[3, 2],
        strides: Some(&[2, 1]),
        pads: Some(&[1, 0, 0, 1]),
        bias: true,
        weight_quant: true,
        ..Default::default()
    };
    let c1 = conv(&mut g, &mut rng, &xq, "conv1", spec);
    let c1q = q(&mut g, &c1, "conv1_q", 2, 8.0);
    let r1 = g.node("Relu", "", "relu1", &[&c1q], &["relu1_out"], vec![]);
    let spec = ConvSpec {
        cin: 3,
        cout: 2,
        kernel: &[2, 2],
        pads: Some(&[1, 1, 1, 1]),
        dilations: Some(&[1, 2]),
        bias: true,
        ..Default::default()
    };
    let c2 = conv(&mut g, &mut rng, &r1, "conv2", spec);
    q(&mut g, &c2, "y", 2, 8.0);
    g.output("y", &[1, 2, 4, 5]);
    case("conv2d_geometry", &[1, 2, 7, 5], g)
}

/// Depthwise 3×3 conv (group = channels), Clip (ReLU6-like, bounds on a finer grid than the
/// tensor), pointwise 1×1 conv, LeakyRelu with alpha 1/8.
fn depthwise_pointwise() -> Case {
    let mut rng = Rng::new(102);
    let mut g = GraphBuilder::new("depthwise_pointwise");
    let x = g.input("x", &[1, 3, 6, 5]);
    let xq = q(&mut g, &x, "xq", 3, 6.0);
    let spec = ConvSpec {
        cin: 3,
        cout: 3,
        kernel: &[3, 3],
        pads: Some(&[1, 1, 1, 1]),
        group: 3,
        bias: true,
        ..Default::default()
    };
    let dw = conv(&mut g, &mut rng, &xq, "dw", spec);
    let dwq = q(&mut g, &dw, "dw_q", 2, 8.0);
    let lo = g.initializer_f32("clip_lo", &[], &[0.0]);
    let hi = g.initializer_f32("clip_hi", &[], &[3.125]);
    let cl = g.node("Clip", "", "clip", &[&dwq, &lo, &hi], &["clip_out"], vec![]);
    let spec = ConvSpec { cin: 3, cout: 4, kernel: &[1, 1], ..Default::default() };
    let pw = conv(&mut g, &mut rng, &cl, "pw", spec);
    let pwq = q(&mut g, &pw, "pw_q", 2, 8.0);
    let lr = g.node("LeakyRelu", "", "leaky", &[&pwq], &["leaky_out"], vec![Attr::float("alpha", 0.125)]);
    q(&mut g, &lr, "y", 4, 9.0);
    g.output("y", &[1, 4, 6, 5]);
    case("depthwise_pointwise", &[1, 3, 6, 5], g)
}

/// Conv 1-D with stride, dilation and uneven pads, max pooling, and a global average over 3
/// positions (an odd count carried into the Quant after it).
fn conv1d() -> Case {
    let mut rng = Rng::new(103);
    let mut g = GraphBuilder::new("conv1d");
    let x = g.input("x", &[1, 3, 12]);
    let xq = q(&mut g, &x, "xq", 3, 7.0);
    let spec = ConvSpec {
        cin: 3,
        cout: 4,
        kernel: &[3],
        strides: Some(&[2]),
        pads: Some(&[2, 1]),
        dilations: Some(&[2]),
        bias: true,
        ..Default::default()
    };
    let c = conv(&mut g, &mut rng, &xq, "conv", spec);
    let cq = q(&mut g, &c, "conv_q", 2, 8.0);
    let r = g.node("Relu", "", "relu", &[&cq], &["relu_out"], vec![]);
    let mp = pool(&mut g, "MaxPool", &r, "maxpool", &[2], &[2], &[]);
    let gap = g.node("GlobalAveragePool", "", "gap", &[&mp], &["gap_out"], vec![]);
    let gq = q(&mut g, &gap, "gap_q", 4, 9.0);
    g.node("Flatten", "", "flat", &[&gq], &["y"], vec![Attr::int("axis", 1)]);
    g.output("y", &[1, 4]);
    case("conv1d", &[1, 3, 12], g)
}

/// MaxPool and two AveragePools (count_include_pad 0: counts 4, 6, 9 by position; 1: a
/// constant count of 6) with stride and padding, concatenated on the channel axis, and a max
/// pool over the concatenation (its channels on two grids, aligned first).
fn pools2d() -> Case {
    let mut g = GraphBuilder::new("pools2d");
    let x = g.input("x", &[1, 2, 7, 5]);
    let xq = q(&mut g, &x, "xq", 2, 7.0);
    let mp = pool(&mut g, "MaxPool", &xq, "maxpool", &[3, 2], &[2, 2], &[1, 0, 1, 1]);
    let a0 = pool(&mut g, "AveragePool", &xq, "avg_excl", &[3, 3], &[2, 2], &[1, 1, 1, 1]);
    let a0q = q(&mut g, &a0, "avg_excl_q", 3, 9.0);
    let a1 = g.node(
        "AveragePool",
        "",
        "avg_incl",
        &[&xq],
        &["avg_incl_out"],
        vec![
            Attr::ints("kernel_shape", &[3, 2]),
            Attr::ints("strides", &[2, 2]),
            Attr::ints("pads", &[1, 0, 1, 1]),
            Attr::int("count_include_pad", 1),
        ],
    );
    let a1q = q(&mut g, &a1, "avg_incl_q", 3, 9.0);
    let cat = g.node("Concat", "", "cat", &[&mp, &a0q, &a1q], &["cat_out"], vec![Attr::int("axis", 1)]);
    g.node("MaxPool", "", "maxpool2", &[&cat], &["y"], vec![Attr::ints("kernel_shape", &[2, 2])]);
    g.output("y", &[1, 6, 3, 2]);
    case("pools2d", &[1, 2, 7, 5], g)
}

/// Pointwise conv, then a global average over 35 positions and a global max, concatenated,
/// flattened and a dense layer.
fn global_pools() -> Case {
    let mut rng = Rng::new(105);
    let mut g = GraphBuilder::new("global_pools");
    let x = g.input("x", &[1, 3, 5, 7]);
    let xq = q(&mut g, &x, "xq", 3, 7.0);
    let spec = ConvSpec { cin: 3, cout: 4, kernel: &[1, 1], bias: true, ..Default::default() };
    let c = conv(&mut g, &mut rng, &xq, "conv", spec);
    let cq = q(&mut g, &c, "conv_q", 2, 8.0);
    let gap = g.node("GlobalAveragePool", "", "gap", &[&cq], &["gap_out"], vec![]);
    let gapq = q(&mut g, &gap, "gap_q", 4, 10.0);
    let gmp = g.node("GlobalMaxPool", "", "gmp", &[&cq], &["gmp_out"], vec![]);
    let cat = g.node("Concat", "", "cat", &[&gapq, &gmp], &["cat_out"], vec![Attr::int("axis", 1)]);
    let fl = g.node("Flatten", "", "flat", &[&cat], &["flat_out"], vec![Attr::int("axis", 1)]);
    let w = grid(&mut rng, 8 * 3, 3, 1.0);
    let w = g.initializer_f32("dense_w", &[8, 3], &w);
    let d = g.node("MatMul", "", "dense", &[&fl, &w], &["dense_out"], vec![]);
    q(&mut g, &d, "y", 2, 10.0);
    g.output("y", &[1, 3]);
    case("global_pools", &[1, 3, 5, 7], g)
}

/// Pad in constant (non-zero value), reflect and edge modes to one shape, concatenated on the
/// channel axis, then a strided conv.
fn pads() -> Case {
    let mut rng = Rng::new(106);
    let mut g = GraphBuilder::new("pads");
    let x = g.input("x", &[1, 2, 5, 4]);
    let xq = q(&mut g, &x, "xq", 3, 7.0);
    let pad = |g: &mut GraphBuilder, name: &str, mode: &str, p: &[i64], value: Option<f32>| {
        let pp = g.initializer_i64(&format!("{name}_pads"), &[8], p);
        let mut ins = vec![xq.clone(), pp];
        if let Some(v) = value {
            ins.push(g.initializer_f32(&format!("{name}_value"), &[], &[v]));
        }
        let refs: Vec<&str> = ins.iter().map(String::as_str).collect();
        g.node("Pad", "", name, &refs, &[&format!("{name}_out")], vec![Attr::string("mode", mode)])
    };
    let pc = pad(&mut g, "pad_const", "constant", &[0, 0, 1, 2, 0, 0, 2, 0], Some(0.75));
    let pr = pad(&mut g, "pad_reflect", "reflect", &[0, 0, 2, 1, 0, 0, 1, 1], None);
    let pe = pad(&mut g, "pad_edge", "edge", &[0, 0, 3, 2, 0, 0, 0, 0], None);
    let cat = g.node("Concat", "", "cat", &[&pc, &pr, &pe], &["cat_out"], vec![Attr::int("axis", 1)]);
    let spec = ConvSpec { cin: 6, cout: 2, kernel: &[3, 3], strides: Some(&[2, 2]), bias: true, ..Default::default() };
    let c = conv(&mut g, &mut rng, &cat, "conv", spec);
    q(&mut g, &c, "y", 2, 9.0);
    g.output("y", &[1, 2, 3, 2]);
    Case { streams: false, ..case("pads", &[1, 2, 5, 4], g) }
}

/// A residual block: two 3×3 convs on one branch, a 1×1 conv on the skip, Add, Quant, Relu.
fn residual() -> Case {
    let mut rng = Rng::new(107);
    let mut g = GraphBuilder::new("residual");
    let x = g.input("x", &[1, 2, 6, 5]);
    let xq = q(&mut g, &x, "xq", 3, 6.0);
    let k3 =
        |cin| ConvSpec { cin, cout: 3, kernel: &[3, 3], pads: Some(&[1, 1, 1, 1]), bias: true, ..Default::default() };
    let a = conv(&mut g, &mut rng, &xq, "conv_a", k3(2));
    let aq = q(&mut g, &a, "conv_a_q", 2, 7.0);
    let ar = g.node("Relu", "", "relu_a", &[&aq], &["relu_a_out"], vec![]);
    let b = conv(&mut g, &mut rng, &ar, "conv_b", k3(3));
    let bq = q(&mut g, &b, "conv_b_q", 2, 8.0);
    let s = conv(&mut g, &mut rng, &xq, "skip", ConvSpec { cin: 2, cout: 3, kernel: &[1, 1], ..Default::default() });
    let sq = q(&mut g, &s, "skip_q", 3, 8.0);
    let add = g.node("Add", "", "add", &[&bq, &sq], &["add_out"], vec![]);
    let addq = q(&mut g, &add, "add_q", 2, 8.0);
    g.node("Relu", "", "relu_out", &[&addq], &["y"], vec![]);
    g.output("y", &[1, 3, 6, 5]);
    case("residual", &[1, 2, 6, 5], g)
}

/// A channels-last graph as Keras exporters write it: NHWC input, Transpose(0,3,1,2) into the
/// convs (after the input Quant, so the transpose is hardware wiring), a 3×2 conv with
/// `auto_pad` SAME_UPPER (the odd padding's extra column at the end), Transpose(0,2,3,1) back
/// before Flatten and a dense layer.
fn keras_nhwc() -> Case {
    let mut rng = Rng::new(108);
    let mut g = GraphBuilder::new("keras_nhwc");
    let x = g.input("x", &[1, 6, 5, 2]);
    let xq = q(&mut g, &x, "xq", 3, 7.0);
    let t = g.node("Transpose", "", "to_nchw", &[&xq], &["nchw"], vec![Attr::ints("perm", &[0, 3, 1, 2])]);
    let spec =
        ConvSpec { cin: 2, cout: 3, kernel: &[3, 2], auto_pad: Some("SAME_UPPER"), bias: true, ..Default::default() };
    let c = conv(&mut g, &mut rng, &t, "conv", spec);
    let cq = q(&mut g, &c, "conv_q", 2, 8.0);
    let r = g.node("Relu", "", "relu", &[&cq], &["relu_out"], vec![]);
    let mp = pool(&mut g, "MaxPool", &r, "maxpool", &[2, 2], &[2, 2], &[]);
    let back = g.node("Transpose", "", "to_nhwc", &[&mp], &["nhwc"], vec![Attr::ints("perm", &[0, 2, 3, 1])]);
    let fl = g.node("Flatten", "", "flat", &[&back], &["flat_out"], vec![Attr::int("axis", 1)]);
    let w = grid(&mut rng, 18 * 4, 3, 1.0);
    let w = g.initializer_f32("dense_w", &[18, 4], &w);
    let d = g.node("MatMul", "", "dense", &[&fl, &w], &["dense_out"], vec![]);
    q(&mut g, &d, "y", 1, 10.0);
    g.output("y", &[1, 4]);
    case("keras_nhwc", &[1, 6, 5, 2], g)
}

/// The same layout with the Transpose on the float input, before the input Quant (the
/// prologue permutes; the hardware input is NCHW).
fn keras_nhwc_prologue() -> Case {
    let mut rng = Rng::new(109);
    let mut g = GraphBuilder::new("keras_nhwc_prologue");
    let x = g.input("x", &[1, 4, 5, 2]);
    let t = g.node("Transpose", "", "to_nchw", &[&x], &["nchw"], vec![Attr::ints("perm", &[0, 3, 1, 2])]);
    let xq = q(&mut g, &t, "xq", 3, 7.0);
    let spec = ConvSpec { cin: 2, cout: 2, kernel: &[2, 3], strides: Some(&[1, 2]), bias: true, ..Default::default() };
    let c = conv(&mut g, &mut rng, &xq, "conv", spec);
    let cq = q(&mut g, &c, "conv_q", 2, 8.0);
    g.node("Transpose", "", "to_nhwc", &[&cq], &["y"], vec![Attr::ints("perm", &[0, 2, 3, 1])]);
    g.output("y", &[1, 3, 2, 2]);
    case("keras_nhwc_prologue", &[1, 4, 5, 2], g)
}

/// Activations between quantizers: Clip with one bound, LeakyRelu with a non-power-of-two
/// alpha, Tanh, HardSigmoid, and a Sigmoid after a non-power-of-two gain — each followed by a
/// Quant, so each chain is an exact step function.
fn activations() -> Case {
    let mut rng = Rng::new(110);
    let mut g = GraphBuilder::new("activations");
    let x = g.input("x", &[1, 2, 3, 3]);
    let xq = q(&mut g, &x, "xq", 3, 7.0);
    let spec = ConvSpec { cin: 2, cout: 4, kernel: &[1, 1], bias: true, ..Default::default() };
    let c = conv(&mut g, &mut rng, &xq, "conv", spec);
    let cq = q(&mut g, &c, "conv_q", 3, 8.0);
    let lo = g.initializer_f32("clip_lo", &[], &[-1.25]);
    let cl = g.node("Clip", "", "clip_min", &[&cq, &lo], &["clip_out"], vec![]);
    let lr = g.node("LeakyRelu", "", "leaky", &[&cl], &["leaky_out"], vec![Attr::float("alpha", 0.3)]);
    let lrq = q(&mut g, &lr, "leaky_q", 3, 8.0);
    let th = g.node("Tanh", "", "tanh", &[&lrq], &["tanh_out"], vec![]);
    let thq = q(&mut g, &th, "tanh_q", 5, 7.0);
    let hs = g.node(
        "HardSigmoid",
        "",
        "hsig",
        &[&thq],
        &["hsig_out"],
        vec![Attr::float("alpha", 0.2), Attr::float("beta", 0.5)],
    );
    let hsq = q(&mut g, &hs, "hsig_q", 5, 7.0);
    let c = g.initializer_f32("gain", &[], &[2.7]);
    let m = g.node("Mul", "", "gain_mul", &[&hsq, &c], &["gain_out"], vec![]);
    let sg = g.node("Sigmoid", "", "sigmoid", &[&m], &["sigmoid_out"], vec![]);
    q(&mut g, &sg, "y", 6, 8.0);
    g.output("y", &[1, 4, 3, 3]);
    case("activations", &[1, 2, 3, 3], g)
}

fn write(case: &Case, dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(format!("{}.onnx", case.name));
    std::fs::write(&path, &case.model).unwrap();
    path
}

/// The interpreter equals the float QONNX semantics on 300 random inputs; the project builds,
/// lints clean and co-simulates with 0 mismatches.
fn check(case: Case) {
    let dir = scratch(&format!("cnn_parallel_{}", case.name));
    let path = write(&case, &dir);
    let g = tachyon_frontend::load_model(&path).unwrap();
    let m = tachyon_quantize::lower(&g, &Config::default()).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let count: usize = case.input.iter().product();
    let mut rng = Rng::new(5);
    for _ in 0..300 {
        let x: Vec<f64> = (0..count).map(|_| (rng.below(4001) as f64 - 2000.0) / 150.0).collect();
        let want = tachyon_frontend::eval::run_float(&g, &[Tensor::new(DType::F32, case.input.clone(), x.clone())])
            .unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let got = interp::evaluate(&m, &x).unwrap();
        assert_eq!(got, want[0].data, "{}: x={x:?}", case.name);
    }
    let out = dir.join("project");
    let built = build(&build_options(&path, &out)).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    assert_eq!(built.design.ii, 1, "{}: parallel style", case.name);
    lint_and_cosim(&out, 1000);
    if case.streams {
        check_stream(case.name, &path, &dir, None);
    } else {
        let mut o = build_options(&path, dir.join("stream"));
        o.config = Some(stream_config(&dir));
        let e = build(&o).err().unwrap_or_else(|| panic!("{}: the stream style should be refused", case.name));
        assert!(format!("{e:#}").contains("use the parallel style"), "{}: {e:#}", case.name);
    }
}

/// A stream-style config.
fn stream_config(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join("stream.json");
    std::fs::write(&p, r#"{"default": {"style": "stream"}}"#).unwrap();
    p
}

/// The stream style: the first layer streams, II = pixels per frame, lint clean, and 0
/// mismatches with frames back to back and with idle cycles between them.
pub(crate) fn check_stream(
    name: &str,
    model: &Path,
    dir: &Path,
    pixels: Option<usize>,
) -> tachyon_driver::project::Built {
    let out = dir.join("stream");
    let mut o = build_options(model, &out);
    o.config = Some(stream_config(dir));
    let built = build(&o).unwrap_or_else(|e| panic!("{name}: stream: {e}"));
    let beats = built.design.frame.as_ref().map_or(1, |f| f.len() / built.design.inputs.len());
    assert_eq!(built.design.ii as usize, pixels.unwrap_or(beats), "{name}: II = pixels");
    assert_eq!(built.design.ii as usize, beats, "{name}: a frame fills the II");
    let r = &built.design.report;
    assert_eq!(r.style, "stream");
    assert_eq!(r.layers[0].style, "stream", "{name}: the first layer streams");
    assert_eq!(built.design.frame.as_ref().map(|f| f.len()), Some(built.qmodel.input_elems().len()));
    if lint_and_cosim(&out, 300).is_some() {
        let s = tachyon_driver::sim::run(
            &out,
            &tachyon_driver::sim::SimOptions { random: Some(100), gap: 3, seed: 9, ..Default::default() },
        )
        .unwrap();
        assert_eq!(s.mismatches, 0, "{name}: with gaps: {:?}", s.first_mismatches);
        assert_eq!(s.latency_cycles, s.expected_latency_cycles);
    }
    built
}

#[test]
fn conv2d_stride_dilation_one_sided_pads() {
    check(conv2d_geometry());
}

#[test]
fn depthwise_clip_pointwise_leaky_relu() {
    check(depthwise_pointwise());
}

#[test]
fn conv1d_maxpool_global_average() {
    check(conv1d());
}

#[test]
fn max_and_average_pools_with_padding() {
    check(pools2d());
}

#[test]
fn global_average_and_max_pools() {
    check(global_pools());
}

#[test]
fn pad_modes_and_channel_concat() {
    check(pads());
}

#[test]
fn residual_add_of_two_conv_branches() {
    check(residual());
}

#[test]
fn keras_channels_last_transposes() {
    check(keras_nhwc());
}

#[test]
fn keras_transpose_in_the_prologue() {
    check(keras_nhwc_prologue());
}

#[test]
fn activations_before_quantizers() {
    check(activations());
}

/// Lowering error text of a model built here.
fn lowering_error(name: &'static str, g: GraphBuilder) -> String {
    let c = case(name, &[], g);
    let path = write(&c, &scratch(&format!("cnn_parallel_{name}")));
    let g = tachyon_frontend::load_model(&path).unwrap();
    match tachyon_quantize::lower(&g, &Config::default()) {
        Ok(_) => panic!("{name}: lowered, but it should have been refused"),
        Err(e) => e.to_string(),
    }
}

/// Tanh and HardSigmoid are exact only as step functions ending in a Quant: when another op
/// follows before the Quant, the error names the node and says what to do (a model without
/// quantizers tabulates them at the config's precision).
#[test]
fn float_activations_without_a_quantizer_are_refused_clearly() {
    let mut rng = Rng::new(111);
    let mut g = GraphBuilder::new("float_tanh");
    let x = g.input("x", &[1, 2, 4, 4]);
    let c = conv(&mut g, &mut rng, &x, "conv", ConvSpec { cin: 2, cout: 2, kernel: &[1, 1], ..Default::default() });
    let th = g.node("Tanh", "", "tanh", &[&c], &["tanh_out"], vec![]);
    g.node("Relu", "", "relu", &[&th], &["y"], vec![]);
    g.output("y", &[1, 2, 4, 4]);
    // A float model tabulates it at the config's result precision instead (tests/it/activations.rs).
    let c = case("float_tanh", &[], g);
    let path = write(&c, &scratch("cnn_parallel_float_tanh"));
    let m = tachyon_quantize::lower(&tachyon_frontend::load_model(&path).unwrap(), &Config::default()).unwrap();
    // (The table and the ReLU after it become one step function per element.)
    let tanh = m.layers.iter().find(|l| l.name == "tanh").expect("a tanh layer");
    assert!(
        matches!(tanh.kind, tachyon_quantize::qir::LayerKind::Threshold(_)) && tanh.origin == ["tanh", "relu"],
        "{m}"
    );

    let mut g = GraphBuilder::new("hsig_into_conv");
    let x = g.input("x", &[1, 2, 4, 4]);
    let xq = q(&mut g, &x, "xq", 3, 6.0);
    let hs = g.node("HardSigmoid", "", "hsig", &[&xq], &["hsig_out"], vec![]);
    let c = conv(&mut g, &mut rng, &hs, "conv", ConvSpec { cin: 2, cout: 2, kernel: &[1, 1], ..Default::default() });
    q(&mut g, &c, "y", 3, 8.0);
    g.output("y", &[1, 2, 4, 4]);
    let e = lowering_error("hsig_into_conv", g);
    assert!(
        e.contains("node 'conv' (Conv)") && e.contains("'hsig' (HardSigmoid)") && e.contains("put a Quant node"),
        "{e}"
    );
}

/// A float model (no Quant nodes, hls4ml-style precision from the config) with ReLU6 as Clip
/// and a LeakyRelu: both lower to exact layers on the configured grid; the RTL equals the
/// interpreter.
#[test]
fn float_model_clip_and_leaky_relu_cosimulate() {
    let mut rng = Rng::new(112);
    let mut g = GraphBuilder::new("float_relu6_leaky");
    let x = g.input("x", &[1, 2, 5, 4]);
    let spec =
        ConvSpec { cin: 2, cout: 3, kernel: &[3, 3], pads: Some(&[1, 1, 1, 1]), bias: true, ..Default::default() };
    let c = conv(&mut g, &mut rng, &x, "conv1", spec);
    let lo = g.initializer_f32("zero", &[], &[0.0]);
    let hi = g.initializer_f32("six", &[], &[6.0]);
    let r6 = g.node("Clip", "", "relu6", &[&c, &lo, &hi], &["relu6_out"], vec![]);
    let spec = ConvSpec { cin: 3, cout: 2, kernel: &[1, 1], bias: true, ..Default::default() };
    let c2 = conv(&mut g, &mut rng, &r6, "conv2", spec);
    g.node("LeakyRelu", "", "leaky", &[&c2], &["y"], vec![Attr::float("alpha", 0.125)]);
    g.output("y", &[1, 2, 5, 4]);
    let c = case("float_relu6_leaky", &[1, 2, 5, 4], g);
    let dir = scratch("cnn_parallel_float_relu6_leaky");
    let path = write(&c, &dir);
    let g = tachyon_frontend::load_model(&path).unwrap();
    let m = tachyon_quantize::lower(&g, &Config::default()).unwrap();
    let kinds = |node: &str| -> Vec<&str> {
        m.layers.iter().filter(|l| l.origin == [node]).map(|l| l.kind.mnemonic()).collect()
    };
    assert_eq!(kinds("relu6"), ["requant"], "ReLU6 is one saturation");
    assert_eq!(kinds("leaky"), ["relu", "linear"], "LeakyRelu is α·x + (1−α)·relu(x)");
    let out = dir.join("project");
    build(&build_options(&path, &out)).unwrap();
    lint_and_cosim(&out, 1000);
}

/// The hls4ml `conv1d_small_keras` model (float, channels-last: Transpose, three Conv 1-D +
/// Relu, Transpose back, two dense layers, softmax) in the parallel style with the default
/// precision: co-simulated on its own input samples plus random vectors.
/// An hls4ml example CNN in both styles on its 256 samples plus random vectors: 0 mismatches,
/// argmax agreement with the float outputs printed, softmax within 0.01.
fn hls4ml_cnn(name: &str, pixels: usize) {
    let Some(d) = shared_models() else { return };
    let dir = d.join("hls4ml-example-models");
    let model = dir.join(format!("{name}.onnx"));
    if !model.is_file() {
        skip_note!("skipped: {} is absent", model.display());
        return;
    }
    let base = scratch(&format!("cnn_{name}"));
    std::fs::create_dir_all(&base).unwrap();
    for style in ["parallel", "stream"] {
        let out = base.join(style);
        let mut o = build_options(&model, &out);
        if style == "stream" {
            o.config = Some(stream_config(&base));
        }
        let built = build(&o).unwrap();
        assert_eq!(built.design.ii as usize, if style == "stream" { pixels } else { 1 });
        lint(&out);
        if !have("verilator") {
            return;
        }
        let s = tachyon_driver::sim::run(
            &out,
            &tachyon_driver::sim::SimOptions {
                inputs: Some(dir.join(format!("{name}.input.npy"))),
                expect: Some(dir.join(format!("{name}.output.npy"))),
                random: Some(500),
                ..Default::default()
            },
        )
        .unwrap();
        println!(
            "{name} ({style}): II {}, latency {} cycles, argmax agreement with the float outputs {:.2} %, max |Δ| {:.5}",
            s.ii_cycles,
            s.latency_cycles,
            s.argmax_agreement.unwrap() * 100.0,
            s.max_abs_diff.unwrap()
        );
        assert_eq!(s.vectors, 756);
        assert_eq!(s.mismatches, 0, "{:?}", s.first_mismatches);
        assert_eq!(s.latency_cycles, s.expected_latency_cycles);
        // The default fixed<16,6> everywhere keeps the softmax within 0.01 of the float model.
        assert!(s.max_abs_diff.unwrap() < 0.01, "max |Δ| {:?}", s.max_abs_diff);
    }
}

#[test]
fn hls4ml_conv1d_small_keras_both_styles() {
    hls4ml_cnn("conv1d_small_keras", 10);
}

#[test]
fn hls4ml_conv2d_small_keras_both_styles() {
    hls4ml_cnn("conv2d_small_keras", 64);
}

/// One random sliding-window op on a random small input: Conv (groups, strides, dilations,
/// explicit or automatic pads, bias), MaxPool and AveragePool (ceil_mode, count_include_pad),
/// Pad or a global pool, 1-D or 2-D, followed by a Quant.
fn random_window_model(rng: &mut Rng, k: u64) -> (Vec<usize>, Vec<u8>) {
    let pick = |rng: &mut Rng, lo: u64, hi: u64| lo + rng.below(hi - lo + 1);
    let rank = pick(rng, 1, 2) as usize;
    let c = pick(rng, 1, 3) as usize;
    let mut shape = vec![1, c];
    shape.extend((0..rank).map(|_| pick(rng, 3, 7) as usize));
    let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    let mut g = GraphBuilder::new(&format!("window_{k}"));
    let x = g.input("x", &dims);
    let xq = q(&mut g, &x, "xq", 3, 7.0);
    let kernel: Vec<usize> = (0..rank).map(|a| pick(rng, 1, 3.min(shape[2 + a]) as u64) as usize).collect();
    let ks: Vec<i64> = kernel.iter().map(|&v| v as i64).collect();
    let strides: Vec<i64> = (0..rank).map(|_| pick(rng, 1, 3) as i64).collect();
    let pads: Vec<i64> = (0..2 * rank).map(|i| pick(rng, 0, kernel[i % rank] as u64 - 1) as i64).collect();
    let op = rng.below(6);
    let y = match op {
        0 => {
            let groups: Vec<usize> = (1..=c).filter(|&g| c.is_multiple_of(g)).collect();
            let group = groups[rng.below(groups.len() as u64) as usize];
            let cout = group * pick(rng, 1, 2) as usize;
            let dil: Vec<i64> = (0..rank).map(|_| pick(rng, 1, 2) as i64).collect();
            let auto = ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"][rng.below(4) as usize];
            let fits = (0..rank).all(|a| (kernel[a] - 1) * (dil[a] as usize) < shape[2 + a]);
            let spec = ConvSpec {
                cin: c,
                cout,
                kernel: &kernel,
                strides: Some(&strides),
                pads: (auto == "NOTSET").then_some(&pads[..]),
                dilations: fits.then_some(&dil[..]),
                auto_pad: (auto != "NOTSET").then_some(auto),
                group,
                bias: rng.below(2) == 1,
                weight_quant: rng.below(2) == 1,
            };
            conv(&mut g, rng, &xq, "conv", spec)
        }
        1 | 2 => {
            let mut attrs = vec![
                Attr::ints("kernel_shape", &ks),
                Attr::ints("strides", &strides),
                Attr::ints("pads", &pads),
                Attr::int("ceil_mode", rng.below(2) as i64),
            ];
            let name = if op == 1 { "MaxPool" } else { "AveragePool" };
            if op == 2 {
                attrs.push(Attr::int("count_include_pad", rng.below(2) as i64));
            }
            g.node(name, "", "pool", &[&xq], &["pool_out"], attrs)
        }
        3 => {
            let mode = ["constant", "reflect", "edge"][rng.below(3) as usize];
            let mut p = vec![0i64; 2 * (rank + 2)];
            for a in 0..rank {
                let most = if mode == "reflect" { shape[2 + a] as u64 - 1 } else { 3 };
                p[2 + a] = pick(rng, 0, most.min(2)) as i64;
                p[rank + 4 + a] = pick(rng, 0, most.min(2)) as i64;
            }
            let pp = g.initializer_i64("pads", &[p.len()], &p);
            let v = g.initializer_f32("value", &[], &[(rng.below(9) as f32 - 4.0) / 4.0]);
            g.node("Pad", "", "pad", &[&xq, &pp, &v], &["pad_out"], vec![Attr::string("mode", mode)])
        }
        4 => g.node("GlobalAveragePool", "", "gap", &[&xq], &["gap_out"], vec![]),
        _ => g.node("GlobalMaxPool", "", "gmp", &[&xq], &["gmp_out"], vec![]),
    };
    q(&mut g, &y, "y", 4, 10.0);
    g.output("y", &[1]);
    (shape, g.build(&[("", 13), (QONNX_DOMAIN, 1)]).encode_to_vec())
}

/// Property: 300 random window geometries, each lowered exactly (interpreter = float QONNX
/// semantics on 40 random inputs). Windows that lie entirely in the padding (ceil_mode) are
/// refused by name; that is allowed, but rarely.
#[test]
fn random_window_geometries_match_float_semantics() {
    let dir = scratch("cnn_parallel_windows");
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng::new(2024);
    let mut refused = 0;
    for k in 0..300 {
        let (shape, model) = random_window_model(&mut rng, k);
        let path = dir.join(format!("window_{k}.onnx"));
        std::fs::write(&path, &model).unwrap();
        let g = tachyon_frontend::load_model(&path).unwrap_or_else(|e| panic!("window_{k}: {e}"));
        let m = match tachyon_quantize::lower(&g, &Config::default()) {
            Ok(m) => m,
            Err(e) if e.to_string().contains("lies entirely in the padding") => {
                refused += 1;
                continue;
            }
            Err(e) => panic!("window_{k}: {e}"),
        };
        let count: usize = shape.iter().product();
        for _ in 0..40 {
            let x: Vec<f64> = (0..count).map(|_| (rng.below(2001) as f64 - 1000.0) / 120.0).collect();
            let want = tachyon_frontend::eval::run_float(&g, &[Tensor::new(DType::F32, shape.clone(), x.clone())])
                .unwrap_or_else(|e| panic!("window_{k}: {e}"));
            assert_eq!(interp::evaluate(&m, &x).unwrap(), want[0].data, "window_{k}: x={x:?}");
        }
    }
    assert!(refused < 15, "{refused} of 300 geometries refused");
}

/// Property: random window geometries in the stream style. Every geometry that the stream plan
/// accepts is exact by construction of the check; the first 24 accepted are co-simulated (with
/// and without gaps between frames). Pads that are not zeros (reflect, edge, a non-zero
/// constant) are not sliding windows and stay parallel, so not every geometry streams.
#[test]
fn random_window_geometries_stream() {
    let dir = scratch("cnn_stream_windows");
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng::new(77);
    let (mut streamed, mut lowered, mut simulated) = (0, 0, 0);
    for k in 0..200 {
        let (shape, model) = random_window_model(&mut rng, k);
        let path = dir.join(format!("window_{k}.onnx"));
        std::fs::write(&path, &model).unwrap();
        let g = tachyon_frontend::load_model(&path).unwrap();
        let Ok(m) = tachyon_quantize::lower(&g, &Config::default()) else { continue };
        lowered += 1;
        if tachyon_hls::layers::stream::plan(&m, &Default::default(), 1).is_err() {
            continue;
        }
        streamed += 1;
        if simulated < 24 {
            simulated += 1;
            // The plan may read a geometry whose frame would overrun its period channels-last
            // (several pixels per beat): the II is the beats per frame either way.
            let _ = &shape;
            check_stream(&format!("window_{k}"), &path, &dir.join(format!("w{k}")), None);
        }
    }
    println!("stream style: {streamed} of {lowered} random window geometries stream, {simulated} co-simulated");
    assert!(streamed * 10 >= lowered * 7, "only {streamed} of {lowered} geometries stream");
}

/// The shipped 64-sample pulse CNN (examples/pulse_cnn) in the parallel style: II = 1, the
/// fixed point equals the float semantics on its shipped pulses at every layer, and the RTL
/// equals the interpreter.
#[test]
fn pulse_cnn_example_parallel_style() {
    let dir = scratch("pulse_cnn_parallel");
    let model = repo().join("examples/pulse_cnn/pulse_cnn.onnx");
    let inputs = repo().join("examples/pulse_cnn/pulse_cnn.input.npy");
    let mut o = build_options(&model, &dir);
    o.clock_ns = Some(2.5);
    let b = tachyon_driver::project::build(&o).unwrap();
    assert_eq!(b.design.ii, 1);
    lint(&dir);
    let a = tachyon_common::npy::read_npy(&inputs).unwrap();
    let rows: Vec<Vec<f64>> = a.to_f64().chunks(64).map(|c| c.to_vec()).collect();
    let errors = tachyon_driver::sim::layer_errors(&model, &b.qmodel, &rows).unwrap();
    assert!(!errors.is_empty() && errors.iter().all(|e| e.max_abs == 0.0), "{errors:?}");
    cosim_random(&dir, 500);
}

/// The pulse CNN in the stream style: one sample per clock, II = 64 (a new pulse every 64
/// cycles, back to back), the spatial layers stream and the dense tail is fed once per pulse;
/// exact on the shipped pulses and on random vectors, with and without gaps.
#[test]
fn pulse_cnn_example_stream_style() {
    let dir = scratch("pulse_cnn_stream");
    std::fs::create_dir_all(&dir).unwrap();
    let model = repo().join("examples/pulse_cnn/pulse_cnn.onnx");
    let b = check_stream("pulse_cnn", &model, &dir, Some(64));
    let styles: Vec<&str> = b.design.report.layers.iter().map(|l| l.style.as_str()).collect();
    // Seven streamed layers: its two ReLUs fold into the saturating requantizations after them.
    assert_eq!(styles.iter().filter(|s| **s == "stream").count(), 7, "{styles:?}");
    if have("verilator") {
        let s = tachyon_driver::sim::run(
            &dir.join("stream"),
            &tachyon_driver::sim::SimOptions {
                inputs: Some(repo().join("examples/pulse_cnn/pulse_cnn.input.npy")),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!((s.vectors, s.mismatches, s.ii_cycles), (64, 0, 64));
    }
    // No AXI-Stream wrapper for a stream design (it feeds one whole input per beat): said so.
    let out = dir.join("stream");
    assert!(!out.join("axis").exists());
    let e = tachyon_driver::axis::cosim(&out, &[], &Default::default()).unwrap_err();
    assert!(format!("{e:#}").contains("stream-style design"), "{e:#}");
    let o = tachyon_flows::vivado::VivadoOptions { variant: Some("axis".into()), ..Default::default() };
    let e = tachyon_driver::flows::vivado(&out, &o).unwrap_err();
    assert!(format!("{e:#}").contains("stream-style design"), "{e:#}");
}

/// Several pixels per clock: adjacent pixels of a row enter together and every window is read
/// over pixel groups (a conv over pixels is a window over groups), so II = pixels / P. The pulse
/// CNN at 2, 4 and 8 samples per clock and the 12-sample Conv 1-D fixture at 3 and 4 co-simulate
/// with 0 mismatches (with and without gaps); a width that P does not divide is refused by name.
#[test]
fn several_pixels_per_clock() {
    let base = scratch("cnn_pixels_per_clock");
    std::fs::create_dir_all(&base).unwrap();
    let pulse = repo().join("examples/pulse_cnn/pulse_cnn.onnx");
    let mut cases: Vec<(String, PathBuf, usize, usize)> =
        [2, 4, 8].iter().map(|&p| (format!("pulse_p{p}"), pulse.clone(), p, 64 / p)).collect();
    let c1 = write(&conv1d(), &base);
    cases.push(("conv1d_p3".into(), c1.clone(), 3, 4));
    cases.push(("conv1d_p4".into(), c1, 4, 3));
    // 5 pixels wide: 2 per clock is refused.
    cases.push(("residual_p2".into(), write(&residual(), &base), 2, 0));
    for (name, model, p, ii) in cases {
        let dir = base.join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        let cfg = dir.join("stream.json");
        std::fs::write(&cfg, format!(r#"{{"default": {{"style": "stream", "pixels_per_clock": {p}}}}}"#)).unwrap();
        let out = dir.join("project");
        let mut o = build_options(&model, &out);
        o.config = Some(cfg);
        match build(&o) {
            Ok(b) => {
                let beats = b.design.frame.as_ref().map(|f| f.len() / b.design.inputs.len()).unwrap();
                assert_eq!(b.design.ii as usize, beats, "{name}");
                if ii > 0 {
                    assert_eq!(b.design.ii as usize, ii, "{name}");
                }
                if lint_and_cosim(&out, 300).is_some() {
                    let s = tachyon_driver::sim::run(
                        &out,
                        &tachyon_driver::sim::SimOptions { random: Some(100), gap: 5, seed: 2, ..Default::default() },
                    )
                    .unwrap();
                    assert_eq!(s.mismatches, 0, "{name}: with gaps");
                }
            }
            Err(e) => {
                assert_eq!(ii, 0, "{name}: {e:#}");
                let e = format!("{e:#}");
                assert!(e.contains("pixels per clock need a row width divisible by"), "{name}: {e}");
            }
        }
    }
}
