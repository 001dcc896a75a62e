//! Dense layers (MatMul / Gemm by a constant matrix) and the shared construction of
//! [`LayerKind::Linear`] layers with exact, interval-sized outputs.

use super::Lowerer;
use crate::config::Field;
use crate::error::QuantizeError;
use crate::fixed::{Elem, FixedType, Overflow};
use crate::interp::wrap;
use crate::qir::{LayerKind, TensorId};
use crate::round::round_f64;
use tachyon_frontend::{Node, Op, Tensor};

/// A constant of a quantized model is taken as exact when it lies on this grid or a coarser one
/// (constants produced by Quant nodes always do); finer constants are float parameters that the
/// model did not quantize.
pub const GRID_FRAC: i32 = 16;
/// The same in a model written with Tachyon's fixed-point ops (`tachyon.fixed`), whose
/// constants are the framework's exact quantized values (HGQ2 weights have up to 68 fractional
/// bits where their value is tiny).
pub const FIXED_GRID_FRAC: i32 = 80;
/// Largest magnitude (in bits) of any integer in the quantized IR; keeps i128 arithmetic exact.
pub const MAX_BITS: u32 = 120;

/// `v = m · 2^-f` with the smallest `f` (possibly negative), if `f ≤ max_frac`.
pub fn dyadic(v: f64, max_frac: i32) -> Option<(i128, i32)> {
    if !v.is_finite() {
        return None;
    }
    if v == 0.0 {
        return Some((0, 0));
    }
    let mut f = 0;
    let mut x = v;
    while x.fract() != 0.0 {
        x *= 2.0;
        f += 1;
        if f > max_frac {
            return None;
        }
    }
    if x.abs() >= 2f64.powi(100) {
        return None;
    }
    let mut m = x as i128;
    while m % 2 == 0 {
        m /= 2;
        f -= 1;
    }
    Some((m, f))
}

/// Quantizes a float constant to a fixed-point type (its rounding and overflow modes).
pub fn quantize_const(v: f64, t: &FixedType) -> (i128, i32) {
    let scaled = (v * 2f64.powi(t.frac())).clamp(-1e30, 1e30);
    let n = round_f64(scaled, t.round) as i128;
    let (lo, hi) = t.range();
    let n = match t.overflow {
        Overflow::Wrap => wrap(n, t.width, t.signed),
        _ => n.clamp(lo, hi),
    };
    (n, t.frac())
}

impl<'a> Lowerer<'a> {
    /// A constant: exact when the model quantized it (it lies on a 2^-16 or coarser grid),
    /// otherwise quantized with the config's type, as in a float model. `layer` names the config
    /// entry (the ONNX node that owns the layer).
    pub(crate) fn constant(&self, layer: &str, v: f64, field: Field) -> Result<(i128, i32), QuantizeError> {
        if !self.float_mode {
            if let Some(d) = dyadic(v, self.exact_frac) {
                return Ok(d);
            }
        }
        let t = self.cfg.precision(layer, field).unwrap_or(FixedType::DEFAULT);
        Ok(quantize_const(v, &t))
    }

