//! Fusion of chained linear layers: `Linear(Linear(x))` becomes one `Linear(x)` when the
//! intermediate tensor has no other reader. This folds biases, batch norms in float models and
//! scalings into the dense layer before it, so the hardware has one adder tree per output. The
//! two layers need not be adjacent in the layer list (an exporter may write the Q, K and V
//! MatMuls before their bias Adds): the fused layer takes the second one's place, after
//! everything the first one read.
//!
//! Before: `t1 = linear t0 (dense0_matmul); t2 = linear t1 (dense0_bias)`
//! After:  `t2 = linear t0 (dense0_matmul)` with the bias in the first layer's rows.

use crate::fixed::{Elem, Overflow};
use crate::qir::{LayerKind, QModel, Steps};
use crate::round::Round;
use std::collections::BTreeMap;

pub fn fuse_linear(m: &mut QModel) {
    let mut i = 1;
    while i < m.layers.len() {
        // The layer that produces layer i's only input.
        let Some(p) = (match m.layers[i].inputs[..] {
            [t] => m.layers[..i].iter().rposition(|l| l.output == t),
            _ => None,
        }) else {
            i += 1;
            continue;
        };
        let (a, b) = (&m.layers[p], &m.layers[i]);
        let readers = m.readers(a.output).len();
        // A wide constant multiply after a layer with fan-in (an affine requantization's `M`,
        // `lower::steps`) stays a layer of its own: folded in, it would widen every weight.
        let wide_after_sum = match (&a.kind, &b.kind) {
            (LayerKind::Linear { rows: r1, .. }, LayerKind::Linear { rows: r2, .. }) => {
                r1.iter().any(|r| r.len() > 1) && r2.iter().flatten().any(|&(_, c)| c.unsigned_abs() >= 1 << 16)
            }
            _ => false,
        };
        let fusable = readers == 1 && m.output != a.output && !wide_after_sum;
        if let (true, LayerKind::Linear { rows: r1, bias: b1 }, LayerKind::Linear { rows: r2, bias: b2 }) =
            (fusable, &a.kind, &b.kind)
        {
            let mut rows = Vec::with_capacity(r2.len());
            let mut bias = Vec::with_capacity(r2.len());
            let mut ok = true;
            for (row, &bb) in r2.iter().zip(b2) {
                let mut acc: BTreeMap<u32, i128> = BTreeMap::new();
                let mut bsum = bb;
                for &(k, c) in row {
                    // y = bb + Σ c·(b1_k + Σ c1·x)
                    match c.checked_mul(b1[k as usize]).and_then(|p| bsum.checked_add(p)) {
                        Some(v) => bsum = v,
                        None => ok = false,
                    }
                    for &(j, c1) in &r1[k as usize] {
                        let e = acc.entry(j).or_insert(0);
                        match c.checked_mul(c1).and_then(|p| e.checked_add(p)) {
                            Some(v) => *e = v,
                            None => ok = false,
                        }
                    }
                }
                rows.push(acc.into_iter().filter(|&(_, c)| c != 0).collect::<Vec<_>>());
                bias.push(bsum);
            }
            if ok {
                let mut origin = a.origin.clone();
                origin.extend(b.origin.iter().cloned());
                let name = a.name.clone();
                let inputs = a.inputs.clone();
                let layer = &mut m.layers[i];
                layer.kind = LayerKind::Linear { rows, bias };
                layer.origin = origin;
                layer.name = name;
                layer.inputs = inputs;
                // The fused layer moves to index i − 1; index i is the next layer.
                m.layers.remove(p);
                continue;
            }
        }
        i += 1;
    }
    // Output grids stay those of the second layer (fusion is exact), intervals may only shrink:
    // recompute them from the fused rows.
    for li in 0..m.layers.len() {
        if let LayerKind::Linear { rows, bias } = &m.layers[li].kind {
            let xe = m.layer_input_elems(&m.layers[li]);
            let out = m.layers[li].output.0 as usize;
            for (o, (row, &b)) in rows.iter().zip(bias).enumerate() {
                // Checked: should a partial product leave i128, the second layer's interval
                // (still a valid bound, fusion being exact) stays.
                let range = row.iter().try_fold((b, b), |(lo, hi), &(j, c)| {
                    let (p, q) = (c.checked_mul(xe[j as usize].lo)?, c.checked_mul(xe[j as usize].hi)?);
                    Some((lo.checked_add(p.min(q))?, hi.checked_add(p.max(q))?))
                });
                if let Some((lo, hi)) = range {
                    let f = m.tensors[out].elems[o].frac;
                    m.tensors[out].elems[o] = Elem::new(f, lo, hi);
                }
            }
        }
    }
}

