//! Errors of quantization and lowering to the quantized IR. Each names the ONNX node and op.

#[derive(Debug, thiserror::Error)]
pub enum QuantizeError {
    #[error("{path}: {node} ({op}): {what}")]
    Node { path: String, node: String, op: String, what: String },
    #[error("{path}: {what}")]
    Model { path: String, what: String },
    /// The lowered model breaks an invariant of the quantized IR: a bug in Tachyon, not in the
    /// user's file. (`error` is not a `source`: its text is already part of this message.)
    #[error("{path}: internal error: {error}")]
    Verify { path: String, error: Box<crate::verify::VerifyError> },
    #[error("config: {0}")]
    Config(String),
    #[error(transparent)]
    Frontend(#[from] tachyon_frontend::FrontendError),
}
