//! Float semantics of every supported op, as ONNX and QONNX define them: used to fold constant
//! subgraphs, to infer shapes, and as the float reference run of a whole model ([`run_float`]).
//!
//! Tensors whose dtype is `F32` are rounded to f32 after every elementary step, mirroring the
//! float32 evaluation of onnxruntime / the qonnx executor (MatMul, Conv, Einsum and the
//! reductions accumulate in f64 before their single rounding, so they can differ from a float32
//! sum in the last bit).
//!
//! Op families with more than a few lines live in submodules: `cnn` (Conv and pooling),
//! [`einsum`], `layout` (Flatten, Reshape, Transpose, Shape, Gather, Unsqueeze, Squeeze, Concat),
//! `movement` (Slice, Expand, Tile, Split, Pad), `norm` (BatchNormalization, LayerNormalization,
//! Softmax), `reduce` and `resize` (Resize, Upsample).

mod cnn;
pub mod einsum;
pub mod fixed;
pub mod funcs;
mod layout;
mod movement;
mod norm;
pub use norm::batch_norm_layout;
mod reduce;
mod resize;

use crate::ir::{Graph, Op, ReduceKind, RoundMode};
use crate::tensor::{DType, Tensor, MAX_ELEMENTS};

type R<T> = Result<T, String>;

fn out_dtype(ts: &[&Tensor]) -> DType {
    if ts.iter().any(|t| t.dtype == DType::F64) {
        DType::F64
    } else if ts.iter().any(|t| t.dtype == DType::F32) {
        DType::F32
    } else {
        ts.first().map(|t| t.dtype).unwrap_or(DType::F32)
    }
}

/// Rounds to the precision of `dt`.
pub fn fit(dt: DType, v: f64) -> f64 {
    match dt {
        DType::F32 => v as f32 as f64,
        _ => v,
    }
}

fn norm_axis(axis: i64, rank: usize) -> R<usize> {
    let a = if axis < 0 { axis + rank as i64 } else { axis };
    if a < 0 || a as usize >= rank.max(1) {
        return Err(format!("axis {axis} is out of range for a tensor of rank {rank}"));
    }
    Ok(a as usize)
}

/// Normalizes axes of a rank-`rank` tensor (negative ones count from the end), refusing
/// out-of-range and repeated axes; `what` names the op in errors.
fn norm_axes(axes: &[i64], rank: usize, what: &str) -> R<Vec<usize>> {
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let n = if a < 0 { a + rank as i64 } else { a };
        if n < 0 || n >= rank as i64 {
            return Err(format!("{what} axis {a} is out of range for a tensor of rank {rank}"));
        }
        if out.contains(&(n as usize)) {
            return Err(format!("{what} axis {a} is given twice"));
        }
        out.push(n as usize);
    }
    Ok(out)
}

/// C-order strides of `shape`.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut st = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        st[i] = st[i + 1] * shape[i + 1];
    }
    st
}

/// Advances C-order coordinates within `shape` by one element (back to all zeros after the last).
fn next_coord(coord: &mut [usize], shape: &[usize]) {
    for i in (0..shape.len()).rev() {
        coord[i] += 1;
        if coord[i] < shape[i] {
            return;
        }
        coord[i] = 0;
    }
}

/// Number of elements of an output shape, refused above [`MAX_ELEMENTS`].
fn check_size(shape: &[usize]) -> R<usize> {
    shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| format!("the output shape {shape:?} has more than {MAX_ELEMENTS} elements"))
}

/// Elementwise fold of any number of inputs with broadcasting (Max, Min).
fn variadic(inputs: &[Option<&Tensor>], what: &str, f: impl Fn(f64, f64) -> f64) -> R<Tensor> {
    let mut ts = inputs.iter().flatten();
    let first = ts.next().ok_or_else(|| format!("{what} needs at least one input"))?;
    ts.try_fold((*first).clone(), |acc, t| binary(&acc, t, &f))
}

/// Numpy-style broadcast shape of two shapes.
pub fn broadcast_shape(a: &[usize], b: &[usize]) -> R<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
        let db = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(format!("shapes {a:?} and {b:?} cannot be broadcast together"));
        };
    }
    Ok(out)
}

