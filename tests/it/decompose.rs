//! Mixed-TD (`tachyon decompose`): the numerical kernels on known low-rank matrices and tensors,
//! the geometry of every rewrite (a decomposed layer with exact factors computes what the layer
//! computed), and a decomposed model end to end — its integer interpreter equals the float QONNX
//! semantics of the written model exactly, it builds, lints clean and co-simulates with 0
//! mismatches.

use crate::common::*;
use prost::Message;
use std::path::{Path, PathBuf};
use tachyon_common::onnx_builder::{Attr, GraphBuilder, QONNX_DOMAIN};
use tachyon_common::rng::Rng;
use tachyon_decompose::linalg::{cp_als, svd_factors, Matrix};
use tachyon_decompose::rewrite::{apply, find_targets, stages, Method};
use tachyon_decompose::{calibrate, rel_error, Options};
use tachyon_driver::decompose::decompose;
use tachyon_driver::project::build;
use tachyon_frontend::proto::ModelProto;
use tachyon_frontend::{DType, Tensor};
use tachyon_quantize::{interp, Config};

/// A random rows × cols matrix of rank `rank`.
fn low_rank(rng: &mut Rng, rows: usize, cols: usize, rank: usize) -> Matrix {
    let a = Matrix::new(rows, rank, (0..rows * rank).map(|_| rng.normal()).collect());
    let b = Matrix::new(rank, cols, (0..rank * cols).map(|_| rng.normal()).collect());
    a.matmul(&b)
}

#[test]
fn truncated_svd_is_exact_from_the_true_rank_on() {
    let mut rng = Rng::new(1);
    let m = low_rank(&mut rng, 12, 9, 3);
    for r in [3, 4, 9] {
        let (a, b) = svd_factors(&m, r).unwrap();
        assert!(a.matmul(&b).rel_error(&m) < 1e-10, "rank {r}: {}", a.matmul(&b).rel_error(&m));
    }
    let (a, b) = svd_factors(&m, 2).unwrap();
    assert!(a.matmul(&b).rel_error(&m) > 1e-3, "rank 2 of a rank-3 matrix cannot be exact");
}

#[test]
fn cp_als_converges_on_a_synthetic_rank_r_tensor() {
    let mut rng = Rng::new(2);
    let dims = [5, 4, 3, 3];
    let rank = 3;
    let f: Vec<Vec<f64>> = dims.iter().map(|&d| (0..d * rank).map(|_| rng.normal()).collect()).collect();
    let mut t = vec![0f64; dims.iter().product()];
    for r in 0..rank {
        for a in 0..dims[0] {
            for b in 0..dims[1] {
                for c in 0..dims[2] {
                    for d in 0..dims[3] {
                        t[((a * dims[1] + b) * dims[2] + c) * dims[3] + d] +=
                            f[0][a * rank + r] * f[1][b * rank + r] * f[2][c * rank + r] * f[3][d * rank + r];
                    }
                }
            }
        }
    }
    let (cp, err) = cp_als(&t, dims, rank, 2000, 1e-14).unwrap();
    let rec = cp.reconstruct();
    assert!(rel_error(&rec, &t) < 1e-5, "CP-ALS error {err}");
    let (_, err1) = cp_als(&t, dims, 1, 200, 1e-12).unwrap();
    assert!(err1 > 1e-2, "rank 1 cannot fit a rank-3 tensor");
}

/// input [1, c, h, w] → Quant → Conv(spec) (+ bias) → y.
fn conv_model(rng: &mut Rng, c: usize, f: usize, hw: usize, attrs: Vec<Attr>, w: &[f32], k: [usize; 2]) -> ModelProto {
    let mut g = GraphBuilder::new("conv_td");
    let x = g.input("x", &[1, c as i64, hw as i64, hw as i64]);
    let xq = g.quant(&x, "xq", 0.125, 0.0, 8.0, true, false, "ROUND");
    let wi = g.initializer_f32("W", &[f, c, k[0], k[1]], w);
    let b: Vec<f32> = (0..f).map(|_| (rng.below(9) as f32 - 4.0) / 8.0).collect();
    let bi = g.initializer_f32("B", &[f], &b);
    g.node("Conv", "", "conv", &[&xq, &wi, &bi], &["y"], attrs);
    g.output("y", &[1, f as i64, 0, 0]);
    g.build(&[("", 13), (QONNX_DOMAIN, 1)])
}

