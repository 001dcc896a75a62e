//! Softmax and sigmoid through tables. The tables are the specification: the interpreter and
//! the hardware read the same entries, so they agree bit for bit; how well the tables
//! approximate exp, 1/x and the sigmoid is a matter of the config (`softmax`, `sigmoid`).

use super::Lowerer;
use crate::error::QuantizeError;
use crate::fixed::{Elem, Overflow};
use crate::qir::{LayerKind, LayerNormSpec, LookupSpec, Requant, SoftmaxSpec, TensorId};
use crate::round::Round;
use tachyon_frontend::Node;

/// Brings every element to the finest grid among them (exact, a left shift).
fn align(l: &mut Lowerer, n: &Node, t: TensorId, shape: &[usize]) -> (TensorId, i32) {
    let xe = l.elems(t).to_vec();
    let f = xe.iter().map(|e| e.frac).max().unwrap_or(0);
    if xe.iter().all(|e| e.frac == f) {
        return (t, f);
    }
    let specs: Vec<Requant> = xe
        .iter()
        .map(|e| Requant {
            from_frac: e.frac,
            div: 1,
            to_frac: f,
            round: Round::Floor,
            lo: e.lo << (f - e.frac),
            hi: e.hi << (f - e.frac),
            overflow: Overflow::Sat,
        })
        .collect();
    let elems = specs.iter().map(|r| Elem::new(f, r.lo, r.hi)).collect();
    let name = l.m.tensor(t).name.clone();
    (
        l.push_layer(
            &format!("{}_align", n.name),
            vec![n.name.clone()],
            LayerKind::Requant(specs),
            t,
            &name,
            shape.to_vec(),
            elems,
        ),
        f,
    )
}

/// Table index step for a table covering `span` (a power of two) with `2^bits` entries on an
/// input grid of `2^-frac`: returns (shift, entries).
fn table_geometry(span: f64, bits: u32, frac: i32) -> (u32, usize) {
    // step = span / 2^bits = 2^(log2 span − bits); shift = log2(step) + frac, at least 0.
    let log_step = span.log2() as i32 - bits as i32;
    let shift = (log_step + frac).max(0);
    let step_log = shift - frac; // effective step = 2^step_log
    let entries = (span.log2() as i32 - step_log).clamp(0, 16);
    (shift as u32, 1usize << entries)
}

pub(crate) fn lower_softmax(
    l: &mut Lowerer,
    n: &Node,
    t: TensorId,
    shape: &[usize],
    out_name: &str,
) -> Result<TensorId, QuantizeError> {
    let c = l.cfg.softmax.clone();
    let (t, f) = align(l, n, t, shape);
    let count = l.elems(t).len() as i128;
    let (exp_shift, ne) = table_geometry(c.exp_range, c.exp_table_bits, f);
    let step = 2f64.powi(exp_shift as i32 - f);
    let one = 1i128 << c.exp_frac;
    let exp_table: Vec<i128> =
        (0..ne).map(|j| ((-(j as f64) * step).exp() * one as f64).round_ties_even() as i128).collect();
    // s ∈ [2^E, count·2^E]: the maximum contributes exp(0) = 2^E.
    let span = (count - 1) * one;
    let mut inv_shift = 0u32;
    while (span >> inv_shift) >= (1i128 << c.inv_table_bits) {
        inv_shift += 1;
    }
    if inv_shift > c.exp_frac {
        // The hardware subtracts 2^E after the shift: exact only while 2^E is a multiple of 2^shift.
        return Err(l.err(
            n,
            format!("softmax over {count} values needs a 1/x table index shift of {inv_shift} bits, more than softmax.exp_frac = {}; raise softmax.inv_table_bits or softmax.exp_frac", c.exp_frac),
        ));
    }
    let ni = (span >> inv_shift) as usize + 1;
    let guard = 2u32;
    let p = c.output_frac + guard; // r ≈ 2^(E+P) / s
    let inv_table: Vec<i128> = (0..ni)
        .map(|j| {
            let lo = one + ((j as i128) << inv_shift);
            let mid = lo as f64 + if inv_shift == 0 { 0.0 } else { ((1i128 << inv_shift) - 1) as f64 / 2.0 };
            (2f64.powi((c.exp_frac + p) as i32) / mid).round_ties_even() as i128
        })
        .collect();
    let spec = SoftmaxSpec {
        exp_shift,
        exp_table,
        inv_base: one,
        inv_shift,
        inv_table,
        out_shift: c.exp_frac + guard,
        out_round: Round::HalfUp,
    };
    let max_out = crate::round::shift_round(one * spec.inv_table[0], spec.out_shift, spec.out_round);
    let elems = vec![Elem::new(c.output_frac as i32, 0, max_out); count as usize];
    Ok(l.push_layer(&n.name, vec![n.name.clone()], LayerKind::Softmax(spec), t, out_name, shape.to_vec(), elems))
}

