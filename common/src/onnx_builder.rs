//! A small builder for ONNX models: graph inputs and outputs, float32 initializers, nodes with
//! typed attribute helpers, and QONNX `Quant` nodes with their scalar parameter initializers.
//!
//! ```
//! use tachyon_common::onnx_builder::{Attr, GraphBuilder};
//! let mut g = GraphBuilder::new("toy");
//! let x = g.input("x", &[1, 2]);
//! let w = g.initializer_f32("W", &[2, 2], &[1.0, 0.0, 0.0, 1.0]);
//! let xq = g.quant(&x, "xq", 0.125, 0.0, 8.0, true, false, "ROUND");
//! let y = g.node("MatMul", "", "mm", &[&xq, &w], &["mm_out"], vec![]);
//! g.node("Softmax", "", "softmax", &[&y], &["y"], vec![Attr::int("axis", -1)]);
//! g.output("y", &[1, 2]);
//! let model = g.build(&[("", 13), ("qonnx.custom_op.general", 1)]);
//! assert_eq!(model.graph.unwrap().node.len(), 3);
//! ```

use tachyon_frontend::proto::{
    attribute_type, data_type, AttributeProto, Dimension, DimensionValue, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, TensorProto, TensorShapeProto, TypeProto, TypeTensor, TypeValue, ValueInfoProto,
};

/// The domain of QONNX custom ops (`Quant`, `BipolarQuant`, `Trunc`).
pub const QONNX_DOMAIN: &str = "qonnx.custom_op.general";

/// ONNX IR version written by [`GraphBuilder::build`].
pub const IR_VERSION: i64 = 8;

/// `producer_name` written by [`GraphBuilder::build`].
pub const PRODUCER: &str = "tachyon-examples";

/// One node attribute, built by the typed constructors below.
#[derive(Clone, Debug, PartialEq)]
pub struct Attr(pub AttributeProto);

impl Attr {
    fn base(name: &str, ty: i32) -> AttributeProto {
        AttributeProto { name: name.to_string(), r#type: ty, ..Default::default() }
    }
    /// An `INT` attribute.
    pub fn int(name: &str, v: i64) -> Attr {
        Attr(AttributeProto { i: v, ..Self::base(name, attribute_type::INT) })
    }
    /// A `FLOAT` attribute.
    pub fn float(name: &str, v: f32) -> Attr {
        Attr(AttributeProto { f: v, ..Self::base(name, attribute_type::FLOAT) })
    }
    /// A `STRING` attribute (stored as UTF-8 bytes).
    pub fn string(name: &str, v: &str) -> Attr {
        Attr(AttributeProto { s: v.as_bytes().to_vec(), ..Self::base(name, attribute_type::STRING) })
    }
    /// An `INTS` attribute.
    pub fn ints(name: &str, v: &[i64]) -> Attr {
        Attr(AttributeProto { ints: v.to_vec(), ..Self::base(name, attribute_type::INTS) })
    }
}

/// A float32 tensor type with static dimensions.
fn float_value_info(name: &str, dims: &[i64]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|&d| Dimension { value: Some(DimensionValue::DimValue(d)), denotation: String::new() })
        .collect();
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            value: Some(TypeValue::TensorType(TypeTensor {
                elem_type: data_type::FLOAT,
                shape: Some(TensorShapeProto { dim }),
            })),
            denotation: String::new(),
        }),
        ..Default::default()
    }
}

/// Accumulates the nodes, initializers, inputs and outputs of one ONNX graph, in insertion order
/// (so the same sequence of calls always encodes to the same bytes).
#[derive(Clone, Debug, Default)]
pub struct GraphBuilder {
    graph: GraphProto,
}

impl GraphBuilder {
    /// An empty graph called `name`.
    pub fn new(name: &str) -> GraphBuilder {
        GraphBuilder { graph: GraphProto { name: name.to_string(), ..Default::default() } }
    }

    /// Declares a float32 graph input of static shape `dims`; returns its name.
    pub fn input(&mut self, name: &str, dims: &[i64]) -> String {
        self.graph.input.push(float_value_info(name, dims));
        name.to_string()
    }