fn float_run(model: &ModelProto, inputs: &[Tensor]) -> Vec<f64> {
    let g = tachyon_frontend::decode_model(&model.encode_to_vec(), Path::new("test.onnx")).unwrap();
    inputs
        .iter()
        .flat_map(|x| tachyon_frontend::eval::run_float(&g, std::slice::from_ref(x)).unwrap()[0].data.clone())
        .collect()
}

/// Each rewrite, with factors of 24 bits and no intermediate quantizer, computes the layer: the
/// reshapings, strides, pads, dilations and depthwise groups of the stages are right.
#[test]
fn rewrites_compute_the_layer() {
    let mut rng = Rng::new(3);
    let (c, f, hw) = (3, 4, 7);
    let attrs = || {
        vec![
            Attr::ints("kernel_shape", &[3, 3]),
            Attr::ints("strides", &[2, 1]),
            Attr::ints("pads", &[1, 0, 2, 1]),
            Attr::ints("dilations", &[1, 2]),
        ]
    };
    // CP rank 2 weights, so that CP at rank 2 is exact too.
    let dims = [f, c, 3, 3];
    let fs: Vec<Vec<f64>> = dims.iter().map(|&d| (0..d * 2).map(|_| rng.normal()).collect()).collect();
    let mut w = vec![0f32; f * c * 9];
    for (i, v) in w.iter_mut().enumerate() {
        let (a, b, cc, d) = (i / (c * 9), (i / 9) % c, (i / 3) % 3, i % 3);
        *v = (0..2).map(|r| fs[0][a * 2 + r] * fs[1][b * 2 + r] * fs[2][cc * 2 + r] * fs[3][d * 2 + r]).sum::<f64>()
            as f32;
    }
    let model = conv_model(&mut rng, c, f, hw, attrs(), &w, [3, 3]);
    let g = tachyon_frontend::decode_model(&model.encode_to_vec(), Path::new("test.onnx")).unwrap();
    let (targets, notes) = find_targets(&model, &g, 8);
    assert_eq!(targets.len(), 1, "{notes:?}");
    let t = &targets[0];
    let inputs: Vec<Tensor> = (0..4)
        .map(|_| Tensor::new(DType::F32, vec![1, c, hw, hw], (0..c * hw * hw).map(|_| rng.normal()).collect()))
        .collect();
    let want = float_run(&model, &inputs);
    for (method, r) in [(Method::Channel, f), (Method::Spatial, (f * 3).min(c * 3)), (Method::Cp, 2)] {
        let (st, werr) = stages(t, method, r, 24).unwrap();
        assert!(werr < 1e-5, "{method} r{r}: weight error {werr}");
        let m = apply(&model, t, &st, &vec![None; st.len() - 1]);
        let got = float_run(&m, &inputs);
        assert_eq!(got.len(), want.len(), "{method}: output shape");
        assert!(rel_error(&got, &want) < 1e-5, "{method} r{r}: output error {}", rel_error(&got, &want));
    }
}

