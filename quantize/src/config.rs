//! Build configuration (JSON): precision of float models hls4ml-style, per-layer overrides, the
//! input type, and the table parameters of softmax and sigmoid.
//!
//! ```json
//! { "input": "fixed<16,6>",
//!   "default": { "weight": "fixed<16,6>", "bias": "fixed<16,6>", "result": "fixed<16,6>" },
//!   "layers": { "dense1": { "weight": "fixed<8,3>", "accum": "fixed<24,12>", "result": "fixed<12,4,RND,SAT>",
//!                           "strategy": "dsp", "reuse": 4 } },
//!   "softmax": { "exp_table_bits": 10, "exp_range": 16, "exp_frac": 16, "inv_table_bits": 10, "output_frac": 16 },
//!   "sigmoid": { "table_bits": 10, "range": 8, "output_frac": 16 } }
//! ```
//! Quantized (QONNX) models take their precision from their Quant nodes; for them only `input`
//! (when the graph input is not quantized), `softmax`, `sigmoid` and the per-layer `strategy`
//! (`auto`, `adders` or `dsp`: how constant weights are multiplied), `reuse` (DSP
//! time-multiplexing of linear layers, II = the largest reuse) and `set_reuse` (on the
//! aggregation of a set model, e.g. `"pool": { "set_reuse": 4 }`: the per-particle network is
//! built N/4 times and time-multiplexed over 4 phases, II = 4) apply, and on `default` for any
//! model `max_latency` (the most cycles the design may take: cycles beyond the fewest the clock
//! allows go to ternary adders, for fewer LUTs).

use crate::fixed::FixedType;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Precision of one layer; `None` fields fall back to the model default.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct LayerPrecision {
    pub weight: Option<String>,
    pub bias: Option<String>,
    pub result: Option<String>,
    /// Accumulator type; absent = exact (interval analysis sizes it).
    pub accum: Option<String>,
    /// How the hardware multiplies by the layer's constant weights (any model, quantized or not).
    pub strategy: Option<Strategy>,
    /// Reuse factor of a linear layer: each DSP multiplier serves this many products, one per
    /// cycle, and the design then accepts a new input every `reuse` cycles (II). 1 = parallel.
    pub reuse: Option<u32>,
    /// On a sum, mean or max over particles (ReduceSum/ReduceMean/ReduceMax of a set model): the
    /// per-particle network feeding it is built N / `set_reuse` times and time-multiplexed over
    /// `set_reuse` phases; the design then accepts a new set every `set_reuse` cycles (II).
    pub set_reuse: Option<u32>,
    /// Hardware style of a CNN. On `default`: `parallel` (everything unrolled, II = 1) or
    /// `stream` (pixels enter one per clock through line buffers, II = pixels per frame). On a
    /// layer of a stream model: `parallel` keeps that layer, and what depends on it, out of the
    /// stream (it is fed once per frame).
    pub style: Option<Style>,
    /// On `default` of a stream model: pixels that enter per clock (adjacent pixels of a row;
    /// the row width must be a multiple). II = pixels per frame / this. Default 1.
    pub pixels_per_clock: Option<u32>,
    /// On `default`: the primitives the Verilog may use. `ultrascale` (the default for
    /// UltraScale and UltraScale+ targets) sums three operands per adder with LUT6_2 and CARRY8
    /// instances; `portable` writes plain Verilog adders for any synthesis tool and family.
    pub primitives: Option<Primitives>,
    /// On `default`: the most clock cycles from input to output the design may take. Without
    /// it the design takes the fewest cycles the clock allows; with more cycles allowed, adder
    /// trees use more ternary adders (fewer LUTs) where they then fit. A bound below what the
    /// clock allows is reported in the build's warnings.
    pub max_latency: Option<u32>,
}

/// See [`LayerPrecision::primitives`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Primitives {
    Portable,
    Ultrascale,
}

/// See [`LayerPrecision::style`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Style {
    #[default]
    Parallel,
    Stream,
}

/// How a linear layer multiplies by its constant weights.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Adder graphs, with a DSP only for a coefficient whose shift-add chain would be long
    /// (5 or more signed digits, i.e. 9+-bit weights) on an input wider than 4 bits, and would
    /// cost more LUTs than a DSP slice is worth (~100: one adder per extra digit, as wide as
    /// the input and the coefficient together).
    #[default]
    Auto,
    /// Adder graphs only: no DSP slices at all.
    Adders,
    /// A DSP multiply for every coefficient that is not a signed power of two (inputs wider
    /// than 4 bits); the products are summed by adder trees.
    Dsp,
}

