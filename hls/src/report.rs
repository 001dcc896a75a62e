//! The design report: per-layer types, widths, pipeline stages and a resource estimate counted
//! from the netlist itself (LUTs per adder bit, carry chains, registers, ROM LUTs, DSPs).

use crate::HlsOptions;
use tachyon_quantize::qir::QModel;
use tachyon_rtl::{Addend, Expr, Fabric, Module, SignalKind};

/// Estimated resources.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Resources {
    pub lut: u64,
    pub ff: u64,
    pub carry8: u64,
    pub dsp: u64,
    pub bram: u64,
    /// Shift-register LUTs (SRL16/SRL32): runs of registers without reset that only feed the
    /// next one (line buffers, long delay chains), which synthesis packs into LUTs. Counted
    /// apart from `lut`, as yosys reports them.
    #[serde(default)]
    pub srl: u64,
}

impl std::ops::AddAssign for Resources {
    fn add_assign(&mut self, o: Resources) {
        self.lut += o.lut;
        self.ff += o.ff;
        self.carry8 += o.carry8;
        self.dsp += o.dsp;
        self.bram += o.bram;
        self.srl += o.srl;
    }
}

/// One layer of the report.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
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
    /// `parallel`: the layer computes all its outputs for one input at once; `stream`: one
    /// output pixel (all channels) at a time, every `pixel_interval` cycles.
    pub style: String,
    pub pixel_interval: Option<u64>,
    /// Cycles between inputs the layer accepts (the design's II: every layer keeps pace).
    pub ii_cycles: u32,
    pub estimate: Resources,
}

/// The whole report (`report.json`).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Report {
    pub top: String,
    pub model: String,
    #[serde(deserialize_with = "null_is_nan")]
    pub clock_ns: f64,
    pub latency_cycles: u32,
    #[serde(deserialize_with = "null_is_nan")]
    pub latency_ns: f64,
    /// Estimated delay of the slowest stage (logic plus register overhead) by the delay model
    /// of [`crate::delay`], and the clock it would allow.
    #[serde(deserialize_with = "null_is_nan")]
    pub critical_stage_ns: f64,
    #[serde(deserialize_with = "null_is_nan")]
    pub fmax_mhz_estimate: f64,
    pub ii_cycles: u32,
    /// `parallel` or `stream` (see [`crate::layers::stream`]).
    pub style: String,
    /// Inferences per microsecond at the target clock (1000 / (II · clock_ns)).
    #[serde(deserialize_with = "null_is_nan")]
    pub throughput_per_us: f64,
    /// Stream style: pixels (beats) per frame.
    pub frame_beats: Option<usize>,
    pub input_bits: u32,
    pub output_bits: u32,
    pub layers: Vec<LayerReport>,
    pub total: Resources,
    /// Float ops of the model left outside the hardware (applied in software).
    pub epilogue: Vec<String>,
    /// How float inputs become the input bus.
    pub input_conversion: String,
}