/// Drops a ReLU whose only reader saturates every element to a range with a lower bound of 0 or
/// more: that requantization does the ReLU's work. Rounding is monotone and maps 0 to 0, so
/// `round(max(x, 0)) = max(round(x), 0)`, and clamping to `[lo, hi]` with `lo ≥ 0` removes the
/// `max(·, 0)`. The hardware then clamps both ends in one LUT level instead of a ReLU
/// multiplexer followed by the requantizer's clamp (the jet MLPs' `ReLU → ufixed` activations).
pub fn fuse_relu(m: &mut QModel) {
    let mut i = 0;
    while i < m.layers.len() {
        let l = &m.layers[i];
        let (LayerKind::Relu, [input]) = (&l.kind, &l.inputs[..]) else {
            i += 1;
            continue;
        };
        let (t, input) = (l.output, *input);
        let readers = m.readers(t);
        let clamps = |k: usize| match (&m.layers[k].kind, &m.layers[k].inputs[..]) {
            (LayerKind::Requant(rs), [only]) if *only == t => {
                rs.iter().all(|r| r.overflow == Overflow::Sat && r.lo >= 0)
            }
            _ => false,
        };
        if m.output == t || readers.len() != 1 || !clamps(readers[0]) {
            i += 1;
            continue;
        }
        let relu = m.layers.remove(i);
        // The reader comes after the ReLU (topological order), so it moved up by one.
        let q = &mut m.layers[readers[0] - 1];
        q.inputs = vec![input];
        let mut origin = relu.origin;
        origin.append(&mut q.origin);
        q.origin = origin;
    }
}

/// The constant of `round(v / 2^s) = ⌊(v + h) / 2^s⌋` on integers, for the modes that have one
/// (`h` in `0..2^s`); `None` for the modes whose offset depends on `v`.
fn rounding_offset(round: Round, s: u32) -> Option<i128> {
    let (full, half) = ((1i128 << s) - 1, 1i128 << (s - 1));
    match round {
        Round::Floor => Some(0),
        Round::Ceil => Some(full),
        Round::HalfUp => Some(half),
        Round::HalfDown => Some(half - 1),
        Round::ToZero | Round::HalfEven | Round::HalfAway | Round::HalfToZero => None,
    }
}

