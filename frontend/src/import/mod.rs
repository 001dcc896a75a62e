//! Turning a decoded `ModelProto` into a [`Graph`]: a registry of op builders (one module per op
//! family) that decode and validate attributes. Unknown ops are not errors here: they become
//! `Op::Unsupported` so that every one of them can be reported together (and shown by `inspect`).

mod attrs;
mod batch;
mod channels_last;
mod cnn;
mod fixed;

mod math;
pub mod qdq;
mod quant;
mod reduce;
mod resize;
mod shape;
mod upgrade;

pub use crate::error::ImportError;
pub use attrs::Attrs;
pub use batch::{set_input_shapes, ImportOptions, InputShape};
pub use channels_last::CHANNELS_LAST_DOMAIN;

/// The default-domain opsets Tachyon reads (older forms are upgraded on import).
pub const OPSETS: std::ops::RangeInclusive<i64> = 1..=23;

use crate::error::{FrontendError, Result};
use crate::ir::{Graph, Node, NodeId, Op, Value, ValueId};
use crate::proto::{DimensionValue, GraphProto, ModelProto, NodeProto, TypeValue};
use crate::tensor::decode_tensor;
use std::collections::HashMap;
use std::path::Path;

/// Domains under which QONNX custom ops appear in the wild.
/// The domain of Tachyon's own ops (docs/qonnx_extension.md).
pub const FIXED_DOMAIN: &str = "tachyon.fixed";

pub const QONNX_DOMAINS: &[&str] = &["qonnx.custom_op.general", "onnx.brevitas", "finn.custom_op.general", "finn"];

/// Builds the op of one node. `Err` means a malformed node (bad attribute), which is fatal.
fn import_op(n: &NodeProto, opset: i64) -> std::result::Result<Op, ImportError> {
    let a = Attrs(&n.attribute);
    let domain = n.domain.as_str();
    if domain.is_empty() || domain == "ai.onnx" {
        if let Some(op) = math::import(&n.op_type, &a, opset)? {
            return Ok(op);
        }
        if let Some(op) = shape::import(&n.op_type, &a, opset, &n.output)? {
            return Ok(op);
        }
        if let Some(op) = reduce::import(&n.op_type, &a, opset)? {
            return Ok(op);
        }
        if let Some(op) = cnn::import(&n.op_type, &a, opset, &n.output)? {
            return Ok(op);
        }
        if let Some(op) = resize::import(&n.op_type, &a, opset) {
            return Ok(op);
        }
        // Brevitas sometimes exports Quant without a domain.
        if let Some(op) = quant::import(&n.op_type, &a)? {
            return Ok(op);
        }
        return Ok(Op::Unsupported { reason: format!("ONNX op {} is not supported yet", n.op_type) });
    }
    if domain == FIXED_DOMAIN {
        if let Some(op) = fixed::import(&n.op_type, &a)? {
            return Ok(op);
        }
        return Ok(Op::Unsupported {
            reason: format!("{FIXED_DOMAIN} op {} is not one of FixedQuant, Lookup", n.op_type),
        });
    }
    if QONNX_DOMAINS.contains(&domain) {
        if let Some(op) = quant::import(&n.op_type, &a)? {
            return Ok(op);
        }
        return Ok(Op::Unsupported { reason: format!("QONNX op {} is not supported yet", n.op_type) });
    }
    if domain == CHANNELS_LAST_DOMAIN {
        // `upgrade` rewrote the ones it could into standard ops between transposes.
        let reason = if channels_last::OPS.contains(&n.op_type.as_str()) {
            format!(
                "the rank of the channels-last {}'s input cannot be read off the model; give it a kernel_shape \
                 attribute",
                n.op_type
            )
        } else {
            format!(
                "channels-last {} is not supported (Conv, MaxPool and BatchNormalization are); run qonnx's \
                 channels-last transform only on those",
                n.op_type
            )
        };
        return Ok(Op::Unsupported { reason });
    }
    Ok(Op::Unsupported { reason: format!("ops of domain '{domain}' are not supported") })
}

/// Reads and decodes an ONNX file into a graph with shapes inferred and constants folded.
pub fn load_model(path: &Path) -> Result<Graph> {
    load_model_with(path, &ImportOptions::default())
}