/// Flat index into a tensor of shape `src` broadcast to `dst`, for the element at `idx` of dst.
pub fn broadcast_index(dst: &[usize], src: &[usize], mut flat: usize) -> usize {
    let mut out = 0;
    let mut stride = 1;
    for i in (0..dst.len()).rev() {
        let coord = flat % dst[i];
        flat /= dst[i];
        let j = i as isize - (dst.len() - src.len()) as isize;
        if j >= 0 {
            let d = src[j as usize];
            out += if d == 1 { 0 } else { coord * stride };
            stride *= d;
        }
    }
    out
}

fn binary(a: &Tensor, b: &Tensor, f: impl Fn(f64, f64) -> f64) -> R<Tensor> {
    let shape = broadcast_shape(&a.shape, &b.shape)?;
    let n: usize = shape.iter().product();
    let dt = out_dtype(&[a, b]);
    let data = (0..n)
        .map(|i| fit(dt, f(a.data[broadcast_index(&shape, &a.shape, i)], b.data[broadcast_index(&shape, &b.shape, i)])))
        .collect();
    Ok(Tensor::new(dt, shape, data))
}

/// The error function, to f64 precision: `erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (2n+1)!!`
/// (all terms positive, so no cancellation), and ±1 beyond |x| = 6 (erfc(6) < 3·10⁻¹⁷).
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let a = x.abs();
    if a >= 6.0 {
        return x.signum();
    }
    let (mut term, mut sum, mut n) = (a, a, 0.0);
    while term > sum * 1e-17 {
        n += 1.0;
        term *= 2.0 * a * a / (2.0 * n + 1.0);
        sum += term;
    }
    (2.0 / std::f64::consts::PI.sqrt() * (-a * a).exp() * sum).min(1.0).copysign(x)
}

fn unary(a: &Tensor, f: impl Fn(f64) -> f64) -> Tensor {
    Tensor::new(a.dtype, a.shape.clone(), a.data.iter().map(|&v| fit(a.dtype, f(v))).collect())
}

/// Matrix product with numpy broadcasting of batch dimensions (rank ≥ 1 operands).
pub fn matmul(a: &Tensor, b: &Tensor) -> R<Tensor> {
    let (mut ash, mut bsh) = (a.shape.clone(), b.shape.clone());
    let (squeeze_a, squeeze_b) = (ash.len() == 1, bsh.len() == 1);
    if squeeze_a {
        ash.insert(0, 1);
    }
    if squeeze_b {
        bsh.push(1);
    }
    if ash.len() < 2 || bsh.len() < 2 {
        return Err("MatMul of a scalar".into());
    }
    let (m, k) = (ash[ash.len() - 2], ash[ash.len() - 1]);
    let (k2, n) = (bsh[bsh.len() - 2], bsh[bsh.len() - 1]);
    if k != k2 {
        return Err(format!("MatMul of shapes {:?} and {:?}: inner dimensions {k} and {k2} differ", a.shape, b.shape));
    }
    let batch = broadcast_shape(&ash[..ash.len() - 2], &bsh[..bsh.len() - 2])?;
    let nb: usize = batch.iter().product();
    let dt = out_dtype(&[a, b]);
    let mut data = Vec::with_capacity(nb * m * n);
    for bi in 0..nb {
        let ao = broadcast_index(&batch, &ash[..ash.len() - 2], bi) * m * k;
        let bo = broadcast_index(&batch, &bsh[..bsh.len() - 2], bi) * k * n;
        for i in 0..m {
            for j in 0..n {
                let s: f64 = (0..k).map(|p| a.data[ao + i * k + p] * b.data[bo + p * n + j]).sum();
                data.push(fit(dt, s));
            }
        }
    }
    let mut shape = batch;
    if !squeeze_a {
        shape.push(m);
    }
    if !squeeze_b {
        shape.push(n);
    }
    Ok(Tensor::new(dt, shape, data))
}