pub(crate) fn lower_sigmoid(
    l: &mut Lowerer,
    n: &Node,
    t: TensorId,
    shape: &[usize],
    out_name: &str,
) -> Result<TensorId, QuantizeError> {
    let c = l.cfg.sigmoid.clone();
    let (t, f) = align(l, n, t, shape);
    let (shift, entries) = table_geometry(2.0 * c.range, c.table_bits, f);
    let step = 2f64.powi(shift as i32 - f);
    let offset = -((c.range / step) as i128);
    let one = (1i128 << c.output_frac) as f64;
    let table: Vec<i128> = (0..entries)
        .map(|i| {
            let x = -c.range + (i as f64 + 0.5) * step;
            (one / (1.0 + (-x).exp())).round_ties_even() as i128
        })
        .collect();
    let (lo, hi) = (*table.iter().min().unwrap_or(&0), *table.iter().max().unwrap_or(&0));
    let spec = LookupSpec { func: "sigmoid".into(), shift, offset, entries: table };
    let elems = vec![Elem::new(c.output_frac as i32, lo, hi); l.elems(t).len()];
    Ok(l.push_layer(&n.name, vec![n.name.clone()], LayerKind::Lookup(spec), t, out_name, shape.to_vec(), elems))
}

/// Layer normalization of one group (all elements of `t`) with `Scale` and `B` given per
/// element, as [`LayerNormSpec`] documents. The 1/√x tables are made from the config
/// (`layernorm.mant_bits`), with `p = 2·mant_bits` bits of precision; `gain_i = γ_i·√n·2^G`
/// (G = output_frac + 8) and `shift = p + hmax + G − output_frac`, so that
/// `D_i · r · gain_i / 2^shift ≈ γ_i · (x_i − μ) / √(var + ε) · 2^output_frac`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn lower_layernorm(
    l: &mut Lowerer,
    n: &Node,
    t: TensorId,
    epsilon: f64,
    gamma: &[f64],
    beta: &[f64],
    shape: &[usize],
    out_name: &str,
) -> Result<TensorId, QuantizeError> {
    let c = l.cfg.layernorm.clone();
    let (t, f) = align(l, n, t, shape);
    let xe = l.elems(t).to_vec();
    let count = xe.len() as i128;
    let tbits = c.mant_bits;
    let p = 2 * tbits;
    let of = c.output_frac as i32;
    let g = of + 8;
    // ε in the units of V = n³ · (var + ε) · 4^f, at least 1 (so V ≥ 1).
    let eps = (epsilon * (count as f64).powi(3) * f64::powi(4.0, f)).round().max(1.0);
    if !eps.is_finite() || eps > 1e30 {
        return Err(l.err(n, format!("epsilon {epsilon} is out of range for inputs on the 2^-{f} grid")));
    }
    let eps = eps as i128;
    // The largest V: |D_i| ≤ n·max|x| + |S| ≤ 2n·max|x|.
    let amax = xe.iter().map(|e| e.lo.abs().max(e.hi.abs())).max().unwrap_or(0);
    let dmax = amax.checked_mul(2 * count).unwrap_or(i128::MAX);
    let vmax = dmax.checked_mul(dmax).and_then(|d2| d2.checked_mul(count)).and_then(|v| v.checked_add(eps));
    let vmax = vmax.filter(|v| crate::fixed::bits_for(0, *v) <= 100).ok_or_else(|| {
        l.err(n, "the variance of these inputs needs more than 100 bits; quantize the input to fewer bits")
    })?;
    let h_of = |v: i128| {
        let k = 128 - v.leading_zeros() as i32;
        let e = k - tbits as i32;
        (e - e.rem_euclid(2)) / 2
    };
    let hmax = h_of(vmax);
    let half = 1i128 << (tbits - 1);
    let table = |pi: i32| -> Vec<i128> {
        (0..half)
            .map(|idx| {
                // The mantissa m stands for V · 2^−e in [m, m + 1): its midpoint.
                let m = (half + idx) as f64 + 0.5;
                (f64::powi(2.0, p as i32) / (m * f64::powi(2.0, pi)).sqrt()).round() as i128
            })
            .collect()
    };
    let root_n = (count as f64).sqrt();
    // Scale and B as integers (times `factor`), refused beyond 2^60.
    let fixed = |v: f64, factor: f64, what: &str| -> Result<i128, QuantizeError> {
        let s = v * factor;
        if !s.is_finite() || s.abs() >= f64::powi(2.0, 60) {
            return Err(l.err(n, format!("{what} value {v} is too large for a fixed-point layer normalization")));
        }
        Ok(s.round() as i128)
    };
    let gain = gamma.iter().map(|&v| fixed(v, root_n * f64::powi(2.0, g), "Scale")).collect::<Result<Vec<_>, _>>()?;
    let bias = beta.iter().map(|&v| fixed(v, f64::powi(2.0, of), "B")).collect::<Result<Vec<_>, _>>()?;
    let spec = LayerNormSpec {
        eps,
        mant_bits: tbits,
        rsqrt: [table(0), table(1)],
        hmax,
        p,
        gain,
        shift: (p as i32 + hmax + g - of) as u32,
        bias,
    };
    let elems: Vec<Elem> = spec.output_bounds().into_iter().map(|(lo, hi)| Elem::new(of, lo, hi)).collect();
    if let Some(e) = elems.iter().find(|e| e.width() > 64) {
        return Err(l.err(n, format!("normalized outputs need {} bits; check Scale and B", e.width())));
    }
    Ok(l.push_layer(&n.name, vec![n.name.clone()], LayerKind::LayerNorm(spec), t, out_name, shape.to_vec(), elems))
}

