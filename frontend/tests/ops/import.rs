//! Import of the new ops from ONNX models: attribute decoding, validation messages naming the
//! attribute, and shapes inferred through them.

use prost::Message;
use std::path::Path;
use tachyon_frontend::proto::*;
use tachyon_frontend::{decode_model, decode_model_with, Graph, Op, ReduceKind};

fn vi(name: &str, dims: &[i64]) -> ValueInfoProto {
    let dim = dims.iter().map(|&d| Dimension { value: Some(DimensionValue::DimValue(d)), denotation: String::new() });
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(TypeValue::TensorType(TypeTensor {
                elem_type: data_type::FLOAT,
                shape: Some(TensorShapeProto { dim: dim.collect() }),
            })),
            denotation: String::new(),
        }),
        ..Default::default()
    }
}

fn int64s(name: &str, v: &[i64]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: vec![v.len() as i64],
        data_type: data_type::INT64,
        int64_data: v.to_vec(),
        ..Default::default()
    }
}

fn floats(name: &str, dims: &[i64], v: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: data_type::FLOAT,
        float_data: v.to_vec(),
        ..Default::default()
    }
}

fn attr_int(name: &str, i: i64) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: attribute_type::INT, i, ..Default::default() }
}

fn attr_ints(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: attribute_type::INTS, ints: ints.to_vec(), ..Default::default() }
}

fn attr_str(name: &str, s: &str) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: attribute_type::STRING, s: s.into(), ..Default::default() }
}

fn node(op: &str, ins: &[&str], outs: &[&str], attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: format!("{}_node", op.to_lowercase()),
        input: ins.iter().map(|s| s.to_string()).collect(),
        output: outs.iter().map(|s| s.to_string()).collect(),
        attribute,
        ..Default::default()
    }
}

