//! Importers of the reductions ReduceSum, ReduceMean, ReduceMax and ReduceMin.

use super::{Attrs, ImportError};
use crate::ir::{Op, ReduceKind};

pub fn import(op_type: &str, a: &Attrs, opset: i64) -> Result<Option<Op>, ImportError> {
    let kind = match op_type {
        "ReduceSum" => ReduceKind::Sum,
        "ReduceMean" => ReduceKind::Mean,
        "ReduceMax" => ReduceKind::Max,
        "ReduceMin" => ReduceKind::Min,
        _ => return Ok(None),
    };
    // The opset from which the axes are the second input instead of an attribute.
    let axes_input_from = if kind == ReduceKind::Sum { 13 } else { 18 };
    let axes = a.ints("axes");
    if axes.is_some() && opset >= axes_input_from {
        return Err(ImportError::ReduceAxesAttribute { op: op_type.to_string(), since: axes_input_from, opset });
    }
    Ok(Some(Op::Reduce {
        kind,
        axes,
        keepdims: a.flag("keepdims", true)?,
        noop_with_empty_axes: a.flag("noop_with_empty_axes", false)?,
    }))
}
