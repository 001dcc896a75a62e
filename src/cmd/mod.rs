//! One module per command: its arguments (`Args`, clap) and `run`.

pub mod bitstream;
pub mod boards;
pub mod build;
pub mod decompose;
pub mod fuzz;
pub mod inspect;
pub mod report;
pub mod sim;
pub mod synth;
pub mod vivado;
