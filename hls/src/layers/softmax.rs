//! The integer softmax of `tachyon_quantize::qir::SoftmaxSpec` in hardware: a comparator tree
//! for the maximum, subtractors, the exp ROM per element, an adder tree for the sum, the 1/x ROM,
//! one multiplier per element and a rounding shift.

use super::misc::table_at;
use super::requant::shift_round;
use crate::pipeline::{Builder, Val};
use tachyon_quantize::fixed::bits_for;
use tachyon_quantize::qir::SoftmaxSpec;
use tachyon_rtl::{CmpOp, Expr};

/// `max(p, q)`: a comparator and a mux, or a plain wire when the intervals already decide.
pub(crate) fn max2(b: &mut Builder, p: Val, q: Val) -> Val {
    if p.lo >= q.hi {
        return p;
    }
    if q.lo >= p.hi {
        return q;
    }
    let w = bits_for(p.lo.min(q.lo), p.hi.max(q.hi));
    let gt = b.op("gt", &[p, q], 0, 1, crate::delay::compare(w), |s| Expr::Cmp(CmpOp::Gt, s[0], s[1]));
    b.op("max", &[gt, p, q], p.lo.max(q.lo), p.hi.max(q.hi), crate::delay::mux(), |s| Expr::Mux {
        sel: s[0],
        t: s[1],
        f: s[2],
    })
}

/// Reduces `vs` (non-empty) pairwise, as a balanced tree.
pub(crate) fn tree(b: &mut Builder, mut vs: Vec<Val>, f: &mut dyn FnMut(&mut Builder, Val, Val) -> Val) -> Val {
    while vs.len() > 1 {
        let mut next = vec![];
        for pair in vs.chunks(2) {
            next.push(if pair.len() == 2 { f(b, pair[0], pair[1]) } else { pair[0] });
        }
        vs = next;
    }
    vs[0]
}

/// The maximum of 3 or 4 values in one step: all pairwise comparators at once, the winner's
/// index (the first value that is not below any other) as two bits, each a LUT of the
/// comparator flags, and a 4:1 multiplexer per bit (one LUT6). Comparators run in parallel, so
/// a 16-input maximum is two such steps instead of four comparator-and-multiplexer levels.
fn max4(b: &mut Builder, vs: &[Val]) -> Val {
    debug_assert!((3..=4).contains(&vs.len()));
    let n = vs.len();
    let w = bits_for(vs.iter().map(|v| v.lo).min().unwrap_or(0), vs.iter().map(|v| v.hi).max().unwrap_or(0));
    // ge[i][j] (i < j): v_i ≥ v_j.
    // ge[(i, j)], i < j: v_i ≥ v_j.
    let mut ge = std::collections::BTreeMap::new();
    for (i, &x) in vs.iter().enumerate() {
        for (j, &y) in vs.iter().enumerate().skip(i + 1) {
            let c = b.op("ge", &[x, y], 0, 1, crate::delay::compare(w), |s| Expr::Cmp(CmpOp::Ge, s[0], s[1]));
            ge.insert((i, j), c);
        }
    }
    // win_i: v_i > v_j for j < i and v_i ≥ v_j for j > i — exactly one holds.
    let win: Vec<Val> = (0..n)
        .map(|i| {
            let flags: Vec<Val> = (0..n)
                .filter(|&j| j != i)
                .map(|j| {
                    if i < j {
                        ge[&(i, j)]
                    } else {
                        let g = ge[&(j, i)];
                        b.op("lt", &[g], 0, 1, 0.0, |s| Expr::Not(s[0]))
                    }
                })
                .collect();
            flags[1..].iter().fold(flags[0], |a, &f| b.op("win", &[a, f], 0, 1, 0.0, |s| Expr::And(s[0], s[1])))
        })
        .collect();
    // The winner's index bits, win_1 ∨ win_3 and win_2 ∨ win_3: one LUT of the flags each.
    let lut = crate::delay::LUT_LEVEL_NS;
    let index_bit = |b: &mut Builder, x: Val| match win.get(3) {
        Some(&y) => b.op("idx", &[x, y], 0, 1, lut, |s| Expr::Or(s[0], s[1])),
        None => b.op("idx", &[x], 0, 1, lut, |s| Expr::Ext(s[0])),
    };
    let (bit0, bit1) = (index_bit(b, win[1]), index_bit(b, win[2]));
    let (lo, hi) = (vs.iter().map(|v| v.lo).max().unwrap_or(0), vs.iter().map(|v| v.hi).max().unwrap_or(0));
    let (alo, ahi) = (vs[0].lo.min(vs[1].lo), vs[0].hi.max(vs[1].hi));
    let low = b.op("m", &[bit0, vs[1], vs[0]], alo, ahi, 0.0, |s| Expr::Mux { sel: s[0], t: s[1], f: s[2] });
    let high = if n == 4 {
        let (blo, bhi) = (vs[2].lo.min(vs[3].lo), vs[2].hi.max(vs[3].hi));
        b.op("m", &[bit0, vs[3], vs[2]], blo, bhi, 0.0, |s| Expr::Mux { sel: s[0], t: s[1], f: s[2] })
    } else {
        vs[2]
    };
    let (ulo, uhi) = (low.lo.min(high.lo), low.hi.max(high.hi));
    let m = b.op("max", &[bit1, high, low], ulo, uhi, lut, |s| Expr::Mux { sel: s[0], t: s[1], f: s[2] });
    super::requant::narrow(b, m, lo.max(m.lo), hi.min(m.hi))
}

/// The maximum of `vs` (non-empty) by steps of [`max4`] (two values: [`max2`]).
fn max_tree(b: &mut Builder, mut vs: Vec<Val>) -> Val {
    while vs.len() > 1 {
        vs = vs
            .chunks(4)
            .map(|g| match g.len() {
                1 => g[0],
                2 => max2(b, g[0], g[1]),
                _ => max4(b, g),
            })
            .collect();
    }
    vs[0]
}

pub fn softmax(b: &mut Builder, xs: &[Val], s: &SoftmaxSpec) -> Vec<Val> {
    let m = max_tree(b, xs.to_vec());
    let es: Vec<Val> = xs
        .iter()
        .map(|&x| {
            let (lo, hi) = (0.max(m.lo - x.hi), m.hi - x.lo);
            let d = b.op("d", &[m, x], lo, hi, crate::delay::add(bits_for(lo, hi)), |sg| Expr::Sub(sg[0], sg[1]));
            table_at(b, d, s.exp_shift, 0, &s.exp_table)
        })
        .collect();
    let sum = tree(b, es.clone(), &mut |b, p, q| {
        let (lo, hi) = (p.lo + q.lo, p.hi + q.hi);
        b.op("sum", &[p, q], lo, hi, crate::delay::add(bits_for(lo, hi)), |sg| Expr::Add(sg[0], sg[1]))
    });
    let r = table_at(b, sum, s.inv_shift, s.inv_base >> s.inv_shift, &s.inv_table);
    // (sum − base) >> shift == (sum >> shift) − (base >> shift) because base is a multiple of 2^shift.
    debug_assert_eq!(s.inv_base % (1i128 << s.inv_shift), 0);
    es.iter()
        .map(|&e| {
            let (lo, hi) = (e.lo * r.lo, e.hi * r.hi);
            let p = b.multiply(e, r, lo, hi);
            shift_round(b, p, s.out_shift, s.out_round)
        })
        .collect()
}