/// Permutes axes.
pub fn transpose(a: &Tensor, perm: &[usize]) -> Tensor {
    let r = a.shape.len();
    let shape: Vec<usize> = perm.iter().map(|&p| a.shape[p]).collect();
    let mut in_strides = vec![1; r];
    for i in (0..r.saturating_sub(1)).rev() {
        in_strides[i] = in_strides[i + 1] * a.shape[i + 1];
    }
    let n = a.data.len();
    let mut data = Vec::with_capacity(n);
    for flat in 0..n {
        let mut rem = flat;
        let mut src = 0;
        for i in (0..r).rev() {
            let c = rem % shape[i];
            rem /= shape[i];
            src += c * in_strides[perm[i]];
        }
        data.push(a.data[src]);
    }
    Tensor::new(a.dtype, shape, data)
}

/// QONNX `Quant` on floats, step by step as the qonnx executor computes it.
#[allow(clippy::too_many_arguments)]
pub fn quant(
    x: &Tensor,
    scale: &Tensor,
    zeropt: &Tensor,
    bits: f64,
    signed: bool,
    narrow: bool,
    round: RoundMode,
) -> R<Tensor> {
    let dt = out_dtype(&[x, scale]);
    let (qmin, qmax) = int_range(bits, signed, narrow)?;
    let y = binary(x, scale, |v, s| v / s)?;
    let y = binary(&y, zeropt, |v, z| v + z)?;
    let y = if bits == 1.0 && signed {
        unary(&y, |v| if v >= 0.0 { 1.0 } else { -1.0 })
    } else {
        unary(&y, |v| round.round_f64(v.clamp(qmin, qmax)))
    };
    let y = binary(&y, zeropt, |v, z| v - z)?;
    if scale.data.iter().all(|&s| is_pow2(s)) {
        let mut y = binary(&y, scale, |v, s| v * s)?;
        // A quantizer's output is a fresh value of its scale's type: binary64 from a float-scale
        // quantizer upstream (below) does not leak past it (its codes are exact in float32).
        y.dtype = if dt == DType::F64 && scale.dtype == DType::F32 && bits <= 24.0 { DType::F32 } else { dt };
        return Ok(y);
    }
    // A float scale: the output `(q − z)·s` is kept exact (binary64), so a quantized weight is
    // exactly its integer code times its scale and the quantized value is a dyadic rational
    // (qonnx rounds this product to float32; see the README's "Float scales").
    let mut y = binary(&y, &Tensor::new(DType::F64, scale.shape.clone(), scale.data.clone()), |v, s| v * s)?;
    y.dtype = DType::F64;
    Ok(y)
}

/// Whether `s` is a positive power of two (a scale that is exactly a fixed-point grid).
pub fn is_pow2(s: f64) -> bool {
    s > 0.0 && s.is_finite() && s.log2().fract() == 0.0
}

/// Integer range of a QONNX quantizer.
pub fn int_range(bits: f64, signed: bool, narrow: bool) -> R<(f64, f64)> {
    if bits.fract() != 0.0 || !(1.0..=64.0).contains(&bits) {
        return Err(format!("bit width {bits} must be an integer between 1 and 64"));
    }
    let b = bits as i32;
    Ok(match (signed, narrow) {
        (true, true) => (-(2f64.powi(b - 1)) + 1.0, 2f64.powi(b - 1) - 1.0),
        (true, false) => (-(2f64.powi(b - 1)), 2f64.powi(b - 1) - 1.0),
        (false, true) => (0.0, 2f64.powi(b) - 2.0),
        (false, false) => (0.0, 2f64.powi(b) - 1.0),
    })
}

/// The output scale and bit width of a QONNX `Trunc`: opset 2 has six inputs (X, scale,
/// zeropt, in_bitwidth, out_scale, out_bitwidth); opset 1 has five (X, scale, zeropt,
/// in_bitwidth, out_bitwidth) and drops `in − out` bits, i.e. out_scale = scale·2^(in−out).
pub fn trunc_output(inputs: &[Option<&Tensor>]) -> R<(Tensor, f64)> {
    let scalar = |i: usize, what: &str| -> R<f64> {
        need(inputs, i, what)?.as_scalar().ok_or_else(|| format!("Trunc {what} must be a scalar"))
    };
    match inputs.len() {
        6 => Ok((need(inputs, 4, "output scale")?.clone(), scalar(5, "output bit width")?)),
        5 => {
            let (ib, ob) = (scalar(3, "input bit width")?, scalar(4, "output bit width")?);
            let f = 2f64.powf(ib - ob);
            Ok((unary(need(inputs, 1, "scale")?, |s| s * f), ob))
        }
        n => Err(format!(
            "Trunc takes 5 inputs (opset 1: X, scale, zeropt, in_bitwidth, out_bitwidth) or 6 (opset 2: \
             X, scale, zeropt, in_bitwidth, out_scale, out_bitwidth), not {n}"
        )),
    }
}

