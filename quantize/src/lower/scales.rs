//! Float scales and zero points: QONNX `Quant`/`BipolarQuant` whose scale is not a power of two
//! or whose zero point is not zero (Brevitas's default export), per tensor or per channel, and
//! what reaches the compiler from ONNX QDQ (see `tachyon_frontend::import::qdq`).
//!
//! The datapath stays integer. A float32 scale is `m·2^e` (`m` odd, ≤ 24 bits), so a quantizer's
//! output `(q − z)·s` is an exact dyadic rational; the hardware carries the integer **code**
//! `q − z` and the lowering keeps the real factor `s` beside it, as a pending float step
//! (`Sym::Pending` whose steps are multiplications by constants: a *scaled* tensor):
//!
//! ```text
//! x ─Quant(s_x, z_x)→ code c·s_x ─MatMul(W = C·s_w[j])→ A_j·(s_x·s_w[j]) ─Add b─Relu─Quant(s_y, z_y)→ …
//!   integers:   c                       A_j = Σ c·C                        Threshold(A_j) = q − z_y
//! ```
//!
//! * **input quantizer** ([`scaled_input`]): the prologue ends with `x / s` and the rounding
//!   `Quant(·, 1, z)`, both in float32 exactly as qonnx's executor computes them, so the bus
//!   carries the codes bit for bit;
//! * **linear ops** (MatMul, Gemm, Conv, pools, pads: [`scaled_linear`]) on a scaled tensor: every
//!   coefficient times its input's scale is an exact dyadic; per output the common factor is
//!   taken out (the gcd of the aligned integers), so the layer multiplies by the small integer
//!   codes of the weights and the output's scale is `s_x·s_w[j]` — the 24-bit mantissas never
//!   enter the datapath. A constant term (bias) joins the pending steps;
//! * **wiring** (Transpose, Slice, Concat …) moves each element's scale with it; a maximum needs
//!   one positive scale for all its inputs;
//! * **the next quantizer** ([`resolve`]): the chain after the integer `A` (scale, bias, ReLU,
//!   clip, batch norm, further scalings, the quantizer) is monotone in `A` per element, so its
//!   output code is an exact step function of `A`; its thresholds are found by bisection over
//!   `A`'s interval with the chain evaluated in binary64 (the model's float32 constants taken
//!   exactly: error below 2^-52 relative, against float32's 2^-24), and become a
//!   [`LayerKind::Threshold`] layer. A chain that is not monotone is tabulated on every input
//!   integer (at most 16 bits), as before.
//!
//! What a float scale cannot do is refused with the node named: two tensors of different float
//! scales meeting in a sum, a maximum of differently scaled values, a chain that is not
//! monotone over a wide accumulator.

use super::dense::dyadic;
use super::structural::{self, Family};
use super::{Lowerer, Sym};
use crate::error::QuantizeError;
use crate::fixed::Elem;
use crate::interp::apply_steps;
use crate::qir::{FloatStep, InputConv, Steps, TensorId};
use tachyon_frontend::eval::{broadcast_index, broadcast_shape, eval_op, int_range, is_pow2};
use tachyon_frontend::{DType, Node, Op, Tensor, ValueId};

/// Largest number of chain evaluations one quantizer's threshold search may take.
const MAX_EVALS: usize = 1 << 21;
/// Largest input range a non-monotone chain is tabulated over.
const MAX_TABLE: i128 = 1 << 16;
/// Largest coefficient (in bits) a scaled linear layer may need after factoring.
const MAX_COEFF_BITS: u32 = 40;

