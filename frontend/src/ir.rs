//! The front end's graph IR: values and nodes in arenas indexed by typed ids, nodes kept in a
//! topological order, every op a variant of the closed [`Op`] enum.
//!
//! Invariants (checked by `import::build_graph`): every node input is a graph input, a constant
//! or the output of an earlier node; every value is produced at most once; names are unique.

use crate::tensor::Tensor;
use std::fmt;
use std::path::PathBuf;

/// Index of a value (tensor) in [`Graph::values`]; prints as `%N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct ValueId(pub u32);

/// Index of a node in [`Graph::nodes`]; prints as `n<N>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct NodeId(pub u32);

impl fmt::Display for ValueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "%{}", self.0)
    }
}
impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "n{}", self.0)
    }
}

/// Overflow of Tachyon's `FixedQuant` (`overflow_mode`, see docs/qonnx_extension.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OverflowMode {
    /// Two's-complement wrap-around into the element's range.
    Wrap,
    /// Clip to `[−k·2^(i+f), 2^(i+f) − 1]`.
    Sat,
    /// Clip to `[−k·(2^(i+f) − 1), 2^(i+f) − 1]`.
    SatSym,
}

/// Rounding modes: QONNX's (`rounding_mode` of Quant and Trunc, as qonnx's executor defines
/// them) and HGQ2's (`round_mode` of `FixedQuant`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RoundMode {
    /// Round half to even (numpy `round`): QONNX "ROUND".
    HalfEven,
    /// Round half towards +∞: HGQ2's "RND" (`floor(x + ½)`).
    HalfUp,
    /// Round half towards −∞.
    HalfDown,
    /// QONNX "HALF_UP": round half away from zero (`sign(x)·floor(|x| + ½)`).
    HalfAway,
    /// QONNX "HALF_DOWN": round half towards zero (`sign(x)·ceil(|x| − ½)`).
    HalfToZero,
    /// "CEIL"
    Ceil,
    /// "FLOOR"
    Floor,
    /// QONNX "DOWN" (numpy `fix`); Brevitas writes "ROUND_TO_ZERO".
    ToZero,
}

impl RoundMode {
    pub fn parse(s: &str) -> Option<RoundMode> {
        Some(match s.to_ascii_uppercase().as_str() {
            "ROUND" | "HALF_EVEN" => RoundMode::HalfEven,
            "HALF_UP" => RoundMode::HalfAway,
            "HALF_DOWN" => RoundMode::HalfToZero,
            "CEIL" => RoundMode::Ceil,
            "FLOOR" => RoundMode::Floor,
            "DOWN" | "ROUND_TO_ZERO" | "TRUNC" => RoundMode::ToZero,
            _ => return None,
        })
    }
    /// Rounds a real number to an integer in this mode.
    pub fn round_f64(self, x: f64) -> f64 {
        match self {
            RoundMode::HalfEven => x.round_ties_even(),
            RoundMode::HalfUp => (x + 0.5).floor(),
            RoundMode::HalfDown => (x - 0.5).ceil(),
            RoundMode::HalfAway => x.signum() * (x.abs() + 0.5).floor(),
            RoundMode::HalfToZero => x.signum() * (x.abs() - 0.5).ceil(),
            RoundMode::Ceil => x.ceil(),
            RoundMode::Floor => x.floor(),
            RoundMode::ToZero => x.trunc(),
        }
    }
}

/// The reduction of a `Reduce*` op.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReduceKind {
    Sum,
    Mean,
    Max,
    Min,
}

/// `auto_pad` of Conv and the pools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum AutoPad {
    /// Explicit `pads`.
    NotSet,
    /// Output size ⌈in / stride⌉, an odd padding's extra cell at the end.
    SameUpper,
    /// Output size ⌈in / stride⌉, an odd padding's extra cell at the beginning.
    SameLower,
    /// No padding.
    Valid,
}

/// Sliding-window geometry of Conv and the pools as the attributes give it. `None` is the ONNX
/// default: the kernel from the weights (Conv), strides and dilations 1, pads 0.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Window {
    /// `kernel_shape`, one entry per spatial axis.
    pub kernel: Option<Vec<usize>>,
    pub strides: Option<Vec<usize>>,
    pub dilations: Option<Vec<usize>>,
    /// `[x1_begin, x2_begin, …, x1_end, x2_end, …]`.
    pub pads: Option<Vec<usize>>,
    pub auto_pad: AutoPad,
}

