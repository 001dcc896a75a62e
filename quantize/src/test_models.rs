//! Small hand-made models for unit tests.

use crate::fixed::Elem;
use crate::qir::{InputConv, Layer, LayerKind, Prologue, QModel, QTensor, TensorId};

/// A layer named after its one ONNX node.
pub fn layer(name: &str, kind: LayerKind, inputs: &[u32], output: u32) -> Layer {
    Layer {
        name: name.into(),
        origin: vec![name.into()],
        kind,
        inputs: inputs.iter().map(|&t| TensorId(t)).collect(),
        output: TensorId(output),
    }
}

pub fn linear(name: &str, input: u32, output: u32, rows: Vec<Vec<(u32, i128)>>, bias: Vec<i128>) -> Layer {
    layer(name, LayerKind::Linear { rows, bias }, &[input], output)
}

/// A `[1, n]` tensor of `elems`.
pub fn tensor(name: &str, elems: Vec<Elem>) -> QTensor {
    QTensor { name: name.into(), shape: vec![1, elems.len()], elems, offset: vec![] }
}

/// The model of `tensors` and `layers` whose input is tensor 0 (integers on the grid
/// `2^-frac`) and whose output is the last tensor.
pub fn qmodel(name: &str, tensors: Vec<QTensor>, layers: Vec<Layer>, frac: i32) -> QModel {
    let (input_shape, output_shape) = (tensors[0].shape.clone(), tensors[tensors.len() - 1].shape.clone());
    QModel {
        name: name.into(),
        output: TensorId(tensors.len() as u32 - 1),
        tensors,
        layers,
        input: TensorId(0),
        prologue: Prologue { input_shape, steps: vec![], conv: InputConv::Exact { frac }, select: None },
        epilogue: vec![],
        epilogue_shape: output_shape.clone(),
        output_shape,
    }
}
