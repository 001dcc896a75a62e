//! Pieces shared by product code, examples, fuzzing and tests, with no place in the compiler
//! pipeline itself:
//!
//! * [`onnx_builder`] writes ONNX/QONNX models (graph inputs and outputs, initializers, nodes,
//!   QONNX `Quant` nodes);
//! * [`npy`] reads and writes NumPy `.npy` files (input samples, expected outputs);
//! * [`rng`] is a small seeded PRNG (same seed, same sequence, on every run).

pub mod npy;
pub mod onnx_builder;
pub mod rng;

pub use npy::{read_npy, write_npy_f32, write_npy_f64, write_npy_i64, NpyArray, NpyData, NpyError};
pub use onnx_builder::{Attr, GraphBuilder};
pub use rng::Rng;
