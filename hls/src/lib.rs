//! Tachyon's hardware generator: lowers the quantized IR to a fully pipelined netlist
//! (`tachyon_rtl::Module`) with II = 1 — multiplier-free adder trees for constant matrices,
//! comparator/mux logic for saturation and thresholds, ROMs for tables — with registers placed
//! by an UltraScale+ delay model against the target clock, plus a per-layer report.
//!
//! The way through: [`HlsOptions::resolve`] reads and validates the hardware options once
//! ([`options`]), [`synthesize`] drives the builds ([`synth`]: the ternary adder search, one
//! build per policy, dispatching each layer to its stream, fold or reuse lowering in
//! [`layers`]).

pub mod delay;
pub mod fuse;
pub mod layers;
pub mod options;
pub mod pipeline;
pub mod report;
mod synth;

pub use options::{HlsOptions, OptionsError, ResolvedOptions, Target};
pub use synth::{synthesize, synthesize_ranked, Cuts, LOOSE_CUTS_MAX_SIGNALS, PORTFOLIO_MAX_SIGNALS};
pub use tachyon_quantize::config::Strategy;
use tachyon_rtl::Module;

/// One element of the input or output bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BusElem {
    pub width: u32,
    pub signed: bool,
    /// Fractional bits: the element stands for `n · 2^-frac`.
    pub frac: i32,
}

/// The generated design.
#[derive(Clone, Debug)]
pub struct Design {
    pub module: Module,
    /// Cycles from `in_valid` to `out_valid`.
    pub latency: u32,
    /// Initiation interval: inputs may arrive at most once every `ii` cycles.
    pub ii: u32,
    pub inputs: Vec<BusElem>,
    pub outputs: Vec<BusElem>,
    /// Stream style: the flat input element carried by each slot of each beat (beat-major; the
    /// bus carries `inputs.len()` elements per beat, a frame is `frame.len() / inputs.len()`
    /// consecutive beats). `None`: one beat carries the whole input.
    pub frame: Option<Vec<u32>>,
    pub report: report::Report,
}
