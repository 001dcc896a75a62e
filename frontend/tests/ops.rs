//! Float semantics of the structural and CNN ops (reductions, Slice, Expand, Tile, Split, Pad,
//! Einsum, Conv, pooling, activations) on small tensors against hand-computed values, and their
//! import from ONNX models. One submodule per op family under `tests/ops/`.

#[path = "ops/activations.rs"]
mod activations;
#[path = "ops/cnn.rs"]
mod cnn;
#[path = "ops/einsum.rs"]
mod einsum;
#[path = "ops/import.rs"]
mod import;
#[path = "ops/movement.rs"]
mod movement;
#[path = "ops/reduce.rs"]
mod reduce;

use tachyon_frontend::eval::eval_op;
use tachyon_frontend::{AutoPad, DType, Op, Tensor, Window};

/// A float64 tensor (no float32 rounding in the way of exact expectations).
fn t(shape: &[usize], data: &[f64]) -> Tensor {
    Tensor::new(DType::F64, shape.to_vec(), data.to_vec())
}

/// 1, 2, 3, … in a tensor of `shape`.
fn iota(shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    t(shape, &(1..=n).map(|v| v as f64).collect::<Vec<_>>())
}

/// A 1-D int64 tensor (axes, shapes, pads, …).
fn ints(v: &[i64]) -> Tensor {
    Tensor::new(DType::Int, vec![v.len()], v.iter().map(|&x| x as f64).collect())
}

/// Evaluates `op` on present inputs (`None` = omitted optional input).
fn run_opt(op: &Op, inputs: &[Option<&Tensor>]) -> Vec<Tensor> {
    eval_op(op, inputs, 21).unwrap_or_else(|e| panic!("{op:?} failed: {e}"))
}

/// Evaluates a single-output `op`.
fn run(op: &Op, inputs: &[&Tensor]) -> Tensor {
    let ins: Vec<Option<&Tensor>> = inputs.iter().map(|&t| Some(t)).collect();
    let mut out = run_opt(op, &ins);
    assert_eq!(out.len(), 1, "{op:?} has one output");
    out.remove(0)
}

/// The error of an evaluation that must fail.
fn fails(op: &Op, inputs: &[&Tensor]) -> String {
    let ins: Vec<Option<&Tensor>> = inputs.iter().map(|&t| Some(t)).collect();
    eval_op(op, &ins, 21).expect_err("must fail")
}

/// Asserts shape and values (to 1e-12).
#[track_caller]
fn check(y: &Tensor, shape: &[usize], data: &[f64]) {
    assert_eq!(y.shape, shape, "shape of {y:?}");
    assert_eq!(y.data.len(), data.len(), "{y:?}");
    for (i, (a, b)) in y.data.iter().zip(data).enumerate() {
        assert!((a - b).abs() <= 1e-12 || (a.is_nan() && b.is_nan()), "element {i}: {a} ≠ {b} in {:?}", y.data);
    }
}

/// A window with every attribute at its default.
fn window() -> Window {
    Window { kernel: None, strides: None, dilations: None, pads: None, auto_pad: AutoPad::NotSet }
}
