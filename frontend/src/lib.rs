//! Tachyon's ONNX front end: a hand-written prost schema of ONNX ([`proto`]), decoding of tensors
//! including external data ([`tensor`]), the graph IR ([`ir`]) built by per-family importers
//! ([`import`]), float semantics of every supported op ([`eval`]), shape inference and constant
//! folding ([`fold`]) and a text dump ([`print`]).

pub mod error;
pub mod eval;
pub mod fold;
pub mod fuse;
pub mod import;
pub mod ir;
pub mod print;
pub mod proto;
pub mod serde_f64;
pub mod tensor;

pub use error::{FrontendError, NodeRef, Unsupported};
pub use import::{
    decode_model, decode_model_with, load_model, load_model_with, set_input_shapes, ImportError, ImportOptions,
    InputShape, FIXED_DOMAIN,
};
pub use ir::{
    AutoPad, Graph, InputNote, NearestMode, Node, NodeId, Op, OverflowMode, PadMode, ReduceKind, ResizeCoord,
    RoundMode, Value, ValueId, Window,
};
pub use tensor::{DType, Tensor, TensorError};
