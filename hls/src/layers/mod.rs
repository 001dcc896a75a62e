//! Lowering of each quantized-IR layer kind to netlist operations (one file per family).

pub mod cse;
pub mod linear;
pub mod misc;
pub mod requant;
pub mod softmax;

use crate::pipeline::{Builder, Val};
use tachyon_quantize::qir::LayerKind;
use tachyon_quantize::Elem;

/// Lowers one layer; `xs` are the input values, `out` the output element types.
pub fn lower_layer(b: &mut Builder, kind: &LayerKind, xs: &[Val], out: &[Elem]) -> Vec<Val> {
    let ys: Vec<Val> = match kind {
        LayerKind::Linear { rows, bias } => linear::lower_linear(b, xs, rows, bias),
        LayerKind::Requant(rs) => {
            xs.iter().zip(rs).zip(out).map(|((&x, r), e)| requant::requant(b, x, r, e.lo, e.hi)).collect()
        }
        LayerKind::Relu => xs.iter().map(|&x| misc::relu(b, x)).collect(),
        LayerKind::Threshold(ss) => xs.iter().zip(ss).map(|(&x, s)| misc::steps(b, x, s)).collect(),
        LayerKind::Lookup(t) => xs.iter().map(|&x| misc::lookup(b, x, t)).collect(),
        LayerKind::Softmax(s) => softmax::softmax(b, xs, s),
        LayerKind::Gather(src) => src.iter().map(|&j| xs[j as usize]).collect(),
    };
    // Every value lies in its element's interval: narrow wires that the hardware sized wider.
    ys.into_iter().zip(out).map(|(y, e)| requant::narrow(b, y, e.lo.max(y.lo), e.hi.min(y.hi))).collect()
}

/// Layers after which all outputs are registered (a pipeline boundary): the heavy ones. Light
/// layers (ReLU, requantization, thresholds, wiring) chain into the next stage while the delay
/// model says they fit the clock.
pub fn is_boundary(kind: &LayerKind) -> bool {
    matches!(kind, LayerKind::Linear { .. } | LayerKind::Softmax(_) | LayerKind::Lookup(_))
}
