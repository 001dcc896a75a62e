//! Linear layers as multiplier-free adder trees.
//!
//! Each coefficient is recoded in canonical signed digits (CSD: digits in {−1, 0, 1}, no two
//! adjacent non-zeros), so `c·x` becomes a few shifted copies of `x` (wiring) added or
//! subtracted; patterns shared between outputs are computed once (`cse`). All signed partial
//! terms of one output are summed by a tree balanced by level;
//! the bias joins at the root. Every adder is sized from the exact interval of its result.

use super::cse::{self, Digit};
use crate::pipeline::{Builder, Val};
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

/// A partial term: ±value.
#[derive(Clone, Copy)]
struct Term {
    v: Val,
    neg: bool,
}

fn shifted(b: &mut Builder, x: Val, k: u32) -> Val {
    if k == 0 {
        return x;
    }
    let (lo, hi) = (x.lo << k, x.hi << k);
    b.op("shl", &[x], lo, hi, 0.0, |s| Expr::Shl(s[0], k))
}

fn combine(b: &mut Builder, p: Term, q: Term) -> Term {
    // Keep the result positive where possible: a + b, a − b, b − a, −(a + b).
    let (a, c, neg, sub) = match (p.neg, q.neg) {
        (false, false) => (p.v, q.v, false, false),
        (false, true) => (p.v, q.v, false, true),
        (true, false) => (q.v, p.v, false, true),
        (true, true) => (p.v, q.v, true, false),
    };
    let (lo, hi) = if sub { (a.lo - c.hi, a.hi - c.lo) } else { (a.lo + c.lo, a.hi + c.hi) };
    let w = bits_for(lo, hi);
    let v = if sub {
        b.op("sub", &[a, c], lo, hi, crate::delay::add(w), |s| Expr::Sub(s[0], s[1]))
    } else {
        b.op("add", &[a, c], lo, hi, crate::delay::add(w), |s| Expr::Add(s[0], s[1]))
    };
    Term { v, neg }
}

/// Coefficients with at least this many non-zero CSD digits are multiplied in a DSP slice
/// instead of an adder chain (a shift-add chain of 4+ terms costs more LUTs than it saves).
pub const DSP_MIN_DIGITS: usize = 4;

/// `c · x` on a multiplier (a DSP48E2 after synthesis).
fn multiply(b: &mut Builder, x: Val, c: i128) -> Term {
    let k = c.trailing_zeros();
    let odd = c >> k;
    let (neg, m) = (odd < 0, odd.abs());
    let cv = b.constant(m);
    let (lo, hi) = ((x.lo * m).min(x.hi * m), (x.lo * m).max(x.hi * m));
    let p = b.op("mul", &[x, cv], lo, hi, crate::delay::multiply(x.width(), cv.width()), |s| Expr::Mul(s[0], s[1]));
    Term { v: shifted(b, p, k), neg }
}

/// All outputs of a linear layer: `bias_i + Σ c·x[j]` over each row. Coefficients with many
/// CSD digits go to multipliers; the digit terms of all rows go through common-subexpression
/// elimination ([`super::cse`]) so patterns shared between outputs are computed once.
pub fn lower_linear(b: &mut Builder, xs: &[Val], rows: &[Vec<(u32, i128)>], bias: &[i128]) -> Vec<Val> {
    let mut products: Vec<Vec<Term>> = vec![vec![]; rows.len()];
    let mut digits: Vec<Vec<Digit>> = vec![vec![]; rows.len()];
    for (i, row) in rows.iter().enumerate() {
        for &(j, c) in row {
            let x = xs[j as usize];
            if x.lo == 0 && x.hi == 0 {
                continue;
            }
            let d = csd(c);
            if d.len() >= DSP_MIN_DIGITS && x.width() > 4 {
                products[i].push(multiply(b, x, c));
            } else {
                digits[i].extend(d.into_iter().map(|(shift, neg)| Digit { var: j as usize, shift, neg }));
            }
        }
    }
    let plan = cse::eliminate(xs.len(), digits);
    let mut vars: Vec<Val> = xs.to_vec();
    for s in &plan.shared {
        let (x, y) = (vars[s.a], shifted(b, vars[s.b], s.d));
        let t = combine(b, Term { v: x, neg: false }, Term { v: y, neg: s.neg });
        // `combine` keeps results positive unless both inputs are negative, which cannot happen here.
        debug_assert!(!t.neg);
        vars.push(t.v);
    }
    plan.rows
        .iter()
        .zip(products)
        .zip(bias)
        .map(|((row, prods), &bb)| {
            let mut terms = prods;
            terms.extend(row.iter().map(|d| Term { v: shifted(b, vars[d.var], d.shift), neg: d.neg }));
            sum_terms(b, terms, bb)
        })
        .collect()
}

/// Balanced tree over signed terms, with the bias joining at the root.
fn sum_terms(b: &mut Builder, mut terms: Vec<Term>, bias: i128) -> Val {
    if terms.is_empty() {
        return b.constant(bias);
    }
    while terms.len() > 1 {
        let mut next = Vec::with_capacity(terms.len().div_ceil(2));
        for pair in terms.chunks(2) {
            next.push(if pair.len() == 2 { combine(b, pair[0], pair[1]) } else { pair[0] });
        }
        terms = next;
    }
    let t = terms[0];
    if bias == 0 && !t.neg {
        return t.v;
    }
    let c = b.constant(bias);
    let (lo, hi) = if t.neg { (bias - t.v.hi, bias - t.v.lo) } else { (bias + t.v.lo, bias + t.v.hi) };
    let w = bits_for(lo, hi);
    if t.neg {
        b.op("sub", &[c, t.v], lo, hi, crate::delay::add(w), |s| Expr::Sub(s[0], s[1]))
    } else {
        b.op("add", &[t.v, c], lo, hi, crate::delay::add(w), |s| Expr::Add(s[0], s[1]))
    }
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
