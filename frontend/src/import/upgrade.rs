//! Upgrades of old forms that need new tensors or nodes, done on the decoded protobuf before the
//! graph is built (what ONNX's version converter would do), and of QONNX's channels-last ops
//! ([`super::channels_last`]). Forms that only change attributes (Softmax's axis before 13,
//! Slice/Pad/Clip/Split/Reduce attributes, Cast's type name before 6, BatchNormalization's
//! `is_test`/`spatial`, Dropout's `is_test`, `consumed_inputs`, Concat's default axis before 4,
//! Upsample) are read by the op importers themselves.
//!
//! ```text
//! opset 1–4:  y = Reshape(x) {shape=[1,-1]}  ⇒  y = Reshape(x, y_shape)   y_shape: int64 [1,-1]
//! ```

use crate::proto::{data_type, GraphProto, TensorProto};
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

/// Upgrades `g` (default-domain opset `opset`) in place.
pub(super) fn upgrade(g: &mut GraphProto, opset: i64) {
    let mut names = Names::of(g);
    if opset < 5 {
        reshape_attribute(g, &mut names);
    }
    super::channels_last::expand(g, &mut names)
}
