//! Tachyon's hardware generator: lowers the quantized IR to a fully pipelined netlist
//! (`tachyon_rtl::Module`) with II = 1 — multiplier-free adder trees for constant matrices,
//! comparator/mux logic for saturation and thresholds, ROMs for tables — with registers placed
//! by an UltraScale+ delay model against the target clock, plus a per-layer report.

pub mod delay;
pub mod layers;
pub mod options;
pub mod pipeline;
pub mod report;

use pipeline::{Builder, Ternary, Val};
pub use options::{HlsOptions, OptionsError, ResolvedOptions, Target};
pub use tachyon_quantize::config::Strategy;
use tachyon_quantize::qir::{QModel, TensorId};
use tachyon_rtl::{Expr, Fabric, Module};

/// One element of the input or output bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BusElem {
    pub width: u32,
    pub signed: bool,
    /// Fractional bits: the element stands for `n · 2^-frac`.
    pub frac: i32,
}

/// The generated design.
#[derive(Clone, Debug)]
pub struct Design {
    pub module: Module,
    /// Cycles from `in_valid` to `out_valid`.
    pub latency: u32,
    /// Initiation interval: inputs may arrive at most once every `ii` cycles.
    pub ii: u32,
    pub inputs: Vec<BusElem>,
    pub outputs: Vec<BusElem>,
    /// Stream style: the flat input element carried by each slot of each beat (beat-major; the
    /// bus carries `inputs.len()` elements per beat, a frame is `frame.len() / inputs.len()`
    /// consecutive beats). `None`: one beat carries the whole input.
    pub frame: Option<Vec<u32>>,
    pub report: report::Report,
}

fn bus(elems: &[tachyon_quantize::Elem]) -> Vec<BusElem> {
    elems.iter().map(|e| BusElem { width: e.width(), signed: e.signed(), frac: e.frac }).collect()
}

/// Generates the pipelined top module of `m`.
///
/// On UltraScale, adder trees use ternary adders where that costs no pipeline stage: the
/// design is built with binary trees, and with every tree ternary where that does not make it
/// finish later (slack 0 below); the faster of the two sets the latency. Then ternary adders
/// everywhere, kept when they meet that latency; otherwise every tree is made as ternary as it
/// can be while finishing in its binary version's stage and at most a slack later (the largest
/// slack of 400, 200, 100 or 0 ps that keeps the latency), and then the linear layers, one at a
/// time, go back to ternary adders everywhere where that keeps the latency. Designs of more
/// than [`LARGE_DESIGN_SIGNALS`] signals try only slack 0 and no single layers (each pass of a
/// transformer takes seconds).
pub fn synthesize(m: &QModel, opts: &ResolvedOptions) -> Design {
    if opts.knobs().fabric != Fabric::UltraScale {
        return synthesize_with(m, opts, &|_| Ternary::Off);
    }
    let binary = synthesize_with(m, opts, &|_| Ternary::Off);
    // Each tree ternary only where that does not make it finish later: never slower than
    // binary trees, and sometimes a stage faster (a ternary tree can finish a stage earlier).
    let fastest = synthesize_with(m, opts, &|_| Ternary::NoLater(0));
    let target = if (fastest.latency, fastest.ii) < (binary.latency, binary.ii) { &fastest } else { &binary };
    let (latency, ii) = (target.latency, target.ii);
    let fits = |d: &Design| d.latency <= latency && d.ii <= ii;
    let greedy = synthesize_with(m, opts, &|_| Ternary::Greedy);
    if fits(&greedy) {
        return greedy;
    }
    // Trees as ternary as they can be while finishing in their binary tree's stage, at most
    // `slack` later: the largest slack that keeps the latency.
    // A large design (every pass takes seconds) tries only the surest mix.
    let large = binary.module.signals.len() > LARGE_DESIGN_SIGNALS;
    let slacks: &[u32] = if large { &[] } else { &[400, 200, 100] };
    let mut found = None;
    for &slack in slacks {
        let d = synthesize_with(m, opts, &|_| Ternary::NoLater(slack));
        if fits(&d) {
            found = Some((slack, d));
            break;
        }
    }
    let (slack, mut best) = match found {
        Some(f) => f,
        None if fits(&fastest) => (0, fastest),
        None => return binary,
    };
    let mut policy = vec![Ternary::NoLater(slack); m.layers.len()];
    // Then layer by layer (linear layers, in order), ternary adders everywhere where that
    // keeps the latency.
    let linear =
        m.layers.iter().enumerate().filter(|(_, l)| matches!(l.kind, tachyon_quantize::LayerKind::Linear { .. }));
    for (li, _) in linear.take(if large { 0 } else { MAX_TERNARY_TRIALS }) {
        policy[li] = Ternary::Greedy;
        let d = synthesize_with(m, opts, &|k| policy[k]);
        if fits(&d) {
            best = d;
        } else {
            policy[li] = Ternary::NoLater(slack);
        }
    }
    best
}

/// Above this many signals a design gets at most four passes ([`synthesize`]).
const LARGE_DESIGN_SIGNALS: usize = 200_000;

