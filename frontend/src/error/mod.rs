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
    #[error("{path}: default-domain opset {opset} is not supported (Tachyon reads opsets 1 to 23); re-export the model with an opset in that range")]
    Opset { path: PathBuf, opset: i64 },
    #[error("{path}: {} unsupported node(s):\n{}", list.len(), grouped(list).join("\n"))]
    Unsupported { path: PathBuf, list: Vec<Unsupported> },
}

/// The unsupported nodes, one line per op kind (in order of first appearance):
/// `  - Upsample (3 nodes: 'a', 'b', 'c'): <reason>`, or with the reason of each node when they
/// differ.
pub fn grouped(list: &[Unsupported]) -> Vec<String> {
    let mut kinds: Vec<(&str, Vec<&Unsupported>)> = vec![];
    for u in list {
        match kinds.iter_mut().find(|(op, _)| *op == u.node.op) {
            Some((_, nodes)) => nodes.push(u),
            None => kinds.push((&u.node.op, vec![u])),
        }
    }
    kinds
        .into_iter()
        .map(|(op, nodes)| {
            let names: Vec<String> = nodes.iter().map(|u| format!("'{}'", u.node.name)).collect();
            let who = match names.len() {
                1 => format!("node {}", names[0]),
                n => format!("{n} nodes: {}", names.join(", ")),
            };
            if nodes.iter().all(|u| u.reason == nodes[0].reason) {
                format!("  - {op} ({who}): {}", nodes[0].reason)
            } else {
                let each: Vec<String> = nodes.iter().map(|u| format!("'{}': {}", u.node.name, u.reason)).collect();
                format!("  - {op} ({who}): {}", each.join("; "))
            }
        })
        .collect()
}

pub type Result<T> = std::result::Result<T, FrontendError>;
