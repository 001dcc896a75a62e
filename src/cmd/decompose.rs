//! `tachyon decompose`: mixed-TD: decompose Conv/MatMul/Gemm layers (channel, spatial or channel-group SVD, CP)

use anyhow::Result;
use std::path::PathBuf;

/// Mixed-TD: decompose Conv/MatMul/Gemm layers (channel, spatial or channel-group SVD, CP)
/// with quantized factors, choosing per layer the method and rank the hls cost model prices
/// lowest within an error budget measured on calibration inputs; writes the decomposed QONNX
/// model.
#[derive(clap::Args)]
pub struct Args {
    /// ONNX or QONNX model file.
    pub model: PathBuf,
    /// Largest relative output error of the whole model vs the original (0.01 = 1 %).
    #[arg(long, default_value_t = 0.01)]
    pub budget: f64,
    /// Calibration inputs (.npy, first axis = sample); default: standard-normal samples.
    #[arg(long)]
    pub inputs: Option<PathBuf>,
    /// Calibration samples to use.
    #[arg(short = 'n', long, default_value_t = 64)]
    pub samples: usize,
    /// Held-out inputs (.npy): the final relative output error on them is printed too.
    #[arg(long)]
    pub validate: Option<PathBuf>,
    /// Bit width of the factors (default: each layer's weight width).
    #[arg(long)]
    pub bits: Option<u32>,
    /// Bit width of the intermediate activations between factors.
    #[arg(long, default_value_t = 12)]
    pub act_bits: u32,
    /// Configuration the cost model compiles with (e.g. {"default": {"style": "stream"}}).
    #[arg(short, long)]
    pub config: Option<PathBuf>,
    /// Clock period of the cost model, ns.
    #[arg(long, default_value_t = 2.5)]
    pub clock_ns: f64,
    /// Output model file.
    #[arg(short, long)]
    pub out: PathBuf,
    /// Also write the per-layer results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// LUTs one cycle of a layer's latency counts for in the cost (0: latency not weighed).
    #[arg(long, default_value_t = 0)]
    pub latency_luts: u64,
    /// Shape of one event at a graph input, replacing the file's (as for `build`); the
    /// decomposed model declares it.
    #[arg(long, value_name = "SHAPE")]
    pub input_shape: Vec<tachyon_frontend::InputShape>,
}

/// Runs the command.
pub fn run(a: Args) -> Result<()> {
    let Args {
        model,
        budget,
        inputs,
        samples,
        validate,
        bits,
        act_bits,
        config,
        clock_ns,
        out,
        json,
        latency_luts,
        input_shape,
    } = a;
    let o = tachyon_driver::decompose::Options {
        budget,
        inputs,
        samples,
        validate,
        weight_bits: bits,
        act_bits,
        config: match &config {
            Some(p) => tachyon_quantize::Config::load(p).map_err(|e| anyhow::anyhow!(e))?,
            None => Default::default(),
        },
        clock_ns,
        latency_luts,
    };
    let d = tachyon_driver::decompose::decompose(&model, &o, &input_shape)?;
    say!("{}", tachyon_driver::decompose::table(&d));
    std::fs::write(&out, prost::Message::encode_to_vec(&d.model))
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
    if let Some(j) = json {
        std::fs::write(&j, serde_json::to_string_pretty(&d.layers)?)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", j.display()))?;
    }
    say!("wrote {}", out.display());
    Ok(())
}
