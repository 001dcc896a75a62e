//! Folded set segments in the build ([`crate::layers::fold`]): the per-particle network and
//! its aggregation lowered together, time-multiplexed over the segment's reuse factor.
//!
//! Expects: the segment validated by the options (`fold::segment`), its input computed.
//! Guarantees: the stage range of every layer of the segment is recorded; II ≥ the reuse.

use super::build::Build;
use crate::layers::fold::{self, Segment};
use crate::layers::narrow_all;

impl Build<'_> {
    /// The folded segment that ends in the aggregation layer `li`.
    pub(super) fn lower_folded(&mut self, li: usize, seg: &Segment) {
        let m = self.m;
        let l = &m.layers[li];
        let first = seg.layers.first().map_or(li, |&k| k);
        let input = m.layers[first].inputs[0];
        self.capture(input);
        let xs = self.vals[input.0 as usize].clone().expect("layers are in topological order");
        self.b.prefix = l.name.clone();
        let (ys, stages) = fold::lower_folded(&mut self.b, m, seg, &xs, &self.opts.knobs().strategy);
        for (&k, st) in seg.layers.iter().chain(std::iter::once(&li)).zip(stages) {
            self.stages[k] = st;
        }
        self.ii = self.ii.max(seg.reuse);
        self.vals[l.output.0 as usize] = Some(narrow_all(&mut self.b, ys, &m.tensor(l.output).elems));
    }
}
