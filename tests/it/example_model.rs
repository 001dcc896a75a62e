//! The project's own example models (examples/, made by `make-examples` and committed with their
//! inputs): always tested, whatever else the machine has.

use crate::common::*;
use prost::Message;
use tachyon_driver::project::build;
use tachyon_driver::sim::{run, SimOptions};

#[test]
fn tiny_mlp_builds_lints_synthesizes_and_cosimulates() {
    let model = repo().join("examples/tiny_mlp/tiny_mlp.onnx");
    let out = scratch("tiny_mlp");
    let b = build(&build_options(model, out.clone())).unwrap();
    for f in ["rtl/tachyon_top.v", "report.json", "model.txt", "tachyon.json"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["latency_cycles"].as_u64().unwrap() as u32, b.design.latency);
    assert!(report["layers"].as_array().unwrap().len() >= 3);
    lint(&out);
    yosys_synth(&out);
    if !have("verilator") {
        return;
    }
    let s = run(
        &out,
        &SimOptions {
            inputs: Some(repo().join("examples/tiny_mlp/tiny_mlp.input.npy")),
            random: Some(2000),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s.mismatches, 0, "{:?}", s.first_mismatches);
    assert_eq!(s.latency_cycles, b.design.latency);
    assert_eq!(s.ii_cycles, 1);
    // With idle cycles between vectors the results are the same.
    let s = run(&out, &SimOptions { random: Some(200), gap: 3, ..Default::default() }).unwrap();
    assert_eq!(s.mismatches, 0);
}

#[test]
fn jet_mlp_example_cosimulates() {
    let model = repo().join("examples/jet_mlp/jet_mlp.onnx");
    let out = scratch("jet_mlp");
    build(&build_options(model, out.clone())).unwrap();
    lint(&out);
    if !have("verilator") {
        return;
    }
    let s = run(
        &out,
        &SimOptions {
            inputs: Some(repo().join("examples/jet_mlp/jet_mlp.input.npy")),
            random: Some(1000),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(s.mismatches, 0, "{:?}", s.first_mismatches);
    assert_eq!(s.vectors, 1256);
}

#[test]
fn same_model_twice_gives_identical_bytes() {
    let model = repo().join("examples/jet_mlp/jet_mlp.onnx");
    let (a, b) = (scratch("det_a"), scratch("det_b"));
    build(&build_options(model.clone(), a.clone())).unwrap();
    build(&build_options(model, b.clone())).unwrap();
    for f in ["rtl/tachyon_top.v", "report.json", "model.txt"] {
        assert_eq!(std::fs::read(a.join(f)).unwrap(), std::fs::read(b.join(f)).unwrap(), "{f} differs");
    }
}

#[test]
fn existing_output_needs_force() {
    let model = repo().join("examples/tiny_mlp/tiny_mlp.onnx");
    let out = scratch("force");
    build(&build_options(model.clone(), out.clone())).unwrap();
    let e = build(&build_options(model.clone(), out.clone())).err().unwrap().to_string();
    assert!(e.contains("--force"), "{e}");
    let mut o = build_options(model, out.clone());
    o.force = true;
    build(&o).unwrap();
}

#[test]
fn unsupported_ops_are_listed_together_and_nothing_is_written() {
    use tachyon_frontend::proto::*;
    let vi = |n: &str| ValueInfoProto {
        name: n.into(),
        r#type: Some(TypeProto {
            value: Some(TypeValue::TensorType(TypeTensor {
                elem_type: data_type::FLOAT,
                shape: Some(TensorShapeProto {
                    dim: vec![Dimension { value: Some(DimensionValue::DimValue(4)), denotation: String::new() }],
                }),
            })),
            denotation: String::new(),
        }),
        ..Default::default()
    };
    let node = |op: &str, name: &str, i: &str, o: &str| NodeProto {
        op_type: op.into(),
        name: name.into(),
        input: vec![i.into()],
        output: vec![o.into()],
        ..Default::default()
    };
    let m = ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto { domain: String::new(), version: 13 }],
        graph: Some(GraphProto {
            node: vec![
                node("Acos", "acos_1", "x", "a"),
                node("Relu", "r", "a", "b"),
                node("LpNormalization", "norm_2", "b", "y"),
            ],
            input: vec![vi("x")],
            output: vec![vi("y")],
            ..Default::default()
        }),
        ..Default::default()
    };
    let dir = scratch("unsupported");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.onnx");
    std::fs::write(&path, m.encode_to_vec()).unwrap();
    let out = dir.join("out");
    let e = format!("{:#}", build(&build_options(path, out.clone())).err().unwrap());
    assert!(
        e.contains("2 unsupported")
            && e.contains("acos_1")
            && e.contains("Acos")
            && e.contains("norm_2")
            && e.contains("LpNormalization"),
        "{e}"
    );
    assert!(!out.exists(), "no partial output");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1, "no temporary folder left behind");
}

