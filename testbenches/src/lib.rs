//! tachyon-testbenches: everything needed to check generated Verilog against
//! numbers computed elsewhere.
//!
//! * [`cosim`] builds a Verilator harness for a generated top module and streams
//!   integer vectors through it, measuring latency and initiation interval.
//! * [`axis`] does the same for an AXI-Stream wrapper, under random backpressure.
//! * [`verilog_sim`] runs the same protocol as a Verilog testbench (`verilog_tb.rs`) in Icarus
//!   or `verilator --binary --timing`, for gate-level netlists with vendor cell models.

pub mod axis;
pub mod cosim;
mod cosim_error;
pub mod harness;
mod harness_io;
pub mod interface;
mod sources;
mod verilator;
pub mod verilog_sim;
mod verilog_tb;

pub use axis::{axis_tlast_of, build_axis_harness, AxisHarness, AxisResult, AxisRun};
pub use cosim::{
    build_harness, verilator_available, CosimOptions, CosimResult, Harness, PortElem, TopInterface,
    OPTIMIZE_FROM_VECTORS,
};
pub use cosim_error::CosimError;
pub use sources::write_harness;
pub use verilog_sim::{run_testbench, Simulator, TestbenchOptions};
