//! Text dump of a graph, as `tachyon inspect` prints it.

use crate::ir::{Graph, Op};
use std::fmt::Write;

fn shape_str(s: &Option<Vec<usize>>) -> String {
    match s {
        Some(s) => format!("[{}]", s.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("×")),
        None => "[?]".into(),
    }
}

/// One line per node: `name: Op(inputs) -> outputs  ; attributes`, constants summarized.
pub fn dump(g: &Graph) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "graph '{}' (opset {}, producer '{}')", g.name, g.opset, g.producer);
    for &i in &g.inputs {
        let v = g.value(i);
        let _ = writeln!(s, "  input  {} {}", v.name, shape_str(&v.shape));
    }
    for n in &g.nodes {
        let ins: Vec<String> = n
            .inputs
            .iter()
            .map(|i| match i {
                None => "_".into(),
                Some(i) => {
                    let v = g.value(*i);
                    match &v.konst {
                        Some(k) if k.len() == 1 => format!("{}", k.data[0]),
                        Some(k) => format!("const{}", shape_str(&Some(k.shape.clone()))),
                        None => format!("{}{}", v.name, shape_str(&v.shape)),
                    }
                }
            })
            .collect();
        let outs: Vec<String> =
            n.outputs.iter().map(|o| format!("{}{}", g.value(*o).name, shape_str(&g.value(*o).shape))).collect();
        let attrs = match &n.op {
            Op::Quant { signed, narrow, round } => format!("  ; signed={signed} narrow={narrow} rounding={round:?}"),
            Op::Trunc { signed, narrow, round } => format!("  ; signed={signed} narrow={narrow} rounding={round:?}"),
            Op::Gemm { alpha, beta, trans_a, trans_b } => {
                format!("  ; alpha={alpha} beta={beta} transA={trans_a} transB={trans_b}")
            }
            Op::Softmax { axis, .. } => format!("  ; axis={axis}"),
            Op::Transpose { perm } => format!("  ; perm={perm:?}"),
            Op::Unsupported { reason } => format!("  ; UNSUPPORTED: {reason}"),
            _ => String::new(),
        };
        let _ = writeln!(s, "  {}: {}({}) -> {}{}", n.name, n.op.mnemonic(), ins.join(", "), outs.join(", "), attrs);
    }
    for &o in &g.outputs {
        let v = g.value(o);
        let _ = writeln!(s, "  output {} {}", v.name, shape_str(&v.shape));
    }
    s
}
