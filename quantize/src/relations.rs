//! Bounds that follow from how values relate, not from their intervals: the difference between
//! a maximum and one of the values it is the maximum of.
//!
//! A softmax subtracts the maximum of its inputs before the exponential table: `d_i = m − x_i`
//! with `m = max_j x_j`. Interval arithmetic sees two independent values and gives `d_i` the
//! span `[lo(m) − hi(x_i), hi(m) − lo(x_i)]`, half of it negative, so the table after it is
//! addressed by one bit more than it can ever need. But `x_i` is one of the values `m` is the
//! maximum of, so `d_i ≥ 0` always. [`max_differences`] proves such bounds for the rows of a
//! linear layer; the lowering narrows the element types with them ([`tighten`]) and the
//! verifier accepts exactly these bounds beyond the intervals (`verify::bounds`).

use crate::fixed::Elem;
use crate::lower::requant_elem;
use crate::qir::{Layer, LayerKind, QModel, TensorId};

/// The tensor and element that element `j` of a layer's concatenated inputs is.
fn element(m: &QModel, inputs: &[TensorId], mut j: usize) -> Option<(TensorId, usize)> {
    for &t in inputs {
        let n = m.tensor(t).elems.len();
        if j < n {
            return Some((t, j));
        }
        j -= n;
    }
    None
}

/// Whether the value of `(t, e)` equals `c · x + b` for `x` the element `x` of the model: either
/// `t`'s element is `x` itself (`c = 1, b = 0`), or `t` is computed by a linear layer whose row
/// for `e` is a single term on `x`. `Some((c, b))` then.
fn as_scaled(m: &QModel, (t, e): (TensorId, usize), x: (TensorId, usize)) -> Option<(i128, i128)> {
    if (t, e) == x {
        return Some((1, 0));
    }
    let a = &m.layers[m.producer(t)?];
    let LayerKind::Linear { rows, bias } = &a.kind else { return None };
    match rows.get(e)?.as_slice() {
        &[(k, c)] if element(m, &a.inputs, k as usize) == Some(x) => Some((c, bias[e])),
        _ => None,
    }
}

/// For each row of linear layer `l` of `m`: a lower and an upper bound its value provably keeps,
/// beyond interval arithmetic. A row `a · M_g + b · x + β` where `M_g` is output `g` of a
/// maximum layer, and one of the values `M_g` is the maximum of equals `c · x + γ` (`x` itself,
/// or a single-term row of a linear layer on `x`), with `b = −a · c`, equals
/// `a · (M_g − (c · x + γ)) + a · γ + β`: at least `a · γ + β` for `a > 0`, at most for `a < 0`.
/// `(None, None)` for every other row, and every row of other layers.
pub fn max_differences(m: &QModel, l: &Layer) -> Vec<(Option<i128>, Option<i128>)> {
    let LayerKind::Linear { rows, bias } = &l.kind else { return vec![] };
    rows.iter()
        .zip(bias)
        .map(|(row, &beta)| {
            let &[p, q] = row.as_slice() else { return (None, None) };
            for ((jm, a), (jx, b)) in [(p, q), (q, p)] {
                let (Some((tm, g)), Some(x)) = (element(m, &l.inputs, jm as usize), element(m, &l.inputs, jx as usize))
                else {
                    continue;
                };
                let Some(mi) = m.producer(tm) else { continue };
                let max = &m.layers[mi];
                let LayerKind::Max(sets) = &max.kind else { continue };
                let Some(set) = sets.get(g) else { continue };
                let member = set.iter().find_map(|&j| {
                    let y = element(m, &max.inputs, j as usize)?;
                    as_scaled(m, y, x).filter(|&(c, _)| a.checked_mul(c) == Some(-b))
                });
                if let Some((_, gamma)) = member {
                    let Some(bound) = a.checked_mul(gamma).and_then(|v| v.checked_add(beta)) else { continue };
                    return if a > 0 { (Some(bound), None) } else { (None, Some(bound)) };
                }
            }
            (None, None)
        })
        .collect()
}

