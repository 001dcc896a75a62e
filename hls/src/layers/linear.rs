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
    let p = b.multiply(x, cv, lo, hi);
    (shifted(b, p, k), neg)
}

/// The signed partial terms of one output and a constant.
#[derive(Default)]
struct Row {
    terms: Vec<Term>,
}

/// `±v`, whose low `zeros` bits are known to be 0.
#[derive(Clone, Copy)]
struct Term {
    v: Val,
    neg: bool,
    zeros: u32,
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
                out[i].terms.push(Term { v: p, neg, zeros: c.trailing_zeros() });
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
            r.terms.push(Term { v, neg: d.neg, zeros: d.shift });
        }
    }
    out.into_iter().zip(bias).map(|(r, &bb)| finish_row(b, r, bb)).collect()
}

/// Terms arriving within this much of the earliest one count as ready together, and are paired
/// to minimize LUTs rather than strictly by arrival.
const READY_SLACK_PS: u32 = 150;

/// At most this many ready terms are searched for the cheapest pair.
const PAIR_SEARCH: usize = 24;

/// The combined value of two terms: `a + b`, `a − b`, `b − a` or `−(a + b)`.
fn pair_range(p: &Term, q: &Term) -> (i128, i128, bool) {
    let (a, c) = (p.v, q.v);
    match (p.neg, q.neg) {
        (false, false) | (true, true) => (a.lo + c.lo, a.hi + c.hi, p.neg),
        (false, true) => (a.lo - c.hi, a.hi - c.lo, false),
        (true, false) => (c.lo - a.hi, c.hi - a.lo, false),
    }
}

/// LUTs of the adder combining `p` and `q`: the bit positions where both vary, a signed
/// operand varying up to the result's top bit (its sign extension).
fn pair_cost(p: &Term, q: &Term) -> u32 {
    let (lo, hi, _) = pair_range(p, q);
    let w = bits_for(lo, hi);
    let span = |t: &Term| (t.zeros, if t.v.lo < 0 { w } else { t.v.width().min(w) });
    let ((a0, a1), (b0, b1)) = (span(p), span(q));
    a1.min(b1).saturating_sub(a0.max(b0))
}

fn combine(b: &mut Builder, p: Term, q: Term) -> Term {
    let (v, neg) = match (p.neg, q.neg) {
        (false, false) => (add(b, p.v, q.v, false), false),
        (false, true) => (add(b, p.v, q.v, true), false),
        (true, false) => (add(b, q.v, p.v, true), false),
        (true, true) => (add(b, p.v, q.v, false), true),
    };
    Term { v, neg, zeros: p.zeros.min(q.zeros) }
}

/// `Σ vals + bias` as an arrival-ordered adder tree (see [`finish_row`]).
pub(crate) fn sum_values(b: &mut Builder, vals: Vec<Val>, bias: i128) -> Val {
    let terms = vals.into_iter().map(|v| Term { v, neg: false, zeros: 0 }).collect();
    finish_row(b, Row { terms }, bias)
}

/// `Σ ±terms + bias` for one output, as a tree built by arrival time: among the terms ready
/// first (within [`READY_SLACK_PS`] of the earliest), the pair whose adder costs the fewest
/// LUTs is combined, so late operands meet short remaining chains and the pipeline stays
/// shallow while the operands of each adder stay aligned. Results stay positive where possible
/// (`a + b`, `a − b`, `b − a`; only two subtrahends make a negated sum). The bias rides on the
/// earliest term: a constant addend costs no LUTs, and off the critical path no time.
///
/// Values are kept in two's complement with explicit sign extension rather than as unsigned
/// values plus offsets: the latter saves the sign-extension LUTs on paper, but yosys' `alumacc`
/// then merges every fan-out-1 chain of zero-extended additions into one multi-operand `$macc`,
/// which it maps to a carry-save tree of LUTs at about twice the cost of the carry chains.
fn finish_row(b: &mut Builder, r: Row, bias: i128) -> Val {
    let ready = |t: &Term| (t.v.stage.unwrap_or(0), t.v.delay_ps);
    let mut pool: Vec<Term> = r.terms;
    if pool.is_empty() {
        return b.constant(bias);
    }
    if bias != 0 {
        // Onto the earliest term (as `bias − v` when that term is subtracted).
        let i = (0..pool.len()).min_by_key(|&i| (ready(&pool[i]), pool[i].v.width(), i)).expect("non-empty");
        let t = pool[i];
        let k = b.constant(bias);
        let v = if t.neg { add(b, k, t.v, true) } else { add(b, t.v, k, false) };
        pool[i] = Term { v, neg: false, zeros: t.zeros.min(bias.trailing_zeros()) };
    }
    while pool.len() > 1 {
        pool.sort_by_key(|t| (ready(t), t.v.width()));
        let (s0, d0) = ready(&pool[0]);
        let n = pool
            .iter()
            .take(PAIR_SEARCH)
            .take_while(|t| ready(t).0 == s0 && ready(t).1 <= d0 + READY_SLACK_PS)
            .count()
            .max(2);
        let mut best = (u32::MAX, 0, 1);
        for i in 0..n {
            for j in i + 1..n {
                let c = pair_cost(&pool[i], &pool[j]);
                if c < best.0 {
                    best = (c, i, j);
                }
            }
        }
        let (_, i, j) = best;
        let (p, q) = (pool[i], pool[j]);
        pool.remove(j);
        pool.remove(i);
        pool.push(combine(b, p, q));
    }
    let t = pool[0];
    if !t.neg {
        return t.v;
    }
    let z = b.constant(0);
    add(b, z, t.v, true)
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
