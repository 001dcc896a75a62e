//! Importers of Resize (opsets 10–19) and Upsample (opsets 1–9): nearest mode, which copies
//! input elements (any scale; integer factors replicate). The interpolating modes are refused
//! as unsupported, naming the mode.

use super::Attrs;
use crate::ir::{NearestMode, Op, ResizeCoord};

fn unsupported(reason: String) -> Op {
    Op::Unsupported { reason }
}

/// The nearest-mode check shared by Resize and Upsample (`mode` defaults to nearest).
fn nearest_only(op_type: &str, a: &Attrs) -> Option<Op> {
    match a.string("mode").as_deref() {
        None | Some("nearest") => None,
        Some(other) => Some(unsupported(format!(
            "{op_type} mode '{other}' is not supported (only 'nearest', which copies elements); export the model \
             with nearest-neighbour upsampling"
        ))),
    }
}

pub fn import(op_type: &str, a: &Attrs, opset: i64) -> Option<Op> {
    match op_type {
        "Upsample" => Some(upsample(a, opset)),
        "Resize" => Some(resize(a, opset)),
        _ => None,
    }
}

/// Upsample: opset 7 holds the scales in an attribute, opsets 1–6 as `height_scale` and
/// `width_scale` of an NCHW input; from 9 they are the second input. Coordinates are
/// asymmetric, rounded down.
fn upsample(a: &Attrs, opset: i64) -> Op {
    if let Some(op) = nearest_only("Upsample", a) {
        return op;
    }
    let scales = if opset < 7 {
        match (a.float("height_scale"), a.float("width_scale")) {
            (Some(h), Some(w)) => Some(vec![1.0, 1.0, h, w]),
            _ => {
                return unsupported(
                    "Upsample of opset < 7 needs the attributes 'height_scale' and 'width_scale'".into(),
                )
            }
        }
    } else if opset < 9 {
        match a.floats("scales") {
            Some(s) => Some(s),
            None => return unsupported("Upsample of opset 7 needs the attribute 'scales'".into()),
        }
    } else {
        None
    };
    Op::Resize { scales, scales_slot: 1, coord: ResizeCoord::Asymmetric, nearest: NearestMode::Simple, axes: None }
}

/// Resize: opset 10 takes (X, scales) with asymmetric coordinates; from 11 (X, roi, scales,
/// sizes) with the coordinate transformation and nearest mode as attributes.
fn resize(a: &Attrs, opset: i64) -> Op {
    if let Some(op) = nearest_only("Resize", a) {
        return op;
    }
    if opset < 11 {
        return Op::Resize {
            scales: None,
            scales_slot: 1,
            coord: ResizeCoord::Asymmetric,
            nearest: NearestMode::Simple,
            axes: None,
        };
    }
    let coord = match a.string("coordinate_transformation_mode").as_deref() {
        None | Some("half_pixel") => ResizeCoord::HalfPixel,
        Some("half_pixel_symmetric") => ResizeCoord::HalfPixelSymmetric,
        Some("pytorch_half_pixel") => ResizeCoord::PytorchHalfPixel,
        Some("align_corners") => ResizeCoord::AlignCorners,
        Some("asymmetric") => ResizeCoord::Asymmetric,
        Some(other) => {
            return unsupported(format!(
                "Resize coordinate_transformation_mode '{other}' is not supported (half_pixel, \
                 half_pixel_symmetric, pytorch_half_pixel, align_corners and asymmetric are)"
            ))
        }
    };
    let nearest = match a.string("nearest_mode").as_deref() {
        None | Some("round_prefer_floor") => NearestMode::RoundPreferFloor,
        Some("round_prefer_ceil") => NearestMode::RoundPreferCeil,
        Some("floor") => NearestMode::Floor,
        Some("ceil") => NearestMode::Ceil,
        Some(other) => return unsupported(format!("Resize nearest_mode '{other}' is not known")),
    };
    match a.string("keep_aspect_ratio_policy").as_deref() {
        None | Some("stretch") => {}
        Some(other) => {
            return unsupported(format!(
                "Resize keep_aspect_ratio_policy '{other}' is not supported (only 'stretch'); give the output \
                 sizes or scales of every axis instead"
            ))
        }
    }
    Op::Resize { scales: None, scales_slot: 2, coord, nearest, axes: a.ints("axes") }
}
