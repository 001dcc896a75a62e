//! Random valid quantized QONNX models for differential fuzzing (`tachyon fuzz`,
//! `tests/differential.rs`): small MLPs, set models and CNNs whose every knob is drawn from a
//! seed. The same seed and
//! [`Limits`] always give the same bytes.
//!
//! ```text
//! x [1,n0] ─[prologue: Mul/Add/Sub/Div by a constant]→ Quant(input, 2..12 bits)
//!   ─[layout no-op]→ for each of 1..3 layers (widths 1..8):             (dense.rs)
//!     MatMul(x, Quant(W)) [+ Add(Quant(b))]  or  Gemm(x, Quant(W), Quant(b)) [transB, alpha, beta]
//!     [affine op on the grid: Mul/Div/Add/Sub/Neg by dyadic constants, BatchNormalization]
//!     hidden: [Relu] Quant(act, 1..12 bits) | BipolarQuant  [Trunc]
//!             [float chain: Mul/Add/BatchNormalization by non-dyadic constants, Relu → Quant]
//!             [layout no-op]
//!             [Add | Sub | Max with an earlier tensor of the same width, or Concat with any
//!              earlier tensor (input or hidden)] [Quant]
//!             [block: LayerNormalization | MatMul or Mul of two activations | Softmax per row
//!              → Quant]                                            (blocks.rs)
//!     last:   Quant(out, 1..16 bits) [→ Softmax | Sigmoid | float Mul epilogue], or no Quant
//! ```
//!
//! Every Quant (but those of float-scale models, below) has a power-of-two scale `2^-k` (k in
//! 0..=8), zero point 0, a random bit width,
//! signedness, `narrow` and rounding mode (ROUND, HALF_UP, HALF_DOWN, CEIL, FLOOR,
//! ROUND_TO_ZERO, DOWN — the spellings `frontend/src/import/quant.rs` accepts). Weights (1..8 bits)
//! and biases (1..16 bits) are drawn on their grid (integers × scale), some weights zero. Most
//! activation scales are fitted to the typical magnitude of the values they quantize (tracked
//! through the layers), so that most models compute something rather than saturate.
//!
//! Op families covered (all accepted by `tachyon inspect` / `tachyon build`): Quant (1-bit signed
//! = bipolar, 1-bit unsigned narrow = constant 0 included), BipolarQuant, Trunc (opset-1
//! five-input and opset-2 six-input forms), MatMul, Gemm (transB, power-of-two alpha/beta, bias
//! as C), Add, Sub (both operand orders), Mul (scalar and per-channel, zeros included), Div, Neg,
//! BatchNormalization (on the grid: ε = 0, var = 4^k; and off the grid before a Quant, becoming
//! thresholds), float chains with non-dyadic constants between quantizers (thresholds) and after
//! the last one (epilogue), float prologue ops, Relu (before or after the activation Quant, or
//! absent), Reshape, Flatten, Identity, Dropout, Cast (to float), Transpose pairs,
//! Squeeze/Unsqueeze pairs, a final Softmax or Sigmoid, and skip connections: Add, Sub or Max of
//! two activations and Concat of two activations (both operand orders).
//!
//! CNN models (about one in six, `cnn.rs`): the input is [1, C, L] or [1, C, H, W] (C ≤ 3,
//! L ≤ 12, H, W ≤ 6) and 1..2 blocks of [Pad (constant)] Conv (kernel 1..3, stride 1..2,
//! dilation 1..2, symmetric or one-sided pads, depthwise groups, quantized weights, bias or
//! not) [Relu | Clip | LeakyRelu] Quant [MaxPool | AveragePool (count_include_pad 0/1, pads) →
//! Quant], then [GlobalAveragePool → Quant | GlobalMaxPool] and Flatten feed the dense layers.
//!
//! Transformer-style blocks after a hidden activation (`blocks.rs`, about one hidden layer in
//! four), each followed by a Quant: LayerNormalization (opset 17, axis −1, Scale and B, on the
//! vector or per row of [1, r, k]); MatMul of two activations (x·xᵀ or xᵀ·x of a reshaped x,
//! or two Slices of x reshaped to [a, b] and [b, c], rank 2 or 3); Mul of two activations
//! (x ⊙ x or with an earlier tensor); Softmax over the last axis of [1, r, k], r, k ≥ 2.
//!
//! Every optional family draws from its own stream (set models 300, CNN 400, blocks 500 + layer),
//! so a model without it keeps the bytes it had before the family was added.
//!
//! Set models (one in five): the input is [1, P, n0] with P = 2..5 particles; the layers before
//! a ReduceSum/ReduceMean/ReduceMax over the particles act on each particle (MatMul on a rank-3
//! tensor; no Gemm, affine, layout or skip extras there), the rest as above.
//!
//! Float-scale models (about one in four of those with extras and no FixedQuant, stream 600):
//! the weight and bias quantizers of every layer but the last (and of a CNN front) have a
//! float32 scale `2^-k·f`, f in (1, 1.9), often a zero point, and are sometimes an int8/uint8
//! initializer behind an ONNX `DequantizeLinear` instead; the input quantizer often has a zero
//! point (see `quantize/src/lower/scales.rs` and `frontend/src/import/qdq.rs`).
//!
//! Not covered yet: float scales on activation quantizers (only weights; the tests in
//! `tests/it/float_scales.rs` and `tests/it/qdq.rs` cover them), QLinear/Integer ops,
//! Trunc with a non-power-of-two scale, a Sigmoid in the middle of a network, float
//! (Quant-free) models, multi-row inputs (batch or sequence dimension), Tanh/HardSigmoid,
//! ConvTranspose, Pad in reflect/edge mode, Einsum, full attention heads (Q·Kᵀ → Softmax → ·V
//! in one block).

