//! Tachyon's numbers: fixed-point types and exact rounding ([`fixed`], [`round`]), the build
//! configuration ([`config`]), the quantized IR ([`qir`]) with its verifier ([`verify`]), the
//! lowering from the front-end graph ([`lower`]) and the bit-exact reference interpreter
//! ([`interp`]) that every hardware path is checked against.

pub mod config;
pub mod error;
pub mod fixed;
pub mod interp;
pub mod lower;
pub mod plan;
pub mod qir;
pub mod relations;
pub mod round;
#[cfg(test)]
mod test_models;
pub mod verify;

pub use config::{Config, ConfigError};
pub use error::QuantizeError;
pub use fixed::{Elem, FixedType, FixedTypeError, Overflow};
pub use lower::lower;
pub use qir::{LayerKind, QModel, TensorId};
pub use round::Round;
pub use verify::verify;
