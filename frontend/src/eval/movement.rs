//! Data movement whose output shape comes from input values: Slice, Expand, Tile, Split, Pad
//! (with the `*_op` front ends reading their parameters from attributes or inputs).

use super::{broadcast_index, broadcast_shape, check_size, fit, ints_of, need, next_coord, norm_axes, strides, R};
use crate::ir::PadMode;
use crate::tensor::Tensor;

/// A tensor of `shape` whose element at coordinates `c` is `x.data[src(c)]`, or `fill` where
/// `src` gives `None`.
fn remap(x: &Tensor, shape: Vec<usize>, fill: f64, src: impl Fn(&[usize]) -> Option<usize>) -> R<Tensor> {
    let n = check_size(&shape)?;
    let mut coord = vec![0; shape.len()];
    let mut data = Vec::with_capacity(n);
    for _ in 0..n {
        data.push(src(&coord).map_or(fill, |i| x.data[i]));
        next_coord(&mut coord, &shape);
    }
    Ok(Tensor::new(x.dtype, shape, data))
}

/// Integers of a Slice bound. Values beyond the i64 range saturate, so the INT64_MAX / INT64_MIN
/// sentinels (which f64 storage rounds up to 2⁶³) keep their meaning.
fn slice_bounds(t: &Tensor, what: &str) -> R<Vec<i64>> {
    t.data
        .iter()
        .map(
            |&v| {
                if v.fract() == 0.0 {
                    Ok(v as i64)
                } else {
                    Err(format!("Slice {what} must hold integers, found {v}"))
                }
            },
        )
        .collect()
}

/// ONNX Slice (opset ≥ 10 semantics): negative starts and ends count from the end, then are
/// clamped to `[0, d]` (positive steps) or `[0, d−1]` / `[−1, d−1]` (negative steps).
pub(super) fn slice(
    x: &Tensor,
    starts: &[i64],
    ends: &[i64],
    axes: Option<&[i64]>,
    steps: Option<&[i64]>,
) -> R<Tensor> {
    let r = x.shape.len();
    let n = starts.len();
    if ends.len() != n {
        return Err(format!("Slice has {n} starts but {} ends", ends.len()));
    }
    let axes = match axes {
        Some(a) => norm_axes(a, r, "Slice")?,
        None if n <= r => (0..n).collect(),
        None => return Err(format!("Slice has {n} starts for a tensor of rank {r}")),
    };
    if axes.len() != n {
        return Err(format!("Slice has {n} starts but {} axes", axes.len()));
    }
    let steps = steps.map_or_else(|| vec![1; n], <[i64]>::to_vec);
    if steps.len() != n {
        return Err(format!("Slice has {n} starts but {} steps", steps.len()));
    }
    let mut first = vec![0i128; r];
    let mut step = vec![1i128; r];
    let mut shape = x.shape.clone();
    for (k, &ax) in axes.iter().enumerate() {
        let d = x.shape[ax] as i128;
        let st = steps[k] as i128;
        let wrap = |v: i64| if v < 0 { v as i128 + d } else { v as i128 };
        let (s, e) = (wrap(starts[k]), wrap(ends[k]));
        let (s, len) = if st == 0 {
            return Err(format!("Slice step on axis {ax} is 0"));
        } else if d == 0 {
            (0, 0)
        } else if st > 0 {
            let (s, e) = (s.clamp(0, d), e.clamp(0, d));
            (s, if e > s { (e - s - 1) / st + 1 } else { 0 })
        } else {
            let (s, e) = (s.clamp(0, d - 1), e.clamp(-1, d - 1));
            (s, if s > e { (s - e - 1) / -st + 1 } else { 0 })
        };
        first[ax] = s;
        step[ax] = st;
        shape[ax] = len as usize;
    }
    let st = strides(&x.shape);
    remap(x, shape, 0.0, |c| Some((0..r).map(|i| (first[i] + c[i] as i128 * step[i]) as usize * st[i]).sum()))
}

