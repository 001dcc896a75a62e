//! Soundness (item 9 of [`crate::verify`]): what each layer can produce from its input
//! intervals, bounded in checked `i128` arithmetic, must lie inside its output intervals. Runs
//! after [`super::kinds`], so counts, indices and parameters are known to be in range.

use super::error::VerifyError;
use crate::fixed::{bits_for, Elem, Overflow};
use crate::interp::requant;
use crate::qir::{Layer, LayerKind};
use crate::round::shift_round;

/// Every output interval of `l` contains what the layer can produce: by interval arithmetic,
/// narrowed by the `relations` proven for its rows ([`crate::relations::max_differences`]).
pub(super) fn check(
    l: &Layer,
    xe: &[Elem],
    ye: &[Elem],
    relations: &[(Option<i128>, Option<i128>)],
) -> Result<(), VerifyError> {
    let kind = l.kind.mnemonic();
    let overflow = |element: usize| VerifyError::Overflow { layer: l.name.clone(), kind, element };
    let mut produced = produced(l, xe, ye.len()).map_err(overflow)?;
    for ((lo, hi), r) in produced.iter_mut().zip(relations) {
        *lo = r.0.map_or(*lo, |v| v.max(*lo));
        *hi = r.1.map_or(*hi, |v| v.min(*hi));
    }
    for (element, (&(lo, hi), e)) in produced.iter().zip(ye).enumerate() {
        if lo < e.lo || hi > e.hi {
            return Err(VerifyError::Unsound {
                layer: l.name.clone(),
                kind,
                element,
                lo,
                hi,
                type_lo: e.lo,
                type_hi: e.hi,
            });
        }
    }
    Ok(())
}

/// `(lo, hi)` the layer can produce for each of its `n` outputs; `Err(k)` when the bound of
/// output `k` leaves `i128`.
fn produced(l: &Layer, xe: &[Elem], n: usize) -> Result<Vec<(i128, i128)>, usize> {
    let span = |vals: &[i128]| (*vals.iter().min().unwrap_or(&0), *vals.iter().max().unwrap_or(&0));
    Ok(match &l.kind {
        LayerKind::Linear { rows, bias } => {
            let mut out = Vec::with_capacity(rows.len());
            for (k, (row, &b)) in rows.iter().zip(bias).enumerate() {
                let range = row.iter().try_fold((b, b), |(lo, hi), &(j, c)| {
                    let e = &xe[j as usize];
                    let (p, q) = (c.checked_mul(e.lo)?, c.checked_mul(e.hi)?);
                    Some((lo.checked_add(p.min(q))?, hi.checked_add(p.max(q))?))
                });
                out.push(range.ok_or(k)?);
            }
            out
        }
        LayerKind::Requant(rs) => rs
            .iter()
            .zip(xe)
            .map(|(r, e)| {
                let (a, b) = (requant(e.lo, r), requant(e.hi, r));
                // Wrap-around may fold the interval: then anything of the wrapped width.
                if r.overflow == Overflow::Wrap && (a > b || bits_for(a, b) > bits_for(r.lo, r.hi)) {
                    (r.lo.min(a), r.hi.max(b))
                } else {
                    (a.min(b), a.max(b))
                }
            })
            .collect(),
        LayerKind::Relu => xe.iter().map(|e| (e.lo.max(0), e.hi.max(0))).collect(),
        LayerKind::Threshold(ss) => ss.iter().map(|s| span(&s.values)).collect(),
        LayerKind::Lookup(t) => xe
            .iter()
            .take(n)
            .map(|e| {
                // The index is monotone in x: the entries between those of lo and hi.
                let len = t.entries.len() as i128;
                if len == 0 {
                    return (0, 0);
                }
                let at = |x: i128| (x >> t.shift.min(127)).saturating_sub(t.offset).clamp(0, len - 1) as usize;
                span(&t.entries[at(e.lo)..=at(e.hi.max(e.lo))])
            })
            .collect(),
        LayerKind::Softmax(s) => {
            // Non-negative tables: 0 ≤ e_i · r ≤ max exp · max 1/x.
            let (_, emax) = span(&s.exp_table);
            let (_, rmax) = span(&s.inv_table);
            let top = emax.checked_mul(rmax).ok_or(0usize)?;
            vec![(0, shift_round(top, s.out_shift, s.out_round)); n]
        }
        LayerKind::Gather(src) => src.iter().map(|&j| (xe[j as usize].lo, xe[j as usize].hi)).collect(),
        LayerKind::LayerNorm(s) => s.output_bounds(),
        LayerKind::Product(pairs) => {
            let mut out = Vec::with_capacity(pairs.len());
            for (k, &(a, b)) in pairs.iter().enumerate() {
                let (ea, eb) = (&xe[a as usize], &xe[b as usize]);
                let c = [
                    ea.lo.checked_mul(eb.lo),
                    ea.lo.checked_mul(eb.hi),
                    ea.hi.checked_mul(eb.lo),
                    ea.hi.checked_mul(eb.hi),
                ];
                let c: Option<Vec<i128>> = c.into_iter().collect();
                out.push(span(&c.ok_or(k)?));
            }
            out
        }
        LayerKind::Max(sets) => sets
            .iter()
            .map(|set| {
                let lo = set.iter().map(|&j| xe[j as usize].lo).max().unwrap_or(0);
                let hi = set.iter().map(|&j| xe[j as usize].hi).max().unwrap_or(0);
                (lo, hi)
            })
            .collect(),
    })
}
