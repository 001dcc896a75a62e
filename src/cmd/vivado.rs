//! `tachyon vivado`: run the project's Vivado flow (vivado/build.tcl: out-of-context synthesis, implementation,

use anyhow::Result;
use std::path::PathBuf;

/// Run the project's Vivado flow (vivado/build.tcl: out-of-context synthesis, implementation,
/// timing and utilization reports) if vivado is on PATH; otherwise print what to run where.
#[derive(clap::Args)]
pub struct Args {
    pub project: PathBuf,
    /// core (the pipelined core, default) or axis (its AXI-Stream wrapper).
    #[arg(long)]
    pub variant: Option<String>,
    /// Override the part written into build.tcl (from --board at build time).
    #[arg(long)]
    pub part: Option<String>,
}

/// Runs the command.
pub fn run(a: Args) -> Result<()> {
    let Args { project, variant, part } = a;
    match tachyon_driver::flows::vivado(&project, &tachyon_driver::flows::VivadoOptions { variant, part })? {
        tachyon_driver::flows::VivadoOutcome::NotInstalled { instructions } => say!("{instructions}"),
        tachyon_driver::flows::VivadoOutcome::Ran(r) => {
            let fmt = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v}"));
            say!("vivado {} on {} at {} ns: {} in {:.0} s", r.top, r.part, r.clock_ns, r.status, r.seconds);
            say!("WNS {} ns, Fmax {} MHz", fmt(r.wns_ns), fmt(r.fmax_mhz));
            let u = &r.utilization;
            say!("post-route: LUT {} FF {} DSP {} BRAM36 {} URAM {}", u.lut, u.ff, u.dsp, u.bram36, u.uram);
            say!("reports in {}", r.out_dir.display());
        }
    }
    Ok(())
}