/// The grouped reshapings at full rank compute the layer (any weights): input-channel groups
/// (a grouped Kh×Kw conv, then a 1×1 conv) and output-channel groups (a Kh×Kw conv, then a
/// grouped 1×1 conv), with strides, one-sided pads and dilations; below full rank they do not.
#[test]
fn grouped_rewrites_compute_the_layer() {
    let mut rng = Rng::new(8);
    let (c, f, hw) = (4, 8, 7);
    let attrs = vec![
        Attr::ints("kernel_shape", &[3, 3]),
        Attr::ints("strides", &[2, 1]),
        Attr::ints("pads", &[1, 0, 2, 1]),
        Attr::ints("dilations", &[1, 2]),
    ];
    let w: Vec<f32> = (0..f * c * 9).map(|_| rng.normal() as f32).collect();
    let model = conv_model(&mut rng, c, f, hw, attrs, &w, [3, 3]);
    let g = tachyon_frontend::decode_model(&model.encode_to_vec(), Path::new("test.onnx")).unwrap();
    let (targets, notes) = find_targets(&model, &g, 8);
    assert_eq!(targets.len(), 1, "{notes:?}");
    let t = &targets[0];
    let methods = t.methods();
    for m in [Method::InGroups(2), Method::InGroups(4), Method::OutGroups(2), Method::OutGroups(4)] {
        assert!(methods.contains(&m), "{m} missing from {methods:?}");
    }
    let inputs: Vec<Tensor> = (0..4)
        .map(|_| Tensor::new(DType::F32, vec![1, c, hw, hw], (0..c * hw * hw).map(|_| rng.normal()).collect()))
        .collect();
    let want = float_run(&model, &inputs);
    // Full rank: min(F, C/G·9) per input group, min(F/G, C·9) per output group.
    for (method, r) in
        [(Method::InGroups(2), 8), (Method::InGroups(4), 8), (Method::OutGroups(2), 4), (Method::OutGroups(4), 2)]
    {
        let (st, werr) = stages(t, method, r, 24).unwrap();
        assert!(werr < 1e-5, "{method} r{r}: weight error {werr}");
        let m = apply(&model, t, &st, &vec![None; st.len() - 1]);
        let got = float_run(&m, &inputs);
        assert_eq!(got.len(), want.len(), "{method}: output shape");
        assert!(rel_error(&got, &want) < 1e-5, "{method} r{r}: output error {}", rel_error(&got, &want));
        assert_eq!(t.params_of(method, r), st.iter().map(|s| s.shape.iter().product::<usize>()).sum::<usize>());
        let (_, werr) = stages(t, method, r - 1, 24).unwrap();
        assert!(werr > 1e-3, "{method}: rank {} of a full-rank weight cannot be exact ({werr})", r - 1);
    }
    // Group counts that do not divide the channels are not offered.
    let odd = conv_model(&mut rng, 3, 6, hw, vec![Attr::ints("kernel_shape", &[3, 3])], &w[..6 * 3 * 9], [3, 3]);
    let g = tachyon_frontend::decode_model(&odd.encode_to_vec(), Path::new("test.onnx")).unwrap();
    let methods = find_targets(&odd, &g, 8).0[0].methods();
    assert!(methods.contains(&Method::OutGroups(2)) && !methods.contains(&Method::OutGroups(4)), "{methods:?}");
    assert!(!methods.iter().any(|m| matches!(m, Method::InGroups(_))), "{methods:?}");
}

