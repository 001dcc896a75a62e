//! Importers of arithmetic, linear-algebra (Einsum included) and activation ops.

use super::{Attrs, ImportError};
use crate::ir::{FloatFn, Op};

pub fn import(op_type: &str, a: &Attrs, opset: i64) -> Result<Option<Op>, ImportError> {
    Ok(Some(match op_type {
        "MatMul" => Op::MatMul,
        "Gemm" => Op::Gemm {
            alpha: a.float_or("alpha", 1.0),
            beta: a.float_or("beta", 1.0),
            trans_a: a.flag("transA", false)?,
            trans_b: a.flag("transB", false)?,
        },
        "Add" | "Sub" | "Mul" | "Div" | "Pow" => {
            // Before opset 7, `broadcast=1` aligned B with the trailing axes of A (numpy's rule
            // for equal or unit sizes), or with the axes from `axis` on, which needs A's rank.
            if opset < 7 && a.int_or("broadcast", 0) != 0 && a.int("axis").is_some() {
                return Ok(Some(Op::Unsupported {
                    reason: format!(
                        "{op_type} with broadcast=1 and axis={} (opset < 7) aligns B with A from that axis on, which \
                         needs A's rank and a constant B; give A's shape in the model's value_info (as \
                         onnx.shape_inference writes it), or re-export the model with opset 7 or later",
                        a.int_or("axis", 0)
                    ),
                }));
            }
            match op_type {
                "Add" => Op::Add,
                "Sub" => Op::Sub,
                "Mul" => Op::Mul,
                "Pow" => Op::Pow,
                _ => Op::Div,
            }
        }
        "Sqrt" => Op::Sqrt,
        "Neg" => Op::Neg,
        "Relu" => Op::Relu,
        "Sigmoid" => Op::Sigmoid,
        "Tanh" => Op::Tanh,
        "Erf" => Op::Erf,
        "Gelu" => {
            if opset < 20 {
                return Err(ImportError::OpsetTooOld { op: "Gelu", since: 20, opset });
            }
            match a.string("approximate").as_deref().unwrap_or("none") {
                "none" => Op::Gelu { tanh: false },
                "tanh" => Op::Gelu { tanh: true },
                other => return Err(ImportError::GeluApproximate { value: other.to_string() }),
            }
        }
        // The defaults as the float32 attributes of an exported model would hold them.
        "LeakyRelu" => Op::LeakyRelu { alpha: a.float_or("alpha", f64::from(0.01f32)) },
        "HardSigmoid" => {
            Op::HardSigmoid { alpha: a.float_or("alpha", f64::from(0.2f32)), beta: a.float_or("beta", 0.5) }
        }
        "Clip" => {
            let (min, max) = (a.float("min"), a.float("max"));
            if opset >= 11 && (min.is_some() || max.is_some()) {
                return Err(ImportError::ClipAttributes { opset });
            }
            Op::Clip { min, max }
        }
        // Element-wise float functions (attribute defaults as float32, like HardSigmoid's).
        "Selu" => Op::Func(FloatFn::Selu {
            alpha: a.float_or("alpha", f64::from(1.673_263_2_f32)),
            gamma: a.float_or("gamma", f64::from(1.050_701_f32)),
        }),
        "Elu" => Op::Func(FloatFn::Elu { alpha: a.float_or("alpha", 1.0) }),
        "Celu" => Op::Func(FloatFn::Celu { alpha: a.float_or("alpha", 1.0) }),
        "Softplus" => Op::Func(FloatFn::Softplus),
        "Softsign" => Op::Func(FloatFn::Softsign),
        "HardSwish" => Op::Func(FloatFn::HardSwish),
        "Mish" => Op::Func(FloatFn::Mish),
        "Exp" => Op::Func(FloatFn::Exp),
        "Log" => Op::Func(FloatFn::Log),
        "Abs" => Op::Func(FloatFn::Abs),
        "Max" => Op::Max,
        "Min" => Op::Min,
        "Einsum" => {
            let eq = a.string("equation").ok_or(ImportError::Missing {
                op: "Einsum".into(),
                what: "the string attribute 'equation' (e.g. \"ij,jk->ik\")",
            })?;
            Op::Einsum {
                equation: crate::eval::einsum::normalize(&eq).map_err(|detail| ImportError::Equation { detail })?,
            }
        }
        "Softmax" => Op::Softmax { axis: a.int_or("axis", if opset >= 13 { -1 } else { 1 }), legacy: opset < 13 },
        "LayerNormalization" => {
            if opset < 17 {
                return Err(ImportError::OpsetTooOld { op: "LayerNormalization", since: 17, opset });
            }
            Op::LayerNorm { axis: a.int_or("axis", -1), epsilon: a.float_or("epsilon", f64::from(1e-5f32)) }
        }
        "BatchNormalization" => {
            if a.int("training_mode").unwrap_or(0) != 0 {
                return Err(ImportError::TrainingMode);
            }
            // Opsets < 7 say inference with is_test=1 (default 0: batch statistics); opsets < 9
            // normalize per element, not per channel, with spatial=0.
            if opset < 7 && a.int_or("is_test", 0) == 0 {
                return Err(ImportError::TrainingMode);
            }
            if opset < 9 && a.int_or("spatial", 1) == 0 {
                return Ok(Some(Op::Unsupported {
                    reason: "BatchNormalization with spatial=0 (statistics per element, opset < 9) cannot be \
                             upgraded; export it with per-channel statistics"
                        .into(),
                }));
            }
            Op::BatchNorm { epsilon: a.float_or("epsilon", 1e-5) }
        }
        _ => return Ok(None),
    }))
}