mod blocks;
mod cnn;
mod dense;

use std::collections::BTreeSet;
use tachyon_common::onnx_builder::{Attr, GraphBuilder, QONNX_DOMAIN};
use tachyon_common::rng::Rng;
use tachyon_frontend::proto::{data_type, ModelProto, TensorProto};

/// The QONNX rounding modes drawn for Quant and Trunc nodes.
pub const ROUNDING_MODES: [&str; 7] = ["ROUND", "HALF_UP", "HALF_DOWN", "CEIL", "FLOOR", "ROUND_TO_ZERO", "DOWN"];

/// Knobs bounding a random model; smaller limits give smaller models from the same seed (the
/// draws are clamped, not redrawn, so a model keeps its structure as far as the limits allow).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Dense layers, 1..=3.
    pub max_layers: usize,
    /// Input and layer widths, 1..=8.
    pub max_width: usize,
    /// Upper bound on every Quant bit width (weights are at most 8, activations 12, others 16).
    pub max_bits: u32,
    /// Optional op families (prologue, affine ops, layout no-ops, float chains, Trunc,
    /// BipolarQuant, tails); without them a model is a plain Quant–dense–Relu–Quant MLP.
    pub extras: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_layers: 3, max_width: 8, max_bits: 16, extras: true }
    }
}

/// What a random model is made of, for failure reports and tests.
#[derive(Clone, Debug, PartialEq)]
pub struct RandomModelInfo {
    pub seed: u64,
    pub limits: Limits,
    /// Number of dense layers.
    pub layers: usize,
    /// Width of the first dense layer's input: the input width of an MLP or set model, the
    /// flattened feature count of a CNN model (which may exceed 8).
    pub input_width: usize,
    /// The graph input's shape ([1, n], [1, particles, n], [1, C, L] or [1, C, H, W]).
    pub input_shape: Vec<usize>,
    /// Output width of each dense layer.
    pub widths: Vec<usize>,
    /// ONNX op types of the nodes on the activation path (the nodes left after constant folding;
    /// the Quant nodes of weights and biases fold away).
    pub ops: BTreeSet<String>,
    /// Particles of a set model (input [1, particles, input_width], aggregated over the
    /// particles by a ReduceSum/ReduceMean/ReduceMax); 1 for an MLP (input [1, input_width]).
    pub particles: usize,
    /// `Softmax` or `Sigmoid` when the output goes through a table approximation.
    pub table: Option<String>,
    /// One line: layers, widths, quantizers (bits, s/u, n = narrow, scale, rounding), ops.
    pub description: String,
}

/// One Quant node's parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
struct QuantSpec {
    bits: u32,
    signed: bool,
    narrow: bool,
    /// Scale `2^-frac`.
    frac: i32,
    mode: &'static str,
}

impl QuantSpec {
    fn scale(&self) -> f32 {
        f32::powi(2.0, -self.frac)
    }
    /// Integer range, as QONNX defines it (1-bit signed is bipolar: −1 or +1).
    fn range(&self) -> (i64, i64) {
        let b = self.bits as i64;
        match (self.signed, self.narrow) {
            (true, _) if b == 1 => (-1, 1),
            (true, true) => (-(1 << (b - 1)) + 1, (1 << (b - 1)) - 1),
            (true, false) => (-(1 << (b - 1)), (1 << (b - 1)) - 1),
            (false, true) => (0, (1 << b) - 2),
            (false, false) => (0, (1 << b) - 1),
        }
    }
    /// Largest magnitude of a quantized value.
    fn max_abs(&self) -> f64 {
        let (lo, hi) = self.range();
        lo.abs().max(hi.abs()) as f64 * self.scale() as f64
    }
    /// Mostly (`pick` 0..=5 of 0..8) moves the scale so the range covers about twice `mag`, the
    /// typical magnitude of the quantized values (±1 step of jitter); otherwise keeps the drawn
    /// scale (often saturating or rounding everything to a few values). Scales stay 2^-0..2^-8.
    fn fit(&mut self, mag: f64, pick: u64) {
        let (lo, hi) = self.range();
        let q = lo.abs().max(hi.abs()).max(1) as f64;
        if pick <= 5 && mag > 0.0 && mag.is_finite() {
            let jitter = [0, 0, -1, 1, 0, 0][pick as usize];
            self.frac = ((q / (2.0 * mag)).log2().round() as i32 + jitter).clamp(0, 8);
        }
    }
    /// A random integer of the range (never 0 for a bipolar quantizer).
    fn draw_int(&self, r: &mut Rng, cap: i64) -> i64 {
        let (lo, hi) = self.range();
        if self.signed && self.bits == 1 {
            return if chance(r, 0.5) { -1 } else { 1 };
        }
        let (lo, hi) = (lo.max(-cap), hi.min(cap));
        lo + r.below((hi - lo + 1) as u64) as i64
    }
    /// `s8n/2^-5/FLOOR` = signed 8 bits, narrow, scale 2^-5, FLOOR.
    fn describe(&self) -> String {
        format!(
            "{}{}{}/2^-{}/{}",
            if self.signed { "s" } else { "u" },
            self.bits,
            if self.narrow { "n" } else { "" },
            self.frac,
            self.mode
        )
    }
}