fn need<'a>(inputs: &[Option<&'a Tensor>], i: usize, what: &str) -> R<&'a Tensor> {
    inputs.get(i).copied().flatten().ok_or_else(|| format!("missing input {i} ({what})"))
}

fn ints_of(t: &Tensor, what: &str) -> R<Vec<i64>> {
    t.as_ints().ok_or_else(|| format!("{what} must hold integers"))
}

/// Evaluates one op on concrete tensors (`None` = omitted optional input). `opset` is the
/// model's default-domain opset (no op reads it: the importer has already resolved the
/// opset-dependent forms into the `Op`).
pub fn eval_op(op: &Op, inputs: &[Option<&Tensor>], opset: i64) -> R<Vec<Tensor>> {
    // An empty tensor may declare huge other dimensions; refusing them keeps every product of
    // dimensions (strides, outer and inner counts) within `MAX_ELEMENTS`.
    for (i, t) in inputs.iter().enumerate() {
        if let Some(t) = t {
            check_size(&t.shape.iter().map(|&d| d.max(1)).collect::<Vec<_>>())
                .map_err(|_| format!("input {i} of shape {:?} has too large dimensions", t.shape))?;
        }
    }
    let x = || need(inputs, 0, "data");
    let input = |i: usize| inputs.get(i).copied().flatten();
    Ok(vec![match op {
        Op::MatMul => matmul(x()?, need(inputs, 1, "B")?)?,
        Op::Gemm { alpha, beta, trans_a, trans_b } => gemm(x()?, inputs, *alpha, *beta, *trans_a, *trans_b)?,
        Op::Add => binary(x()?, need(inputs, 1, "B")?, |a, b| a + b)?,
        Op::Sub => binary(x()?, need(inputs, 1, "B")?, |a, b| a - b)?,
        Op::Mul => binary(x()?, need(inputs, 1, "B")?, |a, b| a * b)?,
        Op::Div => div(x()?, need(inputs, 1, "B")?)?,
        Op::Pow => binary(x()?, need(inputs, 1, "exponent")?, |a, b| if b == 0.5 { a.sqrt() } else { a.powf(b) })?,
        Op::Sqrt => unary(x()?, f64::sqrt),
        Op::Neg => unary(x()?, |v| -v),
        Op::Relu => unary(x()?, |v| v.max(0.0)),
        Op::Sigmoid => unary(x()?, |v| 1.0 / (1.0 + (-v).exp())),
        Op::Softmax { axis, legacy } => norm::softmax(x()?, *axis, *legacy)?,
        Op::BatchNorm { epsilon } => norm::batch_norm(x()?, inputs, *epsilon)?,
        Op::LayerNorm { axis, epsilon } => norm::layer_norm(x()?, inputs, *axis, *epsilon)?,
        Op::Flatten { axis } => layout::flatten(x()?, *axis)?,
        Op::Reshape { allowzero } => layout::reshape(x()?, inputs, *allowzero)?,
        Op::Identity | Op::Dropout => x()?.clone(),
        Op::Cast { to } => cast(x()?, *to)?,
        Op::Transpose { perm } => layout::transpose_op(x()?, perm.as_deref())?,
        Op::Shape { start, end } => layout::shape(x()?, *start, *end),
        Op::Gather { axis } => layout::gather(x()?, need(inputs, 1, "indices")?, *axis)?,
        Op::Unsqueeze { axes } => layout::unsqueeze(x()?, axes.as_ref(), input(1))?,
        Op::Squeeze { axes } => layout::squeeze(x()?, axes.as_ref(), input(1))?,
        Op::Concat { axis } => layout::concat(inputs, *axis)?,
        Op::Constant => return Err("Constant has no inputs to evaluate".into()),
        Op::Quant { signed, narrow, round } => quant_op(inputs, *signed, *narrow, *round)?,
        Op::BipolarQuant => bipolar_quant(x()?, need(inputs, 1, "scale")?)?,
        Op::FixedQuant { round, overflow } => fixed::fixed_quant(inputs, *round, *overflow)?,
        Op::Lookup { frac, first } => fixed::lookup(x()?, need(inputs, 1, "values")?, *frac, *first)?,
        Op::Trunc { signed, narrow, round } => trunc(x()?, inputs, *signed, *narrow, *round)?,
        Op::Tanh => unary(x()?, f64::tanh),
        Op::Erf => unary(x()?, erf),
        Op::Gelu { tanh: false } => unary(x()?, |v| 0.5 * v * (1.0 + erf(v * std::f64::consts::FRAC_1_SQRT_2))),
        Op::Gelu { tanh: true } => unary(x()?, gelu_tanh),
        Op::LeakyRelu { alpha } => unary(x()?, |v| if v < 0.0 { alpha * v } else { v }),
        Op::HardSigmoid { alpha, beta } => unary(x()?, |v| (alpha * v + beta).clamp(0.0, 1.0)),
        Op::Clip { min, max } => clip(inputs, *min, *max)?,
        Op::Max => variadic(inputs, "Max", f64::max)?,
        Op::Min => variadic(inputs, "Min", f64::min)?,
        Op::Reduce { kind, axes, keepdims, noop_with_empty_axes } => {
            reduce::reduce_op(x()?, *kind, axes.as_deref(), input(1), *keepdims, *noop_with_empty_axes)?
        }
        Op::Einsum { equation } => einsum::einsum(equation, &inputs.iter().flatten().copied().collect::<Vec<_>>())?,
        Op::Slice { starts, ends, axes } => {
            movement::slice_op(inputs, starts.as_deref(), ends.as_deref(), axes.as_deref())?
        }
        Op::Expand => movement::expand(x()?, need(inputs, 1, "shape")?)?,
        Op::Tile => movement::tile(x()?, need(inputs, 1, "repeats")?)?,
        Op::Split { axis, split, outputs } => return movement::split_op(inputs, *axis, split.as_ref(), *outputs),
        Op::Conv { window, group } => cnn::conv(x()?, need(inputs, 1, "W")?, input(2), window, *group)?,
        Op::MaxPool { window, ceil_mode } => cnn::max_pool(x()?, window, *ceil_mode)?,
        Op::AveragePool { window, ceil_mode, count_include_pad } => {
            cnn::average_pool(x()?, window, *ceil_mode, *count_include_pad)?
        }
        Op::GlobalAveragePool => reduce::global_pool(x()?, ReduceKind::Mean)?,
        Op::GlobalMaxPool => reduce::global_pool(x()?, ReduceKind::Max)?,
        Op::Pad { mode, pads, value } => movement::pad_op(inputs, *mode, pads.as_ref(), *value)?,
        Op::Resize { scales, scales_slot, coord, nearest, axes } => {
            resize::resize(inputs, scales.as_deref(), *scales_slot, *coord, *nearest, axes.as_deref())?
        }
        Op::Func(f) => {
            let x = x()?;
            Tensor::new(x.dtype, x.shape.clone(), x.data.iter().map(|&v| funcs::apply(*f, v, x.dtype)).collect())
        }
        Op::Unsupported { reason } => return Err(reason.clone()),
    }])
    .inspect(|_| {
        let _ = opset;
    })
}

