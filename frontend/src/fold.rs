//! Shape inference and constant folding.
//!
//! Walks the nodes in order. A node whose inputs are all constant is evaluated (its outputs
//! become constants and the node is dropped); otherwise its output shapes are inferred by
//! evaluating it on zero tensors of the input shapes. `Shape` of a non-constant tensor folds to
//! its static shape. After this pass every remaining node has at least one non-constant input,
//! and every value has a known shape.

use crate::error::{FrontendError, Result};
use crate::eval::eval_op;
use crate::ir::{Graph, Op};
use crate::tensor::{DType, Tensor};

/// Largest tensor shape inference will materialize.
const MAX_INFER: usize = 1 << 22;

pub fn infer_and_fold(g: &mut Graph) -> Result<()> {
    let mut keep = vec![true; g.nodes.len()];
    #[allow(clippy::needless_range_loop)] // `g` is borrowed mutably inside the loop
    for ni in 0..g.nodes.len() {
        let node = g.nodes[ni].clone();
        if node.op == Op::Constant {
            keep[ni] = false;
            continue;
        }
        let node_err = |what: String| FrontendError::Node { path: g.path.clone(), node: node.node_ref(), what };
        if let Op::Unsupported { .. } = node.op {
            continue; // shapes downstream stay unknown; reported by `unsupported()`
        }
        let all_const = node.inputs.iter().flatten().all(|&i| g.value(i).konst.is_some());
        let is_shape_of_known =
            matches!(node.op, Op::Shape { .. }) && node.input(0).and_then(|i| g.value(i).shape.as_ref()).is_some();
        if all_const || is_shape_of_known {
            let dummies: Vec<Option<Tensor>> = node
                .inputs
                .iter()
                .map(|i| {
                    i.map(|i| {
                        let v = g.value(i);
                        v.konst.clone().unwrap_or_else(|| {
                            let s = v.shape.clone().unwrap_or_default();
                            let n = s.iter().product();
                            Tensor::new(DType::F32, s, vec![0.0; n])
                        })
                    })
                })
                .collect();
            let ins: Vec<Option<&Tensor>> = dummies.iter().map(|t| t.as_ref()).collect();
            let outs = eval_op(&node.op, &ins, g.opset).map_err(node_err)?;
            for (&o, t) in node.outputs.iter().zip(outs) {
                let v = g.value_mut(o);
                v.shape = Some(t.shape.clone());
                v.konst = Some(t);
            }
            keep[ni] = false;
            continue;
        }
        // Shape inference on zero tensors (constants keep their values: Reshape needs them).
        let mut dummies = vec![];
        for i in &node.inputs {
            dummies.push(match i {
                None => None,
                Some(i) => {
                    let v = g.value(*i);
                    match (&v.konst, &v.shape) {
                        (Some(k), _) => Some(k.clone()),
                        (None, Some(s)) => {
                            let n: usize = s.iter().product();
                            if n > MAX_INFER {
                                return Err(node_err(format!(
                                    "input '{}' of shape {s:?} is too large to compile ({n} elements; at most \
                                     {MAX_INFER}); if its first axis is a batch of events that the model mixes, or \
                                     to compile another shape, give the shape of one event with --input-shape \
                                     (e.g. --input-shape 1,16)",
                                    v.name
                                )));
                            }
                            Some(Tensor::new(DType::F32, s.clone(), vec![0.0; n]))
                        }
                        (None, None) => None,
                    }
                }
            });
        }
        if dummies.iter().zip(&node.inputs).any(|(d, i)| i.is_some() && d.is_none()) {
            continue; // depends on an unsupported node
        }
        if let Some(v) =
            node.op.shape_inputs().iter().filter_map(|&i| node.input(i)).find(|&v| g.value(v).konst.is_none())
        {
            return Err(node_err(format!(
                "input '{}' decides the output shape, so it must be a constant (an initializer, a Constant node or \
                 computable from them)",
                g.value(v).name
            )));
        }
        // A table has no entry for most codes of a zero tensor: its output is shaped like its input.
        if let (Op::Lookup { .. }, Some(x), Some(&o)) = (&node.op, &dummies[0], node.outputs.first()) {
            g.value_mut(o).shape = Some(x.shape.clone());
            continue;
        }
        let ins: Vec<Option<&Tensor>> = dummies.iter().map(|t| t.as_ref()).collect();
        let outs = eval_op(&node.op, &ins, g.opset).map_err(node_err)?;
        for (&o, t) in node.outputs.iter().zip(outs) {
            g.value_mut(o).shape = Some(t.shape);
        }
    }
    let mut ki = keep.iter();
    g.nodes.retain(|_| *ki.next().unwrap_or(&true));
    // Re-number producers after dropping folded nodes.
    for v in g.values.iter_mut() {
        v.producer = None;
    }
    for (i, n) in g.nodes.iter().enumerate() {
        for &o in &n.outputs {
            g.values[o.0 as usize].producer = Some(crate::ir::NodeId(i as u32));
        }
    }
    Ok(())
}
