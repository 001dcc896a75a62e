//! The ONNX builder writes what the front end reads back: attributes, Quant flags, scalar
//! initializers, shapes.

use prost::Message;
use tachyon_common::onnx_builder::{Attr, GraphBuilder, QONNX_DOMAIN};
use tachyon_frontend::proto::{attribute_type, ModelProto};
use tachyon_frontend::{decode_model, print::dump, Op, RoundMode};

#[test]
fn attribute_helpers_set_name_type_and_value() {
    assert_eq!(Attr::int("axis", -1).0.r#type, attribute_type::INT);
    assert_eq!(Attr::int("axis", -1).0.i, -1);
    assert_eq!(Attr::float("alpha", 0.5).0.f, 0.5);
    assert_eq!(Attr::float("alpha", 0.5).0.r#type, attribute_type::FLOAT);
    assert_eq!(Attr::string("mode", "FLOOR").0.s, b"FLOOR");
    assert_eq!(Attr::string("mode", "FLOOR").0.r#type, attribute_type::STRING);
    assert_eq!(Attr::ints("perm", &[1, 0]).0.ints, vec![1, 0]);
    assert_eq!(Attr::ints("perm", &[1, 0]).0.name, "perm");
}

#[test]
fn built_model_round_trips_through_the_front_end() {
    let mut g = GraphBuilder::new("toy");
    let x = g.input("x", &[1, 2]);
    let w = g.initializer_f32("W", &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let xq = g.quant(&x, "xq", 0.25, 0.0, 4.0, false, true, "CEIL");
    let mm = g.node("MatMul", "", "mm", &[&xq, &w], &["mm_out"], vec![]);
    let t = g.node("Gemm", "", "gemm", &[&mm, "W2"], &["y"], vec![Attr::float("alpha", 2.0), Attr::int("transB", 1)]);
    g.initializer_f32("W2", &[3, 3], &[0.0; 9]);
    assert_eq!(t, "y");
    g.output("y", &[1, 3]);
    let model = g.build(&[("", 13), (QONNX_DOMAIN, 1)]);
    assert_eq!(model.opset_import.len(), 2);
    assert_eq!(model.opset_import[1].domain, QONNX_DOMAIN);

    let bytes = model.encode_to_vec();
    assert_eq!(ModelProto::decode(bytes.as_slice()).unwrap(), model);
    let graph = decode_model(&bytes, std::path::Path::new("toy.onnx")).unwrap();
    let quant = graph.nodes.iter().find(|n| n.name == "xq").unwrap();
    assert_eq!(quant.op, Op::Quant { signed: false, narrow: true, round: RoundMode::Ceil });
    let gemm = graph.nodes.iter().find(|n| n.name == "gemm").unwrap();
    assert!(matches!(gemm.op, Op::Gemm { alpha, trans_b: true, .. } if alpha == 2.0));
    let d = dump(&graph);
    assert!(d.contains("xq: Quant(x[1×2], 0.25, 0, 4)"), "{d}");
    assert!(d.contains("mm: MatMul(xq[1×2], const[2×3])"), "{d}");
}
