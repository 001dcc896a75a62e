//! `tachyon build`: compile a model into a project folder: rtl/*.v, report.json, model.txt, a Verilator harness.

use anyhow::Result;
use std::path::PathBuf;

/// Compile a model into a project folder: rtl/*.v, report.json, model.txt, a Verilator harness.
#[derive(clap::Args)]
pub struct Args {
    /// ONNX or QONNX model file.
    pub model: PathBuf,
    /// JSON configuration (precision of float models, input type, softmax/sigmoid tables).
    #[arg(short, long)]
    pub config: Option<PathBuf>,
    /// Target clock period in ns (default: the board's, else 5).
    #[arg(long)]
    pub clock_ns: Option<f64>,
    /// Target board or part (see `tachyon boards`).
    #[arg(long)]
    pub board: Option<String>,
    /// Name of the top module.
    #[arg(long, default_value = "tachyon_top")]
    pub top: String,
    /// Output project folder.
    #[arg(short, long)]
    pub out: PathBuf,
    /// Replace the output folder if it exists.
    #[arg(long)]
    pub force: bool,
    /// Decompose the model first (Mixed-TD, see `tachyon decompose`) within this relative
    /// output error (0.01 = 1 %); the decomposed model is stored in the project as
    /// OUT/model.td.onnx (the manifest points to it).
    #[arg(long, value_name = "BUDGET")]
    pub decompose: Option<f64>,
    /// Calibration inputs of --decompose (.npy, first axis = sample).
    #[arg(long, value_name = "X.npy", requires = "decompose")]
    pub calib: Option<PathBuf>,
    /// Shape of one event at a graph input, replacing the file's (e.g. 1,16; NAME=1,16 for one
    /// of several inputs; repeatable). Without it a leading batch axis is found on its own.
    #[arg(long, value_name = "SHAPE")]
    pub input_shape: Vec<tachyon_frontend::InputShape>,
}

/// Runs the command.
pub fn run(a: Args) -> Result<()> {
    let Args { model, config, clock_ns, board, top, out, force, decompose, calib, input_shape } = a;
    let decomposed = match decompose {
        None => None,
        Some(budget) => {
            let o = tachyon_driver::decompose::Options {
                budget,
                inputs: calib,
                config: match &config {
                    Some(p) => tachyon_quantize::Config::load(p).map_err(|e| anyhow::anyhow!(e))?,
                    None => Default::default(),
                },
                clock_ns: clock_ns.unwrap_or(5.0),
                ..Default::default()
            };
            let d = tachyon_driver::decompose::decompose(&model, &o, &input_shape)?;
            say!("{}", tachyon_driver::decompose::table(&d));
            Some(prost::Message::encode_to_vec(&d.model))
        }
    };
    let opts = tachyon_driver::project::BuildOptions {
        model,
        config,
        clock_ns,
        board,
        top,
        out: out.clone(),
        force,
        input_shapes: input_shape,
    };
    let b = match &decomposed {
        None => tachyon_driver::project::build(&opts)?,
        Some(bytes) => {
            let file = std::path::Path::new(tachyon_driver::project::DECOMPOSED_MODEL);
            let b = tachyon_driver::project::build_with_model(&opts, file, bytes)?;
            say!("wrote the decomposed model {}", out.join(file).display());
            b
        }
    };
    for n in &b.input_notes {
        say!("note: {n}");
    }
    let r = &b.design.report;
    say!(
        "built {} → {}: {} layers, latency {} cycles ({:.1} ns at {} ns), II {}, estimate LUT {} FF {} DSP {}",
        r.model,
        out.display(),
        r.layers.len(),
        r.latency_cycles,
        r.latency_ns,
        r.clock_ns,
        r.ii_cycles,
        r.total.lut,
        r.total.ff,
        r.total.dsp
    );
    let written = tachyon_driver::report::read_report(&out)?;
    for w in written.warnings.iter().flatten() {
        say!("warning: {w}");
    }
    if written.board.is_some_and(|b| b.family == "ice40") {
        say!(
            "note: the estimate counts UltraScale+ LUT6s; an iCE40 needs about 1.4 LUT4s per LUT \
                 (tiny MLP: 1,199 → 1,722 SB_LUT4), and `tachyon bitstream {}` gives the real figures",
            out.display()
        );
    }
    for e in &r.epilogue {
        say!("note: float op {e} has no quantizer after it; it stays outside the hardware (see report.json)");
    }
    Ok(())
}
