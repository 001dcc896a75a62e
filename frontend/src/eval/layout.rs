//! Ops that rearrange or select elements without arithmetic, their output shape given by
//! attributes or small constant inputs: Flatten, Reshape, Transpose, Shape, Gather, Unsqueeze,
//! Squeeze, Concat.

use super::{ints_of, need, norm_axis, out_dtype, reshape_target, transpose, R};
use crate::tensor::{DType, Tensor};

/// ONNX `Flatten`: `x` as [outer, inner], split before `axis` (0..=rank, negative from the end).
pub(super) fn flatten(x: &Tensor, axis: i64) -> R<Tensor> {
    let r = x.shape.len();
    let a = if axis < 0 { axis + r as i64 } else { axis };
    if a < 0 || a as usize > r {
        return Err(format!("Flatten axis {axis} out of range for rank {r}"));
    }
    let outer: usize = x.shape[..a as usize].iter().product();
    Ok(Tensor::new(x.dtype, vec![outer, x.len() / outer.max(1)], x.data.clone()))
}

/// ONNX `Reshape` of `x` to the shape of input 1 ([`reshape_target`]).
pub(super) fn reshape(x: &Tensor, inputs: &[Option<&Tensor>], allowzero: bool) -> R<Tensor> {
    let spec = ints_of(need(inputs, 1, "shape")?, "Reshape shape")?;
    let shape = reshape_target(&x.shape, &spec, allowzero)?;
    Ok(Tensor::new(x.dtype, shape, x.data.clone()))
}

/// ONNX `Transpose` by `perm` (checked to be a permutation), reversing the axes without one.
pub(super) fn transpose_op(x: &Tensor, perm: Option<&[i64]>) -> R<Tensor> {
    let r = x.shape.len();
    let p: Vec<usize> = match perm {
        Some(p) => {
            let p: Vec<usize> = p.iter().map(|&v| norm_axis(v, r)).collect::<R<_>>()?;
            let mut s = p.clone();
            s.sort();
            if s != (0..r).collect::<Vec<_>>() {
                return Err(format!("Transpose perm {p:?} is not a permutation of 0..{r}"));
            }
            p
        }
        None => (0..r).rev().collect(),
    };
    Ok(transpose(x, &p))
}

/// ONNX `Shape`: the dimensions `start..end` of `x` (clamped, negative from the end) as integers.
pub(super) fn shape(x: &Tensor, start: i64, end: Option<i64>) -> Tensor {
    let r = x.shape.len() as i64;
    let clampi = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
    let (s, e) = (clampi(start), clampi(end.unwrap_or(r)));
    let dims: Vec<f64> = x.shape[s..e.max(s)].iter().map(|&d| d as f64).collect();
    Tensor::new(DType::Int, vec![dims.len()], dims)
}

/// ONNX `Gather`: the slices of `x` along `axis` at the indices `idx` (negative from the end).
pub(super) fn gather(x: &Tensor, idx: &Tensor, axis: i64) -> R<Tensor> {
    let ax = norm_axis(axis, x.shape.len())?;
    let d = x.shape[ax] as i64;
    let ids: Vec<usize> = ints_of(idx, "Gather indices")?
        .into_iter()
        .map(|i| {
            let j = if i < 0 { i + d } else { i };
            if j < 0 || j >= d {
                Err(format!("Gather index {i} out of range for dimension {d}"))
            } else {
                Ok(j as usize)
            }
        })
        .collect::<R<_>>()?;
    let outer: usize = x.shape[..ax].iter().product();
    let inner: usize = x.shape[ax + 1..].iter().product();
    let mut data = vec![];
    for o in 0..outer {
        for &j in &ids {
            let base = (o * x.shape[ax] + j) * inner;
            data.extend_from_slice(&x.data[base..base + inner]);
        }
    }
    let mut shape = x.shape[..ax].to_vec();
    shape.extend_from_slice(&idx.shape);
    shape.extend_from_slice(&x.shape[ax + 1..]);
    Ok(Tensor::new(x.dtype, shape, data))
}

/// ONNX `Unsqueeze`: `x` with size-1 axes inserted at `axes` (the attribute, else the input
/// `axes_input`; axes of the output's rank).
pub(super) fn unsqueeze(x: &Tensor, axes: Option<&Vec<i64>>, axes_input: Option<&Tensor>) -> R<Tensor> {
    let axes = match (axes, axes_input) {
        (Some(a), _) => a.clone(),
        (None, Some(t)) => ints_of(t, "Unsqueeze axes")?,
        _ => return Err("Unsqueeze without axes".into()),
    };
    let r = x.shape.len() + axes.len();
    let mut ax: Vec<usize> = axes.iter().map(|&a| norm_axis(a, r)).collect::<R<_>>()?;
    ax.sort();
    let mut shape = x.shape.clone();
    for a in ax {
        shape.insert(a, 1);
    }
    Ok(Tensor::new(x.dtype, shape, x.data.clone()))
}

/// ONNX `Squeeze`: `x` without the size-1 axes `axes` (the attribute, else the input
/// `axes_input`, else every size-1 axis); refuses an axis whose size is not 1.
pub(super) fn squeeze(x: &Tensor, axes: Option<&Vec<i64>>, axes_input: Option<&Tensor>) -> R<Tensor> {
    let axes = match (axes, axes_input) {
        (Some(a), _) => Some(a.clone()),
        (None, Some(t)) => Some(ints_of(t, "Squeeze axes")?),
        _ => None,
    };
    let r = x.shape.len();
    let drop: Vec<usize> = match axes {
        Some(a) => a.iter().map(|&v| norm_axis(v, r)).collect::<R<_>>()?,
        None => (0..r).filter(|&i| x.shape[i] == 1).collect(),
    };
    if let Some(&bad) = drop.iter().find(|&&i| x.shape[i] != 1) {
        return Err(format!("Squeeze of axis {bad} whose size is {}", x.shape[bad]));
    }
    let shape = (0..r).filter(|i| !drop.contains(i)).map(|i| x.shape[i]).collect();
    Ok(Tensor::new(x.dtype, shape, x.data.clone()))
}

/// ONNX `Concat` of the given inputs (omitted ones skipped) along `axis`; the other dimensions
/// must agree.
pub(super) fn concat(inputs: &[Option<&Tensor>], axis: i64) -> R<Tensor> {
    let ts: Vec<&Tensor> = inputs.iter().flatten().copied().collect();
    let first = ts.first().ok_or("Concat without inputs")?;
    let r = first.shape.len();
    let ax = norm_axis(axis, r)?;
    for t in &ts {
        if t.shape.len() != r || (0..r).any(|i| i != ax && t.shape[i] != first.shape[i]) {
            return Err(format!("Concat of incompatible shapes {:?} and {:?}", first.shape, t.shape));
        }
    }
    let outer: usize = first.shape[..ax].iter().product();
    let mut data = vec![];
    for o in 0..outer {
        for t in &ts {
            let chunk: usize = t.shape[ax..].iter().product();
            data.extend_from_slice(&t.data[o * chunk..(o + 1) * chunk]);
        }
    }
    let mut shape = first.shape.clone();
    shape[ax] = ts.iter().map(|t| t.shape[ax]).sum();
    Ok(Tensor::new(out_dtype(&ts), shape, data))
}
