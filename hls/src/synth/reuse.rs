//! Parallel layers in the build, with their reuse factor ([`crate::layers::reuse`]): a linear
//! layer with reuse R > 1 time-multiplexes DSP multipliers when its inputs can take turns
//! (`reuse::layout`), a product layer its multipliers (unless its strategy is `adders`);
//! everything else is the ordinary fully parallel lowering ([`crate::layers::lower_layer`]).
//!
//! Expects: the layer's inputs computed (streamed ones captured). Guarantees: II ≥ the reuse
//! of every layer that does time-multiplex; the outputs lie in their element types.

use super::build::Build;
use super::Cuts;
use crate::layers::{self, narrow_all, reuse};
use crate::pipeline::{Mark, Val};
use tachyon_quantize::config::Strategy;
use tachyon_quantize::LayerKind;

impl Build<'_> {
    /// The parallel layer `li`.
    ///
    /// Stages are cut as soon as the next operation would not fit the clock, so a layer that
    /// starts late in a stage is cut inside, where its partial sums are wide. When that happens,
    /// the layer is built again from its inputs registered (a stage boundary at the layer's
    /// input, where values are narrow), and that form is kept when it finishes no later (stage,
    /// then arrival in it; with [`Cuts::Loose`], stage only) with fewer register bits. The HGQ2
    /// Linformer: 70,687 → 61,455 estimated FFs (and 681 LUTs fewer) at the same 18 cycles.
    pub(super) fn lower_parallel(&mut self, li: usize, strategy: Strategy) {
        let mark = self.b.mark();
        self.lower_parallel_cut(li, strategy, false);
        let (start, end) = self.stages[li];
        // Linear layers only: their adder trees are where a cut inside costs wide registers
        // (tried on every layer kind, the MHA's LUTs rose 0.6 %).
        if end == start || !matches!(self.m.layers[li].kind, LayerKind::Linear { .. }) {
            return;
        }
        let asap = self.outcome(li, &mark);
        self.b.rollback(&mark);
        self.lower_parallel_cut(li, strategy, true);
        let cut = self.outcome(li, &mark);
        let no_later = match self.cuts {
            Cuts::Strict => (cut.0, cut.1) <= (asap.0, asap.1),
            Cuts::Loose => cut.0 <= asap.0,
        };
        if !(no_later && cut.2 < asap.2) {
            self.b.rollback(&mark);
            self.lower_parallel_cut(li, strategy, false);
        }
    }

    /// Layer `li`'s last output stage, the latest arrival in it, and the register bits built
    /// since `mark`.
    fn outcome(&self, li: usize, mark: &Mark) -> (u32, u32, u64) {
        let ys = self.vals[self.m.layers[li].output.0 as usize].as_deref().unwrap_or_default();
        let end = ys.iter().filter_map(|v| v.stage).max().unwrap_or(0);
        let late = ys.iter().filter(|v| v.stage == Some(end)).map(|v| v.delay_ps).max().unwrap_or(0);
        let bits = self.b.m.regs[mark.regs()..].iter().map(|r| u64::from(self.b.m.signal(r.q).width)).sum();
        (end, late, bits)
    }

    /// The parallel layer `li` as soon as it fits the clock; with `cut`, its inputs first
    /// registered into the stage after their latest one.
    fn lower_parallel_cut(&mut self, li: usize, strategy: Strategy, cut: bool) {
        let (m, b) = (self.m, &mut self.b);
        let l = &m.layers[li];
        b.prefix = l.name.clone();
        let mut xs: Vec<Val> = l
            .inputs
            .iter()
            .flat_map(|t| self.vals[t.0 as usize].clone().expect("layers are in topological order"))
            .collect();
        if cut {
            let s = xs.iter().filter_map(|v| v.stage).max().unwrap_or(0) + 1;
            xs = xs.into_iter().map(|v| b.at_stage(v, s)).collect();
        }
        let start = xs.iter().filter_map(|v| v.stage).max().unwrap_or(0);
        let out = &m.tensor(l.output).elems;
        let ys = match (&l.kind, self.opts.knobs().reuse.get(&l.name).copied().unwrap_or(1)) {
            (LayerKind::Linear { rows, bias }, r)
                if r > 1
                    && let Some(layout) = reuse::layout(&xs, rows, r) =>
            {
                self.ii = self.ii.max(r);
                let ys = reuse::lower_linear_reuse(b, &xs, rows, bias, &layout);
                narrow_all(b, ys, out)
            }
            (LayerKind::Product(pairs), r)
                if r > 1 && strategy != Strategy::Adders && reuse::product_pairs(&xs, pairs).is_some() =>
            {
                self.ii = self.ii.max(r);
                let ys = reuse::lower_product_reuse(b, &xs, pairs, r);
                narrow_all(b, ys, out)
            }
            _ => layers::lower_layer(b, &l.kind, &xs, out, strategy),
        };
        let end = ys.iter().filter_map(|v| v.stage).max().unwrap_or(start);
        self.stages[li] = (start, end.max(start));
        self.vals[l.output.0 as usize] = Some(ys);
    }
}