    /// Declares a float32 graph output of static shape `dims`; returns its name.
    pub fn output(&mut self, name: &str, dims: &[i64]) -> String {
        self.graph.output.push(float_value_info(name, dims));
        name.to_string()
    }

    /// Adds a float32 initializer (little-endian `raw_data`, as `numpy_helper.from_array` writes
    /// it); `shape` `&[]` makes a scalar. Returns its name.
    ///
    /// Panics if `data.len()` is not the product of `shape` (a bug in the calling generator).
    pub fn initializer_f32(&mut self, name: &str, shape: &[usize], data: &[f32]) -> String {
        assert_eq!(
            shape.iter().product::<usize>(),
            data.len(),
            "initializer '{name}': shape {shape:?} does not match {} values",
            data.len()
        );
        self.graph.initializer.push(TensorProto {
            dims: shape.iter().map(|&d| d as i64).collect(),
            data_type: data_type::FLOAT,
            name: name.to_string(),
            raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        });
        name.to_string()
    }

    /// Adds an int64 initializer (shapes, axes); `shape` `&[]` makes a scalar. Returns its name.
    ///
    /// Panics if `data.len()` is not the product of `shape` (a bug in the calling generator).
    pub fn initializer_i64(&mut self, name: &str, shape: &[usize], data: &[i64]) -> String {
        assert_eq!(shape.iter().product::<usize>(), data.len(), "initializer '{name}': shape {shape:?} does not match");
        self.graph.initializer.push(TensorProto {
            dims: shape.iter().map(|&d| d as i64).collect(),
            data_type: data_type::INT64,
            name: name.to_string(),
            raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        });
        name.to_string()
    }

    /// Adds a node `name` of `op_type` in `domain` (`""` for standard ONNX ops); returns the name
    /// of its first output (empty if it has none).
    pub fn node(
        &mut self,
        op_type: &str,
        domain: &str,
        name: &str,
        inputs: &[&str],
        outputs: &[&str],
        attrs: Vec<Attr>,
    ) -> String {
        self.graph.node.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: outputs.iter().map(|s| s.to_string()).collect(),
            name: name.to_string(),
            op_type: op_type.to_string(),
            domain: domain.to_string(),
            attribute: attrs.into_iter().map(|a| a.0).collect(),
            ..Default::default()
        });
        outputs.first().map(|s| s.to_string()).unwrap_or_default()
    }

    /// Adds a QONNX `Quant` node named `y_name` computing `y_name = Quant(x)`, with scalar float32
    /// initializers `{y_name}_s` (scale), `{y_name}_z` (zero point) and `{y_name}_b` (bit width),
    /// and attributes `narrow`, `rounding_mode`, `signed` (in that order, as `onnx.helper`
    /// writes them). Returns `y_name`.
    #[allow(clippy::too_many_arguments)]
    pub fn quant(
        &mut self,
        x: &str,
        y_name: &str,
        scale: f32,
        zeropt: f32,
        bits: f32,
        signed: bool,
        narrow: bool,
        rounding_mode: &str,
    ) -> String {
        let s = self.initializer_f32(&format!("{y_name}_s"), &[], &[scale]);
        let z = self.initializer_f32(&format!("{y_name}_z"), &[], &[zeropt]);
        let b = self.initializer_f32(&format!("{y_name}_b"), &[], &[bits]);
        self.node(
            "Quant",
            QONNX_DOMAIN,
            y_name,
            &[x, &s, &z, &b],
            &[y_name],
            vec![
                Attr::int("narrow", narrow as i64),
                Attr::string("rounding_mode", rounding_mode),
                Attr::int("signed", signed as i64),
            ],
        )
    }

    /// Wraps the graph in a model (IR version [`IR_VERSION`], producer [`PRODUCER`]) importing
    /// the given `(domain, version)` opsets.
    pub fn build(self, opsets: &[(&str, i64)]) -> ModelProto {
        ModelProto {
            ir_version: IR_VERSION,
            opset_import: opsets
                .iter()
                .map(|&(domain, version)| OperatorSetIdProto { domain: domain.to_string(), version })
                .collect(),
            producer_name: PRODUCER.to_string(),
            graph: Some(self.graph),
            ..Default::default()
        }
    }
}