/// Whether a quantizer has a float scale (not a power of two) or a non-zero zero point, so it
/// is lowered here rather than as a fixed-point requantization.
pub(crate) fn float_scaled(l: &Lowerer, n: &Node) -> bool {
    if !matches!(n.op, Op::Quant { .. } | Op::BipolarQuant) {
        return false;
    }
    let k = |i: usize| n.input(i).and_then(|v| l.g.value(v).konst.as_ref());
    let odd_scale = k(1).is_some_and(|s| s.data.iter().any(|&v| !is_pow2(v)));
    let zero_point = matches!(n.op, Op::Quant { .. }) && k(2).is_some_and(|z| z.data.iter().any(|&v| v != 0.0));
    odd_scale || zero_point
}

/// The parameters of a float-scaled quantizer broadcast to its `count` output elements.
struct QParams {
    scale: Vec<f64>,
    /// Code range `[qmin − z, qmax − z]` per element.
    range: Vec<(i128, i128)>,
}

fn qparams(l: &Lowerer, n: &Node, shape: &[usize]) -> Result<QParams, QuantizeError> {
    let k = |i: usize, what: &str| {
        n.input(i)
            .and_then(|v| l.g.value(v).konst.clone())
            .ok_or_else(|| l.err(n, format!("the {what} must be a constant")))
    };
    let count: usize = shape.iter().product();
    let spread = |t: &Tensor, what: &str| -> Result<Vec<f64>, QuantizeError> {
        let ok = broadcast_shape(shape, &t.shape).ok().as_deref() == Some(shape);
        if !ok {
            return Err(l.err(n, format!("the {what} of shape {:?} does not broadcast to {shape:?}", t.shape)));
        }
        Ok((0..count).map(|i| t.data[broadcast_index(shape, &t.shape, i)]).collect())
    };
    let scale = spread(&k(1, "scale")?, "scale")?;
    if let Some(bad) = scale.iter().find(|&&s| !(s > 0.0 && s.is_finite())) {
        return Err(l.err(n, format!("scale {bad} is not a positive finite number")));
    }
    if matches!(n.op, Op::BipolarQuant) {
        return Ok(QParams { scale, range: vec![(-1, 1); count] });
    }
    let Op::Quant { signed, narrow, .. } = n.op else {
        return Err(l.err(n, "internal error: not a Quant"));
    };
    let zero = spread(&k(2, "zero point")?, "zero point")?;
    if let Some(z) = zero.iter().find(|z| z.fract() != 0.0 || z.abs() > 1e9) {
        return Err(l.err(n, format!("zero point {z} is not an integer; Tachyon supports integer zero points")));
    }
    let bits = k(3, "bit width")?.as_scalar().ok_or_else(|| l.err(n, "the bit width must be a constant scalar"))?;
    let (qmin, qmax) = int_range(bits, signed, narrow).map_err(|e| l.err(n, e))?;
    let (qmin, qmax) = if bits == 1.0 && signed { (-1.0, 1.0) } else { (qmin, qmax) };
    if qmax > 2f64.powi(40) {
        return Err(l.err(n, format!("a {bits}-bit quantizer with a float scale is too wide (at most 40 bits)")));
    }
    let range = zero.iter().map(|&z| ((qmin - z) as i128, (qmax - z) as i128)).collect();
    Ok(QParams { scale, range })
}

/// The pending step `× scale` of a scaled tensor of ONNX shape `shape` (binary64, so products
/// with it stay exact).
fn scale_step(node: &str, shape: &[usize], scale: Vec<f64>) -> FloatStep {
    FloatStep {
        node: node.to_string(),
        op: Op::Mul,
        args: vec![None, Some(Tensor::new(DType::F64, shape.to_vec(), scale))],
        base_operand: None,
    }
}

/// Integer codes `t` times `scale` per element: a scaled tensor.
fn scaled(n: &Node, t: TensorId, shape: &[usize], scale: Vec<f64>) -> Sym {
    Sym::Pending { base: t, shape: shape.to_vec(), steps: vec![scale_step(&n.name, shape, scale)] }
}