fn chance(r: &mut Rng, p: f64) -> bool {
    r.uniform() < p
}

fn pick<T: Copy>(r: &mut Rng, items: &[T]) -> T {
    items[r.below(items.len() as u64) as usize]
}

/// An independent stream for part `part` of the model of `seed`.
fn stream(seed: u64, part: u64) -> Rng {
    Rng::new(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ part.wrapping_mul(0xD1B5_4A32_D192_ED03))
}

/// A quantizer with `bits` drawn in `1..=max_bits` then clamped to `[min_bits, limit]`.
fn draw_spec(r: &mut Rng, min_bits: u32, max_bits: u32, limit: u32, p_signed: f64) -> QuantSpec {
    let bits = (1 + r.below(max_bits as u64) as u32).clamp(min_bits, max_bits.min(limit).max(min_bits));
    QuantSpec {
        bits,
        signed: chance(r, p_signed),
        narrow: chance(r, 0.25),
        frac: r.below(9) as i32,
        mode: pick(r, &ROUNDING_MODES),
    }
}

/// A dyadic constant `m·2^-e` with odd `m` in ±{1,3,5,7} (exact on the fixed-point grid).
fn dyadic(r: &mut Rng) -> f32 {
    let m = pick(r, &[1.0f32, 3.0, 5.0, 7.0]) * if chance(r, 0.3) { -1.0 } else { 1.0 };
    m * f32::powi(2.0, 2 - r.below(7) as i32)
}

/// A float constant that is not on any coarse fixed-point grid (forces thresholds/epilogue).
fn non_dyadic(r: &mut Rng) -> f32 {
    let v = (0.1 + 1.9 * r.uniform()) as f32;
    if chance(r, 0.2) {
        -v
    } else {
        v
    }
}

/// The model under construction.
struct Gen {
    g: GraphBuilder,
    /// Typical magnitude of the current activation (to choose scales that do not flatten it).
    mag: f64,
    ops: BTreeSet<String>,
    desc: Vec<String>,
    counter: usize,
    /// The default-domain opset the model imports (13, or 17 for LayerNormalization).
    opset: i64,
    /// Set for a model drawn to use Tachyon's `FixedQuant` (docs/qonnx_extension.md) for its
    /// input and hidden activation quantizers: the stream its per-element widths, pruned
    /// elements, rounding and overflow are drawn from (apart, so other draws do not move).
    fixed: Option<Rng>,
    /// Set for a model drawn to use float scales (stream 600): the stream its weight and bias
    /// quantizers' float scales, zero points and DequantizeLinear forms, and the input
    /// quantizer's zero point, are drawn from.
    float: Option<Rng>,
    /// Whether the weights now drawn may take float scales (not in the last layer, whose
    /// outputs a float run must reproduce exactly).
    float_ok: bool,
    /// Integer initializers of DequantizeLinear weights (the builder writes float32 and int64).
    ints: Vec<TensorProto>,
}

impl Gen {
    fn fresh(&mut self, base: &str) -> String {
        self.counter += 1;
        format!("{base}_{}", self.counter)
    }

    /// A node on the activation path (recorded in `ops`); returns its output.
    fn op(&mut self, op_type: &str, domain: &str, inputs: &[&str], attrs: Vec<Attr>) -> String {
        let name = self.fresh(&op_type.to_ascii_lowercase());
        self.ops.insert(op_type.to_string());
        self.g.node(op_type, domain, &name, inputs, &[&name], attrs)
    }

    fn quant(&mut self, x: &str, base: &str, s: &QuantSpec) -> String {
        let name = self.fresh(base);
        self.ops.insert("Quant".into());
        // A float-scale model's input quantizer may have a zero point.
        let mut z = 0.0;
        if let Some(fr) = self.float.as_mut().filter(|_| base == "xq" && s.bits > 1) {
            if chance(fr, 0.5) {
                z = pick(fr, &[1.0, -1.0, 2.0, -3.0]);
                self.desc.push("input zero point".into());
            }
        }
        self.g.quant(x, &name, s.scale(), z, s.bits as f32, s.signed, s.narrow, s.mode)
    }

