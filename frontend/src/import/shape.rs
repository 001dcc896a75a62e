//! Importers of data-movement ops: reshapes, transposes, slicing, splitting, broadcasting, shape
//! arithmetic, casts, no-ops.

use super::{Attrs, ImportError};
use crate::ir::Op;

pub fn import(op_type: &str, a: &Attrs, opset: i64, outputs: &[String]) -> Result<Option<Op>, ImportError> {
    Ok(Some(match op_type {
        "Flatten" => Op::Flatten { axis: a.int_or("axis", 1) },
        "Reshape" => {
            // Opsets < 5 hold the shape in an attribute; `upgrade` has made it the second input.
            if a.ints("shape").is_some() {
                return Err(ImportError::LegacyReshape);
            }
            Op::Reshape { allowzero: a.flag("allowzero", false)? }
        }
        "Identity" => Op::Identity,
        "Dropout" => Op::Dropout,
        "Transpose" => Op::Transpose { perm: a.ints("perm") },
        "Shape" => Op::Shape { start: a.int_or("start", 0), end: a.int("end") },
        "Gather" => Op::Gather { axis: a.int_or("axis", 0) },
        "Unsqueeze" => Op::Unsqueeze { axes: a.ints("axes") },
        "Squeeze" => Op::Squeeze { axes: a.ints("axes") },
        "Concat" => Op::Concat {
            // Opsets < 4 default to axis 1.
            axis: match a.int("axis") {
                Some(axis) => axis,
                None if opset < 4 => 1,
                None => return Err(ImportError::Missing { op: "Concat".into(), what: "an 'axis' attribute" }),
            },
        },
        "Cast" if opset < 6 && a.string("to").is_some_and(|t| !t.is_empty()) => {
            // Opsets < 6 name the type as a string ("FLOAT").
            let to = a.string("to").unwrap_or_default();
            Op::Cast { to: super::upgrade::data_type_named(&to).ok_or(ImportError::CastTypeName { name: to })? }
        }
        "Cast" => Op::Cast {
            to: a.int("to").ok_or(ImportError::Missing { op: "Cast".into(), what: "a 'to' attribute" })? as i32,
        },
        "Constant" => Op::Constant,
        "Slice" => {
            let (starts, ends, axes) = (a.ints("starts"), a.ints("ends"), a.ints("axes"));
            if opset >= 10 {
                if starts.is_some() || ends.is_some() || axes.is_some() {
                    return Err(ImportError::SliceAttributes { opset });
                }
                Op::Slice { starts: None, ends: None, axes: None }
            } else {
                match (starts, ends) {
                    (Some(s), Some(e)) => Op::Slice { starts: Some(s), ends: Some(e), axes },
                    _ => {
                        return Err(ImportError::Missing {
                            op: "Slice".into(),
                            what: "the attributes 'starts' and 'ends' (before opset 10)",
                        })
                    }
                }
            }
        }
        "Expand" => Op::Expand,
        "Tile" if opset < 6 => Op::Unsupported {
            reason: "Tile of opset < 6 (inputs 'tiles' and 'axis') cannot be upgraded without the input's rank; \
                     re-export the model with opset 6 or later (repeats per axis)"
                .into(),
        },
        "Tile" => Op::Tile,
        "Split" => {
            if outputs.iter().any(|o| o.is_empty()) {
                return Err(ImportError::UnnamedSplitOutput);
            }
            let split = a.ints("split");
            if split.is_some() && opset >= 13 {
                return Err(ImportError::SplitAttribute { opset });
            }
            if let Some(s) = split.as_ref().filter(|s| s.len() != outputs.len()) {
                return Err(ImportError::SplitSizes { sizes: s.len(), outputs: outputs.len() });
            }
            if let Some(n) = a.int("num_outputs").filter(|&n| n != outputs.len() as i64) {
                return Err(ImportError::NumOutputs { n, outputs: outputs.len() });
            }
            Op::Split { axis: a.int_or("axis", 0), split, outputs: outputs.len() }
        }
        _ => return Ok(None),
    }))
}
