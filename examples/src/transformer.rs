//! A jet-tagging transformer encoder in QONNX, structured as `torch.onnx.export` writes
//! `nn.TransformerEncoderLayer` (post-norm, ReLU feed-forward) with Brevitas-style quantizers
//! after every op, generated from a seed. Input `x` [1, S, F]: S particles (tokens) × F features.
//!
//! ```text
//! x ─Quant(fixed<10,5>)→ embed: MatMul + bias → Quant(fixed<8,3>) → h [1,S,d]
//! per block:
//!   q, k, v = h·W + b → Quant        (1/√d_head folded into W_q and b_q, as exporters do)
//!   heads: Reshape [1,S,H,dh] → Transpose → q [1,H,S,dh], kᵀ [1,H,dh,S], v [1,H,S,dh]
//!   scores = MatMul(q, kᵀ) → Quant;  A = Softmax(axis −1) → Quant(ufixed<8,0>)
//!   ctx = MatMul(A, v) → Quant → Transpose/Reshape [1,S,d] → W_o → Quant
//!   h = LayerNormalization(Quant(h + ctx)) → Quant
//!   h = LayerNormalization(Quant(h + W_2·Quant(ReLU(W_1·h)))) → Quant
//! pool: ReduceMean over tokens → Quant;  classifier: MatMul + bias → Quant(fixed<12,5>) → y [1,C]
//! ```
//! Weights fixed<6,2> (He-normal, rounded), biases fixed<8,3>, LayerNorm γ ≈ 1 and β ≈ 0 on the
//! 2^-4 grid.

use crate::set_models::{Net, INPUT_BITS, INPUT_FRAC};
use tachyon_common::onnx_builder::{Attr, GraphBuilder, QONNX_DOMAIN};
use tachyon_common::rng::Rng;
use tachyon_frontend::proto::ModelProto;

/// Activations between ops: fixed<8,3> (scale 2^-4).
const ACT_FRAC: i32 = 4;
const ACT_BITS: f32 = 8.0;
/// Attention scores: fixed<10,5> (scale 2^-4).
const SCORE_FRAC: i32 = 4;
const SCORE_BITS: f32 = 10.0;
/// Attention weights after the softmax: ufixed<8,0> (scale 2^-8).
const ATTN_FRAC: i32 = 8;
const ATTN_BITS: f32 = 8.0;

/// Shape of the encoder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransformerShape {
    pub tokens: usize,
    pub features: usize,
    /// Model width d (a multiple of `heads`).
    pub d: usize,
    pub heads: usize,
    pub blocks: usize,
    /// Feed-forward width.
    pub ffn: usize,
    pub classes: usize,
}

impl TransformerShape {
    /// The issue's jet transformer: 16 particles × 16 features, d = 16, 2 heads, 2 blocks,
    /// feed-forward 32, 5 classes.
    pub fn jet() -> TransformerShape {
        TransformerShape { tokens: 16, features: 16, d: 16, heads: 2, blocks: 2, ffn: 32, classes: 5 }
    }
}

struct Enc<'a> {
    g: &'a mut GraphBuilder,
    rng: &'a mut Rng,
    /// The float model: no activation quantizers (the weights stay on their grids).
    float: bool,
}

