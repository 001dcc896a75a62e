//! The bit-exact reference interpreter: the oracle that the Verilog must match.
//!
//! Each layer is computed from its mathematical definition on `i128` integers (rounding through
//! [`crate::round`]'s quotient/remainder definitions), independent of how `hls` builds hardware.

use crate::fixed::{bits_for, Overflow};
use crate::qir::{FloatStep, InputConv, LayerKind, LayerNormSpec, QModel, Requant, SoftmaxSpec, Steps};
use crate::round::Round;
use crate::round::{rescale, round_f64, shift_round};
use tachyon_frontend::eval::eval_op;
use tachyon_frontend::{DType, Op, Tensor};

/// Wraps `v` to a `width`-bit two's complement (signed) or binary (unsigned) integer.
pub fn wrap(v: i128, width: u32, signed: bool) -> i128 {
    if width >= 128 {
        return v;
    }
    let m = 1i128 << width;
    let u = v.rem_euclid(m);
    if signed && u >= m / 2 {
        u - m
    } else {
        u
    }
}

/// Applies one requantization.
pub fn requant(x: i128, r: &Requant) -> i128 {
    match r.overflow {
        Overflow::Sat | Overflow::SatSym => {
            crate::round::rescale_div(x, r.from_frac, r.to_frac, r.div, r.round).clamp(r.lo, r.hi)
        }
        Overflow::Wrap if r.div > 1 => {
            let v = crate::round::rescale_div(x, r.from_frac, r.to_frac, r.div, r.round);
            wrap(v, bits_for(r.lo, r.hi), r.lo < 0)
        }
        Overflow::Wrap => {
            let v = if r.to_frac >= r.from_frac {
                crate::round::shl_wrapping(x, (r.to_frac - r.from_frac) as u32)
            } else {
                rescale(x, r.from_frac, r.to_frac, r.round)
            };
            wrap(v, bits_for(r.lo, r.hi), r.lo < 0)
        }
    }
}

/// Evaluates a step function.
pub fn steps(x: i128, s: &Steps) -> i128 {
    let k = s.thresholds.iter().take_while(|&&t| t <= x).count();
    s.values[k]
}

fn table_index(v: i128, len: usize) -> usize {
    v.clamp(0, len as i128 - 1) as usize
}

/// The integer softmax, step by step as [`SoftmaxSpec`] documents it.
pub fn softmax(x: &[i128], s: &SoftmaxSpec) -> Vec<i128> {
    let m = x.iter().copied().max().unwrap_or(0);
    let e: Vec<i128> =
        x.iter().map(|&xi| s.exp_table[table_index((m - xi) >> s.exp_shift, s.exp_table.len())]).collect();
    let sum: i128 = e.iter().sum();
    let r = s.inv_table[table_index((sum - s.inv_base) >> s.inv_shift, s.inv_table.len())];
    e.iter().map(|&ei| shift_round(ei * r, s.out_shift, s.out_round)).collect()
}

/// `(k, m)`: the bit length of `v ≥ 1` and its top `t` bits (`⌊v · 2^(t−k)⌋`).
pub fn normalize(v: i128, t: u32) -> (u32, i128) {
    let k = 128 - v.leading_zeros();
    let m = if k >= t { v >> (k - t) } else { v << (t - k) };
    (k, m)
}

/// The integer layer normalization, step by step as [`LayerNormSpec`] documents it.
pub fn layernorm(x: &[i128], s: &LayerNormSpec) -> Vec<i128> {
    let n = x.len() as i128;
    let sum: i128 = x.iter().sum();
    let d: Vec<i128> = x.iter().map(|&v| n * v - sum).collect();
    let v: i128 = d.iter().map(|&di| di * di).sum::<i128>() + s.eps;
    let (k, m) = normalize(v, s.mant_bits);
    let e = k as i32 - s.mant_bits as i32;
    let pi = e.rem_euclid(2);
    let h = (e - pi) / 2;
    let r = s.rsqrt[pi as usize][(m - (1i128 << (s.mant_bits - 1))) as usize] << (s.hmax - h);
    d.iter()
        .zip(&s.gain)
        .zip(&s.bias)
        .map(|((&di, &g), &b)| shift_round(di * r * g, s.shift, Round::HalfUp) + b)
        .collect()
}

