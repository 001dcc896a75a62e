//! The `tachyon` command line as a library: one thin file per command under `cmd/`, each
//! parsing its arguments and calling the driver (`tachyon_driver`), which does the work. The
//! `tachyon` binary (`main.rs`) and the Python package's `tachyon` command both call [`main`].

/// `println!` that ignores a closed stdout (e.g. `tachyon report … | head`) instead of panicking.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}

mod cmd;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "tachyon",
    version,
    about = "Compile quantized neural networks (ONNX/QONNX) to fully pipelined, bit-exact Verilog"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Compile a model into a project folder: rtl/*.v, report.json, model.txt, a Verilator harness.
    Build(cmd::build::Args),
    /// Mixed-TD: decompose Conv/MatMul/Gemm layers (channel, spatial or channel-group SVD, CP)
    /// with quantized factors, choosing per layer the method and rank the hls cost model prices
    /// lowest within an error budget measured on calibration inputs; writes the decomposed QONNX
    /// model.
    Decompose(cmd::decompose::Args),
    /// Co-simulate a project with Verilator against the bit-exact reference interpreter (--post-synth:
    /// the design as synthesized by yosys).
    ///
    /// Every output integer of every vector must equal the interpreter's, at the latency and II
    /// the build reports; any mismatch exits non-zero.
    ///
    /// With --post-synth, the design as synthesized instead of the RTL: yosys synth_xilinx for
    /// the project's family (UltraScale+ without a board, where the ternary adders become LUT6_2 +
    /// CARRY8 with their INIT values; the board's family otherwise) or synth_ice40 on iCE40
    /// boards; the flattened netlist runs with yosys' own cell models (cells_sim.v) in Icarus
    /// (default) or verilator --binary --timing and is compared with the interpreter bit for bit
    /// like the RTL. Needs yosys and iverilog (or Verilator 5). Work folder OUT/sim-post/; the
    /// netlist is reused while the RTL is unchanged. Gate-level simulation is slow: Icarus runs a
    /// netlist of 1,300 cells at ~100 cycles/s and one of 48,000 cells at under 1 cycle/s, so
    /// give large designs --random 20 or so.
    Sim(cmd::sim::Args),
    /// Print the graph as Tachyon understands it, what is unsupported, and the quantized model.
    Inspect(cmd::inspect::Args),
    /// Print a project's report as a table (with yosys figures once `tachyon synth` has run) and write
    /// OUT/report.html (self-contained: layers, pipeline, widths, estimate vs yosys, co-simulation).
    Report(cmd::report::Args),
    /// Synthesize a project with yosys (synth_xilinx) and compare with the estimate (synth.json).
    Synth(cmd::synth::Args),
    /// Run the project's Vivado flow (vivado/build.tcl: out-of-context synthesis, implementation,
    /// timing and utilization reports) if vivado is on PATH; otherwise print what to run where.
    Vivado(cmd::vivado::Args),
    /// Open-source iCE40 flow: a UART board top around the core, yosys synth_ice40, nextpnr-ice40,
    /// icepack → OUT/ice40/<top>_<board>.bin, with the achieved Fmax and utilization.
    Bitstream(cmd::bitstream::Args),
    /// List the known boards and parts.
    Boards(cmd::boards::Args),
    /// Differential fuzzing: random quantized QONNX models checked at up to four levels — float
    /// QONNX semantics vs the reference interpreter, Verilator co-simulation vs the interpreter,
    /// and on a share of the models the synthesized netlist vs the interpreter.
    Fuzz(cmd::fuzz::Args),
}

/// Runs the command line `args` (the program name first) and returns the process exit code;
/// `--help`, `--version` and argument errors print and exit as clap does.
pub fn main<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let result = match Cli::parse_from(args).cmd {
        Cmd::Build(a) => cmd::build::run(a),
        Cmd::Decompose(a) => cmd::decompose::run(a),
        Cmd::Sim(a) => cmd::sim::run(a),
        Cmd::Inspect(a) => cmd::inspect::run(a),
        Cmd::Report(a) => cmd::report::run(a),
        Cmd::Synth(a) => cmd::synth::run(a),
        Cmd::Vivado(a) => cmd::vivado::run(a),
        Cmd::Bitstream(a) => cmd::bitstream::run(a),
        Cmd::Boards(a) => cmd::boards::run(a),
        Cmd::Fuzz(a) => cmd::fuzz::run(a),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}
