//! Exports that used to be refused at the door (issue 20): a batch axis baked into the input
//! (found on its own, or given with `--input-shape`), old opsets (1–6) upgraded on import and
//! opset 23, QONNX's channels-last ops, Resize/Upsample in nearest mode (a tiny U-Net), and
//! refusals grouped by op kind. Each model is built here, compared with onnxruntime or qonnx's
//! executor (the interpreter exactly, on quantized or exactly representable data) and
//! co-simulated.

use crate::common::*;
use prost::Message;
use std::path::Path;
use tachyon_common::onnx_builder::{Attr, GraphBuilder, QONNX_DOMAIN};
use tachyon_driver::project::build;
use tachyon_frontend::InputShape;
use tachyon_quantize::{interp, Config};

/// Random values on the 2^-`frac` grid in ±`range`.
fn grid(r: &mut Lcg, n: usize, range: i64, frac: i32) -> Vec<f32> {
    (0..n).map(|_| r.int(-range, range) as f32 * 2f32.powi(-frac)).collect()
}

/// The interpreter on each row of `xs` equals `want` (one row per event) exactly.
fn assert_interpreter_equals(
    model: &Path,
    import: &tachyon_frontend::ImportOptions,
    cfg: &Config,
    xs: &[Vec<f32>],
    want: &[Vec<f32>],
) {
    let g = tachyon_frontend::load_model_with(model, import).unwrap();
    let m = tachyon_quantize::lower(&g, cfg).unwrap();
    assert_eq!(xs.len(), want.len());
    for (x, w) in xs.iter().zip(want) {
        let x: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let got: Vec<f32> = interp::evaluate(&m, &x).unwrap().iter().map(|&v| v as f32).collect();
        assert_eq!(&got, w, "{}: x = {x:?}", model.display());
    }
}

// ---------------------------------------------------------------- batch axis in the input

/// A quantized MLP 16 → 8 → 4 whose input is `[batch, 16]` (every op works row by row);
/// with `mix`, a ReduceSum over axis 0 at the end mixes the events.
fn batch_mlp(batch: i64, mix: bool) -> Vec<u8> {
    let mut r = Lcg(11);
    let mut g = GraphBuilder::new("batch_mlp");
    let x = g.input("x", &[batch, 16]);
    g.output("y", &[if mix { 1 } else { batch }, 4]);
    let xq = g.quant(&x, "xq", 1.0 / 16.0, 0.0, 8.0, true, false, "ROUND");
    let w1 = g.initializer_f32("w1", &[16, 8], &grid(&mut r, 128, 12, 3));
    let b1 = g.initializer_f32("b1", &[8], &grid(&mut r, 8, 16, 4));
    let h = g.node("MatMul", "", "fc1", &[&xq, &w1], &["h"], vec![]);
    let h = g.node("Add", "", "fc1_bias", &[&h, &b1], &["hb"], vec![]);
    let h = g.node("Relu", "", "relu1", &[&h], &["hr"], vec![]);
    let h = g.quant(&h, "hq", 1.0 / 8.0, 0.0, 8.0, false, false, "ROUND");
    let w2 = g.initializer_f32("w2", &[8, 4], &grid(&mut r, 32, 12, 3));
    let y = g.node("MatMul", "", "fc2", &[&h, &w2], &["o"], vec![]);
    if mix {
        let yq = g.quant(&y, "oq", 1.0 / 4.0, 0.0, 10.0, true, false, "ROUND");
        let axes = g.initializer_i64("axes", &[1], &[0]);
        g.node("ReduceSum", "", "events_sum", &[&yq, &axes], &["y"], vec![Attr::int("keepdims", 1)]);
    } else {
        g.node("Quant", QONNX_DOMAIN, "oq", &[&y, "hq_s", "hq_z", "hq_b"], &["y"], vec![Attr::int("signed", 1)]);
    }
    g.build(&[("", 13), (QONNX_DOMAIN, 1)]).encode_to_vec()
}

