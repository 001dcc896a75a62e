//! `tachyon synth`: print a project's report as a table (with yosys figures once `tachyon synth` has run) and write

use anyhow::Result;
use std::path::PathBuf;

/// Print a project's report as a table (with yosys figures once `tachyon synth` has run) and write
/// OUT/report.html (self-contained: layers, pipeline, widths, estimate vs yosys, co-simulation).
/// Synthesize a project with yosys (synth_xilinx) and compare with the estimate (synth.json).
#[derive(clap::Args)]
pub struct Args {
    pub project: PathBuf,
    /// yosys synth_xilinx family: xcup (UltraScale+), xcu (UltraScale), xc7 (7 series).
    #[arg(long, default_value = "xcup")]
    pub family: String,
    /// Synthesize the design as distinct part modules under a top (each distinct part once,
    /// every instance counted): for designs too big for flat synthesis.
    #[arg(long)]
    pub partitioned: bool,
    /// With --partitioned: yosys processes at a time (default: one per core).
    #[arg(long, short = 'j', default_value_t = 0, requires = "partitioned")]
    pub jobs: usize,
}

/// Runs the command.
pub fn run(a: Args) -> Result<()> {
    let Args { project, family, partitioned, jobs } = a;
    let s = tachyon_driver::synth::run(&project, &family, partitioned, jobs)?;
    say!("{:<10} {:>9} {:>9} {:>7} {:>6} {:>5} {:>5}", "", "LUT", "FF", "CARRY", "SRL", "DSP", "BRAM");
    for (name, c) in [("yosys", &s.yosys), ("estimate", &s.estimate)] {
        say!("{:<10} {:>9} {:>9} {:>7} {:>6} {:>5} {:>5}", name, c.lut, c.ff, c.carry, c.srl, c.dsp, c.bram);
    }
    say!(
        "estimate error: LUT {:+.1} %, FF {:+.1} % (vs FF + SRL); {} -family {}{} in {:.0} s; saved to synth.json",
        s.lut_error * 100.0,
        s.ff_error * 100.0,
        s.yosys_version,
        s.family,
        s.partitioned
            .map_or(String::new(), |p| format!(" partitioned ({} instances of {} modules)", p.instances, p.modules)),
        s.seconds
    );
    Ok(())
}