/// A decomposed model with each grouped reshaping (8-bit factors, 12-bit calibrated
/// intermediates, as the search builds them): the integer interpreter equals the float QONNX
/// semantics exactly, and — general grouped convolutions, 2 input channels per group in the
/// first stage of the input-group rewrite, r per group in the second of the output-group one —
/// it builds, lints and co-simulates with 0 mismatches in both styles.
#[test]
fn grouped_decompositions_are_bit_exact_and_cosimulate() {
    let dir = scratch("decompose_grouped");
    let model = cnn("grouped_td", 4, 8, 5, 3);
    let path = write_model(&dir, "grouped.onnx", &model);
    let g = tachyon_frontend::load_model(&path).unwrap();
    let (targets, notes) = find_targets(&model, &g, 8);
    let t = targets.iter().find(|t| t.name == "conv").unwrap_or_else(|| panic!("{notes:?}"));
    let mut rng = Rng::new(9);
    let calib: Vec<Tensor> = (0..16)
        .map(|_| Tensor::new(DType::F32, vec![1, 4, 5, 5], (0..100).map(|_| rng.normal() * 2.0).collect()))
        .collect();
    let stream = dir.join("stream.json");
    std::fs::write(&stream, r#"{"default": {"style": "stream"}}"#).unwrap();
    for (method, r) in [(Method::InGroups(2), 3), (Method::OutGroups(2), 3), (Method::OutGroups(4), 2)] {
        let (st, werr) = stages(t, method, r, 8).unwrap();
        assert!(werr < 0.05, "{method} r{r}: weight error {werr}");
        let (acts, _) = calibrate(&model, &path, t, &st, 12, &calib).unwrap();
        let td = write_model(&dir, &format!("{method}.onnx"), &apply(&model, t, &st, &acts));
        let g = tachyon_frontend::load_model(&td).unwrap();
        let m = tachyon_quantize::lower(&g, &Config::default()).unwrap();
        for _ in 0..100 {
            let x: Vec<f64> = (0..100).map(|_| (rng.below(257) as f64 - 128.0) / 16.0).collect();
            let want =
                tachyon_frontend::eval::run_float(&g, &[Tensor::new(DType::F32, vec![1, 4, 5, 5], x.clone())]).unwrap();
            assert_eq!(interp::evaluate(&m, &x).unwrap(), want[0].data, "{method}: x={x:?}");
        }
        for (style, cfg) in [("parallel", None), ("stream", Some(stream.clone()))] {
            let out = dir.join(format!("{method}_{style}"));
            let mut bo = build_options(&td, &out);
            bo.config = cfg;
            let built = build(&bo).unwrap_or_else(|e| panic!("{method} {style}: {e:#}"));
            assert_eq!(built.design.report.style, style);
            lint_and_cosim(&out, 100);
        }
    }
}

/// The search picks an input-group reshaping for a conv whose input-channel groups are each
/// rank 1 (rank 2 over all channels: the channel SVD needs rank 2 and a first stage twice as
/// large), within the budget, and the result builds.
#[test]
fn search_picks_input_groups_when_they_are_low_rank() {
    let dir = scratch("decompose_pick_groups");
    let mut rng = Rng::new(10);
    let (c, f) = (4, 8);
    let mut w = Matrix::zeros(f, c * 9);
    for gi in 0..2 {
        let u: Vec<f64> = (0..f).map(|_| rng.normal()).collect();
        let v: Vec<f64> = (0..18).map(|_| rng.normal()).collect();
        for (ff, uu) in u.iter().enumerate() {
            for (i, vv) in v.iter().enumerate() {
                w.set(ff, gi * 18 + i, uu * vv);
            }
        }
    }
    let path = write_model(&dir, "blocks.onnx", &cnn_with("blocks_td", c, 5, &w, &mut rng));
    let o = Options { budget: 0.05, clock_ns: 5.0, ..Default::default() };
    let d = decompose(&path, &o, &[]).unwrap();
    let table = tachyon_driver::decompose::table(&d);
    println!("{table}");
    let conv = d.layers.iter().find(|l| l.layer == "conv").unwrap();
    assert!(matches!(conv.method, Some(Method::InGroups(_))), "{table}");
    assert!(d.model_error <= 0.05 && conv.after.cost < conv.before.cost, "{table}");
    let td = write_model(&dir, "blocks.td.onnx", &d.model);
    build(&build_options(&td, dir.join("project"))).unwrap();
    // Latency weighed: every price includes `latency_luts` per cycle of the layer alone, and
    // the choice follows the weighed price.
    let w = 10_000;
    let o = Options { budget: 0.05, clock_ns: 5.0, latency_luts: w, ..Default::default() };
    let d = decompose(&path, &o, &[]).unwrap();
    let conv = d.layers.iter().find(|l| l.layer == "conv").unwrap();
    for c in [&conv.before, &conv.after] {
        assert!(c.cycles > 0);
        assert_eq!(c.cost, c.lut + 100 * c.dsp + w * u64::from(c.cycles), "{c:?}");
    }
    assert!(conv.method.is_none() || conv.after.cost < conv.before.cost);
}

/// A small QONNX CNN with a low-rank conv and a low-rank dense layer: x [1,2,4,4] → Quant →
/// Conv 2→6 3×3 pad 1 → Relu → Quant → GlobalAveragePool → Quant → Flatten → MatMul 6→6 + bias
/// → Quant → y.
fn small_cnn() -> ModelProto {
    cnn("small_td", 2, 6, 4, 1)
}

/// [`small_cnn`] with C input channels, F filters, an hw × hw image and conv kernels of rank
/// `rank` in the channel reshaping (the dense layer F → 6).
fn cnn(name: &str, c: usize, f: usize, hw: usize, rank: usize) -> ModelProto {
    let mut rng = Rng::new(4);
    let u = Matrix::new(f, rank, (0..f * rank).map(|_| rng.normal()).collect());
    let v = Matrix::new(rank, c * 9, (0..rank * c * 9).map(|_| rng.normal()).collect());
    cnn_with(name, c, hw, &u.matmul(&v), &mut rng)
}

/// [`cnn`] with the conv weights `w` [F × (C·3·3)] (scaled onto the grid); the dense weights
/// are drawn from `rng`.
fn cnn_with(name: &str, c: usize, hw: usize, w: &Matrix, rng: &mut Rng) -> ModelProto {
    let f = w.rows;
    let mut g = GraphBuilder::new(name);
    let x = g.input("x", &[1, c as i64, hw as i64, hw as i64]);
    g.output("y", &[1, 6]);
    let xq = g.quant(&x, "xq", 0.125, 0.0, 8.0, true, false, "ROUND");
    // Conv and rank-2 dense weights on a 2^-7 grid.
    let on_grid = |m: &Matrix| -> Vec<f32> {
        let max = m.data.iter().fold(0f64, |a, v| a.max(v.abs()));
        m.data.iter().map(|v| ((v / max * 0.99 * 128.0).round() / 128.0) as f32).collect()
    };
    let wi = g.initializer_f32("conv_W", &[f, c, 3, 3], &on_grid(w));
    let wq = g.quant(&wi, "conv_Wq", 1.0 / 128.0, 0.0, 8.0, true, false, "ROUND");
    let bias: Vec<f32> = (0..f).map(|k| [0.125, -0.25, 0.0, 0.5, 0.0, 0.0625][k % 6]).collect();
    let b = g.initializer_f32("conv_b", &[f], &bias);
    let c = g.node(
        "Conv",
        "",
        "conv",
        &[&xq, &wq, &b],
        &["conv_out"],
        vec![Attr::ints("kernel_shape", &[3, 3]), Attr::ints("pads", &[1, 1, 1, 1])],
    );
    let r = g.node("Relu", "", "relu", &[&c], &["relu_out"], vec![]);
    let a = g.quant(&r, "act", 1.0 / 64.0, 0.0, 12.0, false, false, "FLOOR");
    let p = g.node("GlobalAveragePool", "", "gap", &[&a], &["gap_out"], vec![]);
    let pq = g.quant(&p, "gap_act", 1.0 / 64.0, 0.0, 12.0, false, false, "FLOOR");
    let fl = g.node("Flatten", "", "flatten", &[&pq], &["flat"], vec![Attr::int("axis", 1)]);
    let m = low_rank(rng, f, 6, 2);
    let di = g.initializer_f32("dense_W", &[f, 6], &on_grid(&m));
    let dq = g.quant(&di, "dense_Wq", 1.0 / 128.0, 0.0, 8.0, true, false, "ROUND");
    let mm = g.node("MatMul", "", "dense", &[&fl, &dq], &["dense_out"], vec![]);
    let db = g.initializer_f32("dense_b", &[6], &[0.0, 0.25, -0.125, 0.0, 0.5, 0.0]);
    let ad = g.node("Add", "", "dense_bias", &[&mm, &db], &["dense_sum"], vec![]);
    let y = g.quant(&ad, "yq", 1.0 / 256.0, 0.0, 16.0, true, false, "FLOOR");
    g.node("Identity", "", "output", &[&y], &["y"], vec![]);
    g.build(&[("", 13), (QONNX_DOMAIN, 1)])
}

fn write_model(dir: &Path, name: &str, m: &ModelProto) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, m.encode_to_vec()).unwrap();
    p
}