/// One layer of kind `kind` on its inputs' values `x` (concatenated).
pub fn eval_layer(kind: &LayerKind, x: &[i128]) -> Vec<i128> {
    match kind {
        LayerKind::Linear { rows, bias } => rows
            .iter()
            .zip(bias)
            .map(|(row, &b)| b + row.iter().map(|&(j, c)| c * x[j as usize]).sum::<i128>())
            .collect(),
        LayerKind::Requant(rs) => x.iter().zip(rs).map(|(&v, r)| requant(v, r)).collect(),
        LayerKind::Relu => x.iter().map(|&v| v.max(0)).collect(),
        LayerKind::Threshold(ss) => x.iter().zip(ss).map(|(&v, s)| steps(v, s)).collect(),
        LayerKind::Lookup(t) => {
            x.iter().map(|&v| t.entries[table_index((v >> t.shift) - t.offset, t.entries.len())]).collect()
        }
        LayerKind::Softmax(s) => softmax(x, s),
        LayerKind::Gather(src) => src.iter().map(|&j| x[j as usize]).collect(),
        LayerKind::LayerNorm(s) => layernorm(x, s),
        LayerKind::Product(pairs) => pairs.iter().map(|&(a, b)| x[a as usize] * x[b as usize]).collect(),
        LayerKind::Max(sets) => sets.iter().map(|set| set.iter().map(|&j| x[j as usize]).max().unwrap_or(0)).collect(),
    }
}

/// Runs the layers on one input vector; returns the value of every tensor (indexed by id).
pub fn run_all(m: &QModel, input: &[i128]) -> Vec<Vec<i128>> {
    let mut vals: Vec<Vec<i128>> = vec![vec![]; m.tensors.len()];
    vals[m.input.0 as usize] = input.to_vec();
    for l in &m.layers {
        let x: Vec<i128> = l.inputs.iter().flat_map(|t| vals[t.0 as usize].iter().copied()).collect();
        vals[l.output.0 as usize] = eval_layer(&l.kind, &x);
    }
    vals
}

/// Runs the layers on one input vector; returns the output integers.
pub fn run(m: &QModel, input: &[i128]) -> Vec<i128> {
    run_all(m, input).swap_remove(m.output.0 as usize)
}

/// A float step (of the prologue, the epilogue or a chain tabulated into step functions) that
/// cannot be evaluated: the ONNX node and what the float semantics refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{node}: {detail}")]
pub struct StepError {
    /// ONNX node name of the step.
    pub node: String,
    pub detail: String,
}

/// Applies float steps to `t` (a step's `base_operand` chain is applied to the original `t`).
pub(crate) fn apply_steps(steps: &[FloatStep], mut t: Tensor) -> Result<Tensor, StepError> {
    let base = steps.iter().any(|s| s.base_operand.is_some()).then(|| t.clone());
    for s in steps {
        let other = match (&s.base_operand, &base) {
            (Some((slot, chain)), Some(b)) => Some((*slot, apply_steps(chain, b.clone())?)),
            _ => None,
        };
        let args: Vec<Option<&Tensor>> = s
            .args
            .iter()
            .enumerate()
            .map(|(k, a)| match &other {
                Some((slot, o)) if *slot == k => Some(o),
                _ => Some(a.as_ref().unwrap_or(&t)),
            })
            .collect();
        let mut out = eval_op(&s.op, &args, 13).map_err(|detail| StepError { node: s.node.clone(), detail })?;
        t = out.swap_remove(0);
    }
    Ok(t)
}

/// Converts one float input sample (the ONNX graph input, batch of one, C order) into the
/// integers of the hardware input bus.
pub fn quantize_input(m: &QModel, x: &[f64]) -> Result<Vec<i128>, String> {
    let shape = m.prologue.input_shape.clone();
    let n: usize = shape.iter().product();
    if x.len() != n {
        return Err(format!("input sample has {} values, the model expects {n} (shape {shape:?})", x.len()));
    }
    let t = apply_steps(&m.prologue.steps, Tensor::new(DType::F32, shape, x.to_vec())).map_err(|e| e.to_string())?;
    bus_codes(m, &t.data)
}