/// ONNX `Gemm` on 2-D `a` and input 1 (B), each transposed on request:
/// `alpha·A·B + beta·C` with the optional input 2 (C) broadcast to the output.
fn gemm(a: &Tensor, inputs: &[Option<&Tensor>], alpha: f64, beta: f64, trans_a: bool, trans_b: bool) -> R<Tensor> {
    let b = need(inputs, 1, "B")?;
    if a.shape.len() != 2 || b.shape.len() != 2 {
        return Err(format!("Gemm needs 2-D operands, got {:?} and {:?}", a.shape, b.shape));
    }
    let a = if trans_a { transpose(a, &[1, 0]) } else { a.clone() };
    let b = if trans_b { transpose(b, &[1, 0]) } else { b.clone() };
    let mut y = matmul(&a, &b)?;
    if alpha != 1.0 {
        y = unary(&y, |v| v * alpha);
    }
    if let Some(c) = inputs.get(2).copied().flatten() {
        let c = if beta != 1.0 { unary(c, |v| v * beta) } else { c.clone() };
        y = binary(&y, &c, |p, q| p + q)?;
        if y.shape != [a.shape[0], b.shape[1]] {
            return Err(format!("Gemm bias of shape {:?} does not broadcast to the output", c.shape));
        }
    }
    Ok(y)
}