/// Tachyon's `Lookup(x, values)` (docs/qonnx_extension.md): the table is the specification, so
/// its entries become a [`LookupSpec`] as they are. Every element is brought onto the table's
/// grid `2^-frac` exactly (an element on a finer grid cannot index it), and every code its
/// interval allows must have an entry. Each output element's interval is the range of the
/// entries its codes reach.
pub(crate) fn lower_lookup(
    l: &mut Lowerer,
    n: &Node,
    args: &[Option<tachyon_frontend::Tensor>],
    t: TensorId,
    (frac, first): (i64, i64),
    shape: &[usize],
    out_name: &str,
) -> Result<TensorId, QuantizeError> {
    let values =
        args.get(1).and_then(|a| a.as_ref()).ok_or_else(|| l.err(n, "the table (input 1) must be a constant"))?;
    if values.shape.len() != 1 || values.data.is_empty() {
        return Err(l.err(n, format!("the table must be a non-empty 1-D constant, found shape {:?}", values.shape)));
    }
    let frac = i32::try_from(frac).ok().filter(|f| f.abs() <= 64).ok_or_else(|| l.err(n, "frac out of range"))?;
    let xe = l.elems(t).to_vec();
    if let Some(e) = xe.iter().find(|e| e.frac > frac && e.lo != e.hi) {
        return Err(
            l.err(n, format!("an input element is on the grid 2^-{}, finer than the table's 2^-{frac}", e.frac))
        );
    }
    // Onto the table's grid (exact: a coarser grid scales up).
    let specs: Vec<Requant> = xe
        .iter()
        .map(|e| {
            let (lo, hi) =
                if e.lo == e.hi && e.lo == 0 { (0, 0) } else { (e.lo << (frac - e.frac), e.hi << (frac - e.frac)) };
            Requant { from_frac: e.frac, div: 1, to_frac: frac, round: Round::Floor, lo, hi, overflow: Overflow::Sat }
        })
        .collect();
    let codes: Vec<(i128, i128)> = specs.iter().map(|r| (r.lo, r.hi)).collect();
    let (first, len) = (first as i128, values.data.len() as i128);
    if let Some(&(lo, hi)) = codes.iter().find(|&&(lo, hi)| lo < first || hi >= first + len) {
        return Err(l.err(
            n,
            format!(
                "the input can take the codes {lo}..{hi} (on the 2^-{frac} grid) but the table covers {first}..{}; \
                 quantize the input to the table's range first",
                first + len - 1
            ),
        ));
    }
    let dy: Vec<(i128, i32)> = values
        .data
        .iter()
        .map(|&v| {
            super::dense::dyadic(v, l.exact_frac).ok_or_else(|| l.err(n, format!("table value {v} is not exact")))
        })
        .collect::<Result<_, _>>()?;
    let out_frac = dy.iter().map(|&(_, f)| f).max().unwrap_or(0);
    let entries: Vec<i128> = dy.iter().map(|&(m, f)| m << (out_frac - f)).collect();
    let aligned = if xe.iter().all(|e| e.frac == frac) {
        t
    } else {
        let elems = codes.iter().map(|&(lo, hi)| Elem::new(frac, lo, hi)).collect();
        let name = l.m.tensor(t).name.clone();
        l.push_layer(
            &format!("{}_grid", n.name),
            vec![n.name.clone()],
            LayerKind::Requant(specs),
            t,
            &name,
            shape.to_vec(),
            elems,
        )
    };
    let elems = codes
        .iter()
        .map(|&(lo, hi)| {
            let reach = &entries[(lo - first) as usize..=(hi - first) as usize];
            Elem::new(out_frac, *reach.iter().min().unwrap_or(&0), *reach.iter().max().unwrap_or(&0))
        })
        .collect();
    let spec = LookupSpec { func: "table".into(), shift: 0, offset: first, entries };
    Ok(l.push_layer(&n.name, vec![n.name.clone()], LayerKind::Lookup(spec), aligned, out_name, shape.to_vec(), elems))
}