/// Ends the prologue at a float-scaled input quantizer: the prologue computes `x / s` and rounds
/// with `Quant(·, 1, z)` (float32, as qonnx does), the bus carries the codes `q − z`.
pub(crate) fn scaled_input(
    l: &mut Lowerer,
    n: &Node,
    mut steps: Vec<FloatStep>,
    out: ValueId,
) -> Result<Sym, QuantizeError> {
    let shape = l.shape_of(out);
    let p = qparams(l, n, &shape)?;
    let konst = |i: usize| n.input(i).and_then(|v| l.g.value(v).konst.clone());
    if p.scale.iter().all(|&s| is_pow2(s)) {
        // Power-of-two scales (a zero point brought the quantizer here): `(q − z)·s` is exact,
        // and the bus carries `q − z` on each element's grid.
        let args = (0..n.inputs.len()).map(|i| if i == 0 { None } else { konst(i) }).collect();
        steps.push(FloatStep { node: n.name.clone(), op: n.op.clone(), args, base_operand: None });
        let elems: Vec<Elem> =
            p.range.iter().zip(&p.scale).map(|(&(lo, hi), &s)| Elem::new(-(s.log2() as i32), lo, hi)).collect();
        l.m.prologue.steps = steps;
        l.m.prologue.conv = InputConv::Exact { frac: elems.first().map_or(0, |e| e.frac) };
        let name = l.g.value(out).name.clone();
        let t = l.new_tensor(&name, shape, elems);
        l.m.input = t;
        l.input_done = true;
        return Ok(Sym::Q(t));
    }
    let s = konst(1).ok_or_else(|| l.err(n, "the scale must be a constant"))?;
    steps.push(FloatStep { node: n.name.clone(), op: Op::Div, args: vec![None, Some(s)], base_operand: None });
    let mut args: Vec<Option<Tensor>> = (0..n.inputs.len()).map(konst).collect();
    args[0] = None;
    args[1] = Some(Tensor::scalar(DType::F32, 1.0));
    steps.push(FloatStep { node: n.name.clone(), op: n.op.clone(), args, base_operand: None });
    l.m.prologue.steps = steps;
    l.m.prologue.conv = InputConv::Exact { frac: 0 };
    let elems = p.range.iter().map(|&(lo, hi)| Elem::new(0, lo, hi)).collect();
    let name = l.g.value(out).name.clone();
    let t = l.new_tensor(&name, shape.clone(), elems);
    l.m.input = t;
    l.input_done = true;
    Ok(scaled(n, t, &shape, p.scale))
}

/// Per-element scales of a chain of multiplications by constants and layout steps over a
/// tensor of ONNX shape `shape` (`None` when the chain does anything else). The product must be
/// exact in binary64.
pub(crate) fn pure_scale(steps: &[FloatStep], shape: &[usize]) -> Option<Vec<f64>> {
    let mut bits = 0u32;
    for s in steps {
        if s.base_operand.is_some() {
            return None;
        }
        match s.op {
            Op::Mul => {
                let c = s.args.iter().flatten().next()?;
                let m = c
                    .data
                    .iter()
                    .map(|&v| dyadic(v, 1100).map_or(64, |(m, _)| 128 - m.unsigned_abs().leading_zeros()))
                    .max();
                bits += m.unwrap_or(0);
            }
            Op::Reshape { .. }
            | Op::Flatten { .. }
            | Op::Squeeze { .. }
            | Op::Unsqueeze { .. }
            | Op::Identity
            | Op::Dropout => {}
            _ => return None,
        }
    }
    if bits > 53 {
        return None;
    }
    let count: usize = shape.iter().product();
    let ones = Tensor::new(DType::F64, shape.to_vec(), vec![1.0; count]);
    let y = apply_steps(steps, ones).ok()?;
    (y.data.len() == count).then_some(y.data)
}

