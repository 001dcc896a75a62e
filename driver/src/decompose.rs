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
/// exported to ONNX first).
pub fn decompose(path: &Path, o: &Options) -> Result<Outcome> {
    if !crate::source::is_keras(path) {
        return tachyon_decompose::decompose(path, o, &estimate);
    }
    let onnx = crate::source::scratch_onnx();
    let result =
        crate::source::export_keras(path, &onnx).and_then(|()| tachyon_decompose::decompose(&onnx, o, &estimate));
    let _ = std::fs::remove_file(&onnx);
    result
}