/// `mode` of Pad.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PadMode {
    /// The constant value.
    Constant,
    /// Mirror without repeating the edge: `[1 2 3]` padded by 2 gives `3 2 [1 2 3] 2 1`.
    Reflect,
    /// Repeat the edge value.
    Edge,
    /// Wrap around (opset 19).
    Wrap,
}

/// `coordinate_transformation_mode` of Resize: how an output coordinate maps back to the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ResizeCoord {
    /// `(x + ½) / scale − ½` (the default from opset 11).
    HalfPixel,
    /// As `HalfPixel`, centred when the output size is rounded (opset 19).
    HalfPixelSymmetric,
    /// As `HalfPixel`, but 0 when the output axis has one element.
    PytorchHalfPixel,
    /// `x · (in − 1) / (out − 1)`.
    AlignCorners,
    /// `x / scale` (Upsample, Resize of opset 10).
    Asymmetric,
}

/// `nearest_mode` of Resize: how the mapped coordinate rounds to an input element.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum NearestMode {
    RoundPreferFloor,
    RoundPreferCeil,
    Floor,
    Ceil,
    /// Upsample and Resize of opset 10 (as onnxruntime runs them): floor when enlarging, ceil
    /// when shrinking.
    Simple,
}

/// An element-wise float function of one tensor (ONNX activations beyond the ones with a
/// dedicated lowering): its float semantics are in `eval::funcs`; a following quantizer makes it
/// exact step functions, and a float model tabulates it at the config's precision.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum FloatFn {
    /// `γ·x` for x > 0, else `γ·(α·eˣ − α)`.
    Selu {
        #[serde(with = "crate::serde_f64")]
        alpha: f64,
        #[serde(with = "crate::serde_f64")]
        gamma: f64,
    },
    /// `x` for x ≥ 0, else `α·(eˣ − 1)`.
    Elu {
        #[serde(with = "crate::serde_f64")]
        alpha: f64,
    },
    /// `max(0, x) + min(0, α·(e^(x/α) − 1))`.
    Celu {
        #[serde(with = "crate::serde_f64")]
        alpha: f64,
    },
    /// `ln(1 + eˣ)`.
    Softplus,
    /// `x / (1 + |x|)`.
    Softsign,
    /// `x · clamp(x/6 + ½, 0, 1)`.
    HardSwish,
    /// `x · tanh(softplus(x))`.
    Mish,
    Exp,
    /// Natural logarithm: −∞ at 0, NaN below.
    Log,
    /// `|x|` (exact: no table).
    Abs,
}

impl FloatFn {
    /// The ONNX op type.
    pub fn mnemonic(&self) -> &'static str {
        match self {
            FloatFn::Selu { .. } => "Selu",
            FloatFn::Elu { .. } => "Elu",
            FloatFn::Celu { .. } => "Celu",
            FloatFn::Softplus => "Softplus",
            FloatFn::Softsign => "Softsign",
            FloatFn::HardSwish => "HardSwish",
            FloatFn::Mish => "Mish",
            FloatFn::Exp => "Exp",
            FloatFn::Log => "Log",
            FloatFn::Abs => "Abs",
        }
    }
}