    /// A quantized constant tensor: the raw initializer (already on the grid) through a Quant.
    /// In a float-scale model (not in the last layer) the scale is `2^-k` times a float32
    /// factor in (1, 1.9), often with a zero point, and sometimes the tensor is an int8/uint8
    /// initializer behind an ONNX DequantizeLinear instead.
    fn quant_const(&mut self, base: &str, shape: &[usize], data: &[f32], s: &QuantSpec) -> String {
        let raw = self.fresh(base);
        let float_ok = self.float_ok;
        let draws = self.float.as_mut().filter(|_| float_ok).map(|fr| {
            let f = (1.0 + 0.9 * fr.uniform()) as f32;
            let z = if s.bits > 1 && chance(fr, 0.4) { pick(fr, &[1.0f32, -1.0, 2.0, -3.0]) } else { 0.0 };
            let dq = s.bits <= 8 && !(s.signed && s.bits == 1) && chance(fr, 0.4);
            (f, z, dq)
        });
        let Some((f, z, dq)) = draws else {
            let raw = self.g.initializer_f32(&raw, shape, data);
            let name = format!("{raw}q");
            return self.g.quant(&raw, &name, s.scale(), 0.0, s.bits as f32, s.signed, s.narrow, s.mode);
        };
        let scale = s.scale() * f;
        let name = format!("{raw}q");
        if dq {
            let (dt, lo, hi) = if s.signed { (data_type::INT8, -128.0, 127.0) } else { (data_type::UINT8, 0.0, 255.0) };
            let z = if s.signed { z } else { z.abs() };
            let codes: Vec<u8> =
                data.iter().map(|&v| ((v / s.scale()).round() + z).clamp(lo, hi) as i64 as u8).collect();
            let zp = format!("{raw}_zp");
            self.ints.push(TensorProto {
                dims: shape.iter().map(|&d| d as i64).collect(),
                data_type: dt,
                name: raw.clone(),
                raw_data: codes,
                ..Default::default()
            });
            self.ints.push(TensorProto {
                data_type: dt,
                name: zp.clone(),
                raw_data: vec![z as i64 as u8],
                ..Default::default()
            });
            let sc = self.g.initializer_f32(&format!("{raw}_s"), &[], &[scale]);
            self.desc.push(format!("{raw} DequantizeLinear"));
            return self.g.node("DequantizeLinear", "", &name, &[&raw, &sc, &zp], &[&name], vec![]);
        }
        let raw = self.g.initializer_f32(&raw, shape, data);
        self.g.quant(&raw, &name, scale, z, s.bits as f32, s.signed, s.narrow, s.mode)
    }

    fn konst(&mut self, base: &str, shape: &[usize], data: &[f32]) -> String {
        let name = self.fresh(base);
        self.g.initializer_f32(&name, shape, data)
    }

    /// An op whose only effect on a [1, n] tensor is none (or a pair of ops that cancel).
    fn layout(&mut self, r: &mut Rng, x: &str, n: usize) -> String {
        match r.below(7) {
            0 => {
                let spec = if chance(r, 0.5) { vec![1, -1] } else { vec![1, n as i64] };
                let shape = self.fresh("shape");
                let shape = self.g.initializer_i64(&shape, &[2], &spec);
                self.desc.push("Reshape".into());
                self.op("Reshape", "", &[x, &shape], vec![])
            }
            1 => {
                self.desc.push("Flatten".into());
                self.op("Flatten", "", &[x], vec![Attr::int("axis", 1)])
            }
            2 => {
                self.desc.push("Identity".into());
                self.op("Identity", "", &[x], vec![])
            }
            3 => {
                self.desc.push("Dropout".into());
                self.op("Dropout", "", &[x], vec![])
            }
            4 => {
                self.desc.push("Cast".into());
                self.op("Cast", "", &[x], vec![Attr::int("to", data_type::FLOAT as i64)])
            }
            5 => {
                self.desc.push("Transpose×2".into());
                let t = self.op("Transpose", "", &[x], vec![Attr::ints("perm", &[1, 0])]);
                self.op("Transpose", "", &[&t], vec![Attr::ints("perm", &[1, 0])])
            }
            _ => {
                self.desc.push("Squeeze+Unsqueeze".into());
                let axes = self.fresh("axes");
                let axes = self.g.initializer_i64(&axes, &[1], &[0]);
                let s = self.op("Squeeze", "", &[x, &axes], vec![]);
                self.op("Unsqueeze", "", &[&s, &axes], vec![])
            }
        }
    }

