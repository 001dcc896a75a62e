//! Linear layers as multiplier-free adder trees.
//!
//! Each coefficient is recoded in canonical signed digits (CSD: digits in {−1, 0, 1}, no two
//! adjacent non-zeros), so `c·x` becomes a few shifted copies of `x` (wiring) added or
//! subtracted; patterns shared between outputs are computed once (`cse`). All signed partial
//! terms of one output are summed by a tree balanced by level;
//! the bias joins at the root. Every adder is sized from the exact interval of its result.

use super::cse::{self, Digit};
use crate::pipeline::{Builder, Val};
use tachyon_quantize::config::Strategy;
use tachyon_quantize::fixed::bits_for;
use tachyon_rtl::Expr;

/// Canonical signed-digit recoding: `c = Σ d·2^k` with `d ∈ {−1, 1}`; returns `(k, negative)`.
pub fn csd(c: i128) -> Vec<(u32, bool)> {
    let mut out = vec![];
    let mut v = c;
    let mut k = 0u32;
    while v != 0 {
        if v & 1 != 0 {
            // Remainder mod 4 decides the digit: 1 → +1, 3 → −1.
            let d: i128 = if v.rem_euclid(4) == 3 { -1 } else { 1 };
            out.push((k, d < 0));
            v -= d;
        }
        v >>= 1;
        k += 1;
    }
    out
}

fn shifted(b: &mut Builder, x: Val, k: u32) -> Val {
    if k == 0 {
        return x;
    }
    let (lo, hi) = (x.lo << k, x.hi << k);
    b.op("shl", &[x], lo, hi, 0.0, |s| Expr::Shl(s[0], k))
}

/// `x + y` or `x − y` sized by the exact result interval.
fn add(b: &mut Builder, x: Val, y: Val, sub: bool) -> Val {
    let (lo, hi) = if sub { (x.lo - y.hi, x.hi - y.lo) } else { (x.lo + y.lo, x.hi + y.hi) };
    let d = crate::delay::add(bits_for(lo, hi));
    if sub {
        b.op("sub", &[x, y], lo, hi, d, |s| Expr::Sub(s[0], s[1]))
    } else {
        b.op("add", &[x, y], lo, hi, d, |s| Expr::Add(s[0], s[1]))
    }
}

/// Whether `c · x` goes to a DSP multiplier under `strategy`. A shift-add chain costs one
/// adder per extra signed digit; a 4-bit or narrower input is cheaper in LUTs either way.
fn on_dsp(strategy: Strategy, digits: usize, x: &Val) -> bool {
    x.width() > 4
        && match strategy {
            Strategy::Auto => digits >= 5,
            Strategy::Adders => false,
            Strategy::Dsp => digits >= 2,
        }
}

/// `c · x` on a multiplier (a DSP48E2 after synthesis), as a signed term.
fn multiply(b: &mut Builder, x: Val, c: i128) -> (Val, bool) {
    let k = c.trailing_zeros();
    let odd = c >> k;
    let (neg, m) = (odd < 0, odd.abs());
    let cv = b.constant(m);
    let (lo, hi) = ((x.lo * m).min(x.hi * m), (x.lo * m).max(x.hi * m));
    let p = b.op("mul", &[x, cv], lo, hi, crate::delay::multiply(x.width(), cv.width()), |s| Expr::Mul(s[0], s[1]));
    (shifted(b, p, k), neg)
}

/// The signed partial terms of one output and a constant.
#[derive(Default)]
struct Row {
    terms: Vec<(Val, bool)>,
}