#[test]
fn decomposed_model_is_bit_exact_and_cosimulates() {
    let dir = scratch("decompose_small_cnn");
    let path = write_model(&dir, "small.onnx", &small_cnn());
    let mut rng = Rng::new(6);
    let calib: Vec<f32> = (0..32 * 32).map(|_| (rng.normal() * 2.0) as f32).collect();
    let npy = dir.join("calib.npy");
    tachyon_common::npy::write_npy_f32(&npy, &[32, 2, 4, 4], &calib).unwrap();
    let o = Options { budget: 0.05, inputs: Some(npy), samples: 32, clock_ns: 5.0, ..Default::default() };
    let d = decompose(&path, &o, &[]).unwrap();
    let table = tachyon_driver::decompose::table(&d);
    assert!(d.layers.iter().any(|l| l.method.is_some()), "nothing was decomposed:\n{table}");
    assert!(d.model_error <= 0.05, "{table}");
    for l in d.layers.iter().filter(|l| l.method.is_some()) {
        assert!(l.after.cost < l.before.cost, "{table}");
        assert!(l.params_after < l.params_before, "{table}");
    }
    println!("{table}");
    let td = write_model(&dir, "small.td.onnx", &d.model);
    // Deterministic: the same inputs give the same bytes.
    assert_eq!(decompose(&path, &o, &[]).unwrap().model.encode_to_vec(), d.model.encode_to_vec());

    // Interpreter == float semantics of the decomposed QONNX model, exactly.
    let g = tachyon_frontend::load_model(&td).unwrap();
    let m = tachyon_quantize::lower(&g, &Config::default()).unwrap();
    for _ in 0..200 {
        let x: Vec<f64> = (0..32).map(|_| (rng.below(257) as f64 - 128.0) / 16.0).collect();
        let want =
            tachyon_frontend::eval::run_float(&g, &[Tensor::new(DType::F32, vec![1, 2, 4, 4], x.clone())]).unwrap();
        assert_eq!(interp::evaluate(&m, &x).unwrap(), want[0].data, "x={x:?}\n{table}");
    }
    let out = dir.join("project");
    build(&build_options(&td, &out)).unwrap();
    lint_and_cosim(&out, 300);
}