/// A float of the report as written: JSON writes a non-finite value (the Fmax of a design with no
/// logic) as `null`, read back as NaN.
fn null_is_nan<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(<Option<f64> as serde::Deserialize>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// The bits of every signal that are read, by a backward pass from the outputs.
fn live_bits(m: &Module) -> Vec<(u32, u32)> {
    let n = m.signals.len();
    let mut live = vec![(0u32, 0u32); n];
    let widen = |live: &mut Vec<(u32, u32)>, s: tachyon_rtl::SignalId, lo: u32, hi: u32| {
        let w = m.signal(s).width;
        let (lo, hi) = (lo.min(w), hi.min(w));
        if lo >= hi {
            return;
        }
        let e = &mut live[s.index()];
        *e = if e.0 >= e.1 { (lo, hi) } else { (e.0.min(lo), e.1.max(hi)) };
    };
    for &p in &m.ports {
        if m.signal(p).kind == SignalKind::Output {
            live[p.index()] = (0, m.signal(p).width);
        }
    }
    // Reads of `x` at bits [lo, hi) of a value extended from it: its top bit stands in for the
    // extension when it is signed.
    let read_ext = |live: &mut Vec<(u32, u32)>, x: tachyon_rtl::SignalId, lo: u32, hi: u32| {
        let sx = m.signal(x);
        widen(live, x, lo, hi);
        if hi > sx.width && sx.signed {
            widen(live, x, sx.width - 1, sx.width);
        }
    };
    // Each pass settles one more register stage; stop when nothing changes.
    loop {
        let before = live.clone();
        for a in m.assigns.iter().rev() {
            let (lo, hi) = live[a.dst.index()];
            if lo >= hi {
                continue;
            }
            match &a.expr {
                Expr::Const(_) => {}
                Expr::Ext(x) | Expr::Not(x) => read_ext(&mut live, *x, lo, hi),
                Expr::And(x, y) | Expr::Or(x, y) | Expr::Xor(x, y) => {
                    read_ext(&mut live, *x, lo, hi);
                    read_ext(&mut live, *y, lo, hi);
                }
                Expr::Add(x, y) | Expr::Sub(x, y) => {
                    // Carries: every bit below the top read one.
                    read_ext(&mut live, *x, 0, hi);
                    read_ext(&mut live, *y, 0, hi);
                }
                Expr::Neg(x) => read_ext(&mut live, *x, 0, hi),
                Expr::Add3(t) => {
                    for d in t {
                        read_ext(&mut live, d.sig, 0, hi.saturating_sub(d.shift));
                    }
                }
                Expr::Add3Gated { t, gate } => {
                    read_ext(&mut live, *gate, 0, 1);
                    for d in t {
                        read_ext(&mut live, d.sig, 0, hi.saturating_sub(d.shift));
                    }
                }
                Expr::GatedAdd(t) => {
                    for g in t {
                        read_ext(&mut live, g.gate, 0, 1);
                        read_ext(&mut live, g.term.sig, 0, hi.saturating_sub(g.term.shift));
                    }
                }
                Expr::Shl(x, k) => read_ext(&mut live, *x, lo.saturating_sub(*k), hi.saturating_sub(*k)),
                Expr::Shr(x, k) => read_ext(&mut live, *x, lo + k, hi + k),
                Expr::Slice { src, lo: o } => widen(&mut live, *src, lo + o, hi + o),
                Expr::Concat(parts) => {
                    let mut at = 0u32;
                    for p in parts.iter().rev() {
                        let w = m.signal(*p).width;
                        widen(&mut live, *p, lo.saturating_sub(at), hi.saturating_sub(at));
                        at += w;
                    }
                }
                Expr::Mux { sel, t, f } => {
                    widen(&mut live, *sel, 0, 1);
                    read_ext(&mut live, *t, lo, hi);
                    read_ext(&mut live, *f, lo, hi);
                }
                Expr::Cmp(_, x, y) | Expr::Mul(x, y) => {
                    widen(&mut live, *x, 0, u32::MAX);
                    widen(&mut live, *y, 0, u32::MAX);
                }
                Expr::Table { index, .. } => widen(&mut live, *index, 0, u32::MAX),
            }
        }
        for r in &m.regs {
            let (lo, hi) = live[r.q.index()];
            widen(&mut live, r.d, lo, hi);
        }
        if live == before {
            return live;
        }
    }
}

/// Per signal: how many low bits are known to be constant zero, and whether it is a constant.
/// This is what decides an adder's LUT count after synthesis: a bit position needs a LUT only
/// where both operands carry a variable bit (constant and zero bits ride the carry chain).
pub(crate) struct BitFacts {
    low_zeros: Vec<u32>,
    constant: Vec<bool>,
    /// Bits `[lo, hi)` of each signal that anything reads (synthesis removes the logic and the
    /// flip-flops of the others, e.g. accumulator bits below a requantization's shift).
    live: Vec<(u32, u32)>,
}

impl BitFacts {
    pub(crate) fn of(m: &Module) -> BitFacts {
        let n = m.signals.len();
        let mut f = BitFacts { low_zeros: vec![0; n], constant: vec![false; n], live: vec![(0, 0); n] };
        // Assignments are created operands-first; registers copy their input's facts. Two passes
        // settle values read through a register before their assignment is listed.
        for _ in 0..2 {
            for a in &m.assigns {
                let d = a.dst.index();
                let w = m.signal(a.dst).width;
                let lz = |s: &tachyon_rtl::SignalId| f.low_zeros[s.index()];
                let (z, c) = match &a.expr {
                    Expr::Const(v) => (if *v == 0 { w } else { v.trailing_zeros().min(w) }, true),
                    Expr::Shl(s, k) => (lz(s) + k, f.constant[s.index()]),
                    Expr::Ext(s) => (lz(s), f.constant[s.index()]),
                    Expr::Add(x, y) | Expr::Sub(x, y) => {
                        (lz(x).min(lz(y)), f.constant[x.index()] && f.constant[y.index()])
                    }
                    Expr::Neg(x) => (lz(x), f.constant[x.index()]),
                    Expr::Add3(t) => (
                        t.iter().map(|d| lz(&d.sig) + d.shift).min().unwrap_or(0),
                        t.iter().all(|d| f.constant[d.sig.index()]),
                    ),
                    Expr::Add3Gated { t, gate } => (
                        t.iter().map(|d| lz(&d.sig) + d.shift).min().unwrap_or(0),
                        f.constant[gate.index()] && t.iter().all(|d| f.constant[d.sig.index()]),
                    ),
                    Expr::GatedAdd(t) => (
                        t.iter().map(|g| lz(&g.term.sig) + g.term.shift).min().unwrap_or(0),
                        t.iter().all(|g| f.constant[g.term.sig.index()] && f.constant[g.gate.index()]),
                    ),
                    Expr::Mul(x, y) => (lz(x) + lz(y), f.constant[x.index()] && f.constant[y.index()]),
                    Expr::Shr(s, k) => (lz(s).saturating_sub(*k), f.constant[s.index()]),
                    Expr::Slice { src, lo } => (lz(src).saturating_sub(*lo), f.constant[src.index()]),
                    _ => (0, false),
                };
                f.low_zeros[d] = z.min(w);
                f.constant[d] = c;
            }
            for r in &m.regs {
                f.low_zeros[r.q.index()] = f.low_zeros[r.d.index()];
                f.constant[r.q.index()] = f.constant[r.d.index()];
            }
        }
        f.live = live_bits(m);
        f
    }

    /// LUTs of `x ± y` into a `w`-bit result: the bit positions where both operands vary. A
    /// signed operand varies up to the result's top bit (sign extension); an unsigned one only
    /// up to its own width.
    pub(crate) fn adder_luts(
        &self,
        m: &Module,
        x: tachyon_rtl::SignalId,
        y: tachyon_rtl::SignalId,
        w: u32,
        used: u32,
    ) -> u64 {
        if self.constant[x.index()] || self.constant[y.index()] {
            return 0;
        }
        let span = |s: tachyon_rtl::SignalId| {
            let sig = m.signal(s);
            let top = if sig.signed { w } else { sig.width.min(w) };
            (self.low_zeros[s.index()], top)
        };
        let ((a0, a1), (b0, b1)) = (span(x), span(y));
        (a1.min(b1).min(used).saturating_sub(a0.max(b0))) as u64
    }
}

/// LUTs per output bit of a table of `bits` index bits: one LUT6 up to 6, then 2^(bits−6) of
/// them and the multiplexers between them.
pub(crate) fn table_luts_per_bit(bits: u32) -> u64 {
    if bits <= 6 {
        1
    } else {
        (1u64 << (bits - 6)) + (1u64 << (bits - 6)) / 2
    }
}

fn expr_cost(m: &Module, facts: &BitFacts, dst: tachyon_rtl::SignalId, e: &Expr, w: u32) -> Resources {
    let (live_lo, live_hi) = facts.live[dst.index()];
    if live_lo >= live_hi {
        return Resources::default();
    }
    let wd = |s: &tachyon_rtl::SignalId| m.signal(*s).width;
    let mut r = Resources::default();
    match e {
        Expr::Add(x, y) | Expr::Sub(x, y) => {
            r.lut = facts.adder_luts(m, *x, *y, w, live_hi);
            r.carry8 = w.div_ceil(8) as u64;
        }
        Expr::Add3(t) | Expr::Add3Gated { t, .. } => {
            // One LUT6_2 per bit from the logic start up, to the end of the CARRY8 holding the
            // top bit read (synthesis drops whole unused CARRY8s and the LUTs feeding them).
            let l = Addend::logic_start(t);
            let top = (l + live_hi.saturating_sub(l).div_ceil(8) * 8).min(w);
            let bits = top.saturating_sub(l) as u64;
            let (lut, carry8) = match m.fabric {
                Fabric::UltraScale => (bits, bits.div_ceil(8)),
                // Portable text: two binary adders.
                Fabric::Generic => (2 * bits, 2 * bits.div_ceil(8)),
            };
            r.lut = lut;
            r.carry8 = carry8;
        }
        Expr::GatedAdd(_) => {
            // One LUT6_2 per bit up to the end of the CARRY8 holding the top bit read.
            let top = (live_hi.div_ceil(8) * 8).min(w) as u64;
            let (lut, carry8) = match m.fabric {
                Fabric::UltraScale => (top, top.div_ceil(8)),
                // Portable text: two multiplexers into a binary adder.
                Fabric::Generic => (2 * top, top.div_ceil(8)),
            };
            r.lut = lut;
            r.carry8 = carry8;
        }
        Expr::Neg(_) => {
            r.lut = w as u64;
            r.carry8 = w.div_ceil(8) as u64;
        }
        Expr::Cmp(_, a, b) => {
            let cw = wd(a).max(wd(b));
            r.lut = cw.div_ceil(2) as u64;
            r.carry8 = cw.div_ceil(8) as u64;
        }
        Expr::Mux { .. } => r.lut = w.div_ceil(2) as u64,
        // With a constant operand these are inversions or fixed bits that the consuming LUT absorbs.
        Expr::And(x, y) | Expr::Or(x, y) | Expr::Xor(x, y)
            if facts.constant[x.index()] || facts.constant[y.index()] => {}
        Expr::And(..) | Expr::Or(..) | Expr::Xor(..) | Expr::Not(_) => r.lut = w.div_ceil(2) as u64,
        Expr::Table { index, entries } => {
            let luts_per_bit = table_luts_per_bit(wd(index));
            // Constant columns cost nothing.
            let varying = (0..w)
                .filter(|&k| entries.iter().map(|v| (v >> k) & 1).any(|b| b != entries[0] >> k & 1))
                .count() as u64;
            r.lut = varying * luts_per_bit;
        }
        Expr::Mul(a, b) => {
            let (x, y) = (wd(a), wd(b));
            if crate::delay::multiply_on_dsp(x, y) {
                let (x, y) = (x.max(y), x.min(y));
                r.dsp = (x.div_ceil(27) * y.div_ceil(18)).max(1) as u64;
            } else {
                r.lut = (x * y) as u64;
            }
        }
        Expr::Const(_) | Expr::Ext(_) | Expr::Shl(..) | Expr::Shr(..) | Expr::Slice { .. } | Expr::Concat(_) => {}
    }
    r
}

/// Runs of at least three registers without reset, each feeding only the next (the last may
/// feed anything), as synthesis packs them into shift-register LUTs: per register, `Some(len)`
/// for the first of a run of `len`, `Some(0)` for the rest, `None` outside runs.
fn shift_runs(m: &Module) -> Vec<Option<u32>> {
    let n = m.signals.len();
    let mut fanout = vec![0u32; n];
    for a in &m.assigns {
        for o in a.expr.operands() {
            fanout[o.index()] += 1;
        }
    }
    for r in &m.regs {
        fanout[r.d.index()] += 1;
    }
    for &p in &m.ports {
        fanout[p.index()] += 1;
    }
    let mut reg_of = vec![usize::MAX; n];
    for (k, r) in m.regs.iter().enumerate() {
        reg_of[r.q.index()] = k;
    }
    let plain = |k: usize| m.regs[k].reset.is_none() && m.regs[k].d != m.regs[k].q;
    // prev[k]: the register that feeds k and only k.
    let prev: Vec<Option<usize>> = (0..m.regs.len())
        .map(|k| {
            let p = reg_of[m.regs[k].d.index()];
            (plain(k) && p != usize::MAX && plain(p) && fanout[m.regs[p].q.index()] == 1).then_some(p)
        })
        .collect();
    let mut next = vec![None; m.regs.len()];
    for (k, p) in prev.iter().enumerate() {
        if let Some(p) = *p {
            next[p] = Some(k);
        }
    }
    let mut out = vec![None; m.regs.len()];
    for k in 0..m.regs.len() {
        if prev[k].is_some() || next[k].is_none() {
            continue;
        }
        let mut run = vec![k];
        while let Some(j) = next[*run.last().expect("non-empty")] {
            run.push(j);
        }
        if run.len() >= 3 {
            out[k] = Some(run.len() as u32);
            for &j in &run[1..] {
                out[j] = Some(0);
            }
        }
    }
    out
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
    let facts = BitFacts::of(m);
    for a in &m.assigns {
        let s = m.signal(a.dst);
        let r = expr_cost(m, &facts, a.dst, &a.expr, s.width);
        if let Some(i) = owner(&s.name) {
            out[i] += r;
        }
        total += r;
    }
    let shift = shift_runs(m);
    for (k, reg) in m.regs.iter().enumerate() {
        let s = m.signal(reg.q);
        // Constant low bits of a register are optimized away by synthesis.
        let (lo, hi) = facts.live[reg.q.index()];
        let lo = lo.max(facts.low_zeros[reg.q.index()]);
        let ff = if facts.constant[reg.q.index()] { 0 } else { hi.saturating_sub(lo) as u64 };
        // A run of shift registers becomes one SRL32 per bit and 32 stages, placed at its head.
        let r = match shift[k] {
            Some(0) => Resources::default(),
            Some(len) => Resources { srl: ff * len.div_ceil(32) as u64, ..Default::default() },
            None => Resources { ff, ..Default::default() },
        };
        if let Some(i) = owner(&s.name) {
            out[i] += r;
        }
        total += r;
    }
    (out, total)
}

#[allow(clippy::too_many_arguments)]
pub fn build(
    q: &QModel,
    m: &Module,
    opts: &HlsOptions,
    latency: u32,
    ii: u32,
    stages: &[(u32, u32)],
    critical_ps: u32,
    stream: Option<&crate::layers::stream::Plan>,
) -> Report {
    let critical = (critical_ps as f64 / 1000.0 + crate::delay::REGISTER_OVERHEAD_NS) * opts.delay_scale.max(1e-3);
    let critical = (critical * 1000.0).round() / 1000.0;
    let names: Vec<String> = q.layers.iter().map(|l| l.name.clone()).collect();
    let (est, total) = per_layer(m, &names);
    let layers = q
        .layers
        .iter()
        .zip(stages)
        .zip(est)
        .enumerate()
        .map(|(li, ((l, &(s0, s1)), e))| {
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
                style: match stream.and_then(|p| p.layers[li].as_ref()) {
                    Some(_) => "stream".into(),
                    None => "parallel".into(),
                },
                pixel_interval: stream.and_then(|p| p.layers[li].as_ref().map(|s| s.out.lat.b)),
                ii_cycles: ii,
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
        critical_stage_ns: critical,
        fmax_mhz_estimate: (1000.0 / critical).round(),
        ii_cycles: ii,
        style: if stream.is_some() { "stream".into() } else { "parallel".into() },
        throughput_per_us: (1000.0 / (ii as f64 * opts.clock_ns) * 1000.0).round() / 1000.0,
        frame_beats: stream.map(|p| p.beats),
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
