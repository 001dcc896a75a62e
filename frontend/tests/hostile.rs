//! Hostile and malformed inputs: each gives a clear error naming the problem, never a panic.

use prost::Message;
use std::path::Path;
use tachyon_frontend::proto::*;
use tachyon_frontend::{decode_model, FrontendError};

fn vi(name: &str, dims: &[i64]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            value: Some(TypeValue::TensorType(TypeTensor {
                elem_type: data_type::FLOAT,
                shape: Some(TensorShapeProto {
                    dim: dims
                        .iter()
                        .map(|&d| Dimension { value: Some(DimensionValue::DimValue(d)), denotation: String::new() })
                        .collect(),
                }),
            })),
            denotation: String::new(),
        }),
        ..Default::default()
    }
}

fn tensor(name: &str, dims: &[i64], data: &[f32]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: data_type::FLOAT,
        float_data: data.to_vec(),
        ..Default::default()
    }
}

fn node(op: &str, name: &str, ins: &[&str], outs: &[&str]) -> NodeProto {
    NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: ins.iter().map(|s| s.to_string()).collect(),
        output: outs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn model(nodes: Vec<NodeProto>, inits: Vec<TensorProto>, opset: i64) -> ModelProto {
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: opset }],
        graph: Some(GraphProto {
            name: "g".into(),
            node: nodes,
            initializer: inits,
            input: vec![vi("x", &[1, 2])],
            output: vec![vi("y", &[1, 2])],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn good() -> ModelProto {
    model(vec![node("MatMul", "mm", &["x", "w"], &["y"])], vec![tensor("w", &[2, 2], &[1.0, 0.5, -1.0, 2.0])], 13)
}

fn load(m: &ModelProto) -> Result<tachyon_frontend::Graph, FrontendError> {
    decode_model(&m.encode_to_vec(), Path::new("/models/test.onnx"))
}

fn err(m: &ModelProto) -> String {
    load(m).expect_err("must be refused").to_string()
}

#[test]
fn good_model_loads() {
    let g = load(&good()).unwrap();
    assert_eq!(g.nodes.len(), 1);
    assert_eq!(g.value(g.outputs[0]).shape, Some(vec![1, 2]));
}

#[test]
fn empty_truncated_and_garbage_files() {
    let p = Path::new("/models/bad.onnx");
    assert!(decode_model(&[], p).unwrap_err().to_string().contains("empty"));
    let bytes = good().encode_to_vec();
    for cut in [1, bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
        let e = decode_model(&bytes[..cut], p).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains("bad.onnx"), "{e}");
    }
    let e = decode_model(b"\x89PNG\r\n\x1a\n not a model at all", p).map(|_| ()).unwrap_err().to_string();
    assert!(e.contains("bad.onnx") && (e.contains("not a valid ONNX") || e.contains("IR version")), "{e}");
}

#[test]
fn huge_and_negative_dims_are_refused_without_allocating() {
    let mut m = good();
    m.graph.as_mut().unwrap().initializer[0].dims = vec![1 << 40, 1 << 40];
    assert!(err(&m).contains("more than"), "{}", err(&m));
    m.graph.as_mut().unwrap().initializer[0].dims = vec![-2, 2];
    assert!(err(&m).contains("negative"), "{}", err(&m));
    let mut m = good();
    m.graph.as_mut().unwrap().input[0] = vi("x", &[1, -3]);
    assert!(err(&m).contains("negative"), "{}", err(&m));
    let mut m = good();
    m.graph.as_mut().unwrap().input[0] = vi("x", &[1, 0]);
    assert!(err(&m).contains("'x' has an empty (zero) dimension"), "{}", err(&m));
    let mut m = good();
    m.graph.as_mut().unwrap().initializer[0].dims = vec![0, 2];
    m.graph.as_mut().unwrap().initializer[0].float_data.clear();
    assert!(err(&m).contains("mm"), "a zero-size weight is refused at its node: {}", err(&m));
}

#[test]
fn mismatched_initializer_size() {
    let mut m = good();
    m.graph.as_mut().unwrap().initializer[0].float_data.pop();
    let e = err(&m);
    assert!(e.contains("'w'") && e.contains("3 values"), "{e}");
    match load(&m) {
        Err(FrontendError::Tensor { tensor, error, .. }) => {
            assert_eq!(tensor, "w");
            assert!(matches!(*error, tachyon_frontend::TensorError::ValueCount { values: 3, .. }), "{error:?}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn cycles_dangling_and_duplicate_names() {
    let m = model(
        vec![
            node("Relu", "a", &["x2"], &["x1"]),
            node("Relu", "b", &["x1"], &["x2"]),
            node("Relu", "c", &["x"], &["y"]),
        ],
        vec![],
        13,
    );
    let e = err(&m);
    assert!(e.contains("cycle"), "{e}");
    let m = model(vec![node("Relu", "a", &["nowhere"], &["y"])], vec![], 13);
    let e = err(&m);
    assert!(e.contains("'nowhere'") && e.contains("'a'"), "{e}");
    let m = model(vec![node("Relu", "a", &["x"], &["y"]), node("Relu", "b", &["x"], &["y"])], vec![], 13);
    let e = err(&m);
    assert!(e.contains("'y'") && e.contains("twice"), "{e}");
}

#[test]
fn unsupported_opset() {
    let mut m = good();
    // Old opsets are upgraded on import; 22 and 23 only widened types of the supported ops.
    for v in [1, 3, 6, 22, 23] {
        m.opset_import[0].version = v;
        load(&m).unwrap_or_else(|e| panic!("opset {v}: {e}"));
    }
    m.opset_import[0].version = 24;
    assert!(err(&m).contains("opset 24") && err(&m).contains("opsets 1 to 23"));
    m.opset_import[0].version = 99;
    assert!(err(&m).contains("opset 99"));
}

#[test]
fn unsupported_ops_are_all_listed() {
    let m = model(
        vec![node("Foo", "f1", &["x"], &["a"]), node("Relu", "r", &["a"], &["b"]), node("Bar", "f2", &["b"], &["y"])],
        vec![],
        13,
    );
    let g = load(&m).unwrap();
    let un = g.unsupported();
    assert_eq!(un.len(), 2);
    assert_eq!(un[0].node.name, "f1");
    assert_eq!(un[1].node.op, "Bar");
}

#[test]
fn external_data_cannot_escape_the_model_folder() {
    for loc in ["../secret.bin", "/etc/passwd", "a/../../b.bin"] {
        let mut m = good();
        let t = &mut m.graph.as_mut().unwrap().initializer[0];
        t.float_data.clear();
        t.data_location = data_location::EXTERNAL;
        t.external_data = vec![StringStringEntryProto { key: "location".into(), value: loc.into() }];
        let e = err(&m);
        assert!(e.contains("leaves the model's folder") && e.contains("'w'"), "{loc}: {e}");
    }
}

#[test]
fn external_data_is_read_beside_the_model() {
    let dir = std::env::temp_dir().join(format!("tachyon-ext-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data: Vec<u8> = [9.0f32, 1.0, 0.5, -1.0, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(dir.join("w.bin"), &data).unwrap();
    let mut m = good();
    let t = &mut m.graph.as_mut().unwrap().initializer[0];
    t.float_data.clear();
    t.data_location = data_location::EXTERNAL;
    t.external_data = vec![
        StringStringEntryProto { key: "location".into(), value: "w.bin".into() },
        StringStringEntryProto { key: "offset".into(), value: "4".into() },
        StringStringEntryProto { key: "length".into(), value: "16".into() },
    ];
    let path = dir.join("m.onnx");
    std::fs::write(&path, m.encode_to_vec()).unwrap();
    let g = tachyon_frontend::load_model(&path).unwrap();
    let w = g.values.iter().find(|v| v.name == "w").unwrap().konst.clone().unwrap();
    assert_eq!(w.data, vec![1.0, 0.5, -1.0, 2.0]);
    // Beyond the end of the file.
    let t = &mut m.graph.as_mut().unwrap().initializer[0];
    t.external_data[2].value = "400".into();
    std::fs::write(&path, m.encode_to_vec()).unwrap();
    let e = tachyon_frontend::load_model(&path).unwrap_err().to_string();
    assert!(e.contains("beyond the end"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_attributes_name_the_node() {
    let mut n = node("Quant", "q", &["x", "s", "z", "b"], &["y"]);
    n.domain = "qonnx.custom_op.general".into();
    n.attribute = vec![AttributeProto {
        name: "rounding_mode".into(),
        s: b"SIDEWAYS".to_vec(),
        r#type: attribute_type::STRING,
        ..Default::default()
    }];
    let m = model(vec![n], vec![tensor("s", &[], &[1.0]), tensor("z", &[], &[0.0]), tensor("b", &[], &[4.0])], 13);
    let e = err(&m);
    assert!(e.contains("'q'") && e.contains("SIDEWAYS"), "{e}");
}
