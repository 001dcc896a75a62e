//! `tachyon sim`: co-simulate a project with Verilator against the bit-exact reference interpreter,
//! the RTL or (`--post-synth`) the netlist yosys synthesizes from it.

use anyhow::Result;
use std::path::PathBuf;

/// Co-simulate a project with Verilator against the bit-exact reference interpreter (the RTL, or
/// with `--post-synth` the netlist yosys synthesizes; the long help is on `Cmd::Sim`).
#[derive(clap::Args)]
pub struct Args {
    /// Project folder made by `tachyon build`.
    pub project: PathBuf,
    /// Float input samples (.npy, first axis = sample).
    #[arg(long)]
    pub inputs: Option<PathBuf>,
    /// Float outputs of another implementation for the same samples (.npy): reports max |Δ| and argmax agreement.
    #[arg(long)]
    pub expect: Option<PathBuf>,
    /// Use only the first N samples of --inputs (needs --inputs; for random vectors use --random N).
    #[arg(short = 'n', long)]
    pub limit: Option<usize>,
    /// Add N random vectors over the full input range (default 1000 without --inputs).
    #[arg(long)]
    pub random: Option<usize>,
    /// Seed of the random vectors.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Idle cycles between vectors (0 = back to back).
    #[arg(long, default_value_t = 0)]
    pub gap: u32,
    /// Simulate the design as synthesized by yosys (synth_xilinx for the project's family,
    /// synth_ice40 on iCE40 boards) with yosys' cell models, instead of the RTL.
    #[arg(long)]
    pub post_synth: bool,
    /// Simulator of the Verilog testbench: icarus (the default with --post-synth; starts at once)
    /// or verilator (--binary --timing: compiles first, runs faster). Without --post-synth it
    /// runs the RTL in that testbench instead of Verilator's C++ harness.
    #[arg(long)]
    pub simulator: Option<tachyon_testbenches::Simulator>,
    /// Co-simulate the AXI-Stream wrapper (axis/<top>_axis.v) under random backpressure instead:
    /// every output must arrive exactly once, in order, bit-exact (random vectors only).
    #[arg(long)]
    pub axis: bool,
    /// Build the RTL's harness without Verilator's -Wall lint (for hand-edited RTL: a generated
    /// design is -Wall clean, and a warning otherwise fails the build).
    #[arg(long)]
    pub no_lint: bool,
    /// With --axis: probability that the source offers a vector on a cycle.
    #[arg(long, default_value_t = 0.7)]
    pub valid_prob: f64,
    /// With --axis: probability that the sink is ready on a cycle.
    #[arg(long, default_value_t = 0.5)]
    pub ready_prob: f64,
}

fn axis(a: Args) -> Result<()> {
    let Args { project, random, seed, valid_prob, ready_prob, inputs, limit, post_synth, simulator, .. } = a;
    if inputs.is_some() || limit.is_some() {
        anyhow::bail!("--axis takes random vectors only (--random N); drop --inputs and -n");
    }
    if post_synth || simulator.is_some() {
        anyhow::bail!("--axis simulates the RTL wrapper in Verilator's harness; drop --post-synth and --simulator");
    }
    let (_, built) = tachyon_driver::project::load(&project)?;
    let vectors = tachyon_driver::sim::random_vectors(&built.qmodel, random.unwrap_or(1000), seed);
    let run = tachyon_testbenches::AxisRun { p_valid: valid_prob, p_ready: ready_prob, seed, tlast_every: 8 };
    let s = tachyon_driver::axis::cosim(&project, &vectors, &run)?;
    say!("vectors      {} (source valid {valid_prob}, sink ready {ready_prob})", s.vectors);
    say!("received     {}", s.received);
    say!("mismatches   {}", s.mismatches);
    for m in &s.first_mismatches {
        say!("  {m}");
    }
    say!("tlast errors {}", s.tlast_errors);
    say!("protocol     {} violation(s)", s.protocol_errors.len());
    for p in &s.protocol_errors {
        say!("  {p}");
    }
    say!("accept gap   {}..{} cycles, {} cycles in all", s.min_accept_gap, s.max_accept_gap, s.cycles);
    if s.received != s.vectors || s.mismatches > 0 || s.tlast_errors > 0 || !s.protocol_errors.is_empty() {
        anyhow::bail!("AXI-Stream co-simulation failed");
    }
    Ok(())
}

fn cosim(a: Args) -> Result<()> {
    let Args { project, inputs, expect, limit, random, seed, gap, post_synth, simulator, no_lint, .. } = a;
    let s = tachyon_driver::sim::run(
        &project,
        &tachyon_driver::sim::SimOptions { inputs, expect, limit, random, seed, gap, post_synth, simulator, no_lint },
    )?;
    for w in &s.warnings {
        say!("warning: {w}");
    }
    if let Some(p) = &s.post_synth {
        let synth = if p.synth_seconds > 0.0 { format!("{:.0} s", p.synth_seconds) } else { "reused".into() };
        say!("design       as synthesized: yosys {} ({synth}) → {}", p.command, p.netlist);
        let cells: Vec<String> = p.cells.iter().map(|(c, n)| format!("{c} {n}")).collect();
        say!("cells        {}", cells.join(", "));
    }
    say!("vectors      {}", s.vectors);
    say!("mismatches   {}", s.mismatches);
    for m in &s.first_mismatches {
        say!("  {m}");
    }
    say!("latency      {} cycles (report: {})", s.latency_cycles, s.expected_latency_cycles);
    say!("II           {} cycle(s)", s.ii_cycles);
    let simulator = s.simulator.map_or("verilator".to_string(), |s| s.to_string());
    say!("{simulator:<12} build {:.1} s, run {:.2} s", s.build_seconds, s.run_seconds);
    if let (Some(d), Some(a), Some(n)) = (s.max_abs_diff, s.argmax_agreement, s.compared_rows) {
        say!("vs expected  max |Δ| {d:.6}, argmax agreement {:.2} % over {n} samples", a * 100.0);
    }
    if !s.layer_errors.is_empty() {
        say!("fixed vs float per layer (the model's float semantics on the --inputs samples):");
        for e in &s.layer_errors {
            say!("  {:<28} max |Δ| {:<12.6} rms {:.6}", e.layer, e.max_abs, e.rms);
        }
    }
    if s.mismatches > 0 || s.latency_cycles != s.expected_latency_cycles {
        anyhow::bail!("co-simulation failed: {} mismatching vectors", s.mismatches);
    }
    Ok(())
}

/// Runs the command.
pub fn run(a: Args) -> Result<()> {
    if a.axis {
        axis(a)
    } else {
        cosim(a)
    }
}
