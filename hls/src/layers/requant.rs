//! Requantization in hardware: a shift (wiring), a rounding offset added before dropping bits,
//! and saturation by comparators or wrap-around by truncation.
//!
//! Rounding `round(x / 2^s)` is computed as `(x + offset) >> s` (floor shift) where the offset
//! depends on the mode, and for some modes on the sign bit or on bit `s` of x:
//! floor 0; ceil 2^s−1; half-up 2^(s−1); half-down 2^(s−1)−1; half-even 2^(s−1)−1+x[s];
//! to-zero sign·(2^s−1); half-away 2^(s−1)−sign; half-to-zero 2^(s−1)−1+sign.
//! The interpreter uses the quotient/remainder definition instead; tests compare the two.

use crate::pipeline::{Builder, Val};
use tachyon_quantize::fixed::{bits_for, Overflow};
use tachyon_quantize::qir::Requant;
use tachyon_quantize::Round;
use tachyon_rtl::{CmpOp, Expr};

/// One bit of `x` as a 1-bit unsigned value.
fn bit(b: &mut Builder, x: Val, k: u32) -> Val {
    b.op("bit", &[x], 0, 1, 0.0, |s| Expr::Slice { src: s[0], lo: k })
}

/// `round(x / 2^s)` in `mode`.
pub fn shift_round(b: &mut Builder, x: Val, s: u32, mode: Round) -> Val {
    if s == 0 {
        return x;
    }
    // Beyond the value's width every shift rounds alike (|x / 2^s| < 1/2 for s > w): keep the
    // offsets within i128 by shifting no further than w + 1.
    let s = s.min(x.width() + 1);
    let half = 1i128 << (s - 1);
    let full = (1i128 << s) - 1;
    let w = x.width();
    // Constant part of the offset, and an optional data-dependent bit (+1 or −1 times it).
    let (c, extra): (i128, Option<(u32, bool)>) = match mode {
        Round::Floor => (0, None),
        Round::Ceil => (full, None),
        Round::HalfUp => (half, None),
        Round::HalfDown => (half - 1, None),
        // x[s] — beyond a signed value's width that is its sign bit; beyond an unsigned one, 0.
        Round::HalfEven => (
            half - 1,
            if s < w {
                Some((s, false))
            } else if x.signed() {
                Some((w - 1, false))
            } else {
                None
            },
        ),
        Round::ToZero => (0, None),
        Round::HalfAway => (half, if x.signed() { Some((w - 1, true)) } else { None }),
        Round::HalfToZero => (half - 1, if x.signed() { Some((w - 1, false)) } else { None }),
    };
    let mut t = x;
    if mode == Round::ToZero && x.signed() {
        // x + (x < 0 ? 2^s − 1 : 0)
        let sign = bit(b, x, w - 1);
        let k = b.constant(full);
        let z = b.constant(0);
        let off =
            b.op("off", &[sign, k, z], 0, full, crate::delay::mux(), |s| Expr::Mux { sel: s[0], t: s[1], f: s[2] });
        let (lo, hi) = (t.lo, t.hi + full);
        t = b.op("rnd", &[t, off], lo, hi, crate::delay::add(bits_for(lo, hi)), |s| Expr::Add(s[0], s[1]));
    }
    match extra {
        // One adder: the data-dependent bit picks between two constants (c ± 1 or c), which
        // costs no logic level before the carry chain.
        Some((k, negative)) if c != 0 => {
            let bt = bit(b, x, k);
            let alt = if negative { c - 1 } else { c + 1 };
            let (kc, ka) = (b.constant(c), b.constant(alt));
            let (olo, ohi) = (c.min(alt), c.max(alt));
            let off = b.op("off", &[bt, ka, kc], olo, ohi, 0.0, |s| Expr::Mux { sel: s[0], t: s[1], f: s[2] });
            let (lo, hi) = (t.lo + olo, t.hi + ohi);
            t = b.op("rnd", &[t, off], lo, hi, crate::delay::add(bits_for(lo, hi)), |s| Expr::Add(s[0], s[1]));
            let (lo, hi) = (t.lo >> s, t.hi >> s);
            return b.op("shr", &[t], lo, hi, 0.0, |sg| Expr::Shr(sg[0], s));
        }
        _ => {}
    }
    if c != 0 {
        let k = b.constant(c);
        let (lo, hi) = (t.lo + c, t.hi + c);
        t = b.op("rnd", &[t, k], lo, hi, crate::delay::add(bits_for(lo, hi)), |s| Expr::Add(s[0], s[1]));
    }
    if let Some((k, negative)) = extra {
        let bt = bit(b, x, k);
        let (lo, hi) = if negative { (t.lo - 1, t.hi) } else { (t.lo, t.hi + 1) };
        let d = crate::delay::add(bits_for(lo, hi));
        t = if negative {
            b.op("rnd", &[t, bt], lo, hi, d, |s| Expr::Sub(s[0], s[1]))
        } else {
            b.op("rnd", &[t, bt], lo, hi, d, |s| Expr::Add(s[0], s[1]))
        };
    }
    let (lo, hi) = (t.lo >> s, t.hi >> s);
    b.op("shr", &[t], lo, hi, 0.0, |sg| Expr::Shr(sg[0], s))
}

