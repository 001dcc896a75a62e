//! Element-wise lowerings: affine ops with constants, quantizers, float chains resolved into
//! step functions.

use super::Lowerer;
use crate::config::Field;
use crate::error::QuantizeError;
use crate::fixed::{Elem, Overflow};
use crate::interp::apply_steps;
use crate::qir::{FloatStep, LayerKind, Requant, Steps, TensorId};
use crate::round::rescale_div;
use tachyon_frontend::eval::{broadcast_index, broadcast_shape, int_range};
use tachyon_frontend::{DType, Node, Op, Tensor};

/// Exact output interval of a requantization.
pub fn requant_elem(e: &Elem, r: &Requant) -> Elem {
    let (lo, hi) = (
        rescale_div(e.lo, r.from_frac, r.to_frac, r.div, r.round),
        rescale_div(e.hi, r.from_frac, r.to_frac, r.div, r.round),
    );
    match r.overflow {
        Overflow::Sat | Overflow::SatSym => Elem::new(r.to_frac, lo.clamp(r.lo, r.hi), hi.clamp(r.lo, r.hi)),
        Overflow::Wrap if lo >= r.lo && hi <= r.hi => Elem::new(r.to_frac, lo, hi),
        Overflow::Wrap => {
            let w = crate::fixed::bits_for(r.lo, r.hi);
            let (a, b) = if r.lo < 0 { (-(1i128 << (w - 1)), (1i128 << (w - 1)) - 1) } else { (0, (1i128 << w) - 1) };
            Elem::new(r.to_frac, a, b)
        }
    }
}

/// A constant operand broadcast to `count` elements of `shape`.
fn broadcast(l: &Lowerer, n: &Node, c: &Tensor, shape: &[usize]) -> Result<Vec<f64>, QuantizeError> {
    let s = broadcast_shape(shape, &c.shape).map_err(|e| l.err(n, e))?;
    if s != shape {
        return Err(
            l.err(n, format!("constant of shape {:?} would enlarge the activation of shape {shape:?}", c.shape))
        );
    }
    let count: usize = shape.iter().product();
    Ok((0..count).map(|i| c.data[broadcast_index(shape, &c.shape, i)]).collect())
}

/// The power-of-two exponent of a scale: `scale = 2^-frac`.
fn pow2_frac(s: f64) -> Option<i32> {
    (s > 0.0 && s.is_finite() && s.log2().fract() == 0.0).then(|| -(s.log2() as i32))
}

