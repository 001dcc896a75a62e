//! The quantized IR: a chain of integer layers over flat tensors whose every element carries an
//! exact interval type ([`Elem`]). It is what the interpreter executes and what `hls` lowers.
//!
//! A model has three parts:
//! * the **prologue**: float steps from the graph input to the first quantizer (e.g. Brevitas'
//!   `x·2−1` before an input `Quant`), then conversion to integers — the hardware input bus
//!   carries those integers;
//! * the **layers**, each reading one tensor and writing one, in topological (= list) order;
//! * the **epilogue**: float steps after the last quantized value that the model leaves
//!   unquantized (e.g. a final per-tensor affine). They are not hardware: `report.json` lists
//!   them and `sim --expect` applies them to compare with float outputs.
//!
//! Invariants: [`crate::verify`]'s module doc lists them all (ids, topological order, element
//! counts, grids, parameters of each kind, and every element interval containing what its layer
//! can produce from its input intervals); [`crate::lower`] checks them on every model it returns.

use crate::fixed::{Elem, FixedType, Overflow};
use crate::round::Round;
use std::fmt;
use tachyon_frontend::{Op, Tensor};

/// Index of a tensor in [`QModel::tensors`]; prints as `t<N>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct TensorId(pub u32);

impl fmt::Display for TensorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t{}", self.0)
    }
}

/// A tensor of the quantized IR: flat elements in C order of `shape` (batch dimension dropped).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct QTensor {
    /// ONNX tensor name it stands for.
    pub name: String,
    pub shape: Vec<usize>,
    pub elems: Vec<Elem>,
    /// Per element, a rounding constant moved into the bias of the linear layer that computes
    /// this tensor, or of the one before the ReLU that does ([`crate::lower`]'s
    /// `fold_rounding`): the ONNX tensor's value on the element's grid is `v − offset`, after a
    /// ReLU `max(v − offset, 0)`. Empty when every element is the ONNX value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub offset: Vec<i128>,
}

/// Conversion of one element from one fixed-point grid to another, optionally divided by an odd
/// constant on the way: `y = overflow(round(x · 2^(to_frac − from_frac) / div))`, exactly.
/// (`div > 1` comes from means and average pools over counts that are not powers of two; it is
/// only used with saturation.)
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Requant {
    /// Fractional bits of the input and of the output.
    pub from_frac: i32,
    pub to_frac: i32,
    /// Odd divisor, 1 for a plain requantization.
    pub div: u32,
    pub round: Round,
    /// Integer range of the output and what to do outside it.
    pub lo: i128,
    pub hi: i128,
    pub overflow: Overflow,
}

/// A step function of one integer: `values[k]` where `k = #{ t in thresholds : t ≤ x }`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Steps {
    /// Strictly increasing.
    pub thresholds: Vec<i128>,
    /// `thresholds.len() + 1` values.
    pub values: Vec<i128>,
}

/// The integer algorithm of the softmax (see `lower::tables` for how the tables are made).
///
/// For inputs x (all on the same grid): `m = max x`; `d_i = m − x_i`;
/// `e_i = exp_table[min(d_i >> exp_shift, len−1)]`; `s = Σ e_i`;
/// `r = inv_table[min((s − inv_base) >> inv_shift, len−1)]`;
/// `y_i = round((e_i · r) / 2^out_shift)` with `out_round`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SoftmaxSpec {
    pub exp_shift: u32,
    pub exp_table: Vec<i128>,
    pub inv_base: i128,
    pub inv_shift: u32,
    pub inv_table: Vec<i128>,
    pub out_shift: u32,
    pub out_round: Round,
}