/// A model with graph input `x` of `dims`, the given nodes and initializers, and output `y`.
fn model(dims: &[i64], nodes: Vec<NodeProto>, initializer: Vec<TensorProto>, opset: i64) -> ModelProto {
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: opset }],
        graph: Some(GraphProto {
            name: "g".into(),
            node: nodes,
            initializer,
            input: vec![vi("x", dims)],
            output: vec![vi("y", &[])],
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The graph of `m` with `x` of the file's shape (no leading axis taken as a batch: these
/// tests are about the ops' shapes).
fn load(m: &ModelProto) -> Graph {
    let dims =
        m.graph.as_ref().and_then(|g| g.input.first()).and_then(|vi| match vi.r#type.as_ref()?.value.as_ref()? {
            TypeValue::TensorType(t) => Some(t.shape.as_ref()?.dim.iter().map(|d| match d.value {
                Some(DimensionValue::DimValue(v)) => v.max(1) as usize,
                _ => 1,
            }))
            .map(|d| d.collect::<Vec<usize>>()),
            _ => None,
        });
    let opts = tachyon_frontend::ImportOptions {
        input_shapes: dims.into_iter().map(|dims| tachyon_frontend::InputShape { name: None, dims }).collect(),
    };
    decode_model_with(&m.encode_to_vec(), Path::new("/models/ops.onnx"), &opts).unwrap_or_else(|e| panic!("{e}"))
}

fn err(m: &ModelProto) -> String {
    decode_model(&m.encode_to_vec(), Path::new("/models/ops.onnx")).expect_err("must be refused").to_string()
}

fn out_shape(g: &Graph) -> Vec<usize> {
    g.value(g.outputs[0]).shape.clone().expect("output shape inferred")
}

#[test]
fn reduce_sum_with_axes_input_infers_the_output_shape() {
    for (keepdims, shape) in [(1, vec![2, 1, 4]), (0, vec![2, 4])] {
        let n = node("ReduceSum", &["x", "axes"], &["y"], vec![attr_int("keepdims", keepdims)]);
        let g = load(&model(&[2, 3, 4], vec![n], vec![int64s("axes", &[-2])], 13));
        assert_eq!(g.nodes.len(), 1);
        assert!(matches!(g.nodes[0].op, Op::Reduce { kind: ReduceKind::Sum, axes: None, .. }), "{:?}", g.nodes[0].op);
        assert_eq!(out_shape(&g), shape);
    }
    // keepdims defaults to 1; no axes input reduces everything.
    let g = load(&model(&[2, 3], vec![node("ReduceSum", &["x"], &["y"], vec![])], vec![], 13));
    assert_eq!(out_shape(&g), [1, 1]);
}

#[test]
fn reduce_axes_attribute_in_older_opsets() {
    let n = node("ReduceMean", &["x"], &["y"], vec![attr_ints("axes", &[0]), attr_int("keepdims", 0)]);
    let g = load(&model(&[2, 3], vec![n], vec![], 17));
    assert_eq!(g.nodes[0].op.mnemonic(), "ReduceMean");
    assert_eq!(out_shape(&g), [3]);
    let n = node("ReduceSum", &["x"], &["y"], vec![attr_ints("axes", &[1])]);
    assert_eq!(out_shape(&load(&model(&[2, 3], vec![n], vec![], 11))), [2, 1]);
}

#[test]
fn bad_attributes_are_named() {
    let reduce = |attrs, opset| model(&[2, 3], vec![node("ReduceSum", &["x"], &["y"], attrs)], vec![], opset);
    let e = err(&reduce(vec![attr_int("keepdims", 2)], 13));
    assert!(e.contains("reducesum_node") && e.contains("'keepdims' must be 0 or 1, found 2"), "{e}");
    let e = err(&reduce(vec![attr_ints("axes", &[1])], 13));
    assert!(e.contains("'axes'") && e.contains("opset 13") && e.contains("second input"), "{e}");
    let conv = |attrs| {
        let n = node("Conv", &["x", "w"], &["y"], attrs);
        model(&[1, 1, 4, 4], vec![n], vec![floats("w", &[1, 1, 3, 3], &[1.0; 9])], 13)
    };
    let e = err(&conv(vec![attr_str("auto_pad", "SAME")]));
    assert!(e.contains("'auto_pad' must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, found 'SAME'"), "{e}");
    let e = err(&conv(vec![attr_ints("strides", &[0, 1])]));
    assert!(e.contains("'strides' must hold integers of at least 1, found 0"), "{e}");
    let e = err(&conv(vec![attr_ints("pads", &[1, 1, 1])]));
    assert!(e.contains("'pads' must hold a begin and an end per spatial axis"), "{e}");
    let e = err(&conv(vec![attr_ints("kernel_shape", &[3, 3]), attr_ints("strides", &[2])]));
    assert!(e.contains("'strides' covers 1 spatial axes but 'kernel_shape' covers 2"), "{e}");
    let e = err(&conv(vec![attr_int("group", 0)]));
    assert!(e.contains("'group' must be a positive integer"), "{e}");
    let e = err(&conv(vec![attr_str("auto_pad", "VALID"), attr_ints("pads", &[1, 1, 1, 1])]));
    assert!(e.contains("'pads' cannot be combined with auto_pad"), "{e}");
    let pool = |attrs, outs: &[&str]| model(&[1, 1, 4, 4], vec![node("MaxPool", &["x"], outs, attrs)], vec![], 13);
    assert!(err(&pool(vec![], &["y"])).contains("MaxPool needs the attribute 'kernel_shape'"));
    let e = err(&pool(vec![attr_ints("kernel_shape", &[2, 2])], &["y", "idx"]));
    assert!(e.contains("'Indices'"), "{e}");
    let einsum = |eq| model(&[2, 2], vec![node("Einsum", &["x"], &["y"], vec![attr_str("equation", eq)])], vec![], 13);
    assert!(err(&einsum("...i->i")).contains("attribute 'equation'"));
    let pad = model(&[2], vec![node("Pad", &["x"], &["y"], vec![attr_str("mode", "mirror")])], vec![], 13);
    assert!(err(&pad).contains("'mode' must be constant, reflect, edge or wrap, found 'mirror'"));
}

#[test]
fn shape_deciding_inputs_must_be_constant() {
    let n = node("ReduceSum", &["x", "x"], &["y"], vec![]);
    let e = err(&model(&[2], vec![n], vec![], 13));
    assert!(e.contains("input 'x' decides the output shape, so it must be a constant"), "{e}");
}

#[test]
fn a_small_cnn_infers_every_shape() {
    // Conv 3×3 stride 2 pad 1 (4×4 → 2×2, 2 channels) → Relu → Pad → MaxPool 2×2 → Split into
    // two channels → GlobalAveragePool of the first → Flatten.
    let nodes = vec![
        node(
            "Conv",
            &["x", "w", "b"],
            &["c"],
            vec![attr_ints("kernel_shape", &[3, 3]), attr_ints("strides", &[2, 2]), attr_ints("pads", &[1, 1, 1, 1])],
        ),
        node("Relu", &["c"], &["r"], vec![]),
        node("Pad", &["r", "pads"], &["p"], vec![attr_str("mode", "edge")]),
        node("MaxPool", &["p"], &["m"], vec![attr_ints("kernel_shape", &[2, 2])]),
        node("Split", &["m"], &["s0", "s1"], vec![attr_int("axis", 1)]),
        node("GlobalAveragePool", &["s0"], &["gap"], vec![]),
        node("Flatten", &["gap"], &["y"], vec![]),
    ];
    let inits = vec![
        floats("w", &[2, 1, 3, 3], &[0.5; 18]),
        floats("b", &[2], &[0.0, 1.0]),
        int64s("pads", &[0, 0, 0, 1, 0, 0, 1, 1]),
    ];
    let g = load(&model(&[1, 1, 4, 4], nodes, inits, 13));
    let shape = |name: &str| g.values.iter().find(|v| v.name == name).and_then(|v| v.shape.clone()).unwrap();
    assert_eq!(shape("c"), [1, 2, 2, 2]);
    assert_eq!(shape("p"), [1, 2, 3, 4]);
    assert_eq!(shape("m"), [1, 2, 2, 3]);
    assert_eq!(shape("s1"), [1, 1, 2, 3]);
    assert_eq!(out_shape(&g), [1, 1]);
    let ops: Vec<&str> = g.nodes.iter().map(|n| n.op.mnemonic()).collect();
    assert_eq!(ops, ["Conv", "Relu", "Pad", "MaxPool", "Split", "GlobalAveragePool", "Flatten"]);
    // The float run on ones: the first channel's conv windows cover 4, 6, 6 and 9 ones (× 0.5),
    // [[2 3] [3 4.5]]; edge padding right and below gives [[2 2 3 3] [3 3 4.5 4.5] (row again)],
    // max-pooled [[3 4.5 4.5] [3 4.5 4.5]], averaging 4.
    let x = tachyon_frontend::Tensor::new(tachyon_frontend::DType::F32, vec![1, 1, 4, 4], vec![1.0; 16]);
    let y = tachyon_frontend::eval::run_float(&g, &[x]).unwrap();
    assert_eq!(y[0].shape, [1, 1]);
    assert_eq!(y[0].data, [4.0]);
}

#[test]
fn legacy_attribute_forms() {
    let slice = node("Slice", &["x"], &["y"], vec![attr_ints("starts", &[1]), attr_ints("ends", &[i64::MAX])]);
    assert_eq!(out_shape(&load(&model(&[5, 2], vec![slice], vec![], 9))), [4, 2]);
    let split = node("Split", &["x"], &["y", "z"], vec![attr_ints("split", &[1, 4])]);
    assert_eq!(out_shape(&load(&model(&[5], vec![split], vec![], 11))), [1]);
    let pad = node("Pad", &["x"], &["y"], vec![attr_ints("pads", &[1, 2])]);
    assert_eq!(out_shape(&load(&model(&[5], vec![pad], vec![], 10))), [8]);
    let clip = node("Clip", &["x"], &["y"], vec![]);
    assert!(matches!(load(&model(&[5], vec![clip], vec![], 10)).nodes[0].op, Op::Clip { min: None, max: None }));
    let e = err(&model(&[5], vec![node("Slice", &["x"], &["y"], vec![attr_ints("starts", &[1])])], vec![], 13));
    assert!(e.contains("'starts'") && e.contains("opset 10"), "{e}");
}

/// Import errors are typed: the variant says what is wrong, the error names the node, and the
/// message is the exact text the CLI prints.
#[test]
fn import_errors_are_typed_and_name_the_node() {
    use tachyon_frontend::{FrontendError, ImportError};
    let decode = |m: &ModelProto| decode_model(&m.encode_to_vec(), Path::new("/models/ops.onnx")).expect_err("refused");
    let m = model(&[2, 3], vec![node("ReduceSum", &["x"], &["y"], vec![attr_int("keepdims", 2)])], vec![], 13);
    let e = decode(&m);
    assert_eq!(
        e.to_string(),
        "/models/ops.onnx: node 'reducesum_node' (ReduceSum): attribute 'keepdims' must be 0 or 1, found 2"
    );
    match e {
        FrontendError::Import { node, error, .. } => match *error {
            ImportError::NotAFlag { name, value: 2 } => {
                assert_eq!((node.name.as_str(), name.as_str()), ("reducesum_node", "keepdims"))
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    // The typed error is no `source`: `{:#}` (as the CLI prints) does not repeat it.
    assert!(std::error::Error::source(&decode(&m)).is_none());
    let pool = model(&[1, 1, 4, 4], vec![node("MaxPool", &["x"], &["y"], vec![])], vec![], 13);
    match decode(&pool) {
        FrontendError::Import { error, .. } => {
            assert!(matches!(*error, ImportError::Missing { what: "the attribute 'kernel_shape'", .. }), "{error:?}")
        }
        other => panic!("{other:?}"),
    }
}
