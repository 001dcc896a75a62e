//! `tachyon boards`: list the known boards and parts.

use anyhow::Result;

/// List the known boards and parts.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_a: Args) -> Result<()> {
    say!("{:<12} {:<24} {:>9} {:>9} {:>6} {:>6} {:>8}", "name", "part", "LUT", "FF", "DSP", "BRAM36", "clock ns");
    for b in tachyon_boards::boards() {
        say!(
            "{:<12} {:<24} {:>9} {:>9} {:>6} {:>6} {:>8}",
            b.name,
            b.part,
            b.lut,
            b.ff,
            b.dsp,
            b.bram36,
            b.default_clock_ns
        );
    }
    Ok(())
}