#[test]
fn truncated_or_foreign_files_give_clear_errors() {
    let dir = scratch("truncated");
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = std::fs::read(repo().join("examples/tiny_mlp/tiny_mlp.onnx")).unwrap();
    let cut = dir.join("cut.onnx");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = dir.join("out");
    let e = format!("{:#}", build(&build_options(cut, out.clone())).err().unwrap());
    assert!(e.contains("cut.onnx"), "{e}");
    assert!(!out.exists());
    let txt = dir.join("notes.onnx");
    std::fs::write(&txt, "these are my notes, not a model\n").unwrap();
    let e = format!("{:#}", build(&build_options(txt, out.clone())).err().unwrap());
    assert!(e.contains("notes.onnx") && e.contains("ONNX"), "{e}");
    assert!(!out.exists());
    let e = format!("{:#}", build(&build_options(dir.join("missing.onnx"), out.clone())).err().unwrap());
    assert!(e.contains("missing.onnx") && e.contains("cannot read"), "{e}");
}

#[test]
fn config_naming_unknown_layers_is_refused() {
    let dir = scratch("badconfig");
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("c.json");
    std::fs::write(&cfg, r#"{ "layers": { "no_such_layer": { "result": "fixed<8,4>" } } }"#).unwrap();
    let mut o = build_options(repo().join("examples/tiny_mlp/tiny_mlp.onnx"), dir.join("out"));
    o.config = Some(cfg.clone());
    let e = format!("{:#}", build(&o).err().unwrap());
    assert!(e.contains("no_such_layer"), "{e}");
    std::fs::write(&cfg, r#"{ "default": { "result": "fixed<8>" } }"#).unwrap();
    let e = format!("{:#}", build(&o).err().unwrap());
    assert!(e.contains("fixed<8>"), "{e}");
    assert!(!dir.join("out").exists());
}

#[test]
fn float_model_takes_precision_from_the_config() {
    use prost::Message;
    let dir = scratch("float_config");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("float_mlp.onnx");
    std::fs::write(&model, tachyon_examples::float_mlp(3, &[6, 8, 4]).encode_to_vec()).unwrap();
    let cfg = dir.join("config.json");
    std::fs::write(
        &cfg,
        r#"{ "input": "fixed<12,4>",
             "default": { "weight": "fixed<8,2>", "bias": "fixed<8,2>", "result": "fixed<14,5>" },
             "layers": { "dense0_matmul": { "weight": "fixed<5,1,RND>", "result": "ufixed<9,4,RND,SAT>" } } }"#,
    )
    .unwrap();
    let mut o = build_options(model, dir.join("out"));
    o.config = Some(cfg);
    build(&o).unwrap();
    let text = std::fs::read_to_string(dir.join("out/model.txt")).unwrap();
    assert!(text.contains("16×fixed<12,4>") || text.contains("6×fixed<12,4>"), "input type from config:\n{text}");
    // RND's constant went into dense0's biases, so the requantization floors.
    assert!(
        text.contains("rounding constant of the requantization after it in 8 biases") && text.contains("2^-5 TRN SAT"),
        "per-layer result type applied:\n{text}"
    );
    assert!(text.contains("TRN WRAP"), "default result type applied:\n{text}");
    lint(&dir.join("out"));
    if !have("verilator") {
        return;
    }
    let s = run(&dir.join("out"), &SimOptions { random: Some(2000), ..Default::default() }).unwrap();
    assert_eq!(s.mismatches, 0, "{:?}", s.first_mismatches);
}
