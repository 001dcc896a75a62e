//! Layer normalization in hardware, step by step as `tachyon_quantize::qir::LayerNormSpec`
//! documents it: an adder tree for the sum, `D_i = n·x_i − S` (adder graphs), squares (DSPs), an
//! adder tree for `V`, the bit length of `V` as a count of comparator flags, a barrel shifter
//! that normalizes `V` to its top mantissa bits, the 1/√ ROM indexed by exponent parity and
//! mantissa, a second barrel shifter for `2^(hmax − h)`, and per element a multiply by `r`, a
//! constant multiply by the gain and a rounding shift.

use super::linear::lower_linear;
use super::requant::{narrow, shift_round};
use crate::delay;
use crate::pipeline::{Builder, Val};
use tachyon_quantize::config::Strategy;
use tachyon_quantize::fixed::bits_for;
use tachyon_quantize::qir::LayerNormSpec;
use tachyon_quantize::Round;
use tachyon_rtl::{CmpOp, Expr};

/// Bit length of `v ≥ 1`.
fn bit_length(v: i128) -> u32 {
    128 - v.leading_zeros()
}

/// `v << amount` for an unsigned `amount`, one multiplexer level per bit of `amount`; the result
/// lies in [lo, hi].
fn shift_left_by(b: &mut Builder, v: Val, amount: Val, lo: i128, hi: i128) -> Val {
    let mut v = v;
    let levels = bits_for(0, amount.hi.max(0));
    for j in 0..levels {
        if amount.hi < (1i128 << j) {
            break;
        }
        let s = 1u32 << j;
        let bit = b.op("shbit", &[amount], 0, 1, 0.0, |sg| Expr::Slice { src: sg[0], lo: j });
        let (slo, shi) = ((v.lo << s).min(v.lo), (v.hi << s).max(v.hi));
        let shifted = b.op("shl", &[v], v.lo << s, v.hi << s, 0.0, |sg| Expr::Shl(sg[0], s));
        v = b.op("bsh", &[bit, shifted, v], slo, shi, delay::mux(), |sg| Expr::Mux { sel: sg[0], t: sg[1], f: sg[2] });
    }
    narrow(b, v, lo.max(v.lo), hi.min(v.hi))
}