/// ONNX `Div`: truncating between two integer tensors, else the float quotient.
fn div(a: &Tensor, b: &Tensor) -> R<Tensor> {
    if a.dtype == DType::Int && b.dtype == DType::Int {
        binary(a, b, |p, q| (p / q).trunc())
    } else {
        binary(a, b, |p, q| p / q)
    }
}

/// The tanh approximation of GELU: `0.5·v·(1 + tanh(√(2/π)·(v + 0.044715·v³)))`.
fn gelu_tanh(v: f64) -> f64 {
    let k = (2.0 / std::f64::consts::PI).sqrt();
    0.5 * v * (1.0 + (k * (v + 0.044715 * v * v * v)).tanh())
}

/// ONNX `Clip` of input 0 to `[min, max]`: each bound from the attribute, else from input 1
/// (min) or 2 (max), else unbounded.
fn clip(inputs: &[Option<&Tensor>], min: Option<f64>, max: Option<f64>) -> R<Tensor> {
    let bound = |attr: Option<f64>, i: usize, what: &str, unbounded: f64| -> R<f64> {
        match (attr, inputs.get(i).copied().flatten()) {
            (Some(v), _) => Ok(v),
            (None, Some(t)) => t.as_scalar().ok_or_else(|| format!("Clip {what} must be a scalar")),
            (None, None) => Ok(unbounded),
        }
    };
    let (lo, hi) = (bound(min, 1, "min", f64::NEG_INFINITY)?, bound(max, 2, "max", f64::INFINITY)?);
    Ok(unary(need(inputs, 0, "data")?, |v| v.max(lo).min(hi)))
}

/// QONNX `Quant(x, scale, zeropt, bitwidth)` ([`quant`]), the bit width a scalar input.
fn quant_op(inputs: &[Option<&Tensor>], signed: bool, narrow: bool, round: RoundMode) -> R<Tensor> {
    let bits = need(inputs, 3, "bitwidth")?.as_scalar().ok_or("Quant bit width must be a scalar")?;
    quant(need(inputs, 0, "data")?, need(inputs, 1, "scale")?, need(inputs, 2, "zeropt")?, bits, signed, narrow, round)
}

/// QONNX `BipolarQuant(x, scale)`: `scale · (x ≥ 0 ? +1 : −1)`.
fn bipolar_quant(x: &Tensor, scale: &Tensor) -> R<Tensor> {
    let mut y = binary(&unary(x, |v| if v >= 0.0 { 1.0 } else { -1.0 }), scale, |v, s| v * s)?;
    if y.dtype == DType::F64 && scale.dtype == DType::F32 && scale.data.iter().all(|&s| is_pow2(s)) {
        y.dtype = DType::F32; // ±scale: exact in float32 (see `quant`)
    }
    Ok(y)
}

/// QONNX `Trunc` of `x` (opset 1 or 2 form, [`trunc_output`]), step by step as the qonnx
/// executor computes it: back to integers on the input grid, divided by the power of two
/// between the output and input scales, rounded and clamped to the output range, rescaled.
fn trunc(x: &Tensor, inputs: &[Option<&Tensor>], signed: bool, narrow: bool, round: RoundMode) -> R<Tensor> {
    let (scale, zp) = (need(inputs, 1, "scale")?, need(inputs, 2, "zeropt")?);
    let (out_scale, out_bits) = trunc_output(inputs)?;
    let out_scale = &out_scale;
    let (qmin, qmax) = int_range(out_bits, signed, narrow)?;
    let y = binary(x, scale, |v, s| v / s)?;
    let y = binary(&y, zp, |v, z| v + z)?;
    let y = unary(&y, |v| v.round_ties_even());
    let ts = binary(out_scale, scale, |o, s| 2f64.powf((o / s).log2().round_ties_even()))?;
    let y = binary(&y, &ts, |v, t| v / t)?;
    let y = unary(&y, |v| round.round_f64(v.clamp(qmin, qmax)));
    let ozp = binary(zp, &ts, |z, t| z / t)?;
    let y = binary(&y, &ozp, |v, z| v - z)?;
    binary(&y, out_scale, |v, s| v * s)
}

