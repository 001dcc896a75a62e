//! Warnings about a built design that a user needs before trusting it, printed by `tachyon
//! build` and recorded in `report.json` (`warnings`) and report.html:
//!
//! * outputs that do not depend on the input — their interval is a single value (all-zero
//!   weights, a ReLU that is never positive, a quantizer with too few bits), so the hardware
//!   drives a constant ("the design is constant" when every output is);
//! * layers whose `reuse` in the config raises their DSP count: time-multiplexing puts every
//!   product on a DSP multiplier, while the parallel layer builds most constant products as
//!   shift-and-add logic in LUTs — the design is compiled once more without `reuse` to compare;
//! * a `max_latency` in the config that the design does not meet at the clock asked for.

use crate::project::Built;
use anyhow::Result;
use tachyon_quantize::{Config, QModel};

/// Every warning about `b`, built with `config`; `resynthesize` compiles the same quantized
/// model with another config (the reuse comparison), and runs only when a layer has `reuse`.
pub fn design_warnings(
    b: &Built,
    config: &Config,
    resynthesize: &dyn Fn(&Config) -> Result<Built>,
) -> Result<Vec<String>> {
    let mut w = constant_outputs(&b.qmodel).into_iter().collect::<Vec<_>>();
    w.extend(reuse_dsp(b, config, resynthesize)?);
    w.extend(missed_latency(b, config));
    Ok(w)
}

/// A `max_latency` the design does not meet: the clock allows no fewer cycles.
fn missed_latency(b: &Built, config: &Config) -> Option<String> {
    let want = config.max_latency()?;
    let got = b.design.latency;
    (got > want).then(|| {
        format!(
            "max_latency is {want} cycles, but the design takes {got} at {} ns: the clock allows no fewer \
             (a longer clock period shortens the pipeline)",
            b.manifest.clock_ns
        )
    })
}

/// "The design is constant" or the outputs that are, with their values.
pub fn constant_outputs(q: &QModel) -> Option<String> {
    let t = q.tensor(q.output);
    let fixed: Vec<(usize, f64)> = t
        .elems
        .iter()
        .enumerate()
        .filter(|(_, e)| e.lo == e.hi)
        .map(|(i, e)| (i, e.lo as f64 * 2f64.powi(-e.frac)))
        .collect();
    if fixed.is_empty() {
        return None;
    }
    let list = |items: &[(usize, f64)]| -> String {
        let mut s: Vec<String> = items.iter().take(8).map(|(i, v)| format!("{}[{i}] = {v}", t.name)).collect();
        if items.len() > 8 {
            s.push(format!("… ({} in all)", items.len()));
        }
        s.join(", ")
    };
    let why = "check the weights of the layers before it (all zero?), a ReLU that is never positive, and the \
               bit widths of its quantizers";
    let after = if q.epilogue.is_empty() { "" } else { " (before the float epilogue)" };
    Some(if fixed.len() == t.elems.len() {
        format!("the design is constant: no output depends on the input{after} ({}); {why}", list(&fixed))
    } else {
        format!(
            "{} of {} outputs do not depend on the input{after}, they are constants: {}; {why}",
            fixed.len(),
            t.elems.len(),
            list(&fixed)
        )
    })
}

/// Layers whose `reuse` gives them more DSPs than the same layer built in parallel.
fn reuse_dsp(b: &Built, config: &Config, resynthesize: &dyn Fn(&Config) -> Result<Built>) -> Result<Vec<String>> {
    let reused = |c: &Config, nodes: &[String]| c.reuse(nodes) > 1;
    if !b.design.report.layers.iter().any(|l| reused(config, &l.onnx_nodes)) {
        return Ok(vec![]);
    }
    let mut parallel = config.clone();
    parallel.default.reuse = None;
    for p in parallel.layers.values_mut() {
        p.reuse = None;
    }
    let p = resynthesize(&parallel)?;
    let mut w = vec![];
    for l in &b.design.report.layers {
        let r = config.reuse(&l.onnx_nodes);
        if r <= 1 {
            continue;
        }
        let Some(q) = p.design.report.layers.iter().find(|q| q.name == l.name) else { continue };
        if l.estimate.dsp > q.estimate.dsp {
            w.push(format!(
                "layer '{}' ({}): reuse {r} raises its DSP count from {} to {}: time-multiplexing puts every \
                 product on a DSP multiplier, while the parallel layer makes its constant products shift-and-add \
                 logic in LUTs ({} LUT at reuse 1, {} at reuse {r}); drop \"reuse\" on it unless DSPs are what you \
                 want to spend",
                l.name,
                l.onnx_nodes.join(", "),
                q.estimate.dsp,
                l.estimate.dsp,
                q.estimate.lut,
                l.estimate.lut
            ));
        }
    }
    Ok(w)
}