impl Enc<'_> {
    fn quant(&mut self, x: &str, name: &str, frac: i32, bits: f32, signed: bool) -> String {
        if self.float {
            return x.to_string();
        }
        self.g.quant(x, name, f32::powi(2.0, -frac), 0.0, bits, signed, false, "ROUND")
    }

    fn act(&mut self, x: &str, name: &str) -> String {
        self.quant(x, name, ACT_FRAC, ACT_BITS, true)
    }

    fn linear(&mut self, x: &str, prefix: &str, n_in: usize, n_out: usize, scale: f64) -> String {
        Net { g: &mut *self.g, rng: &mut *self.rng }.linear(x, prefix, n_in, n_out, scale)
    }

    fn shape(&mut self, name: &str, dims: &[i64]) -> String {
        self.g.initializer_i64(name, &[dims.len()], dims)
    }

    fn layernorm(&mut self, x: &str, prefix: &str, d: usize) -> String {
        let gamma: Vec<f32> = (0..d).map(|_| 1.0 + (self.rng.below(9) as f32 - 4.0) / 16.0).collect();
        let beta: Vec<f32> = (0..d).map(|_| (self.rng.below(9) as f32 - 4.0) / 16.0).collect();
        let gamma = self.g.initializer_f32(&format!("{prefix}_gamma"), &[d], &gamma);
        let beta = self.g.initializer_f32(&format!("{prefix}_beta"), &[d], &beta);
        let y = self.g.node(
            "LayerNormalization",
            "",
            prefix,
            &[x, &gamma, &beta],
            &[&format!("{prefix}_out")],
            vec![Attr::int("axis", -1), Attr::float("epsilon", 1e-5)],
        );
        self.act(&y, &format!("{prefix}_q"))
    }

    /// One post-norm encoder block on h [1, S, d].
    fn block(&mut self, h: &str, k: usize, s: &TransformerShape) -> String {
        let (t, d, nh) = (s.tokens as i64, s.d as i64, s.heads as i64);
        let dh = d / nh;
        let p = |what: &str| format!("b{k}_{what}");
        let qs = self.linear(h, &p("q"), s.d, s.d, 1.0 / (dh as f64).sqrt());
        let q = self.act(&qs, &p("q_q"));
        let ks = self.linear(h, &p("k"), s.d, s.d, 1.0);
        let kq = self.act(&ks, &p("k_q"));
        let vs = self.linear(h, &p("v"), s.d, s.d, 1.0);
        let v = self.act(&vs, &p("v_q"));
        let split = self.shape(&p("split_shape"), &[1, t, nh, dh]);
        let heads = |e: &mut Self, x: &str, what: &str, perm: &[i64]| -> String {
            let r = e.g.node(
                "Reshape",
                "",
                &p(&format!("{what}_split")),
                &[x, &split],
                &[&p(&format!("{what}_4d"))],
                vec![],
            );
            e.g.node(
                "Transpose",
                "",
                &p(&format!("{what}_heads")),
                &[&r],
                &[&p(&format!("{what}_h"))],
                vec![Attr::ints("perm", perm)],
            )
        };
        let qh = heads(self, &q, "q", &[0, 2, 1, 3]);
        let kt = heads(self, &kq, "k", &[0, 2, 3, 1]);
        let vh = heads(self, &v, "v", &[0, 2, 1, 3]);
        let sc = self.g.node("MatMul", "", &p("scores"), &[&qh, &kt], &[&p("scores_out")], vec![]);
        let sc = self.quant(&sc, &p("scores_q"), SCORE_FRAC, SCORE_BITS, true);
        let a = self.g.node("Softmax", "", &p("softmax"), &[&sc], &[&p("attn")], vec![Attr::int("axis", -1)]);
        let a = self.quant(&a, &p("attn_q"), ATTN_FRAC, ATTN_BITS, false);
        let ctx = self.g.node("MatMul", "", &p("context"), &[&a, &vh], &[&p("ctx")], vec![]);
        let ctx = self.act(&ctx, &p("ctx_q"));
        let ctx =
            self.g.node("Transpose", "", &p("merge"), &[&ctx], &[&p("ctx_t")], vec![Attr::ints("perm", &[0, 2, 1, 3])]);
        let merged = self.shape(&p("merge_shape"), &[1, t, d]);
        let ctx = self.g.node("Reshape", "", &p("merge_heads"), &[&ctx, &merged], &[&p("ctx_m")], vec![]);
        let o = self.linear(&ctx, &p("out"), s.d, s.d, 1.0);
        let o = self.act(&o, &p("out_q"));
        let r1 = self.g.node("Add", "", &p("residual1"), &[h, &o], &[&p("r1")], vec![]);
        let r1 = self.act(&r1, &p("r1_q"));
        let n1 = self.layernorm(&r1, &p("norm1"), s.d);
        let f1 = self.linear(&n1, &p("ff1"), s.d, s.ffn, 1.0);
        let f1 = self.g.node("Relu", "", &p("ff_relu"), &[&f1], &[&p("ff1_relu")], vec![]);
        let f1 = self.quant(&f1, &p("ff1_q"), ACT_FRAC, ACT_BITS, false);
        let f2 = self.linear(&f1, &p("ff2"), s.ffn, s.d, 1.0);
        let f2 = self.act(&f2, &p("ff2_q"));
        let r2 = self.g.node("Add", "", &p("residual2"), &[&n1, &f2], &[&p("r2")], vec![]);
        let r2 = self.act(&r2, &p("r2_q"));
        self.layernorm(&r2, &p("norm2"), s.d)
    }
}

