//! Linear layers as multiplier-free adder trees.
//!
//! Each coefficient is recoded in canonical signed digits (CSD: digits in {−1, 0, 1}, no two
//! adjacent non-zeros), so `c·x` becomes a few shifted copies of `x` (wiring) added or
//! subtracted; patterns shared between outputs are computed once (`cse`). All signed partial
//! terms of one output are summed by a tree balanced by level;
//! the bias joins at the root. Every adder is sized from the exact interval of its result.

use super::cse::Digit;
use crate::pipeline::{Builder, Ternary, Val};
use tachyon_quantize::config::Strategy;
use tachyon_quantize::fixed::bits_for;
use tachyon_rtl::{Addend, Expr, Fabric};

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
/// adder per extra signed digit, each about as wide as `x` and `c` together; a 4-bit or
/// narrower input is cheaper in LUTs either way. `auto` takes a DSP for five digits or more
/// when those adders would cost more LUTs than a DSP slice is worth ([`super::DSP_LUTS`]): a
/// trained model's few wide-ish coefficients stay in LUTs (0 DSPs), a float model's 16-bit
/// weights on 16-bit inputs go to DSPs.
fn on_dsp(strategy: Strategy, c: i128, digits: usize, x: &Val) -> bool {
    let adder_luts = (digits as u64).saturating_sub(1) * u64::from(x.width() + bits_for(c.abs(), c.abs()));
    x.width() > 4
        && match strategy {
            Strategy::Auto => digits >= 5 && adder_luts > super::DSP_LUTS,
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
#[derive(Clone, Default)]
struct Row {
    terms: Vec<Term>,
}

/// `±base · 2^shift`, whose low `zeros` bits are known to be 0 (`zeros ≥ shift`).
#[derive(Clone, Copy)]
struct Term {
    base: Val,
    shift: u32,
    neg: bool,
    zeros: u32,
}

impl Term {
    fn of(v: Val) -> Term {
        Term { base: v, shift: 0, neg: false, zeros: 0 }
    }
    /// Range of `base · 2^shift` (the sign not applied).
    fn range(&self) -> (i128, i128) {
        (self.base.lo << self.shift, self.base.hi << self.shift)
    }
    fn width(&self) -> u32 {
        let (lo, hi) = self.range();
        bits_for(lo, hi)
    }
    /// The signed-range value `base · 2^shift` as a netlist value (a shift is wiring).
    fn value(&self, b: &mut Builder) -> Val {
        shifted(b, self.base, self.shift)
    }
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
            if on_dsp(strategy, c, d.len(), &x) {
                let (p, neg) = multiply(b, x, c);
                out[i].terms.push(Term { base: p, shift: 0, neg, zeros: c.trailing_zeros() });
            } else {
                digits[i].extend(d.into_iter().map(|(shift, neg)| Digit { var: j as usize, shift, neg }));
            }
        }
    }
    let ranges: Vec<(i128, i128)> = xs.iter().map(|x| (x.lo, x.hi)).collect();
    let plan = b.plans.plan(&ranges, digits);
    let mut vars: Vec<Val> = xs.to_vec();
    for s in &plan.shared {
        let (x, y) = (vars[s.a], shifted(b, vars[s.b], s.d));
        vars.push(add(b, x, y, s.neg));
    }
    for (r, row) in out.iter_mut().zip(&plan.rows) {
        for d in row {
            r.terms.push(Term { base: vars[d.var], shift: d.shift, neg: d.neg, zeros: d.shift });
        }
    }
    finish_rows(b, out, bias)
}

/// Terms arriving within this much of the earliest one count as ready together, and are paired
/// to minimize LUTs rather than strictly by arrival.
const READY_SLACK_PS: u32 = 150;

/// At most this many ready terms are searched for the cheapest pair.
const PAIR_SEARCH: usize = 24;

/// The combined value of two terms: `a + b`, `a − b`, `b − a` or `−(a + b)`.
fn pair_range(p: &Term, q: &Term) -> (i128, i128, bool) {
    let ((alo, ahi), (clo, chi)) = (p.range(), q.range());
    match (p.neg, q.neg) {
        (false, false) | (true, true) => (alo + clo, ahi + chi, p.neg),
        (false, true) => (alo - chi, ahi - clo, false),
        (true, false) => (clo - ahi, chi - alo, false),
    }
}