/// Entries of a float model's function table: `2^FUNCTION_TABLE_BITS` at most (hls4ml's default
/// table size, 1024).
pub const FUNCTION_TABLE_BITS: u32 = 10;

/// An element-wise float function `f` (Tanh, GELU, Selu, Exp, …) of the quantized `t` in a float
/// model, as one table at the precision the config gives the node's result (`fixed<16,6>` by
/// default). The table covers every code the input can take (the union of the elements'
/// intervals, after [`align`]): with at most [`FUNCTION_TABLE_BITS`] bits of codes one entry per
/// code, otherwise each entry serves `2^shift` consecutive codes and holds `f` at their midpoint.
/// Entries are `f` rounded to the nearest (ties to even) point of the result grid and saturated
/// to the result type's range; −∞ and NaN (Log of 0 or below) give the type's minimum, +∞ its
/// maximum. The table is the specification (interpreter and RTL read the same entries); its
/// error against `f` is at most `max |f(x) − f(mid)|` over an entry's codes plus half a result
/// step, where `f` stays within the type's range.
pub(crate) fn lower_function(
    l: &mut Lowerer,
    n: &Node,
    t: TensorId,
    f: &dyn Fn(f64) -> f64,
    shape: &[usize],
    out_name: &str,
) -> Result<TensorId, QuantizeError> {
    let ty = l.cfg.precision(&n.name, crate::config::Field::Result).unwrap_or(crate::fixed::FixedType::DEFAULT);
    let (t, fr) = align(l, n, t, shape);
    let xe = l.elems(t).to_vec();
    let lo = xe.iter().map(|e| e.lo).min().unwrap_or(0);
    let hi = xe.iter().map(|e| e.hi).max().unwrap_or(0);
    if crate::fixed::bits_for(lo, hi) > 40 {
        return Err(l.err(n, format!("the input of this function has {} bits; quantize it to at most 40 bits first (a result type in the config)", crate::fixed::bits_for(lo, hi))));
    }
    let mut shift = 0u32;
    while (hi >> shift) - (lo >> shift) + 1 > 1i128 << FUNCTION_TABLE_BITS {
        shift += 1;
    }
    let offset = lo >> shift;
    let count = ((hi >> shift) - offset + 1) as usize;
    let (tlo, thi) = ty.range();
    let scale = 2f64.powi(ty.frac());
    let entries: Vec<i128> = (0..count as i128)
        .map(|j| {
            let first = ((offset + j) << shift).max(lo);
            let last = (((offset + j + 1) << shift) - 1).min(hi);
            let mid = (first as f64 + last as f64) / 2.0 * 2f64.powi(-fr);
            let y = f(mid) * scale;
            if y.is_nan() || y <= tlo as f64 {
                tlo
            } else if y >= thi as f64 {
                thi
            } else {
                (y.round_ties_even() as i128).clamp(tlo, thi)
            }
        })
        .collect();
    let elems = xe
        .iter()
        .map(|e| {
            let reach = &entries[((e.lo >> shift) - offset) as usize..=((e.hi >> shift) - offset) as usize];
            Elem::new(ty.frac(), *reach.iter().min().unwrap_or(&0), *reach.iter().max().unwrap_or(&0))
        })
        .collect();
    let spec = LookupSpec { func: n.op.mnemonic().to_ascii_lowercase(), shift, offset, entries };
    Ok(l.push_layer(&n.name, vec![n.name.clone()], LayerKind::Lookup(spec), t, out_name, shape.to_vec(), elems))
}
