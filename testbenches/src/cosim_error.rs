//! The error type of the Verilator co-simulation runner.
//!
//! Each variant says what the user can do about it: install the tool, fix
//! the Verilog (the tool's own diagnostics are included), or fix the design's
//! handshake (output count, latency).

use std::path::PathBuf;

/// Anything that can go wrong building or running a co-simulation harness.
#[derive(Debug, thiserror::Error)]
pub enum CosimError {
    /// `verilator` could not be started.
    #[error("verilator not found on PATH: install it with apt-get install verilator")]
    VerilatorMissing,
    /// The [`TopInterface`](crate::TopInterface) cannot describe a valid top module.
    #[error("invalid top interface for `{top}`: {reason}")]
    Interface {
        /// The top module name as given.
        top: String,
        /// What is wrong.
        reason: String,
    },
    /// An input vector does not match the interface.
    #[error("input vector {vector}: {reason}")]
    Vector {
        /// Index of the offending vector.
        vector: usize,
        /// What is wrong (length, or which element is out of range).
        reason: String,
    },
    /// A file or directory could not be read, written or created.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path involved.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// Verilator (or the C++ compiler it drives) failed.
    #[error("verilator build failed ({status}); full log in {}\n{stderr_tail}", log.display())]
    BuildFailed {
        /// The exit status.
        status: String,
        /// The last lines of the tool's stderr.
        stderr_tail: String,
        /// Where the complete stdout and stderr were saved.
        log: PathBuf,
    },
    /// The harness binary failed or crashed.
    #[error("harness {} failed ({status})\n{stderr_tail}", binary.display())]
    RunFailed {
        /// The harness binary.
        binary: PathBuf,
        /// The exit status.
        status: String,
        /// The last lines of its stderr.
        stderr_tail: String,
    },
    /// Fewer outputs than inputs arrived before the idle timeout.
    #[error(
        "design produced {produced} of {expected} outputs (no out_valid for {timeout} cycles after the last input)"
    )]
    MissingOutputs {
        /// Output beats seen.
        produced: usize,
        /// Input vectors driven.
        expected: usize,
        /// Idle cycles waited.
        timeout: u32,
    },
    /// More output beats than input vectors.
    #[error("design produced {produced} outputs for {expected} inputs (out_valid asserted without a matching input)")]
    ExtraOutputs {
        /// Output beats seen.
        produced: usize,
        /// Input vectors driven.
        expected: usize,
    },
    /// Output `index` arrived at a different distance from its input than output 0.
    #[error("non-constant latency: output {index} arrived {latency} cycles after its input, but output 0 took {first_latency} cycles")]
    NonConstantLatency {
        /// The first output whose latency differs.
        index: usize,
        /// Its latency in cycles (negative if it came before its input).
        latency: i64,
        /// The latency of output 0.
        first_latency: i64,
    },
    /// The simulator of the Verilog testbench could not be started.
    #[error("{tool} not found on PATH: install it ({install}){alternative}")]
    SimulatorMissing {
        /// The executable.
        tool: &'static str,
        /// How to install it.
        install: &'static str,
        /// What else would do, when something would (starts with `; `).
        alternative: &'static str,
    },
    /// The simulator (or its build) failed on the Verilog testbench.
    #[error("{tool} failed ({status}); full output in {}\n{stderr_tail}", log.display())]
    SimulatorFailed {
        /// What ran (`iverilog`, `vvp`, `verilator`, the testbench binary).
        tool: String,
        /// The exit status.
        status: String,
        /// The last lines of its output.
        stderr_tail: String,
        /// Where its complete output was saved.
        log: PathBuf,
    },
    /// An output of the design was neither 0 nor 1 (an x or z in a four-state simulator).
    #[error("{what} is undefined (x or z) at cycle {cycle} after reset: the design leaves a signal uninitialized or undriven")]
    Undefined {
        /// The signal and its value.
        what: String,
        /// The post-reset cycle.
        cycle: u64,
    },
    /// The harness wrote something this crate cannot parse.
    #[error("{}:{line}: malformed harness output: {reason}", path.display())]
    Malformed {
        /// The file read.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was expected.
        reason: String,
    },
}

impl CosimError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> CosimError {
        let path = path.into();
        move |source| CosimError::Io { path, source }
    }
}

/// The last `max_lines` lines of a tool's output, for error messages.
pub(crate) fn tail(text: &str, max_lines: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(max_lines);
    let mut out = String::new();
    if start > 0 {
        out.push_str(&format!("[... {start} earlier lines omitted ...]\n"));
    }
    out.push_str(&lines[start..].join("\n"));
    out
}
