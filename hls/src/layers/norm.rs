//! Layer normalization in hardware, computing exactly what `tachyon_quantize::qir::LayerNormSpec`
//! specifies, in an order chosen for depth:
//!
//! * `S = Σ x` and `Q = Σ x²` in parallel (adder trees; the squares on DSPs), then
//!   `V = Σ D_i² + eps = n²·Q − n·S² + eps` (one DSP for `S²` and an adder graph) — the
//!   deviations `D_i = n·x_i − S` are not on V's path;
//! * the bit length k of V as a one-hot code: `o_k = (V >> (k − 1) == 1)`, one comparator per
//!   possible k; beside them, per possible k, a small ROM reads the mantissa bits of V below a
//!   leading one at k and holds the 1/√ entries of that exponent's parity already shifted by
//!   its `2^(hmax − h)`; the code selects one ROM's value in an AND-OR tree — no count, no
//!   normalizing or exponent shifter;
//! * per element `(D_i · gain_i) · r` — the constant multiply by the gain runs while V is
//!   computed, when the product still fits one DSP48E2 — and one adder for the rounding and
//!   the bias.

use super::linear::lower_linear;
use super::requant::narrow;
use crate::delay;
use crate::pipeline::{Builder, Val};
use tachyon_quantize::config::Strategy;
use tachyon_quantize::fixed::bits_for;
use tachyon_quantize::qir::LayerNormSpec;
use tachyon_rtl::{CmpOp, Expr};

/// Bit length of `v ≥ 1`.
fn bit_length(v: i128) -> u32 {
    128 - v.leading_zeros()
}

/// The value of the one term whose flag is set, for flags of which exactly one is: an AND-OR
/// tree as LUT6s build it — three (flag, value) pairs per LUT, then six-input ORs. Values are
/// non-negative, the result lies in [lo, hi].
fn select_one_hot(b: &mut Builder, what: &str, terms: &[(Val, Val)], lo: i128, hi: i128) -> Val {
    let zero = b.constant(0);
    let top = (1i128 << bits_for(0, hi)) - 1;
    let or_all = |b: &mut Builder, vals: &[Val]| -> Val {
        let mut acc = vals[0];
        for (k, &v) in vals.iter().enumerate().skip(1) {
            // One LUT level for the whole group: charged on its last OR.
            let d = if k + 1 == vals.len() { delay::LUT_LEVEL_NS } else { 0.0 };
            acc = b.op(what, &[acc, v], 0, top, d, |sg| Expr::Or(sg[0], sg[1]));
        }
        acc
    };
    // Every term at the result's width: bitwise operands share it.
    let mut level: Vec<Val> = terms
        .chunks(3)
        .map(|group| {
            let gated: Vec<Val> = group
                .iter()
                .map(|&(flag, v)| {
                    b.op(what, &[flag, v, zero], 0, top, 0.0, |sg| Expr::Mux { sel: sg[0], t: sg[1], f: sg[2] })
                })
                .collect();
            if gated.len() == 1 {
                b.op(what, &[gated[0]], 0, top, delay::LUT_LEVEL_NS, |sg| Expr::Ext(sg[0]))
            } else {
                or_all(b, &gated)
            }
        })
        .collect();
    while level.len() > 1 {
        level = level.chunks(6).map(|g| if g.len() == 1 { g[0] } else { or_all(b, g) }).collect();
    }
    narrow(b, level[0], lo, hi)
}