/// [`load_model`] with import options (`--input-shape`).
pub fn load_model_with(path: &Path, opts: &ImportOptions) -> Result<Graph> {
    let bytes = std::fs::read(path).map_err(|source| FrontendError::Io { path: path.to_path_buf(), source })?;
    decode_model_with(&bytes, path, opts)
}

/// Decodes ONNX bytes (`path` names the file in messages and anchors external data).
pub fn decode_model(bytes: &[u8], path: &Path) -> Result<Graph> {
    decode_model_with(bytes, path, &ImportOptions::default())
}

/// [`decode_model`] with import options: the graph is built for one event (see [`batch`]).
pub fn decode_model_with(bytes: &[u8], path: &Path, opts: &ImportOptions) -> Result<Graph> {
    use prost::Message;
    let decode_err = |detail: String| FrontendError::Decode { path: path.to_path_buf(), detail };
    if bytes.is_empty() {
        return Err(decode_err("the file is empty".into()));
    }
    let mut model = ModelProto::decode(bytes).map_err(|e| decode_err(e.to_string()))?;
    if model.ir_version <= 0 || model.ir_version > 20 {
        return Err(decode_err(format!("ir_version {} is not a valid ONNX IR version", model.ir_version)));
    }
    if model.graph.is_none() {
        return Err(FrontendError::NoGraph { path: path.to_path_buf() });
    }
    let opset = model
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .unwrap_or(if model.opset_import.is_empty() { 1 } else { 13 });
    if !OPSETS.contains(&opset) {
        return Err(FrontendError::Opset { path: path.to_path_buf(), opset });
    }
    if let Some(g) = model.graph.as_mut() {
        upgrade::upgrade(g, opset);
    }
    batch::build(&model, opset, path, opts)
}

/// The graph of `model`, the graph inputs named in `shapes` taking those shapes instead of the
/// file's.
fn build_graph(
    model: &ModelProto,
    opset: i64,
    path: &Path,
    shapes: &std::collections::BTreeMap<String, Vec<usize>>,
) -> Result<Graph> {
    let gp = model.graph.as_ref().ok_or_else(|| FrontendError::NoGraph { path: path.to_path_buf() })?;
    let mut b = Build {
        g: Graph {
            path: path.to_path_buf(),
            name: gp.name.clone(),
            producer: model.producer_name.clone(),
            opset,
            values: vec![],
            nodes: vec![],
            inputs: vec![],
            outputs: vec![],
            input_notes: vec![],
            quantizers: 0,
        },
        by_name: HashMap::new(),
        path,
        model_dir: path.parent().unwrap_or(Path::new(".")),
    };
    // ONNX QDQ and integer ops become the ops the compiler has (`qdq`).
    let rewritten = qdq::rewrite(gp, path, b.model_dir)?;
    let gp = rewritten.as_ref().unwrap_or(gp);
    b.initializers(gp)?;
    b.inputs(gp, shapes)?;
    // Topological order (ONNX requires it, but be tolerant), detecting cycles and dangling names.
    let order = topo_order(&gp.node, &b.by_name).map_err(|what| b.malformed(what))?;
    for &i in &order {
        b.node(&gp.node[i], opset)?;
    }
    b.outputs(gp)?;
    let mut g = b.g;
    crate::fold::infer_and_fold(&mut g)?;
    crate::fuse::fuse_layernorm(&mut g);
    Ok(g)
}

/// The graph being built from a `GraphProto`, with its values by tensor name.
struct Build<'a> {
    g: Graph,
    by_name: HashMap<String, ValueId>,
    /// The model file (messages) and its folder (external data).
    path: &'a Path,
    model_dir: &'a Path,
}

