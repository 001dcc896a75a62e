//! `tachyon fuzz`: differential fuzzing: random quantized QONNX models checked at up to four levels.

use anyhow::Result;
use std::path::PathBuf;

/// Differential fuzzing: random quantized QONNX models checked at up to four levels — float QONNX
/// semantics vs the reference interpreter, Verilator co-simulation vs the interpreter, and on a
/// share of the models the synthesized netlist vs the interpreter.
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
    /// Skip the Verilator level (and so the post-synthesis level).
    #[arg(long)]
    pub no_verilator: bool,
    /// Post-synthesis level on one model in N (the seeds divisible by N; 0: never): the
    /// Verilator-checked design synthesized by yosys for UltraScale+ and simulated with yosys'
    /// cell models in Icarus (`tachyon sim --post-synth`), at most 50 vectors. Needs yosys and
    /// iverilog (skipped with a notice without them).
    #[arg(long, default_value_t = 10)]
    pub post_synth_every: u64,
}

/// Runs the command.
pub fn run(a: Args) -> Result<()> {
    let Args { models, seed, vectors, out, no_verilator, post_synth_every } = a;
    let s = tachyon_fuzz::campaign::run_campaign(models, seed, vectors, &out, !no_verilator, post_synth_every)?;
    say!("{s}");
    if s.failed() > 0 {
        anyhow::bail!("{} of {} models failed; see {}", s.failed(), s.models, out.display());
    }
    Ok(())
}