/// The operations Tachyon understands. Attributes are decoded and validated at import.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Op {
    MatMul,
    Gemm {
        #[serde(with = "crate::serde_f64")]
        alpha: f64,
        #[serde(with = "crate::serde_f64")]
        beta: f64,
        trans_a: bool,
        trans_b: bool,
    },
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Sqrt,
    Neg,
    Relu,
    Sigmoid,
    /// Softmax over `axis` (opset < 13: coerced 2-D at `axis`; from 13: one axis).
    Softmax {
        axis: i64,
        legacy: bool,
    },
    BatchNorm {
        #[serde(with = "crate::serde_f64")]
        epsilon: f64,
    },
    /// LayerNormalization over the axes from `axis` to the last: `(x − mean) / √(var + ε) ·
    /// Scale + B`.
    LayerNorm {
        axis: i64,
        #[serde(with = "crate::serde_f64")]
        epsilon: f64,
    },
    Flatten {
        axis: i64,
    },
    /// Reshape to the shape given by the second (constant) input.
    Reshape {
        allowzero: bool,
    },
    Identity,
    Dropout,
    Transpose {
        perm: Option<Vec<i64>>,
    },
    Shape {
        start: i64,
        end: Option<i64>,
    },
    Gather {
        axis: i64,
    },
    Unsqueeze {
        axes: Option<Vec<i64>>,
    },
    Squeeze {
        axes: Option<Vec<i64>>,
    },
    Concat {
        axis: i64,
    },
    Cast {
        to: i32,
    },
    /// A constant produced by a `Constant` node (already stored as the output value's constant).
    Constant,
    /// QONNX Quant(x, scale, zeropt, bitwidth).
    Quant {
        signed: bool,
        narrow: bool,
        round: RoundMode,
    },
    /// QONNX BipolarQuant(x, scale): scale · (x ≥ 0 ? +1 : −1).
    BipolarQuant,
    /// Tachyon's `FixedQuant(x, k, i, f)` (domain `tachyon.fixed`): a fixed-point quantizer with
    /// per-element sign, integer and fractional bits (docs/qonnx_extension.md).
    FixedQuant {
        round: RoundMode,
        overflow: OverflowMode,
    },
    /// Tachyon's `Lookup(x, values)` (domain `tachyon.fixed`): `values[x · 2^frac − first]`.
    Lookup {
        frac: i64,
        first: i64,
    },
    /// QONNX Trunc(x, scale, zeropt, in_bits, out_scale, out_zeropt, out_bits).
    Trunc {
        signed: bool,
        narrow: bool,
        round: RoundMode,
    },
    Tanh,
    /// The error function.
    Erf,
    /// `x · Φ(x)` (`0.5·x·(1 + erf(x/√2))`), or with `tanh` its approximation
    /// `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` (opset 20).
    Gelu {
        tanh: bool,
    },
    /// `x` for x ≥ 0, else `alpha·x`.
    LeakyRelu {
        #[serde(with = "crate::serde_f64")]
        alpha: f64,
    },
    /// `clamp(alpha·x + beta, 0, 1)`.
    HardSigmoid {
        #[serde(with = "crate::serde_f64")]
        alpha: f64,
        #[serde(with = "crate::serde_f64")]
        beta: f64,
    },
    /// Clip to `[min, max]`: bounds from the attributes (opset < 11); `None` reads inputs 1 and 2
    /// (opset ≥ 11), an absent one leaving that side unbounded.
    Clip {
        #[serde(with = "crate::serde_f64::opt")]
        min: Option<f64>,
        #[serde(with = "crate::serde_f64::opt")]
        max: Option<f64>,
    },
    /// Elementwise maximum of any number of inputs, with broadcasting.
    Max,
    /// Elementwise minimum of any number of inputs, with broadcasting.
    Min,
    /// ReduceSum / ReduceMean / ReduceMax / ReduceMin. `axes` from the attribute (ReduceSum before
    /// opset 13, the others before 18); `None` reads the optional second input. No axes, or an empty
    /// list, reduces every axis, or nothing when `noop_with_empty_axes`.
    Reduce {
        kind: ReduceKind,
        axes: Option<Vec<i64>>,
        keepdims: bool,
        noop_with_empty_axes: bool,
    },
    /// Einsum, the equation in explicit form (`ij,jk->ik`, whitespace removed).
    Einsum {
        equation: String,
    },
    /// Slice. Before opset 10 `starts`, `ends` and `axes` are attributes (stored here); from 10 on
    /// they are inputs (data, starts, ends, axes, steps) and these fields are `None`.
    Slice {
        starts: Option<Vec<i64>>,
        ends: Option<Vec<i64>>,
        axes: Option<Vec<i64>>,
    },
    /// Numpy-style broadcast to the shape given by the second (constant) input.
    Expand,
    /// Repeats along each axis as often as the second (constant) input says.
    Tile,
    /// Split along `axis` into `outputs` parts: sizes from the `split` attribute (opset < 13), else
    /// from the optional second input, else equal parts (the last one smaller when uneven).
    Split {
        axis: i64,
        split: Option<Vec<i64>>,
        outputs: usize,
    },
    /// N-D convolution, input N×C×D1×…, weights M×(C/group)×k1×…, optional bias of M.
    Conv {
        window: Window,
        group: usize,
    },
    /// Max pooling (the optional `Indices` output is refused at import).
    MaxPool {
        window: Window,
        ceil_mode: bool,
    },
    AveragePool {
        window: Window,
        ceil_mode: bool,
        count_include_pad: bool,
    },
    GlobalAveragePool,
    GlobalMaxPool,
    /// Pad (negative pads crop). `pads` and `value` from the attributes (opset < 11); from 11 on
    /// `pads` is `None`, and the inputs (pads, constant_value, axes) give them.
    Pad {
        mode: PadMode,
        pads: Option<Vec<i64>>,
        #[serde(with = "crate::serde_f64")]
        value: f64,
    },
    /// Resize (and Upsample) in nearest mode: every output element is a copy of one input
    /// element. The scale factors come from `scales` (Upsample's attribute, opset < 9), else from
    /// input `scales_slot` (1: Upsample 9, Resize 10; 2: Resize 11+, whose input 3 holds the
    /// output sizes instead when the scales are absent or empty), for the `axes` (opset 18)
    /// or every axis.
    Resize {
        scales: Option<Vec<f64>>,
        scales_slot: usize,
        coord: ResizeCoord,
        nearest: NearestMode,
        axes: Option<Vec<i64>>,
    },
    /// An element-wise float function ([`FloatFn`]).
    Func(FloatFn),
    /// An op Tachyon cannot handle, with the reason; kept so `inspect` can show it.
    Unsupported {
        reason: String,
    },
}