    /// Sum, mean or max over the particle axis of `x` [1, particles, n], then (always after a mean
    /// over a count that is not a power of two, otherwise sometimes) a Quant.
    fn aggregate(&mut self, r: &mut Rng, x: &str, particles: usize, limit: u32) -> String {
        let op = pick(r, &["ReduceSum", "ReduceMean", "ReduceMax"]);
        self.desc.push(format!("{op} over particles"));
        let y = if op == "ReduceSum" {
            let axes = self.fresh("axes");
            let axes = self.g.initializer_i64(&axes, &[1], &[1]);
            self.mag *= particles as f64;
            self.op(op, "", &[x, &axes], vec![Attr::int("keepdims", 0)])
        } else {
            self.op(op, "", &[x], vec![Attr::ints("axes", &[1]), Attr::int("keepdims", 0)])
        };
        if chance(r, 0.5) || (op == "ReduceMean" && !particles.is_power_of_two()) {
            let mut s = draw_spec(r, 2, 12, limit, 0.8);
            s.fit(self.mag, r.below(8));
            self.desc.push(format!("act {}", s.describe()));
            let q = self.quant(&y, "aq", &s);
            self.mag = self.mag.min(s.max_abs());
            return q;
        }
        y
    }

    /// `2^e` near the current magnitude, so added constants neither vanish nor dominate.
    fn near_mag(&self) -> f32 {
        f32::powi(2.0, (self.mag.max(1e-6).log2().round() as i32).clamp(-8, 8))
    }

    /// Add/Sub/Mul/Div/Neg/BatchNormalization with constants exact on the grid.
    fn affine(&mut self, r: &mut Rng, x: &str, n: usize) -> String {
        let unit = self.near_mag();
        let vector = |r: &mut Rng, zeros: bool, unit: f32| -> Vec<f32> {
            (0..n).map(|_| if zeros && chance(r, 0.1) { 0.0 } else { dyadic(r) * unit }).collect()
        };
        let max_abs = |v: &[f32]| v.iter().fold(0.0f64, |m, c| m.max(c.abs() as f64));
        match r.below(7) {
            0 => {
                let c = dyadic(r);
                let k = self.konst("mul", &[], &[c]);
                self.desc.push(format!("Mul({c})"));
                self.mag *= c.abs() as f64;
                self.op("Mul", "", &[x, &k], vec![])
            }
            1 => {
                let v = vector(r, true, 1.0);
                let k = self.konst("mulv", &[n], &v);
                self.desc.push(format!("Mul({v:?})"));
                self.mag *= max_abs(&v);
                if chance(r, 0.5) {
                    self.op("Mul", "", &[x, &k], vec![])
                } else {
                    self.op("Mul", "", &[&k, x], vec![])
                }
            }
            2 => {
                let c = f32::powi(2.0, r.below(6) as i32 - 2);
                let k = self.konst("div", &[], &[c]);
                self.desc.push(format!("Div({c})"));
                self.mag /= c as f64;
                self.op("Div", "", &[x, &k], vec![])
            }
            3 => {
                let v = vector(r, false, unit / 4.0);
                let k = self.konst("add", &[n], &v);
                self.desc.push("Add(const)".into());
                self.mag += max_abs(&v);
                self.op("Add", "", &[x, &k], vec![])
            }
            4 => {
                let v = vector(r, false, unit / 4.0);
                let k = self.konst("sub", &[n], &v);
                self.mag += max_abs(&v);
                if chance(r, 0.5) {
                    self.desc.push("Sub(x−c)".into());
                    self.op("Sub", "", &[x, &k], vec![])
                } else {
                    self.desc.push("Sub(c−x)".into());
                    self.op("Sub", "", &[&k, x], vec![])
                }
            }
            5 => {
                self.desc.push("Neg".into());
                self.op("Neg", "", &[x], vec![])
            }
            _ => {
                let scale = vector(r, false, 0.25);
                let bias = vector(r, false, unit / 4.0);
                let mean = vector(r, false, unit / 4.0);
                let var: Vec<f32> = (0..n).map(|_| f32::powi(4.0, r.below(5) as i32 - 2)).collect();
                let a: Vec<f32> = scale.iter().zip(&var).map(|(s, v)| s / v.sqrt()).collect();
                self.mag = self.mag * max_abs(&a) + max_abs(&bias) + max_abs(&mean) * max_abs(&a);
                let ins: Vec<String> = [("bn_s", scale), ("bn_b", bias), ("bn_m", mean), ("bn_v", var)]
                    .iter()
                    .map(|(b, v)| self.konst(b, &[n], v))
                    .collect();
                self.desc.push("BatchNorm(grid)".into());
                self.op(
                    "BatchNormalization",
                    "",
                    &[x, &ins[0], &ins[1], &ins[2], &ins[3]],
                    vec![Attr::float("epsilon", 0.0)],
                )
            }
        }
    }

