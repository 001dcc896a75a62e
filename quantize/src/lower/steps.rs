//! Step-function layers, and when a step function is really an affine requantization.
//!
//! A quantizer after float ops (a float scale, a batch norm, a float epilogue between two
//! quantizers) is resolved exactly into per-element step functions (`LayerKind::Threshold`).
//! Built as comparators, a step function costs one comparator and one multiplexer per level, in
//! a chain: fine for a few levels, ruinous for an 8-bit or 16-bit output (255 or 65,535 levels).
//! Most such functions are `clamp(⌊(M·x + B) / 2^k⌋, lo, hi)` for integers `M`, `B`, `k` — a
//! float scale between two quantizers is one — so [`steps_layer`] looks for that form and builds
//! it as a constant multiply and a requantization, which the interpreter and the RTL evaluate
//! exactly; the fit is checked against every level, so it equals the step function on every
//! integer input. Only what has no such form stays a comparator chain, up to [`MAX_LEVELS`].

use super::Lowerer;
use crate::error::QuantizeError;
use crate::fixed::{Elem, Overflow};
use crate::qir::{LayerKind, Requant, Steps, TensorId};
use crate::round::Round;
use tachyon_frontend::Node;

/// Step functions with more levels than this are looked at for an affine form.
const AFFINE_FROM: usize = 16;
/// Most levels one element's comparator chain may have.
pub(crate) const MAX_LEVELS: usize = 1024;
/// Largest shift `k` of an affine form (keeps `M·x + B` well inside i128 for 53-bit inputs).
const MAX_SHIFT: u32 = 60;

/// `clamp(⌊(m·x + b) / 2^k⌋, lo, hi)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Affine {
    pub m: i128,
    pub b: i128,
    pub k: u32,
    pub lo: i128,
    pub hi: i128,
}

impl Affine {
    #[cfg(test)]
    fn eval(&self, x: i128) -> i128 {
        ((self.m * x + self.b) >> self.k).clamp(self.lo, self.hi)
    }
}

/// The affine form of `s` over every integer (the smallest shift `k` that has one), or `None`.
///
/// `s` equals `clamp(g)` with `g = ⌊(M·x + B)/2^k⌋` everywhere iff it does at every threshold
/// `t` and at `t − 1` (both functions are monotone and constant between thresholds); each of
/// these points bounds `M·p + B` to an interval (only from one side at the clamped ends), so
/// for a given `M` the feasible `B` form an interval whose width is concave in `M`.
pub(crate) fn fit(s: &Steps) -> Option<Affine> {
    let v = &s.values;
    let (lo, hi) = (*v.iter().min()?, *v.iter().max()?);
    let n = s.thresholds.len();
    if n == 0 || !(v.windows(2).all(|w| w[0] < w[1]) || v.windows(2).all(|w| w[0] > w[1])) {
        return None;
    }
    // Points (p, target value).
    let mut pts: Vec<(i128, i128)> = Vec::with_capacity(2 * n);
    for (j, &t) in s.thresholds.iter().enumerate() {
        pts.push((t, v[j + 1]));
        pts.push((t - 1, v[j]));
    }
    let pmax = pts.iter().map(|p| p.0.unsigned_abs()).max().unwrap_or(0).max(1);
    let pbits = 128 - pmax.leading_zeros();
    let vmax = (hi - lo).unsigned_abs().max(lo.unsigned_abs()).max(hi.unsigned_abs()) + 1;
    let sbits = 128 - vmax.leading_zeros();
    // Only hull vertices can bind (see `solve`): a digital line's hull has few of them, so each
    // trial `M` costs a handful of points instead of two per level (a model with two 16-bit QDQ
    // quantizers: whole build 2.67 s → 0.57 s).
    let above: Vec<(i128, i128)> = hull(pts.iter().copied().filter(|p| p.1 != lo).collect(), true);
    let below: Vec<(i128, i128)> = hull(pts.iter().copied().filter(|p| p.1 != hi).collect(), false);
    let mut k_lo = 0u32;
    let mut k_hi = MAX_SHIFT.min(120u32.saturating_sub(pbits + sbits + 2));
    solve(&above, &below, hi - lo, k_hi)?;
    // Feasibility is monotone in k (M, B doubled); the smallest k gives the smallest constant.
    while k_lo < k_hi {
        let mid = (k_lo + k_hi) / 2;
        if solve(&above, &below, hi - lo, mid).is_some() {
            k_hi = mid;
        } else {
            k_lo = mid + 1;
        }
    }
    let (m, b) = solve(&above, &below, hi - lo, k_hi)?;
    Some(Affine { m, b, k: k_hi, lo, hi })
}

