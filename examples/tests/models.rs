//! The generated models load with the Tachyon front end, have the structure of
//! `make_jet_qonnx.py`, keep their weights on the fixed<8,3> grid and run in float semantics.

use prost::Message;
use std::path::PathBuf;
use tachyon_examples::{float_mlp, jet_inputs, jet_mlp, tiny_mlp};
use tachyon_frontend::proto::{data_type, ModelProto};
use tachyon_frontend::{eval::run_float, load_model, print::dump, DType, Graph, Tensor};

/// Writes `model` into a fresh temp directory and loads it back.
fn write_and_load(model: &ModelProto, tag: &str) -> Graph {
    let dir = std::env::temp_dir().join(format!("tachyon-examples-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path: PathBuf = dir.join(format!("{tag}.onnx"));
    std::fs::write(&path, model.encode_to_vec()).unwrap();
    let g = load_model(&path).unwrap_or_else(|e| panic!("{tag} does not load: {e}"));
    std::fs::remove_dir_all(&dir).unwrap();
    g
}

/// Number of dump lines of nodes with mnemonic `op`.
fn count_op(dump: &str, op: &str) -> usize {
    dump.lines().filter(|l| l.contains(&format!(": {op}("))).count()
}

/// The node names `make_jet_qonnx.py` writes for layer widths `sizes`, in order.
fn python_node_names(layers: usize) -> Vec<String> {
    let mut names = vec!["xq".to_string()];
    for i in 0..layers {
        names.extend([format!("W{i}q"), format!("b{i}q"), format!("dense{i}_matmul"), format!("dense{i}_bias")]);
        if i + 1 < layers {
            names.extend([format!("relu{i}"), format!("act{i}")]);
        } else {
            names.push("y".into());
        }
    }
    names
}

/// Number of nodes of `op_type` in the written model.
fn proto_ops(model: &ModelProto, op_type: &str) -> usize {
    model.graph.as_ref().unwrap().node.iter().filter(|n| n.op_type == op_type).count()
}

fn f32_values(model: &ModelProto, name: &str) -> Vec<f32> {
    let t = model.graph.as_ref().unwrap().initializer.iter().find(|t| t.name == name);
    let t = t.unwrap_or_else(|| panic!("no initializer {name}"));
    assert_eq!(t.data_type, data_type::FLOAT);
    t.raw_data.chunks_exact(4).map(|b| f32::from_le_bytes(b.try_into().unwrap())).collect()
}

#[test]
fn jet_model_loads_with_the_expected_ops() {
    let model = jet_mlp(0);
    assert_eq!(model.ir_version, 8);
    assert_eq!(model.producer_name, "tachyon-examples");
    let g = write_and_load(&model, "jet");
    let d = dump(&g);
    assert!(d.starts_with("graph 'jet_w8a8' (opset 13, producer 'tachyon-examples')"), "{d}");
    assert!(d.contains("input  x [1×16]"), "{d}");
    assert!(d.contains("output y [1×5]"), "{d}");
    assert_eq!(count_op(&d, "MatMul"), 4, "{d}");
    assert_eq!(count_op(&d, "Add"), 4, "{d}");
    assert_eq!(count_op(&d, "Relu"), 3, "{d}");
    // Weight and bias Quants act on constants and are folded at load; the model holds them all.
    assert_eq!(count_op(&d, "Quant"), 1 + 3 + 1, "{d}");
    assert_eq!(proto_ops(&model, "Quant"), 1 + 2 * 4 + 3 + 1);
    assert_eq!(proto_ops(&model, "MatMul"), 4);
    assert_eq!(count_op(&d, "Unsupported"), 0, "{d}");
    assert!(d.contains("xq: Quant(x[1×16], 0.0009765625, 0, 16)"), "{d}");
    assert!(d.contains("signed=false narrow=false rounding=Floor"), "{d}");
    assert!(d.contains("signed=true narrow=false rounding=HalfEven"), "{d}");
    let names: Vec<&str> = model.graph.as_ref().unwrap().node.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, python_node_names(4));
}

#[test]
fn tiny_and_float_models_load() {
    let g = write_and_load(&tiny_mlp(0), "tiny");
    let d = dump(&g);
    assert!(d.contains("input  x [1×4]") && d.contains("output y [1×3]"), "{d}");
    assert_eq!(count_op(&d, "MatMul"), 2, "{d}");
    assert_eq!(count_op(&d, "Relu"), 1, "{d}");
    assert_eq!(count_op(&d, "Quant"), 1 + 1 + 1, "{d}");
    assert_eq!(proto_ops(&tiny_mlp(0), "Quant"), 1 + 2 * 2 + 1 + 1);
    let names: Vec<String> = tiny_mlp(0).graph.unwrap().node.into_iter().map(|n| n.name).collect();
    assert_eq!(names, python_node_names(2));

    let g = write_and_load(&float_mlp(3, &[6, 10, 4]), "float");
    let d = dump(&g);
    assert_eq!(count_op(&d, "Quant"), 0, "{d}");
    assert_eq!(count_op(&d, "MatMul"), 2, "{d}");
    assert_eq!(count_op(&d, "Relu"), 1, "{d}");
    assert!(d.contains("softmax: Softmax(") && d.contains("axis=-1"), "{d}");
}

#[test]
fn weights_and_biases_are_on_the_fixed_8_3_grid() {
    for (model, layers) in [(jet_mlp(0), 4), (jet_mlp(17), 4), (tiny_mlp(0), 2)] {
        for i in 0..layers {
            for name in [format!("W{i}"), format!("b{i}")] {
                let vals = f32_values(&model, &name);
                assert!(!vals.is_empty());
                for v in &vals {
                    let q = v * 32.0;
                    assert_eq!(q, q.round(), "{name}: {v} is not a multiple of 2^-5");
                    assert!((-4.0..=127.0 / 32.0).contains(v), "{name}: {v} out of range");
                }
                // Not degenerate: the draws spread over several grid points.
                let mut distinct: Vec<u32> = vals.iter().map(|v| v.to_bits()).collect();
                distinct.sort_unstable();
                distinct.dedup();
                assert!(distinct.len() >= 3, "{name}: only {distinct:?}");
            }
        }
    }
    // The front end folds Quant(W{i}) to exactly the stored values: they are already on its grid.
    let model = jet_mlp(0);
    let g = write_and_load(&model, "jet-fold");
    for i in 0..4 {
        for name in [format!("W{i}"), format!("b{i}")] {
            let folded = g.values.iter().find(|v| v.name == format!("{name}q")).unwrap();
            let folded = folded.konst.as_ref().expect("weight Quant is folded");
            let stored: Vec<f64> = f32_values(&model, &name).iter().map(|&v| v as f64).collect();
            assert_eq!(folded.data, stored, "{name}");
        }
    }
    // Shapes follow the layer widths.
    let g = jet_mlp(0).graph.unwrap();
    let dims = |n: &str| g.initializer.iter().find(|t| t.name == n).unwrap().dims.clone();
    assert_eq!(dims("W0"), vec![16, 64]);
    assert_eq!(dims("b3"), vec![5]);
    assert_eq!(dims("xq_s"), Vec::<i64>::new());
}

#[test]
fn different_seeds_give_different_weights() {
    assert_eq!(f32_values(&jet_mlp(0), "W1"), f32_values(&jet_mlp(0), "W1"));
    assert_ne!(f32_values(&jet_mlp(0), "W1"), f32_values(&jet_mlp(1), "W1"));
}

#[test]
fn jet_float_reference_gives_finite_quantized_logits() {
    let g = write_and_load(&jet_mlp(0), "jet-run");
    let inputs = jet_inputs(1, 8);
    assert_eq!(inputs.len(), 8 * 16);
    let mut outputs = vec![];
    for row in inputs.chunks(16) {
        let x = Tensor::new(DType::F32, vec![1, 16], row.iter().map(|&v| v as f64).collect());
        let out = run_float(&g, &[x]).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].shape, vec![1, 5]);
        for &v in &out[0].data {
            assert!(v.is_finite());
            assert_eq!(v * 1024.0, (v * 1024.0).round(), "{v} is not on the fixed<16,6> grid");
        }
        outputs.push(out[0].data.clone());
    }
    // The logits depend on the input.
    assert!(outputs.windows(2).any(|w| w[0] != w[1]), "{outputs:?}");
}

#[test]
fn float_mlp_reference_is_a_distribution() {
    let g = write_and_load(&float_mlp(5, &[16, 32, 5]), "float-run");
    let x = Tensor::new(DType::F32, vec![1, 16], jet_inputs(2, 1).iter().map(|&v| v as f64).collect());
    let out = run_float(&g, &[x]).unwrap();
    assert_eq!(out[0].shape, vec![1, 5]);
    let sum: f64 = out[0].data.iter().sum();
    assert!(out[0].data.iter().all(|&p| p.is_finite() && p >= 0.0));
    assert!((sum - 1.0).abs() < 1e-5, "softmax sums to {sum}");
}
