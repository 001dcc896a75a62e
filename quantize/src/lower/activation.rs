//! Piecewise activations of a quantized tensor: Clip, LeakyRelu, and the float activations
//! (Tanh, HardSigmoid, Sigmoid after a float op, Clip or LeakyRelu with constants that are not
//! fixed-point numbers) that only a following quantizer makes exact.
//!
//! * **Clip** with fixed-point bounds is a saturation: a [`LayerKind::Requant`] onto the finer of
//!   the tensor's and the bounds' grids, saturating at the bounds (no layer at all when the
//!   tensor already lies within them). Before: `y = Clip(x, 0, 3.125)` on `x: 2^-2 ∈ [-128, 127]`;
//!   after: `t1 = requant t0 2^-2 → 2^-3 SAT [0, 25]`.
//! * **LeakyRelu** with a fixed-point `alpha` is exact as `α·x + (1−α)·relu(x)` (equal to `x`
//!   for x ≥ 0 and to `α·x` below): a [`LayerKind::Relu`] and a [`LayerKind::Linear`] reading
//!   both `x` and `relu(x)`. The Linear's interval analysis gives the exact output range,
//!   `[α·lo, hi]` for 0 ≤ α ≤ 1.
//! * Otherwise (quantized models only) the op joins the float chain that waits for the next
//!   quantizer, which tabulates the chain into exact step functions
//!   ([`super::elementwise::resolve_pending`]); [`float_step`] normalizes Clip's bounds into
//!   attributes for that chain. Float models (no quantizer) tabulate Tanh, HardSigmoid, Erf,
//!   GELU and the [`tachyon_frontend::ir::FloatFn`] functions at the config's result precision
//!   ([`float_function`]). Abs is exact everywhere: LeakyRelu with slope −1.

use super::dense::{dyadic, GRID_FRAC, MAX_BITS};
use super::Lowerer;
use crate::config::Field;
use crate::error::QuantizeError;
use crate::fixed::{Elem, Overflow};
use crate::qir::{FloatStep, LayerKind, Requant, TensorId};
use crate::round::Round;
use tachyon_frontend::{Node, Op, Tensor};

/// Clip's bounds (`±∞` for an absent one) from its attributes (opset < 11) or constant inputs.
pub(crate) fn clip_bounds(l: &Lowerer, n: &Node, args: &[Option<Tensor>]) -> Result<(f64, f64), QuantizeError> {
    let Op::Clip { min, max } = &n.op else { unreachable!("clip_bounds is called for Clip") };
    let bound = |attr: &Option<f64>, i: usize, what: &str, unbounded: f64| -> Result<f64, QuantizeError> {
        if let Some(v) = attr {
            return Ok(*v);
        }
        match n.input(i) {
            None => Ok(unbounded),
            Some(_) => args
                .get(i)
                .cloned()
                .flatten()
                .and_then(|t| t.as_scalar())
                .ok_or_else(|| l.err(n, format!("Clip's {what} must be a constant scalar"))),
        }
    };
    let (lo, hi) = (bound(min, 1, "min", f64::NEG_INFINITY)?, bound(max, 2, "max", f64::INFINITY)?);
    if lo.is_nan() || hi.is_nan() || lo > hi {
        return Err(l.err(n, format!("Clip with min {lo} and max {hi}: the bounds must satisfy min ≤ max")));
    }
    Ok((lo, hi))
}

/// The float step of `n` in a chain that waits for a quantizer; a Clip carries its bounds as
/// attributes (its constant inputs may be absent in the middle, which a chain cannot express).
pub(crate) fn float_step(l: &Lowerer, n: &Node, args: &[Option<Tensor>]) -> Result<FloatStep, QuantizeError> {
    if let Op::Clip { .. } = n.op {
        let (lo, hi) = clip_bounds(l, n, args)?;
        return Ok(FloatStep {
            node: n.name.clone(),
            op: Op::Clip { min: Some(lo), max: Some(hi) },
            args: vec![None],
            base_operand: None,
        });
    }
    Ok(FloatStep { node: n.name.clone(), op: n.op.clone(), args: args.to_vec(), base_operand: None })
}

/// A bound as a fixed-point number `(m, f)`: exact in a quantized model (`None` when it is not on
/// a 2^-16 or coarser grid), the config's bias type in a float model.
fn bound_const(l: &Lowerer, n: &Node, v: f64) -> Result<Option<(i128, i32)>, QuantizeError> {
    if l.float_mode {
        return l.constant(&n.name, v, Field::Bias).map(Some);
    }
    Ok(dyadic(v, GRID_FRAC))
}