/// Moves the rounding of a requantization into the bias of the linear layer before it, directly
/// or through a ReLU, so the hardware drops bits instead of adding a rounding constant after the
/// adder tree: `round(v / 2^s) = ⌊(v + h) / 2^s⌋` with a constant `0 ≤ h < 2^s` (floor, ceil,
/// half up, half down), and the linear layer already adds a constant at its root. Through a
/// ReLU it is exact too: `⌊(max(x, 0) + h) / 2^s⌋ = ⌊max(x + h, 0) / 2^s⌋`, since for
/// `−h ≤ x < 0` both sides are `⌊(x + h) / 2^s⌋ = 0` (`0 ≤ x + h < 2^s`). The overflow handling
/// that follows is unchanged. Each intermediate tensor must have no other reader.
///
/// Before: `a = linear x (bias 3); r = relu a; y = requant r (≫ 2, half up, wrap)`
/// After:  `a = linear x (bias 5); r = relu a; y = requant r (≫ 2, floor, wrap)`
pub fn fold_rounding(m: &mut QModel) {
    for q in 0..m.layers.len() {
        let (LayerKind::Requant(_), &[t]) = (&m.layers[q].kind, &m.layers[q].inputs[..]) else { continue };
        if t == m.output || m.readers(t).len() != 1 {
            continue;
        }
        let Some(p) = m.producer(t) else { continue };
        // The linear layer, and the ReLU between when there is one.
        let (lin, relu) = match (&m.layers[p].kind, &m.layers[p].inputs[..]) {
            (LayerKind::Linear { .. }, _) => (p, None),
            (LayerKind::Relu, &[u]) if u != m.output && m.readers(u).len() == 1 => match m.producer(u) {
                Some(k) if matches!(m.layers[k].kind, LayerKind::Linear { .. }) => (k, Some(p)),
                _ => continue,
            },
            _ => continue,
        };
        let lin_out = m.layers[lin].output.0 as usize;
        let LayerKind::Requant(rs) = &m.layers[q].kind else { continue };
        let offsets: Vec<Option<i128>> = rs
            .iter()
            .zip(&m.tensors[lin_out].elems)
            .map(|(r, e)| {
                let s = r.from_frac - r.to_frac;
                // A constant element (a pruned weight row) costs nothing either way.
                let fits =
                    r.div == 1 && s > 0 && s < 120 && r.from_frac == e.frac && r.round != Round::Floor && e.lo != e.hi;
                fits.then(|| rounding_offset(r.round, s as u32)).flatten()
            })
            .collect();
        if offsets.iter().all(Option::is_none) {
            continue;
        }
        let relu_out = relu.map(|r| m.layers[r].output.0 as usize);
        let LayerKind::Linear { bias, .. } = &mut m.layers[lin].kind else { continue };
        let mut moved = vec![false; offsets.len()];
        for (i, h) in offsets.iter().enumerate() {
            let Some(h) = *h else { continue };
            let (Some(b), Some(lo), Some(hi)) = (
                bias[i].checked_add(h),
                m.tensors[lin_out].elems[i].lo.checked_add(h),
                m.tensors[lin_out].elems[i].hi.checked_add(h),
            ) else {
                continue;
            };
            bias[i] = b;
            for (t, (lo, hi)) in [(Some(lin_out), (lo, hi)), (relu_out, (lo.max(0), hi.max(0)))] {
                let Some(t) = t else { continue };
                let (n, tensor) = (offsets.len(), &mut m.tensors[t]);
                let e = &mut tensor.elems[i];
                *e = Elem::new(e.frac, lo, hi);
                if tensor.offset.is_empty() {
                    tensor.offset = vec![0; n];
                }
                tensor.offset[i] += h;
            }
            moved[i] = true;
        }
        let LayerKind::Requant(rs) = &mut m.layers[q].kind else { continue };
        for (r, _) in rs.iter_mut().zip(&moved).filter(|(_, &mv)| mv) {
            r.round = Round::Floor;
        }
    }
}

