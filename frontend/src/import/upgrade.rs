//! Upgrades of old forms that need new tensors or nodes, done on the decoded protobuf before the
//! graph is built (what ONNX's version converter would do), and of QONNX's channels-last ops
//! ([`super::channels_last`]). Forms that only change attributes (Softmax's axis before 13,
//! Slice/Pad/Clip/Split/Reduce attributes, Cast's type name before 6, BatchNormalization's
//! `is_test`/`spatial`, Dropout's `is_test`, `consumed_inputs`, Concat's default axis before 4,
//! Upsample) are read by the op importers themselves.
//!
//! ```text
//! opset 1–4:  y = Reshape(x) {shape=[1,-1]}  ⇒  y = Reshape(x, y_shape)   y_shape: int64 [1,-1]
//! opset 1–6:  y = Add(x, b) {broadcast=1, axis=1}, x: [N,C,H,W], b: [C]
//!                                          ⇒  y = Add(x, b_aligned)      b_aligned: [C,1,1]
//! ```
//!
//! The legacy broadcast needs the rank of A, read from the model's shapes (graph inputs,
//! `value_info`, initializers) as ONNX's converter reads them, and a constant B; otherwise the
//! importer refuses the node, saying why.

use crate::proto::{data_type, GraphProto, TensorProto, TypeValue};
use std::collections::HashSet;

/// The tensor and node names of a graph, handing out fresh ones.
pub(super) struct Names(HashSet<String>);

impl Names {
    pub(super) fn of(g: &GraphProto) -> Names {
        let mut set = HashSet::new();
        for n in &g.node {
            set.extend(n.input.iter().chain(&n.output).cloned());
            set.insert(n.name.clone());
        }
        set.extend(g.initializer.iter().map(|t| t.name.clone()));
        set.extend(g.input.iter().chain(&g.output).chain(&g.value_info).map(|v| v.name.clone()));
        Names(set)
    }
    /// `base`, or `base_1`, `base_2`, … if taken; reserved from now on.
    pub(super) fn fresh(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut k = 1;
        while self.0.contains(&name) {
            name = format!("{base}_{k}");
            k += 1;
        }
        self.0.insert(name.clone());
        name
    }
}

/// The ONNX data type of a name as Cast of opsets < 6 writes it ("FLOAT", "INT64", …).
pub(super) fn data_type_named(name: &str) -> Option<i32> {
    Some(match name.to_ascii_uppercase().as_str() {
        "FLOAT" | "FLOAT32" => data_type::FLOAT,
        "UINT8" => data_type::UINT8,
        "INT8" => data_type::INT8,
        "UINT16" => data_type::UINT16,
        "INT16" => data_type::INT16,
        "INT32" => data_type::INT32,
        "INT64" => data_type::INT64,
        "BOOL" => data_type::BOOL,
        "FLOAT16" => data_type::FLOAT16,
        "DOUBLE" | "FLOAT64" => data_type::DOUBLE,
        "UINT32" => data_type::UINT32,
        "UINT64" => data_type::UINT64,
        _ => return None,
    })
}

/// Reshape of opsets < 5 takes the target shape as the attribute `shape`: it becomes an
/// int64 initializer read as the second input.
fn reshape_attribute(g: &mut GraphProto, names: &mut Names) {
    let mut added = vec![];
    for n in g.node.iter_mut().filter(|n| n.op_type == "Reshape" && (n.domain.is_empty() || n.domain == "ai.onnx")) {
        let Some(k) = n.attribute.iter().position(|a| a.name == "shape") else { continue };
        if n.input.len() != 1 {
            continue; // both forms: the importer refuses it
        }
        let shape = n.attribute.remove(k).ints;
        let base = n.output.first().cloned().unwrap_or_else(|| n.name.clone());
        let name = names.fresh(&format!("{base}_shape"));
        added.push(TensorProto {
            dims: vec![shape.len() as i64],
            data_type: data_type::INT64,
            int64_data: shape,
            name: name.clone(),
            ..Default::default()
        });
        n.input.push(name);
    }
    g.initializer.extend(added);
}

/// The rank of tensor `name` where the model states it: an initializer, or a graph input or
/// `value_info` with a shape.
fn stated_rank(g: &GraphProto, name: &str) -> Option<usize> {
    if let Some(t) = g.initializer.iter().find(|t| t.name == name) {
        return Some(t.dims.len());
    }
    let vi = g.input.iter().chain(&g.value_info).find(|v| v.name == name)?;
    match vi.r#type.as_ref()?.value.as_ref()? {
        TypeValue::TensorType(tt) => tt.shape.as_ref().map(|s| s.dim.len()),
        _ => None,
    }
}

/// Element-wise ops of opsets < 7 with `broadcast=1` and an `axis`: B (an initializer) gets
/// trailing unit axes so that numpy's broadcasting aligns it from `axis` on, and the
/// attributes go. Without `axis` the old rule is numpy's for the shapes it allowed.
fn legacy_broadcast(g: &mut GraphProto, names: &mut Names) {
    let mut added = vec![];
    for k in 0..g.node.len() {
        let n = &g.node[k];
        let elementwise = matches!(n.op_type.as_str(), "Add" | "Sub" | "Mul" | "Div" | "Pow");
        let attr = |name: &str| n.attribute.iter().find(|a| a.name == name).map(|a| a.i);
        if !elementwise || !(n.domain.is_empty() || n.domain == "ai.onnx") || attr("broadcast") != Some(1) {
            continue;
        }
        let Some(axis) = attr("axis") else { continue };
        let (Some(a), Some(b)) = (n.input.first(), n.input.get(1)) else { continue };
        let Some(rank_a) = stated_rank(g, a) else { continue };
        let Some(t) = g.initializer.iter().find(|t| &t.name == b) else { continue };
        let axis = if axis < 0 { axis + rank_a as i64 } else { axis };
        let trailing = rank_a as i64 - axis - t.dims.len() as i64;
        if axis < 0 || trailing < 0 {
            continue; // malformed: the importer refuses it
        }
        let mut aligned = t.clone();
        aligned.dims.extend(std::iter::repeat_n(1, trailing as usize));
        aligned.name = names.fresh(&format!("{b}_aligned"));
        let n = &mut g.node[k];
        n.input[1] = aligned.name.clone();
        n.attribute.retain(|a| a.name != "broadcast" && a.name != "axis");
        added.push(aligned);
    }
    g.initializer.extend(added);
}

/// Upgrades `g` (default-domain opset `opset`) in place.
pub(super) fn upgrade(g: &mut GraphProto, opset: i64) {
    let mut names = Names::of(g);
    if opset < 5 {
        reshape_attribute(g, &mut names);
    }
    if opset < 7 {
        legacy_broadcast(g, &mut names);
    }
    super::channels_last::expand(g, &mut names)
}
