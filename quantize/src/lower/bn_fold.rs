//! Float models: a BatchNormalization right after a dense layer is folded into the dense
//! layer's float weights and bias before they are quantized, as hls4ml does:
//! `w'ᵢₒ = Q_w(wᵢₒ · aₒ)`, `b'ₒ = Q_b(bₒ · aₒ + cₒ)` with the batch norm's per-element
//! `aₒ = γ/√(σ² + ε)` and `cₒ = β − μ·aₒ`, in the dense node's configured weight and bias types.
//!
//! Without this the batch norm becomes a second Linear layer with its own quantized constants,
//! which `fuse_linear` multiplies into the dense layer's: products of two 16-bit constants,
//! ~32-bit coefficients that need a DSP each (a 3-layer MLP went from 67 to 3,354 DSPs).
//!
//! Before: `t1 = linear t0 (Gemm)`, `t2 = linear t1 (BatchNormalization, diagonal)`;
//! after: `t2 = linear t0 (Gemm, BatchNormalization)`, still waiting for the dense node's result
//! type. Applies only when the batch norm reads the dense layer's output directly (the layer just
//! built, its result type not yet applied) and the dense node's constants are at hand; otherwise
//! the batch norm stays a layer of its own. [`after`] does the same for a Conv (and any weighted
//! op lowered by probing), before the op is lowered.

use super::Lowerer;
use crate::config::Field;
use crate::error::QuantizeError;
use crate::qir::{LayerKind, TensorId};
use tachyon_frontend::eval::batch_norm_layout;
use tachyon_frontend::eval::{broadcast_index, broadcast_shape, transpose};
use tachyon_frontend::{Node, Op};

/// Folds the affine map `y = scale ⊙ x + offset` (per element of `t`, from the batch norm `n`)
/// into the dense layer that produced `t`, naming the result `out_name` (the batch norm's
/// output); `None` when `t` is not the output of a float dense layer.
pub(crate) fn fold_into_dense(
    l: &mut Lowerer,
    n: &Node,
    t: TensorId,
    scale: &[f64],
    offset: &[f64],
    out_name: &str,
) -> Result<Option<TensorId>, QuantizeError> {
    let Some(owner) = l.unfinished.get(&t).cloned() else { return Ok(None) };
    let Some(last) = l.m.layers.last() else { return Ok(None) };
    let is_last_tensor = t.0 as usize + 1 == l.m.tensors.len();
    if last.output != t || !is_last_tensor || last.origin != [owner.clone()] || last.inputs.len() != 1 {
        return Ok(None);
    }
    if !matches!(last.kind, LayerKind::Linear { .. }) {
        return Ok(None);
    }
    let Some(dense) = l.g.nodes.iter().find(|d| d.name == owner) else { return Ok(None) };
    let (alpha, beta, trans_b) = match dense.op {
        Op::Gemm { alpha, beta, trans_a: false, trans_b } => (alpha, beta, trans_b),
        Op::MatMul => (1.0, 1.0, false),
        _ => return Ok(None),
    };
    let Some(w) = l.g.konst(dense.input(1)).cloned() else { return Ok(None) };
    if w.shape.len() != 2 {
        return Ok(None);
    }
    let w = if trans_b { transpose(&w, &[1, 0]) } else { w };
    let (k, nout) = (w.shape[0], w.shape[1]);
    let count = scale.len();
    if nout == 0 || !count.is_multiple_of(nout) || l.elems(last.inputs[0]).len() != count / nout * k {
        return Ok(None);
    }
    let rows_in = count / nout;
    let bias_shape = [rows_in, nout];
    let bias: Vec<f64> = match dense.input(2).map(|v| l.g.konst(Some(v))) {
        None => vec![0.0; count],
        Some(None) => return Ok(None),
        Some(Some(c)) => {
            if broadcast_shape(&bias_shape, &c.shape).ok().as_deref() != Some(&bias_shape[..]) {
                return Ok(None);
            }
            (0..count).map(|e| c.data[broadcast_index(&bias_shape, &c.shape, e)] * beta).collect()
        }
    };
    let x = last.inputs[0];
    let (old_name, shape) = (last.name.clone(), l.m.tensor(t).shape.clone());
    let dense = dense.clone();
    let mut rows = Vec::with_capacity(count);
    let mut biases = Vec::with_capacity(count);
    for r in 0..rows_in {
        for o in 0..nout {
            let e = r * nout + o;
            let mut row = Vec::with_capacity(k);
            for i in 0..k {
                let (m, f) = l.constant(&owner, w.data[i * nout + o] * alpha * scale[e], Field::Weight)?;
                row.push(((r * k + i) as u32, m, f));
            }
            rows.push(row);
            biases.push(l.constant(&owner, bias[e] * scale[e] + offset[e], Field::Bias)?);
        }
    }
    // Replace the unfolded dense layer (the last layer and tensor) by the folded one.
    l.m.layers.pop();
    l.m.tensors.pop();
    l.names.remove(&old_name);
    l.unfinished.remove(&t);
    let y = l.build_linear(&dense, &[x], rows, biases, shape, out_name, None)?;
    if let Some(layer) = l.m.layers.last_mut().filter(|layer| layer.output == y) {
        layer.origin.push(n.name.clone());
    }
    l.unfinished.insert(y, owner);
    Ok(Some(y))
}

/// A batch norm to fold: its name, and `a`, `c` of `y = a·x + c` per element.
pub(crate) type Folded = (String, Vec<f64>, Vec<f64>);

/// Float models: the batch norm that alone reads the output of the weighted op `n` (Conv,
/// ConvTranspose, a MatMul/Gemm/Einsum lowered structurally), as `(its name, a, c)` per output
/// element, to be folded into `n`'s float coefficients before they are quantized (hls4ml's
/// batch-norm fusion); `None` when there is none.
pub(crate) fn after(l: &Lowerer, n: &Node) -> Result<Option<Folded>, QuantizeError> {
    if !matches!(n.op_type.as_str(), "Conv" | "ConvTranspose" | "MatMul" | "Gemm" | "Einsum") {
        return Ok(None);
    }
    let v = n.outputs[0];
    if l.g.outputs.contains(&v) {
        return Ok(None);
    }
    let readers: Vec<&Node> = l.g.nodes.iter().filter(|m| m.inputs.contains(&Some(v))).collect();
    let [bn] = readers[..] else { return Ok(None) };
    let Op::BatchNorm { epsilon } = bn.op else { return Ok(None) };
    if bn.input(0) != Some(v) || bn.outputs.len() != 1 {
        return Ok(None);
    }
    let params: Option<Vec<&tachyon_frontend::Tensor>> = (1..=4).map(|i| l.g.konst(bn.input(i))).collect();
    let Some(p) = params else { return Ok(None) };
    let Some(shape) = l.g.value(v).shape.clone() else { return Ok(None) };
    let count: usize = shape.iter().product();
    let (c, inner) = batch_norm_layout(&shape, p[0].data.len()).map_err(|e| l.err(bn, e))?;
    if p.iter().any(|t| t.data.len() != c) {
        return Ok(None);
    }
    let a: Vec<f64> = (0..c).map(|k| p[0].data[k] / (p[3].data[k] + epsilon).sqrt()).collect();
    let scale = (0..count).map(|i| a[(i / inner) % c]).collect();
    let offset = (0..count)
        .map(|i| {
            let k = (i / inner) % c;
            p[1].data[k] - p[2].data[k] * a[k]
        })
        .collect();
    Ok(Some((bn.name.clone(), scale, offset)))
}
