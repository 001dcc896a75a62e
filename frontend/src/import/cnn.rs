//! Importers of the convolutional-network ops: Conv, MaxPool, AveragePool, the global pools and
//! Pad.

use super::Attrs;
use crate::ir::{AutoPad, Op, PadMode, Window};

/// An ints attribute whose values must all be at least `min`.
fn sizes(a: &Attrs, name: &str, min: i64) -> Result<Option<Vec<usize>>, String> {
    let Some(v) = a.ints(name) else { return Ok(None) };
    match v.iter().find(|&&x| x < min) {
        Some(bad) => Err(format!("attribute '{name}' must hold integers of at least {min}, found {bad} in {v:?}")),
        None => Ok(Some(v.iter().map(|&x| x as usize).collect())),
    }
}

/// The window attributes shared by Conv and the pools, checked for consistent lengths.
fn window(a: &Attrs, op_type: &str, kernel_required: bool) -> Result<Window, String> {
    let auto_pad = match a.string("auto_pad").as_deref() {
        None | Some("NOTSET") | Some("") => AutoPad::NotSet,
        Some("SAME_UPPER") => AutoPad::SameUpper,
        Some("SAME_LOWER") => AutoPad::SameLower,
        Some("VALID") => AutoPad::Valid,
        Some(other) => {
            return Err(format!(
                "attribute 'auto_pad' must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, found '{other}'"
            ))
        }
    };
    let w = Window {
        kernel: sizes(a, "kernel_shape", 1)?,
        strides: sizes(a, "strides", 1)?,
        dilations: sizes(a, "dilations", 1)?,
        pads: sizes(a, "pads", 0)?,
        auto_pad,
    };
    if kernel_required && w.kernel.is_none() {
        return Err(format!("{op_type} needs the attribute 'kernel_shape'"));
    }
    if auto_pad != AutoPad::NotSet && w.pads.as_ref().is_some_and(|p| p.iter().any(|&v| v != 0)) {
        return Err(format!("attribute 'pads' cannot be combined with auto_pad {auto_pad:?}; give only one of them"));
    }
    if let Some(p) = w.pads.as_ref().filter(|p| p.len() % 2 != 0) {
        return Err(format!(
            "attribute 'pads' must hold a begin and an end per spatial axis, found {} values",
            p.len()
        ));
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
            return Err(format!(
                "attribute '{name}' covers {n} spatial axes but '{first}' covers {m}; give one value per spatial axis"
            ));
        }
    }
    Ok(w)
}

pub fn import(op_type: &str, a: &Attrs, opset: i64, outputs: &[String]) -> Result<Option<Op>, String> {
    Ok(Some(match op_type {
        "Conv" => {
            let group = a.int_or("group", 1);
            if group < 1 {
                return Err(format!("attribute 'group' must be a positive integer, found {group}"));
            }
            Op::Conv { window: window(a, op_type, false)?, group: group as usize }
        }
        "MaxPool" => {
            if outputs.get(1).is_some_and(|o| !o.is_empty()) {
                return Err("the second output 'Indices' of MaxPool is not supported; remove it from the model".into());
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
                Some(other) => {
                    return Err(format!("attribute 'mode' must be constant, reflect, edge or wrap, found '{other}'"))
                }
            };
            let (pads, value) = (a.ints("pads"), a.float("value"));
            if opset >= 11 {
                if pads.is_some() || value.is_some() {
                    return Err(format!(
                        "Pad attributes 'pads' and 'value' were replaced by inputs in opset 11; this model is opset \
                         {opset}, so give them as the second and third inputs"
                    ));
                }
                Op::Pad { mode, pads: None, value: 0.0 }
            } else {
                let pads = pads.ok_or("Pad needs the attribute 'pads' (before opset 11)")?;
                Op::Pad { mode, pads: Some(pads), value: value.unwrap_or(0.0) }
            }
        }
        _ => return Ok(None),
    }))
}
