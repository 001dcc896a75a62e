//! The hardware options, owned in one place: read from the build [`Config`] and the target,
//! validated once against the quantized model, and carried to [`crate::synthesize`] as a
//! [`ResolvedOptions`] together with the plans they imply.
//!
//! Expects: a verified [`QModel`] (layer names unique, layers in topological order).
//! Guarantees: a [`ResolvedOptions`] exists only for knobs that the model can honour — every
//! `set_reuse` names a foldable aggregation ([`fold::segment`], its [`Segment`] carried here),
//! the `stream` style has a stream schedule ([`stream::plan`], carried here) and no streamed
//! layer asks for `reuse` or `set_reuse`, and UltraScale primitives are asked only of an
//! UltraScale part. Synthesis re-derives none of this. Problems come back as an
//! [`OptionsError`], one variant per kind, naming the layer and what to do.

use crate::layers::fold::{self, FoldError, Segment};
use crate::layers::stream::{self, StreamError};
use std::collections::{BTreeMap, BTreeSet};
use tachyon_quantize::config::{Primitives, Strategy, Style};
use tachyon_quantize::{Config, LayerKind, QModel};
use tachyon_rtl::Fabric;

/// Options of the hardware generation, per layer name, as asked (before validation): build
/// them from a [`Config`] with [`HlsOptions::resolve`], or set them directly and check them
/// with [`HlsOptions::validate`].
#[derive(Clone, Debug)]
pub struct HlsOptions {
    /// Target clock period.
    pub clock_ns: f64,
    /// Name of the top module.
    pub top: String,
    /// Multiplication strategy per layer name (absent: [`Strategy::Auto`]).
    pub strategy: BTreeMap<String, Strategy>,
    /// Reuse factor per linear or product layer name (absent or 1: fully parallel). A layer
    /// with reuse R > 1 time-multiplexes its DSP multipliers over R cycles, and the design then
    /// accepts a new input every max R cycles (its II). A linear layer whose coefficients are
    /// all powers of two, or whose inputs no multiplier could take turns on, stays parallel
    /// ([`crate::layers::reuse::layout`]).
    pub reuse: BTreeMap<String, u32>,
    /// Set folding per aggregation layer name (a sum, mean or max over particles): the
    /// per-particle network before it is built N / R times and time-multiplexed over R phases
    /// ([`fold`]); II = R. Names of no layer are ignored.
    pub set_reuse: BTreeMap<String, u32>,
    /// Delay of the target family relative to the UltraScale+ model (1 = UltraScale+ -2): the
    /// pipeline is scheduled for `clock_ns / delay_scale`.
    pub delay_scale: f64,
    /// The `stream` style ([`stream`]) when set: pixels enter one per clock and the layers
    /// that are sliding windows stream, except those named here (they and what follows from
    /// them stay parallel).
    pub stream: Option<BTreeSet<String>>,
    /// Stream style: pixels per clock (adjacent pixels of a row enter together; II = pixels /
    /// this).
    pub pixels_per_clock: usize,
    /// The primitives the design may instantiate. On [`Fabric::UltraScale`] adder trees use
    /// ternary adders (LUT6_2 + CARRY8, three operands for the LUTs of two).
    pub fabric: Fabric,
    /// The most cycles the design may take ([`crate::synthesize`] spends cycles up to it on
    /// ternary adders); `None`: the fewest cycles the clock allows.
    pub max_latency: Option<u32>,
}

impl Default for HlsOptions {
    fn default() -> Self {
        HlsOptions {
            clock_ns: 5.0,
            top: "tachyon_top".into(),
            strategy: BTreeMap::new(),
            reuse: BTreeMap::new(),
            set_reuse: BTreeMap::new(),
            delay_scale: 1.0,
            stream: None,
            pixels_per_clock: 1,
            fabric: Fabric::UltraScale,
            max_latency: None,
        }
    }
}

/// What the design is built for, besides the model and its configuration.
#[derive(Clone, Debug)]
pub struct Target {
    /// Target clock period.
    pub clock_ns: f64,
    /// Name of the top module.
    pub top: String,
    /// Delay of the part's family relative to the UltraScale+ model (1 = UltraScale+ -2).
    pub delay_scale: f64,
    /// The board's name, if one was given (named in errors).
    pub board: Option<String>,
    /// The part's family code (`xcup` UltraScale+, `xcu` UltraScale, …); `xcup` without a board.
    pub family: String,
}

/// Why the hardware options cannot be honoured for this model. The messages do not name the
/// model file; the caller prefixes it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// A `set_reuse` on a layer whose set cannot be folded.
    #[error("set_reuse: {0}")]
    SetReuse(FoldError),
    /// `"primitives": "ultrascale"` on a part of another family.
    #[error(
        "\"primitives\": \"ultrascale\" needs an UltraScale or UltraScale+ part, and board '{board}' is family \
         {family}; remove the option or use \"portable\""
    )]
    PrimitivesNeedUltraScale { board: String, family: String },
    /// The `stream` style on a model that does not stream.
    #[error("style \"stream\": {0}")]
    Stream(StreamError),
    /// `reuse` or `set_reuse` on a layer that streams.
    #[error(
        "layer '{layer}' (ONNX {origin}) streams, and reuse/set_reuse apply to parallel layers; \
         remove the reuse or give the layer \"style\": \"parallel\""
    )]
    ReuseOnStreamedLayer { layer: String, origin: String },
}

