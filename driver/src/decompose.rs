//! Mixed-TD (`tachyon decompose`, `tachyon build --decompose`) priced by this driver's
//! compiler: each candidate sub-model is compiled by the real lowering with the user's config
//! and clock, and its report's estimate is the cost ([`tachyon_decompose`] does the rest).

use anyhow::Result;
use std::path::Path;
pub use tachyon_decompose::{table, Estimate, LayerResult, Options, Outcome};
use tachyon_quantize::Config;

/// The hls cost model: compiles `model` and reads its report.
pub fn estimate(model: &Path, config: &Config, clock_ns: f64) -> Result<Estimate> {
    let built = crate::project::compile(model, config, clock_ns, "tachyon_top", None)?;
    let r = &built.design.report;
    Ok(Estimate {
        lut: r.total.lut,
        dsp: r.total.dsp,
        cycles: r.latency_cycles,
        linear_widths: r.layers.iter().filter(|l| l.kind == "linear").map(|l| l.width_max).collect(),
    })
}

/// Decomposes the model at `path` with `o`, priced by [`estimate`] (a `.keras` model is
/// exported to ONNX first). `input_shapes` (`--input-shape`) are written into the model's
/// declared input shapes first, so the decomposition, its calibration and the decomposed model
/// all read one event as given.
pub fn decompose(path: &Path, o: &Options, input_shapes: &[tachyon_frontend::InputShape]) -> Result<Outcome> {
    if !crate::source::is_keras(path) && input_shapes.is_empty() {
        return tachyon_decompose::decompose(path, o, &estimate);
    }
    let bytes = crate::source::read_model(path)?;
    let mut model = <tachyon_frontend::proto::ModelProto as prost::Message>::decode(bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("{}: not an ONNX model: {e}", path.display()))?;
    tachyon_frontend::set_input_shapes(&mut model, input_shapes, path)?;
    let onnx = crate::source::scratch_onnx();
    let result = std::fs::write(&onnx, prost::Message::encode_to_vec(&model))
        .map_err(anyhow::Error::from)
        .and_then(|()| tachyon_decompose::decompose(&onnx, o, &estimate));
    let _ = std::fs::remove_file(&onnx);
    result
}
