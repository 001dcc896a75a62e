//! The synthesis driver: builds the design several times ([`build::build`]) with different
//! ternary adder policies and keeps the fastest, smallest one.
//!
//! Expects: a verified model and options validated against it ([`crate::ResolvedOptions`]).
//! Guarantees: the same model and options give the same design, byte for byte; the design
//! never finishes later (latency, II) than the one with binary adder trees only.

mod build;
mod fold;
mod ports;
mod reuse;
mod stream;

use crate::layers::cse::{PlanCache, Ranking};
use crate::pipeline::Ternary;
use crate::{Design, ResolvedOptions};
use tachyon_quantize::{LayerKind, QModel};
use tachyon_rtl::Fabric;

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
/// transformer takes seconds). The passes share one [`PlanCache`]. With a latency bound
/// ([`crate::HlsOptions::max_latency`]) above the fewest cycles, the passes may finish up to it.
///
/// A small design (at most [`PORTFOLIO_MAX_SIGNALS`] signals; such a build takes a few
/// hundredths of a second) is synthesized so under each [`Ranking`] of the common-subexpression
/// search and each rule of [`Cuts`], and the one with the fewest estimated LUTs among those that
/// finish as early as the default's (or within the latency bound) is kept, the default on a
/// tie. On the HGQ2 JSC MLPs that is 3–4 % fewer yosys LUTs. A design of at most
/// [`LOOSE_CUTS_MAX_SIGNALS`] signals has the default and [`Cuts::Loose`] as candidates.
pub fn synthesize(m: &QModel, opts: &ResolvedOptions) -> Design {
    let first = synthesize_ranked(m, opts, Ranking::Saving, Cuts::Strict);
    let signals = first.module.signals.len();
    let others: Vec<(Ranking, Cuts)> = if signals <= PORTFOLIO_MAX_SIGNALS {
        Ranking::ALL.iter().flat_map(|&r| [(r, Cuts::Strict), (r, Cuts::Loose)]).skip(1).collect()
    } else if signals <= LOOSE_CUTS_MAX_SIGNALS {
        vec![(Ranking::Saving, Cuts::Loose)]
    } else {
        vec![]
    };
    let latency = first.latency.max(opts.knobs().max_latency.unwrap_or(0));
    let ii = first.ii;
    let mut best = first;
    for (ranking, cuts) in others {
        let d = synthesize_ranked(m, opts, ranking, cuts);
        if d.latency <= latency && d.ii <= ii && d.report.total.lut < best.report.total.lut {
            best = d;
        }
    }
    best
}

/// When a linear layer that a stage boundary cuts inside is rebuilt with the boundary at its
/// input instead, and that form kept (`build::Build::lower_parallel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cuts {
    /// When the rebuilt layer finishes in no later a stage, no later within it, with fewer
    /// register bits: the layers after it start no later.
    Strict,
    /// When it finishes in no later a stage with fewer register bits, though perhaps later
    /// within it: fewer registers and LUTs on small designs (jsc_openml_13285: 2 % fewer
    /// estimated LUTs, 41 % fewer FFs at the same 4 cycles), but the layers after it may then
    /// need another stage (the HGQ2 transformers lose 1–3 cycles), so it is one candidate among
    /// others ([`synthesize`]).
    Loose,
}

/// Designs of at most this many signals are also synthesized with [`Cuts::Loose`] (the HGQ2
/// particle model has 11,850, the shipped jet MLP 4,751; the MHA, 57,963, takes 9 s a build).
pub const LOOSE_CUTS_MAX_SIGNALS: usize = 20_000;

/// Designs of at most this many signals are synthesized under every [`Ranking`] ([`synthesize`]):
/// the HGQ2 JSC MLPs (260 and 2,300 signals) and the tiny MLP. The shipped jet MLP (4,800
/// signals, built in 0.17 s, 0.32 s three times over for 1 % fewer LUTs) is built once, inside
/// the compile-time goal of jet-class models.
pub const PORTFOLIO_MAX_SIGNALS: usize = 3_000;

/// [`synthesize`] with the common-subexpression search ranking patterns by `ranking` only, and
/// stage boundaries moved to a linear layer's input by the rule `cuts`.
pub fn synthesize_ranked(m: &QModel, opts: &ResolvedOptions, ranking: Ranking, cuts: Cuts) -> Design {
    let mut plans = PlanCache::new(ranking);
    let mut pass = |ternary: &dyn Fn(usize) -> Ternary| build::build(m, opts, ternary, &mut plans, cuts);
    if opts.knobs().fabric != Fabric::UltraScale {
        return pass(&|_| Ternary::Off);
    }
    let binary = pass(&|_| Ternary::Off);
    // Each tree ternary only where that does not make it finish later: never slower than
    // binary trees, and sometimes a stage faster (a ternary tree can finish a stage earlier).
    let fastest = pass(&|_| Ternary::NoLater(0));
    let target = if (fastest.latency, fastest.ii) < (binary.latency, binary.ii) { &fastest } else { &binary };
    // Cycles the user allows beyond the fewest go to ternary adders.
    let (latency, ii) = (target.latency.max(opts.knobs().max_latency.unwrap_or(0)), target.ii);
    let fits = |d: &Design| d.latency <= latency && d.ii <= ii;
    let greedy = pass(&|_| Ternary::Greedy);
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
        let d = pass(&|_| Ternary::NoLater(slack));
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
    let linear = m.layers.iter().enumerate().filter(|(_, l)| matches!(l.kind, LayerKind::Linear { .. }));
    for (li, _) in linear.take(if large { 0 } else { MAX_TERNARY_TRIALS }) {
        policy[li] = Ternary::Greedy;
        let d = pass(&|k| policy[k]);
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