/// Clip of the quantized tensor `t` as a saturation, or `None` when a bound is not a fixed-point
/// constant of a quantized model (the op then waits for the next quantizer).
pub(crate) fn lower_clip(
    l: &mut Lowerer,
    n: &Node,
    args: &[Option<Tensor>],
    t: TensorId,
    shape: &[usize],
    out_name: &str,
) -> Result<Option<TensorId>, QuantizeError> {
    let (lo, hi) = clip_bounds(l, n, args)?;
    let mut bounds = [None, None];
    for (slot, v) in bounds.iter_mut().zip([lo, hi]) {
        if v.is_finite() {
            match bound_const(l, n, v)? {
                Some(c) => *slot = Some(c),
                None => return Ok(None),
            }
        }
    }
    let xe = l.elems(t).to_vec();
    let grid = bounds.iter().flatten().map(|&(_, f)| f).max();
    let mut specs = Vec::with_capacity(xe.len());
    let shl = |v: i128, s: i32| -> Result<i128, QuantizeError> {
        if s > MAX_BITS as i32 || v.unsigned_abs().leading_zeros() as i32 <= s + 8 {
            return Err(l.err(n, "the Clip bounds and the tensor lie on grids more than 120 bits apart"));
        }
        Ok(v << s)
    };
    for e in &xe {
        let to = grid.map_or(e.frac, |g| g.max(e.frac));
        let at = |b: Option<(i128, i32)>, v: i128| b.map_or_else(|| shl(v, to - e.frac), |(m, f)| shl(m, to - f));
        let (mut rlo, mut rhi) = (at(bounds[0], e.lo)?, at(bounds[1], e.hi)?);
        // With one bound, an element entirely beyond it is that bound: Clip(x, 0) of an
        // element that is always negative is 0.
        match bounds {
            [Some(_), None] => rhi = rhi.max(rlo),
            [None, Some(_)] => rlo = rlo.min(rhi),
            _ => {}
        }
        if rlo > rhi {
            // The config's bias type rounded the bounds across each other (float models only).
            return Err(l.err(n, format!("Clip bounds {lo} and {hi} meet on the grid 2^-{to}")));
        }
        specs.push(Requant {
            from_frac: e.frac,
            to_frac: to,
            div: 1,
            round: Round::HalfEven,
            lo: rlo,
            hi: rhi,
            overflow: Overflow::Sat,
        });
    }
    let free = xe.iter().zip(&specs).all(|(e, r)| r.to_frac == e.frac && r.lo <= e.lo && e.hi <= r.hi);
    if free {
        return Ok(Some(t));
    }
    let elems: Vec<Elem> = xe.iter().zip(&specs).map(|(e, r)| super::requant_elem(e, r)).collect();
    let kind = LayerKind::Requant(specs);
    Ok(Some(l.push_layer(&n.name, vec![n.name.clone()], kind, t, out_name, shape.to_vec(), elems)))
}

/// LeakyRelu of the quantized tensor `t` as `α·x + (1−α)·relu(x)`, or `None` when `alpha` is not
/// a fixed-point constant of a quantized model (the op then waits for the next quantizer).
pub(crate) fn lower_leaky_relu(
    l: &mut Lowerer,
    n: &Node,
    alpha: f64,
    t: TensorId,
    shape: &[usize],
    out_name: &str,
) -> Result<Option<TensorId>, QuantizeError> {
    let a = if l.float_mode {
        l.constant(&n.name, alpha, Field::Weight)?
    } else {
        match dyadic(alpha, GRID_FRAC) {
            Some(a) => a,
            None => return Ok(None),
        }
    };
    slope(l, n, a, t, shape, out_name).map(Some)
}

/// `|x|`: the exact slope −1 whatever the config's weight type.
pub(crate) fn lower_abs(
    l: &mut Lowerer,
    n: &Node,
    t: TensorId,
    shape: &[usize],
    out_name: &str,
) -> Result<TensorId, QuantizeError> {
    slope(l, n, (-1, 0), t, shape, out_name)
}

/// `α·x + (1−α)·relu(x)` for the fixed-point `α = m·2^-f` given as `(m, f)`.
fn slope(
    l: &mut Lowerer,
    n: &Node,
    a: (i128, i32),
    t: TensorId,
    shape: &[usize],
    out_name: &str,
) -> Result<TensorId, QuantizeError> {
    if a == (1, 0) {
        return Ok(t);
    }
    let xe = l.elems(t).to_vec();
    let count = xe.len();
    let relu: Vec<Elem> = xe.iter().map(|e| Elem::new(e.frac, e.lo.max(0), e.hi.max(0))).collect();
    let r = l.push_layer(
        &format!("{}_relu", n.name),
        vec![n.name.clone()],
        LayerKind::Relu,
        t,
        &format!("{out_name}_relu"),
        shape.to_vec(),
        relu,
    );
    // 1 − α on the grid of α (one integer bit more at most).
    let (am, af) = a;
    let one_minus = if af >= 0 { ((1i128 << af) - am, af) } else { (1 - (am << -af), 0) };
    let rows = (0..count as u32).map(|i| vec![(i, am, af), (count as u32 + i, one_minus.0, one_minus.1)]).collect();
    let y = l.build_linear(n, &[t, r], rows, vec![(0, 0); count], shape.to_vec(), out_name, None)?;
    Ok(y)
}

/// A float model's element-wise function (Tanh, HardSigmoid, Erf, GELU, Selu, Exp, …) of the
/// quantized `t`: a table at the node's configured result precision
/// ([`super::tables::lower_function`]) of the op's float semantics in binary64.
pub(crate) fn float_function(
    l: &mut Lowerer,
    n: &Node,
    t: TensorId,
    shape: &[usize],
    out_name: &str,
) -> Result<TensorId, QuantizeError> {
    let (op, opset) = (n.op.clone(), l.g.opset);
    let f = move |v: f64| -> f64 {
        let x = Tensor::new(tachyon_frontend::DType::F64, vec![1], vec![v]);
        tachyon_frontend::eval::eval_op(&op, &[Some(&x)], opset)
            .ok()
            .and_then(|y| y.first().and_then(|y| y.data.first().copied()))
            .unwrap_or(f64::NAN)
    };
    super::tables::lower_function(l, n, t, &f, shape, out_name)
}