/// Add/Sub/Mul/Div/Neg/BatchNorm with constants as a diagonal Linear layer, or `None` when a
/// quantized model uses constants that are not exact fixed-point numbers (then the op waits for
/// the next quantizer).
pub(crate) fn lower_affine(
    l: &mut Lowerer,
    n: &Node,
    slot: usize,
    args: &[Option<Tensor>],
    t: TensorId,
    shape: &[usize],
    out_name: &str,
) -> Result<Option<TensorId>, QuantizeError> {
    let count = l.elems(t).len();
    if shape.iter().product::<usize>() != count {
        return Err(l.err(n, format!("broadcasting the activation to {shape:?} is not supported")));
    }
    let other = |i: usize| args.get(i).cloned().flatten();
    // (scale, offset) per element as reals.
    let (scale, offset): (Vec<f64>, Vec<f64>) = match &n.op {
        Op::Add | Op::Sub => {
            let c = other(1 - slot.min(1)).ok_or_else(|| l.err(n, "missing constant operand"))?;
            let c = broadcast(l, n, &c, shape)?;
            let neg_x = n.op == Op::Sub && slot == 1;
            let neg_c = n.op == Op::Sub && slot == 0;
            (vec![if neg_x { -1.0 } else { 1.0 }; count], c.iter().map(|&v| if neg_c { -v } else { v }).collect())
        }
        Op::Mul => {
            let c = other(1 - slot.min(1)).ok_or_else(|| l.err(n, "missing constant operand"))?;
            (broadcast(l, n, &c, shape)?, vec![0.0; count])
        }
        Op::Div => {
            if slot != 0 {
                return Err(l.err(n, "division by an activation is not supported"));
            }
            let c = other(1).ok_or_else(|| l.err(n, "missing divisor"))?;
            let c = broadcast(l, n, &c, shape)?;
            if c.contains(&0.0) {
                return Err(l.err(n, "division by zero"));
            }
            (c.iter().map(|&v| 1.0 / v).collect(), vec![0.0; count])
        }
        Op::Neg => (vec![-1.0; count], vec![0.0; count]),
        Op::BatchNorm { epsilon } => {
            let get = |i: usize, what: &str| {
                other(i).ok_or_else(|| l.err(n, format!("BatchNormalization {what} must be constant")))
            };
            let (s, b, m, v) = (get(1, "scale")?, get(2, "bias")?, get(3, "mean")?, get(4, "var")?);
            let (c, inner) = tachyon_frontend::eval::batch_norm_layout(shape, s.len()).map_err(|e| l.err(n, e))?;
            if [&b, &m, &v].iter().any(|t| t.len() != c) {
                return Err(l.err(n, format!("BatchNormalization's B, mean and var must have {c} values, like scale")));
            }
            let a: Vec<f64> = (0..c).map(|k| s.data[k] / (v.data[k] + epsilon).sqrt()).collect();
            let sc: Vec<f64> = (0..count).map(|i| a[(i / inner) % c]).collect();
            let off: Vec<f64> = (0..count)
                .map(|i| {
                    let k = (i / inner) % c;
                    b.data[k] - m.data[k] * a[k]
                })
                .collect();
            (sc, off)
        }
        _ => unreachable!("lower_affine is called for affine ops"),
    };
    if !l.float_mode {
        // Exact only when every scale and offset is a quantized (coarse-grid) constant; otherwise
        // the op keeps its float semantics until the next quantizer (or becomes the epilogue).
        let exact = scale.iter().chain(&offset).all(|&v| super::dense::dyadic(v, l.exact_frac).is_some());
        if !exact {
            return Ok(None);
        }
    }
    if l.float_mode && matches!(n.op, Op::BatchNorm { .. }) {
        if let Some(y) = super::bn_fold::fold_into_dense(l, n, t, &scale, &offset, out_name)? {
            return Ok(Some(y));
        }
    }
    // A bias or scaling that follows a dense layer is configured under that layer's name.
    let key = l.unfinished.get(&t).cloned().unwrap_or_else(|| n.name.clone());
    let mut rows = Vec::with_capacity(count);
    let mut bias = Vec::with_capacity(count);
    for i in 0..count {
        let (m, f) = l.constant(&key, scale[i], Field::Weight)?;
        rows.push(vec![(i as u32, m, f)]);
        bias.push(l.constant(&key, offset[i], Field::Bias)?);
    }
    Ok(Some(l.build_linear(n, &[t], rows, bias, shape.to_vec(), out_name, None)?))
}

/// Per-element output types of a quantizer node applied to `count` elements.
pub(crate) fn quantizer_elems(
    l: &Lowerer,
    n: &Node,
    count: usize,
    _input: Option<&[Elem]>,
) -> Result<Vec<Elem>, QuantizeError> {
    let k = |i: usize| n.input(i).and_then(|v| l.g.value(v).konst.clone());
    let shape = l.g.value(n.outputs[0]).shape.clone().unwrap_or_default();
    if let Op::FixedQuant { overflow, .. } = n.op {
        return fixed_elems(l, n, &shape, overflow);
    }
    let scales = broadcast(l, n, &k(1).ok_or_else(|| l.err(n, "the scale must be a constant"))?, &shape)?;
    let fracs: Vec<i32> = scales
        .iter()
        .map(|&s| pow2_frac(s).ok_or_else(|| l.err(n, format!("scale {s} is not a power of two; {} needs power-of-two scales here (float scales are supported on Quant and BipolarQuant, but not on Trunc or right after a mean over a count that is not a power of two: add a Quant with a power-of-two scale first)", n.op_type))))
        .collect::<Result<_, _>>()?;
    debug_assert_eq!(fracs.len(), count);
    Ok(match &n.op {
        Op::BipolarQuant => fracs.iter().map(|&f| Elem::new(f, -1, 1)).collect(),
        Op::Quant { signed, narrow, .. } => {
            let z = k(2).ok_or_else(|| l.err(n, "the zero point must be a constant"))?;
            if z.data.iter().any(|&v| v != 0.0) {
                return Err(l.err(n, "a non-zero zero point right after a mean over a count that is not a power of two is not supported; add a Quant with zero point 0 first"));
            }
            let bits =
                k(3).and_then(|b| b.as_scalar()).ok_or_else(|| l.err(n, "the bit width must be a constant scalar"))?;
            let (qmin, qmax) = int_range(bits, *signed, *narrow).map_err(|e| l.err(n, e))?;
            if bits == 1.0 && *signed {
                fracs.iter().map(|&f| Elem::new(f, -1, 1)).collect()
            } else {
                fracs.iter().map(|&f| Elem::new(f, qmin as i128, qmax as i128)).collect()
            }
        }
        Op::Trunc { signed, narrow, .. } => {
            let consts: Vec<_> = (0..n.inputs.len()).map(&k).collect();
            let refs: Vec<_> = consts.iter().map(|c| c.as_ref()).collect();
            let (out_scale, bits) = tachyon_frontend::eval::trunc_output(&refs)
                .map_err(|e| l.err(n, format!("{e} (the scales and bit widths must be constants)")))?;
            let (qmin, qmax) = int_range(bits, *signed, *narrow).map_err(|e| l.err(n, e))?;
            let os = out_scale
                .as_scalar()
                .and_then(pow2_frac)
                .ok_or_else(|| l.err(n, "the output scale must be a power-of-two scalar"))?;
            vec![Elem::new(os, qmin as i128, qmax as i128); count]
        }
        _ => unreachable!("quantizer op"),
    })
}