/// Validated options of one model, with the plans they imply: only [`HlsOptions::resolve`] and
/// [`HlsOptions::validate`] make one, and it belongs to the model it was validated against.
#[derive(Clone, Debug)]
pub struct ResolvedOptions {
    knobs: HlsOptions,
    stream: Option<stream::Plan>,
    folds: BTreeMap<usize, Segment>,
}

impl ResolvedOptions {
    /// The knobs as asked.
    pub fn knobs(&self) -> &HlsOptions {
        &self.knobs
    }

    /// The stream schedule (`stream` style), if any.
    pub fn stream_plan(&self) -> Option<&stream::Plan> {
        self.stream.as_ref()
    }

    /// The folded set segments, by the index of their aggregation layer.
    pub fn folds(&self) -> &BTreeMap<usize, Segment> {
        &self.folds
    }
}

impl HlsOptions {
    /// Reads the hardware knobs of `config` for the layers of `m` (strategy, reuse, set_reuse,
    /// style, pixels per clock, primitives) and validates them for `target`.
    pub fn resolve(m: &QModel, config: &Config, target: Target) -> Result<ResolvedOptions, OptionsError> {
        let strategy = m.layers.iter().map(|l| (l.name.clone(), config.strategy(&l.origin))).collect();
        let reuse = m
            .layers
            .iter()
            .filter(|l| matches!(l.kind, LayerKind::Linear { .. } | LayerKind::Product(_)))
            .map(|l| (l.name.clone(), config.reuse(&l.origin)))
            .collect();
        let set_reuse: BTreeMap<String, u32> =
            m.layers.iter().map(|l| (l.name.clone(), config.set_reuse(&l.origin))).filter(|&(_, r)| r > 1).collect();
        let folds = folds(m, &set_reuse)?;
        // The family sets whether the Verilog may instantiate UltraScale primitives.
        let ultrascale = matches!(target.family.as_str(), "xcup" | "xcu");
        let fabric = match config.primitives() {
            None if ultrascale => Fabric::UltraScale,
            None | Some(Primitives::Portable) => Fabric::Generic,
            Some(Primitives::Ultrascale) if ultrascale => Fabric::UltraScale,
            Some(Primitives::Ultrascale) => {
                return Err(OptionsError::PrimitivesNeedUltraScale {
                    board: target.board.unwrap_or_default(),
                    family: target.family,
                })
            }
        };
        let stream = match config.style() {
            Style::Parallel => None,
            Style::Stream => {
                Some(m.layers.iter().filter(|l| config.forced_parallel(&l.origin)).map(|l| l.name.clone()).collect())
            }
        };
        let knobs = HlsOptions {
            clock_ns: target.clock_ns,
            top: target.top,
            strategy,
            reuse,
            set_reuse,
            delay_scale: target.delay_scale,
            stream,
            pixels_per_clock: config.pixels_per_clock(),
            fabric,
            max_latency: config.max_latency(),
        };
        let stream = stream_plan(m, &knobs)?;
        Ok(ResolvedOptions { knobs, stream, folds })
    }

    /// Validates knobs set directly (the checks of [`HlsOptions::resolve`] but the primitives,
    /// which `fabric` states outright).
    pub fn validate(self, m: &QModel) -> Result<ResolvedOptions, OptionsError> {
        let folds = folds(m, &self.set_reuse)?;
        let stream = stream_plan(m, &self)?;
        Ok(ResolvedOptions { knobs: self, stream, folds })
    }
}

/// The folded segment of every layer with `set_reuse` R > 1, in layer order.
fn folds(m: &QModel, set_reuse: &BTreeMap<String, u32>) -> Result<BTreeMap<usize, Segment>, OptionsError> {
    let mut out = BTreeMap::new();
    for (k, l) in m.layers.iter().enumerate() {
        match set_reuse.get(&l.name) {
            Some(&r) if r > 1 => {
                out.insert(k, fold::segment(m, k, r).map_err(OptionsError::SetReuse)?);
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The stream schedule of the `stream` style, with no streamed layer asked to reuse.
fn stream_plan(m: &QModel, knobs: &HlsOptions) -> Result<Option<stream::Plan>, OptionsError> {
    let Some(parallel) = &knobs.stream else { return Ok(None) };
    let plan = stream::plan(m, parallel, knobs.pixels_per_clock).map_err(OptionsError::Stream)?;
    for (l, how) in m.layers.iter().zip(&plan.layers) {
        let asks = |r: Option<&u32>| r.is_some_and(|&r| r > 1);
        if how.is_some() && (asks(knobs.reuse.get(&l.name)) || asks(knobs.set_reuse.get(&l.name))) {
            return Err(OptionsError::ReuseOnStreamedLayer { layer: l.name.clone(), origin: l.origin.join(", ") });
        }
    }
    Ok(Some(plan))
}
