//! Resize and Upsample in nearest mode, as ONNX defines them (onnx/reference/ops/op_resize.py):
//! each output coordinate is mapped back to the input by the coordinate transformation, rounded
//! by the nearest mode and clamped into the axis, so every output element copies one input
//! element.

use super::{check_size, need, next_coord, norm_axes, strides, R};
use crate::ir::{NearestMode, ResizeCoord};
use crate::tensor::Tensor;

/// The input element an output coordinate `x` of an axis reads (input size `n_in`, output size
/// `n_out`, scale factor `scale`).
fn source(x: usize, n_in: usize, n_out: usize, scale: f64, coord: ResizeCoord, nearest: NearestMode) -> usize {
    let x = x as f64;
    let out_len = scale * n_in as f64;
    let orig = match coord {
        ResizeCoord::Asymmetric => x / scale,
        ResizeCoord::HalfPixel => (x + 0.5) / scale - 0.5,
        ResizeCoord::PytorchHalfPixel if n_out == 1 => -0.5,
        ResizeCoord::PytorchHalfPixel => (x + 0.5) / scale - 0.5,
        ResizeCoord::AlignCorners if n_out == 1 => 0.0,
        ResizeCoord::AlignCorners => x * (n_in as f64 - 1.0) / (n_out as f64 - 1.0),
        ResizeCoord::HalfPixelSymmetric => {
            let adjustment = n_out as f64 / out_len;
            let offset = n_in as f64 / 2.0 * (1.0 - adjustment);
            offset + (x + 0.5) / scale - 0.5
        }
    };
    let (fl, frac) = (orig.floor(), orig - orig.floor());
    let k = match nearest {
        _ if frac == 0.0 => fl,
        NearestMode::RoundPreferFloor if frac <= 0.5 => fl,
        NearestMode::RoundPreferCeil if frac < 0.5 => fl,
        NearestMode::RoundPreferFloor | NearestMode::RoundPreferCeil => fl + 1.0,
        NearestMode::Floor => fl,
        NearestMode::Ceil => fl + 1.0,
        NearestMode::Simple if scale < 1.0 => fl + 1.0,
        NearestMode::Simple => fl,
    };
    k.clamp(0.0, n_in as f64 - 1.0) as usize
}

/// Nearest-mode Resize of `x`: per-axis scale factors from `scales` (the attribute, or input
/// `scales_slot`), else output sizes from input 3; `axes` restricts both to some axes.
pub(super) fn resize(
    inputs: &[Option<&Tensor>],
    scales: Option<&[f64]>,
    scales_slot: usize,
    coord: ResizeCoord,
    nearest: NearestMode,
    axes: Option<&[i64]>,
) -> R<Tensor> {
    let x = need(inputs, 0, "X")?;
    let r = x.shape.len();
    let axes = match axes {
        Some(a) => norm_axes(a, r, "Resize")?,
        None => (0..r).collect(),
    };
    let given = |slot: usize| inputs.get(slot).copied().flatten().filter(|t| !t.data.is_empty());
    let mut scale = vec![1.0f64; r];
    let mut out = x.shape.clone();
    let per_axis = |n: usize, what: &str| -> R<()> {
        if n != axes.len() {
            return Err(format!("Resize has {n} {what} for {} axes of the input {:?}", axes.len(), x.shape));
        }
        Ok(())
    };
    let from_scales = scales.map(<[f64]>::to_vec).or_else(|| given(scales_slot).map(|t| t.data.clone()));
    match from_scales {
        Some(s) => {
            per_axis(s.len(), "scales")?;
            for (&ax, &f) in axes.iter().zip(&s) {
                if !(f > 0.0 && f.is_finite()) {
                    return Err(format!("Resize scale {f} of axis {ax} must be positive"));
                }
                // The scales are float32 (ONNX); the product truncates, as onnxruntime does.
                let f = f as f32 as f64;
                scale[ax] = f;
                out[ax] = (f * x.shape[ax] as f64) as usize;
            }
        }
        None if scales_slot == 2 => {
            let sizes = given(3).ok_or("Resize needs the input 'scales' or 'sizes'")?;
            per_axis(sizes.data.len(), "sizes")?;
            for (&ax, &n) in axes.iter().zip(&sizes.data) {
                if !(n >= 1.0 && n.fract() == 0.0) || x.shape[ax] == 0 {
                    return Err(format!("Resize size {n} of axis {ax} must be a positive integer"));
                }
                out[ax] = n as usize;
                scale[ax] = n / x.shape[ax] as f64;
            }
        }
        None => return Err("Resize needs the input 'scales'".into()),
    }
    let n = check_size(&out)?;
    if n > 0 && x.data.is_empty() {
        return Err(format!("Resize of the empty input {:?} to {out:?}", x.shape));
    }
    let maps: Vec<Vec<usize>> = (0..r)
        .map(|ax| (0..out[ax]).map(|i| source(i, x.shape[ax], out[ax], scale[ax], coord, nearest)).collect())
        .collect();
    let st = strides(&x.shape);
    let mut coord_out = vec![0; r];
    let mut data = Vec::with_capacity(n);
    for _ in 0..n {
        data.push(x.data[(0..r).map(|i| maps[i][coord_out[i]] * st[i]).sum::<usize>()]);
        next_coord(&mut coord_out, &out);
    }
    Ok(Tensor::new(x.dtype, out, data))
}
