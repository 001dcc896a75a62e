//! Reductions: ReduceSum / ReduceMean / ReduceMax / ReduceMin, and the global pools built on them.
//! Sums accumulate in f64 and round once, like MatMul.

use super::{check_size, fit, ints_of, norm_axes, R};
use crate::ir::ReduceKind;
use crate::tensor::{DType, Tensor};

/// The ONNX `Reduce*` op: `axes` from the attribute or else the second input; none, or an empty
/// list, reduces every axis, or nothing at all with `noop_with_empty_axes`.
pub(super) fn reduce_op(
    x: &Tensor,
    kind: ReduceKind,
    axes_attr: Option<&[i64]>,
    axes_input: Option<&Tensor>,
    keepdims: bool,
    noop_with_empty_axes: bool,
) -> R<Tensor> {
    let axes = match (axes_attr, axes_input) {
        (Some(a), _) => a.to_vec(),
        (None, Some(t)) => ints_of(t, "Reduce axes")?,
        (None, None) => vec![],
    };
    if axes.is_empty() {
        if noop_with_empty_axes {
            return Ok(x.clone());
        }
        return reduce(x, kind, &(0..x.shape.len()).collect::<Vec<_>>(), keepdims);
    }
    reduce(x, kind, &norm_axes(&axes, x.shape.len(), "Reduce")?, keepdims)
}

/// Reduces the (normalized, distinct) `axes`. A reduction over no element gives 0 for a sum,
/// NaN for a mean, −∞ for a max and +∞ for a min.
pub(super) fn reduce(x: &Tensor, kind: ReduceKind, axes: &[usize], keepdims: bool) -> R<Tensor> {
    let r = x.shape.len();
    let kept: Vec<usize> = (0..r).map(|i| if axes.contains(&i) { 1 } else { x.shape[i] }).collect();
    let n = check_size(&kept)?;
    let init = match kind {
        ReduceKind::Sum | ReduceKind::Mean => 0.0,
        ReduceKind::Max => f64::NEG_INFINITY,
        ReduceKind::Min => f64::INFINITY,
    };
    let mut acc = vec![init; n];
    let mut coord = vec![0; r];
    for &v in &x.data {
        let o = (0..r).fold(0, |o, i| o * kept[i] + if axes.contains(&i) { 0 } else { coord[i] });
        acc[o] = match kind {
            ReduceKind::Sum | ReduceKind::Mean => acc[o] + v,
            ReduceKind::Max => acc[o].max(v),
            ReduceKind::Min => acc[o].min(v),
        };
        super::next_coord(&mut coord, &x.shape);
    }
    let count = axes.iter().map(|&a| x.shape[a]).product::<usize>() as f64;
    let dt = x.dtype;
    let data = acc
        .into_iter()
        .map(|v| match (kind, dt) {
            (ReduceKind::Mean, DType::Int) => (v / count).trunc(),
            (ReduceKind::Mean, _) => fit(dt, v / count),
            _ => fit(dt, v),
        })
        .collect();
    let shape = if keepdims { kept } else { (0..r).filter(|i| !axes.contains(i)).map(|i| x.shape[i]).collect() };
    Ok(Tensor::new(dt, shape, data))
}

/// GlobalAveragePool / GlobalMaxPool: the reduction over every spatial axis of N×C×D1×…, kept
/// as axes of size 1.
pub(super) fn global_pool(x: &Tensor, kind: ReduceKind) -> R<Tensor> {
    if x.shape.len() < 2 {
        return Err(format!("global pooling of a tensor of shape {:?} (needs N×C×…)", x.shape));
    }
    reduce(x, kind, &(2..x.shape.len()).collect::<Vec<_>>(), true)
}