/// The transformer encoder of the module doc (graph `transformer`, input `x` [1,S,F], output
/// `y` [1,C]).
pub fn transformer(s: &TransformerShape, seed: u64) -> ModelProto {
    encoder(s, seed, false)
}

/// The float model the quantized one stands for: the same graph and the same weights (on their
/// grids), without the activation quantizers — the reference for argmax agreement.
pub fn transformer_float(s: &TransformerShape, seed: u64) -> ModelProto {
    encoder(s, seed, true)
}

fn encoder(s: &TransformerShape, seed: u64, float: bool) -> ModelProto {
    assert!(s.heads > 0 && s.d.is_multiple_of(s.heads), "d must be a multiple of the number of heads");
    let mut rng = Rng::new(seed);
    let mut g = GraphBuilder::new("transformer");
    let x = g.input("x", &[1, s.tokens as i64, s.features as i64]);
    g.output("y", &[1, s.classes as i64]);
    let mut e = Enc { g: &mut g, rng: &mut rng, float };
    let xq = e.quant(&x, "xq", INPUT_FRAC, INPUT_BITS, true);
    let h = e.linear(&xq, "embed", s.features, s.d, 1.0);
    let mut h = e.act(&h, "embed_q");
    for k in 0..s.blocks {
        h = e.block(&h, k, s);
    }
    let pooled = Net { g: &mut *e.g, rng: &mut *e.rng }.mean_over_particles(&h);
    let pooled = e.act(&pooled, "pool_q");
    let logits = e.linear(&pooled, "classifier", s.d, s.classes, 1.0);
    let y = e.quant(&logits, "logits_q", 5 + 2, 12.0, true);
    e.g.node("Identity", "", "output", &[&y], &["y"], vec![]);
    g.build(&[("", 17), (QONNX_DOMAIN, 1)])
}

/// The transformer's table config: small softmax tables (64-entry exp and 1/x tables, 8
/// fractional output bits — the Quant after the softmax keeps 8). Its attention products follow
/// the default strategy (LUT multipliers where the operands are narrow).
pub const TRANSFORMER_CONFIG: &str = r#"{
  "softmax": { "exp_table_bits": 6, "exp_range": 8, "exp_frac": 10, "inv_table_bits": 6, "output_frac": 8 },
  "layernorm": { "mant_bits": 6, "output_frac": 6 }
}
"#;

/// [`TRANSFORMER_CONFIG`] with the attention products (Q·Kᵀ and A·V) of `blocks` blocks on DSPs
/// — the shipped example's `transformer.json` (2 blocks), whose figures in benches/RESULTS.md
/// were measured so.
pub fn transformer_config_dsp(blocks: usize) -> String {
    let layers: Vec<String> = (0..blocks)
        .flat_map(|k| ["scores", "context"].map(|p| format!("    \"b{k}_{p}\": {{ \"strategy\": \"dsp\" }}")))
        .collect();
    format!(
        "{{\n  \"softmax\": {{ \"exp_table_bits\": 6, \"exp_range\": 8, \"exp_frac\": 10, \"inv_table_bits\": 6, \"output_frac\": 8 }},\n  \
         \"layernorm\": {{ \"mant_bits\": 6, \"output_frac\": 6 }},\n  \"layers\": {{\n{}\n  }}\n}}\n",
        layers.join(",\n")
    )
}

/// [`TRANSFORMER_CONFIG`] with the attention products (Q·Kᵀ and A·V of both blocks) taking
/// turns two at a time on their DSPs: II 2 (one event every 5 ns at 2.5 ns, far inside the
/// LHC's 25 ns), 8,192 DSPs fewer, so the design fits one VU13P's 12,288.
pub const TRANSFORMER_II2_CONFIG: &str = r#"{
  "softmax": { "exp_table_bits": 6, "exp_range": 8, "exp_frac": 10, "inv_table_bits": 6, "output_frac": 8 },
  "layernorm": { "mant_bits": 6, "output_frac": 6 },
  "layers": {
    "b0_scores": { "strategy": "dsp", "reuse": 2 },
    "b0_context": { "strategy": "dsp", "reuse": 2 },
    "b1_scores": { "strategy": "dsp", "reuse": 2 },
    "b1_context": { "strategy": "dsp", "reuse": 2 }
  }
}
"#;
