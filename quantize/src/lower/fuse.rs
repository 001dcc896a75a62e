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
use crate::qir::{LayerKind, QModel};
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
        let readers = m.layers.iter().filter(|l| l.inputs.contains(&a.output)).count();
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
        let readers: Vec<usize> = (0..m.layers.len()).filter(|&k| m.layers[k].inputs.contains(&t)).collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qir::{InputConv, Layer, Prologue, QTensor, TensorId};

    /// A layer named after its one ONNX node.
    fn layer(name: &str, kind: LayerKind, inputs: &[u32], output: u32) -> Layer {
        Layer {
            name: name.into(),
            origin: vec![name.into()],
            kind,
            inputs: inputs.iter().map(|&t| TensorId(t)).collect(),
            output: TensorId(output),
        }
    }

    fn linear(name: &str, input: u32, output: u32, rows: Vec<Vec<(u32, i128)>>, bias: Vec<i128>) -> Layer {
        layer(name, LayerKind::Linear { rows, bias }, &[input], output)
    }

    /// q = W_q·x, k = W_k·x, then q + b_q and k + b_k (the MatMuls before the Adds, as exporters
    /// write attention projections), then y = [q', k']: each bias fuses into its MatMul, though
    /// the layers are not adjacent, and the model computes the same values.
    #[test]
    fn non_adjacent_chains_fuse_exactly() {
        let e = |lo, hi| Elem::new(0, lo, hi);
        let tensors = (0..6)
            .map(|k| QTensor { name: format!("t{k}"), shape: vec![1, 2], elems: vec![e(-100, 100); 2] })
            .chain([QTensor { name: "y".into(), shape: vec![1, 4], elems: vec![e(-100_000, 100_000); 4] }])
            .collect();
        let mut m = QModel {
            name: "attention_projections".into(),
            tensors,
            layers: vec![
                linear("q_matmul", 0, 1, vec![vec![(0, 3), (1, -2)], vec![(1, 5)]], vec![0, 0]),
                linear("k_matmul", 0, 2, vec![vec![(0, -7)], vec![(0, 1), (1, 1)]], vec![0, 0]),
                linear("q_bias", 1, 3, vec![vec![(0, 1)], vec![(1, 1)]], vec![11, -4]),
                linear("k_bias", 2, 4, vec![vec![(0, 1)], vec![(1, 1)]], vec![-9, 2]),
                layer("concat", LayerKind::Gather(vec![0, 1, 2, 3]), &[3, 4], 6),
            ],
            input: TensorId(0),
            output: TensorId(6),
            prologue: Prologue {
                input_shape: vec![1, 2],
                steps: vec![],
                conv: InputConv::Exact { frac: 0 },
                select: None,
            },
            epilogue: vec![],
            output_shape: vec![1, 4],
            epilogue_shape: vec![1, 4],
        };
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
            QModel {
                name: "relu_requant".into(),
                tensors: vec![
                    QTensor { name: "x".into(), shape: vec![1, 2], elems: vec![e(-64, 63); 2] },
                    QTensor { name: "r".into(), shape: vec![1, 2], elems: vec![e(0, 63); 2] },
                    QTensor { name: "y".into(), shape: vec![1, 2], elems: vec![Elem::new(1, lo, 7); 2] },
                ],
                layers: vec![
                    layer("relu", LayerKind::Relu, &[0], 1),
                    layer("act", LayerKind::Requant(vec![rq; 2]), &[1], 2),
                ],
                input: TensorId(0),
                output: TensorId(2),
                prologue: Prologue {
                    input_shape: vec![1, 2],
                    steps: vec![],
                    conv: InputConv::Exact { frac: 3 },
                    select: None,
                },
                epilogue: vec![],
                output_shape: vec![1, 2],
                epilogue_shape: vec![1, 2],
            }
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
}
