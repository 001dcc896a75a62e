//! Importers of the QONNX quantization ops (Quant, BipolarQuant, Trunc), whatever the domain
//! (`qonnx.custom_op.general`, legacy `onnx.brevitas`, `finn.custom_op.general`).

use super::Attrs;
use crate::ir::{Op, RoundMode};

fn rounding(a: &Attrs, default: &str) -> Result<RoundMode, String> {
    let s = a.string("rounding_mode").unwrap_or_else(|| default.to_string());
    RoundMode::parse(&s).ok_or_else(|| {
        format!("rounding_mode '{s}' is not one of ROUND, HALF_UP, HALF_DOWN, CEIL, FLOOR, ROUND_TO_ZERO")
    })
}

pub fn import(op_type: &str, a: &Attrs) -> Result<Option<Op>, String> {
    Ok(Some(match op_type {
        "Quant" => {
            Op::Quant { signed: a.flag("signed", true)?, narrow: a.flag("narrow", true)?, round: rounding(a, "ROUND")? }
        }
        "BipolarQuant" => Op::BipolarQuant,
        "Trunc" => Op::Trunc {
            signed: a.flag("signed", true)?,
            narrow: a.flag("narrow", false)?,
            round: rounding(a, "FLOOR")?,
        },
        _ => return Ok(None),
    }))
}