    /// A QONNX Trunc of the activation quantized by `a` (which becomes the Trunc's output type):
    /// opset-2 form (X, scale, zeropt, in_bitwidth, out_scale, out_bitwidth) dropping 0..3 low
    /// bits, or opset-1 form (X, scale, zeropt, in_bitwidth, out_bitwidth) dropping in − out bits.
    fn trunc(&mut self, r: &mut Rng, x: &str, a: &mut QuantSpec, limit: u32) -> String {
        let t = draw_spec(r, 1, a.bits, limit, 0.5);
        let opset1 = chance(r, 0.3);
        let shift = if opset1 { (a.bits - t.bits) as i32 } else { r.below(4) as i32 };
        let mut ins = vec![
            x.to_string(),
            self.konst("tr_s", &[], &[a.scale()]),
            self.konst("tr_z", &[], &[0.0]),
            self.konst("tr_ib", &[], &[a.bits as f32]),
        ];
        if !opset1 {
            ins.push(self.konst("tr_os", &[], &[a.scale() * f32::powi(2.0, shift)]));
        }
        ins.push(self.konst("tr_ob", &[], &[t.bits as f32]));
        let attrs = vec![
            Attr::int("narrow", t.narrow as i64),
            Attr::string("rounding_mode", t.mode),
            Attr::int("signed", t.signed as i64),
        ];
        self.desc.push(format!("Trunc{}(>>{shift}, {})", if opset1 { "v1" } else { "" }, t.describe()));
        let ins: Vec<&str> = ins.iter().map(|s| s.as_str()).collect();
        *a = QuantSpec { frac: a.frac - shift, ..t };
        self.op("Trunc", QONNX_DOMAIN, &ins, attrs)
    }

    /// Float ops with non-dyadic constants (kept in float until the next quantizer).
    fn float_chain(&mut self, r: &mut Rng, x: &str, n: usize) -> String {
        let mut cur = x.to_string();
        let mut parts = vec![];
        for _ in 0..1 + r.below(2) {
            let unit = self.near_mag();
            cur = match r.below(4) {
                0 => {
                    let c = non_dyadic(r);
                    let k = self.konst("fmul", &[], &[c]);
                    parts.push(format!("Mul({c})"));
                    self.mag *= c.abs() as f64;
                    self.op("Mul", "", &[&cur, &k], vec![])
                }
                1 => {
                    let v: Vec<f32> = (0..n).map(|_| non_dyadic(r) * unit / 2.0).collect();
                    let k = self.konst("fadd", &[n], &v);
                    parts.push("Add(float)".into());
                    self.mag += v.iter().fold(0.0f64, |m, c| m.max(c.abs() as f64));
                    self.op("Add", "", &[&cur, &k], vec![])
                }
                2 => {
                    let units = [1.0, unit / 2.0, unit / 2.0, 1.0];
                    let vals: Vec<Vec<f32>> =
                        units.iter().map(|u| (0..n).map(|_| non_dyadic(r).abs() * u).collect()).collect();
                    let a = vals[0].iter().zip(&vals[3]).fold(0.0f64, |m, (s, v)| m.max((s / v.sqrt()) as f64));
                    self.mag = (self.mag + unit as f64) * a + unit as f64;
                    let ins: Vec<String> = ["fbn_s", "fbn_b", "fbn_m", "fbn_v"]
                        .iter()
                        .zip(&vals)
                        .map(|(b, v)| self.konst(b, &[n], v))
                        .collect();
                    parts.push("BatchNorm(float)".into());
                    self.op("BatchNormalization", "", &[&cur, &ins[0], &ins[1], &ins[2], &ins[3]], vec![])
                }
                _ => {
                    parts.push("Relu".into());
                    self.op("Relu", "", &[&cur], vec![])
                }
            };
        }
        self.desc.push(format!("float[{}]", parts.join(" ")));
        cur
    }
}

/// The ONNX bytes of a model (for crates that do not depend on prost themselves).
pub fn to_bytes(model: &ModelProto) -> Vec<u8> {
    prost::Message::encode_to_vec(model)
}

/// A random model with the default [`Limits`].
pub fn random_model(seed: u64) -> (ModelProto, RandomModelInfo) {
    random_model_with(seed, &Limits::default())
}

/// The model's structure, drawn before any node: layer count and widths (stream 0), whether it
/// is a set model (stream 300) or a CNN model (stream 400). The set and CNN streams go on to
/// draw the aggregation and the convolutional front.
struct Plan {
    layers: usize,
    /// Input width of an MLP or set model (per particle).
    n_in: usize,
    widths: Vec<usize>,
    /// Particles of a set model, 1 otherwise.
    particles: usize,
    /// Index of the layer before which a set model aggregates its particles.
    agg_at: usize,
    cnn: Option<cnn::CnnInput>,
    input_shape: Vec<usize>,
    /// Stream 300, for the aggregation.
    set_rng: Rng,
    /// Stream 400, for the CNN front.
    cnn_rng: Rng,
}

