//! Importers of the convolutional-network ops: Conv, MaxPool, AveragePool, the global pools and
//! Pad.

use super::{Attrs, ImportError};
use crate::ir::{AutoPad, Op, PadMode, Window};

/// An ints attribute whose values must all be at least `min`.
fn sizes(a: &Attrs, name: &str, min: i64) -> Result<Option<Vec<usize>>, ImportError> {
    let Some(v) = a.ints(name) else { return Ok(None) };
    match v.iter().find(|&&x| x < min) {
        Some(&bad) => Err(ImportError::TooSmall { name: name.to_string(), min, bad, values: v }),
        None => Ok(Some(v.iter().map(|&x| x as usize).collect())),
    }
}

/// The window attributes shared by Conv and the pools, checked for consistent lengths.
fn window(a: &Attrs, op_type: &str, kernel_required: bool) -> Result<Window, ImportError> {
    let auto_pad = match a.string("auto_pad").as_deref() {
        None | Some("NOTSET") | Some("") => AutoPad::NotSet,
        Some("SAME_UPPER") => AutoPad::SameUpper,
        Some("SAME_LOWER") => AutoPad::SameLower,
        Some("VALID") => AutoPad::Valid,
        Some(other) => return Err(ImportError::AutoPad { value: other.to_string() }),
    };
    let w = Window {
        kernel: sizes(a, "kernel_shape", 1)?,
        strides: sizes(a, "strides", 1)?,
        dilations: sizes(a, "dilations", 1)?,
        pads: sizes(a, "pads", 0)?,
        auto_pad,
    };
    if kernel_required && w.kernel.is_none() {
        return Err(ImportError::Missing { op: op_type.to_string(), what: "the attribute 'kernel_shape'" });
    }
    if auto_pad != AutoPad::NotSet && w.pads.as_ref().is_some_and(|p| p.iter().any(|&v| v != 0)) {
        return Err(ImportError::PadsWithAutoPad { auto_pad });
    }
    if let Some(p) = w.pads.as_ref().filter(|p| p.len() % 2 != 0) {
        return Err(ImportError::OddPads { count: p.len() });
    }
    // Every given attribute must agree on the number of spatial axes.
    let given = [
        ("kernel_shape", w.kernel.as_ref().map(Vec::len)),
        ("strides", w.strides.as_ref().map(Vec::len)),
        ("dilations", w.dilations.as_ref().map(Vec::len)),
        ("pads", w.pads.as_ref().map(|p| p.len() / 2)),
    ];
    let mut given = given.into_iter().filter_map(|(name, n)| Some((name, n?)));
    if let Some((first, m)) = given.next() {
        if let Some((name, n)) = given.find(|&(_, n)| n != m) {
            return Err(ImportError::SpatialAxes { name, n, first, m });
        }
    }
    Ok(w)
}

pub fn import(op_type: &str, a: &Attrs, opset: i64, outputs: &[String]) -> Result<Option<Op>, ImportError> {
    Ok(Some(match op_type {
        "Conv" => {
            let group = a.int_or("group", 1);
            if group < 1 {
                return Err(ImportError::Group { group });
            }
            Op::Conv { window: window(a, op_type, false)?, group: group as usize }
        }
        "MaxPool" => {
            if outputs.get(1).is_some_and(|o| !o.is_empty()) {
                return Err(ImportError::MaxPoolIndices);
            }
            Op::MaxPool { window: window(a, op_type, true)?, ceil_mode: a.flag("ceil_mode", false)? }
        }
        "AveragePool" => Op::AveragePool {
            window: window(a, op_type, true)?,
            ceil_mode: a.flag("ceil_mode", false)?,
            count_include_pad: a.flag("count_include_pad", false)?,
        },
        "GlobalAveragePool" => Op::GlobalAveragePool,
        "GlobalMaxPool" => Op::GlobalMaxPool,
        "Pad" => {
            let mode = match a.string("mode").as_deref() {
                None | Some("constant") => PadMode::Constant,
                Some("reflect") => PadMode::Reflect,
                Some("edge") => PadMode::Edge,
                Some("wrap") => PadMode::Wrap,
                Some(other) => return Err(ImportError::PadMode { value: other.to_string() }),
            };
            // Opset 1 calls the pads 'paddings'.
            let pads = if opset < 2 { a.ints("paddings").or_else(|| a.ints("pads")) } else { a.ints("pads") };
            let value = a.float("value");
            if opset >= 11 {
                if pads.is_some() || value.is_some() {
                    return Err(ImportError::PadAttributes { opset });
                }
                Op::Pad { mode, pads: None, value: 0.0 }
            } else {
                let pads = pads
                    .ok_or(ImportError::Missing { op: "Pad".into(), what: "the attribute 'pads' (before opset 11)" })?;
                Op::Pad { mode, pads: Some(pads), value: value.unwrap_or(0.0) }
            }
        }
        _ => return Ok(None),
    }))
}
