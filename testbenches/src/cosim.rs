//! Verilator co-simulation of a generated top module.
//!
//! The top module follows Tachyon's fixed interface
//!
//! ```verilog
//! module <top> (input wire clk, input wire rst, input wire in_valid,
//!               input wire [IN_BITS-1:0] in_data,
//!               output wire out_valid, output wire [OUT_BITS-1:0] out_data);
//! ```
//!
//! where `in_data` packs the [`TopInterface::inputs`] elements with element 0
//! in the least significant bits (element `i` at bits `off_i + w_i − 1 : off_i`,
//! `off_i` the sum of the previous widths), each a two's complement or
//! unsigned integer of its width; `out_data` likewise. `rst` is synchronous
//! and active high.
//!
//! [`build_harness`] writes a C++ testbench (see [`crate::harness`] for the
//! cycle-level protocol) into the work directory and has Verilator compile
//! it; [`Harness::run`] streams vectors through the binary and checks that the
//! design answered every vector once, at one constant latency. Latency and
//! initiation interval are measured, never assumed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::cosim_error::CosimError;
use crate::harness_io::Summary;
pub use crate::interface::{PortElem, TopInterface};
use crate::{harness, harness_io, verilator};

/// Idle cycles (no input, no output) the harness waits after the last input
/// before giving up on missing outputs.
pub const IDLE_TIMEOUT_CYCLES: u32 = 10_000;

/// How to build and drive the harness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CosimOptions {
    /// Directory for every generated file (C++, Verilator objects, vectors, outputs, VCD).
    pub work_dir: PathBuf,
    /// Idle cycles between vectors; 0 drives one vector every cycle.
    pub gap: u32,
    /// Compile with tracing and write `work_dir/trace.vcd` on every run.
    pub trace: bool,
    /// Parallel compile jobs; 0 means all available cores.
    pub jobs: usize,
    /// Compile the model's evaluation at `-O1` (into `work_dir/obj_dir_O1`): ~1 s more build
    /// for the jet MLP, 2.7× the vectors per second. Worth it from ~[`OPTIMIZE_FROM_VECTORS`].
    #[serde(default)]
    pub optimize: bool,
    /// Verilator's `-Wall` over the design during the build, its warnings fatal: the build is
    /// then also the design's lint (`verilator --lint-only -Wall`), one parse instead of two.
    /// Not for a design with `hier_block` marks: Verilator 5.006's own wrapper of a
    /// hierarchical block fails `-Wall` ([`Harness::linted`] says whether it ran).
    #[serde(default)]
    pub lint: bool,
}

/// From how many vectors an optimized harness build ([`CosimOptions::optimize`]) pays for
/// itself. The jet MLP, 200,000 vectors: build 0.6–4.2 s and run 2.1 s at `-O0`; build +1.0–1.3 s
/// and run 0.77 s at `-O1` (6.7 µs less per vector; the break-even is near 190,000).
pub const OPTIMIZE_FROM_VECTORS: usize = 200_000;

impl CosimOptions {
    /// Back-to-back vectors, no trace, all cores.
    pub fn new(work_dir: impl Into<PathBuf>) -> Self {
        CosimOptions { work_dir: work_dir.into(), gap: 0, trace: false, jobs: 0, optimize: false, lint: false }
    }
}

/// What a co-simulation run produced and measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CosimResult {
    /// One vector of output elements per input vector, in order.
    pub outputs: Vec<Vec<i128>>,
    /// Rising edges from the one that accepted vector 0 to the one at which
    /// its output was valid (0 for a combinational design).
    pub latency_cycles: u32,
    /// Minimum distance in cycles between consecutive accepted inputs that the
    /// design sustained at constant latency: 1 when it took one vector every
    /// cycle, `1 + gap` when driven with gaps (also with a single vector).
    pub ii_cycles: u32,
    /// Rising edges simulated, reset included.
    pub total_cycles: u64,
    /// Wall time of the Verilator build of this harness.
    pub build_seconds: f64,
    /// Wall time of this run (vector file, simulation, parsing).
    pub run_seconds: f64,
    /// The build linted the design with `-Wall` ([`CosimOptions::lint`]).
    #[serde(default)]
    pub linted: bool,
}

/// A compiled harness for one top module.
#[derive(Debug, Clone)]
pub struct Harness {
    binary: PathBuf,
    iface: TopInterface,
    work_dir: PathBuf,
    gap: u32,
    trace: bool,
    build_seconds: f64,
    linted: bool,
}

/// Whether `verilator` can be started from `PATH`.
pub fn verilator_available() -> bool {
    verilator::available()
}

