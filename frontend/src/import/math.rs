//! Importers of arithmetic, linear-algebra and activation ops.

use super::Attrs;
use crate::ir::Op;

pub fn import(op_type: &str, a: &Attrs, opset: i64) -> Result<Option<Op>, String> {
    Ok(Some(match op_type {
        "MatMul" => Op::MatMul,
        "Gemm" => Op::Gemm {
            alpha: a.float_or("alpha", 1.0),
            beta: a.float_or("beta", 1.0),
            trans_a: a.flag("transA", false)?,
            trans_b: a.flag("transB", false)?,
        },
        "Add" | "Sub" | "Mul" | "Div" => {
            if opset < 7 && a.int("broadcast").is_some() {
                return Err("legacy 'broadcast' attribute (opset < 7) is not supported".into());
            }
            match op_type {
                "Add" => Op::Add,
                "Sub" => Op::Sub,
                "Mul" => Op::Mul,
                _ => Op::Div,
            }
        }
        "Pow" => Op::Pow,
        "Sqrt" => Op::Sqrt,
        "Neg" => Op::Neg,
        "Relu" => Op::Relu,
        "Sigmoid" => Op::Sigmoid,
        "Softmax" => Op::Softmax { axis: a.int_or("axis", if opset >= 13 { -1 } else { 1 }), legacy: opset < 13 },
        "BatchNormalization" => {
            if a.int("training_mode").unwrap_or(0) != 0 {
                return Err(
                    "BatchNormalization in training mode cannot be compiled; export the model in eval mode".into()
                );
            }
            Op::BatchNorm { epsilon: a.float_or("epsilon", 1e-5) }
        }
        _ => return Ok(None),
    }))
}
