//! Graph rewrites that restore an op an exporter spelled out in pieces.
//!
//! **Layer normalization.** Before opset 17 `torch.onnx.export` writes `nn.LayerNorm` as
//!
//! ```text
//! m = ReduceMean(x, last axis)   d = Sub(x, m)   p = Pow(d, 2) (or Mul(d, d))
//! v = ReduceMean(p, last axis)   s = Sqrt(Add(v, ε))   n = Div(d, s)   [Mul(n, γ)]  [Add(·, β)]
//! ```
//!
//! which is `LayerNormalization(x, γ, β, axis = −1, epsilon = ε)` exactly in real arithmetic.
//! The rewrite needs every intermediate to feed only the next step (`d` feeds the square and the
//! division) and constant ε, γ and β (γ and β of the normalized length or broadcast to it). It
//! runs after constant folding, so shapes and constants are known.

use crate::ir::{Graph, Node, NodeId, Op, ReduceKind, Value, ValueId};
use crate::tensor::{DType, Tensor};

/// One rewrite: nodes to remove, the node replacing them at position `at` (the last removed
/// one), and the constants it adds (appended to the graph's values).
struct Fusion {
    remove: Vec<usize>,
    node: Node,
    at: usize,
    values: Vec<Value>,
}

/// Fuses every decomposed layer normalization of `g` (see the module doc).
pub fn fuse_layernorm(g: &mut Graph) {
    while let Some(Fusion { remove, node, at, values }) = find_layernorm(g) {
        g.values.extend(values);
        let mut nodes = vec![];
        for (i, n) in std::mem::take(&mut g.nodes).into_iter().enumerate() {
            if i == at {
                nodes.push(node.clone());
            }
            if !remove.contains(&i) {
                nodes.push(n);
            }
        }
        g.nodes = nodes;
        for v in g.values.iter_mut() {
            v.producer = None;
        }
        for (i, n) in g.nodes.iter().enumerate() {
            for &o in &n.outputs {
                g.values[o.0 as usize].producer = Some(NodeId(i as u32));
            }
        }
    }
}

/// Number of uses of every value (node inputs and graph outputs).
fn uses(g: &Graph) -> Vec<usize> {
    let mut u = vec![0; g.values.len()];
    for n in &g.nodes {
        for v in n.inputs.iter().flatten() {
            u[v.0 as usize] += 1;
        }
    }
    for v in &g.outputs {
        u[v.0 as usize] += 1;
    }
    u
}

fn producer(g: &Graph, v: ValueId) -> Option<(usize, &Node)> {
    let p = g.value(v).producer?.0 as usize;
    Some((p, &g.nodes[p]))
}

fn konst(g: &Graph, v: Option<ValueId>) -> Option<&Tensor> {
    g.value(v?).konst.as_ref()
}

/// Whether `n` is a ReduceMean over exactly the last axis of its input, keeping dimensions.
fn mean_over_last(g: &Graph, n: &Node) -> bool {
    let Op::Reduce { kind: ReduceKind::Mean, axes, keepdims: true, .. } = &n.op else { return false };
    let Some(rank) = n.input(0).and_then(|v| g.value(v).shape.as_ref()).map(|s| s.len() as i64) else {
        return false;
    };
    let axes: Vec<i64> = match axes {
        Some(a) => a.clone(),
        None => match konst(g, n.input(1)) {
            Some(t) => t.data.iter().map(|&x| x as i64).collect(),
            None => return false,
        },
    };
    axes.len() == 1 && (axes[0] == rank - 1 || axes[0] == -1)
}

/// The other operand of a binary node when one operand is `v`.
fn other(n: &Node, v: ValueId) -> Option<Option<ValueId>> {
    match (n.input(0), n.input(1)) {
        (Some(a), b) if a == v => Some(b),
        (a, Some(b)) if b == v => Some(a),
        _ => None,
    }
}

/// A constant that is one value per element of the last axis (length `d`), or a scalar.
fn per_feature(t: &Tensor, d: usize) -> Option<Vec<f64>> {
    if t.data.len() == 1 {
        return Some(vec![t.data[0]; d]);
    }
    let trailing_ones = t.shape.iter().rev().skip(1).all(|&s| s == 1);
    (t.data.len() == d && t.shape.last() == Some(&d) && trailing_ones).then(|| t.data.clone())
}

