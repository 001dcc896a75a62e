//! The tool flows around a generated core, taking plain parameters (a core's module name,
//! widths, clock and board; folders to work in), never a project manifest:
//!
//! * [`vivado`] — the Vivado project files (`build.tcl`, XDC) and running them;
//! * [`ice40`] — the open-source iCE40 flow: UART board top, yosys `synth_ice40`,
//!   nextpnr-ice40, icepack;
//! * [`yosys`] — `synth_xilinx` resource figures, flat or over a hierarchy;
//! * [`netlist`] — the synthesized gate-level netlist and yosys' cell models, for simulation;
//! * [`tools`] — running an external tool under a spinner with its output in a log.

pub mod ice40;
pub mod netlist;
pub mod tools;
pub mod vivado;
pub mod yosys;