/// ONNX `Cast` to the ONNX data type `to`: integers truncate, booleans are 0 or 1.
fn cast(t: &Tensor, to: i32) -> R<Tensor> {
    use crate::proto::data_type as d;
    let dt = match to {
        d::FLOAT | d::FLOAT16 => DType::F32,
        d::DOUBLE => DType::F64,
        d::BOOL => DType::Bool,
        d::INT8 | d::UINT8 | d::INT16 | d::UINT16 | d::INT32 | d::UINT32 | d::INT64 | d::UINT64 => DType::Int,
        other => return Err(format!("Cast to {} is not supported", crate::tensor::dtype_name(other))),
    };
    Ok(Tensor::new(
        dt,
        t.shape.clone(),
        t.data
            .iter()
            .map(|&v| match dt {
                DType::Int => v.trunc(),
                DType::Bool => (v != 0.0) as i32 as f64,
                _ => fit(dt, v),
            })
            .collect(),
    ))
}

/// Resolves a Reshape target (`0` copies a dim unless `allowzero`, `-1` is inferred).
pub fn reshape_target(input: &[usize], spec: &[i64], allowzero: bool) -> R<Vec<usize>> {
    let total: usize = input.iter().product();
    let mut out = vec![];
    let mut infer = None;
    for (i, &s) in spec.iter().enumerate() {
        match s {
            -1 if infer.is_none() => {
                infer = Some(i);
                out.push(1);
            }
            0 if !allowzero => out.push(*input.get(i).ok_or("Reshape copies a dimension that does not exist")?),
            s if s >= 0 => out.push(s as usize),
            _ => return Err(format!("Reshape shape {spec:?} is invalid")),
        }
    }
    // Checked: a shape whose dimensions multiply past usize cannot match any tensor.
    let product = |dims: &[usize]| dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let known = product(&out).ok_or_else(|| format!("Reshape shape {spec:?} is too large"))?;
    if let Some(i) = infer {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(format!("cannot reshape {input:?} to {spec:?}"));
        }
        out[i] = total / known;
    }
    if product(&out) != Some(total) {
        return Err(format!("cannot reshape {input:?} ({total} elements) to {spec:?}"));
    }
    Ok(out)
}

/// Runs the whole graph in float semantics on one input per graph input; returns the outputs.
pub fn run_float(g: &Graph, inputs: &[Tensor]) -> R<Vec<Tensor>> {
    let vals = run_float_values(g, inputs)?;
    g.outputs
        .iter()
        .map(|o| vals[o.0 as usize].clone().ok_or_else(|| format!("output '{}' was not computed", g.value(*o).name)))
        .collect()
}

/// Runs the whole graph in float semantics and returns every value (indexed by value id;
/// `None` for values no node computed).
pub fn run_float_values(g: &Graph, inputs: &[Tensor]) -> R<Vec<Option<Tensor>>> {
    let mut vals: Vec<Option<Tensor>> = g.values.iter().map(|v| v.konst.clone()).collect();
    if inputs.len() != g.inputs.len() {
        return Err(format!("the model has {} inputs, {} given", g.inputs.len(), inputs.len()));
    }
    for (&id, t) in g.inputs.iter().zip(inputs) {
        vals[id.0 as usize] = Some(t.clone());
    }
    for n in &g.nodes {
        if n.op == Op::Constant || n.outputs.iter().all(|o| vals[o.0 as usize].is_some()) {
            continue;
        }
        let ins: Vec<Option<&Tensor>> = n.inputs.iter().map(|i| i.and_then(|i| vals[i.0 as usize].as_ref())).collect();
        let outs = eval_op(&n.op, &ins, g.opset).map_err(|e| format!("{}: {e}", n.node_ref()))?;
        for (o, t) in n.outputs.iter().zip(outs) {
            vals[o.0 as usize] = Some(t);
        }
    }
    Ok(vals)
}
