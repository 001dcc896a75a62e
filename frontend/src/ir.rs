//! The front end's graph IR: values and nodes in arenas indexed by typed ids, nodes kept in a
//! topological order, every op a variant of the closed [`Op`] enum.
//!
//! Invariants (checked by `import::build_graph`): every node input is a graph input, a constant
//! or the output of an earlier node; every value is produced at most once; names are unique.

use crate::tensor::Tensor;
use std::fmt;
use std::path::PathBuf;

/// Index of a value (tensor) in [`Graph::values`]; prints as `%N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ValueId(pub u32);

/// Index of a node in [`Graph::nodes`]; prints as `n<N>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

/// QONNX rounding modes (`rounding_mode` attribute of Quant and Trunc).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RoundMode {
    /// Round half to even (numpy `round`): QONNX "ROUND".
    HalfEven,
    /// "HALF_UP": round half towards +∞.
    HalfUp,
    /// "HALF_DOWN": round half towards −∞.
    HalfDown,
    /// "CEIL"
    Ceil,
    /// "FLOOR"
    Floor,
    /// "ROUND_TO_ZERO" (numpy `fix`)
    ToZero,
}

impl RoundMode {
    pub fn parse(s: &str) -> Option<RoundMode> {
        Some(match s.to_ascii_uppercase().as_str() {
            "ROUND" | "HALF_EVEN" => RoundMode::HalfEven,
            "HALF_UP" => RoundMode::HalfUp,
            "HALF_DOWN" => RoundMode::HalfDown,
            "CEIL" => RoundMode::Ceil,
            "FLOOR" => RoundMode::Floor,
            "ROUND_TO_ZERO" | "TRUNC" => RoundMode::ToZero,
            _ => return None,
        })
    }
    /// Rounds a real number to an integer in this mode.
    pub fn round_f64(self, x: f64) -> f64 {
        match self {
            RoundMode::HalfEven => x.round_ties_even(),
            RoundMode::HalfUp => (x + 0.5).floor(),
            RoundMode::HalfDown => (x - 0.5).ceil(),
            RoundMode::Ceil => x.ceil(),
            RoundMode::Floor => x.floor(),
            RoundMode::ToZero => x.trunc(),
        }
    }
}

/// The operations Tachyon understands. Attributes are decoded and validated at import.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    MatMul,
    Gemm {
        alpha: f64,
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
    /// QONNX Trunc(x, scale, zeropt, in_bits, out_scale, out_zeropt, out_bits).
    Trunc {
        signed: bool,
        narrow: bool,
        round: RoundMode,
    },
    /// An op Tachyon cannot handle, with the reason; kept so `inspect` can show it.
    Unsupported {
        reason: String,
    },
}

impl Op {
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
            Op::Trunc { .. } => "Trunc",
            Op::Unsupported { .. } => "Unsupported",
        }
    }
}

/// A tensor flowing through the graph.
#[derive(Clone, Debug)]
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
#[derive(Clone, Debug)]
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

/// A decoded model graph.
#[derive(Clone, Debug)]
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