/// The output elements of a `FixedQuant`: per element `[lo, hi]` on the grid `2^-f` of its
/// `(k, i, f)`; a pruned element (`k + i + f ≤ 0`) is the constant 0.
fn fixed_elems(
    l: &Lowerer,
    n: &Node,
    shape: &[usize],
    overflow: tachyon_frontend::OverflowMode,
) -> Result<Vec<Elem>, QuantizeError> {
    use tachyon_frontend::eval::fixed::{element_params, element_range};
    let c = |i: usize, what: &str| {
        n.input(i)
            .and_then(|v| l.g.value(v).konst.clone())
            .ok_or_else(|| l.err(n, format!("{what} must be a constant")))
    };
    let params = element_params(&c(1, "K")?, &c(2, "I")?, &c(3, "F")?, shape).map_err(|e| l.err(n, e))?;
    Ok(params
        .iter()
        .map(|&(k, i, f)| match element_range(k, i, f, overflow) {
            Some((lo, hi)) => Elem::new(f as i32, lo, hi),
            None => Elem::new(0, 0, 0),
        })
        .collect())
}

/// A quantizer applied to a quantized tensor: exact requantization (or a sign step for bipolar).
pub(crate) fn lower_quantizer(
    l: &mut Lowerer,
    n: &Node,
    t: TensorId,
    shape: &[usize],
    out_name: &str,
    divisors: Option<&[u32]>,
) -> Result<TensorId, QuantizeError> {
    let xe = l.elems(t).to_vec();
    let outs = quantizer_elems(l, n, xe.len(), Some(&xe))?;
    if divisors.is_some() && matches!(n.op, Op::Trunc { .. }) {
        return Err(l.err(n, "Trunc after a mean over a count that is not a power of two is not supported; use Quant"));
    }
    let bipolar =
        outs.iter().all(|e| e.lo == -1 && e.hi == 1) && matches!(n.op, Op::BipolarQuant | Op::Quant { .. }) && {
            let bits = n.input(3).and_then(|v| l.g.value(v).konst.as_ref()).and_then(|b| b.as_scalar());
            n.op == Op::BipolarQuant || bits == Some(1.0)
        };
    if bipolar {
        let steps = xe.iter().map(|_| Steps { thresholds: vec![0], values: vec![-1, 1] }).collect();
        let elems = outs.iter().map(|e| Elem::new(e.frac, -1, 1)).collect();
        return Ok(l.push_layer(
            &n.name,
            vec![n.name.clone()],
            LayerKind::Threshold(steps),
            t,
            out_name,
            shape.to_vec(),
            elems,
        ));
    }
    let (round, overflow) = match n.op {
        Op::Quant { round, .. } | Op::Trunc { round, .. } => (round.into(), Overflow::Sat),
        Op::FixedQuant { round, overflow } => (
            round.into(),
            match overflow {
                tachyon_frontend::OverflowMode::Wrap => Overflow::Wrap,
                _ => Overflow::Sat, // the symmetric range is already in the element's bounds
            },
        ),
        _ => return Err(l.err(n, "internal error: not a quantizer")),
    };
    let mut input = t;
    if let Op::Trunc { .. } = n.op {
        // Trunc first rounds x/scale half-to-even onto the input scale's grid.
        let s = n.input(1).and_then(|v| l.g.value(v).konst.as_ref()).and_then(|s| s.as_scalar()).and_then(pow2_frac);
        let fs = s.ok_or_else(|| l.err(n, "the input scale must be a power-of-two scalar"))?;
        let specs: Vec<Requant> = xe
            .iter()
            .map(|e| Requant {
                from_frac: e.frac,
                div: 1,
                to_frac: fs,
                round: crate::round::Round::HalfEven,
                lo: i128::MIN / 4,
                hi: i128::MAX / 4,
                overflow: Overflow::Sat,
            })
            .collect();
        let elems: Vec<Elem> = xe.iter().zip(&specs).map(|(e, r)| requant_elem(e, r)).collect();
        input = l.push_layer(
            &format!("{}_grid", n.name),
            vec![n.name.clone()],
            LayerKind::Requant(specs),
            t,
            out_name,
            shape.to_vec(),
            elems,
        );
    }
    let ie = l.elems(input).to_vec();
    let specs: Vec<Requant> = ie
        .iter()
        .zip(&outs)
        .enumerate()
        .map(|(i, (e, o))| Requant {
            from_frac: e.frac,
            div: divisors.map_or(1, |d| d[i]),
            to_frac: o.frac,
            round,
            lo: o.lo,
            hi: o.hi,
            // A pruned element (the constant 0) saturates to it.
            overflow: if o.lo == o.hi { Overflow::Sat } else { overflow },
        })
        .collect();
    let elems = ie.iter().zip(&specs).map(|(e, r)| requant_elem(e, r)).collect();
    Ok(l.push_layer(&n.name, vec![n.name.clone()], LayerKind::Requant(specs), input, out_name, shape.to_vec(), elems))
}