impl Plan {
    /// Draws the structure of the model of `seed` within `limits`.
    fn draw(seed: u64, limits: &Limits) -> Plan {
        let mut top = stream(seed, 0);
        let max_width = limits.max_width.clamp(1, 8);
        let layers = (1 + top.below(3) as usize).min(limits.max_layers.clamp(1, 3));
        let width = |r: &mut Rng| (1 + r.below(8) as usize).min(max_width);
        let n_in = width(&mut top);
        let mut widths: Vec<usize> = (0..3).map(|_| width(&mut top)).collect();
        widths.truncate(layers);
        let extras = limits.extras;
        // Set models from their own stream, so MLPs keep their bytes: the layers before the
        // aggregation act on every particle (MatMul on a rank-3 tensor).
        let mut sr0 = stream(seed, 300);
        let particles = if extras && chance(&mut sr0, 0.2) { 2 + sr0.below(4) as usize } else { 1 };
        let set_mode = particles > 1;
        let agg_at = sr0.below(layers as u64) as usize;
        // CNN models from their own stream too: a convolutional front whose flattened output feeds
        // the dense layers.
        let mut cr = stream(seed, 400);
        let cnn = (extras && chance(&mut cr, 0.22) && !set_mode).then(|| cnn::CnnInput::draw(&mut cr, max_width));
        let input_shape: Vec<usize> = match &cnn {
            Some(c) => c.dims().iter().map(|&d| d as usize).collect(),
            None if set_mode => vec![1, particles, n_in],
            None => vec![1, n_in],
        };
        Plan { layers, n_in, widths, particles, agg_at, cnn, input_shape, set_rng: sr0, cnn_rng: cr }
    }

    fn set_mode(&self) -> bool {
        self.particles > 1
    }
}

/// The activation flowing through the model, with the tensors a later layer may add to or
/// concatenate with.
struct Chain {
    x: String,
    /// Width of `x` (its last dimension).
    n: usize,
    /// `x` is on the grid 2^-`frac`.
    frac: i32,
    /// Earlier tensors: (name, width, magnitude).
    earlier: Vec<(String, usize, f64)>,
}

impl Gen {
    /// An empty model named after `seed`.
    fn new(seed: u64) -> Gen {
        Gen {
            g: GraphBuilder::new(&format!("fuzz_{seed}")),
            ops: BTreeSet::new(),
            desc: vec![],
            counter: 0,
            mag: 1.0,
            opset: 13,
            fixed: None,
            float: None,
            float_ok: false,
            ints: vec![],
        }
    }

    /// `x` (last axis `n` wide) quantized per `s`: a QONNX Quant, or in a FixedQuant model a
    /// `FixedQuant` on the same grid whose per-element integer bits vary around the spec's (±1),
    /// with a pruned element now and then, RND/TRN/RND_CONV and WRAP, SAT or SAT_SYM.
    fn act_quant(&mut self, x: &str, base: &str, s: &QuantSpec, n: usize) -> String {
        let Some(fr) = self.fixed.as_mut() else { return self.quant(x, base, s) };
        let k = i64::from(s.signed);
        let i0 = s.bits as i64 - k - s.frac as i64;
        let f = s.frac as i64;
        let is: Vec<f32> = (0..n)
            .map(|_| {
                if chance(fr, 0.08) {
                    (-k - f) as f32
                } else {
                    (i0 + pick(fr, &[-1, 0, 0, 1])).max(-k - f + 1) as f32
                }
            })
            .collect();
        let round = match s.mode {
            "ROUND" => "RND_CONV",
            "FLOOR" => "TRN",
            _ => "RND",
        };
        let overflow = if chance(fr, 0.4) {
            "WRAP"
        } else if s.narrow {
            "SAT_SYM"
        } else {
            "SAT"
        };
        let name = self.fresh(base);
        let kt = self.g.initializer_f32(&format!("{name}_k"), &[1], &[k as f32]);
        let it = self.g.initializer_f32(&format!("{name}_i"), &[n], &is);
        let ft = self.g.initializer_f32(&format!("{name}_f"), &[1], &[f as f32]);
        self.ops.insert("FixedQuant".into());
        self.desc.push(format!("FixedQuant {round} {overflow}"));
        self.g.node(
            "FixedQuant",
            tachyon_frontend::FIXED_DOMAIN,
            &name,
            &[x, &kt, &it, &ft],
            &[&name],
            vec![Attr::string("round_mode", round), Attr::string("overflow_mode", overflow)],
        )
    }