/// `x > hi` (`above`) or `x < lo` (`!above`) against a constant. When the bound's low `k` bits
/// are all ones (`x > hi`) or all zeros (`x < lo`) — always so for fixed-point saturation
/// bounds like 2^k − 1 and −2^k — only the top bits take part: `x > hi ⇔ ⌊x/2^k⌋ > ⌊hi/2^k⌋`,
/// a comparator of a few bits (often a single LUT) instead of a full-width carry chain.
fn beyond(b: &mut Builder, x: Val, bound: i128, above: bool) -> Val {
    let k = if above { (bound + 1).trailing_zeros() } else { bound.trailing_zeros() };
    let k = k.min(x.width().saturating_sub(1));
    let (xs, c) = if k == 0 {
        (x, bound)
    } else {
        (b.op("top", &[x], x.lo >> k, x.hi >> k, 0.0, |s| Expr::Shr(s[0], k)), bound >> k)
    };
    let kc = b.constant(c);
    let (op, what) = if above { (CmpOp::Gt, "ovf") } else { (CmpOp::Lt, "unf") };
    b.op(what, &[xs, kc], 0, 1, crate::delay::compare(xs.width()), |s| Expr::Cmp(op, s[0], s[1]))
}

/// Clamps `x` to [lo, hi] with comparators where its range exceeds them.
pub fn saturate(b: &mut Builder, x: Val, lo: i128, hi: i128) -> Val {
    let over = (x.hi > hi).then(|| beyond(b, x, hi, true));
    let under = (x.lo < lo).then(|| beyond(b, x, lo, false));
    clamp_by(b, x, over, under, lo, hi)
}

/// `x ≥ t` (`at_least`) or `x < t` against a constant, on the top bits only where `t`'s low
/// bits are zero: `x ≥ c·2^k ⇔ ⌊x/2^k⌋ ≥ c`.
fn against(b: &mut Builder, x: Val, t: i128, at_least: bool) -> Val {
    let k = t.trailing_zeros().min(x.width().saturating_sub(1));
    let xs = if k == 0 { x } else { b.op("top", &[x], x.lo >> k, x.hi >> k, 0.0, |s| Expr::Shr(s[0], k)) };
    let kc = b.constant(t >> k);
    let (op, what) = if at_least { (CmpOp::Ge, "ovf") } else { (CmpOp::Lt, "unf") };
    b.op(what, &[xs, kc], 0, 1, crate::delay::compare(xs.width()), |s| Expr::Cmp(op, s[0], s[1]))
}

/// `x` clamped to [lo, hi] given the flags `over` (x > hi) and `under` (x < lo). Each output bit
/// is a function of (over, under, x's bit): one LUT level for both bounds.
fn clamp_by(b: &mut Builder, x: Val, over: Option<Val>, under: Option<Val>, lo: i128, hi: i128) -> Val {
    let mux = |b: &mut Builder, flag: Val, k: i128, v: Val, lo: i128, hi: i128, d: f64| {
        let k = b.constant(k);
        b.op("sat", &[flag, k, v], lo, hi, d, |s| Expr::Mux { sel: s[0], t: s[1], f: s[2] })
    };
    let lut = crate::delay::LUT_LEVEL_NS;
    match (over, under) {
        (None, None) => x,
        (Some(o), None) => mux(b, o, hi, x, x.lo.min(hi), hi, lut),
        (None, Some(u)) => mux(b, u, lo, x, lo, x.hi.max(lo), lut),
        (Some(o), Some(u)) => {
            // The LUT level is charged on the first mux; the second shares its LUT.
            let v = mux(b, u, lo, x, lo, x.hi.max(lo), lut);
            mux(b, o, hi, v, lo, hi, 0.0)
        }
    }
}

