//! The transformer encoder of examples/src/transformer.rs end to end at a small size: multi-head
//! attention (Reshape/Transpose into heads, Q·Kᵀ, a softmax per row, A·V), residual adds, two
//! LayerNormalizations per block, a ReLU feed-forward, mean pooling. The softmax and 1/√x
//! tables approximate the float model (the error is printed and bounded); the RTL equals the
//! interpreter exactly.

use crate::common::*;
use prost::Message;
use tachyon_common::rng::Rng;
use tachyon_driver::project::build;
use tachyon_examples::transformer::{transformer, TransformerShape, TRANSFORMER_CONFIG};
use tachyon_frontend::{DType, Tensor};
use tachyon_quantize::{interp, Config};

fn tiny() -> TransformerShape {
    TransformerShape { tokens: 4, features: 3, d: 4, heads: 2, blocks: 1, ffn: 4, classes: 3 }
}

#[test]
fn small_transformer_tracks_float_and_cosimulates() {
    let dir = scratch("transformer");
    std::fs::create_dir_all(&dir).unwrap();
    let s = tiny();
    let path = dir.join("transformer.onnx");
    std::fs::write(&path, transformer(&s, 7).encode_to_vec()).unwrap();
    let cfg_path = dir.join("transformer.json");
    std::fs::write(&cfg_path, TRANSFORMER_CONFIG).unwrap();
    let cfg = Config::load(&cfg_path).unwrap();
    let g = tachyon_frontend::load_model(&path).unwrap();
    let m = tachyon_quantize::lower(&g, &cfg).unwrap();
    let mut rng = Rng::new(1);
    let (mut worst, mut agree, n) = (0f64, 0, 300);
    let argmax = |v: &[f64]| v.iter().enumerate().fold(0, |b, (k, &x)| if x > v[b] { k } else { b });
    for _ in 0..n {
        let x: Vec<f64> = (0..s.tokens * s.features).map(|_| rng.normal()).collect();
        let want =
            tachyon_frontend::eval::run_float(&g, &[Tensor::new(DType::F32, vec![1, s.tokens, s.features], x.clone())])
                .unwrap();
        let got = interp::evaluate(&m, &x).unwrap();
        for (a, b) in got.iter().zip(&want[0].data) {
            worst = worst.max((a - b).abs());
        }
        agree += (argmax(&got) == argmax(&want[0].data)) as usize;
    }
    skip_note!("transformer: max |fixed − float| = {worst:.4}, argmax agreement {agree}/{n}");
    assert!(agree * 10 >= n * 8, "argmax agreement {agree}/{n}");
    // Per-layer error report: the first layers are exact (no table before them), the softmax
    // and layer normalization depart from float by their tables, and every layer is reported.
    let samples: Vec<Vec<f64>> = (0..50).map(|_| (0..s.tokens * s.features).map(|_| rng.normal()).collect()).collect();
    let errors = tachyon_driver::sim::layer_errors(&path, &m, &samples).unwrap();
    let err = |name: &str| errors.iter().find(|e| e.layer == name).unwrap_or_else(|| panic!("{name}: {errors:?}"));
    assert_eq!(err("embed_matmul").max_abs, 0.0);
    assert_eq!(err("b0_scores_q").max_abs, 0.0);
    assert!(err("b0_attn_q").max_abs > 0.0 && err("b0_attn_q").max_abs < 0.1, "{errors:?}");
    assert!(errors.iter().any(|e| e.tensor == "b0_norm1_q"), "{errors:?}");
    let out = dir.join("out");
    let mut o = build_options(&path, &out);
    o.config = Some(cfg_path);
    o.clock_ns = Some(2.5);
    build(&o).unwrap();
    lint_and_cosim(&out, 1000);
}

