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

pub fn softmax(b: &mut Builder, xs: &[Val], s: &SoftmaxSpec) -> Vec<Val> {
    let m = tree(b, xs.to_vec(), &mut max2);
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
