//! Loading and lowering models for the quantize tests: the shipped examples, models built in
//! memory (the ONNX builder) and their lowered forms.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use tachyon_common::onnx_builder::GraphBuilder;
use tachyon_frontend::proto::ModelProto;
use tachyon_quantize::{Config, QModel, QuantizeError};

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("quantize/ has a parent").to_path_buf()
}

/// `examples/<name>/<name>.onnx`.
pub fn example_path(name: &str) -> PathBuf {
    root().join("examples").join(name).join(format!("{name}.onnx"))
}

/// Lowers an ONNX file with `cfg`.
pub fn lower_file(path: &Path, cfg: &Config) -> Result<QModel, QuantizeError> {
    let g = tachyon_frontend::load_model(path)?;
    tachyon_quantize::lower(&g, cfg)
}

/// Lowers a shipped example with the default config.
pub fn lower_example(name: &str) -> QModel {
    lower_file(&example_path(name), &Config::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Lowers an in-memory model, named `<name>.onnx` in messages.
pub fn lower_proto(name: &str, model: &ModelProto, cfg: &Config) -> Result<QModel, QuantizeError> {
    let bytes = prost::Message::encode_to_vec(model);
    let g = tachyon_frontend::decode_model(&bytes, Path::new(&format!("{name}.onnx")))?;
    tachyon_quantize::lower(&g, cfg)
}

/// A QONNX model `x [1,n] → Quant → body → y`, where `body` adds nodes reading `xq` and
/// returns the output's name and shape.
pub fn quantized(name: &str, n: usize, body: impl FnOnce(&mut GraphBuilder, &str) -> (String, Vec<i64>)) -> ModelProto {
    let mut g = GraphBuilder::new(name);
    let x = g.input("x", &[1, n as i64]);
    let xq = g.quant(&x, "xq", 0.125, 0.0, 8.0, true, false, "ROUND");
    let (y, shape) = body(&mut g, &xq);
    g.output(&y, &shape);
    g.build(&[("", 17), (tachyon_common::onnx_builder::QONNX_DOMAIN, 1)])
}