impl Build<'_> {
    fn malformed(&self, what: String) -> FrontendError {
        FrontendError::Malformed { path: self.path.to_path_buf(), what }
    }

    fn new_value(&mut self, name: &str) -> ValueId {
        let id = ValueId(self.g.values.len() as u32);
        self.g.values.push(Value { name: name.to_string(), shape: None, konst: None, producer: None });
        self.by_name.insert(name.to_string(), id);
        id
    }

    /// The initializers, as constant values.
    fn initializers(&mut self, gp: &GraphProto) -> Result<()> {
        for t in &gp.initializer {
            if self.by_name.contains_key(&t.name) {
                return Err(self.malformed(format!("initializer '{}' is defined twice", t.name)));
            }
            let k = decode_tensor(t, self.model_dir).map_err(|error| FrontendError::Tensor {
                path: self.path.to_path_buf(),
                tensor: t.name.clone(),
                error: Box::new(error),
            })?;
            let id = self.new_value(&t.name);
            self.g.value_mut(id).shape = Some(k.shape.clone());
            self.g.value_mut(id).konst = Some(k);
        }
        if !gp.sparse_initializer.is_empty() {
            return Err(self.malformed("sparse initializers are not supported; store the weights densely".into()));
        }
        Ok(())
    }

    /// The graph inputs that are not initializers, with their shapes (a symbolic or unknown
    /// dimension is the batch, 1).
    fn inputs(&mut self, gp: &GraphProto, shapes: &std::collections::BTreeMap<String, Vec<usize>>) -> Result<()> {
        for vi in &gp.input {
            if self.by_name.contains_key(&vi.name) {
                continue; // an initializer listed as input (IR < 4 style)
            }
            let id = self.new_value(&vi.name);
            let shape = match vi.r#type.as_ref().and_then(|t| t.value.as_ref()) {
                Some(TypeValue::TensorType(tt)) => tt.shape.as_ref().map(|s| {
                    s.dim
                        .iter()
                        .map(|d| match d.value {
                            Some(DimensionValue::DimValue(v)) if v > 0 => Ok(v as usize),
                            Some(DimensionValue::DimValue(v)) if v <= 0 => Err(v),
                            _ => Ok(1), // symbolic or unknown: the batch dimension
                        })
                        .collect::<std::result::Result<Vec<usize>, i64>>()
                }),
                _ => return Err(self.malformed(format!("graph input '{}' is not a tensor", vi.name))),
            };
            let shape = shape.transpose().map_err(|d| {
                let what = if d < 0 { "a negative" } else { "an empty (zero)" };
                self.malformed(format!(
                    "graph input '{}' has {what} dimension {d}; inputs need positive sizes",
                    vi.name
                ))
            })?;
            let shape = match shapes.get(&vi.name) {
                Some(given) => Some(given.clone()),
                None => shape,
            };
            if let Some(s) = &shape {
                crate::tensor::checked_numel(&s.iter().map(|&d| d as i64).collect::<Vec<_>>())
                    .map_err(|e| self.malformed(format!("graph input '{}': {e}", vi.name)))?;
            }
            self.g.value_mut(id).shape = shape;
            self.g.inputs.push(id);
        }
        if self.g.inputs.is_empty() {
            return Err(self.malformed("the graph has no (non-constant) input".into()));
        }
        Ok(())
    }

    /// One node, in topological order: its inputs resolved, its op imported, its outputs
    /// defined (a Constant's output gets its value).
    fn node(&mut self, n: &NodeProto, opset: i64) -> Result<()> {
        let path = self.path.to_path_buf();
        let index = self.g.nodes.len();
        let name = if n.name.is_empty() { format!("{}#{}", n.op_type, index) } else { n.name.clone() };
        let mut node = Node {
            name,
            op_type: n.op_type.clone(),
            domain: n.domain.clone(),
            op: Op::Identity,
            inputs: vec![],
            outputs: vec![],
        };
        for inp in &n.input {
            if inp.is_empty() {
                node.inputs.push(None);
            } else {
                let id = *self.by_name.get(inp).ok_or_else(|| FrontendError::Node {
                    path: path.clone(),
                    node: node.node_ref(),
                    what: format!("input '{inp}' is not produced by any node, initializer or graph input"),
                })?;
                node.inputs.push(Some(id));
            }
        }
        node.op = import_op(n, opset).map_err(|error| FrontendError::Import {
            path: path.clone(),
            node: node.node_ref(),
            error: Box::new(error),
        })?;
        for out in &n.output {
            if out.is_empty() {
                continue;
            }
            if self.by_name.contains_key(out) {
                return Err(FrontendError::Node {
                    path,
                    node: node.node_ref(),
                    what: format!("output '{out}' is already produced elsewhere (duplicate tensor name)"),
                });
            }
            let id = self.new_value(out);
            self.g.value_mut(id).producer = Some(NodeId(index as u32));
            node.outputs.push(id);
        }
        if node.op == Op::Constant {
            self.constant(n, &node)?;
        }
        if node.op.is_quantizer() {
            self.g.quantizers += 1;
        }
        self.g.nodes.push(node);
        Ok(())
    }

    /// The value of a Constant node's output.
    fn constant(&mut self, n: &NodeProto, node: &Node) -> Result<()> {
        let a = Attrs(&n.attribute);
        let t = a
            .tensor("value")
            .ok_or_else(|| FrontendError::Node {
                path: self.path.to_path_buf(),
                node: node.node_ref(),
                what: "Constant without a tensor 'value' attribute (value_float/value_ints forms are read too)".into(),
            })
            .or_else(|e| a.constant_from_scalars().ok_or(e))?;
        let k = decode_tensor(&t, self.model_dir).map_err(|error| FrontendError::ConstantValue {
            path: self.path.to_path_buf(),
            node: node.node_ref(),
            error: Box::new(error),
        })?;
        if let Some(&out) = node.outputs.first() {
            self.g.value_mut(out).shape = Some(k.shape.clone());
            self.g.value_mut(out).konst = Some(k);
        }
        Ok(())
    }

    /// The graph outputs.
    fn outputs(&mut self, gp: &GraphProto) -> Result<()> {
        for vi in &gp.output {
            let id = *self
                .by_name
                .get(&vi.name)
                .ok_or_else(|| self.malformed(format!("graph output '{}' is not produced by any node", vi.name)))?;
            self.g.outputs.push(id);
        }
        if self.g.outputs.is_empty() {
            return Err(self.malformed("the graph has no output".into()));
        }
        Ok(())
    }
}

