//! Fuzzing of Tachyon, two ways:
//!
//! * [`campaign`] — differential fuzzing: random valid quantized models ([`random_model`]) checked
//!   at three levels that must agree (float QONNX semantics, the reference interpreter, the
//!   Verilator RTL), failures shrunk and written out (`tachyon fuzz`);
//! * [`mutate`] — mutational fuzzing of everything that reads user input (the ONNX decoder and
//!   the config parser), crashes kept as regression inputs (`tachyon-fuzz`).

pub mod campaign;
pub mod mutate;
pub mod random_model;
pub mod tables;

pub use mutate::*;
