//! `tachyon bitstream`: open-source iCE40 flow: a UART board top around the core, yosys synth_ice40, nextpnr-ice40,

use anyhow::Result;
use std::path::PathBuf;

/// Open-source iCE40 flow: a UART board top around the core, yosys synth_ice40, nextpnr-ice40,
/// icepack → OUT/ice40/<top>_<board>.bin, with the achieved Fmax and utilization.
#[derive(clap::Args)]
pub struct Args {
    pub project: PathBuf,
    /// iCE40 board (default: the project's --board).
    #[arg(long)]
    pub board: Option<String>,
    /// nextpnr placement seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Timing target in MHz (default: the board oscillator, 12 MHz on the iCEBreaker).
    #[arg(long)]
    pub freq: Option<f64>,
}

/// Runs the command.
pub fn run(a: Args) -> Result<()> {
    let Args { project, board, seed, freq } = a;
    let o = tachyon_driver::flows::BitstreamOptions { board, seed, freq_mhz: freq };
    let s = tachyon_driver::flows::bitstream(&project, &o)?;
    say!("bitstream   {} ({} bytes)", s.bin.display(), s.bin_bytes);
    say!(
        "timing      Fmax {:.2} MHz achieved, {:.2} MHz required ({})",
        s.fmax_mhz,
        s.constraint_mhz,
        if s.fmax_mhz >= s.constraint_mhz { "met" } else { "FAILED" }
    );
    for (cell, (used, avail)) in &s.utilization {
        if *used > 0 {
            say!("utilization {cell:<16} {used:>6} / {avail}");
        }
    }
    say!(
        "board top   {} on {} ({}): UART {} baud, see the header of ice40/{}.v",
        s.top,
        s.board,
        s.part,
        tachyon_driver::flows::BAUD,
        s.top
    );
    if s.fmax_mhz < s.constraint_mhz {
        anyhow::bail!("nextpnr did not meet the {:.2} MHz clock of {}", s.constraint_mhz, s.board);
    }
    Ok(())
}
