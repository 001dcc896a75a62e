//! The design report: per-layer types, widths, pipeline stages and a resource estimate counted
//! from the netlist itself (LUTs per adder bit, carry chains, registers, ROM LUTs, DSPs).

use crate::HlsOptions;
use tachyon_quantize::qir::QModel;
use tachyon_rtl::{Expr, Module, SignalKind};

/// Estimated resources.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Resources {
    pub lut: u64,
    pub ff: u64,
    pub carry8: u64,
    pub dsp: u64,
    pub bram: u64,
}

impl std::ops::AddAssign for Resources {
    fn add_assign(&mut self, o: Resources) {
        self.lut += o.lut;
        self.ff += o.ff;
        self.carry8 += o.carry8;
        self.dsp += o.dsp;
        self.bram += o.bram;
    }
}

/// One layer of the report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LayerReport {
    pub name: String,
    pub kind: String,
    /// ONNX nodes implemented by the layer.
    pub onnx_nodes: Vec<String>,
    pub outputs: usize,
    /// Output element types (`fixed<W,I>` with the exact integer interval).
    pub output_types: Vec<String>,
    pub width_min: u32,
    pub width_max: u32,
    /// Pipeline stage of the layer's inputs and of its registered outputs.
    pub stage_in: u32,
    pub stage_out: u32,
    pub cycles: u32,
    pub estimate: Resources,
}

/// The whole report (`report.json`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    pub top: String,
    pub model: String,
    pub clock_ns: f64,
    pub latency_cycles: u32,
    pub latency_ns: f64,
    pub ii_cycles: u32,
    pub input_bits: u32,
    pub output_bits: u32,
    pub layers: Vec<LayerReport>,
    pub total: Resources,
    /// Float ops of the model left outside the hardware (applied in software).
    pub epilogue: Vec<String>,
    /// How float inputs become the input bus.
    pub input_conversion: String,
}

fn expr_cost(m: &Module, e: &Expr, w: u32) -> Resources {
    let wd = |s: &tachyon_rtl::SignalId| m.signal(*s).width;
    let mut r = Resources::default();
    match e {
        Expr::Add(..) | Expr::Sub(..) | Expr::Neg(_) => {
            r.lut = w as u64;
            r.carry8 = w.div_ceil(8) as u64;
        }
        Expr::Cmp(_, a, b) => {
            let cw = wd(a).max(wd(b));
            r.lut = cw.div_ceil(2) as u64;
            r.carry8 = cw.div_ceil(8) as u64;
        }
        Expr::Mux { .. } => r.lut = w.div_ceil(2) as u64,
        Expr::And(..) | Expr::Or(..) | Expr::Xor(..) | Expr::Not(_) => r.lut = w.div_ceil(2) as u64,
        Expr::Table { index, entries } => {
            let bits = wd(index);
            let luts_per_bit = if bits <= 6 { 1 } else { (1u64 << (bits - 6)) + (1u64 << (bits - 6)) / 2 };
            // Constant columns cost nothing.
            let varying = (0..w)
                .filter(|&k| entries.iter().map(|v| (v >> k) & 1).any(|b| b != entries[0] >> k & 1))
                .count() as u64;
            r.lut = varying * luts_per_bit;
        }
        Expr::Mul(a, b) => {
            let (x, y) = (wd(a), wd(b));
            if x.min(y) <= 4 {
                r.lut = (x * y) as u64;
            } else {
                r.dsp = (x.div_ceil(27) * y.div_ceil(18)).max(1) as u64;
            }
        }
        Expr::Const(_) | Expr::Ext(_) | Expr::Shl(..) | Expr::Shr(..) | Expr::Slice { .. } | Expr::Concat(_) => {}
    }
    r
}

/// Resources per layer name (signals are named `<layer>_…`).
fn per_layer(m: &Module, names: &[String]) -> (Vec<Resources>, Resources) {
    let mut out = vec![Resources::default(); names.len()];
    let mut total = Resources::default();
    let owner = |sig: &str| -> Option<usize> {
        names
            .iter()
            .enumerate()
            .filter(|(_, n)| sig.starts_with(&format!("{n}_")))
            .max_by_key(|(_, n)| n.len())
            .map(|(i, _)| i)
    };
    for a in &m.assigns {
        let s = m.signal(a.dst);
        let r = expr_cost(m, &a.expr, s.width);
        if let Some(i) = owner(&s.name) {
            out[i] += r;
        }
        total += r;
    }
    for reg in &m.regs {
        let s = m.signal(reg.q);
        let r = Resources { ff: s.width as u64, ..Default::default() };
        if let Some(i) = owner(&s.name) {
            out[i] += r;
        }
        total += r;
    }
    (out, total)
}

pub fn build(q: &QModel, m: &Module, opts: &HlsOptions, latency: u32, stages: &[(u32, u32)]) -> Report {
    let names: Vec<String> = q.layers.iter().map(|l| l.name.clone()).collect();
    let (est, total) = per_layer(m, &names);
    let layers = q
        .layers
        .iter()
        .zip(stages)
        .zip(est)
        .map(|((l, &(s0, s1)), e)| {
            let elems = &q.tensor(l.output).elems;
            let mut types: Vec<String> = elems.iter().map(|e| e.describe()).collect();
            types.dedup();
            LayerReport {
                name: l.name.clone(),
                kind: l.kind.mnemonic().into(),
                onnx_nodes: l.origin.clone(),
                outputs: elems.len(),
                output_types: if types.len() > 8 { vec![format!("{} distinct types", types.len())] } else { types },
                width_min: elems.iter().map(|e| e.width()).min().unwrap_or(0),
                width_max: elems.iter().map(|e| e.width()).max().unwrap_or(0),
                stage_in: s0,
                stage_out: s1,
                cycles: s1 - s0,
                estimate: e,
            }
        })
        .collect();
    let bits = |id: Option<tachyon_rtl::SignalId>| id.map(|i| m.signal(i).width).unwrap_or(0);
    let find =
        |n: &str| m.ports.iter().copied().find(|&p| m.signal(p).name == n && m.signal(p).kind != SignalKind::Wire);
    Report {
        top: opts.top.clone(),
        model: q.name.clone(),
        clock_ns: opts.clock_ns,
        latency_cycles: latency,
        latency_ns: latency as f64 * opts.clock_ns,
        ii_cycles: 1,
        input_bits: bits(find("in_data")),
        output_bits: bits(find("out_data")),
        layers,
        total,
        epilogue: q.epilogue.iter().map(|s| format!("{} ({})", s.node, s.op.mnemonic())).collect(),
        input_conversion: match &q.prologue.conv {
            tachyon_quantize::qir::InputConv::Exact { frac } => {
                format!("{} float step(s) then exact quantizer output on the 2^-{frac} grid", q.prologue.steps.len())
            }
            tachyon_quantize::qir::InputConv::Type(t) => {
                format!("{} float step(s) then quantize to {t}", q.prologue.steps.len())
            }
        },
    }
}