#[test]
fn a_batch_axis_in_the_input_is_taken_out_and_matches_qonnx() {
    let dir = scratch("import_door_batch");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("batch64.onnx");
    std::fs::write(&path, batch_mlp(64, false)).unwrap();
    let g = tachyon_frontend::load_model(&path).unwrap();
    assert_eq!(g.value(g.inputs[0]).shape, Some(vec![1, 16]));
    assert_eq!(
        g.input_notes[0].to_string(),
        "input 'x' has shape [64, 16]: axis 0 taken as the batch, the design takes one [1, 16] event per clock \
         (--input-shape overrides this)"
    );
    // The reference runs the file as it is: one call of 64 events.
    let mut r = Lcg(5);
    let events: Vec<Vec<f32>> = (0..128).map(|_| grid(&mut r, 16, 40, 3)).collect();
    let flat: Vec<f32> = events.iter().flatten().copied().collect();
    if let Some(want) = reference_outputs(&path, &flat, 64 * 16, Reference::Qonnx) {
        let want: Vec<Vec<f32>> =
            want.iter().flat_map(|b| b.chunks(4).map(<[f32]>::to_vec).collect::<Vec<_>>()).collect();
        assert_interpreter_equals(&path, &Default::default(), &Config::default(), &events, &want);
    }
    // The data set's size as the batch: the same design as the batch of 64.
    let huge = dir.join("batch789444.onnx");
    std::fs::write(&huge, batch_mlp(789444, false)).unwrap();
    let out = dir.join("huge");
    let b = build(&build_options(&huge, &out)).unwrap();
    assert!(b.input_notes[0].to_string().contains("[789444, 16]: axis 0 taken as the batch"), "{}", b.input_notes[0]);
    let b64 = tachyon_driver::project::compile(&path, &Config::default(), 5.0, "tachyon_top", None).unwrap();
    assert_eq!(b.verilog, b64.verilog);
    cosim_random(&out, 300);
}

#[test]
fn input_shape_overrides_the_file_and_is_kept_in_the_project() {
    let dir = scratch("import_door_input_shape");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("batch8.onnx");
    std::fs::write(&path, batch_mlp(8, false)).unwrap();
    // Taken as the batch on its own, or all 8 rows at once when asked.
    let whole = tachyon_frontend::ImportOptions { input_shapes: vec!["8,16".parse().unwrap()] };
    let g = tachyon_frontend::load_model_with(&path, &whole).unwrap();
    assert_eq!(g.value(g.inputs[0]).shape, Some(vec![8, 16]));
    assert!(g.input_notes.is_empty(), "the file's own shape: nothing to say");
    let one = tachyon_frontend::ImportOptions { input_shapes: vec!["x=1,16".parse().unwrap()] };
    let g = tachyon_frontend::load_model_with(&path, &one).unwrap();
    assert_eq!(g.input_notes[0].to_string(), "input 'x' has shape [8, 16] in the file; --input-shape makes it [1, 16]");
    let out = dir.join("prj");
    let mut o = build_options(&path, &out);
    o.input_shapes = vec![InputShape { name: None, dims: vec![8, 16] }];
    let b = build(&o).unwrap();
    assert_eq!(b.qmodel.prologue.input_shape, vec![8, 16]);
    let (m, _) = tachyon_driver::project::load(&out).unwrap();
    assert_eq!(m.input_shapes, o.input_shapes, "the manifest keeps --input-shape for sim");
    let text = std::fs::read_to_string(out.join("tachyon.json")).unwrap();
    assert!(text.contains("\"input_shapes\""), "{text}");
    // A name that is not an input is refused, naming the inputs.
    let bad = tachyon_frontend::ImportOptions { input_shapes: vec!["y=1,16".parse().unwrap()] };
    let e = tachyon_frontend::load_model_with(&path, &bad).unwrap_err().to_string();
    assert!(e.contains("--input-shape names the input 'y'") && e.contains("[\"x\"]"), "{e}");
}

#[test]
fn a_model_that_mixes_events_keeps_its_shape_and_the_error_says_what_to_do() {
    let dir = scratch("import_door_mix");
    std::fs::create_dir_all(&dir).unwrap();
    // A small "batch" the model sums over is part of the event: kept, and it compiles.
    let small = dir.join("mix8.onnx");
    std::fs::write(&small, batch_mlp(8, true)).unwrap();
    let g = tachyon_frontend::load_model(&small).unwrap();
    assert_eq!(g.value(g.inputs[0]).shape, Some(vec![8, 16]));
    assert!(g.input_notes.is_empty());
    // A data set's worth of events the model sums over cannot be compiled: the error says
    // what to do.
    let huge = dir.join("mix789444.onnx");
    std::fs::write(&huge, batch_mlp(789444, true)).unwrap();
    let e = tachyon_frontend::load_model(&huge).unwrap_err().to_string();
    assert!(e.contains("[789444, 16] is too large") && e.contains("--input-shape"), "{e}");
    // With the shape of one event it compiles.
    let one = tachyon_frontend::ImportOptions { input_shapes: vec!["1,16".parse().unwrap()] };
    let g = tachyon_frontend::load_model_with(&huge, &one).unwrap();
    tachyon_quantize::lower(&g, &Config::default()).unwrap();
}
