//! tachyon-testbenches: everything needed to check generated Verilog against
//! numbers computed elsewhere.
//!
//! * [`cosim`] builds a Verilator harness for a generated top module and streams
//!   integer vectors through it, measuring latency and initiation interval.
//! * [`axis`] does the same for an AXI-Stream wrapper, under random backpressure.

pub mod axis;
pub mod cosim;
mod cosim_error;
pub mod harness;
mod harness_io;
pub mod interface;
mod sources;
mod verilator;

pub use axis::{axis_tlast_of, build_axis_harness, AxisHarness, AxisResult, AxisRun};
pub use cosim::{build_harness, verilator_available, CosimOptions, CosimResult, Harness, PortElem, TopInterface};
pub use cosim_error::CosimError;
pub use sources::write_harness;