/// The GELU forms a transformer export can hold — ONNX `Gelu` (opset 20, exact and tanh
/// approximation) and the erf decomposition `x · 0.5 · (1 + erf(x / √2))` that older exporters
/// write — each between two quantizers: one float chain over `x` (two branches of the same
/// tensor meet in a Mul), tabulated into exact step functions. The interpreter equals the float
/// semantics on every input code; the RTL equals the interpreter. (SiLU's `σ(x)` on a quantized
/// tensor is the configured sigmoid table, an approximation by design.)
#[test]
fn gelu_forms_between_quantizers_are_exact() {
    use tachyon_common::onnx_builder::{Attr, GraphBuilder, QONNX_DOMAIN};
    let dir = scratch("gelu_forms");
    std::fs::create_dir_all(&dir).unwrap();
    for form in ["gelu", "gelu_tanh", "erf"] {
        let mut g = GraphBuilder::new(form);
        let x = g.input("x", &[1, 16]);
        let xq = g.quant(&x, "xq", 2f32.powi(-4), 0.0, 8.0, true, false, "ROUND");
        let y = match form {
            "gelu" | "gelu_tanh" => {
                let approximate = if form == "gelu" { "none" } else { "tanh" };
                g.node("Gelu", "", "gelu", &[&xq], &["act"], vec![Attr::string("approximate", approximate)])
            }
            _ => {
                let r2 = g.initializer_f32("sqrt2", &[], &[std::f32::consts::SQRT_2]);
                let one = g.initializer_f32("one", &[], &[1.0]);
                let half = g.initializer_f32("half", &[], &[0.5]);
                let d = g.node("Div", "", "div", &[&xq, &r2], &["d"], vec![]);
                let e = g.node("Erf", "", "erf", &[&d], &["e"], vec![]);
                let a = g.node("Add", "", "add", &[&e, &one], &["a"], vec![]);
                let m = g.node("Mul", "", "mul", &[&xq, &a], &["m"], vec![]);
                g.node("Mul", "", "mul_half", &[&m, &half], &["act"], vec![])
            }
        };
        g.quant(&y, "y", 2f32.powi(-5), 0.0, 9.0, true, false, "ROUND");
        g.output("y", &[1, 16]);
        let path = dir.join(format!("{form}.onnx"));
        std::fs::write(&path, g.build(&[("", 20), (QONNX_DOMAIN, 1)]).encode_to_vec()).unwrap();
        let graph = tachyon_frontend::load_model(&path).unwrap_or_else(|e| panic!("{form}: {e}"));
        let m = tachyon_quantize::lower(&graph, &Config::default()).unwrap_or_else(|e| panic!("{form}: {e}"));
        // All 256 input codes, 16 per vector.
        for chunk in 0..16 {
            let x: Vec<f64> = (0..16).map(|k| ((chunk * 16 + k) as f64 - 128.0) / 16.0).collect();
            let want =
                tachyon_frontend::eval::run_float(&graph, &[Tensor::new(DType::F32, vec![1, 16], x.clone())]).unwrap();
            assert_eq!(interp::evaluate(&m, &x).unwrap(), want[0].data, "{form}: x={x:?}");
        }
        let out = dir.join(format!("{form}_project"));
        build(&build_options(&path, &out)).unwrap_or_else(|e| panic!("{form}: {e}"));
        lint_and_cosim(&out, 300);
    }
}

