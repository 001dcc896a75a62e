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

/// A signed Quant of `x` into `y` reusing the scale, zero point and bit width initializers of
/// other quantizers (`{s}_s`, `{z}_z`, `{b}_b` as [`GraphBuilder::quant`] names them).
fn quant_reusing(g: &mut GraphBuilder, x: &str, y: &str, s: &str, z: &str, b: &str) -> String {
    let (s, z, b) = (format!("{s}_s"), format!("{z}_z"), format!("{b}_b"));
    let attrs = vec![Attr::int("narrow", 0), Attr::string("rounding_mode", "ROUND"), Attr::int("signed", 1)];
    g.node("Quant", QONNX_DOMAIN, y, &[x, &s, &z, &b], &[y], attrs)
}

/// Adds float32 `value_info` of the given shapes to the model (as exporters and qonnx's
/// transforms leave them; the reference tools need some).
fn typed(m: &mut tachyon_frontend::proto::ModelProto, shapes: &[(&str, &[i64])]) {
    use tachyon_frontend::proto::{Dimension, DimensionValue, TypeValue};
    let graph = m.graph.as_mut().unwrap();
    for (name, dims) in shapes {
        let mut vi = graph.input[0].clone();
        vi.name = name.to_string();
        if let Some(TypeValue::TensorType(tt)) = vi.r#type.as_mut().and_then(|t| t.value.as_mut()) {
            tt.elem_type = tachyon_frontend::proto::data_type::FLOAT;
            tt.shape.as_mut().unwrap().dim = dims
                .iter()
                .map(|&d| Dimension { value: Some(DimensionValue::DimValue(d)), denotation: String::new() })
                .collect();
        }
        graph.value_info.push(vi);
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
        quant_reusing(&mut g, &y, "y", "hq", "hq", "hq");
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

fn whole_shape() -> tachyon_frontend::ImportOptions {
    tachyon_frontend::ImportOptions { input_shapes: vec!["8,16".parse().unwrap()] }
}

/// The command line: `build` says what it took as the batch; `--input-shape` is kept in the
/// project, so `sim --inputs` (which reads the stored model for the per-layer errors) needs
/// it no more; `inspect` takes it too.
#[test]
fn the_cli_says_what_it_took_and_keeps_input_shape() {
    let dir = scratch("import_door_cli");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("batch8.onnx");
    std::fs::write(&path, batch_mlp(8, false)).unwrap();
    let tachyon = |args: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tachyon")).args(args).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr))
    };
    let os = |s: &str| std::ffi::OsString::from(s);
    let (p, auto, whole) = (path.as_os_str().to_owned(), dir.join("auto"), dir.join("whole"));
    let (ok, text) = tachyon(&[&os("build"), &p, &os("-o"), auto.as_os_str()]);
    assert!(ok && text.contains("note: input 'x' has shape [8, 16]: axis 0 taken as the batch"), "{text}");
    let (ok, text) = tachyon(&[&os("build"), &p, &os("--input-shape"), &os("x=8,16"), &os("-o"), whole.as_os_str()]);
    assert!(ok && !text.contains("taken as the batch"), "{text}");
    let (ok, text) = tachyon(&[&os("inspect"), &p, &os("--input-shape"), &os("2,16")]);
    assert!(ok && text.contains("--input-shape makes it [2, 16]"), "{text}");
    let (ok, text) =
        tachyon(&[&os("build"), &p, &os("--input-shape"), &os("1,0"), &os("-o"), dir.join("bad").as_os_str()]);
    assert!(!ok && text.contains("is not a shape"), "{text}");
    // decompose takes it too: the decomposed model declares the shape given, and builds.
    let td = dir.join("whole.td.onnx");
    let (ok, text) = tachyon(&[&os("decompose"), &p, &os("--input-shape"), &os("x=8,16"), &os("-o"), td.as_os_str()]);
    assert!(ok, "{text}");
    let model = <tachyon_frontend::proto::ModelProto as prost::Message>::decode(std::fs::read(&td).unwrap().as_slice());
    let declared = format!("{:?}", model.unwrap().graph.unwrap().input[0].r#type);
    assert!(declared.contains("DimValue(8)") && declared.contains("DimValue(16)"), "{declared}");
    let g = tachyon_frontend::load_model_with(&td, &whole_shape()).unwrap();
    assert!(g.input_notes.is_empty(), "the file says [8, 16] itself");
    let (ok, text) = tachyon(&[
        &os("build"),
        &p,
        &os("--decompose"),
        &os("0.05"),
        &os("--input-shape"),
        &os("8,16"),
        &os("-o"),
        dir.join("whole_td").as_os_str(),
    ]);
    assert!(ok && !text.contains("taken as the batch"), "{text}");
    let (ok, text) = tachyon(&[&os("decompose"), &p, &os("--input-shape"), &os("y=1,16"), &os("-o"), td.as_os_str()]);
    assert!(!ok && text.contains("batch8.onnx") && text.contains("--input-shape names the input 'y'"), "{text}");
    if !have("verilator") {
        return;
    }
    // Two events of 8 rows for the project that takes all 8 at once.
    let mut r = Lcg(41);
    let x = grid(&mut r, 2 * 128, 40, 3);
    let npy = dir.join("x.npy");
    tachyon_common::npy::write_npy_f32(&npy, &[2, 8, 16], &x).unwrap();
    let (ok, text) = tachyon(&[&os("sim"), whole.as_os_str(), &os("--inputs"), npy.as_os_str()]);
    assert!(ok && text.contains("mismatches   0"), "{text}");
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

// ---------------------------------------------------------------- opsets 1–6 and 23

/// The configuration of the float model of [`old_opset_model`]: types wide enough that nothing
/// rounds, so the interpreter must equal onnxruntime exactly.
const WIDE: &str = r#"{ "input": "fixed<16,6>",
  "default": { "weight": "fixed<16,6>", "bias": "fixed<16,6>", "result": "fixed<24,10>" } }"#;

/// x[1,2,4,4] → BatchNormalization → Dropout → Relu → Add (per channel) → Reshape [1,32] → Gemm (32 → 4) → Add →
/// Cast, written the way opset `opset` spells each op: `consumed_inputs` below 6, `is_test`
/// below 7, Reshape's `shape` attribute below 5, Gemm and Add with `broadcast=1` below 7;
/// initializers listed as graph inputs (IR 3).
fn old_opset_model(opset: i64) -> Vec<u8> {
    let mut r = Lcg(21);
    let mut g = GraphBuilder::new("old_opset");
    let x = g.input("x", &[1, 2, 4, 4]);
    g.output("y", &[1, 4]);
    let inits = [("s", vec![1.0, 2.0]), ("b", vec![0.5, -1.0]), ("mean", vec![0.0, 1.0]), ("var", vec![4.0, 0.25])];
    let mut names = vec![];
    for (n, v) in &inits {
        names.push(g.initializer_f32(n, &[2], v));
    }
    let mut bn_attrs = vec![Attr::float("epsilon", 0.0), Attr::int("is_test", 1)];
    if opset < 6 {
        bn_attrs.push(Attr::ints("consumed_inputs", &[0, 0, 0, 1, 1]));
    }
    let bn =
        g.node("BatchNormalization", "", "bn", &[&x, &names[0], &names[1], &names[2], &names[3]], &["bn"], bn_attrs);
    let d = g.node("Dropout", "", "drop", &[&bn], &["d"], vec![Attr::int("is_test", 1), Attr::float("ratio", 0.3)]);
    let relu = g.node("Relu", "", "relu", &[&d], &["r"], vec![]);
    // A per-channel bias with broadcast=1 (without `axis`: ONNX's converter aligns B wrongly
    // when it is given, see `what_cannot_be_upgraded_is_refused_naming_the_node`).
    let chb = g.initializer_f32("chb", &[2, 1, 1], &[0.25, -0.5]);
    let relu = g.node("Add", "", "chan_bias", &[&relu, &chb], &["rb"], vec![Attr::int("broadcast", 1)]);
    let flat = if opset < 5 {
        g.node("Reshape", "", "flatten", &[&relu], &["flat"], vec![Attr::ints("shape", &[1, 32])])
    } else {
        let s = g.initializer_i64("flat_shape", &[2], &[1, 32]);
        g.node("Reshape", "", "flatten", &[&relu, &s], &["flat"], vec![])
    };
    let w = g.initializer_f32("W", &[4, 32], &grid(&mut r, 128, 12, 3));
    let c = g.initializer_f32("C", &[4], &grid(&mut r, 4, 8, 2));
    let bias = g.initializer_f32("bias2", &[4], &grid(&mut r, 4, 8, 2));
    let broadcast = if opset < 7 { vec![Attr::int("broadcast", 1)] } else { vec![] };
    let mut gemm_attrs = broadcast.clone();
    gemm_attrs.push(Attr::int("transB", 1));
    let fc = g.node("Gemm", "", "fc", &[&flat, &w, &c], &["fc"], gemm_attrs);
    let add = g.node("Add", "", "fc_bias", &[&fc, &bias], &["add"], broadcast);
    // (Cast of opsets < 6 has no adapter in ONNX's converter: its type names are checked apart.)
    if opset < 6 {
        g.node("Identity", "", "cast", &[&add], &["y"], vec![]);
    } else {
        g.node("Cast", "", "cast", &[&add], &["y"], vec![Attr::int("to", 1)]);
    }
    let mut m = g.build(&[("", opset)]);
    m.ir_version = 3;
    // Initializers listed as graph inputs (IR < 4), and the intermediate shapes an exporter of
    // the time wrote: ONNX's converter needs both.
    let graph = m.graph.as_mut().unwrap();
    for t in graph.initializer.clone() {
        let mut vi = graph.input[0].clone();
        vi.name = t.name.clone();
        if let Some(tachyon_frontend::proto::TypeValue::TensorType(tt)) =
            vi.r#type.as_mut().and_then(|t| t.value.as_mut())
        {
            tt.elem_type = t.data_type;
            tt.shape.as_mut().unwrap().dim = t
                .dims
                .iter()
                .map(|&d| tachyon_frontend::proto::Dimension {
                    value: Some(tachyon_frontend::proto::DimensionValue::DimValue(d)),
                    denotation: String::new(),
                })
                .collect();
        }
        graph.input.push(vi);
    }
    typed(
        &mut m,
        &[
            ("bn", &[1, 2, 4, 4]),
            ("d", &[1, 2, 4, 4]),
            ("r", &[1, 2, 4, 4]),
            ("rb", &[1, 2, 4, 4]),
            ("flat", &[1, 32]),
            ("fc", &[1, 4]),
            ("add", &[1, 4]),
        ],
    );
    m.encode_to_vec()
}

/// `model` converted to opset `to` by ONNX's own version converter (tests/reference/
/// upgrade_opset.py): what onnxruntime (which runs opsets ≥ 7 only) can run as the reference.
fn upgraded(model: &Path, to: i64) -> Option<std::path::PathBuf> {
    let py = reference_python()?;
    let out = model.with_extension(format!("opset{to}.onnx"));
    let status = std::process::Command::new(py)
        .arg(repo().join("tests/reference/upgrade_opset.py"))
        .args([model.as_os_str(), out.as_os_str(), std::ffi::OsStr::new(&to.to_string())])
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    Some(out)
}

#[test]
fn old_opsets_are_upgraded_and_match_onnxruntime() {
    let dir = scratch("import_door_old_opsets");
    std::fs::create_dir_all(&dir).unwrap();
    let mut r = Lcg(3);
    let xs: Vec<Vec<f32>> = (0..100).map(|_| grid(&mut r, 32, 32, 4)).collect();
    let flat: Vec<f32> = xs.iter().flatten().copied().collect();
    for opset in [4, 6] {
        let path = dir.join(format!("opset{opset}.onnx"));
        std::fs::write(&path, old_opset_model(opset)).unwrap();
        let g = tachyon_frontend::load_model(&path).unwrap_or_else(|e| panic!("opset {opset}: {e}"));
        assert_eq!(g.opset, opset);
        let Some(reference) = upgraded(&path, 13) else { return };
        let Some(want) = reference_outputs(&reference, &flat, 32, Reference::Ort) else { return };
        assert_interpreter_equals(&path, &Default::default(), &Config::parse(WIDE).unwrap(), &xs, &want);
    }
    let path = dir.join("opset6.onnx");
    let out = dir.join("prj");
    let mut o = build_options(&path, &out);
    let cfg = dir.join("wide.json");
    std::fs::write(&cfg, WIDE).unwrap();
    o.config = Some(cfg);
    build(&o).unwrap();
    cosim_random(&out, 300);
}

#[test]
fn what_cannot_be_upgraded_is_refused_naming_the_node() {
    // Caffe2's bias: B aligned with A from `axis` on (A's rank from the graph input), as the
    // operator's opset-6 definition says. (ONNX's version converter 1.23 unsqueezes B to
    // [2, 1, 1, 1] here, one axis too many, so it is no reference for this form.)
    let legacy = |b_const: bool| {
        let mut g = GraphBuilder::new("legacy");
        let x = g.input("x", &[1, 2, 2, 2]);
        g.output("y", &[1, 2, 2, 2]);
        let mut b = g.initializer_f32("b", &[2], &[1.0, 2.0]);
        if !b_const {
            b = g.node("Identity", "", "b_copy", &[&b], &["b_copy"], vec![]);
        }
        g.node("Add", "", "caffe_bias", &[&x, &b], &["y"], vec![Attr::int("broadcast", 1), Attr::int("axis", 1)]);
        tachyon_frontend::decode_model(&g.build(&[("", 6)]).encode_to_vec(), Path::new("legacy.onnx")).unwrap()
    };
    let g = legacy(true);
    let x = tachyon_frontend::Tensor::new(tachyon_frontend::DType::F32, vec![1, 2, 2, 2], vec![0.0; 8]);
    let y = tachyon_frontend::eval::run_float(&g, &[x]).unwrap();
    assert_eq!(y[0].data, [1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0], "B along the channels");
    // A B computed by a node cannot be aligned before the shapes are known.
    let un = legacy(false).unsupported();
    assert_eq!(un.len(), 1);
    assert_eq!(un[0].node.name, "caffe_bias");
    assert!(un[0].reason.contains("broadcast=1 and axis=1") && un[0].reason.contains("value_info"), "{}", un[0].reason);
    // Cast names its type before opset 6.
    for (to, ok) in [("FLOAT", true), ("NOPE", false)] {
        let mut g = GraphBuilder::new("cast");
        let x = g.input("x", &[1, 2]);
        g.output("y", &[1, 2]);
        g.node("Cast", "", "cast5", &[&x], &["y"], vec![Attr::string("to", to)]);
        let r = tachyon_frontend::decode_model(&g.build(&[("", 5)]).encode_to_vec(), Path::new("cast.onnx"));
        match (r, ok) {
            (Ok(g), true) => assert_eq!(g.nodes[0].op, tachyon_frontend::Op::Cast { to: 1 }),
            (Err(e), false) => assert!(e.to_string().contains("'NOPE', which is not an ONNX data type name"), "{e}"),
            (r, _) => panic!("Cast to {to}: {:?}", r.map(|g| g.nodes[0].op.clone())),
        }
    }
    // Batch norm in training mode (is_test = 0, the default before opset 7).
    let mut g = GraphBuilder::new("train");
    let x = g.input("x", &[1, 2]);
    g.output("y", &[1, 2]);
    let p: Vec<String> = ["s", "bb", "m", "v"].iter().map(|n| g.initializer_f32(n, &[2], &[1.0, 1.0])).collect();
    g.node("BatchNormalization", "", "bn_train", &[&x, &p[0], &p[1], &p[2], &p[3]], &["y"], vec![]);
    let e = tachyon_frontend::decode_model(&g.build(&[("", 6)]).encode_to_vec(), Path::new("train.onnx"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("node 'bn_train' (BatchNormalization)") && e.contains("is_test=0"), "{e}");
}

/// A quantized CNN written with opset 23 (Keras 3's export): Conv → Relu → Quant → Dropout →
/// Flatten → MatMul → Quant, against qonnx's executor (which runs the standard ops through
/// onnxruntime at opset 23).
#[test]
fn opset_23_matches_qonnx_and_cosimulates() {
    let dir = scratch("import_door_opset23");
    std::fs::create_dir_all(&dir).unwrap();
    let mut r = Lcg(8);
    let mut g = GraphBuilder::new("opset23");
    let x = g.input("x", &[1, 1, 6, 6]);
    g.output("y", &[1, 3]);
    let xq = g.quant(&x, "xq", 1.0 / 8.0, 0.0, 6.0, true, false, "ROUND");
    let w = g.initializer_f32("cw", &[2, 1, 3, 3], &grid(&mut r, 18, 8, 2));
    let c = g.node("Conv", "", "conv", &[&xq, &w], &["c"], vec![Attr::ints("kernel_shape", &[3, 3])]);
    let c = g.node("Relu", "", "relu", &[&c], &["cr"], vec![]);
    let c = g.quant(&c, "cq", 1.0 / 4.0, 0.0, 6.0, false, false, "ROUND");
    let c = g.node("Dropout", "", "drop", &[&c], &["cd"], vec![]);
    let f = g.node("Flatten", "", "flat", &[&c], &["f"], vec![]);
    let w2 = g.initializer_f32("fw", &[32, 3], &grid(&mut r, 96, 8, 3));
    let y = g.node("MatMul", "", "fc", &[&f, &w2], &["fc"], vec![]);
    quant_reusing(&mut g, &y, "y", "cq", "cq", "xq");
    let path = dir.join("opset23.onnx");
    std::fs::write(&path, g.build(&[("", 23), (QONNX_DOMAIN, 1)]).encode_to_vec()).unwrap();
    let xs: Vec<Vec<f32>> = (0..100).map(|_| grid(&mut r, 36, 40, 3)).collect();
    let flat: Vec<f32> = xs.iter().flatten().copied().collect();
    if let Some(want) = reference_outputs(&path, &flat, 36, Reference::Qonnx) {
        assert_interpreter_equals(&path, &Default::default(), &Config::default(), &xs, &want);
    }
    let out = dir.join("prj");
    build(&build_options(&path, &out)).unwrap();
    cosim_random(&out, 300);
}

// ---------------------------------------------------------------- channels-last QONNX

const CHANNELS_LAST: &str = "qonnx.custom_op.channels_last";

/// x NHWC [1,6,6,2] → Quant → cl:Conv (weights [M, kh, kw, C], bias) → cl:BatchNormalization →
/// Relu → Quant → cl:MaxPool 2×2 → Reshape [1, 27] → MatMul → Quant, as qonnx's
/// channels-last transform writes it.
fn channels_last_model() -> Vec<u8> {
    let mut r = Lcg(13);
    let mut g = GraphBuilder::new("channels_last");
    let x = g.input("x", &[1, 6, 6, 2]);
    g.output("y", &[1, 4]);
    let xq = g.quant(&x, "xq", 1.0 / 8.0, 0.0, 8.0, true, false, "ROUND");
    let w = g.initializer_f32("cw", &[3, 3, 3, 2], &grid(&mut r, 54, 8, 3));
    let b = g.initializer_f32("cb", &[3], &grid(&mut r, 3, 8, 3));
    let window = |k: i64, pads: i64, stride: i64| {
        vec![
            Attr::ints("kernel_shape", &[k, k]),
            Attr::ints("pads", &[pads; 4]),
            Attr::ints("strides", &[stride, stride]),
            Attr::ints("dilations", &[1, 1]),
        ]
    };
    let mut conv_attrs = window(3, 1, 1);
    conv_attrs.push(Attr::int("group", 1));
    let c = g.node("Conv", CHANNELS_LAST, "conv", &[&xq, &w, &b], &["c"], conv_attrs);
    let bn: Vec<String> =
        [("s", [1.25f32, 0.75, -0.6]), ("bb", [0.1, -0.2, 0.3]), ("m", [0.05, 0.4, -0.1]), ("v", [0.8, 1.7, 0.33])]
            .iter()
            .map(|(n, v)| g.initializer_f32(n, &[3], v))
            .collect();
    let c = g.node(
        "BatchNormalization",
        CHANNELS_LAST,
        "bn",
        &[&c, &bn[0], &bn[1], &bn[2], &bn[3]],
        &["bn"],
        vec![Attr::float("epsilon", 1e-3)],
    );
    let c = g.node("Relu", "", "relu", &[&c], &["r"], vec![]);
    let c = g.quant(&c, "rq", 1.0 / 4.0, 0.0, 6.0, false, false, "ROUND");
    let mut pool = window(2, 0, 2);
    pool.truncate(3);
    let c = g.node("MaxPool", CHANNELS_LAST, "pool", &[&c], &["p"], pool);
    let s = g.initializer_i64("flat", &[2], &[1, 27]);
    let f = g.node("Reshape", "", "flatten", &[&c, &s], &["f"], vec![]);
    let w2 = g.initializer_f32("fw", &[27, 4], &grid(&mut r, 108, 8, 3));
    let y = g.node("MatMul", "", "fc", &[&f, &w2], &["fc"], vec![]);
    quant_reusing(&mut g, &y, "y", "rq", "rq", "xq");
    // qonnx runs a channels-last op as the standard op of its domain's opset version.
    let mut m = g.build(&[("", 13), (QONNX_DOMAIN, 1), (CHANNELS_LAST, 13)]);
    // qonnx's shape inference needs the shapes of the channels-last ops' inputs (its own
    // transform leaves them in the model).
    typed(&mut m, &[("xq", &[1, 6, 6, 2]), ("c", &[1, 6, 6, 3]), ("rq", &[1, 6, 6, 3])]);
    m.encode_to_vec()
}

#[test]
fn channels_last_ops_match_qonnx_and_cosimulate() {
    let dir = scratch("import_door_channels_last");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cl.onnx");
    std::fs::write(&path, channels_last_model()).unwrap();
    let g = tachyon_frontend::load_model(&path).unwrap();
    assert!(g.unsupported().is_empty());
    assert!(g.nodes.iter().any(|n| n.name == "conv" && n.op_type == "Conv" && n.domain.is_empty()));
    let mut r = Lcg(17);
    let xs: Vec<Vec<f32>> = (0..100).map(|_| grid(&mut r, 72, 80, 4)).collect();
    let flat: Vec<f32> = xs.iter().flatten().copied().collect();
    if let Some(want) = reference_outputs(&path, &flat, 72, Reference::Qonnx) {
        assert_interpreter_equals(&path, &Default::default(), &Config::default(), &xs, &want);
    }
    let out = dir.join("prj");
    build(&build_options(&path, &out)).unwrap();
    cosim_random(&out, 300);
}

// ---------------------------------------------------------------- Resize / Upsample

/// Adds an upsampling node reading the given tensor; returns its output.
type Upsampling = dyn Fn(&mut GraphBuilder, &str) -> String;

/// A tiny U-Net: x[1,1,8,8] → Quant → Conv 3×3 (2 ch) → Relu → Quant (the skip) → MaxPool 2×2 →
/// Conv 3×3 → Relu → Quant → Resize ×2 (nearest) → Concat with the skip → Conv 3×3 (1 ch) →
/// Quant. `resize` writes the upsampling node, in a model of default-domain `opset`.
fn unet(resize: &Upsampling, opset: i64) -> Vec<u8> {
    let mut r = Lcg(29);
    let mut g = GraphBuilder::new("unet");
    let x = g.input("x", &[1, 1, 8, 8]);
    g.output("y", &[1, 1, 8, 8]);
    let conv = |g: &mut GraphBuilder, r: &mut Lcg, name: &str, x: &str, cin: usize, cout: usize| {
        let w = g.initializer_f32(&format!("{name}_w"), &[cout, cin, 3, 3], &grid(r, cout * cin * 9, 6, 3));
        g.node("Conv", "", name, &[x, &w], &[&format!("{name}_out")], vec![Attr::ints("pads", &[1, 1, 1, 1])])
    };
    let xq = g.quant(&x, "xq", 1.0 / 8.0, 0.0, 6.0, true, false, "ROUND");
    let c = conv(&mut g, &mut r, "enc", &xq, 1, 2);
    let c = g.node("Relu", "", "enc_relu", &[&c], &["enc_r"], vec![]);
    let skip = g.quant(&c, "skip", 1.0 / 4.0, 0.0, 5.0, false, false, "ROUND");
    let p = g.node(
        "MaxPool",
        "",
        "down",
        &[&skip],
        &["pooled"],
        vec![Attr::ints("kernel_shape", &[2, 2]), Attr::ints("strides", &[2, 2])],
    );
    let c = conv(&mut g, &mut r, "mid", &p, 2, 2);
    let c = g.node("Relu", "", "mid_relu", &[&c], &["mid_r"], vec![]);
    let c = g.quant(&c, "midq", 1.0 / 4.0, 0.0, 5.0, false, false, "ROUND");
    let up = resize(&mut g, &c);
    let cat = g.node("Concat", "", "skip_cat", &[&up, &skip], &["cat"], vec![Attr::int("axis", 1)]);
    let c = conv(&mut g, &mut r, "dec", &cat, 4, 1);
    quant_reusing(&mut g, &c, "y", "midq", "xq", "xq");
    g.build(&[("", opset), (QONNX_DOMAIN, 1)]).encode_to_vec()
}

#[test]
fn a_tiny_unet_with_resize_matches_qonnx_and_cosimulates() {
    let dir = scratch("import_door_unet");
    std::fs::create_dir_all(&dir).unwrap();
    let by_scales = |g: &mut GraphBuilder, x: &str| {
        let roi = g.initializer_f32("roi", &[0], &[]);
        let s = g.initializer_f32("scales", &[4], &[1.0, 1.0, 2.0, 2.0]);
        g.node("Resize", "", "up", &[x, &roi, &s], &["up"], vec![Attr::string("mode", "nearest")])
    };
    let by_sizes = |g: &mut GraphBuilder, x: &str| {
        let sizes = g.initializer_i64("sizes", &[4], &[1, 2, 8, 8]);
        g.node(
            "Resize",
            "",
            "up",
            &[x, "", "", &sizes],
            &["up"],
            vec![
                Attr::string("mode", "nearest"),
                Attr::string("coordinate_transformation_mode", "asymmetric"),
                Attr::string("nearest_mode", "floor"),
            ],
        )
    };
    let upsample = |g: &mut GraphBuilder, x: &str| {
        let s = g.initializer_f32("scales", &[4], &[1.0, 1.0, 2.0, 2.0]);
        g.node("Upsample", "", "up", &[x, &s], &["up"], vec![Attr::string("mode", "nearest")])
    };
    let mut r = Lcg(31);
    let xs: Vec<Vec<f32>> = (0..60).map(|_| grid(&mut r, 64, 40, 3)).collect();
    let flat: Vec<f32> = xs.iter().flatten().copied().collect();
    let upsample7 = |g: &mut GraphBuilder, x: &str| {
        let attrs = vec![
            Attr::string("mode", "nearest"),
            Attr(tachyon_frontend::proto::AttributeProto {
                name: "scales".into(),
                r#type: tachyon_frontend::proto::attribute_type::FLOATS,
                floats: vec![1.0, 1.0, 2.0, 2.0],
                ..Default::default()
            }),
        ];
        g.node("Upsample", "", "up", &[x], &["up"], attrs)
    };
    let forms: [(&str, &Upsampling, i64); 4] = [
        ("scales", &by_scales, 13),
        ("sizes", &by_sizes, 19),
        ("upsample", &upsample, 9),
        ("upsample7", &upsample7, 7),
    ];
    let mut verilog = vec![];
    for (name, form, opset) in forms {
        let path = dir.join(format!("unet_{name}.onnx"));
        std::fs::write(&path, unet(form, opset)).unwrap();
        if let Some(want) = reference_outputs(&path, &flat, 64, Reference::Qonnx) {
            assert_interpreter_equals(&path, &Default::default(), &Config::default(), &xs, &want);
        }
        verilog.push(
            tachyon_driver::project::compile(&path, &Config::default(), 5.0, "tachyon_top", None).unwrap().verilog,
        );
    }
    // Four spellings of the same ×2 replication: the same hardware.
    assert!(verilog.iter().all(|v| v == &verilog[0]));
    let out = dir.join("prj");
    build(&build_options(dir.join("unet_scales.onnx"), &out)).unwrap();
    cosim_random(&out, 300);
    // In the stream style every layer streams: the upsampling replays the pooled rows (line
    // replay) on the skip connection's lattice, so the concatenation and the decoder stream too.
    let built = crate::cnn::check_stream("unet", &dir.join("unet_scales.onnx"), &dir, Some(64));
    let styles: Vec<(&str, &str)> =
        built.design.report.layers.iter().map(|l| (l.name.as_str(), l.style.as_str())).collect();
    assert!(styles.iter().all(|(_, s)| *s == "stream"), "{styles:?}");
    let up = built.design.report.layers.iter().find(|l| l.name == "up").unwrap();
    assert_eq!(up.pixel_interval, Some(1), "the upsampled map runs at one pixel per clock");
}

/// Line replay beyond the U-Net's ×2: an image upsampled by 3 rows × 2 columns after a 3×2
/// pool and added back to the input, and a 1-D signal upsampled ×2 after a pool and
/// concatenated with it. Both equal qonnx, stream in every layer and co-simulate with frames
/// back to back and with gaps.
#[test]
fn upsampling_by_other_factors_streams() {
    let dir = scratch("import_door_upsample_stream");
    std::fs::create_dir_all(&dir).unwrap();
    // (name, input shape, pool kernel = stride, resize scales, merge op)
    type Case<'a> = (&'a str, &'a [i64], &'a [i64], &'a [f32], &'a str);
    let cases: [Case; 2] = [
        ("image_3x2", &[1, 2, 6, 8], &[3, 2], &[1.0, 1.0, 3.0, 2.0], "Add"),
        ("signal_x2", &[1, 2, 16], &[2], &[1.0, 1.0, 2.0], "Concat"),
    ];
    for (name, shape, pool, scales, merge) in cases {
        let mut r = Lcg(41);
        let mut g = GraphBuilder::new(name);
        let x = g.input("x", shape);
        let spatial = &shape[2..];
        let out_shape: Vec<i64> = [&[1, 1][..], spatial].concat();
        g.output("y", &out_shape);
        let xq = g.quant(&x, "xq", 1.0 / 8.0, 0.0, 6.0, true, false, "ROUND");
        let p = g.node(
            "MaxPool",
            "",
            "down",
            &[&xq],
            &["pooled"],
            vec![Attr::ints("kernel_shape", pool), Attr::ints("strides", pool)],
        );
        let roi = g.initializer_f32("roi", &[0], &[]);
        let sc = g.initializer_f32("scales", &[scales.len()], scales);
        let up = g.node("Resize", "", "up", &[&p, &roi, &sc], &["up"], vec![Attr::string("mode", "nearest")]);
        let (merged, cin) = match merge {
            "Add" => (g.node("Add", "", "res", &[&up, &xq], &["merged"], vec![]), 2),
            _ => (g.node("Concat", "", "cat", &[&up, &xq], &["merged"], vec![Attr::int("axis", 1)]), 4),
        };
        let k: Vec<usize> = spatial.iter().map(|_| 3).collect();
        let w_shape: Vec<usize> = [&[1, cin][..], &k].concat();
        let spatial: Vec<usize> = spatial.iter().map(|&d| d as usize).collect();
        let n: usize = w_shape.iter().product();
        let w = g.initializer_f32("dec_w", &w_shape, &grid(&mut r, n, 6, 3));
        let pads: Vec<i64> = vec![1; 2 * spatial.len()];
        let c = g.node("Conv", "", "dec", &[&merged, &w], &["dec_out"], vec![Attr::ints("pads", &pads)]);
        g.quant(&c, "y", 1.0 / 4.0, 0.0, 8.0, true, false, "ROUND");
        let path = dir.join(format!("{name}.onnx"));
        std::fs::write(&path, g.build(&[("", 13), (QONNX_DOMAIN, 1)]).encode_to_vec()).unwrap();
        let len = shape.iter().product::<i64>() as usize;
        let xs: Vec<Vec<f32>> = (0..40).map(|_| grid(&mut r, len, 40, 3)).collect();
        let flat: Vec<f32> = xs.iter().flatten().copied().collect();
        if let Some(want) = reference_outputs(&path, &flat, len, Reference::Qonnx) {
            assert_interpreter_equals(&path, &Default::default(), &Config::default(), &xs, &want);
        }
        let pixels: usize = spatial.iter().product();
        let built = crate::cnn::check_stream(name, &path, &dir.join(name), Some(pixels));
        let styles: Vec<(&str, &str)> =
            built.design.report.layers.iter().map(|l| (l.name.as_str(), l.style.as_str())).collect();
        assert!(styles.iter().all(|(_, s)| *s == "stream"), "{name}: {styles:?}");
    }
}

/// Resize's coordinate modes against onnxruntime on a float model (pure data movement: exact);
/// the 1.5 scales put coordinates exactly halfway, where the nearest modes differ.
#[test]
fn resize_modes_match_onnxruntime() {
    let dir = scratch("import_door_resize_modes");
    std::fs::create_dir_all(&dir).unwrap();
    let cases: [(&str, &str, &[f32], &[i64]); 6] = [
        ("half_pixel", "round_prefer_floor", &[1.0, 1.0, 2.0, 1.5], &[]),
        ("asymmetric", "floor", &[1.0, 1.0, 3.0, 2.0], &[]),
        ("align_corners", "round_prefer_ceil", &[], &[1, 1, 7, 5]),
        ("pytorch_half_pixel", "ceil", &[1.0, 1.0, 1.5, 2.5], &[]),
        ("half_pixel", "round_prefer_ceil", &[1.0, 1.0, 0.5, 1.5], &[]),
        ("half_pixel_symmetric", "round_prefer_floor", &[], &[1, 1, 5, 4]),
    ];
    let mut r = Lcg(37);
    let xs: Vec<Vec<f32>> = (0..20).map(|_| grid(&mut r, 12, 64, 4)).collect();
    let flat: Vec<f32> = xs.iter().flatten().copied().collect();
    for (k, (coord, nearest, scales, sizes)) in cases.iter().enumerate() {
        let mut g = GraphBuilder::new("resize");
        let x = g.input("x", &[1, 1, 3, 4]);
        let mut ins = vec![x.clone(), String::new()];
        if scales.is_empty() {
            ins.push(String::new());
            ins.push(g.initializer_i64("sizes", &[4], sizes));
        } else {
            ins.push(g.initializer_f32("scales", &[4], scales));
        }
        let refs: Vec<&str> = ins.iter().map(String::as_str).collect();
        let attrs = vec![
            Attr::string("mode", "nearest"),
            Attr::string("coordinate_transformation_mode", coord),
            Attr::string("nearest_mode", nearest),
        ];
        g.node("Resize", "", "resize", &refs, &["r"], attrs);
        // A Relu keeps a layer in the design (a Resize alone is wiring only).
        g.node("Relu", "", "relu", &["r"], &["y"], vec![]);
        let dims: Vec<i64> = if scales.is_empty() {
            sizes.to_vec()
        } else {
            [1, 1, (3.0 * scales[2]) as i64, (4.0 * scales[3]) as i64].to_vec()
        };
        g.output("y", &dims);
        let path = dir.join(format!("resize_{k}.onnx"));
        std::fs::write(&path, g.build(&[("", 19)]).encode_to_vec()).unwrap();
        let Some(want) = reference_outputs(&path, &flat, 12, Reference::Ort) else { return };
        assert_interpreter_equals(&path, &Default::default(), &Config::default(), &xs, &want);
    }
}

// ---------------------------------------------------------------- refusals

#[test]
fn unsupported_ops_are_listed_once_per_kind() {
    let mut g = GraphBuilder::new("refused");
    let x = g.input("x", &[1, 4]);
    g.output("y", &[1, 4]);
    let a = g.node("Acosh", "", "a", &[&x], &["a"], vec![]);
    let b = g.node("Acosh", "", "b", &[&a], &["b"], vec![]);
    let c = g.node("Hardmax", "", "c", &[&b], &["c"], vec![]);
    g.node("Acosh", "", "d", &[&c], &["y"], vec![]);
    let bytes = g.build(&[("", 13)]).encode_to_vec();
    let graph = tachyon_frontend::decode_model(&bytes, Path::new("refused.onnx")).unwrap();
    let e = tachyon_quantize::lower(&graph, &Config::default()).unwrap_err().to_string();
    assert_eq!(
        e,
        "refused.onnx: 4 unsupported node(s):\n  - Acosh (3 nodes: 'a', 'b', 'd'): ONNX op Acosh is not supported yet\n  \
         - Hardmax (node 'c'): ONNX op Hardmax is not supported yet"
    );
}