/// `round(x / 2^s)` in `mode`, saturated to [lo, hi]. When flags on the rounded value would
/// cost a pipeline stage, the flags compare `x` itself with the first value that rounds beyond
/// each bound (rounding is monotone), beside the rounding adder instead of after it.
fn shift_round_saturate(b: &mut Builder, x: Val, s: u32, mode: Round, lo: i128, hi: i128) -> Val {
    use tachyon_quantize::round::shift_round as exact;
    let s = s.min(x.width() + 1); // as in shift_round
                                  // Least x' with round(x' / 2^s) ≥ q (binary search over a window that contains it);
                                  // `None` when the window leaves i128.
    let first_reaching = |q: i128| -> Option<i128> {
        let scale = 1i128.checked_shl(s).filter(|_| s < 126)?;
        let (mut a, mut z) = ((q - 1).checked_mul(scale)?, (q + 1).checked_mul(scale)?);
        while a < z {
            let mid = a + (z - a) / 2;
            if exact(mid, s, mode) >= q {
                z = mid;
            } else {
                a = mid + 1;
            }
        }
        Some(a)
    };
    let v = shift_round(b, x, s, mode);
    // Flags on the rounded value compare only its top bits (a LUT): the cheaper choice when
    // it needs no register after the rounding adder.
    let cheap = saturate(b, v, lo, hi);
    let when = |u: &Val| (u.stage.unwrap_or(0), u.delay_ps);
    if cheap.stage <= v.stage {
        return cheap;
    }
    let (Some(t_hi), Some(t_lo)) = (first_reaching(hi + 1), first_reaching(lo)) else {
        return cheap;
    };
    let over = (v.hi > hi).then(|| against(b, x, t_hi, true));
    let under = (v.lo < lo).then(|| against(b, x, t_lo, false));
    let fast = clamp_by(b, v, over, under, lo, hi);
    // The logic of the choice not taken has no reader; pruning removes it.
    if when(&fast) < when(&cheap) {
        fast
    } else {
        cheap
    }
}

/// Narrows `x` to the range [lo, hi] that it is known to lie in (a wire, no logic).
pub fn narrow(b: &mut Builder, x: Val, lo: i128, hi: i128) -> Val {
    if bits_for(lo, hi) == x.width() && (lo < 0) == x.signed() {
        return Val { lo, hi, ..x };
    }
    b.op("fit", &[x], lo, hi, 0.0, |s| Expr::Ext(s[0]))
}

