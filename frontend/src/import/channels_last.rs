//! QONNX's channels-last ops (domain `qonnx.custom_op.channels_last`, written by qonnx's
//! `ConvertToChannelsLastAndClean`): `Conv`, `MaxPool` and `BatchNormalization` on NHWC
//! (channels-last) tensors. qonnx's executor runs each as the standard op between two
//! transposes (a Conv's weights, stored `[M, k…, C/group]`, are transposed too); this pass
//! rewrites each such node into standard ops computing the same, so the rest of the importer
//! sees standard ops:
//!
//! ```text
//! y = cl:Conv(x, W, b)   ⇒   x_nchw = Transpose(x, perm=[0, r−1, 1, …, r−2])
//!                            W_nchw = Transpose(W, perm=[0, r−1, 1, …, r−2])
//!                            y_nchw = Conv(x_nchw, W_nchw, b)          (named as the node)
//!                            y      = Transpose(y_nchw, perm=[0, 2, …, r−1, 1])
//! y = cl:MaxPool(x)      ⇒   the same without weights
//! y = cl:BatchNormalization(x, s, b, m, v)
//!                        ⇒   x_2d = Flatten(x, axis=−1)                [events·pixels, C]
//!                            y_2d = BatchNormalization(x_2d, s, b, m, v) (named as the node)
//!                            y    = Reshape(y_2d, Shape(x))
//! ```
//!
//! The batch norm keeps its elements in place (the channel is the last axis either way), so a
//! float batch norm between quantizers still reaches the next quantizer as one exact chain.
//! The transposes are wiring (the stream style reads them as layout changes). The rank `r`
//! comes from `kernel_shape`, or from a Conv's weight initializer.

use super::upgrade::Names;
use crate::proto::{AttributeProto, GraphProto, NodeProto};

/// The domain of qonnx's channels-last ops.
pub const CHANNELS_LAST_DOMAIN: &str = "qonnx.custom_op.channels_last";

/// The ops of that domain this pass rewrites.
pub const OPS: [&str; 3] = ["Conv", "MaxPool", "BatchNormalization"];

/// `perm` taking a channels-last tensor of rank `r` to channels-first (qonnx's
/// `to_channels_first_args`).
fn to_first(r: usize) -> Vec<i64> {
    let mut q: Vec<i64> = (0..r as i64).collect();
    let last = q.pop().unwrap_or(0);
    q.insert(1, last);
    q
}

/// `perm` taking a channels-first tensor of rank `r` to channels-last (qonnx's
/// `to_channels_last_args`).
fn to_last(r: usize) -> Vec<i64> {
    let mut p: Vec<i64> = (0..r as i64).collect();
    let c = p.remove(1);
    p.push(c);
    p
}

fn transpose(name: String, input: &str, output: &str, perm: Vec<i64>) -> NodeProto {
    NodeProto {
        input: vec![input.to_string()],
        output: vec![output.to_string()],
        name,
        op_type: "Transpose".into(),
        attribute: vec![AttributeProto {
            name: "perm".into(),
            r#type: crate::proto::attribute_type::INTS,
            ints: perm,
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A channels-last batch norm as the standard one on the `[…, C]` rows of its input.
fn batch_norm(n: &NodeProto, out: &mut Vec<NodeProto>, names: &mut Names) {
    let base = if n.name.is_empty() { n.output[0].clone() } else { n.name.clone() };
    let node = |op: &str, name: String, input: Vec<String>, output: &str, attribute: Vec<AttributeProto>| NodeProto {
        input,
        output: vec![output.to_string()],
        name,
        op_type: op.into(),
        attribute,
        ..Default::default()
    };
    let (x2, y2, shape) = (
        names.fresh(&format!("{}_rows", n.input[0])),
        names.fresh(&format!("{}_rows", n.output[0])),
        names.fresh(&format!("{}_shape", n.input[0])),
    );
    let axis =
        AttributeProto { name: "axis".into(), r#type: crate::proto::attribute_type::INT, i: -1, ..Default::default() };
    out.push(node("Flatten", names.fresh(&format!("{base}_to_rows")), vec![n.input[0].clone()], &x2, vec![axis]));
    let mut bn = n.clone();
    bn.domain = String::new();
    bn.input[0] = x2;
    bn.output[0] = y2.clone();
    out.push(bn);
    out.push(node("Shape", names.fresh(&format!("{base}_shape")), vec![n.input[0].clone()], &shape, vec![]));
    out.push(node("Reshape", names.fresh(&format!("{base}_from_rows")), vec![y2, shape], &n.output[0], vec![]));
}

/// Rewrites every channels-last Conv, MaxPool and BatchNormalization of `g` into standard
/// ops between transposes (see the module doc). A node whose rank cannot be found is left as
/// it is, and reported as unsupported by the importer with the reason.
pub(super) fn expand(g: &mut GraphProto, names: &mut Names) {
    let mut out = Vec::with_capacity(g.node.len());
    let nodes = std::mem::take(&mut g.node);
    for n in nodes {
        let ours = n.domain == CHANNELS_LAST_DOMAIN && OPS.contains(&n.op_type.as_str());
        if !ours || n.output.len() != 1 || n.input.first().is_none_or(String::is_empty) {
            out.push(n); // (a malformed one is refused by the importer)
            continue;
        }
        if n.op_type == "BatchNormalization" {
            batch_norm(&n, &mut out, names);
            continue;
        }
        let kernel = n.attribute.iter().find(|a| a.name == "kernel_shape").map(|a| a.ints.len()).filter(|&k| k > 0);
        let weights = || n.input.get(1).and_then(|w| g.initializer.iter().find(|t| &t.name == w)).map(|t| t.dims.len());
        let rank = kernel.map(|k| k + 2).or_else(|| if n.op_type == "Conv" { weights() } else { None });
        let Some(r) = rank.filter(|&r| r >= 3) else {
            out.push(n);
            continue;
        };
        let base = if n.name.is_empty() { n.output[0].clone() } else { n.name.clone() };
        let mut std_node = n.clone();
        std_node.domain = String::new();
        let x_first = names.fresh(&format!("{}_nchw", n.input[0]));
        out.push(transpose(names.fresh(&format!("{base}_to_nchw")), &n.input[0], &x_first, to_first(r)));
        std_node.input[0] = x_first;
        if n.op_type == "Conv" {
            if let Some(w) = n.input.get(1).filter(|w| !w.is_empty()) {
                let w_first = names.fresh(&format!("{w}_nchw"));
                out.push(transpose(names.fresh(&format!("{base}_weights_to_nchw")), w, &w_first, to_first(r)));
                std_node.input[1] = w_first;
            }
        }
        let y_first = names.fresh(&format!("{}_nchw", n.output[0]));
        std_node.output[0] = y_first.clone();
        out.push(std_node);
        out.push(transpose(names.fresh(&format!("{base}_to_nhwc")), &y_first, &n.output[0], to_last(r)));
    }
    g.node = out;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perms_match_qonnx() {
        // qonnx: to_channels_first_args(4) = (0, 3, 1, 2); to_channels_last_args(4) = (0, 2, 3, 1).
        assert_eq!(to_first(4), vec![0, 3, 1, 2]);
        assert_eq!(to_last(4), vec![0, 2, 3, 1]);
        assert_eq!(to_first(3), vec![0, 2, 1]);
        assert_eq!(to_last(3), vec![0, 2, 1]);
    }
}
