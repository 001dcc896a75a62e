//! `tachyon fuzz`: differential fuzzing: random quantized QONNX models checked at three levels — float QONNX

use anyhow::Result;
use std::path::PathBuf;

/// Differential fuzzing: random quantized QONNX models checked at three levels — float QONNX
/// semantics vs the reference interpreter, and Verilator co-simulation vs the interpreter.
#[derive(clap::Args)]
pub struct Args {
    /// Number of random models.
    #[arg(long, default_value_t = 100)]
    pub models: usize,
    /// Seed of the first model (the others follow: S, S+1, …).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Vectors per model and level.
    #[arg(long, default_value_t = 100)]
    pub vectors: usize,
    /// Folder for failing models (fail_<seed>.onnx and fail_<seed>.txt).
    #[arg(short, long, default_value = "fuzz-failures")]
    pub out: PathBuf,
    /// Skip the Verilator level.
    #[arg(long)]
    pub no_verilator: bool,
}

/// Runs the command.
pub fn run(a: Args) -> Result<()> {
    let Args { models, seed, vectors, out, no_verilator } = a;
    let s = tachyon_fuzz::campaign::run_campaign(models, seed, vectors, &out, !no_verilator)?;
    say!("{s}");
    if s.failed() > 0 {
        anyhow::bail!("{} of {} models failed; see {}", s.failed(), s.models, out.display());
    }
    Ok(())
}