/// Table parameters of the softmax.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SoftmaxConfig {
    /// log2 of the number of exp entries.
    pub exp_table_bits: u32,
    /// The exp table covers max−x in [0, exp_range) (a power of two).
    pub exp_range: f64,
    /// Fractional bits of exp values (exp(0) = 2^exp_frac).
    pub exp_frac: u32,
    /// log2 of the number of 1/x entries.
    pub inv_table_bits: u32,
    /// Fractional bits of the probabilities.
    pub output_frac: u32,
}

impl Default for SoftmaxConfig {
    fn default() -> Self {
        SoftmaxConfig { exp_table_bits: 10, exp_range: 16.0, exp_frac: 16, inv_table_bits: 10, output_frac: 16 }
    }
}

/// Table parameters of the sigmoid.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigmoidConfig {
    pub table_bits: u32,
    /// Covers x in [−range, range) (a power of two); outside, the end entries apply.
    pub range: f64,
    pub output_frac: u32,
}

impl Default for SigmoidConfig {
    fn default() -> Self {
        SigmoidConfig { table_bits: 10, range: 8.0, output_frac: 16 }
    }
}

/// Table parameters of layer normalization.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LayerNormConfig {
    /// Mantissa bits of the variance that index the 1/√x tables (2 × 2^(bits−1) entries).
    pub mant_bits: u32,
    /// Fractional bits of the normalized outputs (before the Quant that follows).
    pub output_frac: u32,
}

impl Default for LayerNormConfig {
    fn default() -> Self {
        LayerNormConfig { mant_bits: 8, output_frac: 10 }
    }
}

/// The whole configuration file.
#[derive(Clone, Debug, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Type of the hardware input when the model does not quantize its input itself.
    pub input: Option<String>,
    pub default: LayerPrecision,
    /// Per ONNX node name.
    pub layers: BTreeMap<String, LayerPrecision>,
    pub softmax: SoftmaxConfig,
    pub sigmoid: SigmoidConfig,
    pub layernorm: LayerNormConfig,
}

/// Which precision field.
#[derive(Clone, Copy, Debug)]
pub enum Field {
    Weight,
    Bias,
    Result,
    Accum,
}

/// What is wrong with a configuration file ([`Config::load`], [`Config::parse`]). Each message
/// names the layer or section and the accepted values. No variant has a `source`: the message is
/// complete on its own, so `{:#}` prints it once.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: cannot read config: {error}", path.display())]
    Read { path: PathBuf, error: std::io::Error },
    /// An error of the file at `path`.
    #[error("{}: {error}", path.display())]
    InFile { path: PathBuf, error: Box<ConfigError> },
    #[error("invalid config: {0}")]
    Json(serde_json::Error),
    /// A fixed-point type that does not parse, on `layer` (or `default`).
    #[error("layer '{layer}': {error}")]
    LayerType { layer: String, error: crate::fixed::FixedTypeError },
    #[error("input: {0}")]
    InputType(crate::fixed::FixedTypeError),
    /// `knob` (`reuse` or `set_reuse`) out of range.
    #[error("layer '{layer}': {knob} must be between 1 and 4096 (got {value})")]
    ReuseRange { layer: String, knob: &'static str, value: u32 },
    #[error("set_reuse belongs to an aggregation layer, not to 'default'")]
    SetReuseOnDefault,
    #[error(
        "layer '{layer}': style \"stream\" is a whole-model choice: set it on \"default\" (a stream \
         model starts streaming at its input), and mark layers that should stay \"parallel\""
    )]
    StreamOnLayer { layer: String },
    #[error("default.pixels_per_clock ({0}) is for the stream style and must be between 1 and 1024")]
    PixelsPerClock(u32),
    #[error("layer '{layer}': pixels_per_clock belongs to \"default\" (the whole stream)")]
    PixelsPerClockOnLayer { layer: String },
    #[error("layer '{layer}': primitives belongs to \"default\" (the whole design)")]
    PrimitivesOnLayer { layer: String },
    #[error("layer '{layer}': max_latency belongs to \"default\" (the whole design's latency in cycles)")]
    MaxLatencyOnLayer { layer: String },
    #[error("softmax.exp_range and sigmoid.range must be powers of two")]
    TableRange,
    #[error("table sizes must be between 2^1 and 2^16 entries")]
    TableSize,
    #[error("layernorm.mant_bits must be between 2 and 14 and layernorm.output_frac at most 30")]
    LayerNorm,
    #[error("softmax/sigmoid fractional bits must be at most 30")]
    TableFrac,
}