/// Integer layer normalization over all elements of the input (one group); a 1/√x table is the
/// specification (see `lower::tables::lower_layernorm` for how it is made). With `n` inputs:
///
/// * `S = Σ x`, `D_i = n·x_i − S`, `V = Σ D_i² + eps` (exact; V ≥ 1);
/// * `k` = bit length of V, `e = k − mant_bits`, `π = e mod 2`, `h = (e − π) / 2`,
///   `m = ⌊V · 2^−e⌋ ∈ [2^(mant_bits−1), 2^mant_bits)` (a left shift when e < 0);
/// * `r = rsqrt[π][m − 2^(mant_bits−1)] · 2^(hmax − h)` (≈ 2^(p + hmax) / √V);
/// * `y_i = round_half_up(D_i · r · gain_i / 2^shift) + bias_i`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerNormSpec {
    pub eps: i128,
    pub mant_bits: u32,
    /// The 1/√ tables for even and odd exponents.
    pub rsqrt: [Vec<i128>; 2],
    /// Largest `h` the input range allows (so `hmax − h ≥ 0`).
    pub hmax: i32,
    /// The tables hold ≈ 2^p / √(m · 2^π).
    pub p: u32,
    pub gain: Vec<i128>,
    pub shift: u32,
    pub bias: Vec<i128>,
}

impl LayerNormSpec {
    /// Bounds of every output: `|D_i| ≤ √V`, so `|D_i · r| ≤ (1 + δ) · 2^(p + hmax)` where `1 + δ`
    /// is the largest ratio of a table entry to the exact 2^p / √x over the mantissas it serves.
    pub fn output_bounds(&self) -> Vec<(i128, i128)> {
        let half = 1i128 << (self.mant_bits - 1);
        let mut ratio: f64 = 1.0;
        for (pi, table) in self.rsqrt.iter().enumerate() {
            for (idx, &r) in table.iter().enumerate() {
                let m = (half + idx as i128 + 1) as f64 * f64::powi(2.0, pi as i32);
                ratio = ratio.max(r as f64 * m.sqrt() / f64::powi(2.0, self.p as i32));
            }
        }
        let scale = ratio * (1.0 + 1e-9) * f64::powi(2.0, self.p as i32 + self.hmax - self.shift as i32);
        self.gain
            .iter()
            .zip(&self.bias)
            .map(|(&g, &b)| {
                let m = ((g.unsigned_abs() as f64 * scale).ceil() as i128).saturating_add(1);
                (b.saturating_sub(m), b.saturating_add(m))
            })
            .collect()
    }
}

/// `y = entries[clamp((x >> shift) − offset, 0, len−1)]` — a function given by its table.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LookupSpec {
    /// What the table approximates (for reports).
    pub func: String,
    pub shift: u32,
    pub offset: i128,
    pub entries: Vec<i128>,
}

/// The closed set of layer kinds: every lowering, estimator and emitter matches on it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum LayerKind {
    /// `y_i = bias_i + Σ c·x_j` over the sparse row `(j, c)` — dense layers, folded batch norm,
    /// multiplication/addition by constants. Coefficients are already aligned to the output grid.
    Linear { rows: Vec<Vec<(u32, i128)>>, bias: Vec<i128> },
    /// Per-element rescaling with rounding and overflow handling.
    Requant(Vec<Requant>),
    /// `y = max(x, 0)`.
    Relu,
    /// Per-element step functions (float ops between quantizers, thresholds).
    Threshold(Vec<Steps>),
    /// Same table applied to every element (sigmoid …).
    Lookup(LookupSpec),
    /// Softmax over all elements.
    Softmax(SoftmaxSpec),
    /// Wiring: `y_i = x_{src_i}` (transposes, slices, concatenations, pair building).
    Gather(Vec<u32>),
    /// `y_i = max_{j in sets_i} x_j` over non-empty sets (max pooling, ReduceMax). Inputs share
    /// one grid.
    Max(Vec<Vec<u32>>),
    /// `y_i = x_a · x_b` for `pairs_i = (a, b)`: products of two computed values (element-wise
    /// products, attention's Q·Kᵀ and A·V before their sums).
    Product(Vec<(u32, u32)>),
    /// Layer normalization over all elements (see [`LayerNormSpec`]).
    LayerNorm(LayerNormSpec),
}

impl LayerKind {
    pub fn mnemonic(&self) -> &'static str {
        match self {
            LayerKind::Linear { .. } => "linear",
            LayerKind::Requant(_) => "requant",
            LayerKind::Relu => "relu",
            LayerKind::Threshold(_) => "threshold",
            LayerKind::Lookup(_) => "lookup",
            LayerKind::Softmax(_) => "softmax",
            LayerKind::Gather(_) => "gather",
            LayerKind::Max(_) => "max",
            LayerKind::Product(_) => "product",
            LayerKind::LayerNorm(_) => "layernorm",
        }
    }
}

