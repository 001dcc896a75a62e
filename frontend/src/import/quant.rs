//! Importers of the QONNX quantization ops (Quant, BipolarQuant, Trunc), whatever the domain
//! (`qonnx.custom_op.general`, legacy `onnx.brevitas`, `finn.custom_op.general`).

use super::{Attrs, ImportError};
use crate::ir::{Op, RoundMode};

fn rounding(a: &Attrs, default: &str) -> Result<RoundMode, ImportError> {
    let s = a.string("rounding_mode").unwrap_or_else(|| default.to_string());
    RoundMode::parse(&s).ok_or(ImportError::RoundingMode { value: s })
}

pub fn import(op_type: &str, a: &Attrs) -> Result<Option<Op>, ImportError> {
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