/// Generates the harness C++ into `opts.work_dir` and compiles it with the
/// RTL through `verilator --cc --exe --build`. Fails with the tail of the
/// tool's stderr if Verilator reports any warning or error (warnings are
/// fatal, as by default).
pub fn build_harness(rtl_files: &[PathBuf], iface: &TopInterface, opts: &CosimOptions) -> Result<Harness, CosimError> {
    iface.validate()?;
    if !verilator::available() {
        return Err(CosimError::VerilatorMissing);
    }
    let work_dir = absolute(&opts.work_dir)?;
    std::fs::create_dir_all(&work_dir).map_err(CosimError::io(&work_dir))?;
    let mut rtl = Vec::with_capacity(rtl_files.len());
    for f in rtl_files {
        // Verilator runs make from its object directory, so pass absolute paths.
        rtl.push(std::fs::canonicalize(f).map_err(CosimError::io(f))?);
    }
    let cpp = work_dir.join("tachyon_cosim.cpp");
    std::fs::write(&cpp, harness::harness_cpp(iface)).map_err(CosimError::io(&cpp))?;
    let jobs = match opts.jobs {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let lint = opts.lint && !verilator::has_hier_blocks(&rtl)?;
    let start = Instant::now();
    let binary = verilator::build(
        &work_dir,
        &rtl,
        &cpp,
        &iface.top,
        verilator::Flags { jobs, trace: opts.trace, optimize: opts.optimize, lint },
    )?;
    Ok(Harness {
        binary,
        iface: iface.clone(),
        work_dir,
        gap: opts.gap,
        trace: opts.trace,
        build_seconds: start.elapsed().as_secs_f64(),
        linted: lint,
    })
}

impl Harness {
    /// The compiled executable.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// Where runs write the waveform when built with `trace`.
    pub fn vcd_path(&self) -> PathBuf {
        self.work_dir.join("trace.vcd")
    }

    /// Wall time of the Verilator build.
    pub fn build_seconds(&self) -> f64 {
        self.build_seconds
    }

    /// Whether the build linted the design with `-Wall` ([`CosimOptions::lint`]).
    pub fn linted(&self) -> bool {
        self.linted
    }

    /// Streams `vectors` through the design with the gap given at build time.
    /// Files `inputs.txt` and `outputs.txt` in the work directory are
    /// overwritten, so do not run one harness from several threads at once.
    pub fn run(&self, vectors: &[Vec<i128>]) -> Result<CosimResult, CosimError> {
        self.run_with_gap(vectors, self.gap)
    }

    /// Like [`Harness::run`] with `gap` idle cycles between vectors (no rebuild).
    pub fn run_with_gap(&self, vectors: &[Vec<i128>], gap: u32) -> Result<CosimResult, CosimError> {
        let start = Instant::now();
        let mut args = vec![gap.to_string().into(), IDLE_TIMEOUT_CYCLES.to_string().into()];
        if self.trace {
            args.push(self.vcd_path().into_os_string());
        }
        let (written, out_path) =
            harness_io::run_harness(&self.binary, &self.work_dir, vectors, &self.iface.vector_elems(), &args)?;
        let (outputs, s) = harness_io::parse_outputs(&written, &self.iface.outputs, &out_path)?;
        let (latency_cycles, ii_cycles) = checked_timing(&s, vectors.len(), IDLE_TIMEOUT_CYCLES, &out_path)?;
        Ok(CosimResult {
            outputs,
            latency_cycles,
            ii_cycles,
            total_cycles: s.total_cycles,
            build_seconds: self.build_seconds,
            run_seconds: start.elapsed().as_secs_f64(),
            linted: self.linted,
        })
    }
}

/// Latency and II of a run whose summary is `s`, after checking that every one of `vectors`
/// vectors got exactly one output (the run gave up `timeout` idle cycles after the last input),
/// all at the same latency (`path`: the output file, for messages). Shared by the C++ harness
/// and the Verilog testbench.
pub(crate) fn checked_timing(s: &Summary, vectors: usize, timeout: u32, path: &Path) -> Result<(u32, u32), CosimError> {
    let malformed = |reason: String| CosimError::Malformed { path: path.to_path_buf(), line: 0, reason };
    if s.inputs != vectors {
        return Err(malformed(format!("the testbench read {} vectors, {} were written", s.inputs, vectors)));
    }
    if s.extra > 0 {
        return Err(CosimError::ExtraOutputs { produced: s.outputs, expected: s.inputs });
    }
    if s.outputs < s.inputs {
        return Err(CosimError::MissingOutputs { produced: s.outputs, expected: s.inputs, timeout });
    }
    if s.bad_index >= 0 || s.latency < 0 {
        let (index, latency) = if s.latency < 0 { (0, s.latency) } else { (s.bad_index as usize, s.bad_latency) };
        return Err(CosimError::NonConstantLatency { index, latency, first_latency: s.latency });
    }
    let latency = u32::try_from(s.latency).map_err(|_| malformed(format!("latency {} out of range", s.latency)))?;
    let ii = u32::try_from(s.ii).map_err(|_| malformed(format!("ii {} out of range", s.ii)))?;
    Ok((latency, ii))
}

/// `path` made absolute against the current directory (without resolving links).
fn absolute(path: &Path) -> Result<PathBuf, CosimError> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    let cwd = std::env::current_dir().map_err(CosimError::io(path))?;
    Ok(cwd.join(path))
}
