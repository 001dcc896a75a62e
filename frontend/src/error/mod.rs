//! Errors of the ONNX front end. Every error names the file, and where a node is involved, the
//! node name and op, and says what the user can do about it.

mod import;

pub use import::ImportError;
use std::path::PathBuf;

/// Where in the model an error happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRef {
    /// Node name (or a synthesized `<op>#<index>` when the model leaves it empty).
    pub name: String,
    /// ONNX op type, with its domain when not the default one.
    pub op: String,
}

impl std::fmt::Display for NodeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "node '{}' ({})", self.name, self.op)
    }
}

/// An unsupported node, listed in [`FrontendError::Unsupported`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    pub node: NodeRef,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FrontendError {
    #[error("{path}: cannot read file: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a valid ONNX model ({detail}); is the file truncated, or not an .onnx file?")]
    Decode { path: PathBuf, detail: String },
    #[error("{path}: the model has no graph")]
    NoGraph { path: PathBuf },
    #[error("{path}: {what}")]
    Malformed { path: PathBuf, what: String },
    #[error("{path}: {node}: {what}")]
    Node { path: PathBuf, node: NodeRef, what: String },
    /// A malformed node (bad attribute). (`error` is not a `source`: its text is already part
    /// of this message, and `{:#}` would print it twice.)
    #[error("{path}: {node}: {error}")]
    Import { path: PathBuf, node: NodeRef, error: Box<ImportError> },
    #[error("{path}: initializer '{tensor}': {error}")]
    Tensor { path: PathBuf, tensor: String, error: Box<crate::tensor::TensorError> },
    /// A `Constant` node whose value tensor cannot be decoded.
    #[error("{path}: {node}: {error}")]
    ConstantValue { path: PathBuf, node: NodeRef, error: Box<crate::tensor::TensorError> },
    #[error("{path}: default-domain opset {opset} is not supported (Tachyon reads opsets 7 to 21); re-export the model with an opset in that range")]
    Opset { path: PathBuf, opset: i64 },
    #[error("{path}: {} unsupported node(s):\n{}", list.len(), list.iter().map(|u| format!("  - {}: {}", u.node, u.reason)).collect::<Vec<_>>().join("\n"))]
    Unsupported { path: PathBuf, list: Vec<Unsupported> },
}

pub type Result<T> = std::result::Result<T, FrontendError>;
