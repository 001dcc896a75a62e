//! Example models for Tachyon, generated in Rust: a small ONNX/QONNX model builder
//! ([`onnx_builder`]), a seeded PRNG ([`rng`]), the shipped jet/tiny/float MLPs ([`jet_mlp`]) and
//! the writer of the committed example files ([`generate`], run by the `make-examples` binary).

pub mod calo_cnn;
pub mod generate;
pub mod jet_mlp;
pub mod onnx_builder;
pub mod pulse_cnn;
pub mod random_model;
pub mod rng;
pub mod set_models;
pub mod transformer;

pub use generate::{write_examples, ExamplesError};
pub use jet_mlp::{float_mlp, jet_inputs, jet_mlp, tiny_mlp};
pub use onnx_builder::{Attr, GraphBuilder};