/// Kahn's algorithm over node indices; errors name a node on a cycle or a missing tensor.
fn topo_order(nodes: &[NodeProto], known: &HashMap<String, ValueId>) -> std::result::Result<Vec<usize>, String> {
    let mut producer: HashMap<&str, usize> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        for o in n.output.iter().filter(|o| !o.is_empty()) {
            if producer.insert(o.as_str(), i).is_some() || known.contains_key(o) {
                let name = if n.name.is_empty() { &n.op_type } else { &n.name };
                return Err(format!("tensor '{o}' is produced twice (second time by node '{name}')"));
            }
        }
    }
    let mut indeg = vec![0usize; nodes.len()];
    let mut users: Vec<Vec<usize>> = vec![vec![]; nodes.len()];
    for (i, n) in nodes.iter().enumerate() {
        for inp in n.input.iter().filter(|s| !s.is_empty()) {
            if let Some(&p) = producer.get(inp.as_str()) {
                indeg[i] += 1;
                users[p].push(i);
            } else if !known.contains_key(inp) {
                let name = if n.name.is_empty() { &n.op_type } else { &n.name };
                return Err(format!(
                    "node '{name}' ({}) reads tensor '{inp}', which no node, initializer or graph input provides",
                    n.op_type
                ));
            }
        }
    }
    let mut ready: std::collections::VecDeque<usize> = (0..nodes.len()).filter(|&i| indeg[i] == 0).collect();
    let mut order = vec![];
    while let Some(i) = ready.pop_front() {
        order.push(i);
        for &u in &users[i] {
            indeg[u] -= 1;
            if indeg[u] == 0 {
                ready.push_back(u);
            }
        }
    }
    if order.len() != nodes.len() {
        let stuck = (0..nodes.len()).find(|&i| indeg[i] > 0).unwrap_or(0);
        let n = &nodes[stuck];
        return Err(format!(
            "the graph has a cycle through node '{}' ({}); ONNX graphs must be acyclic",
            if n.name.is_empty() { &n.op_type } else { &n.name },
            n.op_type
        ));
    }
    Ok(order)
}