/// The upper (`upper`) or lower convex hull of `pts` (points `(p, t)`), left to right. The
/// largest `t·2^k − M·p` over all of `pts` is reached at a vertex of the upper hull, the
/// smallest at one of the lower hull, for every `M` (and `t ↦ t·2^k + c` keeps hulls).
fn hull(mut pts: Vec<(i128, i128)>, upper: bool) -> Vec<(i128, i128)> {
    // Per p only the extreme t matters.
    pts.sort_by_key(|&(p, t)| (p, if upper { -t } else { t }));
    pts.dedup_by_key(|q| q.0);
    let mut h: Vec<(i128, i128)> = Vec::with_capacity(pts.len());
    for q in pts {
        while let [.., a, b] = h[..] {
            // Cross product of (b − a) and (q − a): each term is below 2^(pbits + sbits + 2) of
            // `fit`, far inside i128 for inputs under 2^53 and any quantizer's codes.
            let cross = (b.0 - a.0) * (q.1 - a.1) - (b.1 - a.1) * (q.0 - a.0);
            if (upper && cross >= 0) || (!upper && cross <= 0) {
                h.pop();
            } else {
                break;
            }
        }
        h.push(q);
    }
    h
}

/// Some `(M, B)` for shift `k`, or `None`: `M·p + B ∈ [t·2^k, (t+1)·2^k − 1]` at every point
/// `(p, t)`, from below at the vertices `above` (the upper hull of the points whose `t` is not
/// the clamped minimum) and from above at `below` (the lower hull of those whose `t` is not the
/// clamped maximum). `span` = max − min of the values.
fn solve(above: &[(i128, i128)], below: &[(i128, i128)], span: i128, k: u32) -> Option<(i128, i128)> {
    let one = 1i128 << k;
    // The interval of B for a given M (empty when lo > hi).
    let range = |m: i128| -> (i128, i128) {
        let bl = above.iter().map(|&(p, t)| t * one - m * p).max().unwrap_or(i128::MIN);
        let bu = below.iter().map(|&(p, t)| (t + 1) * one - 1 - m * p).min().unwrap_or(i128::MAX);
        (bl, bu)
    };
    let gap = |m: i128| -> i128 {
        let (bl, bu) = range(m);
        if bl == i128::MIN || bu == i128::MAX {
            return i128::MAX / 4;
        }
        bu - bl
    };
    // |M| is at most the span per unit step times 2^k.
    let bound = (span.abs() + 1) * one;
    let (mut a, mut b) = (-bound, bound);
    // Ternary search for the maximum of the concave gap over the integers.
    while b - a > 2 {
        let m1 = a + (b - a) / 3;
        let m2 = b - (b - a) / 3;
        if gap(m1) < gap(m2) {
            a = m1 + 1;
        } else {
            b = m2;
        }
    }
    (a..=b).filter(|&m| gap(m) >= 0).map(|m| (m, range(m).0)).next()
}