/// Numpy-style (two-way) broadcast of `x` and the shape given by the second input.
pub(super) fn expand(x: &Tensor, shape: &Tensor) -> R<Tensor> {
    let dims = ints_of(shape, "Expand shape")?;
    if let Some(d) = dims.iter().find(|&&d| d < 0) {
        return Err(format!("Expand shape {dims:?} has the negative dimension {d}"));
    }
    let dims: Vec<usize> = dims.iter().map(|&d| d as usize).collect();
    let out = broadcast_shape(&x.shape, &dims)
        .map_err(|_| format!("Expand: input of shape {:?} cannot be broadcast with shape {dims:?}", x.shape))?;
    let n = check_size(&out)?;
    let data = (0..n).map(|i| x.data[broadcast_index(&out, &x.shape, i)]).collect();
    Ok(Tensor::new(x.dtype, out, data))
}

/// Tile: axis `i` repeated `repeats[i]` times.
pub(super) fn tile(x: &Tensor, repeats: &Tensor) -> R<Tensor> {
    let reps = ints_of(repeats, "Tile repeats")?;
    if reps.len() != x.shape.len() || reps.iter().any(|&v| v < 0) {
        return Err(format!(
            "Tile repeats {reps:?} must be {} non-negative counts, one per axis of the input {:?}",
            x.shape.len(),
            x.shape
        ));
    }
    let shape: Vec<usize> = x.shape.iter().zip(&reps).map(|(&d, &k)| d.saturating_mul(k as usize)).collect();
    let st = strides(&x.shape);
    remap(x, shape, 0.0, |c| Some(c.iter().zip(&x.shape).zip(&st).map(|((&c, &d), &s)| (c % d) * s).sum()))
}

/// Split along `axis` into `outputs` parts of the given sizes, or equal parts (the last one
/// smaller when uneven, as opset 18's `num_outputs`).
pub(super) fn split(x: &Tensor, axis: i64, sizes: Option<Vec<i64>>, outputs: usize) -> R<Vec<Tensor>> {
    let ax = norm_axes(&[axis], x.shape.len(), "Split")?[0];
    let d = x.shape[ax];
    let sizes: Vec<usize> = match sizes {
        Some(s) => {
            if s.len() != outputs || s.iter().any(|&v| v < 0) || s.iter().map(|&v| v as i128).sum::<i128>() != d as i128
            {
                return Err(format!(
                    "Split sizes {s:?} must be {outputs} non-negative sizes (one per output) adding up to {d}, the \
                     size of axis {ax}"
                ));
            }
            s.iter().map(|&v| v as usize).collect()
        }
        None if outputs == 0 => return Err("Split without outputs".into()),
        None => {
            let part = d.div_ceil(outputs);
            let last = d.checked_sub(part * (outputs - 1)).ok_or_else(|| {
                format!("Split of an axis of size {d} into {outputs} parts of {part} leaves nothing for the last ones")
            })?;
            (0..outputs).map(|i| if i + 1 == outputs { last } else { part }).collect()
        }
    };
    let outer: usize = x.shape[..ax].iter().product();
    let inner: usize = x.shape[ax + 1..].iter().product();
    let mut start = 0;
    Ok(sizes
        .into_iter()
        .map(|s| {
            let mut data = Vec::with_capacity(outer * s * inner);
            for o in 0..outer {
                let base = (o * d + start) * inner;
                data.extend_from_slice(&x.data[base..base + s * inner]);
            }
            start += s;
            let mut shape = x.shape.clone();
            shape[ax] = s;
            Tensor::new(x.dtype, shape, data)
        })
        .collect())
}

