//! Tachyon's model zoo, generated in Rust from seeds (with `tachyon_common`'s ONNX writer and
//! PRNG): the shipped jet/tiny/float MLPs ([`jet_mlp`]), set models, CNNs, the transformer, and
//! the writer of the committed example files ([`generate`], run by the `make-examples` binary).

pub mod calo_cnn;
pub mod generate;
pub mod jet_mlp;
pub mod pulse_cnn;
pub mod set_models;
pub mod transformer;

pub use generate::{write_examples, ExamplesError};
pub use jet_mlp::{float_mlp, jet_inputs, jet_mlp, tiny_mlp};
