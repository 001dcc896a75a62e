//! Acceptance on models trained by others (../shared/models): the interpreter reproduces the
//! independent implementations' outputs, and the emitted Verilog matches the interpreter on
//! every output of every vector. Skips with a message when the folder or Verilator is absent.

use crate::common::*;
use std::path::Path;
use tachyon_common::npy::read_npy;
use tachyon_driver::project::build;
use tachyon_driver::sim::{run, SimOptions};
use tachyon_quantize::{interp, Config};

fn rows(path: &Path) -> Vec<Vec<f64>> {
    let a = read_npy(path).unwrap();
    let d = a.to_f64();
    let n = a.shape[0];
    d.chunks(d.len() / n).map(|c| c.to_vec()).collect()
}

fn build_project(model: &Path, config: Option<&str>, name: &str) -> std::path::PathBuf {
    let out = scratch(name);
    let cfg = config.map(|c| {
        let p = out.with_extension("json");
        std::fs::write(&p, c).unwrap();
        p
    });
    let mut o = build_options(model, &out);
    o.config = cfg;
    build(&o).unwrap();
    out
}

/// Interpreter output of `tensor` (or the model output) for every row, dequantized.
fn interpret(model: &Path, cfg: &Config, inputs: &[Vec<f64>], tensor: Option<&str>) -> Vec<Vec<f64>> {
    let g = tachyon_frontend::load_model(model).unwrap();
    let m = tachyon_quantize::lower(&g, cfg).unwrap();
    inputs
        .iter()
        .map(|x| {
            let q = interp::quantize_input(&m, x).unwrap();
            let all = interp::run_all(&m, &q);
            match tensor {
                Some(name) => {
                    let t = m.tensors.iter().rposition(|t| t.name == name).expect("tensor exists");
                    all[t].iter().zip(&m.tensors[t].elems).map(|(&v, e)| v as f64 * 2f64.powi(-e.frac)).collect()
                }
                None => interp::dequantize_output(&m, &all[m.output.0 as usize]).unwrap(),
            }
        })
        .collect()
}

fn as_f32(v: &[Vec<f64>]) -> Vec<Vec<f32>> {
    v.iter().map(|r| r.iter().map(|&x| x as f32).collect()).collect()
}

const JET_CONFIG: &str = r#"{ "input": "fixed<40,5>" }"#;

#[test]
fn jettagging_interpreter_reproduces_logits_exactly() {
    let Some(d) = shared_models() else { return };
    let model = d.join("qonnx-model-zoo/qkeras_jettagging.onnx");
    let x = rows(&d.join("qonnx-model-zoo/qkeras_jettagging.input.npy"));
    let want = rows(&d.join("qonnx-model-zoo/qkeras_jettagging.logits.npy"));
    let cfg = Config::parse(JET_CONFIG).unwrap();
    let got = interpret(&model, &cfg, &x, Some("Add_3_out0"));
    assert_eq!(got.len(), 256);
    assert_eq!(as_f32(&got), as_f32(&want), "logits differ");
}

#[test]
fn jettagging_cosim_and_softmax_argmax() {
    let Some(d) = shared_models() else { return };
    let model = d.join("qonnx-model-zoo/qkeras_jettagging.onnx");
    let p = build_project(&model, Some(JET_CONFIG), "jettagging");
    lint(&p);
    if !have("verilator") {
        return;
    }
    let s = run(
        &p,
        &SimOptions {
            inputs: Some(d.join("qonnx-model-zoo/qkeras_jettagging.input.npy")),
            expect: Some(d.join("qonnx-model-zoo/qkeras_jettagging.output.npy")),
            random: Some(10_000),
            ..Default::default()
        },
    )
    .unwrap();
    println!("{s:?}");
    assert_eq!(s.vectors, 10_256);
    assert_eq!(s.mismatches, 0, "{:?}", s.first_mismatches);
    assert_eq!(s.latency_cycles, s.expected_latency_cycles);
    assert_eq!(s.ii_cycles, 1);
    assert!(s.argmax_agreement.unwrap() >= 0.99, "softmax argmax agreement {:?}", s.argmax_agreement);
}

/// A quantized model whose float outputs the interpreter must reproduce exactly, and whose RTL
/// (with the epilogue applied) must equal them too.
fn exact_model(stem: &str, random: usize, synth: bool) {
    let Some(d) = shared_models() else { return };
    let model = d.join(format!("{stem}.onnx"));
    let (inputs, outputs) = (d.join(format!("{stem}.input.npy")), d.join(format!("{stem}.output.npy")));
    let got = interpret(&model, &Config::default(), &rows(&inputs), None);
    assert_eq!(as_f32(&got), as_f32(&rows(&outputs)));
    let name = stem.rsplit('/').next().unwrap_or(stem);
    let p = build_project(&model, None, name);
    lint(&p);
    if synth {
        yosys_synth(&p);
    }
    if !have("verilator") {
        return;
    }
    let s = run(
        &p,
        &SimOptions { inputs: Some(inputs), expect: Some(outputs), random: Some(random), ..Default::default() },
    )
    .unwrap();
    assert_eq!(s.mismatches, 0, "{:?}", s.first_mismatches);
    assert_eq!(s.max_abs_diff, Some(0.0), "RTL output + epilogue must equal the float outputs exactly");
}

#[test]
fn brevitas_tfc_exact_and_cosim() {
    exact_model("qonnx-model-zoo/TFC_2W2A", 500, false);
}

#[test]
fn bnn_one_layer_exact_and_cosim() {
    exact_model("hls4ml-example-models/bnn_model_fc_1layer", 1000, true);
}

fn float_model(name: &str, min_agreement: f64, synth: bool) {
    let Some(d) = shared_models() else { return };
    let model = d.join(format!("hls4ml-example-models/{name}.onnx"));
    let p = build_project(&model, None, name);
    lint(&p);
    if synth {
        yosys_synth(&p);
    } else {
        println!("yosys synth_xilinx of {name} runs in benches/synth_check.sh (minutes of yosys time)");
    }
    if !have("verilator") {
        return;
    }
    let s = run(
        &p,
        &SimOptions {
            inputs: Some(d.join(format!("hls4ml-example-models/{name}.input.npy"))),
            expect: Some(d.join(format!("hls4ml-example-models/{name}.output.npy"))),
            random: Some(1000),
            ..Default::default()
        },
    )
    .unwrap();
    println!(
        "{name}: argmax agreement with float outputs {:.2} %, max |Δ| {:.5}",
        s.argmax_agreement.unwrap() * 100.0,
        s.max_abs_diff.unwrap()
    );
    assert_eq!(s.mismatches, 0, "{:?}", s.first_mismatches);
    assert!(s.argmax_agreement.unwrap() >= min_agreement);
}

#[test]
fn three_layer_keras_default_precision() {
    float_model("three_layer_keras", 0.95, false);
}

#[test]
fn two_layer_keras_default_precision() {
    // One sigmoid output: argmax is trivial; max |Δ| is the figure that matters (printed).
    float_model("two_layer_keras", 1.0, true);
}