/// Folds the element-wise layers after a table lookup into the table: `lookup` then any chain
/// of single-reader element-wise layers (a scaling `Linear` whose rows are `c·x_i + b`, a
/// `Requant`, a `Relu`, another lookup or step function) becomes one per-element step function
/// ([`LayerKind::Threshold`]) of the lookup's input, whose values are the chain evaluated on
/// the table's entries (by the interpreter, so the semantics are the chain's by construction).
/// The hardware then looks the final value up directly (`tachyon_hls` builds a step function as
/// a table when that is cheaper than comparators), instead of a table, a constant multiply and
/// a requantization per element: a softmax's `oq(c · exp_table(d))` with a constant
/// normalisation `c` is one table per element.
///
/// Each element's steps keep only the thresholds inside its input's interval, so the values are
/// exactly those the chain can output there; the output interval narrows to their span. The
/// chain is folded in up to its last layer whose output is no wider than the table's, since a
/// table costs LUTs per output bit. A lookup over more than 2^22 elements × entries stays.
///
/// Before: `e = lookup d; p = linear e (7·e_i + 8); a = requant p (≫ 4, floor, sat)`
/// After:  `a = threshold d` with `a_i = requant(7·entries[k] + 8)` on the k-th index interval.
pub fn compose_tables(m: &mut QModel) {
    /// Largest `elements × entries` composed (each element gets its own step function).
    const COMPOSE_MAX_ENTRIES: usize = 1 << 22;

    let mut i = 0;
    while i < m.layers.len() {
        let l = &m.layers[i];
        let (LayerKind::Lookup(t), [input]) = (&l.kind, &l.inputs[..]) else {
            i += 1;
            continue;
        };
        let input = *input;
        let n = m.tensor(l.output).elems.len();
        let mut chain = vec![];
        let mut at = l.output;
        while m.output != at {
            let &[r] = &m.readers(at)[..] else { break };
            if !elementwise(&m.layers[r], at, n) {
                break;
            }
            chain.push(r);
            at = m.layers[r].output;
        }
        // The table's columns are its cost: the chain is folded in up to its last layer whose
        // output is no wider than the lookup's (a scaling that widens is cheaper after it).
        let width = |t: crate::qir::TensorId| m.tensor(t).elems.iter().map(Elem::width).max().unwrap_or(0);
        let table_width = width(l.output);
        let keep = chain.iter().rposition(|&r| width(m.layers[r].output) <= table_width).map_or(0, |k| k + 1);
        chain.truncate(keep);
        if chain.is_empty() || n * t.entries.len() > COMPOSE_MAX_ENTRIES {
            i += 1;
            continue;
        }
        // The table's index intervals as thresholds on the input: index k ≥ 1 from
        // `(k + offset) << shift` on (the index clamps at both ends).
        let thresholds: Vec<i128> = (1..t.entries.len() as i128).map(|k| (k + t.offset) << t.shift).collect();
        // The chain on every entry, all elements at once.
        let composed: Vec<Vec<i128>> = t
            .entries
            .iter()
            .map(|&v| chain.iter().fold(vec![v; n], |x, &r| crate::interp::eval_layer(&m.layers[r].kind, &x)))
            .collect();
        let xe = m.tensor(input).elems.clone();
        let out = m.layers[*chain.last().expect("a chain")].output;
        let steps: Vec<Steps> = (0..n)
            .map(|e| {
                let (lo, hi) = (xe[e].lo, xe[e].hi);
                // The entry at the input's low end, then a step wherever the value changes.
                let first = thresholds.iter().take_while(|&&th| th <= lo).count();
                let mut s = Steps { thresholds: vec![], values: vec![composed[first][e]] };
                for (k, &th) in thresholds.iter().enumerate().skip(first).take_while(|&(_, &th)| th <= hi) {
                    let v = composed[k + 1][e];
                    if s.values.last() != Some(&v) {
                        s.thresholds.push(th);
                        s.values.push(v);
                    }
                }
                s
            })
            .collect();
        for (y, s) in m.tensors[out.0 as usize].elems.iter_mut().zip(&steps) {
            y.narrow(*s.values.iter().min().expect("a value"), *s.values.iter().max().expect("a value"));
        }
        let last = *chain.last().expect("a chain");
        let mut origin = m.layers[i].origin.clone();
        for &r in &chain {
            origin.extend(m.layers[r].origin.iter().cloned());
        }
        let name = m.layers[i].name.clone();
        let layer = &mut m.layers[last];
        layer.kind = LayerKind::Threshold(steps);
        layer.inputs = vec![input];
        layer.origin = origin;
        layer.name = name;
        // The lookup and the chain but its last layer go; the next layer is now at index i.
        let mut gone: Vec<usize> = chain[..chain.len() - 1].to_vec();
        gone.push(i);
        gone.sort_unstable();
        for &k in gone.iter().rev() {
            m.layers.remove(k);
        }
    }
}