impl Op {
    /// A quantizer (QONNX Quant, BipolarQuant, Trunc or Tachyon's FixedQuant): its output lies on
    /// a fixed-point grid.
    pub fn is_quantizer(&self) -> bool {
        matches!(self, Op::Quant { .. } | Op::BipolarQuant | Op::Trunc { .. } | Op::FixedQuant { .. })
    }
    /// Short mnemonic used in dumps.
    pub fn mnemonic(&self) -> &'static str {
        match self {
            Op::MatMul => "MatMul",
            Op::Gemm { .. } => "Gemm",
            Op::Add => "Add",
            Op::Sub => "Sub",
            Op::Mul => "Mul",
            Op::Div => "Div",
            Op::Pow => "Pow",
            Op::Sqrt => "Sqrt",
            Op::Neg => "Neg",
            Op::Relu => "Relu",
            Op::Sigmoid => "Sigmoid",
            Op::Softmax { .. } => "Softmax",
            Op::BatchNorm { .. } => "BatchNormalization",
            Op::LayerNorm { .. } => "LayerNormalization",
            Op::Flatten { .. } => "Flatten",
            Op::Reshape { .. } => "Reshape",
            Op::Identity => "Identity",
            Op::Dropout => "Dropout",
            Op::Transpose { .. } => "Transpose",
            Op::Shape { .. } => "Shape",
            Op::Gather { .. } => "Gather",
            Op::Unsqueeze { .. } => "Unsqueeze",
            Op::Squeeze { .. } => "Squeeze",
            Op::Concat { .. } => "Concat",
            Op::Cast { .. } => "Cast",
            Op::Constant => "Constant",
            Op::Quant { .. } => "Quant",
            Op::BipolarQuant => "BipolarQuant",
            Op::FixedQuant { .. } => "FixedQuant",
            Op::Lookup { .. } => "Lookup",
            Op::Trunc { .. } => "Trunc",
            Op::Tanh => "Tanh",
            Op::Erf => "Erf",
            Op::Gelu { .. } => "Gelu",
            Op::LeakyRelu { .. } => "LeakyRelu",
            Op::HardSigmoid { .. } => "HardSigmoid",
            Op::Clip { .. } => "Clip",
            Op::Max => "Max",
            Op::Min => "Min",
            Op::Reduce { kind, .. } => match kind {
                ReduceKind::Sum => "ReduceSum",
                ReduceKind::Mean => "ReduceMean",
                ReduceKind::Max => "ReduceMax",
                ReduceKind::Min => "ReduceMin",
            },
            Op::Einsum { .. } => "Einsum",
            Op::Slice { .. } => "Slice",
            Op::Expand => "Expand",
            Op::Tile => "Tile",
            Op::Split { .. } => "Split",
            Op::Conv { .. } => "Conv",
            Op::MaxPool { .. } => "MaxPool",
            Op::AveragePool { .. } => "AveragePool",
            Op::GlobalAveragePool => "GlobalAveragePool",
            Op::GlobalMaxPool => "GlobalMaxPool",
            Op::Pad { .. } => "Pad",
            Op::Resize { .. } => "Resize",
            Op::Func(f) => f.mnemonic(),
            Op::Unsupported { .. } => "Unsupported",
        }
    }
    /// Input slots whose values, not only their shapes, decide the output shape: shape inference
    /// needs them constant (after folding).
    pub fn shape_inputs(&self) -> &'static [usize] {
        match self {
            Op::Reduce { axes: None, .. } | Op::Expand | Op::Tile | Op::Split { split: None, .. } => &[1],
            Op::Slice { starts: None, .. } => &[1, 2, 3, 4],
            Op::Pad { pads: None, .. } => &[1, 3],
            Op::Resize { scales: None, scales_slot: 1, .. } => &[1],
            Op::Resize { scales: None, .. } => &[2, 3],
            _ => &[],
        }
    }
}