/// A scaled tensor (`base` times `sigma` per element, the node's input of ONNX shape
/// `in_shape`) through the single-input structural op `n`: linear ops factor the scales out,
/// wiring moves them, maxima need one positive scale. `None` when `n` is none of these.
pub(crate) fn through(
    l: &mut Lowerer,
    n: &Node,
    slot: usize,
    base: TensorId,
    in_shape: &[usize],
    sigma: &[f64],
) -> Result<Option<Sym>, QuantizeError> {
    let out = n.outputs[0];
    let out_shape = l.shape_of(out);
    let out_name = l.g.value(out).name.clone();
    let ops = [(slot, base, in_shape.to_vec())];
    Ok(Some(match structural::family(n, &[slot]) {
        Some(Family::Linear { .. }) => scaled_linear(l, n, &ops, sigma, &out_shape, &out_name)?,
        Some(Family::Wiring) if n.outputs.len() == 1 => {
            let y = structural::lower_wiring(l, n, &ops)?.swap_remove(0);
            let moved = move_scales(l, n, slot, in_shape, sigma)?;
            Sym::Pending { base: y, shape: out_shape.clone(), steps: vec![scale_step(&n.name, &out_shape, moved)] }
        }
        Some(Family::Max) => {
            let s0 = sigma.first().copied().unwrap_or(1.0);
            if sigma.iter().any(|&s| s != s0) || s0 <= 0.0 {
                return Err(l.err(n, "a maximum of values with different float scales is not supported; quantize them with one per-tensor Quant first"));
            }
            let y = structural::lower_max(l, n, &ops)?;
            Sym::Pending {
                base: y,
                shape: out_shape.clone(),
                steps: vec![scale_step(&n.name, &out_shape, vec![s0; l.elems(y).len()])],
            }
        }
        _ => return Ok(None),
    }))
}

/// The scales after a wiring op: the op applied to the scale tensor.
fn move_scales(
    l: &Lowerer,
    n: &Node,
    slot: usize,
    in_shape: &[usize],
    sigma: &[f64],
) -> Result<Vec<f64>, QuantizeError> {
    let mut args: Vec<Option<Tensor>> = n.inputs.iter().map(|&v| l.g.konst(v).cloned()).collect();
    args[slot] = Some(Tensor::new(DType::F64, in_shape.to_vec(), sigma.to_vec()));
    let refs: Vec<Option<&Tensor>> = args.iter().map(|a| a.as_ref()).collect();
    let y = eval_op(&n.op, &refs, l.g.opset).map_err(|e| l.err(n, e))?;
    Ok(y.into_iter().next().map(|t| t.data).unwrap_or_default())
}

/// `m·2^-f` times `m'·2^-f'`, exactly.
fn mul_dyadic(a: (i128, i32), b: (i128, i32)) -> Option<(i128, i32)> {
    Some((a.0.checked_mul(b.0)?, a.1 + b.1))
}