/// Whether layer `l` reads only tensor `t` (of `n` elements) and computes output `i` from its
/// element `i` alone.
fn elementwise(l: &crate::qir::Layer, t: crate::qir::TensorId, n: usize) -> bool {
    if l.inputs[..] != [t] {
        return false;
    }
    match &l.kind {
        LayerKind::Linear { rows, .. } => {
            rows.len() == n
                && rows.iter().enumerate().all(|(o, r)| match r[..] {
                    [] => true,
                    [(j, _)] => j as usize == o,
                    _ => false,
                })
        }
        LayerKind::Requant(rs) => rs.len() == n,
        LayerKind::Threshold(ss) => ss.len() == n,
        LayerKind::Relu | LayerKind::Lookup(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_models::{layer, linear, qmodel, tensor};

    /// q = W_q·x, k = W_k·x, then q + b_q and k + b_k (the MatMuls before the Adds, as exporters
    /// write attention projections), then y = [q', k']: each bias fuses into its MatMul, though
    /// the layers are not adjacent, and the model computes the same values.
    #[test]
    fn non_adjacent_chains_fuse_exactly() {
        let e = |lo, hi| Elem::new(0, lo, hi);
        let tensors = (0..6)
            .map(|k| tensor(&format!("t{k}"), vec![e(-100, 100); 2]))
            .chain([tensor("y", vec![e(-100_000, 100_000); 4])])
            .collect();
        let layers = vec![
            linear("q_matmul", 0, 1, vec![vec![(0, 3), (1, -2)], vec![(1, 5)]], vec![0, 0]),
            linear("k_matmul", 0, 2, vec![vec![(0, -7)], vec![(0, 1), (1, 1)]], vec![0, 0]),
            linear("q_bias", 1, 3, vec![vec![(0, 1)], vec![(1, 1)]], vec![11, -4]),
            linear("k_bias", 2, 4, vec![vec![(0, 1)], vec![(1, 1)]], vec![-9, 2]),
            layer("concat", LayerKind::Gather(vec![0, 1, 2, 3]), &[3, 4], 6),
        ];
        let mut m = qmodel("attention_projections", tensors, layers, 0);
        let before = m.clone();
        fuse_linear(&mut m);
        let names: Vec<&str> = m.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["q_matmul", "k_matmul", "concat"]);
        crate::verify::verify(&m).unwrap();
        for x in [[0, 0], [100, -100], [-37, 58], [1, 1]] {
            assert_eq!(crate::interp::run(&m, &x), crate::interp::run(&before, &x), "x = {x:?}");
        }
    }

    /// ReLU then a saturating requantization to an unsigned range: the ReLU goes, in every
    /// rounding mode, and the model computes the same values for every input. A ReLU before a
    /// wrapping or signed requantization stays.
    #[test]
    fn relu_before_an_unsigned_saturating_requant_fuses_exactly() {
        use crate::qir::Requant;
        use crate::round::Round;
        let model = |round: Round, overflow: Overflow, lo: i128| {
            let e = |lo, hi| Elem::new(3, lo, hi);
            let rq = Requant { from_frac: 3, to_frac: 1, div: 1, round, lo, hi: 7, overflow };
            let tensors = vec![
                tensor("x", vec![e(-64, 63); 2]),
                tensor("r", vec![e(0, 63); 2]),
                tensor("y", vec![Elem::new(1, lo, 7); 2]),
            ];
            let layers =
                vec![layer("relu", LayerKind::Relu, &[0], 1), layer("act", LayerKind::Requant(vec![rq; 2]), &[1], 2)];
            qmodel("relu_requant", tensors, layers, 3)
        };
        for round in Round::ALL {
            let before = model(round, Overflow::Sat, 0);
            let mut m = before.clone();
            fuse_relu(&mut m);
            assert_eq!(m.layers.len(), 1, "{round:?}");
            assert_eq!(m.layers[0].origin, ["relu", "act"]);
            crate::verify::verify(&m).unwrap();
            for a in -64..64 {
                let x = [a, -a - 1];
                assert_eq!(crate::interp::run(&m, &x), crate::interp::run(&before, &x), "{round:?}, x = {x:?}");
            }
        }
        for (overflow, lo) in [(Overflow::Wrap, 0), (Overflow::Sat, -8)] {
            let mut m = model(Round::HalfEven, overflow, lo);
            fuse_relu(&mut m);
            assert_eq!(m.layers.len(), 2, "{overflow:?}, lo {lo}");
        }
    }

    /// A linear layer, optionally a ReLU, then a requantization that drops 3 bits, in every
    /// rounding mode and overflow: where the rounding has a constant offset it moves into the
    /// bias (the requantization then floors) and the model computes the same values for every
    /// input; the other modes stay. The moved constant is recorded as the tensors' offset.
    #[test]
    fn rounding_moves_into_the_bias_exactly() {
        use crate::qir::Requant;
        let model = |round: Round, overflow: Overflow, relu: bool| {
            let e = |lo, hi| Elem::new(3, lo, hi);
            let rq = Requant { from_frac: 3, to_frac: 0, div: 1, round, lo: -4, hi: 3, overflow };
            let rows = vec![vec![(0, 3), (1, -2)], vec![(1, 5)], vec![(0, 1)]];
            let mut layers = vec![linear("dense", 0, 1, rows, vec![5, -3, 0])];
            let mut tensors =
                vec![tensor("x", vec![e(-64, 63); 2]), tensor("a", vec![e(-313, 322), e(-323, 312), e(-64, 63)])];
            if relu {
                layers.push(layer("relu", LayerKind::Relu, &[1], 2));
                tensors.push(tensor("r", vec![e(0, 322), e(0, 312), e(0, 63)]));
            }
            let q = tensors.len() as u32;
            layers.push(layer("act", LayerKind::Requant(vec![rq; 3]), &[q - 1], q));
            tensors.push(tensor("y", vec![Elem::new(0, -4, 3); 3]));
            qmodel("rounding", tensors, layers, 3)
        };
        for round in Round::ALL {
            for overflow in [Overflow::Wrap, Overflow::Sat] {
                for relu in [false, true] {
                    let before = model(round, overflow, relu);
                    let mut m = before.clone();
                    fold_rounding(&mut m);
                    crate::verify::verify(&m).unwrap();
                    let moved = rounding_offset(round, 3).filter(|_| round != Round::Floor);
                    let LayerKind::Requant(rs) = &m.layers.last().unwrap().kind else { unreachable!() };
                    let LayerKind::Linear { bias, .. } = &m.layers[0].kind else { unreachable!() };
                    match moved {
                        Some(h) => {
                            assert!(rs.iter().all(|r| r.round == Round::Floor), "{round:?}");
                            assert_eq!(bias, &vec![5 + h, -3 + h, h], "{round:?}");
                            assert_eq!(m.tensors[1].offset, vec![h; 3]);
                        }
                        None => {
                            assert!(rs.iter().all(|r| r.round == round), "{round:?}");
                            assert!(m.tensors[1].offset.is_empty());
                        }
                    }
                    for a in -64i128..64 {
                        for x in [[a, -a - 1], [a, a], [a, 63 - a.abs()]] {
                            let (got, want) = (crate::interp::run(&m, &x), crate::interp::run(&before, &x));
                            assert_eq!(got, want, "{round:?} {overflow:?} relu {relu}, x = {x:?}");
                        }
                    }
                }
            }
        }
    }

    /// A lookup (index shift 1, offset −3), then `3·e + 1`, then a requantization dropping two
    /// bits: one step function per element whose values are the chain on the entries, with only
    /// the thresholds inside each element's input interval, computing the same values for every
    /// input. A lookup with a second reader stays.
    #[test]
    fn a_lookup_and_the_layers_after_it_become_one_table() {
        use crate::qir::{LookupSpec, Requant};
        let model = |second_reader: bool| {
            let e = |lo, hi| Elem::new(0, lo, hi);
            let entries = vec![5, 5, 9, -2, 0, 0, 7, 3];
            let spec = LookupSpec { func: "table".into(), shift: 1, offset: -3, entries };
            let rq = Requant {
                from_frac: 0,
                to_frac: -2,
                div: 1,
                round: Round::HalfUp,
                lo: -2,
                hi: 7,
                overflow: Overflow::Sat,
            };
            let mut tensors = vec![
                tensor("x", vec![e(-20, 20), e(-2, 3)]),
                tensor("t", vec![e(-2, 9), e(-2, 9)]),
                tensor("p", vec![e(-5, 28), e(-5, 28)]),
                tensor("y", vec![Elem::new(-2, -2, 7); 2]),
            ];
            let mut layers = vec![
                layer("table", LayerKind::Lookup(spec), &[0], 1),
                linear("scale", 1, 2, vec![vec![(0, 3)], vec![(1, 3)]], vec![1, 1]),
                layer("act", LayerKind::Requant(vec![rq; 2]), &[2], 3),
            ];
            if second_reader {
                tensors.push(tensor("z", vec![e(-2, 9), e(-2, 9), Elem::new(-2, -2, 7), Elem::new(-2, -2, 7)]));
                layers.push(layer("both", LayerKind::Gather(vec![0, 1, 2, 3]), &[1, 3], 4));
            }
            qmodel("table_chain", tensors, layers, 0)
        };
        let before = model(false);
        let mut m = before.clone();
        compose_tables(&mut m);
        crate::verify::verify(&m).unwrap();
        assert_eq!(m.layers.len(), 1);
        assert_eq!(m.layers[0].origin, ["table", "scale", "act"]);
        let LayerKind::Threshold(ss) = &m.layers[0].kind else { panic!("{:?}", m.layers[0].kind) };
        // The second element's input, −2..3, reaches indices 2..4 only.
        assert!(ss[1].thresholds.iter().all(|&t| -2 < t && t <= 3), "{:?}", ss[1]);
        assert!(ss[0].thresholds.len() > ss[1].thresholds.len());
        for a in -20..=20 {
            let x = [a, a.clamp(-2, 3)];
            assert_eq!(crate::interp::run(&m, &x), crate::interp::run(&before, &x), "x = {x:?}");
        }
        let mut m = model(true);
        compose_tables(&mut m);
        assert_eq!(m.layers.len(), 4);
        // A chain that ends wider than the table (no requantization after the scaling) keeps
        // the table and the scaling apart.
        let mut m = model(false);
        m.layers.pop();
        m.tensors.pop();
        m.output = crate::qir::TensorId(2);
        compose_tables(&mut m);
        assert_eq!(m.layers.len(), 2);
    }
}