/// Pushes the layer(s) computing step functions `table` of the elements of `base`, producing
/// elements `elems`: a multiply and a requantization where every element has an affine form
/// and some element has many levels, else a comparator chain (refused beyond [`MAX_LEVELS`]).
#[allow(clippy::too_many_arguments)]
pub(crate) fn steps_layer(
    l: &mut Lowerer,
    n: &Node,
    origin: Vec<String>,
    table: Vec<Steps>,
    base: TensorId,
    out_name: &str,
    out_shape: Vec<usize>,
    elems: Vec<Elem>,
) -> Result<TensorId, QuantizeError> {
    let most = table.iter().map(|s| s.thresholds.len()).max().unwrap_or(0);
    if most > AFFINE_FROM {
        let fits: Option<Vec<Affine>> = table.iter().map(fit).collect();
        if let Some(fits) = fits {
            let xe = l.elems(base).to_vec();
            let rows = (0..fits.len()).map(|i| vec![(i as u32, fits[i].m)]).collect();
            let bias = fits.iter().map(|f| f.b).collect();
            let mid: Vec<Elem> = fits
                .iter()
                .zip(&xe)
                .zip(&elems)
                .map(|((f, x), y)| {
                    let (a, b) = (f.m * x.lo + f.b, f.m * x.hi + f.b);
                    Elem::new(y.frac + f.k as i32, a.min(b), a.max(b))
                })
                .collect();
            let specs: Vec<Requant> = fits
                .iter()
                .zip(&elems)
                .map(|(f, y)| Requant {
                    from_frac: y.frac + f.k as i32,
                    to_frac: y.frac,
                    div: 1,
                    round: Round::Floor,
                    lo: f.lo,
                    hi: f.hi,
                    overflow: Overflow::Sat,
                })
                .collect();
            let t = l.push_layer(
                &format!("{}_affine", n.name),
                origin.clone(),
                LayerKind::Linear { rows, bias },
                base,
                out_name,
                out_shape.clone(),
                mid,
            );
            return Ok(l.push_layer(&n.name, origin, LayerKind::Requant(specs), t, out_name, out_shape, elems));
        }
    }
    if most > MAX_LEVELS {
        return Err(l.err(
            n,
            format!(
                "this quantizer is a step function of {most} levels of its input that is not an affine \
                 requantization; Tachyon builds such functions as comparators only up to {MAX_LEVELS} levels: \
                 use fewer output bits, or a power-of-two scale"
            ),
        ));
    }
    Ok(l.push_layer(&n.name, origin, LayerKind::Threshold(table), base, out_name, out_shape, elems))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps_of(f: impl Fn(i128) -> i128, lo: i128, hi: i128) -> Steps {
        let mut s = Steps { thresholds: vec![], values: vec![f(lo)] };
        for x in lo + 1..=hi {
            if f(x) != f(x - 1) {
                s.thresholds.push(x);
                s.values.push(f(x));
            }
        }
        s
    }

    #[test]
    fn a_float_scale_between_quantizers_is_affine() {
        // round-half-even((x · 0.03125095) / 2^-10) clamped to 16 bits, x in a 16-bit range.
        let r = f64::from(0.031_250_95_f32) * 1024.0;
        let f = |x: i128| ((x as f64) * r).round_ties_even().clamp(-32768.0, 32767.0) as i128;
        let s = steps_of(f, -11730, 20145);
        let a = fit(&s).expect("affine");
        for x in -11730..=20145 {
            assert_eq!(a.eval(x), f(x), "x = {x}");
        }
        // A saturating 8-bit quantizer of a 12-bit input, scaled by 0.37.
        let g = |x: i128| ((x as f64) * 0.37 + 3.5).floor().clamp(0.0, 255.0) as i128;
        let s = steps_of(g, -2048, 2047);
        let a = fit(&s).expect("affine");
        assert!(a.k <= 24, "{a:?}");
        for x in -2048..=2047 {
            assert_eq!(a.eval(x), g(x));
        }
        // Decreasing.
        let h = |x: i128| (-(x as f64) * 1.7).floor().clamp(-100.0, 100.0) as i128;
        let s = steps_of(h, -200, 200);
        let a = fit(&s).expect("affine");
        for x in -200..=200 {
            assert_eq!(a.eval(x), h(x));
        }
    }

    /// The extremes of `t·2^k − M·p` over the hull vertices equal those over every point.
    #[test]
    fn hull_vertices_bind_like_every_point() {
        let mut seed = 0x9e37_79b9_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n) as i128
        };
        for _ in 0..300 {
            let n = 1 + next(60) as usize;
            let pts: Vec<(i128, i128)> = (0..n).map(|_| (next(1 << 20) - (1 << 19), next(400) - 200)).collect();
            let (above, below) = (hull(pts.clone(), true), hull(pts.clone(), false));
            for _ in 0..20 {
                let (m, k) = (next(1 << 12) - (1 << 11), next(20) as u32);
                let f = |&(p, t): &(i128, i128)| (t << k) - m * p;
                assert_eq!(above.iter().map(f).max(), pts.iter().map(f).max(), "{pts:?}, M {m}");
                assert_eq!(below.iter().map(f).min(), pts.iter().map(f).min(), "{pts:?}, M {m}");
            }
        }
    }

    #[test]
    fn irregular_steps_have_no_affine_form() {
        // tanh-like: levels crowd in the middle.
        let f = |x: i128| ((x as f64 / 64.0).tanh() * 100.0).round() as i128;
        assert!(fit(&steps_of(f, -512, 511)).is_none());
        // Not monotone.
        assert!(fit(&Steps { thresholds: vec![0, 5], values: vec![0, 2, 1] }).is_none());
    }
}
