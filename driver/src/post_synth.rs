//! `tachyon sim --post-synth`: the co-simulation of the design as synthesized. yosys
//! synthesizes the project's Verilog for its family — `synth_xilinx -family xcup` without a
//! board (UltraScale+, where the ternary adders become `LUT6_2` + `CARRY8` from their
//! `ifdef SYNTHESIS` branch, which RTL simulation never runs), the board's family otherwise,
//! `synth_ice40` on iCE40 boards — and the flattened netlist runs with yosys' own cell models
//! in an event-driven simulator (Icarus by default, or `verilator --binary --timing`) through
//! the Verilog testbench of `tachyon_testbenches::verilog_sim`. [`crate::sim::run`] compares
//! its outputs with the interpreter exactly like the RTL's.
//!
//! Files under `OUT/sim-post/`: `synth/` (netlist, yosys log and statistics, the key that lets
//! a later run reuse the netlist) and `tb-<simulator>/` (testbench, stimulus, outputs, logs).

use crate::manifest::Manifest;
use anyhow::Result;
use std::path::Path;
use tachyon_flows::netlist::Netlist;
use tachyon_testbenches::{run_testbench, CosimResult, Simulator, TestbenchOptions};

/// What a post-synthesis run simulated.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PostSynthInfo {
    /// The yosys command (`synth_xilinx -family xcup -flatten -top tachyon_top`, …).
    pub command: String,
    /// The netlist, relative to the project folder.
    pub netlist: String,
    /// Cells of the netlist by type.
    pub cells: std::collections::BTreeMap<String, u64>,
    pub simulator: Simulator,
    /// Wall time of yosys (0 when an earlier run's netlist was reused).
    pub synth_seconds: f64,
    /// How the netlist differs from the synthesis for the FPGA (e.g. `-nodsp`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl PostSynthInfo {
    /// `"synth_xilinx -family xcup, 1292 cells, icarus"`, for the report's list of runs.
    pub fn describe(&self) -> String {
        let command: Vec<&str> = self.command.split(" -flatten").next().unwrap_or("").split(" -top").collect();
        format!("{}, {} cells, {}", command[0], self.cells.values().sum::<u64>(), self.simulator)
    }
}

/// The project's yosys family (`xcup` without a board) and whether synthesis may use the part's
/// DSPs (on iCE40 when it has some, as `tachyon bitstream` does).
pub fn family(m: &Manifest) -> Result<(String, bool)> {
    match &m.board {
        Some(b) => {
            let board = tachyon_boards::find(b)?;
            Ok((board.family, board.dsp > 0))
        }
        None => Ok(("xcup".to_string(), true)),
    }
}

/// The project's netlist (synthesized into `dir/sim-post/synth/`, or reused from there).
pub fn netlist(dir: &Path, m: &Manifest) -> Result<Netlist> {
    let (family, dsp) = family(m)?;
    let rtl = dir.join("rtl").join(format!("{}.v", m.top));
    tachyon_flows::netlist::synthesize(
        &[rtl],
        &m.top,
        &family,
        dsp,
        &dir.join("sim-post").join("synth"),
        &dir.display().to_string(),
    )
}

/// Runs `vectors` through the project's netlist in `simulator` with `gap` idle cycles between
/// vectors.
pub fn simulate(
    dir: &Path,
    m: &Manifest,
    vectors: &[Vec<i128>],
    gap: u32,
    simulator: Simulator,
) -> Result<(CosimResult, PostSynthInfo)> {
    // Before yosys, which takes minutes on a large design.
    simulator.check()?;
    let n = netlist(dir, m)?;
    let opts = TestbenchOptions {
        work_dir: dir.join("sim-post").join(format!("tb-{simulator}")),
        simulator,
        files: vec![n.netlist.clone()],
        libraries: vec![n.models.clone()],
        defines: n.defines.clone(),
        foreign: true,
        gap,
        timeout: tachyon_testbenches::verilog_sim::timeout_for(m.latency_cycles, m.ii_cycles),
        jobs: 2,
    };
    let phase =
        tachyon_flows::tools::Phases::new(&format!("{simulator}: {} vectors through the netlist", vectors.len()));
    let res = run_testbench(&m.interface(), vectors, &opts);
    drop(phase);
    let info = PostSynthInfo {
        command: n.command.clone(),
        netlist: std::fs::canonicalize(dir)
            .ok()
            .and_then(|d| n.netlist.strip_prefix(d).ok().map(Path::to_path_buf))
            .unwrap_or_else(|| n.netlist.clone())
            .display()
            .to_string(),
        cells: n.cells.clone(),
        simulator,
        synth_seconds: n.seconds,
        notes: n.notes.clone(),
    };
    Ok((res?, info))
}