    /// The front of the model, up to the first dense layer: the input, an optional prologue op,
    /// the input Quant, an optional layout no-op, and the CNN front of a CNN model.
    fn front(&mut self, r: &mut Rng, plan: &mut Plan, extras: bool, bits: u32) -> Chain {
        let (particles, n_in) = (plan.particles, plan.n_in);
        let set_mode = plan.set_mode();
        let x_in = if set_mode {
            self.desc.push(format!("set of {particles}"));
            self.g.input("x", &[1, particles as i64, n_in as i64])
        } else if let Some(c) = &plan.cnn {
            self.g.input("x", &c.dims())
        } else {
            self.g.input("x", &[1, n_in as i64])
        };
        let mut x = x_in.clone();
        if chance(r, 0.1) && extras {
            let (op, c) = pick(r, &[("Mul", 2.0f32), ("Add", 0.5), ("Sub", 1.0), ("Div", 4.0), ("Mul", 0.3)]);
            let k = self.konst("pre", &[], &[c]);
            self.desc.push(format!("pre {op}({c})"));
            x = self.op(op, "", &[&x, &k], vec![]);
        }
        let in_spec = draw_spec(r, 2, 12, bits, 0.6);
        // The input's last axis (a CNN's input quantizer stays a Quant: its widths feed the front).
        x = if plan.cnn.is_none() { self.act_quant(&x, "xq", &in_spec, n_in) } else { self.quant(&x, "xq", &in_spec) };
        self.mag = in_spec.max_abs() / 2.0;
        self.desc.insert(0, format!("in {n_in}×{}", in_spec.describe()));
        if chance(r, 0.15) && extras && !set_mode && plan.cnn.is_none() {
            x = self.layout(r, &x, n_in);
        }
        let mut x_frac = in_spec.frac;
        let mut n = n_in;
        if let Some(c) = &plan.cnn {
            self.desc[0] = format!("in {:?}×{}", &plan.input_shape[1..], in_spec.describe());
            (x, n, x_frac) = self.cnn_front(&mut plan.cnn_rng, &x, c, x_frac, bits);
        }
        Chain { earlier: vec![(x.clone(), n, self.mag)], x, n, frac: x_frac }
    }
}

/// A random model of the module doc, bounded by `limits`.
pub fn random_model_with(seed: u64, limits: &Limits) -> (ModelProto, RandomModelInfo) {
    let mut plan = Plan::draw(seed, limits);
    let extras = limits.extras;
    let bits = limits.max_bits.max(1);
    let mut gen = Gen::new(seed);
    let mut fixed = stream(seed, 500);
    if extras && chance(&mut fixed, 0.3) {
        gen.fixed = Some(fixed);
    }
    let mut float = stream(seed, 600);
    if extras && gen.fixed.is_none() && chance(&mut float, 0.3) {
        gen.float = Some(float);
        gen.float_ok = true;
        gen.desc.push("float scales".into());
    }
    let mut r = stream(seed, 1);
    let mut chain = gen.front(&mut r, &mut plan, extras, bits);
    let dense_in = chain.n;
    let mut table = None;
    let mut aggregated = !plan.set_mode();
    for (i, &n_out) in plan.widths.iter().enumerate() {
        if !aggregated && i == plan.agg_at {
            chain.x = gen.aggregate(&mut plan.set_rng, &chain.x, plan.particles, bits);
            chain.earlier = vec![(chain.x.clone(), chain.n, gen.mag)];
            aggregated = true;
        }
        let layer = dense::Layer { seed, index: i, n_out, last: i + 1 == plan.layers, pre_agg: !aggregated };
        table = gen.layer(&layer, &mut chain, extras, bits);
    }
    gen.g.output(&chain.x, &[1, chain.n as i64]);
    let mut model = if gen.fixed.is_some() {
        gen.g.build(&[("", gen.opset), (QONNX_DOMAIN, 1), (tachyon_frontend::FIXED_DOMAIN, 1)])
    } else {
        gen.g.build(&[("", gen.opset), (QONNX_DOMAIN, 1)])
    };
    if let Some(g) = model.graph.as_mut() {
        g.initializer.extend(std::mem::take(&mut gen.ints));
    }
    let info = RandomModelInfo {
        seed,
        limits: *limits,
        layers: plan.layers,
        input_width: dense_in,
        input_shape: plan.input_shape,
        widths: plan.widths,
        ops: gen.ops,
        particles: plan.particles,
        table,
        description: gen.desc.join(" · "),
    };
    (model, info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    /// A share of the models use Tachyon's FixedQuant, and they decode and lower (their
    /// differential checks run in the campaign like every other model's).
    #[test]
    fn some_models_use_fixed_quant() {
        let fixed: Vec<u64> = (1..=60).filter(|&s| random_model(s).1.ops.contains("FixedQuant")).collect();
        assert!(fixed.len() >= 8, "only {fixed:?} of 60 seeds use FixedQuant");
        for &s in &fixed {
            let bytes = to_bytes(&random_model(s).0);
            let g = tachyon_frontend::decode_model(&bytes, std::path::Path::new("fixed.onnx")).unwrap();
            tachyon_quantize::lower(&g, &tachyon_quantize::Config::default())
                .unwrap_or_else(|e| panic!("seed {s}: {e}"));
        }
    }

    #[test]
    fn same_seed_same_bytes() {
        for seed in 0..20 {
            assert_eq!(random_model(seed).0.encode_to_vec(), random_model(seed).0.encode_to_vec());
        }
        assert_ne!(random_model(1).0.encode_to_vec(), random_model(2).0.encode_to_vec());
    }

    #[test]
    fn limits_bound_the_model() {
        let l = Limits { max_layers: 1, max_width: 2, max_bits: 4, extras: false };
        for seed in 0..30 {
            let (_, info) = random_model_with(seed, &l);
            assert_eq!(info.layers, 1);
            assert!(info.input_width <= 2 && info.widths.iter().all(|&w| w <= 2));
            assert!(info.table.is_none());
        }
    }
}
