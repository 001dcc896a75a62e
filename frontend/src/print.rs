//! Text dump of a graph, as `tachyon inspect` prints it.

use crate::ir::{AutoPad, Graph, Op, Window};
use std::fmt::Write;

/// The attributes of a window that differ from the defaults, e.g. ` kernel=[3, 3] strides=[2, 2]`.
fn window_str(w: &Window) -> String {
    let mut s = String::new();
    for (name, v) in [("kernel", &w.kernel), ("strides", &w.strides), ("dilations", &w.dilations), ("pads", &w.pads)] {
        if let Some(v) = v {
            let _ = write!(s, " {name}={v:?}");
        }
    }
    if w.auto_pad != AutoPad::NotSet {
        let _ = write!(s, " auto_pad={:?}", w.auto_pad);
    }
    s
}

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
            Op::FixedQuant { round, overflow } => format!("  ; rounding={round:?} overflow={overflow:?}"),
            Op::Lookup { frac, first } => format!("  ; frac={frac} first={first}"),
            Op::Gemm { alpha, beta, trans_a, trans_b } => {
                format!("  ; alpha={alpha} beta={beta} transA={trans_a} transB={trans_b}")
            }
            Op::Softmax { axis, .. } => format!("  ; axis={axis}"),
            Op::Transpose { perm } => format!("  ; perm={perm:?}"),
            Op::LeakyRelu { alpha } => format!("  ; alpha={alpha}"),
            Op::HardSigmoid { alpha, beta } => format!("  ; alpha={alpha} beta={beta}"),
            Op::Func(crate::ir::FloatFn::Selu { alpha, gamma }) => format!("  ; alpha={alpha} gamma={gamma}"),
            Op::Func(crate::ir::FloatFn::Elu { alpha } | crate::ir::FloatFn::Celu { alpha }) => {
                format!("  ; alpha={alpha}")
            }
            Op::Clip { min, max } if min.is_some() || max.is_some() => format!("  ; min={min:?} max={max:?}"),
            Op::Reduce { axes, keepdims, noop_with_empty_axes, .. } => {
                let axes = axes.as_ref().map_or("input".into(), |a| format!("{a:?}"));
                format!("  ; axes={axes} keepdims={keepdims} noop_with_empty_axes={noop_with_empty_axes}")
            }
            Op::Einsum { equation } => format!("  ; {equation}"),
            Op::Split { axis, split, .. } => format!("  ; axis={axis} split={split:?}"),
            Op::Conv { window, group } => format!("  ;{} group={group}", window_str(window)),
            Op::MaxPool { window, ceil_mode } => format!("  ;{} ceil_mode={ceil_mode}", window_str(window)),
            Op::AveragePool { window, ceil_mode, count_include_pad } => {
                format!("  ;{} ceil_mode={ceil_mode} count_include_pad={count_include_pad}", window_str(window))
            }
            Op::Pad { mode, .. } => format!("  ; mode={mode:?}"),
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
