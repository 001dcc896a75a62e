//! Fuzzing of Tachyon, two ways:
//!
//! * [`campaign`] — differential fuzzing: random valid quantized models ([`random_model`]) checked
//!   at up to four levels that must agree (float QONNX semantics, the reference interpreter, the
//!   Verilator RTL, on a share of the models the netlist yosys synthesizes — [`post_synth`]),
//!   failures shrunk and written out (`tachyon fuzz`; totals in [`summary`]);
//! * [`mutate`] — mutational fuzzing of everything that reads user input (the ONNX decoder and
//!   the config parser), crashes kept as regression inputs (`tachyon-fuzz`).

pub mod campaign;
pub mod mutate;
pub mod post_synth;
pub mod random_model;
pub mod summary;
pub mod tables;

pub use mutate::*;
