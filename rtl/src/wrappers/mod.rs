//! Hand-written Verilog templates around a generated core, filled in from plain parameters:
//! the AXI-Stream wrapper ([`axis`]) and the UART board top of the iCE40 flow ([`uart`]). With
//! the netlist emitter these are the only places the project writes Verilog text.

pub mod axis;
pub mod uart;

/// What a wrapper needs to know of the core it wraps.
#[derive(Clone, Debug)]
pub struct Core {
    /// The core's module name.
    pub top: String,
    /// Widths of `in_data` and `out_data`.
    pub in_bits: u32,
    pub out_bits: u32,
    /// Cycles from `in_valid` to `out_valid`, and the initiation interval.
    pub latency: u32,
    pub ii: u32,
    /// Tachyon's version and the model's name, for the header comment.
    pub version: String,
    pub model: String,
}
