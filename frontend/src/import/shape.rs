//! Importers of data-movement ops: reshapes, transposes, slicing, splitting, broadcasting, shape
//! arithmetic, casts, no-ops.

use super::Attrs;
use crate::ir::Op;

pub fn import(op_type: &str, a: &Attrs, opset: i64, outputs: &[String]) -> Result<Option<Op>, String> {
    Ok(Some(match op_type {
        "Flatten" => Op::Flatten { axis: a.int_or("axis", 1) },
        "Reshape" => {
            if opset < 5 {
                return Err("Reshape with a 'shape' attribute (opset < 5) is not supported".into());
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
        "Concat" => Op::Concat { axis: a.int("axis").ok_or("Concat needs an 'axis' attribute")? },
        "Cast" => Op::Cast { to: a.int("to").ok_or("Cast needs a 'to' attribute")? as i32 },
        "Constant" => Op::Constant,
        "Slice" => {
            let (starts, ends, axes) = (a.ints("starts"), a.ints("ends"), a.ints("axes"));
            if opset >= 10 {
                if starts.is_some() || ends.is_some() || axes.is_some() {
                    return Err(format!(
                        "Slice attributes 'starts', 'ends' and 'axes' were replaced by inputs in opset 10; this model \
                         is opset {opset}, so give them as inputs"
                    ));
                }
                Op::Slice { starts: None, ends: None, axes: None }
            } else {
                match (starts, ends) {
                    (Some(s), Some(e)) => Op::Slice { starts: Some(s), ends: Some(e), axes },
                    _ => return Err("Slice needs the attributes 'starts' and 'ends' (before opset 10)".into()),
                }
            }
        }
        "Expand" => Op::Expand,
        "Tile" => Op::Tile,
        "Split" => {
            if outputs.iter().any(|o| o.is_empty()) {
                return Err("every output of Split must be named".into());
            }
            let split = a.ints("split");
            if split.is_some() && opset >= 13 {
                return Err(format!(
                    "Split attribute 'split' was replaced by the second input in opset 13; this model is opset \
                     {opset}, so give the sizes as a constant second input"
                ));
            }
            if let Some(s) = split.as_ref().filter(|s| s.len() != outputs.len()) {
                return Err(format!("attribute 'split' gives {} sizes for {} outputs", s.len(), outputs.len()));
            }
            if let Some(n) = a.int("num_outputs").filter(|&n| n != outputs.len() as i64) {
                return Err(format!("attribute 'num_outputs' is {n} but the node has {} outputs", outputs.len()));
            }
            Op::Split { axis: a.int_or("axis", 0), split, outputs: outputs.len() }
        }
        _ => return Ok(None),
    }))
}
