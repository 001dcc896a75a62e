//! Importers of Tachyon's own ops (domain `tachyon.fixed`, docs/qonnx_extension.md):
//! `FixedQuant` and `Lookup`.

use super::{Attrs, ImportError};
use crate::ir::{Op, OverflowMode, RoundMode};

pub fn import(op_type: &str, a: &Attrs) -> Result<Option<Op>, ImportError> {
    Ok(Some(match op_type {
        "FixedQuant" => {
            let r = a.string("round_mode").unwrap_or_else(|| "TRN".into());
            let round = match r.as_str() {
                "TRN" => RoundMode::Floor,
                "RND" => RoundMode::HalfUp,
                "RND_CONV" => RoundMode::HalfEven,
                _ => return Err(ImportError::FixedRoundMode { value: r }),
            };
            let o = a.string("overflow_mode").unwrap_or_else(|| "WRAP".into());
            let overflow = match o.as_str() {
                "WRAP" => OverflowMode::Wrap,
                "SAT" => OverflowMode::Sat,
                "SAT_SYM" => OverflowMode::SatSym,
                _ => return Err(ImportError::FixedOverflowMode { value: o }),
            };
            Op::FixedQuant { round, overflow }
        }
        "Lookup" => {
            let frac = a
                .int("frac")
                .ok_or(ImportError::Missing { op: "Lookup".into(), what: "an integer attribute 'frac'" })?;
            let first = a
                .int("first")
                .ok_or(ImportError::Missing { op: "Lookup".into(), what: "an integer attribute 'first'" })?;
            Op::Lookup { frac, first }
        }
        _ => return Ok(None),
    }))
}