/// `round(n / p)` for a constant `p ≥ 2`, exactly: the floor quotient by a multiply and a shift,
/// the remainder, and a correction of one decided by the remainder (and for some modes the
/// quotient's sign or parity).
///
/// With `a = ⌊n_lo / p⌋`, `n' = n − a·p` lies in `[0, N]`. For `S = bits(N) + bits(p)` and
/// `M = ⌈2^S / p⌉`, `M·p − 2^S < p`, so `n'·M / 2^S` exceeds `n'/p` by less than `N·p / (p·2^S)
/// < 1/p` and `⌊n'·M / 2^S⌋ = ⌊n'/p⌋`. The hardware computes `q = (M·n + a·(2^S − M·p)) >> S`
/// (one constant multiply, as an adder graph or a DSP), `r = n − p·q ∈ [0, p)` and
/// `q + up(r, q)`.
pub fn div_round(b: &mut Builder, n: Val, p: i128, mode: Round) -> Val {
    use super::linear::lower_linear;
    use tachyon_quantize::config::Strategy;
    let a = n.lo.div_euclid(p);
    let span = n.hi - a * p;
    let s = bits_for(0, span) + bits_for(0, p);
    let m = ((1i128 << s) + p - 1) / p;
    let bias = a * ((1i128 << s) - m * p);
    let t = lower_linear(b, &[n], &[vec![(0, m)]], &[bias], Strategy::Auto)[0];
    let (qlo, qhi) = (n.lo.div_euclid(p), n.hi.div_euclid(p));
    let q = b.op("quot", &[t], t.lo >> s, t.hi >> s, 0.0, |sg| Expr::Shr(sg[0], s));
    let q = narrow(b, q, qlo, qhi);
    if mode == Round::Floor {
        return q;
    }
    let r = lower_linear(b, &[n, q], &[vec![(0, 1), (1, -p)]], &[0], Strategy::Auto)[0];
    let r = narrow(b, r, 0, p - 1);
    let ge = |b: &mut Builder, v: i128| -> Val {
        let k = b.constant(v);
        b.op("ge", &[r, k], 0, 1, crate::delay::compare(r.width()), |sg| Expr::Cmp(CmpOp::Ge, sg[0], sg[1]))
    };
    let and =
        |b: &mut Builder, x: Val, y: Val| b.op("and", &[x, y], 0, 1, crate::delay::mux(), |sg| Expr::And(sg[0], sg[1]));
    let or =
        |b: &mut Builder, x: Val, y: Val| b.op("or", &[x, y], 0, 1, crate::delay::mux(), |sg| Expr::Or(sg[0], sg[1]));
    let negative = |b: &mut Builder| if q.lo < 0 { bit(b, q, q.width() - 1) } else { b.constant(0) };
    let nonzero = ge(b, 1);
    let above = ge(b, p / 2 + 1);
    // r = p/2 exactly (only for even p): r ≥ p/2 and not above.
    let tie = |b: &mut Builder| -> Option<Val> {
        (p % 2 == 0).then(|| {
            let at = ge(b, p / 2);
            let not_above = b.op("not", &[above], 0, 1, crate::delay::mux(), |sg| Expr::Not(sg[0]));
            let not_above = narrow(b, not_above, 0, 1);
            and(b, at, not_above)
        })
    };
    let up = match mode {
        Round::Floor => unreachable!("handled above"),
        Round::Ceil => nonzero,
        Round::ToZero => {
            let neg = negative(b);
            and(b, nonzero, neg)
        }
        Round::HalfDown => above,
        Round::HalfUp | Round::HalfEven | Round::HalfAway | Round::HalfToZero => match tie(b) {
            None => above,
            Some(t) => {
                let t = match mode {
                    Round::HalfUp => t,
                    Round::HalfEven => {
                        let odd = bit(b, q, 0);
                        and(b, t, odd)
                    }
                    Round::HalfAway => {
                        let neg = negative(b);
                        let pos = b.op("not", &[neg], 0, 1, crate::delay::mux(), |sg| Expr::Not(sg[0]));
                        let pos = narrow(b, pos, 0, 1);
                        and(b, t, pos)
                    }
                    _ => {
                        let neg = negative(b);
                        and(b, t, neg)
                    }
                };
                or(b, above, t)
            }
        },
    };
    b.op("rnd", &[q, up], q.lo, q.hi + 1, crate::delay::add(bits_for(q.lo, q.hi + 1)), |sg| Expr::Add(sg[0], sg[1]))
}

/// One element's requantization.
pub fn requant(b: &mut Builder, x: Val, r: &Requant, out_lo: i128, out_hi: i128) -> Val {
    if r.div > 1 {
        // Division by an odd constant (a mean): exact rounding, then saturation.
        let k = r.to_frac - r.from_frac;
        let (n, p) = if k >= 0 {
            let k = k as u32;
            let n = if k == 0 { x } else { b.op("shl", &[x], x.lo << k, x.hi << k, 0.0, |s| Expr::Shl(s[0], k)) };
            (n, r.div as i128)
        } else {
            (x, (r.div as i128) << (-k) as u32)
        };
        let v = div_round(b, n, p, r.round);
        let v = saturate(b, v, r.lo, r.hi);
        return narrow(b, v, out_lo.min(v.lo.max(out_lo)), out_hi.max(v.hi.min(out_hi)));
    }
    let k = r.to_frac - r.from_frac;
    if k < 0 && matches!(r.overflow, Overflow::Sat | Overflow::SatSym) {
        let v = shift_round_saturate(b, x, (-k) as u32, r.round, r.lo, r.hi);
        return narrow(b, v, out_lo.min(v.lo.max(out_lo)), out_hi.max(v.hi.min(out_hi)));
    }
    let v = if k >= 0 {
        let k = k as u32;
        if k == 0 {
            x
        } else {
            b.op("shl", &[x], x.lo << k, x.hi << k, 0.0, |s| Expr::Shl(s[0], k))
        }
    } else {
        shift_round(b, x, (-k) as u32, r.round)
    };
    let v = match r.overflow {
        Overflow::Sat | Overflow::SatSym => saturate(b, v, r.lo, r.hi),
        Overflow::Wrap => {
            if v.lo >= r.lo && v.hi <= r.hi {
                v
            } else {
                let w = bits_for(r.lo, r.hi);
                let (lo, hi) =
                    if r.lo < 0 { (-(1i128 << (w - 1)), (1i128 << (w - 1)) - 1) } else { (0, (1i128 << w) - 1) };
                b.op("wrap", &[v], lo, hi, 0.0, |s| Expr::Ext(s[0]))
            }
        }
    };
    narrow(b, v, out_lo.min(v.lo.max(out_lo)), out_hi.max(v.hi.min(out_hi)))
}