/// LUTs of the adder combining `p` and `q`: the bit positions where both vary, a signed
/// operand varying up to the result's top bit (its sign extension).
fn pair_cost(p: &Term, q: &Term) -> u32 {
    let (lo, hi, _) = pair_range(p, q);
    let w = bits_for(lo, hi);
    let span = |t: &Term| (t.zeros, if t.range().0 < 0 { w } else { t.width().min(w) });
    let ((a0, a1), (b0, b1)) = (span(p), span(q));
    a1.min(b1).saturating_sub(a0.max(b0))
}

fn combine(b: &mut Builder, p: Term, q: Term) -> Term {
    let (x, y) = (p.value(b), q.value(b));
    let (v, neg) = match (p.neg, q.neg) {
        (false, false) => (add(b, x, y, false), false),
        (false, true) => (add(b, x, y, true), false),
        (true, false) => (add(b, y, x, true), false),
        (true, true) => (add(b, x, y, false), true),
    };
    Term { base: v, shift: 0, neg, zeros: p.zeros.min(q.zeros) }
}

/// The ternary adder over three terms, relative to their lowest shift `k`: the addends
/// `(base, shift − k, negated)`, the result range and whether the signs were flipped (the term
/// is then the negated sum). They are flipped when all three are subtracted (the adder negates
/// at most two), and, when `may_flip` (a term that is added stays in the tree to subtract the
/// negated sum from, at no cost), when that makes the lowest addend positive so its low bits
/// pass through. Otherwise a negated sum would need a negation of its own at the root.
/// `None` when an addend would shift past the result's width.
fn triple(ts: [&Term; 3], may_flip: bool) -> Option<Triple> {
    let (k, flip) = lowest_and_flip(ts, may_flip);
    let (mut lo, mut hi) = (0i128, 0i128);
    let addends = ts.map(|t| {
        let (s, neg, alo, ahi) = addend(t, k, flip);
        lo += alo;
        hi += ahi;
        (t.base, s, neg)
    });
    let w = bits_for(lo, hi);
    addends.iter().all(|a| a.1 < w).then_some(Triple { addends, lo, hi, shift: k, flipped: flip })
}

/// The lowest shift of a ternary adder over `ts` and whether [`triple`] flips its signs.
fn lowest_and_flip(ts: [&Term; 3], may_flip: bool) -> (u32, bool) {
    let k = ts[0].zeros.min(ts[1].zeros).min(ts[2].zeros);
    let lowest_neg = ts.iter().map(|t| (t.zeros, t.neg)).min().expect("three terms").1;
    (k, ts.iter().all(|t| t.neg) || (may_flip && lowest_neg))
}

/// Term `t` as an addend of a ternary adder of lowest shift `k`, signs flipped by `flip`: its
/// shift relative to `k` (known low zeros become part of the shift, so they pass through
/// without logic), whether it is subtracted, and the range it adds to the sum.
fn addend(t: &Term, k: u32, flip: bool) -> (u32, bool, i128, i128) {
    let s = t.zeros - k;
    let neg = t.neg != flip;
    let (blo, bhi) = (t.base.lo << t.shift >> t.zeros, t.base.hi << t.shift >> t.zeros);
    if neg {
        (s, neg, -(bhi << s), -(blo << s))
    } else {
        (s, neg, blo << s, bhi << s)
    }
}

/// A ternary adder planned by [`triple`].
struct Triple {
    /// `(value, shift, negated)` per addend, shifts relative to `shift`.
    addends: [(Val, u32, bool); 3],
    lo: i128,
    hi: i128,
    /// The lowest shift, factored out of the sum.
    shift: u32,
    /// The signs were flipped: the term is the negated sum.
    flipped: bool,
}

/// LUTs of the ternary adder over three terms: its bits from the second-lowest shift up
/// ([`Addend::logic_start`] of the adder [`triple`] plans; `u32::MAX` where it plans none).
/// The trees' inner loop (every triple of up to [`PAIR_SEARCH`] ready terms per adder), so it
/// computes only the range and the addends' (shift, sign) pairs.
fn triple_cost(ts: [&Term; 3], may_flip: bool) -> u32 {
    let (k, flip) = lowest_and_flip(ts, may_flip);
    let (mut lo, mut hi) = (0i128, 0i128);
    let mut order = [(0u32, false); 3];
    for (o, t) in order.iter_mut().zip(ts) {
        let (s, neg, alo, ahi) = addend(t, k, flip);
        lo += alo;
        hi += ahi;
        *o = (s, neg);
    }
    let w = bits_for(lo, hi);
    if order.iter().any(|a| a.0 >= w) {
        return u32::MAX;
    }
    order.sort_unstable();
    w - if order[0].1 { order[0].0 } else { order[1].0 }
}