#[test]
fn bad_options_are_refused_with_the_reason() {
    let dir = scratch("decompose_errors");
    let path = write_model(&dir, "small.onnx", &small_cnn());
    let e = decompose(&path, &Options { budget: -1.0, ..Default::default() }, &[]).err().unwrap();
    assert!(format!("{e:#}").contains("--budget"), "{e:#}");
    let npy = dir.join("bad.npy");
    tachyon_common::npy::write_npy_f32(&npy, &[3, 5], &[0.0; 15]).unwrap();
    let e = decompose(&path, &Options { inputs: Some(npy), ..Default::default() }, &[]).err().unwrap();
    assert!(format!("{e:#}").contains("does not hold samples"), "{e:#}");
    let e = decompose(&dir.join("missing.onnx"), &Options::default(), &[]).err().unwrap();
    assert!(format!("{e:#}").contains("missing.onnx"), "{e:#}");
}

/// The same decomposed model in the stream style: lints and co-simulates with frames back to back.
#[test]
fn decomposed_model_streams() {
    let dir = scratch("decompose_small_cnn_stream");
    let path = write_model(&dir, "small.onnx", &small_cnn());
    let cfg = dir.join("stream.json");
    std::fs::write(&cfg, r#"{"default": {"style": "stream"}}"#).unwrap();
    let o = Options { budget: 0.05, config: Config::load(&cfg).unwrap(), clock_ns: 5.0, ..Default::default() };
    let d = decompose(&path, &o, &[]).unwrap();
    let table = tachyon_driver::decompose::table(&d);
    assert!(d.layers.iter().any(|l| l.method.is_some()), "nothing was decomposed:\n{table}");
    let td = write_model(&dir, "small.td.onnx", &d.model);
    let out = dir.join("project");
    let mut bo = build_options(&td, &out);
    bo.config = Some(cfg);
    let built = build(&bo).unwrap();
    assert_eq!(built.design.report.style, "stream");
    lint_and_cosim(&out, 200);
}

/// `tachyon decompose` writes the model and prints the table; `tachyon build --decompose`
/// builds the project from the decomposed model and stores it inside the project as
/// OUT/model.td.onnx, which the manifest points to (nothing is written beside the project; a
/// failed build writes nothing); a rebuild from that file with --force keeps it.
#[test]
fn cli_decompose_and_build_decompose() {
    let dir = scratch("decompose_cli");
    let path = write_model(&dir, "small.onnx", &small_cnn());
    let exe = env!("CARGO_BIN_EXE_tachyon");
    let td = dir.join("small.td.onnx");
    let out = std::process::Command::new(exe)
        .args(["decompose", path.to_str().unwrap(), "--budget", "0.05", "--clock-ns", "5", "-o", td.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("layer err") && text.contains("relative output error"), "{text}");
    assert!(td.is_file());
    let prj = dir.join("prj");
    let out = std::process::Command::new(exe)
        .args(["build", path.to_str().unwrap(), "--decompose", "0.05", "--clock-ns", "5", "-o", prj.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    let model = prj.join("model.td.onnx");
    assert!(model.is_file() && prj.join("rtl/tachyon_top.v").is_file(), "{text}");
    assert!(text.contains("prj/model.td.onnx"), "{text}");
    let listing = || {
        let mut v: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    };
    assert_eq!(listing(), ["prj", "small.onnx", "small.td.onnx"], "only the project is added");
    let (manifest, _) = tachyon_driver::project::load(&prj).unwrap();
    assert_eq!(std::fs::canonicalize(prj.join(&manifest.model)).unwrap(), std::fs::canonicalize(&model).unwrap());
    // The stored model is the decomposed one (what `tachyon decompose` wrote, same options).
    assert_eq!(std::fs::read(&model).unwrap(), std::fs::read(&td).unwrap());
    // Rebuilding the project from its own model with --force keeps the model in it.
    let out = std::process::Command::new(exe)
        .args(["build", model.to_str().unwrap(), "--clock-ns", "5", "--force", "-o", prj.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (again, _) = tachyon_driver::project::load(&prj).unwrap();
    assert_eq!(again.model, manifest.model);
    assert_eq!(std::fs::read(&model).unwrap(), std::fs::read(&td).unwrap());
    // A build that fails after decomposing (bad --top) leaves nothing.
    let failed = dir.join("failed");
    let out = std::process::Command::new(exe)
        .args(["build", path.to_str().unwrap(), "--decompose", "0.05", "--top", "1bad", "-o", failed.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--top"));
    assert_eq!(listing(), ["prj", "small.onnx", "small.td.onnx"]);
    let bad = std::process::Command::new(exe)
        .args(["decompose", path.to_str().unwrap(), "--budget", "0", "-o", td.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("--budget"));
}
