//! Running the Verilog testbench ([`crate::verilog_tb`]) on a design in an event-driven
//! simulator: Icarus Verilog (`iverilog` + `vvp`) or `verilator --binary --timing`.
//!
//! This is the route for gate-level netlists simulated with a vendor's cell models (yosys'
//! `cells_sim.v`): the models are plain Verilog behaviour (`initial Q <= INIT`, carry vectors
//! whose bits read each other) that event-driven scheduling runs as written, where Verilator's
//! C++ harness (`--cc`, [`crate::cosim`]) gave wrong outputs on such netlists. Icarus starts at
//! once and simulates a netlist of a few thousand cells at about a hundred cycles per second;
//! Verilator compiles the netlist to C++ first (minutes for tens of thousands of cells) and
//! then runs faster.
//!
//! Files in the work folder: `tachyon_tb.v`, `stimulus.hex`, `outputs.txt`, `build.log`,
//! `run.log`, and for Verilator `waivers.vlt` and `obj_dir/`.

use crate::cosim::{checked_timing, CosimResult};
use crate::cosim_error::{tail, CosimError};
use crate::harness::{DRAIN_CYCLES, RESET_CYCLES};
use crate::interface::TopInterface;
use crate::verilog_tb::{parse_beats, render_stimulus, summarize, testbench_v, TB_TOP};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// An event-driven simulator that runs the Verilog testbench.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Simulator {
    /// Icarus Verilog: `iverilog -g2012`, then `vvp`.
    #[default]
    Icarus,
    /// `verilator --binary --timing` (Verilator 5), then the compiled testbench.
    Verilator,
}

impl Simulator {
    /// The executable that must be on `PATH`.
    pub fn tool(self) -> &'static str {
        match self {
            Simulator::Icarus => "iverilog",
            Simulator::Verilator => "verilator",
        }
    }

    /// Whether the simulator starts.
    pub fn available(self) -> bool {
        let probe = match self {
            Simulator::Icarus => ["iverilog", "-V"],
            Simulator::Verilator => ["verilator", "--version"],
        };
        Command::new(probe[0]).arg(probe[1]).output().is_ok_and(|o| o.status.success())
    }

    /// `Ok` when the simulator starts, else the error naming what to install.
    pub fn check(self) -> Result<(), CosimError> {
        if self.available() {
            Ok(())
        } else {
            Err(self.missing())
        }
    }

    fn missing(self) -> CosimError {
        match self {
            Simulator::Icarus => CosimError::SimulatorMissing {
                tool: "iverilog",
                install: "apt-get install -y iverilog",
                alternative: "; or simulate with --simulator verilator",
            },
            Simulator::Verilator => CosimError::SimulatorMissing {
                tool: "verilator",
                install: "apt-get install -y verilator, version 5 for --timing",
                alternative: "; or simulate with --simulator icarus",
            },
        }
    }
}

impl std::fmt::Display for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Simulator::Icarus => "icarus",
            Simulator::Verilator => "verilator",
        })
    }
}

impl std::str::FromStr for Simulator {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "icarus" | "iverilog" => Ok(Simulator::Icarus),
            "verilator" => Ok(Simulator::Verilator),
            _ => Err(format!("unknown simulator '{s}': use icarus or verilator")),
        }
    }
}

/// What to simulate and how.
#[derive(Clone, Debug)]
pub struct TestbenchOptions {
    /// Folder for every generated file (made if missing).
    pub work_dir: PathBuf,
    pub simulator: Simulator,
    /// The design's files: the top module and what it instantiates.
    pub files: Vec<PathBuf>,
    /// Cell libraries (e.g. yosys' `cells_sim.v`): only the modules the design uses are taken.
    pub libraries: Vec<PathBuf>,
    /// Preprocessor defines (`NAME` or `NAME=VALUE`).
    pub defines: Vec<String>,
    /// Verilator: waive every warning in `files` and `libraries` (a netlist and models written
    /// by other tools); otherwise warnings are fatal, as in the C++ harness.
    pub foreign: bool,
    /// Idle cycles between vectors.
    pub gap: u32,
    /// Idle cycles after the last input without an output before the testbench gives up.
    pub timeout: u32,
    /// Parallel compile jobs of Verilator's build; 0 means all available cores.
    pub jobs: usize,
}

/// Writes the testbench and the stimulus of `vectors` for the top `iface` into
/// `opts.work_dir`, builds and runs it, and measures latency and II like [`crate::Harness::run`]
/// (one output per vector, at one constant latency, or an error).
pub fn run_testbench(
    iface: &TopInterface,
    vectors: &[Vec<i128>],
    opts: &TestbenchOptions,
) -> Result<CosimResult, CosimError> {
    iface.validate()?;
    opts.simulator.check()?;
    let work = absolute(&opts.work_dir)?;
    std::fs::create_dir_all(&work).map_err(CosimError::io(&work))?;
    let (stimulus, cycles) = render_stimulus(vectors, iface, opts.gap)?;
    let write = |name: &str, text: &str| {
        let p = work.join(name);
        std::fs::write(&p, text).map_err(CosimError::io(&p)).map(|_| p)
    };
    write("stimulus.hex", &stimulus)?;
    let tb = write("tachyon_tb.v", &testbench_v(iface, cycles, vectors.len(), opts.gap, opts.timeout))?;
    let outputs = work.join("outputs.txt");
    let _ = std::fs::remove_file(&outputs);
    let start = Instant::now();
    let program = match opts.simulator {
        Simulator::Icarus => build_icarus(&work, &tb, opts)?,
        Simulator::Verilator => build_verilator(&work, &tb, opts)?,
    };
    let build_seconds = start.elapsed().as_secs_f64();
    let start = Instant::now();
    run_logged(&program[0], &program[1..], &work, &work.join("run.log"))?;
    let text = std::fs::read_to_string(&outputs).map_err(CosimError::io(&outputs))?;
    let (beats, simulated) = parse_beats(&text, &iface.outputs, &outputs)?;
    let s = summarize(&beats, vectors.len(), iface.beats(), opts.gap, simulated);
    let (latency_cycles, ii_cycles) = checked_timing(&s, vectors.len(), opts.timeout, &outputs)?;
    Ok(CosimResult {
        outputs: beats.into_iter().map(|(_, v)| v).collect(),
        latency_cycles,
        ii_cycles,
        total_cycles: s.total_cycles,
        build_seconds,
        run_seconds: start.elapsed().as_secs_f64(),
        linted: false,
    })
}