/// `±p ± q ± r` on one ternary adder (see [`triple`]).
fn combine3(b: &mut Builder, ts: [Term; 3], may_flip: bool) -> Term {
    let Triple { addends, lo, hi, shift: k, flipped: flip } =
        triple([&ts[0], &ts[1], &ts[2]], may_flip).expect("checked by triple_cost");
    // Terms whose known zeros exceed their shift are read without those bits.
    let vals: Vec<Val> = ts
        .iter()
        .map(|t| {
            let drop = t.zeros - t.shift;
            if drop == 0 {
                return t.base;
            }
            let (lo, hi) = (t.base.lo >> drop, t.base.hi >> drop);
            b.op("shr", &[t.base], lo, hi, 0.0, |s| Expr::Shr(s[0], drop))
        })
        .collect();
    let d = crate::delay::add3(bits_for(lo, hi));
    let v = b.op("add3", &vals, lo, hi, d, |s| {
        Expr::Add3(std::array::from_fn(|i| Addend { sig: s[i], shift: addends[i].1, neg: addends[i].2 }))
    });
    Term { base: v, shift: k, neg: flip, zeros: k }
}

/// Whether a term outside `idx` is added (not subtracted): a negated sum of the terms at `idx`
/// can then be subtracted from it later, at no cost. `added` is the number of added terms in
/// the whole pool.
fn may_flip(pool: &[Term], added: usize, idx: [usize; 3]) -> bool {
    added > idx.iter().filter(|&&q| !pool[q].neg).count()
}

/// The cheapest ternary adder among the first `together` (at least 3) terms of the pool, by
/// index, and whether its signs may flip ([`may_flip`]). `None` when a binary adder should go first: a ternary adder is a LUT level slower,
/// so where it would overrun the clock and the pair of the two earliest terms would not, the
/// pair keeps the stage.
fn best_triple(b: &Builder, pool: &[Term], together: usize) -> Option<([usize; 3], bool)> {
    let n = together.max(3);
    let added = pool.iter().filter(|t| !t.neg).count();
    let mut best = (u32::MAX, [0, 1, 2]);
    for i in 0..n {
        for j in i + 1..n {
            for k in j + 1..n {
                let c = triple_cost([&pool[i], &pool[j], &pool[k]], may_flip(pool, added, [i, j, k]));
                if c < best.0 {
                    best = (c, [i, j, k]);
                }
            }
        }
    }
    if best.0 == u32::MAX {
        return None;
    }
    let [i, j, k] = best.1;
    let flip = may_flip(pool, added, best.1);
    let Triple { lo, hi, .. } = triple([&pool[i], &pool[j], &pool[k]], flip)?;
    let t3 =
        b.fits(&[pool[i].base, pool[j].base, pool[k].base], crate::delay::add3(bits_for(lo, hi)), bits_for(lo, hi));
    let (plo, phi, _) = pair_range(&pool[0], &pool[1]);
    let t2 = b.fits(&[pool[0].base, pool[1].base], crate::delay::add(bits_for(plo, phi)), bits_for(plo, phi));
    (t3 || !t2).then_some((best.1, flip))
}