/// A tensor flowing through the graph.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Value {
    /// ONNX tensor name.
    pub name: String,
    /// Static shape, batch dimension included (symbolic dims resolved to 1), when known.
    pub shape: Option<Vec<usize>>,
    /// Known constant content (initializers, Constant nodes, folded subgraphs).
    pub konst: Option<Tensor>,
    /// The node that produces it (None for graph inputs and initializers).
    pub producer: Option<NodeId>,
}

/// One ONNX node.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Node {
    /// ONNX node name, or `<op_type>#<index>` when the model leaves it empty.
    pub name: String,
    /// `op_type` as written in the model.
    pub op_type: String,
    /// ONNX domain ("" for the default domain).
    pub domain: String,
    pub op: Op,
    /// Inputs; `None` for an omitted optional input (empty name).
    pub inputs: Vec<Option<ValueId>>,
    pub outputs: Vec<ValueId>,
}

impl Node {
    /// `name (op)` for messages.
    pub fn node_ref(&self) -> crate::error::NodeRef {
        let op =
            if self.domain.is_empty() { self.op_type.clone() } else { format!("{}:{}", self.domain, self.op_type) };
        crate::error::NodeRef { name: self.name.clone(), op }
    }
    /// The `i`-th input if present.
    pub fn input(&self, i: usize) -> Option<ValueId> {
        self.inputs.get(i).copied().flatten()
    }
}

/// A graph input imported with another shape than the file's.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InputNote {
    pub input: String,
    /// The shape in the file (symbolic dimensions as 1).
    pub file: Vec<usize>,
    /// The shape of one event, as compiled.
    pub shape: Vec<usize>,
    /// Given by `--input-shape` (else: a batch axis found on import).
    pub by_option: bool,
}

impl std::fmt::Display for InputNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.by_option {
            write!(
                f,
                "input '{}' has shape {:?} in the file; --input-shape makes it {:?}",
                self.input, self.file, self.shape
            )
        } else {
            write!(
                f,
                "input '{}' has shape {:?}: axis 0 taken as the batch, the design takes one {:?} event per clock \
                 (--input-shape overrides this)",
                self.input, self.file, self.shape
            )
        }
    }
}

/// A decoded model graph.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Graph {
    /// The file it came from (for messages).
    pub path: PathBuf,
    pub name: String,
    pub producer: String,
    /// Default-domain opset version.
    pub opset: i64,
    pub values: Vec<Value>,
    /// Nodes in topological order.
    pub nodes: Vec<Node>,
    /// Non-constant graph inputs, in model order.
    pub inputs: Vec<ValueId>,
    pub outputs: Vec<ValueId>,
    /// Graph inputs imported with another shape than the file's (a batch axis taken out, or
    /// `--input-shape`), for the build output.
    #[serde(default)]
    pub input_notes: Vec<InputNote>,
    /// Number of QONNX quantizer nodes (Quant, BipolarQuant, Trunc) in the file, counted before
    /// constant folding removed those applied to weights: zero means a float model.
    pub quantizers: usize,
}

impl Graph {
    pub fn value(&self, id: ValueId) -> &Value {
        &self.values[id.0 as usize]
    }
    pub fn value_mut(&mut self, id: ValueId) -> &mut Value {
        &mut self.values[id.0 as usize]
    }
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0 as usize]
    }
    /// Constant content of an optional input.
    pub fn konst(&self, id: Option<ValueId>) -> Option<&Tensor> {
        id.and_then(|v| self.value(v).konst.as_ref())
    }
    /// Nodes reading `v`.
    pub fn consumers(&self, v: ValueId) -> Vec<NodeId> {
        (0..self.nodes.len() as u32).map(NodeId).filter(|&n| self.node(n).inputs.contains(&Some(v))).collect()
    }
    /// Every unsupported node, with reasons.
    pub fn unsupported(&self) -> Vec<crate::error::Unsupported> {
        self.nodes
            .iter()
            .filter_map(|n| match &n.op {
                Op::Unsupported { reason } => {
                    Some(crate::error::Unsupported { node: n.node_ref(), reason: reason.clone() })
                }
                _ => None,
            })
            .collect()
    }
}