/// `nn.LayerNorm` as exporters before opset 17 write it (ReduceMean, Sub, Pow, ReduceMean, Add ε,
/// Sqrt, Div, Mul γ, Add β) is fused into LayerNormalization: the same quantized model, bit for
/// bit, as the opset-17 op with the same γ, β and ε, and it co-simulates.
#[test]
fn decomposed_layernorm_is_fused() {
    use tachyon_common::onnx_builder::{Attr, GraphBuilder, QONNX_DOMAIN};
    let dir = scratch("layernorm_decomposed");
    std::fs::create_dir_all(&dir).unwrap();
    let gamma: Vec<f32> = (0..8).map(|k| 0.75 + 0.0625 * k as f32).collect();
    let beta: Vec<f32> = (0..8).map(|k| -0.25 + 0.125 * k as f32).collect();
    let model = |decomposed: bool| {
        let mut g = GraphBuilder::new("ln");
        let x = g.input("x", &[1, 4, 8]);
        let xq = g.quant(&x, "xq", 2f32.powi(-4), 0.0, 8.0, true, false, "ROUND");
        let gm = g.initializer_f32("gamma", &[8], &gamma);
        let bt = g.initializer_f32("beta", &[8], &beta);
        let y = if decomposed {
            let axes = || vec![Attr::ints("axes", &[-1]), Attr::int("keepdims", 1)];
            let two = g.initializer_f32("two", &[], &[2.0]);
            let eps = g.initializer_f32("eps", &[], &[1e-5]);
            let m = g.node("ReduceMean", "", "mean", &[&xq], &["m"], axes());
            let d = g.node("Sub", "", "sub", &[&xq, &m], &["d"], vec![]);
            let p = g.node("Pow", "", "pow", &[&d, &two], &["p"], vec![]);
            let v = g.node("ReduceMean", "", "var", &[&p], &["v"], axes());
            let ve = g.node("Add", "", "add_eps", &[&v, &eps], &["ve"], vec![]);
            let s = g.node("Sqrt", "", "sqrt", &[&ve], &["s"], vec![]);
            let n = g.node("Div", "", "div", &[&d, &s], &["n"], vec![]);
            let ng = g.node("Mul", "", "mul_gamma", &[&n, &gm], &["ng"], vec![]);
            g.node("Add", "", "add_beta", &[&ng, &bt], &["ln"], vec![])
        } else {
            let attrs = vec![Attr::int("axis", -1), Attr::float("epsilon", 1e-5)];
            g.node("LayerNormalization", "", "ln", &[&xq, &gm, &bt], &["ln"], attrs)
        };
        g.quant(&y, "y", 2f32.powi(-5), 0.0, 10.0, true, false, "ROUND");
        g.output("y", &[1, 4, 8]);
        g.build(&[("", if decomposed { 13 } else { 17 }), (QONNX_DOMAIN, 1)]).encode_to_vec()
    };
    let (pd, pn) = (dir.join("decomposed.onnx"), dir.join("native.onnx"));
    std::fs::write(&pd, model(true)).unwrap();
    std::fs::write(&pn, model(false)).unwrap();
    let (gd, gn) = (tachyon_frontend::load_model(&pd).unwrap(), tachyon_frontend::load_model(&pn).unwrap());
    assert!(gd.nodes.iter().any(|n| matches!(n.op, tachyon_frontend::Op::LayerNorm { .. })), "not fused");
    let (md, mn) = (
        tachyon_quantize::lower(&gd, &Config::default()).unwrap(),
        tachyon_quantize::lower(&gn, &Config::default()).unwrap(),
    );
    let mut rng = Rng::new(3);
    for _ in 0..200 {
        let x: Vec<f64> = (0..32).map(|_| rng.normal() * 2.0).collect();
        assert_eq!(interp::evaluate(&md, &x).unwrap(), interp::evaluate(&mn, &x).unwrap(), "x={x:?}");
    }
    let out = dir.join("project");
    build(&build_options(&pd, &out)).unwrap();
    lint_and_cosim(&out, 300);
}