/// One layer.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Layer {
    /// Unique, Verilog-friendly layer name (derived from the ONNX node name).
    pub name: String,
    /// ONNX nodes this layer implements.
    pub origin: Vec<String>,
    pub kind: LayerKind,
    /// The tensors it reads. Element indices of the kind (rows, sources, sets) address their
    /// concatenation: `inputs[0]`'s elements first, then `inputs[1]`'s, and so on.
    pub inputs: Vec<TensorId>,
    pub output: TensorId,
}

/// One float step of the prologue or epilogue: `op` applied to the running tensor and constants.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FloatStep {
    /// ONNX node name.
    pub node: String,
    pub op: Op,
    /// Operands; `None` marks the running tensor.
    pub args: Vec<Option<Tensor>>,
    /// An operand computed from the chain's base instead (`(slot, steps)`): the base tensor the
    /// chain started from, through `steps` — so that `x · erf(x / √2)` (GELU) or `x · σ(x)` is
    /// one chain over `x`.
    pub base_operand: Option<(usize, Vec<FloatStep>)>,
}

/// How the prologue's float result becomes the integers of the input bus.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum InputConv {
    /// The float values are exact multiples of `2^-frac` (they come out of a Quant node).
    Exact { frac: i32 },
    /// Quantize to this type (config `input` precision): rounding and overflow of the type.
    Type(FixedType),
}

/// Float → integer path of the model input.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Prologue {
    /// Shape of the ONNX graph input (batch included).
    pub input_shape: Vec<usize>,
    pub steps: Vec<FloatStep>,
    pub conv: InputConv,
    /// The elements of the prologue's result that the input bus carries, in order; `None`: all
    /// of them. The others are pruned (a quantizer of no bits: always 0) or read by no layer,
    /// and are not on the bus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<Vec<u32>>,
}

/// A quantized model.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct QModel {
    pub name: String,
    pub tensors: Vec<QTensor>,
    pub layers: Vec<Layer>,
    pub input: TensorId,
    pub output: TensorId,
    pub prologue: Prologue,
    pub epilogue: Vec<FloatStep>,
    /// Shape of the ONNX graph output (batch included).
    pub output_shape: Vec<usize>,
    /// ONNX shape of the value the epilogue's first step reads.
    pub epilogue_shape: Vec<usize>,
}

impl QModel {
    pub fn tensor(&self, id: TensorId) -> &QTensor {
        &self.tensors[id.0 as usize]
    }
    /// The indices of the layers that read tensor `t`, in layer order.
    pub fn readers(&self, t: TensorId) -> Vec<usize> {
        (0..self.layers.len()).filter(|&k| self.layers[k].inputs.contains(&t)).collect()
    }
    /// The index of the layer that computes tensor `t` (`None` for the input).
    pub fn producer(&self, t: TensorId) -> Option<usize> {
        self.layers.iter().position(|l| l.output == t)
    }
    pub fn input_elems(&self) -> &[Elem] {
        &self.tensor(self.input).elems
    }
    pub fn output_elems(&self) -> &[Elem] {
        &self.tensor(self.output).elems
    }
    /// The element types a layer reads: its inputs' elements, concatenated.
    pub fn layer_input_elems(&self, l: &Layer) -> Vec<Elem> {
        l.inputs.iter().flat_map(|&t| self.tensor(t).elems.iter().copied()).collect()
    }
}

/// The grid `2^-frac` as text: `2^-4`, `2^-0`, `2^5` (a coarser grid than the integers).
fn grid(frac: i32) -> String {
    if frac < 0 {
        format!("2^{}", -frac)
    } else {
        format!("2^-{frac}")
    }
}