fn gcd(a: u128, b: u128) -> u128 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// A linear op on a scaled tensor: one integer Linear layer whose per-output scale is the
/// common factor of that output's exact coefficients (see the module doc).
fn scaled_linear(
    l: &mut Lowerer,
    n: &Node,
    ops: &structural::Operands,
    sigma: &[f64],
    out_shape: &[usize],
    out_name: &str,
) -> Result<Sym, QuantizeError> {
    let r = structural::probe(l, n, ops)?;
    let xe = l.elems(ops[0].1).to_vec();
    let exact = |v: f64, what: &str| {
        dyadic(v, 1100).ok_or_else(|| l.err(n, format!("{what} {v} is not a finite binary number")))
    };
    let sig: Vec<(i128, i32)> = sigma.iter().map(|&s| exact(s, "scale")).collect::<Result<_, _>>()?;
    let mut terms: Vec<Vec<(u32, (i128, i32))>> = vec![vec![]; r.f0.len()];
    for (j, col) in r.cols.iter().enumerate() {
        for &(i, d) in col {
            // coefficient × input scale × the input's grid: the real weight of the integer x_j.
            let w = mul_dyadic(exact(d, "coefficient")?, sig[j])
                .ok_or_else(|| l.err(n, "a coefficient times its input's scale needs more than 127 bits"))?;
            if w.0 != 0 {
                // (an input scaled by 0 contributes nothing)
                terms[i].push((j as u32, (w.0, w.1 + xe[j].frac)));
            }
        }
    }
    let mut rows = Vec::with_capacity(terms.len());
    let mut scales = Vec::with_capacity(terms.len());
    for row in &terms {
        let Some(fmax) = row.iter().map(|t| t.1 .1).max() else {
            rows.push(vec![]);
            scales.push(1.0);
            continue;
        };
        let mut ints = Vec::with_capacity(row.len());
        for &(j, (m, f)) in row {
            let sh = (fmax - f) as u32;
            if sh >= 100 || m.unsigned_abs().leading_zeros() <= sh + 8 {
                return Err(l.err(n, "the float scales of this op's inputs are too different to share one integer accumulator; requantize the input with one per-tensor Quant"));
            }
            ints.push((j, m << sh));
        }
        let g = ints.iter().fold(0u128, |g, &(_, v)| gcd(g, v.unsigned_abs()));
        let coeffs: Vec<(u32, i128, i32)> =
            ints.iter().map(|&(j, v)| (j, v / g as i128, -xe[j as usize].frac)).collect();
        let widest = coeffs.iter().map(|c| 128 - c.1.unsigned_abs().leading_zeros()).max().unwrap_or(0);
        if widest > MAX_COEFF_BITS {
            return Err(l.err(n, format!("with the float scales of its input, this op's integer coefficients need {widest} bits; quantize the input per tensor (one scale) or with power-of-two scales")));
        }
        if g >= 1 << 53 {
            return Err(l.err(n, "an output's scale is not exact in binary64"));
        }
        scales.push(g as f64 * 2f64.powi(-fmax));
        rows.push(coeffs);
    }
    let count = rows.len();
    let y = l.build_linear(n, &[ops[0].1], rows, vec![(0, 0); count], out_shape.to_vec(), out_name, None)?;
    let mut steps = vec![scale_step(&n.name, out_shape, scales)];
    if r.f0.iter().any(|&b| b != 0.0) {
        steps.push(FloatStep {
            node: n.name.clone(),
            op: Op::Add,
            args: vec![None, Some(Tensor::new(DType::F64, out_shape.to_vec(), r.f0.clone()))],
            base_operand: None,
        });
    }
    Ok(Sym::Pending { base: y, shape: out_shape.to_vec(), steps })
}

/// Whether every step is a monotone function of the running value per element (so a
/// quantizer's output code is a monotone step function of the chain's input).
pub(crate) fn monotone(steps: &[FloatStep]) -> bool {
    steps.iter().all(|s| {
        s.base_operand.is_none()
            && match &s.op {
                Op::Add | Op::Sub | Op::Mul | Op::Neg | Op::BatchNorm { .. } => true,
                Op::Div => s.args.first().is_some_and(|a| a.is_none()),
                Op::LeakyRelu { alpha } => *alpha >= 0.0,
                Op::Relu
                | Op::Clip { .. }
                | Op::Sigmoid
                | Op::Tanh
                | Op::HardSigmoid { .. }
                | Op::Erf
                | Op::Quant { .. }
                | Op::BipolarQuant
                | Op::Reshape { .. }
                | Op::Flatten { .. }
                | Op::Squeeze { .. }
                | Op::Unsqueeze { .. }
                | Op::Identity
                | Op::Dropout => true,
                _ => false,
            }
    })
}

