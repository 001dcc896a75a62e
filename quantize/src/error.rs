//! Errors of quantization and lowering to the quantized IR. Each names the ONNX node and op.

#[derive(Debug, thiserror::Error)]
pub enum QuantizeError {
    #[error("{path}: {node} ({op}): {what}")]
    Node { path: String, node: String, op: String, what: String },
    #[error("{path}: {what}")]
    Model { path: String, what: String },
    #[error("config: {0}")]
    Config(String),
    #[error(transparent)]
    Frontend(#[from] tachyon_frontend::FrontendError),
}