    /// Builds a Linear layer: output `i` is `bias_i + Σ m·2^-f · x_j` over `rows[i] = [(j, m, f)]`.
    /// Coefficients are aligned to the finest grid each output needs, then common factors of two
    /// are removed so every output sits on its coarsest exact grid — or, with `grid`, on
    /// `2^-grid` (fine enough for every term).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn build_linear(
        &mut self,
        n: &Node,
        xs: &[TensorId],
        rows: Vec<Vec<(u32, i128, i32)>>,
        bias: Vec<(i128, i32)>,
        shape: Vec<usize>,
        out_name: &str,
        grid: Option<i32>,
    ) -> Result<TensorId, QuantizeError> {
        let xe: Vec<Elem> = xs.iter().flat_map(|&t| self.elems(t).to_vec()).collect();
        let mut out_rows = Vec::with_capacity(rows.len());
        let mut out_bias = Vec::with_capacity(rows.len());
        let mut elems = Vec::with_capacity(rows.len());
        for (row, &(bm, bf)) in rows.iter().zip(&bias) {
            let row: Vec<(u32, i128, i32)> = row.iter().copied().filter(|t| t.1 != 0).collect();
            let mut frac = if bm != 0 { bf } else { i32::MIN };
            for &(j, _, f) in &row {
                frac = frac.max(f + xe[j as usize].frac);
            }
            if frac == i32::MIN {
                frac = 0;
            }
            if let Some(g) = grid {
                debug_assert!(g >= frac, "the requested grid is fine enough for every term");
                frac = g;
            }
            let align = |m: i128, sh: i32| -> Result<i128, QuantizeError> {
                if sh > MAX_BITS as i32 || m.unsigned_abs().leading_zeros() as i32 <= sh + 8 {
                    return Err(self.err(
                        n,
                        "coefficients need more than 120 bits after alignment; the model mixes very different scales",
                    ));
                }
                Ok(m << sh)
            };
            let mut coeffs: Vec<(u32, i128)> = row
                .iter()
                .map(|&(j, m, f)| Ok((j, align(m, frac - f - xe[j as usize].frac)?)))
                .collect::<Result<_, QuantizeError>>()?;
            let mut b = if bm != 0 { align(bm, frac - bf)? } else { 0 };
            // Remove common factors of two (no bit wasted at the output).
            while grid.is_none() && (b != 0 || !coeffs.is_empty()) && b % 2 == 0 && coeffs.iter().all(|c| c.1 % 2 == 0)
            {
                b /= 2;
                coeffs.iter_mut().for_each(|c| c.1 /= 2);
                frac -= 1;
            }
            // The exact output interval, in checked arithmetic: a range beyond i128 is refused
            // like any other over-wide one.
            let too_wide = || self.err(n, format!("an output needs more than {MAX_BITS} bits; reduce the precision"));
            let (mut lo, mut hi) = (b, b);
            for &(j, c) in &coeffs {
                let e = xe[j as usize];
                let (p, q) = (c.checked_mul(e.lo).ok_or_else(too_wide)?, c.checked_mul(e.hi).ok_or_else(too_wide)?);
                lo = lo.checked_add(p.min(q)).ok_or_else(too_wide)?;
                hi = hi.checked_add(p.max(q)).ok_or_else(too_wide)?;
            }
            if crate::fixed::bits_for(lo, hi) > MAX_BITS {
                return Err(too_wide());
            }
            elems.push(Elem::new(frac, lo, hi));
            out_rows.push(coeffs);
            out_bias.push(b);
        }
        let kind = LayerKind::Linear { rows: out_rows, bias: out_bias };
        Ok(self.push_layer_multi(&n.name, vec![n.name.clone()], kind, xs.to_vec(), out_name, shape, elems))
    }
}

/// MatMul / Gemm of the quantized tensor `x` by a constant matrix.
pub(crate) fn lower_dense(
    l: &mut Lowerer,
    n: &Node,
    slot: usize,
    args: &[Option<Tensor>],
    x: TensorId,
    out_shape: &[usize],
    out_name: &str,
) -> Result<TensorId, QuantizeError> {
    if slot != 0 {
        return Err(l.err(
            n,
            "constant × activation products (weights on the left) are not supported; put the activation first",
        ));
    }
    let w = args.get(1).cloned().flatten().ok_or_else(|| l.err(n, "the weight matrix must be a constant"))?;
    let (alpha, beta, trans_a, trans_b) = match n.op {
        Op::Gemm { alpha, beta, trans_a, trans_b } => (alpha, beta, trans_a, trans_b),
        _ => (1.0, 1.0, false, false),
    };
    if trans_a {
        return Err(l.err(n, "Gemm with transA=1 on an activation is not supported"));
    }
    if w.shape.len() != 2 {
        return Err(l.err(n, format!("weights of shape {:?}: only 2-D weight matrices are supported", w.shape)));
    }
    let w = if trans_b { tachyon_frontend::eval::transpose(&w, &[1, 0]) } else { w };
    let (k, nout) = (w.shape[0], w.shape[1]);
    let count = l.elems(x).len();
    if k == 0 || !count.is_multiple_of(k) {
        return Err(l.err(n, format!("input of {count} values does not match weights {k}×{nout}")));
    }
    let rows_in = count / k;
    let mut coeff = Vec::with_capacity(k * nout);
    for &v in &w.data {
        coeff.push(l.constant(&n.name, v * alpha, Field::Weight)?);
    }
    let mut bias = vec![(0i128, 0i32); rows_in * nout];
    if let Some(c) = args.get(2).cloned().flatten() {
        let shape = [rows_in, nout];
        let b = tachyon_frontend::eval::broadcast_shape(&shape, &c.shape).ok().filter(|s| s == &shape);
        if b.is_none() {
            return Err(l.err(n, format!("bias of shape {:?} does not broadcast to {shape:?}", c.shape)));
        }
        for (i, slot) in bias.iter_mut().enumerate() {
            let v = c.data[tachyon_frontend::eval::broadcast_index(&shape, &c.shape, i)] * beta;
            *slot = l.constant(&n.name, v, Field::Bias)?;
        }
    }
    let mut rows = Vec::with_capacity(rows_in * nout);
    for r in 0..rows_in {
        for o in 0..nout {
            rows.push((0..k).map(|i| ((r * k + i) as u32, coeff[i * nout + o].0, coeff[i * nout + o].1)).collect());
        }
    }
    l.build_linear(n, &[x], rows, bias, out_shape.to_vec(), out_name, None)
}