/// A reasonable idle timeout for a design of `latency` cycles: long enough for every output,
/// short enough that a slow gate-level simulation of a design that never answers ends soon.
pub fn timeout_for(latency: u32, ii: u32) -> u32 {
    2 * latency + ii + DRAIN_CYCLES + RESET_CYCLES
}

fn absolute(path: &Path) -> Result<PathBuf, CosimError> {
    if path.is_absolute() {
        return Ok(path.to_path_buf());
    }
    Ok(std::env::current_dir().map_err(CosimError::io(path))?.join(path))
}

fn canonical(files: &[PathBuf]) -> Result<Vec<PathBuf>, CosimError> {
    files.iter().map(|f| std::fs::canonicalize(f).map_err(CosimError::io(f))).collect()
}

/// `iverilog` into `work/tachyon_tb.vvp`; returns the command that runs it.
fn build_icarus(work: &Path, tb: &Path, o: &TestbenchOptions) -> Result<Vec<OsString>, CosimError> {
    let mut args: Vec<OsString> = ["-g2012", "-s", TB_TOP, "-o", "tachyon_tb.vvp"].map(OsString::from).to_vec();
    args.extend(o.defines.iter().map(|d| OsString::from(format!("-D{d}"))));
    args.push(tb.into());
    args.extend(canonical(&o.files)?.into_iter().map(OsString::from));
    for l in canonical(&o.libraries)? {
        args.push("-l".into());
        args.push(l.into());
    }
    run_logged(&OsString::from("iverilog"), &args, work, &work.join("build.log"))?;
    Ok(["vvp", "-n", "tachyon_tb.vvp"].map(OsString::from).to_vec())
}

/// Warnings outside Verilator's lint category that vendor models and netlists raise:
/// `initial Q <= INIT`, carry vectors whose bits read each other, …
const FOREIGN_RULES: [&str; 8] =
    ["INITIALDLY", "UNOPTFLAT", "UNOPT", "MULTIDRIVEN", "COMBDLY", "BLKANDNBLK", "LATCH", "TIMESCALEMOD"];

/// `verilator --binary --timing` into `work/obj_dir/tachyon_tb`; returns the command that runs it.
fn build_verilator(work: &Path, tb: &Path, o: &TestbenchOptions) -> Result<Vec<OsString>, CosimError> {
    let jobs = match o.jobs {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let (files, libraries) = (canonical(&o.files)?, canonical(&o.libraries)?);
    let mut args: Vec<OsString> = ["--binary", "--timing", "-j", &jobs.to_string(), "--top-module", TB_TOP]
        .iter()
        .chain(&["-o", TB_TOP, "--Mdir", "obj_dir", "--x-assign", "fast", "--x-initial", "fast", "--noassert"])
        .map(OsString::from)
        .collect();
    for flag in crate::verilator::OPT_FLAGS {
        args.push("-MAKEFLAGS".into());
        args.push(flag.into());
    }
    args.extend(o.defines.iter().map(|d| OsString::from(format!("-D{d}"))));
    if o.foreign {
        let mut vlt = String::from("`verilator_config\n");
        for f in files.iter().chain(&libraries) {
            // Without a rule only the lint category is waived.
            vlt += &format!("lint_off -file \"{}\"\n", f.display());
            for rule in FOREIGN_RULES {
                vlt += &format!("lint_off -rule {rule} -file \"{}\"\n", f.display());
            }
        }
        let p = work.join("waivers.vlt");
        std::fs::write(&p, vlt).map_err(CosimError::io(&p))?;
        args.push(p.into());
    }
    args.push(tb.into());
    args.extend(files.into_iter().map(OsString::from));
    for l in libraries {
        args.push("-v".into());
        args.push(l.into());
    }
    run_logged(&OsString::from("verilator"), &args, work, &work.join("build.log"))?;
    Ok(vec![work.join("obj_dir").join(TB_TOP).into()])
}

/// Runs `tool args` in `cwd`, its output saved to `log`; a failure carries the output's tail.
fn run_logged(tool: &OsString, args: &[OsString], cwd: &Path, log: &Path) -> Result<(), CosimError> {
    let out = Command::new(tool)
        .args(args)
        .current_dir(cwd)
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .output()
        .map_err(CosimError::io(PathBuf::from(tool)))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let command = args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ");
    let text = format!("$ {} {command}\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}\n", tool.to_string_lossy());
    std::fs::write(log, &text).map_err(CosimError::io(log))?;
    if !out.status.success() {
        return Err(CosimError::SimulatorFailed {
            tool: tool.to_string_lossy().into_owned(),
            status: out.status.to_string(),
            stderr_tail: tail(&format!("{stdout}{stderr}"), 30),
            log: log.to_path_buf(),
        });
    }
    Ok(())
}