pub fn layernorm(b: &mut Builder, xs: &[Val], s: &LayerNormSpec) -> Vec<Val> {
    let n = xs.len();
    let ones: Vec<(u32, i128)> = (0..n as u32).map(|j| (j, 1)).collect();
    let sum = lower_linear(b, xs, &[ones], &[0], Strategy::Adders)[0];
    let mut with_sum = xs.to_vec();
    with_sum.push(sum);
    let rows: Vec<Vec<(u32, i128)>> = (0..n).map(|i| vec![(i as u32, n as i128), (n as u32, -1)]).collect();
    let d = lower_linear(b, &with_sum, &rows, &vec![0; n], Strategy::Adders);
    let squares: Vec<Val> = d
        .iter()
        .map(|&di| {
            let m = di.lo.abs().max(di.hi.abs());
            if m == 0 {
                b.constant(0)
            } else {
                b.multiply(di, di, 0, m * m)
            }
        })
        .collect();
    let ones: Vec<(u32, i128)> = (0..n as u32).map(|j| (j, 1)).collect();
    let v = lower_linear(b, &squares, &[ones], &[s.eps], Strategy::Adders)[0];
    let v = narrow(b, v, v.lo.max(1), v.hi);
    // k = bit length of V: 1 + #{j ≥ 1 : V ≥ 2^j}.
    let (kmin, kmax) = (bit_length(v.lo), bit_length(v.hi));
    let mut flags = vec![];
    for j in kmin..kmax {
        let c = b.constant(1i128 << j);
        flags.push(b.op("ge", &[v, c], 0, 1, delay::compare(v.width()), |sg| Expr::Cmp(CmpOp::Ge, sg[0], sg[1])));
    }
    let k = if flags.is_empty() {
        b.constant(kmin as i128)
    } else {
        let ones: Vec<(u32, i128)> = (0..flags.len() as u32).map(|j| (j, 1)).collect();
        let k = lower_linear(b, &flags, &[ones], &[kmin as i128], Strategy::Adders)[0];
        narrow(b, k, kmin as i128, kmax as i128)
    };
    // Normalize: w = V << (L − k) has its top bit at L − 1; the ROM index is the T − 1 bits below.
    let t = s.mant_bits;
    let l = kmax.max(t);
    // L − k straight from the flags (a second small adder tree, in parallel with k's), so the
    // shifter does not wait for k.
    let amount = if flags.is_empty() {
        b.constant(l as i128 - kmin as i128)
    } else {
        let minus: Vec<(u32, i128)> = (0..flags.len() as u32).map(|j| (j, -1)).collect();
        lower_linear(b, &flags, &[minus], &[l as i128 - kmin as i128], Strategy::Adders)[0]
    };
    let amount = narrow(b, amount, (l - kmax) as i128, (l - kmin) as i128);
    let w = shift_left_by(b, v, amount, 1i128 << (l - 1), (1i128 << l) - 1);
    let half = 1i128 << (t - 1);
    let idx = b.op("mant", &[w], 0, half - 1, 0.0, |sg| Expr::Slice { src: sg[0], lo: l - t });
    // π = (k − T) mod 2.
    let k0 = if k.lo == k.hi {
        b.constant((k.lo - t as i128).rem_euclid(2))
    } else {
        let bit = b.op("kbit", &[k], 0, 1, 0.0, |sg| Expr::Slice { src: sg[0], lo: 0 });
        if t.is_multiple_of(2) {
            bit
        } else {
            let nb = b.op("kpar", &[bit], 0, 1, delay::mux(), |sg| Expr::Not(sg[0]));
            narrow(b, nb, 0, 1)
        }
    };
    let index = b.op("rsqrt_idx", &[k0, idx], 0, 2 * half - 1, 0.0, |sg| Expr::Concat(vec![sg[0], sg[1]]));
    let entries: Vec<i128> = s.rsqrt[0].iter().chain(&s.rsqrt[1]).copied().collect();
    let (rlo, rhi) = (*entries.iter().min().unwrap_or(&0), *entries.iter().max().unwrap_or(&0));
    let r0 = b.op("rsqrt", &[index], rlo, rhi, delay::table(t), move |sg| Expr::Table { index: sg[0], entries });
    // hmax − h = (2·hmax + T + π − k) / 2, exact.
    let num =
        lower_linear(b, &[k, k0], &[vec![(0, -1), (1, 1)]], &[2 * s.hmax as i128 + t as i128], Strategy::Adders)[0];
    let (nlo, nhi) = (num.lo.max(0), num.hi);
    let sh = b.op("hshift", &[num], nlo >> 1, nhi >> 1, 0.0, |sg| Expr::Shr(sg[0], 1));
    let sh = narrow(b, sh, (nlo >> 1).max(0), nhi >> 1);
    let r = shift_left_by(b, r0, sh, rlo, rhi << sh.hi.max(0));
    d.iter()
        .zip(&s.gain)
        .zip(&s.bias)
        .map(|((&di, &g), &bias)| {
            let zc = [di.lo * r.lo, di.lo * r.hi, di.hi * r.lo, di.hi * r.hi];
            let z = if di.lo == di.hi && di.lo == 0 {
                b.constant(0)
            } else {
                b.multiply(di, r, *zc.iter().min().unwrap_or(&0), *zc.iter().max().unwrap_or(&0))
            };
            let q = lower_linear(b, &[z], &[vec![(0, g)]], &[0], Strategy::Auto)[0];
            if s.shift == 0 || bias == 0 {
                let y = shift_round(b, q, s.shift, Round::HalfUp);
                if bias == 0 {
                    return y;
                }
                let c = b.constant(bias);
                let (lo, hi) = (y.lo + bias, y.hi + bias);
                return b.op("bias", &[y, c], lo, hi, delay::add(bits_for(lo, hi)), |sg| Expr::Add(sg[0], sg[1]));
            }
            // round_half_up(q / 2^shift) + bias = ⌊(q + 2^(shift−1) + bias·2^shift) / 2^shift⌋: one
            // adder for the rounding and the bias.
            let k = (1i128 << (s.shift - 1)) + (bias << s.shift);
            let c = b.constant(k);
            let (lo, hi) = (q.lo + k, q.hi + k);
            let t = b.op("rbias", &[q, c], lo, hi, delay::add(bits_for(lo, hi)), |sg| Expr::Add(sg[0], sg[1]));
            let sh = s.shift;
            b.op("rshift", &[t], lo >> sh, hi >> sh, 0.0, |sg| Expr::Shr(sg[0], sh))
        })
        .collect()
}