/// One decomposed layer normalization, if `g` has one.
fn find_layernorm(g: &Graph) -> Option<Fusion> {
    let u = uses(g);
    for (di, div) in g.nodes.iter().enumerate() {
        let Op::Div = div.op else { continue };
        let (Some(d), Some(s)) = (div.input(0), div.input(1)) else { continue };
        let Some((si, sqrt)) = producer(g, s) else { continue };
        let Some((ai, add)) = (sqrt.op == Op::Sqrt).then(|| sqrt.input(0).and_then(|v| producer(g, v))).flatten()
        else {
            continue;
        };
        if add.op != Op::Add {
            continue;
        }
        // v + ε with ε a constant scalar.
        let (v, eps) = match (add.input(0), add.input(1)) {
            (Some(a), Some(b)) if konst(g, Some(b)).is_some_and(|t| t.data.len() == 1) => (a, konst(g, Some(b))),
            (Some(a), Some(b)) if konst(g, Some(a)).is_some_and(|t| t.data.len() == 1) => (b, konst(g, Some(a))),
            _ => continue,
        };
        let eps = eps.map_or(0.0, |t| t.data[0]);
        let Some((vi, var)) = producer(g, v) else { continue };
        if !mean_over_last(g, var) {
            continue;
        }
        let Some(p) = var.input(0) else { continue };
        let Some((pi, sq)) = producer(g, p) else { continue };
        let squares_d = match sq.op {
            Op::Pow => sq.input(0) == Some(d) && konst(g, sq.input(1)).is_some_and(|t| t.data == [2.0]),
            Op::Mul => sq.input(0) == Some(d) && sq.input(1) == Some(d),
            _ => false,
        };
        if !squares_d {
            continue;
        }
        let Some((bi, sub)) = producer(g, d) else { continue };
        if sub.op != Op::Sub {
            continue;
        }
        let (Some(x), Some(m)) = (sub.input(0), sub.input(1)) else { continue };
        let Some((mi, mean)) = producer(g, m) else { continue };
        if !mean_over_last(g, mean) || mean.input(0) != Some(x) {
            continue;
        }
        let single = [m, p, v, add.outputs[0], s].iter().all(|&w| u[w.0 as usize] == 1);
        let d_uses = if sq.op == Op::Mul { 3 } else { 2 };
        if !single || u[d.0 as usize] != d_uses || g.value(x).konst.is_some() {
            continue;
        }
        let Some(len) = g.value(x).shape.as_ref().and_then(|s| s.last().copied()) else { continue };
        let mut remove = vec![mi, bi, pi, vi, ai, si, di];
        // Optional gain and shift.
        let mut out = div.outputs[0];
        let mut gamma = vec![1.0; len];
        let mut beta = vec![0.0; len];
        let next = |w: ValueId| -> Option<(usize, &Node)> {
            if u[w.0 as usize] != 1 {
                return None;
            }
            g.nodes.iter().enumerate().find(|(_, n)| n.inputs.contains(&Some(w)))
        };
        if let Some((k, mul)) = next(out).filter(|(_, n)| n.op == Op::Mul) {
            if let Some(c) = other(mul, out).flatten().and_then(|c| konst(g, Some(c))).and_then(|t| per_feature(t, len))
            {
                gamma = c;
                out = mul.outputs[0];
                remove.push(k);
            }
        }
        if let Some((k, addb)) = next(out).filter(|(_, n)| n.op == Op::Add) {
            if let Some(c) =
                other(addb, out).flatten().and_then(|c| konst(g, Some(c))).and_then(|t| per_feature(t, len))
            {
                beta = c;
                out = addb.outputs[0];
                remove.push(k);
            }
        }
        if g.value(out).shape != g.value(x).shape {
            continue;
        }
        let at = *remove.iter().max().expect("non-empty");
        let name = format!("{}_layernorm", div.name);
        let base = g.values.len() as u32;
        let constant = |suffix: &str, data: Vec<f64>| Value {
            name: format!("{name}_{suffix}"),
            shape: Some(vec![len]),
            konst: Some(Tensor::new(DType::F32, vec![len], data)),
            producer: None,
        };
        let values = vec![constant("scale", gamma), constant("bias", beta)];
        let node = Node {
            name,
            op_type: "LayerNormalization".into(),
            domain: String::new(),
            op: Op::LayerNorm { axis: -1, epsilon: eps },
            inputs: vec![Some(x), Some(ValueId(base)), Some(ValueId(base + 1))],
            outputs: vec![out],
        };
        return Some(Fusion { remove, node, at, values });
    }
    None
}