/// All outputs of a linear layer: `bias_i + Σ c·x[j]` over each row. Coefficients with many
/// CSD digits go to multipliers; the digit terms of all rows go through common-subexpression
/// elimination ([`super::cse`]) so patterns shared between outputs are computed once.
pub fn lower_linear(
    b: &mut Builder,
    xs: &[Val],
    rows: &[Vec<(u32, i128)>],
    bias: &[i128],
    strategy: Strategy,
) -> Vec<Val> {
    let mut out: Vec<Row> = (0..rows.len()).map(|_| Row::default()).collect();
    let mut digits: Vec<Vec<Digit>> = vec![vec![]; rows.len()];
    for (i, row) in rows.iter().enumerate() {
        for &(j, c) in row {
            let x = xs[j as usize];
            if x.lo == 0 && x.hi == 0 {
                continue;
            }
            let d = csd(c);
            if on_dsp(strategy, d.len(), &x) {
                let (p, neg) = multiply(b, x, c);
                out[i].terms.push((p, neg));
            } else {
                digits[i].extend(d.into_iter().map(|(shift, neg)| Digit { var: j as usize, shift, neg }));
            }
        }
    }
    let ranges: Vec<(i128, i128)> = xs.iter().map(|x| (x.lo, x.hi)).collect();
    let plan = cse::eliminate(&ranges, digits);
    let mut vars: Vec<Val> = xs.to_vec();
    for s in &plan.shared {
        let (x, y) = (vars[s.a], shifted(b, vars[s.b], s.d));
        vars.push(add(b, x, y, s.neg));
    }
    for (r, row) in out.iter_mut().zip(&plan.rows) {
        for d in row {
            let v = shifted(b, vars[d.var], d.shift);
            r.terms.push((v, d.neg));
        }
    }
    out.into_iter().zip(bias).map(|(r, &bb)| finish_row(b, r, bb)).collect()
}

/// `Σ ±terms + bias` for one output. The two earliest-ready terms (ties: the narrower) are
/// combined first, so late operands meet short remaining chains and the pipeline stays shallow.
/// Results stay positive where possible (`a + b`, `a − b`, `b − a`; only two subtrahends make a
/// negated sum). The bias rides on the earliest term: a constant addend costs no LUTs, and off
/// the critical path no time.
///
/// Values are kept in two's complement with explicit sign extension rather than as unsigned
/// values plus offsets: the latter saves the sign-extension LUTs on paper, but yosys' `alumacc`
/// then merges every fan-out-1 chain of zero-extended additions into one multi-operand `$macc`,
/// which it maps to a carry-save tree of LUTs at about twice the cost of the carry chains.
fn finish_row(b: &mut Builder, r: Row, bias: i128) -> Val {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let key = |v: &Val| (v.stage.unwrap_or(0), v.delay_ps, v.width());
    let mut pool: Vec<(Val, bool)> = r.terms;
    if pool.is_empty() {
        return b.constant(bias);
    }
    if bias != 0 {
        // Onto the earliest term (as `bias − v` when that term is subtracted).
        let i = (0..pool.len()).min_by_key(|&i| (key(&pool[i].0), i)).expect("non-empty");
        let (v, neg) = pool[i];
        let k = b.constant(bias);
        pool[i] = (if neg { add(b, k, v, true) } else { add(b, v, k, false) }, false);
    }
    let mut heap: BinaryHeap<Reverse<((u32, u32, u32), usize)>> =
        pool.iter().enumerate().map(|(i, (v, _))| Reverse((key(v), i))).collect();
    while heap.len() > 1 {
        let Reverse((_, i)) = heap.pop().expect("two left");
        let Reverse((_, j)) = heap.pop().expect("two left");
        let ((x, xn), (y, yn)) = (pool[i], pool[j]);
        let (s, neg) = match (xn, yn) {
            (false, false) => (add(b, x, y, false), false),
            (false, true) => (add(b, x, y, true), false),
            (true, false) => (add(b, y, x, true), false),
            (true, true) => (add(b, x, y, false), true),
        };
        heap.push(Reverse((key(&s), pool.len())));
        pool.push((s, neg));
    }
    let Reverse((_, i)) = heap.pop().expect("one left");
    let (v, neg) = pool[i];
    if !neg {
        return v;
    }
    let z = b.constant(0);
    add(b, z, v, true)
}

#[cfg(test)]
mod tests {
    use super::csd;

    #[test]
    fn csd_reconstructs_and_has_no_adjacent_digits() {
        for c in -2000i128..2000 {
            let d = csd(c);
            let v: i128 = d.iter().map(|&(k, n)| if n { -(1i128 << k) } else { 1i128 << k }).sum();
            assert_eq!(v, c);
            assert!(d.windows(2).all(|w| w[1].0 > w[0].0 + 1), "{c}: {d:?}");
        }
    }
}
