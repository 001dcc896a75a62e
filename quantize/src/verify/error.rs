//! [`VerifyError`]: one variant per violated invariant of the quantized IR. Every message names
//! where it happened — a layer as `` layer `name` `` (its name in the dump and in the Verilog),
//! or the model's input or output — and the tensor as `tN`, as in the dump.

use crate::qir::TensorId;
use std::fmt;

/// Where a violation was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Site {
    /// The model's input tensor (`QModel::input`) or the prologue's conversion into it.
    Input,
    /// The model's output tensor (`QModel::output`) or the epilogue reading it.
    Output,
    /// The layer of this name.
    Layer(String),
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Site::Input => write!(f, "the model input"),
            Site::Output => write!(f, "the model output"),
            Site::Layer(name) => write!(f, "layer `{name}`"),
        }
    }
}

/// A violated invariant of the quantized IR (an internal bug in whichever lowering or pass built
/// the model). See [`crate::verify`] for the list.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    // 1. Ids
    #[error("{site} refers to {id} ({role}), but the model has only {count} tensors")]
    BadTensorId { site: Site, role: &'static str, id: TensorId, count: usize },

    // 2. Tensors
    #[error("{site}: tensor {tensor} has shape {shape:?} ({expected} elements) but {elems} element types")]
    ShapeMismatch { site: Site, tensor: TensorId, shape: Vec<usize>, expected: usize, elems: usize },
    #[error("{site}: element {element} of {tensor} has the empty interval [{lo},{hi}]")]
    EmptyInterval { site: Site, tensor: TensorId, element: usize, lo: i128, hi: i128 },
    #[error("{site}: element {element} of {tensor} is on the grid 2^-{frac}; grids must be within 2^±{max}")]
    FracOutOfRange { site: Site, tensor: TensorId, element: usize, frac: i32, max: i32 },
    #[error("{site}: element {element} of {tensor} is {width} bits wide; at most {max} are allowed")]
    TooWide { site: Site, tensor: TensorId, element: usize, width: u32, max: u32 },

    // 3. Model input and output
    #[error("the input conversion quantizes to {ty}, whose width must be 1..=64 bits")]
    BadInputType { ty: String },
    #[error("the model input's element {element} is {elem}, not inside the input conversion's type {ty}")]
    InputOutsideType { element: usize, elem: String, ty: String },
    #[error("the model output {tensor} is never computed (neither the input nor written by a layer)")]
    OutputUndefined { tensor: TensorId },
    #[error("the epilogue reads a value of shape {shape:?} ({expected} elements) but the output {tensor} has {elems}")]
    EpilogueShape { tensor: TensorId, shape: Vec<usize>, expected: usize, elems: usize },

    // 4. Layer names and origins
    #[error(
        "layer name `{layer}` is not Verilog-friendly (ASCII letters, digits and `_`, not empty, no leading digit)"
    )]
    BadLayerName { layer: String },
    #[error("two layers are named `{layer}`; layer names must be unique")]
    DuplicateLayerName { layer: String },
    #[error("layer `{layer}` names no ONNX node it comes from")]
    NoOrigin { layer: String },

    // 5. Dataflow
    #[error("layer `{layer}` reads nothing")]
    NoInputs { layer: String },
    #[error("layer `{layer}` reads {tensor} before it is defined")]
    ReadBeforeDefined { layer: String, tensor: TensorId },
    #[error("layer `{layer}` writes {tensor}, which {first} already defines")]
    WrittenTwice { layer: String, tensor: TensorId, first: Site },

    // 6. Element counts and indices
    #[error("layer `{layer}` ({kind}): {count} {what} for {expected} output elements")]
    CountMismatch { layer: String, kind: &'static str, what: &'static str, count: usize, expected: usize },
    #[error("layer `{layer}` ({kind}): {what} {index} is out of range; the inputs have {inputs} elements")]
    IndexOutOfRange { layer: String, kind: &'static str, what: &'static str, index: u32, inputs: usize },

    // 7. Grids
    #[error("layer `{layer}`: requant spec {element} expects its {side} on grid 2^-{spec} but it is on 2^-{actual}")]
    RequantGrid { layer: String, element: usize, side: &'static str, spec: i32, actual: i32 },
    #[error("layer `{layer}` ({kind}): output element {element} is on grid 2^-{to} but reads input element {source_element} on 2^-{from}; {kind} keeps grids")]
    GridChanged { layer: String, kind: &'static str, element: usize, source_element: u32, from: i32, to: i32 },
    #[error("layer `{layer}`: product {element} of grids 2^-{a} and 2^-{b} is not on 2^-{out}")]
    ProductGrid { layer: String, element: usize, a: i32, b: i32, out: i32 },
    #[error("layer `{layer}` ({kind}): input element {element} is on grid 2^-{frac} but element 0 is on 2^-{first}; the inputs must share one grid")]
    MixedGrid { layer: String, kind: &'static str, element: usize, frac: i32, first: i32 },

    // 8. Parameters of the layer kinds
    #[error("layer `{layer}`: requant spec {element} has the empty range [{lo},{hi}]")]
    RequantRange { layer: String, element: usize, lo: i128, hi: i128 },
    #[error("layer `{layer}`: requant divisor {div} (must be odd, and 1 with wrap-around)")]
    RequantDivisor { layer: String, element: usize, div: u32 },
    #[error("layer `{layer}`: step function {element} has {values} values for {thresholds} thresholds; it needs one more value than thresholds")]
    StepsLength { layer: String, element: usize, thresholds: usize, values: usize },
    #[error("layer `{layer}`: the thresholds of step function {element} do not strictly increase")]
    StepsOrder { layer: String, element: usize },
    #[error("layer `{layer}`: the {table} is empty")]
    EmptyTable { layer: String, table: &'static str },
    #[error("layer `{layer}`: entry {entry} of the {table} is {value}; the entries must not be negative")]
    NegativeTableEntry { layer: String, table: &'static str, entry: usize, value: i128 },
    #[error("layer `{layer}`: the {what} is {shift}; shifts must be below 128")]
    ShiftTooLarge { layer: String, what: &'static str, shift: u32 },
    #[error("layer `{layer}`: maximum {element} is over an empty set")]
    EmptyMaxSet { layer: String, element: usize },
    #[error("layer `{layer}`: layer normalization with {mant_bits} mantissa bits; 2..={max} are allowed")]
    LayerNormMantissa { layer: String, mant_bits: u32, max: u32 },
    #[error("layer `{layer}`: the 1/√x table for parity {parity} has {len} entries; {mant_bits} mantissa bits need {expected}")]
    LayerNormTable { layer: String, parity: usize, len: usize, mant_bits: u32, expected: usize },
    #[error("layer `{layer}`: layer normalization epsilon {eps} is below 1 (the variance must be at least 1)")]
    LayerNormEps { layer: String, eps: i128 },
    #[error("layer `{layer}`: layer normalization exponents p = {p}, hmax = {hmax}, shift = {shift} are out of range (at most 2^20 in magnitude)")]
    LayerNormExponents { layer: String, p: u32, hmax: i32, shift: u32 },
    #[error("layer `{layer}`: layer normalization hmax = {hmax}, but the input range reaches h = {needed}")]
    LayerNormHmax { layer: String, hmax: i32, needed: i32 },
    #[error("layer `{layer}`: the variance of the inputs of this layer normalization overflows i128")]
    LayerNormRange { layer: String },

    // 9. Soundness
    #[error("layer `{layer}` ({kind}): the range of output element {element} overflows i128")]
    Overflow { layer: String, kind: &'static str, element: usize },
    #[error(
        "layer `{layer}` ({kind}): element {element} can reach [{lo},{hi}] outside its type [{type_lo},{type_hi}]"
    )]
    Unsound { layer: String, kind: &'static str, element: usize, lo: i128, hi: i128, type_lo: i128, type_hi: i128 },
}
