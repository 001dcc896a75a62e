//! [`ImportError`]: why one node cannot be imported (a malformed or unsupported attribute, an
//! output layout Tachyon cannot read). The messages say what is wrong and what to do; the caller
//! ([`crate::FrontendError::Import`]) adds the file and the ONNX node.

use crate::ir::AutoPad;

/// A malformed node, found while decoding its attributes. Fatal: the model cannot be imported.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ImportError {
    #[error("attribute '{name}' must be 0 or 1, found {value}")]
    NotAFlag { name: String, value: i64 },
    #[error("{op} needs {what}")]
    Missing { op: String, what: &'static str },
    #[error("rounding_mode '{value}' is not one of ROUND (HALF_EVEN), HALF_UP, HALF_DOWN, CEIL, FLOOR, DOWN (ROUND_TO_ZERO); UP (away from zero) is not supported")]
    RoundingMode { value: String },
    #[error("round_mode '{value}' of FixedQuant is not one of TRN, RND, RND_CONV")]
    FixedRoundMode { value: String },
    #[error("overflow_mode '{value}' of FixedQuant is not one of WRAP, SAT, SAT_SYM")]
    FixedOverflowMode { value: String },
    #[error("attribute 'auto_pad' must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, found '{value}'")]
    AutoPad { value: String },
    #[error("attribute '{name}' must hold integers of at least {min}, found {bad} in {values:?}")]
    TooSmall { name: String, min: i64, bad: i64, values: Vec<i64> },
    #[error("attribute 'pads' cannot be combined with auto_pad {auto_pad:?}; give only one of them")]
    PadsWithAutoPad { auto_pad: AutoPad },
    #[error("attribute 'pads' must hold a begin and an end per spatial axis, found {count} values")]
    OddPads { count: usize },
    #[error("attribute '{name}' covers {n} spatial axes but '{first}' covers {m}; give one value per spatial axis")]
    SpatialAxes { name: &'static str, n: usize, first: &'static str, m: usize },
    #[error("attribute 'group' must be a positive integer, found {group}")]
    Group { group: i64 },
    #[error("the second output 'Indices' of MaxPool is not supported; remove it from the model")]
    MaxPoolIndices,
    #[error("attribute 'mode' must be constant, reflect, edge or wrap, found '{value}'")]
    PadMode { value: String },
    #[error("Pad attributes 'pads' and 'value' were replaced by inputs in opset 11; this model is opset {opset}, so give them as the second and third inputs")]
    PadAttributes { opset: i64 },
    #[error("Clip attributes 'min' and 'max' were replaced by inputs in opset 11; this model is opset {opset}, so give the bounds as the second and third inputs")]
    ClipAttributes { opset: i64 },
    #[error("Slice attributes 'starts', 'ends' and 'axes' were replaced by inputs in opset 10; this model is opset {opset}, so give them as inputs")]
    SliceAttributes { opset: i64 },
    #[error("Split attribute 'split' was replaced by the second input in opset 13; this model is opset {opset}, so give the sizes as a constant second input")]
    SplitAttribute { opset: i64 },
    #[error("attribute 'axes' of {op} was replaced by the second input in opset {since}; this model is opset {opset}, so give the axes as a constant second input")]
    ReduceAxesAttribute { op: String, since: i64, opset: i64 },
    #[error("legacy 'broadcast' attribute (opset < 7) is not supported")]
    LegacyBroadcast,
    #[error("Reshape has both a 'shape' attribute (opset < 5) and a shape input; give only one of them")]
    LegacyReshape,
    #[error("Cast attribute 'to' is '{name}', which is not an ONNX data type name (FLOAT, DOUBLE, INT8, …, BOOL)")]
    CastTypeName { name: String },
    #[error("{op} is an opset-{since} op; this model imports opset {opset}")]
    OpsetTooOld { op: &'static str, since: i64, opset: i64 },
    #[error("attribute 'approximate' is \"{value}\"; Gelu knows \"none\" and \"tanh\"")]
    GeluApproximate { value: String },
    #[error("attribute 'equation': {detail}")]
    Equation { detail: String },
    #[error("BatchNormalization in training mode (training_mode=1, or is_test=0 before opset 7) cannot be compiled; export the model in eval mode")]
    TrainingMode,
    #[error("every output of Split must be named")]
    UnnamedSplitOutput,
    #[error("attribute 'split' gives {sizes} sizes for {outputs} outputs")]
    SplitSizes { sizes: usize, outputs: usize },
    #[error("attribute 'num_outputs' is {n} but the node has {outputs} outputs")]
    NumOutputs { n: i64, outputs: usize },
}
