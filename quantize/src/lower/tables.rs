//! Softmax and sigmoid through tables. The tables are the specification: the interpreter and
//! the hardware read the same entries, so they agree bit for bit; how well the tables
//! approximate exp, 1/x and the sigmoid is a matter of the config (`softmax`, `sigmoid`).

use super::Lowerer;
use crate::error::QuantizeError;
use crate::fixed::{Elem, Overflow};
use crate::qir::{LayerKind, LookupSpec, Requant, SoftmaxSpec, TensorId};
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