pub fn layernorm(b: &mut Builder, xs: &[Val], s: &LayerNormSpec) -> Vec<Val> {
    let n = xs.len();
    let ones: Vec<(u32, i128)> = (0..n as u32).map(|j| (j, 1)).collect();
    let sum = lower_linear(b, xs, std::slice::from_ref(&ones), &[0], Strategy::Adders)[0];
    let mut with_sum = xs.to_vec();
    with_sum.push(sum);
    let rows: Vec<Vec<(u32, i128)>> = (0..n).map(|i| vec![(i as u32, n as i128), (n as u32, -1)]).collect();
    let d = lower_linear(b, &with_sum, &rows, &vec![0; n], Strategy::Adders);
    // V = Σ D_i² + eps = n²·Σ x_i² − n·S² + eps.
    let square = |b: &mut Builder, x: Val| {
        let m = x.lo.abs().max(x.hi.abs());
        if x.lo == x.hi {
            b.constant(x.lo * x.lo)
        } else {
            b.multiply(x, x, 0, m * m)
        }
    };
    let squares: Vec<Val> = xs.iter().map(|&x| square(b, x)).collect();
    let q = lower_linear(b, &squares, &[ones], &[0], Strategy::Adders)[0];
    let s2 = square(b, sum);
    let nn = n as i128;
    let v = lower_linear(b, &[q, s2], &[vec![(0, nn * nn), (1, -nn)]], &[s.eps], Strategy::Adders)[0];
    // Both bounds hold; the one from the deviations is the tighter.
    let bound = s.eps + d.iter().map(|di| (di.lo * di.lo).max(di.hi * di.hi)).sum::<i128>();
    let v = narrow(b, v, v.lo.max(s.eps).max(1), v.hi.min(bound));
    // k = bit length of V, one-hot: o_k ⇔ 2^(k−1) ≤ V < 2^k.
    let (kmin, kmax) = (bit_length(v.lo), bit_length(v.hi));
    let t = s.mant_bits;
    let half = 1i128 << (t - 1);
    // Per possible k, the 1/√ ROM of its exponent's parity, indexed by the mantissa bits of V
    // below a leading one at k, its entries shifted by that exponent's 2^(hmax − h): every ROM
    // reads V directly, beside the flags, and the flags select one of them.
    let mut terms = vec![];
    for k in kmin..=kmax {
        let flag = if kmin == kmax {
            b.constant(1)
        } else {
            let (top, one) = (v.width() - (k - 1), b.constant(1));
            let above = b.op("lead", &[v], 0, (1i128 << top) - 1, 0.0, |sg| Expr::Slice { src: sg[0], lo: k - 1 });
            b.op("lead", &[above, one], 0, 1, delay::compare(top), |sg| Expr::Cmp(CmpOp::Eq, sg[0], sg[1]))
        };
        // The t − 1 bits below the leading one: ⌊V · 2^(t−k)⌋ − 2^(t−1).
        let field = if k >= t {
            b.op("mant", &[v], 0, half - 1, 0.0, |sg| Expr::Slice { src: sg[0], lo: k - t })
        } else {
            let up = b.op("mant", &[v], v.lo << (t - k), v.hi << (t - k), 0.0, |sg| Expr::Shl(sg[0], t - k));
            b.op("mant", &[up], 0, half - 1, 0.0, |sg| Expr::Slice { src: sg[0], lo: 0 })
        };
        // π = (k − T) mod 2 and hmax − h = (2·hmax + T + π − k) / 2, exact.
        let pi = (k as i128 - t as i128).rem_euclid(2);
        let sh = ((2 * s.hmax as i128 + t as i128 + pi - k as i128) / 2).max(0) as u32;
        let entries: Vec<i128> = s.rsqrt[pi as usize].iter().map(|&e| e << sh).collect();
        let (lo, hi) = (*entries.iter().min().unwrap_or(&0), *entries.iter().max().unwrap_or(&0));
        let rom = b.op("rsqrt", &[field], lo, hi, delay::table(t - 1), move |sg| Expr::Table { index: sg[0], entries });
        terms.push((flag, rom));
    }
    let (rlo, rhi) = terms.iter().fold((i128::MAX, i128::MIN), |(lo, hi), (_, r)| (lo.min(r.lo), hi.max(r.hi)));
    let r = select_one_hot(b, "rsqrt_sel", &terms, rlo, rhi);
    let fits_dsp = |x: u32, y: u32| x.max(y) <= 27 && x.min(y) <= 18;
    let corners = |x: Val, y: Val| super::product_range((x.lo, x.hi), (y.lo, y.hi));
    let sh = s.shift;
    d.iter()
        .zip(&s.gain)
        .zip(&s.bias)
        .map(|((&di, &g), &bias)| {
            // round_half_up(q / 2^shift) + bias = ⌊(q + K) / 2^shift⌋, K = 2^(shift−1) + bias·2^shift
            // (K = bias without a shift): the rounding and the bias are one constant.
            let k = if sh == 0 { bias } else { (1i128 << (sh - 1)) + (bias << sh) };
            let (glo, ghi) = ((di.lo * g).min(di.hi * g), (di.lo * g).max(di.hi * g));
            let t = if di.lo == di.hi && di.lo == 0 {
                b.constant(k)
            } else if fits_dsp(bits_for(glo, ghi), r.width()) || !fits_dsp(di.width(), r.width()) {
                // The gain first, off V's path; then the DSP and one adder.
                let dg = lower_linear(b, &[di], &[vec![(0, g)]], &[0], Strategy::Auto)[0];
                let (lo, hi) = corners(dg, r);
                let q = b.multiply(dg, r, lo, hi);
                if k == 0 {
                    q
                } else {
                    let c = b.constant(k);
                    b.op("rbias", &[q, c], lo + k, hi + k, delay::add(bits_for(lo + k, hi + k)), |sg| {
                        Expr::Add(sg[0], sg[1])
                    })
                }
            } else {
                // The gain's adder graph takes K as its constant term.
                let (lo, hi) = corners(di, r);
                let z = b.multiply(di, r, lo, hi);
                lower_linear(b, &[z], &[vec![(0, g)]], &[k], Strategy::Auto)[0]
            };
            if sh == 0 {
                t
            } else {
                b.op("rshift", &[t], t.lo >> sh, t.hi >> sh, 0.0, |sg| Expr::Shr(sg[0], sh))
            }
        })
        .collect()
}