/// [`quantize_input`] of `rows` samples (`xs`, row after row). Where the prologue is
/// element-wise (quantizers, arithmetic with constants that do not vary along the batch axis),
/// it runs once over all rows, which computes every element exactly as one row at a time does;
/// otherwise row by row.
pub fn quantize_inputs(m: &QModel, xs: &[f64], rows: usize) -> Result<Vec<Vec<i128>>, String> {
    let shape = &m.prologue.input_shape;
    let n: usize = shape.iter().product();
    if xs.len() != rows * n {
        return Err(format!("{} input values are not {rows} samples of {n} (shape {shape:?})", xs.len()));
    }
    let elementwise = shape.first() == Some(&1)
        && m.prologue.steps.iter().all(|s| {
            s.base_operand.is_none()
                && matches!(
                    s.op,
                    Op::Quant { .. }
                        | Op::FixedQuant { .. }
                        | Op::Trunc { .. }
                        | Op::BipolarQuant
                        | Op::Mul
                        | Op::Add
                        | Op::Sub
                        | Op::Div
                        | Op::Relu
                        | Op::Neg
                        | Op::Identity
                )
                && s.args.iter().flatten().all(|c| {
                    // A constant broadcasts to one sample without touching the batch axis.
                    c.shape.len() < shape.len() || c.shape.first() == Some(&1)
                })
        });
    if !elementwise || n == 0 {
        return xs.chunks(n.max(1)).take(rows).map(|x| quantize_input(m, x)).collect();
    }
    let mut out = Vec::with_capacity(rows);
    // Chunks bound the float tensors' memory.
    for (c, chunk) in xs.chunks(n * 4096).enumerate() {
        let mut batched = shape.clone();
        batched[0] = chunk.len() / n;
        let t = apply_steps(&m.prologue.steps, Tensor::new(DType::F32, batched, chunk.to_vec()))
            .map_err(|e| format!("samples from {}: {e}", c * 4096))?;
        if t.data.len() != chunk.len() {
            return xs.chunks(n).take(rows).map(|x| quantize_input(m, x)).collect();
        }
        for (r, row) in t.data.chunks(n).enumerate() {
            out.push(bus_codes(m, row).map_err(|e| format!("sample {}: {e}", c * 4096 + r))?);
        }
    }
    Ok(out)
}

/// The bus integers of one sample's prologue result `data`.
fn bus_codes(m: &QModel, data: &[f64]) -> Result<Vec<i128>, String> {
    let picked: Vec<f64>;
    let data = match &m.prologue.select {
        Some(sel) => {
            picked = sel
                .iter()
                .map(|&k| data.get(k as usize).copied())
                .collect::<Option<Vec<f64>>>()
                .ok_or("the input bus selects an element the prologue does not produce")?;
            &picked[..]
        }
        None => data,
    };
    let elems = m.input_elems();
    if data.len() != elems.len() {
        return Err(format!("prologue produced {} values for {} inputs", data.len(), elems.len()));
    }
    data.iter()
        .zip(elems)
        .map(|(&v, e)| {
            if !v.is_finite() {
                return Err(format!("input value {v} is not finite"));
            }
            let scaled = v * 2f64.powi(e.frac);
            match &m.prologue.conv {
                InputConv::Exact { .. } => {
                    if scaled.fract() != 0.0 || scaled.abs() > 1e30 {
                        return Err(format!("quantized input {v} is not on the 2^-{} grid", e.frac));
                    }
                    Ok(scaled as i128)
                }
                InputConv::Type(ty) => {
                    let r = round_f64(scaled.clamp(-1e30, 1e30), ty.round) as i128;
                    Ok(match ty.overflow {
                        Overflow::Wrap => wrap(r, ty.width, ty.signed),
                        _ => r.clamp(e.lo, e.hi),
                    })
                }
            }
        })
        .collect()
}

/// Float value of the output integers, with the epilogue applied (what the ONNX model outputs).
pub fn dequantize_output(m: &QModel, y: &[i128]) -> Result<Vec<f64>, String> {
    // Through i64 where it fits: the same correctly rounded value, without the i128 conversion.
    let float = |v: i128| i64::try_from(v).map_or(v as f64, |v| v as f64);
    let vals: Vec<f64> = y.iter().zip(m.output_elems()).map(|(&v, e)| float(v) * 2f64.powi(-e.frac)).collect();
    if m.epilogue.is_empty() {
        return Ok(vals);
    }
    let t =
        apply_steps(&m.epilogue, Tensor::new(DType::F32, m.epilogue_shape.clone(), vals)).map_err(|e| e.to_string())?;
    Ok(t.data)
}

/// A float sample in, the model's float outputs out: prologue, integer layers, epilogue.
pub fn evaluate(m: &QModel, x: &[f64]) -> Result<Vec<f64>, String> {
    dequantize_output(m, &run(m, &quantize_input(m, x)?))
}