/// `Σ vals + bias` as an arrival-ordered adder tree (see [`finish_row`]).
pub(crate) fn sum_values(b: &mut Builder, vals: Vec<Val>, bias: i128) -> Val {
    let terms = vals.into_iter().map(Term::of).collect();
    finish_rows(b, vec![Row { terms }], &[bias]).remove(0)
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
fn finish_rows(b: &mut Builder, rows: Vec<Row>, bias: &[i128]) -> Vec<Val> {
    let policy = if b.m.fabric == Fabric::UltraScale { b.ternary } else { Ternary::Off };
    let mut out = vec![];
    for (r, &k) in rows.into_iter().zip(bias) {
        let v = match policy {
            Ternary::Off => build_row(b, r, k, usize::MAX),
            Ternary::Greedy => build_row(b, r, k, 3),
            Ternary::NoLater(slack) => {
                let mark = b.mark();
                let binary = build_row(b, r.clone(), k, usize::MAX);
                let goal = (binary.stage, binary.delay_ps + slack);
                let mut done = None;
                for from in [3, 5, 9] {
                    b.rollback(&mark);
                    let v = build_row(b, r.clone(), k, from);
                    if (v.stage, v.delay_ps) <= goal {
                        done = Some(v);
                        break;
                    }
                }
                done.unwrap_or_else(|| {
                    b.rollback(&mark);
                    build_row(b, r, k, usize::MAX)
                })
            }
        };
        out.push(v);
    }
    out
}

/// One row's tree (see [`finish_rows`]) with ternary adders while at least `ternary_from` terms are left.
fn build_row(b: &mut Builder, r: Row, bias: i128, ternary_from: usize) -> Val {
    let ready = |t: &Term| (t.base.stage.unwrap_or(0), t.base.delay_ps);
    // Constant terms (from constant inputs) join the bias: no adder sums constants.
    let (consts, mut pool): (Vec<Term>, Vec<Term>) = r.terms.into_iter().partition(|t| t.base.lo == t.base.hi);
    let bias = consts.iter().fold(bias, |k, t| {
        let v = t.base.lo << t.shift;
        if t.neg {
            k - v
        } else {
            k + v
        }
    });
    if pool.is_empty() {
        return b.constant(bias);
    }
    if bias != 0 {
        // Onto the earliest term (as `bias − v` when that term is subtracted).
        let i = (0..pool.len()).min_by_key(|&i| (ready(&pool[i]), pool[i].width(), i)).expect("non-empty");
        let t = pool[i];
        let k = b.constant(bias);
        let x = t.value(b);
        let v = if t.neg { add(b, k, x, true) } else { add(b, x, k, false) };
        pool[i] = Term { base: v, shift: 0, neg: false, zeros: t.zeros.min(bias.trailing_zeros()) };
    } else if pool.len() > 1 && pool.iter().all(|t| t.neg) {
        // Every term subtracted and no bias to subtract them from: negate the narrowest term
        // (an adder of its width) rather than the whole sum at the end (one of the sum's width,
        // after the tree); the rest is subtracted from it.
        let i = (0..pool.len()).min_by_key(|&i| (pool[i].base.width(), ready(&pool[i]), i)).expect("non-empty");
        let t = pool[i];
        pool[i] = Term { base: negate(b, t.base), neg: false, ..t };
    }
    while pool.len() > 1 {
        pool.sort_by_key(|t| (ready(t), t.width()));
        let (s0, d0) = ready(&pool[0]);
        let together =
            pool.iter().take(PAIR_SEARCH).take_while(|t| ready(t).0 == s0 && ready(t).1 <= d0 + READY_SLACK_PS).count();
        if pool.len() >= ternary_from {
            if let Some((ts, flip)) = best_triple(b, &pool, together) {
                let i = ts.map(|i| pool[i]);
                let mut idx = ts;
                idx.sort_unstable();
                for &k in idx.iter().rev() {
                    pool.remove(k);
                }
                pool.push(combine3(b, i, flip));
                continue;
            }
        }
        let n = together.max(2);
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
    let v = t.value(b);
    if t.neg {
        negate(b, v)
    } else {
        v
    }
}

/// `0 − v`.
fn negate(b: &mut Builder, v: Val) -> Val {
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

/// Adder trees under every ternary policy: random constant matrices (2–16-bit coefficients,
/// signed and unsigned inputs of 2–16 bits, up to 64 × 64) give exactly the naive dot product
/// for random and extreme inputs on the netlist simulator, and the pipelined netlists verify.
#[cfg(test)]
mod ternary_props {
    use super::{bits_for, lower_linear, Builder, Expr, Fabric, Ternary, Val};
    use proptest::prelude::*;
    use tachyon_quantize::config::Strategy as Mult;
    use tachyon_rtl::{Module, Sim};

    /// `(lo, hi)` of each input, the rows and the biases.
    type Layer = (Vec<(i128, i128)>, Vec<Vec<(u32, i128)>>, Vec<i128>);

    fn layer() -> impl Strategy<Value = Layer> {
        (1usize..65, 1usize..65, 2u32..17, 2u32..17).prop_flat_map(|(n, m, xw, cw)| {
            let input = (any::<bool>(), Just(xw)).prop_map(|(signed, w)| {
                if signed {
                    (-(1i128 << (w - 1)), (1i128 << (w - 1)) - 1)
                } else {
                    (0, (1i128 << w) - 1)
                }
            });
            let c = 1i128 << (cw - 1);
            let row = prop::collection::vec(prop_oneof![1 => Just(0i128), 4 => -c..c], n).prop_map(|cs| {
                cs.into_iter().enumerate().filter(|&(_, c)| c != 0).map(|(j, c)| (j as u32, c)).collect()
            });
            (prop::collection::vec(input, n), prop::collection::vec(row, m), prop::collection::vec(-c..c, m))
        })
    }

    fn check(l: &Layer, policy: Ternary, clock_ns: f64, vectors: &[Vec<i128>]) {
        let (ranges, rows, bias) = l;
        let mut m = Module::new("dut");
        m.fabric = Fabric::UltraScale;
        m.add_clock();
        let ins: Vec<_> = ranges
            .iter()
            .enumerate()
            .map(|(i, &(lo, hi))| (m.add_input(&format!("x{i}"), bits_for(lo, hi), lo < 0), lo, hi))
            .collect();
        let mut b = Builder::new(m, clock_ns);
        b.ternary = policy;
        let xs: Vec<Val> = ins.iter().map(|&(s, lo, hi)| b.source(s, lo, hi)).collect();
        let ys = lower_linear(&mut b, &xs, rows, bias, Mult::Adders);
        let ys = b.register_all(&ys);
        let latency = ys.iter().filter_map(|v| v.stage).max().unwrap_or(0);
        let ys: Vec<Val> = ys.into_iter().map(|v| b.at_stage(v, latency)).collect();
        let outs: Vec<_> = ys
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let o = b.m.add_output(&format!("y{i}"), v.width(), v.signed());
                b.m.assign(o, Expr::Ext(v.sig));
                o
            })
            .collect();
        crate::fuse::fuse_ternary(&mut b.m);
        let module = tachyon_rtl::prune(b.m);
        tachyon_rtl::verify(&module).unwrap_or_else(|e| panic!("{policy:?}: {e}"));
        let mut sim = Sim::new(&module).expect("verifies");
        let port = |name: &str| *module.ports.iter().find(|&&p| module.signal(p).name == name).expect("port");
        let (inp, outp): (Vec<_>, Vec<_>) = (
            (0..ins.len()).map(|i| port(&format!("x{i}"))).collect(),
            (0..outs.len()).map(|i| port(&format!("y{i}"))).collect(),
        );
        let expect = |x: &[i128]| -> Vec<i128> {
            rows.iter().zip(bias).map(|(r, &k)| k + r.iter().map(|&(j, c)| c * x[j as usize]).sum::<i128>()).collect()
        };
        let mut got = vec![];
        for c in 0..vectors.len() + latency as usize {
            if let Some(v) = vectors.get(c) {
                for (&p, &x) in inp.iter().zip(v) {
                    sim.set_input(p, x);
                }
            }
            sim.eval();
            if c >= latency as usize {
                got.push(outp.iter().map(|&o| sim.get(o)).collect::<Vec<_>>());
            }
            sim.step();
        }
        for (v, g) in vectors.iter().zip(&got) {
            assert_eq!(g, &expect(v), "{policy:?} at {clock_ns} ns, x = {v:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
        #[test]
        fn adder_trees_are_exact_under_every_ternary_policy(l in layer(), seed in any::<u64>()) {
            let (ranges, _, _) = &l;
            // The corners (all low, all high, alternating) and pseudo-random vectors.
            let mut vectors: Vec<Vec<i128>> = vec![
                ranges.iter().map(|r| r.0).collect(),
                ranges.iter().map(|r| r.1).collect(),
                ranges.iter().enumerate().map(|(i, r)| if i % 2 == 0 { r.0 } else { r.1 }).collect(),
            ];
            let mut s = seed | 1;
            for _ in 0..12 {
                vectors.push(ranges.iter().map(|&(lo, hi)| {
                    s ^= s << 13; s ^= s >> 7; s ^= s << 17;
                    lo + (s % ((hi - lo + 1) as u64)) as i128
                }).collect());
            }
            for policy in [Ternary::Off, Ternary::Greedy, Ternary::NoLater(0), Ternary::NoLater(400)] {
                for clock in [5.0, 1.5] {
                    check(&l, policy, clock, &vectors);
                }
            }
        }
    }
}