fn elems_summary(elems: &[Elem]) -> String {
    // Group equal element types for a compact dump.
    let mut parts: Vec<(Elem, usize)> = vec![];
    for e in elems {
        match parts.last_mut() {
            Some((p, n)) if p == e => *n += 1,
            _ => parts.push((*e, 1)),
        }
    }
    if parts.len() > 4 {
        let w = elems.iter().map(|e| e.width()).max().unwrap_or(0);
        let s = elems.iter().any(|e| e.signed());
        return format!("{} elements, {} widths up to {w} bits", elems.len(), if s { "signed" } else { "unsigned" });
    }
    parts
        .iter()
        .map(|(e, n)| if *n > 1 { format!("{n}×{}", e.describe()) } else { e.describe() })
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for QModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "qmodel {}", self.name)?;
        for s in &self.prologue.steps {
            writeln!(f, "  prologue {}: {} (float)", s.node, s.op.mnemonic())?;
        }
        match &self.prologue.conv {
            InputConv::Exact { frac } => {
                let fracs = self.input_elems().iter().filter(|e| e.lo != e.hi).map(|e| e.frac);
                match (fracs.clone().min(), fracs.max()) {
                    (Some(a), Some(b)) if a != b => {
                        writeln!(f, "  input conversion: exact on each element's grid ({} … {})", grid(b), grid(a))?
                    }
                    _ => writeln!(f, "  input conversion: exact on the {} grid", grid(*frac))?,
                }
            }
            InputConv::Type(t) => writeln!(f, "  input conversion: quantize to {t}")?,
        }
        let t = self.tensor(self.input);
        writeln!(f, "  input {} '{}' {:?}: {}", self.input, t.name, t.shape, elems_summary(&t.elems))?;
        if let Some(sel) = &self.prologue.select {
            let all: usize = self.prologue.input_shape.iter().product();
            writeln!(
                f,
                "  input bus: {} of {all} elements; the other {} are pruned (always 0)",
                sel.len(),
                all - sel.len()
            )?;
        }
        for l in &self.layers {
            let out = self.tensor(l.output);
            let detail = match &l.kind {
                LayerKind::Linear { rows, .. } => {
                    let nz: usize = rows.iter().map(|r| r.len()).sum();
                    let moved = out.offset.iter().filter(|&&h| h != 0).count();
                    let rounding = if moved > 0 {
                        format!(", the rounding constant of the requantization after it in {moved} biases")
                    } else {
                        String::new()
                    };
                    format!(" {} outputs, {} nonzero coefficients{rounding}", rows.len(), nz)
                }
                LayerKind::Requant(r) => match r.first() {
                    Some(q) => {
                        let divs: std::collections::BTreeSet<u32> =
                            r.iter().map(|q| q.div).filter(|&d| d > 1).collect();
                        let divs: Vec<String> = divs.iter().map(|d| d.to_string()).collect();
                        let div =
                            if divs.is_empty() { String::new() } else { format!(" divided by {}", divs.join("/")) };
                        format!(
                            " {} → {}{div} {} {}",
                            grid(q.from_frac),
                            grid(q.to_frac),
                            q.round.name(),
                            q.overflow.name()
                        )
                    }
                    None => String::new(),
                },
                LayerKind::Threshold(s) => format!(
                    " {} step functions, {} thresholds",
                    s.len(),
                    s.iter().map(|s| s.thresholds.len()).sum::<usize>()
                ),
                LayerKind::Lookup(l) => format!(" {} table of {} entries", l.func, l.entries.len()),
                LayerKind::Softmax(s) => {
                    format!(" exp table {} entries, 1/x table {} entries", s.exp_table.len(), s.inv_table.len())
                }
                LayerKind::Max(sets) => format!(" {} maxima", sets.len()),
                LayerKind::Product(p) => format!(" {} products", p.len()),
                LayerKind::LayerNorm(s) => format!(" 1/√x tables of 2×{} entries", s.rsqrt[0].len()),
                LayerKind::Gather(_) | LayerKind::Relu => String::new(),
            };
            let ins: Vec<String> = l.inputs.iter().map(|t| t.to_string()).collect();
            writeln!(
                f,
                "  {} = {} {}{}  ; {} [{}]",
                l.output,
                l.kind.mnemonic(),
                ins.join(" ++ "),
                detail,
                l.name,
                l.origin.join(", ")
            )?;
            writeln!(f, "      {} '{}' {:?}: {}", l.output, out.name, out.shape, elems_summary(&out.elems))?;
        }
        writeln!(f, "  output {}", self.output)?;
        for s in &self.epilogue {
            writeln!(f, "  epilogue {}: {} (float, outside the hardware)", s.node, s.op.mnemonic())?;
        }
        Ok(())
    }
}