/// At most this many linear layers are tried one by one with ternary adders everywhere (each
/// trial builds the design once more).
const MAX_TERNARY_TRIALS: usize = 16;

/// [`synthesize`] with the ternary adder policy of each layer (by index).
fn synthesize_with(m: &QModel, resolved: &ResolvedOptions, ternary: &dyn Fn(usize) -> Ternary) -> Design {
    use layers::stream::{self, Stream};
    let opts = resolved.knobs();
    let plan = resolved.stream_plan();
    let mut module = Module::new(&opts.top);
    module.fabric = opts.fabric;
    module.doc = vec![
        format!("Generated by Tachyon {} from model '{}'.", env!("CARGO_PKG_VERSION"), m.name),
        match &plan {
            None => format!("Target clock {} ns; a new input is accepted every cycle (II = 1).", opts.clock_ns),
            Some(p) => format!(
                "Target clock {} ns; stream style: a frame is {} consecutive beats of `in_valid`, {} pixel(s) \
                 (all channels) per beat in raster order; frames may follow back to back.",
                opts.clock_ns,
                p.beats,
                opts.pixels_per_clock.max(1)
            ),
        },
    ];
    let clk = module.add_clock();
    let _ = clk;
    let _rst = module.add_reset();
    let in_valid = module.add_input("in_valid", 1, false);
    let (inputs, frame, in_hull) = match &plan {
        None => (bus(m.input_elems()), None, vec![]),
        Some(p) => {
            let map = p.input(m);
            let hull =
                stream::channel_hull(m.input_elems(), p.maps[m.input.0 as usize].as_ref().expect("the input streams"));
            let elems = hull
                .iter()
                .enumerate()
                .map(|(ch, &(lo, hi))| BusElem {
                    width: tachyon_quantize::fixed::bits_for(lo, hi),
                    signed: lo < 0,
                    frac: m.input_elems()[map.at[ch] as usize].frac,
                })
                .collect();
            (elems, Some(map.at.clone()), hull)
        }
    };
    let outputs = bus(m.output_elems());
    let in_bits: u32 = inputs.iter().map(|e| e.width).sum();
    let in_data = module.add_input("in_data", in_bits, false);
    let mut b = Builder::new(module, opts.clock_ns / opts.delay_scale.max(1e-3));
    let mut ii = 1;
    let mut vals: Vec<Option<Vec<Val>>> = vec![None; m.tensors.len()];
    let mut streams: Vec<Option<Stream>> = vec![None; m.tensors.len()];
    b.prefix = "in".into();
    match &plan {
        None => {
            b.set_valid(in_valid);
            // Input slices, registered once at the boundary.
            let mut off = 0;
            let mut xs = vec![];
            for (i, e) in m.input_elems().iter().enumerate() {
                let w = e.width();
                let sig = b.m.wire(&format!("in_x{i}"), w, e.signed(), None, Expr::Slice { src: in_data, lo: off });
                off += w;
                xs.push(b.source(sig, e.lo, e.hi));
            }
            vals[m.input.0 as usize] = Some(b.register_all(&xs));
        }
        Some(p) => {
            let start = stream::frame_start(&mut b, in_valid, p.beats);
            b.set_valid(start);
            let mut off = 0;
            let mut xs = vec![];
            for (ch, (e, &(lo, hi))) in inputs.iter().zip(&in_hull).enumerate() {
                let sig =
                    b.m.wire(&format!("in_c{ch}"), e.width, e.signed, None, Expr::Slice { src: in_data, lo: off });
                off += e.width;
                xs.push(b.source(sig, lo, hi));
            }
            let map = p.input(m);
            let lat = p.maps[m.input.0 as usize].as_ref().expect("the input streams").lat;
            streams[m.input.0 as usize] = Some(Stream { chans: b.register_all(&xs), h: map.h, w: map.w, lat });
            ii = p.beats as u32;
        }
    }
    // Folded set segments, by aggregation layer index.
    let folds = resolved.folds();
    let folded: Vec<usize> = folds.values().flat_map(|s| s.layers.iter().copied()).collect();
    let mut layer_stages: Vec<(u32, u32)> = vec![(0, 0); m.layers.len()];
    // A streamed tensor read by a parallel layer: all its pixels at once.
    let capture = |b: &mut Builder, t: TensorId, vals: &mut Vec<Option<Vec<Val>>>, streams: &[Option<Stream>]| {
        if let (None, Some(s), Some(p)) = (&vals[t.0 as usize], &streams[t.0 as usize], &plan) {
            b.prefix =
                format!("{}_frame", m.tensor(t).name.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>());
            let st = p.maps[t.0 as usize].as_ref().expect("a streamed tensor has a map");
            vals[t.0 as usize] = Some(stream::capture(b, s, st, &m.tensor(t).elems));
        }
    };
    for (li, l) in m.layers.iter().enumerate() {
        if folded.contains(&li) {
            continue; // lowered with its aggregation
        }
        b.prefix = l.name.clone();
        b.origin = l.origin.join(", ");
        b.ternary = ternary(li);
        let strategy = opts.strategy.get(&l.name).copied().unwrap_or_default();
        if let Some(sl) = plan.as_ref().and_then(|p| p.layers[li].as_ref()) {
            let p = plan.as_ref().expect("a streamed layer has a plan");
            let xs: Vec<Stream> = l
                .inputs
                .iter()
                .map(|t| streams[t.0 as usize].clone().expect("layers are in topological order"))
                .collect();
            let start = xs.iter().flat_map(|s| s.chans.iter().filter_map(|v| v.stage)).max().unwrap_or(0);
            let st = p.maps[l.output.0 as usize].as_ref().expect("a streamed layer's output streams");
            let hull = stream::channel_hull(&m.tensor(l.output).elems, st);
            let y = match sl {
                stream::StreamLayer::Elementwise(kind) => stream::lower_elementwise(&mut b, kind, &xs[0], &hull),
                stream::StreamLayer::Window(win) => stream::lower_window(&mut b, win, &xs, &hull, strategy),
            };
            let end = y.chans.iter().filter_map(|v| v.stage).max().unwrap_or(start);
            layer_stages[li] = (start, end.max(start));
            streams[l.output.0 as usize] = Some(y);
            continue;
        }
        for &t in &l.inputs {
            capture(&mut b, t, &mut vals, &streams);
        }
        if let Some(seg) = folds.get(&li) {
            let first = seg.layers.first().map_or(li, |&k| k);
            let input = m.layers[first].inputs[0];
            capture(&mut b, input, &mut vals, &streams);
            let xs = vals[input.0 as usize].clone().expect("layers are in topological order");
            b.prefix = l.name.clone();
            let (ys, stages) = layers::fold::lower_folded(&mut b, m, seg, &xs, &opts.strategy);
            for (&k, st) in seg.layers.iter().chain(std::iter::once(&li)).zip(stages) {
                layer_stages[k] = st;
            }
            ii = ii.max(seg.reuse);
            vals[l.output.0 as usize] = Some(layers::narrow_all(&mut b, ys, &m.tensor(l.output).elems));
            continue;
        }
        b.prefix = l.name.clone();
        let xs: Vec<Val> = l
            .inputs
            .iter()
            .flat_map(|t| vals[t.0 as usize].clone().expect("layers are in topological order"))
            .collect();
        let start = xs.iter().filter_map(|v| v.stage).max().unwrap_or(0);
        let ys = match (&l.kind, opts.reuse.get(&l.name).copied().unwrap_or(1)) {
            (tachyon_quantize::LayerKind::Linear { rows, bias }, r)
                if r > 1
                    && let Some(layout) = layers::reuse::layout(&xs, rows, r) =>
            {
                ii = ii.max(r);
                let ys = layers::reuse::lower_linear_reuse(&mut b, &xs, rows, bias, &layout);
                layers::narrow_all(&mut b, ys, &m.tensor(l.output).elems)
            }
            (tachyon_quantize::LayerKind::Product(pairs), r)
                if r > 1 && strategy != Strategy::Adders && layers::reuse::product_pairs(&xs, pairs).is_some() =>
            {
                ii = ii.max(r);
                let ys = layers::reuse::lower_product_reuse(&mut b, &xs, pairs, r);
                layers::narrow_all(&mut b, ys, &m.tensor(l.output).elems)
            }
            _ => layers::lower_layer(&mut b, &l.kind, &xs, &m.tensor(l.output).elems, strategy),
        };
        let end = ys.iter().filter_map(|v| v.stage).max().unwrap_or(start);
        layer_stages[li] = (start, end.max(start));
        vals[l.output.0 as usize] = Some(ys);
    }
    capture(&mut b, m.output, &mut vals, &streams);
    // Outputs leave from registers (nothing combinational reaches the user's logic).
    let ys = vals[m.output.0 as usize].clone().expect("output computed");
    let ys = b.register_all(&ys);
    let latency = ys.iter().filter_map(|v| v.stage).max().unwrap_or(0).max(1);
    b.prefix = "out".into();
    b.origin = String::new();
    let ys: Vec<Val> = ys
        .iter()
        .zip(m.output_elems())
        .map(|(&v, e)| {
            let v = b.at_stage(v, latency);
            layers::requant::narrow(&mut b, v, e.lo, e.hi)
        })
        .collect();
    // Constant outputs (no stage) are fine: they are valid whenever out_valid is.
    let out_bits: u32 = outputs.iter().map(|e| e.width).sum();
    let parts: Vec<_> = ys.iter().rev().map(|v| v.sig).collect();
    let out_data = b.m.add_output("out_data", out_bits, false);
    b.m.assign(out_data, Expr::Concat(parts));
    // The valid chain.
    let v = b.valid_at(latency);
    let out_valid = b.m.add_output("out_valid", 1, false);
    b.m.assign(out_valid, Expr::Ext(v));
    let critical_ps = b.critical_ps;
    let module = tachyon_rtl::prune(b.m);
    let report = report::build(m, &module, opts, latency, ii, &layer_stages, critical_ps, plan);
    Design { module, latency, ii, inputs, outputs, frame, report }
}