/// Pad: `pads` is `[begin…, end…]` for `axes` (default: all); negative pads crop.
pub(super) fn pad(x: &Tensor, mode: PadMode, pads: &[i64], value: f64, axes: Option<&[i64]>) -> R<Tensor> {
    let r = x.shape.len();
    let axes = match axes {
        Some(a) => norm_axes(a, r, "Pad")?,
        None => (0..r).collect(),
    };
    if pads.len() != 2 * axes.len() {
        return Err(format!("Pad has {} pads for {} axes (needs a begin and an end for each)", pads.len(), axes.len()));
    }
    let (mut begin, mut end) = (vec![0i128; r], vec![0i128; r]);
    for (k, &ax) in axes.iter().enumerate() {
        begin[ax] = pads[k] as i128;
        end[ax] = pads[k + axes.len()] as i128;
    }
    let mut shape = Vec::with_capacity(r);
    for i in 0..r {
        let d = x.shape[i] as i128;
        let n = d + begin[i] + end[i];
        if n < 0 {
            return Err(format!("Pad removes more than the {d} elements of axis {i}"));
        }
        if d == 0 && n > 0 && mode != PadMode::Constant {
            return Err(format!("Pad mode {mode:?} cannot fill axis {i}, which is empty"));
        }
        shape.push(usize::try_from(n).map_err(|_| format!("Pad makes axis {i} too large ({n})"))?);
    }
    let st = strides(&x.shape);
    remap(x, shape, fit(x.dtype, value), |c| {
        let mut flat = 0;
        for i in 0..r {
            let d = x.shape[i] as i128;
            let p = c[i] as i128 - begin[i];
            let p = if (0..d).contains(&p) {
                p
            } else {
                match mode {
                    PadMode::Constant => return None,
                    PadMode::Edge => p.clamp(0, d - 1),
                    PadMode::Wrap => p.rem_euclid(d),
                    PadMode::Reflect if d == 1 => 0,
                    PadMode::Reflect => {
                        let m = p.rem_euclid(2 * (d - 1));
                        if m >= d {
                            2 * (d - 1) - m
                        } else {
                            m
                        }
                    }
                }
            };
            flat += p as usize * st[i];
        }
        Some(flat)
    })
}

/// ONNX `Slice` of input 0: `starts`, `ends` and `axes` from the attributes (opset < 10), else
/// from inputs 1 to 4 (starts, ends, axes, steps).
pub(super) fn slice_op(
    inputs: &[Option<&Tensor>],
    starts: Option<&[i64]>,
    ends: Option<&[i64]>,
    axes: Option<&[i64]>,
) -> R<Tensor> {
    let x = || need(inputs, 0, "data");
    let input = |i: usize, what: &str| inputs.get(i).copied().flatten().map(|t| slice_bounds(t, what));
    match (starts, ends) {
        (Some(s), Some(e)) => slice(x()?, s, e, axes, None),
        _ => {
            let s = input(1, "starts").ok_or("Slice needs the input 'starts'")??;
            let e = input(2, "ends").ok_or("Slice needs the input 'ends'")??;
            let axes = input(3, "axes").transpose()?;
            let steps = input(4, "steps").transpose()?;
            slice(x()?, &s, &e, axes.as_deref(), steps.as_deref())
        }
    }
}

/// ONNX `Split` of input 0: the sizes from the attribute `split` (opset < 13), else from input
/// 1, else equal parts.
pub(super) fn split_op(
    inputs: &[Option<&Tensor>],
    axis: i64,
    split_attr: Option<&Vec<i64>>,
    outputs: usize,
) -> R<Vec<Tensor>> {
    let sizes = match (split_attr, inputs.get(1).copied().flatten()) {
        (Some(s), _) => Some(s.clone()),
        (None, Some(t)) => Some(ints_of(t, "Split sizes")?),
        (None, None) => None,
    };
    split(need(inputs, 0, "data")?, axis, sizes, outputs)
}

/// ONNX `Pad` of input 0: `pads` and `value` from the attributes (opset < 11), else from inputs
/// 1 (pads) and 2 (constant_value, defaulting to `value`), with the optional axes of input 3.
pub(super) fn pad_op(inputs: &[Option<&Tensor>], mode: PadMode, pads: Option<&Vec<i64>>, value: f64) -> R<Tensor> {
    let pads = match pads {
        Some(p) => p.clone(),
        None => ints_of(need(inputs, 1, "pads")?, "Pad pads")?,
    };
    let value = match inputs.get(2).copied().flatten() {
        Some(t) => t.as_scalar().ok_or("Pad constant_value must be a scalar")?,
        None => value,
    };
    let axes = inputs.get(3).copied().flatten().map(|t| ints_of(t, "Pad axes")).transpose()?;
    pad(need(inputs, 0, "data")?, mode, &pads, value, axes.as_deref())
}