/// Largest input range for which a float chain is tabulated exactly.
const MAX_PENDING_RANGE: i128 = 1 << 16;

/// Resolves float ops between a quantized tensor and a quantizer into exact step functions by
/// evaluating the float chain (ONNX float semantics) on every possible input integer.
pub(crate) fn resolve_pending(
    l: &mut Lowerer,
    n: &Node,
    base: TensorId,
    shape: &[usize],
    steps: &[FloatStep],
    out: tachyon_frontend::ValueId,
) -> Result<TensorId, QuantizeError> {
    let xe = l.elems(base).to_vec();
    let shape = shape.to_vec();
    let outs = quantizer_elems(l, n, xe.len(), None)?;
    let lo = xe.iter().map(|e| e.lo).min().unwrap_or(0);
    let hi = xe.iter().map(|e| e.hi).max().unwrap_or(0);
    if hi - lo + 1 > MAX_PENDING_RANGE {
        let names: Vec<&str> = steps.iter().map(|s| s.node.as_str()).collect();
        return Err(l.err(n, format!(
            "the float ops {} before this quantizer act on values of up to {} bits; Tachyon tabulates such ops exactly only for inputs of at most 16 bits (quantize earlier)",
            names.join(", "),
            crate::fixed::bits_for(lo, hi)
        )));
    }
    let mut table: Vec<Vec<i128>> = vec![vec![]; xe.len()];
    for v in lo..=hi {
        let data: Vec<f64> = xe.iter().map(|e| v as f64 * 2f64.powi(-e.frac)).collect();
        let y =
            apply_steps(steps, Tensor::new(DType::F32, shape.clone(), data)).map_err(|e| l.err(n, e.to_string()))?;
        for (i, (e, o)) in xe.iter().zip(&outs).enumerate() {
            if e.contains(v) {
                if y.data[i].is_nan() {
                    let names: Vec<&str> = steps.iter().map(|s| s.node.as_str()).collect();
                    return Err(l.err(n, format!(
                        "the float ops {} give NaN for the input value {} (e.g. Log or Sqrt of a negative number), which \
                         no fixed-point output can hold; quantize their input into the function's domain (e.g. an \
                         unsigned Quant before Log)",
                        names.join(", "),
                        v as f64 * 2f64.powi(-e.frac)
                    )));
                }
                let s = y.data[i] * 2f64.powi(o.frac);
                if s.fract() != 0.0 || !s.is_finite() {
                    return Err(l.err(n, format!("quantizer output {} is not on its grid", y.data[i])));
                }
                table[i].push(s as i128);
            }
        }
    }
    let mut all = vec![];
    let mut elems = vec![];
    for (i, vals) in table.iter().enumerate() {
        let mut th = vec![];
        let mut values = vec![vals[0]];
        for (k, w) in vals.windows(2).enumerate() {
            if w[1] != w[0] {
                th.push(xe[i].lo + k as i128 + 1);
                values.push(w[1]);
            }
        }
        let (mn, mx) = (*vals.iter().min().unwrap_or(&0), *vals.iter().max().unwrap_or(&0));
        elems.push(Elem::new(outs[i].frac, mn, mx));
        all.push(Steps { thresholds: th, values });
    }
    let origin: Vec<String> = steps.iter().map(|s| s.node.clone()).collect();
    let out_name = l.g.value(out).name.clone();
    let out_shape = l.g.value(out).shape.clone().unwrap_or_default();
    super::steps::steps_layer(l, n, origin, all, base, &out_name, out_shape, elems)
}
