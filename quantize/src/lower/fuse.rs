//! Fusion of consecutive linear layers: `Linear(Linear(x))` becomes one `Linear(x)` when the
//! intermediate tensor has no other reader. This folds biases, batch norms in float models and
//! scalings into the dense layer before it, so the hardware has one adder tree per output.
//!
//! Before: `t1 = linear t0 (dense0_matmul); t2 = linear t1 (dense0_bias)`
//! After:  `t2 = linear t0 (dense0_matmul)` with the bias in the first layer's rows.

use crate::fixed::Elem;
use crate::qir::{LayerKind, QModel};
use std::collections::BTreeMap;

pub fn fuse_linear(m: &mut QModel) {
    let mut i = 1;
    while i < m.layers.len() {
        let (a, b) = (&m.layers[i - 1], &m.layers[i]);
        let readers = m.layers.iter().filter(|l| l.inputs.contains(&a.output)).count();
        let fusable = b.inputs == [a.output] && readers == 1 && m.output != a.output;
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
                m.layers.remove(i - 1);
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