/// Products of two activations (attention's Q·Kᵀ) with `"strategy": "adders"` — and by default,
/// since these operands (6 × 5 bits) are narrow — are LUT multipliers (partial products and an
/// adder tree, no DSP); with `"dsp"` they go to DSPs. All co-simulate exactly, signed and
/// unsigned operands alike.
#[test]
fn activation_products_on_luts() {
    use tachyon_common::onnx_builder::{GraphBuilder, QONNX_DOMAIN};
    let dir = scratch("products_on_luts");
    std::fs::create_dir_all(&dir).unwrap();
    let mut g = GraphBuilder::new("qk");
    let q = g.input("q", &[1, 3, 4]);
    let qq = g.quant(&q, "qq", 2f32.powi(-3), 0.0, 6.0, true, false, "ROUND");
    let kt = g.node(
        "Transpose",
        "",
        "kt",
        &[&qq],
        &["kt"],
        vec![tachyon_common::onnx_builder::Attr::ints("perm", &[0, 2, 1])],
    );
    let r = g.node("Relu", "", "relu", &[&kt], &["kr"], vec![]);
    let kq = g.quant(&r, "kq", 2f32.powi(-3), 0.0, 5.0, false, false, "ROUND");
    let s = g.node("MatMul", "", "scores", &[&qq, &kq], &["s"], vec![]);
    g.quant(&s, "y", 2f32.powi(-4), 0.0, 12.0, true, false, "ROUND");
    g.output("y", &[1, 3, 3]);
    let path = dir.join("qk.onnx");
    std::fs::write(&path, g.build(&[("", 13), (QONNX_DOMAIN, 1)]).encode_to_vec()).unwrap();
    for (strategy, dsp) in [("adders", false), ("auto", false), ("dsp", true)] {
        let out = dir.join(strategy);
        let cfg = dir.join(format!("{strategy}.json"));
        std::fs::write(&cfg, format!(r#"{{"layers": {{"scores": {{"strategy": "{strategy}"}}}}}}"#)).unwrap();
        let mut o = build_options(&path, &out);
        o.config = Some(cfg);
        let b = build(&o).unwrap();
        assert_eq!(b.design.report.total.dsp > 0, dsp, "{strategy}: {:?}", b.design.report.total);
        lint_and_cosim(&out, 500);
    }
}

/// Class-token pooling as exporters write it: a learned token concatenated in front of the
/// particle tokens (Concat with a constant), a per-token layer, and the class token's row taken
/// by Gather(index 0) — wiring and constants, exact, co-simulated.
#[test]
fn class_token_pooling() {
    use tachyon_common::onnx_builder::{Attr, GraphBuilder, QONNX_DOMAIN};
    let dir = scratch("class_token");
    std::fs::create_dir_all(&dir).unwrap();
    let mut g = GraphBuilder::new("cls");
    let x = g.input("x", &[1, 4, 6]);
    let xq = g.quant(&x, "xq", 2f32.powi(-4), 0.0, 8.0, true, false, "ROUND");
    let cls: Vec<f32> = (0..6).map(|k| (k as f32 - 2.5) / 4.0).collect();
    let c = g.initializer_f32("cls_token", &[1, 1, 6], &cls);
    let t = g.node("Concat", "", "prepend_cls", &[&c, &xq], &["tokens"], vec![Attr::int("axis", 1)]);
    let w: Vec<f32> = (0..36).map(|k| ((k * 7 % 11) as f32 - 5.0) / 8.0).collect();
    let w = g.initializer_f32("w", &[6, 6], &w);
    let h = g.node("MatMul", "", "mix", &[&t, &w], &["h"], vec![]);
    let hq = g.quant(&h, "hq", 2f32.powi(-4), 0.0, 10.0, true, false, "ROUND");
    let idx = g.initializer_i64("zero", &[], &[0]);
    let y = g.node("Gather", "", "take_cls", &[&hq, &idx], &["y"], vec![Attr::int("axis", 1)]);
    let _ = y;
    g.output("y", &[1, 6]);
    let path = dir.join("cls.onnx");
    std::fs::write(&path, g.build(&[("", 13), (QONNX_DOMAIN, 1)]).encode_to_vec()).unwrap();
    let graph = tachyon_frontend::load_model(&path).unwrap();
    let m = tachyon_quantize::lower(&graph, &Config::default()).unwrap();
    let mut rng = Rng::new(4);
    for _ in 0..100 {
        let x: Vec<f64> = (0..24).map(|_| rng.normal() * 2.0).collect();
        let want =
            tachyon_frontend::eval::run_float(&graph, &[Tensor::new(DType::F32, vec![1, 4, 6], x.clone())]).unwrap();
        assert_eq!(interp::evaluate(&m, &x).unwrap(), want[0].data);
    }
    let out = dir.join("project");
    build(&build_options(&path, &out)).unwrap();
    lint_and_cosim(&out, 200);
}

/// The stream style is not only for images: particles and tokens are pixels of a 1-D signal
/// whose channels are the features. A deep set streams φ one particle per clock (and two per
/// clock), the transformer streams its per-token layers up to the attention; both co-simulate
/// exactly, frames back to back and with gaps.
#[test]
fn particles_and_tokens_stream() {
    use tachyon_examples::set_models::{deep_set, DeepSetShape};
    let dir = scratch("tokens_stream");
    std::fs::create_dir_all(&dir).unwrap();
    let ds = DeepSetShape { particles: 6, features: 4, phi: vec![8, 8], rho: vec![6, 3] };
    let t = tiny();
    let models = [
        ("deep_set", deep_set(&ds, 3).encode_to_vec(), 1, 6),
        ("deep_set_p2", deep_set(&ds, 3).encode_to_vec(), 2, 3),
        ("transformer", transformer(&t, 7).encode_to_vec(), 1, t.tokens),
    ];
    for (name, bytes, p, ii) in models {
        let path = dir.join(format!("{name}.onnx"));
        std::fs::write(&path, bytes).unwrap();
        let mut cfg: serde_json::Value = serde_json::from_str(TRANSFORMER_CONFIG).unwrap();
        cfg["default"] = serde_json::json!({"style": "stream", "pixels_per_clock": p});
        let cfg_path = dir.join(format!("{name}.json"));
        std::fs::write(&cfg_path, cfg.to_string()).unwrap();
        let out = dir.join(name);
        let mut o = build_options(&path, &out);
        o.config = Some(cfg_path);
        let b = build(&o).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        assert_eq!(b.design.ii as usize, ii, "{name}");
        let streamed = b.design.report.layers.iter().filter(|l| l.style == "stream").count();
        assert!(streamed >= 3, "{name}: {streamed} layers stream");
        if lint_and_cosim(&out, 300).is_some() {
            let s = tachyon_driver::sim::run(
                &out,
                &tachyon_driver::sim::SimOptions { random: Some(100), gap: 2, ..Default::default() },
            )
            .unwrap();
            assert_eq!(s.mismatches, 0, "{name}: with gaps");
        }
    }
}

/// The reuse option on a transformer: `"reuse": 4` time-multiplexes the per-token dense layers
/// (one multiplier per output and block of a token's features: the contiguous layout) and the
/// Q·Kᵀ / A·V products (⌈pairs / 4⌉ multipliers, each product loaded into its own register),
/// leaves the sums of products and the bias adds parallel, and runs at II 4, exactly.
#[test]
fn reuse_time_multiplexes_dense_layers_and_products() {
    let dir = scratch("transformer_reuse");
    std::fs::create_dir_all(&dir).unwrap();
    let s = tiny();
    let path = dir.join("transformer.onnx");
    std::fs::write(&path, transformer(&s, 3).encode_to_vec()).unwrap();
    let cfg = dir.join("reuse.json");
    let with_reuse = TRANSFORMER_CONFIG.replacen('{', r#"{ "default": { "strategy": "dsp", "reuse": 4 },"#, 1);
    std::fs::write(&cfg, with_reuse).unwrap();
    let out = dir.join("out");
    let mut o = build_options(&path, &out);
    o.config = Some(cfg);
    o.clock_ns = Some(2.5);
    let b = build(&o).unwrap();
    let r = &b.design.report;
    assert_eq!(r.ii_cycles, 4);
    let layer = |name: &str| r.layers.iter().find(|l| l.name == name).unwrap_or_else(|| panic!("{name}"));
    // embed: 4 tokens × 3 features → 4 × 4; contiguous slots of 4 inputs cut tokens 1 and 2 in
    // two, so 6 lanes per output column instead of 12 for the strided layout.
    assert_eq!(layer("embed_matmul").estimate.dsp, 24, "{:?}", layer("embed_matmul"));
    // 2 heads × 4 × 4 scores × 2 products, 4 per multiplier.
    assert_eq!(layer("b0_scores").estimate.dsp, 16, "{:?}", layer("b0_scores"));
    assert_eq!(layer("b0_scores").ii_cycles, 4);
    // The sum over a head's features has coefficients 1: parallel adders, no lanes.
    assert_eq!(layer("b0_scores_1").estimate.dsp, 0);
    if lint_and_cosim(&out, 400).is_some() {
        // With idle cycles between vectors too.
        let sim = tachyon_driver::sim::run(
            &out,
            &tachyon_driver::sim::SimOptions { random: Some(100), gap: 3, ..Default::default() },
        )
        .unwrap();
        assert_eq!(sim.mismatches, 0);
    }
}