/// Narrows the element types of every linear layer's output by [`max_differences`], and those
/// of the requantizations that read such a layer alone, recomputed from the narrower inputs
/// (their readers keep the wider types they had: still sound).
pub fn tighten(m: &mut QModel) {
    for li in 0..m.layers.len() {
        let bounds = max_differences(m, &m.layers[li]);
        if bounds.iter().all(|b| *b == (None, None)) {
            continue;
        }
        let t = m.layers[li].output;
        for (e, (lo, hi)) in m.tensors[t.0 as usize].elems.iter_mut().zip(bounds) {
            let (lo, hi) = (lo.unwrap_or(e.lo), hi.unwrap_or(e.hi));
            e.narrow(lo, hi);
        }
        for r in m.readers(t) {
            let (LayerKind::Requant(rs), [only]) = (&m.layers[r].kind, &m.layers[r].inputs[..]) else { continue };
            if *only != t {
                continue;
            }
            let fresh: Vec<Elem> = m.tensor(t).elems.iter().zip(rs).map(|(e, q)| requant_elem(e, q)).collect();
            let out = m.layers[r].output;
            for (e, f) in m.tensors[out.0 as usize].elems.iter_mut().zip(fresh) {
                e.narrow(f.lo, f.hi);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_models::{layer, linear, qmodel, tensor};

    /// x (4 values) → y = [2·x0, 2·x1, x2, x3] → m = [max(y0, y1), max(y2, y3)] → d, whose rows
    /// are `m0 − 2·x0`, `m0 − 2·x1 + 3`, `x2 − m1`, and `m1 − 2·x0` (x0 is not among m1's values).
    fn softmax_like() -> QModel {
        let e = |lo, hi| Elem::new(0, lo, hi);
        let tensors = vec![
            tensor("x", vec![e(-8, 7); 4]),
            tensor("y", vec![e(-16, 14), e(-16, 14), e(-8, 7), e(-8, 7)]),
            tensor("m", vec![e(-16, 14), e(-8, 7)]),
            tensor("d", vec![e(-30, 30), e(-27, 33), e(-15, 15), e(-22, 23)]),
        ];
        let layers = vec![
            linear("aligned", 0, 1, vec![vec![(0, 2)], vec![(1, 2)], vec![(2, 1)], vec![(3, 1)]], vec![0; 4]),
            layer("max", LayerKind::Max(vec![vec![0, 1], vec![2, 3]]), &[1], 2),
            layer(
                "sub",
                LayerKind::Linear {
                    rows: vec![
                        vec![(0, 1), (2, -2)],
                        vec![(0, 1), (3, -2)],
                        vec![(1, -1), (4, 1)],
                        vec![(1, 1), (2, -2)],
                    ],
                    bias: vec![0, 3, 0, 0],
                },
                &[2, 0],
                3,
            ),
        ];
        qmodel("softmax_like", tensors, layers, 0)
    }

    #[test]
    fn a_maximum_minus_one_of_its_values_is_bounded() {
        let mut m = softmax_like();
        let sub = m.layers[2].clone();
        assert_eq!(max_differences(&m, &sub), [(Some(0), None), (Some(3), None), (None, Some(0)), (None, None)]);
        crate::verify::verify(&m).unwrap();
        tighten(&mut m);
        let d: Vec<(i128, i128)> = m.tensor(TensorId(3)).elems.iter().map(|e| (e.lo, e.hi)).collect();
        assert_eq!(d, [(0, 30), (3, 33), (-15, 0), (-22, 23)]);
        crate::verify::verify(&m).unwrap();
        // Every input: the values keep the bounds (so the bounds are sound, not only accepted).
        for n in 0..16i128.pow(4) {
            let x: Vec<i128> = (0..4).map(|k| (n >> (4 * k) & 15) - 8).collect();
            let y = crate::interp::run(&m, &x);
            for (v, e) in y.iter().zip(&m.tensor(TensorId(3)).elems) {
                assert!(e.lo <= *v && *v <= e.hi, "x = {x:?}: {v} outside [{}, {}]", e.lo, e.hi);
            }
        }
    }

    /// The verifier accepts a bound beyond the intervals only where the relation holds: the row
    /// `m1 − 2·x0` (x0 is not among m1's values) narrowed to ≥ 0 is unsound, and so is a
    /// coefficient that does not match the value's scale.
    #[test]
    fn the_verifier_refuses_a_bound_the_relation_does_not_give() {
        let mut m = softmax_like();
        m.tensors[3].elems[3] = Elem::new(0, 0, 23);
        assert!(crate::verify::verify(&m).is_err());
        let mut m = softmax_like();
        let LayerKind::Linear { rows, .. } = &mut m.layers[2].kind else { unreachable!() };
        rows[0] = vec![(0, 1), (2, -1)];
        assert_eq!(max_differences(&m, &m.layers[2].clone())[0], (None, None));
        m.tensors[3].elems[0] = Elem::new(0, 0, 30);
        assert!(crate::verify::verify(&m).is_err());
    }
}
