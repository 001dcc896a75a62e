//! Float semantics of every supported op, as ONNX and QONNX define them: used to fold constant
//! subgraphs, to infer shapes, and as the float reference run of a whole model ([`run_float`]).
//!
//! Tensors whose dtype is `F32` are rounded to f32 after every elementary step, mirroring the
//! float32 evaluation of onnxruntime / the qonnx executor (MatMul, Conv, Einsum and the
//! reductions accumulate in f64 before their single rounding, so they can differ from a float32
//! sum in the last bit).
//!
//! Op families with more than a few lines live in submodules: `cnn` (Conv and pooling),
//! [`einsum`], `movement` (Slice, Expand, Tile, Split, Pad) and `reduce`.

mod cnn;
pub mod einsum;
mod movement;
mod reduce;

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
    let mut y = binary(&y, scale, |v, s| v * s)?;
    y.dtype = dt;
    Ok(y)
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

/// Evaluates one op on concrete tensors (`None` = omitted optional input). `shapes` gives the
/// input shapes (needed by `Shape`, which reads no data).
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
    Ok(vec![match op {
        Op::MatMul => matmul(x()?, need(inputs, 1, "B")?)?,
        Op::Gemm { alpha, beta, trans_a, trans_b } => {
            let (a, b) = (x()?, need(inputs, 1, "B")?);
            if a.shape.len() != 2 || b.shape.len() != 2 {
                return Err(format!("Gemm needs 2-D operands, got {:?} and {:?}", a.shape, b.shape));
            }
            let a = if *trans_a { transpose(a, &[1, 0]) } else { a.clone() };
            let b = if *trans_b { transpose(b, &[1, 0]) } else { b.clone() };
            let mut y = matmul(&a, &b)?;
            if *alpha != 1.0 {
                y = unary(&y, |v| v * alpha);
            }
            if let Some(c) = inputs.get(2).copied().flatten() {
                let c = if *beta != 1.0 { unary(c, |v| v * beta) } else { c.clone() };
                y = binary(&y, &c, |p, q| p + q)?;
                if y.shape != [a.shape[0], b.shape[1]] {
                    return Err(format!("Gemm bias of shape {:?} does not broadcast to the output", c.shape));
                }
            }
            y
        }
        Op::Add => binary(x()?, need(inputs, 1, "B")?, |a, b| a + b)?,
        Op::Sub => binary(x()?, need(inputs, 1, "B")?, |a, b| a - b)?,
        Op::Mul => binary(x()?, need(inputs, 1, "B")?, |a, b| a * b)?,
        Op::Div => {
            let (a, b) = (x()?, need(inputs, 1, "B")?);
            if a.dtype == DType::Int && b.dtype == DType::Int {
                binary(a, b, |p, q| (p / q).trunc())?
            } else {
                binary(a, b, |p, q| p / q)?
            }
        }
        Op::Pow => binary(x()?, need(inputs, 1, "exponent")?, |a, b| if b == 0.5 { a.sqrt() } else { a.powf(b) })?,
        Op::Sqrt => unary(x()?, f64::sqrt),
        Op::Neg => unary(x()?, |v| -v),
        Op::Relu => unary(x()?, |v| v.max(0.0)),
        Op::Sigmoid => unary(x()?, |v| 1.0 / (1.0 + (-v).exp())),
        Op::Softmax { axis, legacy } => softmax(x()?, *axis, *legacy)?,
        Op::BatchNorm { epsilon } => {
            let xx = x()?;
            let (s, b, m, v) =
                (need(inputs, 1, "scale")?, need(inputs, 2, "B")?, need(inputs, 3, "mean")?, need(inputs, 4, "var")?);
            if xx.shape.len() < 2 {
                return Err(format!("BatchNormalization input of rank {} (needs N×C×…)", xx.shape.len()));
            }
            let c = xx.shape[1];
            for (t, what) in [(s, "scale"), (b, "B"), (m, "mean"), (v, "var")] {
                if t.len() != c {
                    return Err(format!("BatchNormalization {what} has {} values for {c} channels", t.len()));
                }
            }
            let inner: usize = xx.shape[2..].iter().product();
            let dt = xx.dtype;
            let data = xx
                .data
                .iter()
                .enumerate()
                .map(|(i, &val)| {
                    let ch = (i / inner) % c;
                    let den = fit(dt, fit(dt, v.data[ch] + fit(dt, *epsilon)).sqrt());
                    fit(dt, fit(dt, fit(dt, val - m.data[ch]) / den) * s.data[ch] + b.data[ch])
                })
                .collect();
            Tensor::new(dt, xx.shape.clone(), data)
        }
        Op::LayerNorm { axis, epsilon } => {
            let xx = x()?;
            let r = xx.shape.len();
            let a = norm_axis(*axis, r)?;
            let inner: usize = xx.shape[a..].iter().product();
            let scale = need(inputs, 1, "Scale")?;
            let norm_shape = &xx.shape[a..];
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
            let dt = xx.dtype;
            let mut data = Vec::with_capacity(xx.len());
            for row in xx.data.chunks(inner.max(1)) {
                let mean = row.iter().sum::<f64>() / inner as f64;
                let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / inner as f64;
                let den = (var + epsilon).sqrt();
                for (k, &v) in row.iter().enumerate() {
                    let s = scale.data[broadcast_index(norm_shape, &scale.shape, k)];
                    let b = bias.map_or(0.0, |b| b.data[broadcast_index(norm_shape, &b.shape, k)]);
                    data.push(fit(dt, (v - mean) / den * s + b));
                }
            }
            Tensor::new(dt, xx.shape.clone(), data)
        }
        Op::Flatten { axis } => {
            let xx = x()?;
            let r = xx.shape.len();
            let a = if *axis < 0 { *axis + r as i64 } else { *axis };
            if a < 0 || a as usize > r {
                return Err(format!("Flatten axis {axis} out of range for rank {r}"));
            }
            let outer: usize = xx.shape[..a as usize].iter().product();
            Tensor::new(xx.dtype, vec![outer, xx.len() / outer.max(1)], xx.data.clone())
        }
        Op::Reshape { allowzero } => {
            let xx = x()?;
            let spec = ints_of(need(inputs, 1, "shape")?, "Reshape shape")?;
            let shape = reshape_target(&xx.shape, &spec, *allowzero)?;
            Tensor::new(xx.dtype, shape, xx.data.clone())
        }
        Op::Identity | Op::Dropout | Op::Cast { .. } => {
            let mut t = x()?.clone();
            if let Op::Cast { to } = op {
                t = cast(&t, *to)?;
            }
            t
        }
        Op::Transpose { perm } => {
            let xx = x()?;
            let r = xx.shape.len();
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
            transpose(xx, &p)
        }
        Op::Shape { start, end } => {
            let xx = x()?;
            let r = xx.shape.len() as i64;
            let clampi = |v: i64| (if v < 0 { v + r } else { v }).clamp(0, r) as usize;
            let (s, e) = (clampi(*start), clampi(end.unwrap_or(r)));
            let dims: Vec<f64> = xx.shape[s..e.max(s)].iter().map(|&d| d as f64).collect();
            Tensor::new(DType::Int, vec![dims.len()], dims)
        }
        Op::Gather { axis } => {
            let (xx, idx) = (x()?, need(inputs, 1, "indices")?);
            let ax = norm_axis(*axis, xx.shape.len())?;
            let d = xx.shape[ax] as i64;
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
            let outer: usize = xx.shape[..ax].iter().product();
            let inner: usize = xx.shape[ax + 1..].iter().product();
            let mut data = vec![];
            for o in 0..outer {
                for &j in &ids {
                    let base = (o * xx.shape[ax] + j) * inner;
                    data.extend_from_slice(&xx.data[base..base + inner]);
                }
            }
            let mut shape = xx.shape[..ax].to_vec();
            shape.extend_from_slice(&idx.shape);
            shape.extend_from_slice(&xx.shape[ax + 1..]);
            Tensor::new(xx.dtype, shape, data)
        }
        Op::Unsqueeze { axes } => {
            let xx = x()?;
            let axes = match (axes, inputs.get(1).copied().flatten()) {
                (Some(a), _) => a.clone(),
                (None, Some(t)) => ints_of(t, "Unsqueeze axes")?,
                _ => return Err("Unsqueeze without axes".into()),
            };
            let r = xx.shape.len() + axes.len();
            let mut ax: Vec<usize> = axes.iter().map(|&a| norm_axis(a, r)).collect::<R<_>>()?;
            ax.sort();
            let mut shape = xx.shape.clone();
            for a in ax {
                shape.insert(a, 1);
            }
            Tensor::new(xx.dtype, shape, xx.data.clone())
        }
        Op::Squeeze { axes } => {
            let xx = x()?;
            let axes = match (axes, inputs.get(1).copied().flatten()) {
                (Some(a), _) => Some(a.clone()),
                (None, Some(t)) => Some(ints_of(t, "Squeeze axes")?),
                _ => None,
            };
            let r = xx.shape.len();
            let drop: Vec<usize> = match axes {
                Some(a) => a.iter().map(|&v| norm_axis(v, r)).collect::<R<_>>()?,
                None => (0..r).filter(|&i| xx.shape[i] == 1).collect(),
            };
            if let Some(&bad) = drop.iter().find(|&&i| xx.shape[i] != 1) {
                return Err(format!("Squeeze of axis {bad} whose size is {}", xx.shape[bad]));
            }
            let shape = (0..r).filter(|i| !drop.contains(i)).map(|i| xx.shape[i]).collect();
            Tensor::new(xx.dtype, shape, xx.data.clone())
        }
        Op::Concat { axis } => {
            let ts: Vec<&Tensor> = inputs.iter().flatten().copied().collect();
            let first = ts.first().ok_or("Concat without inputs")?;
            let r = first.shape.len();
            let ax = norm_axis(*axis, r)?;
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
            Tensor::new(out_dtype(&ts), shape, data)
        }
        Op::Constant => return Err("Constant has no inputs to evaluate".into()),
        Op::Quant { signed, narrow, round } => {
            let bits = need(inputs, 3, "bitwidth")?.as_scalar().ok_or("Quant bit width must be a scalar")?;
            quant(x()?, need(inputs, 1, "scale")?, need(inputs, 2, "zeropt")?, bits, *signed, *narrow, *round)?
        }
        Op::BipolarQuant => {
            let xx = x()?;
            let s = need(inputs, 1, "scale")?;
            binary(&unary(xx, |v| if v >= 0.0 { 1.0 } else { -1.0 }), s, |v, s| v * s)?
        }
        Op::Trunc { signed, narrow, round } => {
            let xx = x()?;
            let (scale, zp) = (need(inputs, 1, "scale")?, need(inputs, 2, "zeropt")?);
            let (out_scale, out_bits) = trunc_output(inputs)?;
            let out_scale = &out_scale;
            let (qmin, qmax) = int_range(out_bits, *signed, *narrow)?;
            let y = binary(xx, scale, |v, s| v / s)?;
            let y = binary(&y, zp, |v, z| v + z)?;
            let y = unary(&y, |v| v.round_ties_even());
            let ts = binary(out_scale, scale, |o, s| 2f64.powf((o / s).log2().round_ties_even()))?;
            let y = binary(&y, &ts, |v, t| v / t)?;
            let y = unary(&y, |v| round.round_f64(v.clamp(qmin, qmax)));
            let ozp = binary(zp, &ts, |z, t| z / t)?;
            let y = binary(&y, &ozp, |v, z| v - z)?;
            binary(&y, out_scale, |v, s| v * s)?
        }
        Op::Tanh => unary(x()?, f64::tanh),
        Op::Erf => unary(x()?, erf),
        Op::Gelu { tanh: false } => unary(x()?, |v| 0.5 * v * (1.0 + erf(v * std::f64::consts::FRAC_1_SQRT_2))),
        Op::Gelu { tanh: true } => unary(x()?, |v| {
            let k = (2.0 / std::f64::consts::PI).sqrt();
            0.5 * v * (1.0 + (k * (v + 0.044715 * v * v * v)).tanh())
        }),
        Op::LeakyRelu { alpha } => unary(x()?, |v| if v < 0.0 { alpha * v } else { v }),
        Op::HardSigmoid { alpha, beta } => unary(x()?, |v| (alpha * v + beta).clamp(0.0, 1.0)),
        Op::Clip { min, max } => {
            let bound = |attr: &Option<f64>, i: usize, what: &str, unbounded: f64| -> R<f64> {
                match (attr, inputs.get(i).copied().flatten()) {
                    (Some(v), _) => Ok(*v),
                    (None, Some(t)) => t.as_scalar().ok_or_else(|| format!("Clip {what} must be a scalar")),
                    (None, None) => Ok(unbounded),
                }
            };
            let (lo, hi) = (bound(min, 1, "min", f64::NEG_INFINITY)?, bound(max, 2, "max", f64::INFINITY)?);
            unary(x()?, |v| v.max(lo).min(hi))
        }
        Op::Max => variadic(inputs, "Max", f64::max)?,
        Op::Min => variadic(inputs, "Min", f64::min)?,
        Op::Reduce { kind, axes, keepdims, noop_with_empty_axes } => reduce::reduce_op(
            x()?,
            *kind,
            axes.as_deref(),
            inputs.get(1).copied().flatten(),
            *keepdims,
            *noop_with_empty_axes,
        )?,
        Op::Einsum { equation } => einsum::einsum(equation, &inputs.iter().flatten().copied().collect::<Vec<_>>())?,
        Op::Slice { starts, ends, axes } => {
            let input =
                |i: usize, what: &str| inputs.get(i).copied().flatten().map(|t| movement::slice_bounds(t, what));
            match (starts, ends) {
                (Some(s), Some(e)) => movement::slice(x()?, s, e, axes.as_deref(), None)?,
                _ => {
                    let s = input(1, "starts").ok_or("Slice needs the input 'starts'")??;
                    let e = input(2, "ends").ok_or("Slice needs the input 'ends'")??;
                    let axes = input(3, "axes").transpose()?;
                    let steps = input(4, "steps").transpose()?;
                    movement::slice(x()?, &s, &e, axes.as_deref(), steps.as_deref())?
                }
            }
        }
        Op::Expand => movement::expand(x()?, need(inputs, 1, "shape")?)?,
        Op::Tile => movement::tile(x()?, need(inputs, 1, "repeats")?)?,
        Op::Split { axis, split, outputs } => {
            let sizes = match (split, inputs.get(1).copied().flatten()) {
                (Some(s), _) => Some(s.clone()),
                (None, Some(t)) => Some(ints_of(t, "Split sizes")?),
                (None, None) => None,
            };
            return movement::split(x()?, *axis, sizes, *outputs);
        }
        Op::Conv { window, group } => {
            cnn::conv(x()?, need(inputs, 1, "W")?, inputs.get(2).copied().flatten(), window, *group)?
        }
        Op::MaxPool { window, ceil_mode } => cnn::max_pool(x()?, window, *ceil_mode)?,
        Op::AveragePool { window, ceil_mode, count_include_pad } => {
            cnn::average_pool(x()?, window, *ceil_mode, *count_include_pad)?
        }
        Op::GlobalAveragePool => reduce::global_pool(x()?, ReduceKind::Mean)?,
        Op::GlobalMaxPool => reduce::global_pool(x()?, ReduceKind::Max)?,
        Op::Pad { mode, pads, value } => {
            let pads = match pads {
                Some(p) => p.clone(),
                None => ints_of(need(inputs, 1, "pads")?, "Pad pads")?,
            };
            let value = match inputs.get(2).copied().flatten() {
                Some(t) => t.as_scalar().ok_or("Pad constant_value must be a scalar")?,
                None => *value,
            };
            let axes = inputs.get(3).copied().flatten().map(|t| ints_of(t, "Pad axes")).transpose()?;
            movement::pad(x()?, *mode, &pads, value, axes.as_deref())?
        }
        Op::Unsupported { reason } => return Err(reason.clone()),
    }])
    .inspect(|_| {
        let _ = opset;
    })
}

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

fn softmax(x: &Tensor, axis: i64, legacy: bool) -> R<Tensor> {
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
