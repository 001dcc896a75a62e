//! Normalizations: BatchNormalization (inference form), LayerNormalization and Softmax.

use super::{broadcast_index, broadcast_shape, fit, need, norm_axis, R};
use crate::tensor::Tensor;

/// ONNX `BatchNormalization` in inference mode on `x` [N, C, …], with the inputs scale, B, mean
/// and var (one value per channel): `(x − mean) / √(var + ε) · scale + B`, rounded at each step.
pub(super) fn batch_norm(x: &Tensor, inputs: &[Option<&Tensor>], epsilon: f64) -> R<Tensor> {
    let (s, b, m, v) =
        (need(inputs, 1, "scale")?, need(inputs, 2, "B")?, need(inputs, 3, "mean")?, need(inputs, 4, "var")?);
    let (c, inner) = batch_norm_layout(&x.shape, s.len())?;
    for (t, what) in [(s, "scale"), (b, "B"), (m, "mean"), (v, "var")] {
        if t.len() != c {
            return Err(format!("BatchNormalization {what} has {} values for {c} channels", t.len()));
        }
    }
    let dt = x.dtype;
    let data = x
        .data
        .iter()
        .enumerate()
        .map(|(i, &val)| {
            let ch = (i / inner) % c;
            let den = fit(dt, fit(dt, v.data[ch] + fit(dt, epsilon)).sqrt());
            fit(dt, fit(dt, fit(dt, val - m.data[ch]) / den) * s.data[ch] + b.data[ch])
        })
        .collect();
    Ok(Tensor::new(dt, x.shape.clone(), data))
}

/// The channel count and the number of elements per channel and sample (`inner`) of a
/// BatchNormalization of a tensor of `shape` with `params` values per parameter: element `i` is
/// in channel `(i / inner) % channels`. The channels are axis 1 (N×C×…), as ONNX says; a tensor
/// of exactly `params` elements whose axis 1 is not the channel axis — keras2onnx writes a Keras
/// BatchNormalization after a Dense as Transpose([1, C] → [C, 1]) → BatchNormalization →
/// Transpose, which onnxruntime refuses — normalizes each element by its own parameters, which
/// is the Keras layer's meaning (one parameter per feature).
pub fn batch_norm_layout(shape: &[usize], params: usize) -> R<(usize, usize)> {
    if shape.len() < 2 {
        return Err(format!("BatchNormalization input of rank {} (needs N×C×…)", shape.len()));
    }
    if shape[1] == params {
        return Ok((params, shape[2..].iter().product()));
    }
    if shape.iter().product::<usize>() == params && params > 1 {
        return Ok((params, 1));
    }
    Err(format!(
        "BatchNormalization has {params} values per parameter for the {} channels (axis 1) of a tensor of shape \
         {shape:?}; the parameters must have one value per channel",
        shape[1]
    ))
}

/// ONNX `LayerNormalization` of `x` over the axes from `axis` to the last, with the inputs
/// Scale and optional B broadcast to those axes; rounded once per element.
pub(super) fn layer_norm(x: &Tensor, inputs: &[Option<&Tensor>], axis: i64, epsilon: f64) -> R<Tensor> {
    let r = x.shape.len();
    let a = norm_axis(axis, r)?;
    let inner: usize = x.shape[a..].iter().product();
    let scale = need(inputs, 1, "Scale")?;
    let norm_shape = &x.shape[a..];
    let bias = inputs.get(2).copied().flatten();
    for (t, what) in [(Some(scale), "Scale"), (bias, "B")] {
        if let Some(t) = t {
            if broadcast_shape(norm_shape, &t.shape).ok().as_deref() != Some(norm_shape) {
                return Err(format!(
                    "LayerNormalization {what} of shape {:?} does not broadcast to {norm_shape:?}",
                    t.shape
                ));
            }
        }
    }
    let dt = x.dtype;
    let mut data = Vec::with_capacity(x.len());
    for row in x.data.chunks(inner.max(1)) {
        let mean = row.iter().sum::<f64>() / inner as f64;
        let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / inner as f64;
        let den = (var + epsilon).sqrt();
        for (k, &v) in row.iter().enumerate() {
            let s = scale.data[broadcast_index(norm_shape, &scale.shape, k)];
            let b = bias.map_or(0.0, |b| b.data[broadcast_index(norm_shape, &b.shape, k)]);
            data.push(fit(dt, (v - mean) / den * s + b));
        }
    }
    Ok(Tensor::new(dt, x.shape.clone(), data))
}

/// ONNX `Softmax` over `axis`; `legacy` (opset < 13) normalizes the flattened block from `axis`
/// to the last axis instead.
pub(super) fn softmax(x: &Tensor, axis: i64, legacy: bool) -> R<Tensor> {
    let r = x.shape.len();
    let ax = norm_axis(axis, r)?;
    // legacy (opset < 13): normalise over the flattened trailing block starting at `axis`.
    let (outer, len, inner) = if legacy {
        (x.shape[..ax].iter().product::<usize>(), x.shape[ax..].iter().product::<usize>(), 1)
    } else {
        (x.shape[..ax].iter().product(), x.shape[ax], x.shape[ax + 1..].iter().product())
    };
    let mut data = x.data.clone();
    let dt = x.dtype;
    for o in 0..outer {
        for i in 0..inner {
            let idx = |k: usize| (o * len + k) * inner + i;
            let m = (0..len).map(|k| x.data[idx(k)]).fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = (0..len).map(|k| fit(dt, (x.data[idx(k)] - m).exp())).collect();
            let s: f64 = e.iter().sum();
            for k in 0..len {
                data[idx(k)] = fit(dt, e[k] / s);
            }
        }
    }
    Ok(Tensor::new(dt, x.shape.clone(), data))
}
