//! Importers of data-movement ops: reshapes, transposes, shape arithmetic, casts, no-ops.

use super::Attrs;
use crate::ir::Op;

pub fn import(op_type: &str, a: &Attrs, opset: i64) -> Result<Option<Op>, String> {
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
        _ => return Ok(None),
    }))
}