impl Config {
    /// Reads a JSON config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|error| ConfigError::Read { path: path.to_path_buf(), error })?;
        Config::parse(&text).map_err(|e| ConfigError::InFile { path: path.to_path_buf(), error: Box::new(e) })
    }
    /// Parses and checks a JSON config.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let c: Config = serde_json::from_str(text).map_err(ConfigError::Json)?;
        c.check()?;
        Ok(c)
    }
    fn check(&self) -> Result<(), ConfigError> {
        let mut all: Vec<(&str, &LayerPrecision)> = vec![("default", &self.default)];
        all.extend(self.layers.iter().map(|(k, v)| (k.as_str(), v)));
        for (name, p) in all {
            for t in [&p.weight, &p.bias, &p.result, &p.accum].into_iter().flatten() {
                FixedType::parse(t).map_err(|error| ConfigError::LayerType { layer: name.into(), error })?;
            }
        }
        if let Some(t) = &self.input {
            FixedType::parse(t).map_err(ConfigError::InputType)?;
        }
        for (name, p) in
            std::iter::once(("default", &self.default)).chain(self.layers.iter().map(|(k, v)| (k.as_str(), v)))
        {
            if let Some(r) = p.reuse {
                if !(1..=4096).contains(&r) {
                    return Err(ConfigError::ReuseRange { layer: name.into(), knob: "reuse", value: r });
                }
            }
            if let Some(r) = p.set_reuse {
                if !(1..=4096).contains(&r) {
                    return Err(ConfigError::ReuseRange { layer: name.into(), knob: "set_reuse", value: r });
                }
                if name == "default" {
                    return Err(ConfigError::SetReuseOnDefault);
                }
            }
        }
        if self.style() == Style::Parallel {
            if let Some((name, _)) = self.layers.iter().find(|(_, p)| p.style == Some(Style::Stream)) {
                return Err(ConfigError::StreamOnLayer { layer: name.clone() });
            }
        }
        if let Some(p) = self.default.pixels_per_clock {
            if !(1..=1024).contains(&p) || self.style() != Style::Stream {
                return Err(ConfigError::PixelsPerClock(p));
            }
        }
        if let Some((name, _)) = self.layers.iter().find(|(_, l)| l.pixels_per_clock.is_some()) {
            return Err(ConfigError::PixelsPerClockOnLayer { layer: name.clone() });
        }
        if let Some((name, _)) = self.layers.iter().find(|(_, l)| l.primitives.is_some()) {
            return Err(ConfigError::PrimitivesOnLayer { layer: name.clone() });
        }
        if let Some((name, _)) = self.layers.iter().find(|(_, l)| l.max_latency.is_some()) {
            return Err(ConfigError::MaxLatencyOnLayer { layer: name.clone() });
        }
        let pow2 = |v: f64| v > 0.0 && v.log2().fract() == 0.0;
        if !pow2(self.softmax.exp_range) || !pow2(self.sigmoid.range) {
            return Err(ConfigError::TableRange);
        }
        if !(1..=16).contains(&self.softmax.exp_table_bits)
            || !(1..=16).contains(&self.softmax.inv_table_bits)
            || !(1..=16).contains(&self.sigmoid.table_bits)
        {
            return Err(ConfigError::TableSize);
        }
        if !(2..=14).contains(&self.layernorm.mant_bits) || self.layernorm.output_frac > 30 {
            return Err(ConfigError::LayerNorm);
        }
        if self.softmax.exp_frac > 30 || self.softmax.output_frac > 30 || self.sigmoid.output_frac > 30 {
            return Err(ConfigError::TableFrac);
        }
        Ok(())
    }
    /// Whether the hardware shares layers over time: the stream style, or a `reuse` or
    /// `set_reuse` above 1 anywhere. Such layers must agree across the positions they serve, so
    /// the lowering keeps per-element rewrites out of them.
    pub fn time_multiplexed(&self) -> bool {
        self.style() == Style::Stream
            || std::iter::once(&self.default)
                .chain(self.layers.values())
                .any(|p| p.reuse.is_some_and(|r| r > 1) || p.set_reuse.is_some_and(|r| r > 1))
    }
    /// The multiplication strategy of the layer implementing the ONNX nodes `nodes` (the first
    /// node named in `layers` with a strategy wins; otherwise the default).
    pub fn strategy(&self, nodes: &[String]) -> Strategy {
        nodes
            .iter()
            .find_map(|n| self.layers.get(n).and_then(|p| p.strategy))
            .or(self.default.strategy)
            .unwrap_or_default()
    }

    /// The reuse factor of the layer implementing the ONNX nodes `nodes` (1 when not set).
    pub fn reuse(&self, nodes: &[String]) -> u32 {
        nodes.iter().find_map(|n| self.layers.get(n).and_then(|p| p.reuse)).or(self.default.reuse).unwrap_or(1)
    }

    /// The set reuse factor of the layer implementing the ONNX nodes `nodes` (1 when not set).
    /// The model's style (`default.style`).
    pub fn style(&self) -> Style {
        self.default.style.unwrap_or_default()
    }

    /// The primitives asked for on `default`, if any.
    pub fn primitives(&self) -> Option<Primitives> {
        self.default.primitives
    }

    /// The latency bound in cycles asked for on `default`, if any.
    pub fn max_latency(&self) -> Option<u32> {
        self.default.max_latency
    }

    /// Pixels per clock of a stream model (`default.pixels_per_clock`, 1 if absent).
    pub fn pixels_per_clock(&self) -> usize {
        self.default.pixels_per_clock.unwrap_or(1).max(1) as usize
    }

    /// Whether a layer implementing `nodes` is asked to stay parallel in a stream model.
    pub fn forced_parallel(&self, nodes: &[String]) -> bool {
        nodes.iter().any(|n| self.layers.get(n).and_then(|p| p.style) == Some(Style::Parallel))
    }

    pub fn set_reuse(&self, nodes: &[String]) -> u32 {
        nodes.iter().find_map(|n| self.layers.get(n).and_then(|p| p.set_reuse)).unwrap_or(1)
    }

    /// The type of `field` for the layer named `layer` (default when not overridden).
    pub fn precision(&self, layer: &str, field: Field) -> Option<FixedType> {
        let pick = |p: &LayerPrecision| match field {
            Field::Weight => p.weight.clone(),
            Field::Bias => p.bias.clone(),
            Field::Result => p.result.clone(),
            Field::Accum => p.accum.clone(),
        };
        let s = self.layers.get(layer).and_then(pick).or_else(|| pick(&self.default));
        match (s, field) {
            (Some(s), _) => FixedType::parse(&s).ok(),
            (None, Field::Accum) => None,
            (None, _) => Some(FixedType::DEFAULT),
        }
    }
    /// The hardware input type.
    pub fn input_type(&self) -> FixedType {
        self.input.as_deref().and_then(|s| FixedType::parse(s).ok()).unwrap_or(FixedType::DEFAULT)
    }
    /// Layer names in the config that are not in `known` (reported as an error by the lowering).
    pub fn unknown_layers<'a>(&'a self, known: &[String]) -> Vec<&'a str> {
        self.layers.keys().filter(|k| !known.contains(k)).map(|k| k.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        Config::parse(json).unwrap_err().to_string()
    }

    /// The texts users see after the file name (frozen: change them on purpose only).
    #[test]
    fn errors_name_the_layer_and_the_accepted_values() {
        assert_eq!(err(r#"{"default": {"reuse": 0}}"#), "layer 'default': reuse must be between 1 and 4096 (got 0)");
        assert_eq!(
            err(r#"{"layers": {"pool": {"set_reuse": 5000}}}"#),
            "layer 'pool': set_reuse must be between 1 and 4096 (got 5000)"
        );
        assert_eq!(
            err(r#"{"default": {"set_reuse": 2}}"#),
            "set_reuse belongs to an aggregation layer, not to 'default'"
        );
        assert_eq!(
            err(r#"{"layers": {"c": {"style": "stream"}}}"#),
            "layer 'c': style \"stream\" is a whole-model choice: set it on \"default\" (a stream model starts \
             streaming at its input), and mark layers that should stay \"parallel\""
        );
        assert_eq!(
            err(r#"{"default": {"pixels_per_clock": 2}}"#),
            "default.pixels_per_clock (2) is for the stream style and must be between 1 and 1024"
        );
        assert_eq!(
            err(r#"{"layers": {"c": {"primitives": "portable"}}}"#),
            "layer 'c': primitives belongs to \"default\" (the whole design)"
        );
        assert_eq!(
            err(r#"{"layers": {"c": {"max_latency": 4}}}"#),
            "layer 'c': max_latency belongs to \"default\" (the whole design's latency in cycles)"
        );
        assert_eq!(
            err(r#"{"softmax": {"exp_range": 3}}"#),
            "softmax.exp_range and sigmoid.range must be powers of two"
        );
        assert!(err(r#"{"defaults": {}}"#).starts_with("invalid config: unknown field `defaults`"));
        assert!(err(r#"{"layers": {"c": {"weight": "fixed<3>"}}}"#).starts_with("layer 'c': 'fixed<3>' is not"));
        let missing = Config::load(Path::new("/nonexistent/cfg.json")).unwrap_err().to_string();
        assert!(missing.starts_with("/nonexistent/cfg.json: cannot read config: "), "{missing}");
    }
}
