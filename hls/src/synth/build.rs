//! One build of the design for one ternary adder policy: the module and its input bus
//! ([`super::ports`]), then every layer in topological order, dispatched to the lowering its
//! options chose — streamed ([`super::stream`]), folded with its set ([`super::fold`]) or
//! parallel, with or without reuse ([`super::reuse`]) — then the output bus.
//!
//! Expects: a verified model (layers in topological order) and options validated against it.
//! Guarantees: every layer's output values (or stream) exist before a later layer reads them;
//! each layer's stage range is recorded for the report; the II is the largest of the stream's
//! frame, the folded sets' and the reused layers'.

use crate::layers::cse::PlanCache;
use crate::layers::stream::{Stream, StreamTensor};
use crate::pipeline::{Builder, Ternary, Val};
use crate::{Design, ResolvedOptions};
use tachyon_quantize::QModel;

/// The state of one build: the netlist under construction and what each tensor is in it.
pub(super) struct Build<'a> {
    pub(super) m: &'a QModel,
    pub(super) opts: &'a ResolvedOptions,
    pub(super) b: Builder,
    /// Per tensor: its values, once computed (for a streamed tensor: once captured).
    pub(super) vals: Vec<Option<Vec<Val>>>,
    /// Per streamed tensor: its stream in the netlist and how it streams.
    pub(super) streams: Vec<Option<(Stream, &'a StreamTensor)>>,
    /// Per layer: the stages of its inputs and of its outputs.
    pub(super) stages: Vec<(u32, u32)>,
    /// Initiation interval so far.
    pub(super) ii: u32,
    /// When a linear layer cut inside a stage is rebuilt from its inputs registered.
    pub(super) cuts: super::Cuts,
}

/// Builds the design of `m` with the ternary adder policy `ternary` of each layer (by index),
/// reusing and refilling the CSE plans of `plans`.
pub(super) fn build(
    m: &QModel,
    opts: &ResolvedOptions,
    ternary: &dyn Fn(usize) -> Ternary,
    plans: &mut PlanCache,
    cuts: super::Cuts,
) -> Design {
    let knobs = opts.knobs();
    let (module, ports) = super::ports::open(m, opts);
    let mut b = Builder::new(module, knobs.clock_ns / knobs.delay_scale.max(1e-3));
    b.plans = std::mem::take(plans);
    let mut s = Build {
        m,
        opts,
        b,
        vals: vec![None; m.tensors.len()],
        streams: vec![None; m.tensors.len()],
        stages: vec![(0, 0); m.layers.len()],
        ii: 1,
        cuts,
    };
    s.b.prefix = "in".into();
    match opts.stream_plan() {
        None => s.input_parallel(&ports),
        Some(p) => s.input_stream(p, &ports),
    }
    let folded: Vec<usize> = opts.folds().values().flat_map(|seg| seg.layers.iter().copied()).collect();
    for (li, l) in m.layers.iter().enumerate() {
        if folded.contains(&li) {
            continue; // lowered with its aggregation
        }
        s.b.prefix = l.name.clone();
        s.b.origin = l.origin.join(", ");
        s.b.ternary = ternary(li);
        s.b.relu_to_requant = crate::layers::relu_feeds_requant(m, li);
        let strategy = knobs.strategy.get(&l.name).copied().unwrap_or_default();
        if let Some(sl) = opts.stream_plan().and_then(|p| p.layers[li].as_ref()) {
            s.lower_streamed(li, sl, strategy);
            continue;
        }
        for &t in &l.inputs {
            s.capture(t);
        }
        if let Some(seg) = opts.folds().get(&li) {
            s.lower_folded(li, seg);
            continue;
        }
        s.lower_parallel(li, strategy);
    }
    s.capture(m.output);
    let (design, used) = s.finish(ports);
    *plans = used;
    design
}
