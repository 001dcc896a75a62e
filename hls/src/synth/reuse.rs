//! Parallel layers in the build, with their reuse factor ([`crate::layers::reuse`]): a linear
//! layer with reuse R > 1 time-multiplexes DSP multipliers when its inputs can take turns
//! (`reuse::layout`), a product layer its multipliers (unless its strategy is `adders`);
//! everything else is the ordinary fully parallel lowering ([`crate::layers::lower_layer`]).
//!
//! Expects: the layer's inputs computed (streamed ones captured). Guarantees: II ≥ the reuse
//! of every layer that does time-multiplex; the outputs lie in their element types.

use super::build::Build;
use crate::layers::{self, narrow_all, reuse};
use crate::pipeline::Val;
use tachyon_quantize::config::Strategy;
use tachyon_quantize::LayerKind;

impl Build<'_> {
    /// The parallel layer `li`.
    pub(super) fn lower_parallel(&mut self, li: usize, strategy: Strategy) {
        let (m, b) = (self.m, &mut self.b);
        let l = &m.layers[li];
        b.prefix = l.name.clone();
        let xs: Vec<Val> = l
            .inputs
            .iter()
            .flat_map(|t| self.vals[t.0 as usize].clone().expect("layers are in topological order"))
            .collect();
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