/// Resolves the chain `steps` (ending with the quantizer `n`) over the integer tensor `base`
/// into exact step functions of each element: a Threshold layer whose outputs are the codes
/// `q − z`, scaled by the quantizer's scale.
pub(crate) fn resolve(
    l: &mut Lowerer,
    n: &Node,
    base: TensorId,
    shape: &[usize],
    steps: &[FloatStep],
    out: ValueId,
) -> Result<Sym, QuantizeError> {
    let xe = l.elems(base).to_vec();
    let out_shape = l.shape_of(out);
    let p = qparams(l, n, &out_shape)?;
    if p.scale.len() != xe.len() {
        return Err(l.err(n, format!("the quantizer has {} outputs for {} inputs", p.scale.len(), xe.len())));
    }
    if xe.iter().any(|e| e.lo.unsigned_abs().max(e.hi.unsigned_abs()) >= 1 << 53) {
        return Err(l.err(n, "the value before this quantizer needs more than 53 bits; quantize earlier"));
    }
    let mut evals = 0usize;
    let mut eval = |l: &Lowerer, at: &[i128]| -> Result<Vec<i128>, QuantizeError> {
        evals += 1;
        if evals > MAX_EVALS {
            return Err(l.err(
                n,
                "this quantizer has too many levels over too wide an input to resolve exactly; use fewer bits",
            ));
        }
        let data = at.iter().zip(&xe).map(|(&v, e)| v as f64 * 2f64.powi(-e.frac)).collect();
        let y =
            apply_steps(steps, Tensor::new(DType::F32, shape.to_vec(), data)).map_err(|e| l.err(n, e.to_string()))?;
        y.data
            .iter()
            .zip(&p.scale)
            .map(|(&v, &s)| {
                let c = v / s;
                if c.fract() != 0.0 || !c.is_finite() {
                    return Err(l.err(n, format!("quantizer output {v} is not a multiple of its scale {s}")));
                }
                Ok(c as i128)
            })
            .collect()
    };
    let lo: Vec<i128> = xe.iter().map(|e| e.lo).collect();
    let hi: Vec<i128> = xe.iter().map(|e| e.hi).collect();
    let mut table: Vec<Steps> = Vec::with_capacity(xe.len());
    if monotone(steps) {
        let (qlo, qhi) = (eval(l, &lo)?, eval(l, &hi)?);
        // Per element: intervals (a, b, q(a), q(b)) with q(a) ≠ q(b) still to split, and the
        // thresholds found (x, q(x)).
        let mut work: Vec<Vec<(i128, i128, i128, i128)>> = (0..xe.len())
            .map(|i| if qlo[i] != qhi[i] { vec![(lo[i], hi[i], qlo[i], qhi[i])] } else { vec![] })
            .collect();
        let mut found: Vec<Vec<(i128, i128)>> = vec![vec![]; xe.len()];
        loop {
            let mut at = lo.clone();
            let mut active = vec![false; xe.len()];
            for i in 0..xe.len() {
                while let Some(&(a, b, _, qb)) = work[i].last() {
                    if b - a > 1 {
                        at[i] = a + (b - a) / 2;
                        active[i] = true;
                        break;
                    }
                    found[i].push((b, qb));
                    work[i].pop();
                }
            }
            if !active.contains(&true) {
                break;
            }
            let q = eval(l, &at)?;
            for i in (0..xe.len()).filter(|&i| active[i]) {
                let Some((a, b, qa, qb)) = work[i].pop() else { continue };
                let (m, qm) = (at[i], q[i]);
                if qm != qb {
                    work[i].push((m, b, qm, qb));
                }
                if qa != qm {
                    work[i].push((a, m, qa, qm));
                }
            }
        }
        for (i, mut f) in found.into_iter().enumerate() {
            f.sort();
            let mut values = vec![qlo[i]];
            values.extend(f.iter().map(|t| t.1));
            table.push(Steps { thresholds: f.iter().map(|t| t.0).collect(), values });
        }
    } else {
        let (a, b) = (lo.iter().min().copied().unwrap_or(0), hi.iter().max().copied().unwrap_or(0));
        if b - a + 1 > MAX_TABLE {
            let names: Vec<&str> = steps.iter().map(|s| s.node.as_str()).collect();
            return Err(l.err(n, format!("the float ops {} before this quantizer are not monotone and act on values of {} bits; Tachyon tabulates such ops only for inputs of at most 16 bits (quantize earlier)", names.join(", "), crate::fixed::bits_for(a, b))));
        }
        let mut vals: Vec<Vec<i128>> = vec![vec![]; xe.len()];
        for v in a..=b {
            let q = eval(l, &vec![v; xe.len()])?;
            for (i, e) in xe.iter().enumerate() {
                if e.contains(v) {
                    vals[i].push(q[i]);
                }
            }
        }
        for (i, v) in vals.iter().enumerate() {
            let mut s = Steps { thresholds: vec![], values: vec![v[0]] };
            for (k, w) in v.windows(2).enumerate() {
                if w[1] != w[0] {
                    s.thresholds.push(xe[i].lo + k as i128 + 1);
                    s.values.push(w[1]);
                }
            }
            table.push(s);
        }
    }
    // Power-of-two scales put the codes on their grids: a plain quantized tensor.
    let pow2 = p.scale.iter().all(|&s| is_pow2(s));
    let elems: Vec<Elem> = table
        .iter()
        .zip(&p.range)
        .zip(&p.scale)
        .map(|((s, &(rlo, rhi)), &sc)| {
            let (mn, mx) = (s.values.iter().min().copied().unwrap_or(0), s.values.iter().max().copied().unwrap_or(0));
            debug_assert!(mn >= rlo && mx <= rhi, "codes lie in the quantizer's range");
            Elem::new(if pow2 { -(sc.log2() as i32) } else { 0 }, mn, mx)
        })
        .collect();
    let origin: Vec<String> = steps.iter().map(|s| s.node.clone()).collect();
    let out_name = l.g.value(out).name.clone();
    let t = super::steps::steps_layer(l, n, origin, table, base, &out_name, out_shape.clone(), elems)?;
    Ok(if pow2 { Sym::Q(t) } else { scaled(n, t, &out_shape, p.scale) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(op: Op, c: Option<Tensor>) -> FloatStep {
        FloatStep { node: "n".into(), op, args: vec![None, c], base_operand: None }
    }

    fn t(shape: &[usize], v: &[f64]) -> Tensor {
        Tensor::new(DType::F32, shape.to_vec(), v.to_vec())
    }

    #[test]
    fn pure_scale_multiplies_per_element_and_refuses_other_steps() {
        let s = [step(Op::Mul, Some(t(&[1, 2], &[0.3f32 as f64, 0.7f32 as f64]))), step(Op::Mul, Some(t(&[], &[0.5])))];
        let got = pure_scale(&s, &[1, 2]).unwrap();
        assert_eq!(got, vec![(0.3f32 as f64) * 0.5, (0.7f32 as f64) * 0.5]);
        assert!(pure_scale(&[step(Op::Add, Some(t(&[], &[1.0])))], &[1, 2]).is_none());
        // Three 24-bit mantissas may need 72 bits: not exact in binary64, refused.
        let m = step(Op::Mul, Some(t(&[], &[0.3f32 as f64])));
        assert!(pure_scale(&[m.clone(), m.clone(), m], &[1]).is_none());
    }

    #[test]
    fn monotone_chains() {
        let c = Some(t(&[], &[2.0]));
        assert!(monotone(&[step(Op::Mul, c.clone()), step(Op::Relu, None), step(Op::Sub, c.clone())]));
        // c / x is not monotone over a range containing 0.
        let div_by_x = FloatStep { node: "d".into(), op: Op::Div, args: vec![c.clone(), None], base_operand: None };
        assert!(!monotone(&[div_by_x]));
        assert!(!monotone(&[step(Op::LeakyRelu { alpha: -0.5 }, None)]));
        assert!(monotone(&[step(Op::Div, c)]));
    }
}
