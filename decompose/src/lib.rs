//! `tachyon decompose`: Mixed-TD, layer-specific tensor decomposition with the factors quantized
//! as the hardware will hold them.
//!
//! For every decomposable layer ([`rewrite::find_targets`]: 2-D Conv, MatMul, Gemm with constant
//! weights), most expensive first, each method that applies (SVD for dense layers; channel SVD,
//! spatial SVD, SVD per group of 2 or 4 input- or output-channel groups, and CP for
//! convolutions) is tried at the smallest rank whose *whole-model* output
//! stays within the error budget, found by bisection over the ranks (the error falls with the
//! rank). A candidate is built exactly as it will be compiled: factors rounded onto `bits`-bit
//! power-of-two grids (the second SVD factor refitted to the rounded first), and a signed
//! `act_bits` Quant on every intermediate activation whose scale is the smallest power of two
//! holding the largest value seen on the calibration inputs (so it does not clip on them). Errors
//! are measured by float evaluation of the quantized QONNX model (`run_float`), relative to the
//! original model's outputs: ‖y_td − y‖₂ / ‖y‖₂ over all calibration samples. The budget is
//! shared between layers: after the k-th of n layers the cumulative error may be
//! `budget · sqrt(C_k / C)` (C_k: cost of the first k layers, C: of all), so error variance is
//! shared in proportion to cost and the final model is within `budget`. Each method is tried
//! with factors of the layer's weight width and of two bits more (or `--bits`).
//!
//! Cost: each feasible candidate (and the original layer) is compiled alone by the real `hls`
//! lowering — a sub-model from the layer's input quantizer to its output, with the user's config
//! and clock — and priced as `LUT + 100 · DSP + latency_luts · cycles` of its report (latency
//! weighs only when `--latency-luts` asks). The cheapest candidate wins if it is cheaper than the
//! layer. Everything is deterministic.

pub mod linalg;
pub mod rewrite;

use anyhow::{bail, Context, Result};
use prost::Message;
use rewrite::{apply, find_targets, stage_out, stages, ActQuant, Method, Target};
use std::path::{Path, PathBuf};
use tachyon_frontend::proto::{ModelProto, NodeProto};
use tachyon_frontend::{DType, Graph, Tensor};
use tachyon_quantize::Config;

/// LUTs a DSP slice counts for in the cost.
pub const DSP_LUTS: u64 = 100;

/// Options of `tachyon decompose`.
#[derive(Clone, Debug)]
pub struct Options {
    /// Largest relative output error of the whole model (0.01 = 1 %).
    pub budget: f64,
    /// Calibration inputs (.npy, first axis = sample); None: `samples` standard-normal inputs.
    pub inputs: Option<PathBuf>,
    /// Calibration samples used (the first ones of `inputs`).
    pub samples: usize,
    /// Held-out inputs (.npy) on which the final error is also measured (not used to choose).
    pub validate: Option<PathBuf>,
    /// Factor bit width (None: each layer's weight width and two bits more are both tried).
    pub weight_bits: Option<u32>,
    /// Bit width of the intermediate activations.
    pub act_bits: u32,
    /// Config and clock the cost model compiles with.
    pub config: Config,
    pub clock_ns: f64,
    /// LUTs one cycle of the layer's latency counts for in the cost (0: latency is reported,
    /// not weighed). A decomposed layer is two (or four) layers in a row, so it is usually a few
    /// cycles slower; a latency-critical trigger sets this to trade LUTs for cycles.
    pub latency_luts: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            budget: 0.01,
            inputs: None,
            samples: 64,
            validate: None,
            weight_bits: None,
            act_bits: 12,
            config: Config::default(),
            clock_ns: 2.5,
            latency_luts: 0,
        }
    }
}

/// Estimated resources of one layer (its sub-model) and the scalar cost.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Cost {
    /// Output widths (bits) of the sub-model's linear layers, in order: the layer's accumulator
    /// before, the stages' after — the bit growth of the factors in hardware.
    pub widths: Vec<u32>,
    pub lut: u64,
    pub dsp: u64,
    /// Latency of the layer alone, in cycles at the cost model's clock.
    pub cycles: u32,
    pub cost: u64,
}

/// What happened to one layer.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LayerResult {
    pub layer: String,
    /// The chosen method (None: kept as it is).
    pub method: Option<Method>,
    pub rank: usize,
    pub params_before: usize,
    pub params_after: usize,
    pub before: Cost,
    pub after: Cost,
    /// Relative error of the layer's output (vs the model with the other layers' choices and
    /// this layer intact) and of the model's output (vs the original model) when the choice
    /// was made.
    pub layer_error: f64,
    pub model_error: f64,
    /// Relative error of the reconstructed (quantized) weight.
    pub weight_error: f64,
    /// The intermediate quantizers: fixed<bits, int bits> as text, with the largest value seen.
    pub intermediates: Vec<String>,
    /// Factor bit width of the chosen candidate.
    pub bits: u32,
    /// Every (method, factor bits) tried.
    pub tried: Vec<Tried>,
}

/// One (method, factor bits) of a layer: the smallest rank within the error target and its
/// cost, or None (then `model_error` is the smallest error seen).
#[derive(Clone, Debug, serde::Serialize)]
pub struct Tried {
    pub method: Method,
    pub bits: u32,
    pub rank: Option<usize>,
    pub cost: Option<u64>,
    pub model_error: f64,
}

/// The decomposed model and the per-layer results.
pub struct Outcome {
    pub model: ModelProto,
    pub layers: Vec<LayerResult>,
    /// Layers left alone because they cannot be decomposed, with the reason.
    pub notes: Vec<String>,
    /// Relative output error on the calibration inputs.
    pub model_error: f64,
    /// Samples of `Options::validate` and the relative output error on them.
    pub validation: Option<(usize, f64)>,
}

/// Calibration inputs: each a tensor of the model's input shape.
fn calibration(g: &Graph, file: Option<&Path>, samples: usize) -> Result<Vec<Tensor>> {
    let [input] = g.inputs.as_slice() else {
        bail!("{}: decomposition handles models with one input ({} found)", g.path.display(), g.inputs.len())
    };
    let shape =
        g.value(*input).shape.clone().with_context(|| {
            format!("{}: the shape of input '{}' is unknown", g.path.display(), g.value(*input).name)
        })?;
    let per: usize = shape.iter().product();
    let rows: Vec<Vec<f64>> = match file {
        Some(p) => {
            let a = tachyon_common::npy::read_npy(p)?;
            let data = a.to_f64();
            let sample: usize = a.shape.iter().skip(1).product();
            if per == 0 || a.shape.len() < 2 || sample != per || data.is_empty() {
                bail!(
                    "{}: an array of shape {:?} does not hold samples of the model input's shape {shape:?} \
                     (the first axis is the sample)",
                    p.display(),
                    a.shape
                );
            }
            data.chunks(per).take(samples.max(1)).map(|c| c.to_vec()).collect()
        }
        None => {
            let mut rng = tachyon_common::rng::Rng::new(7);
            (0..samples.max(1)).map(|_| (0..per).map(|_| rng.normal()).collect()).collect()
        }
    };
    Ok(rows.into_iter().map(|r| Tensor::new(DType::F32, shape.clone(), r)).collect())
}

/// Float evaluation of a model on the calibration inputs: the outputs (flattened, all samples),
/// each named tensor (flattened, all samples) and its largest magnitude.
struct Run {
    outputs: Vec<f64>,
    named: Vec<Vec<f64>>,
}

fn run(model: &ModelProto, path: &Path, inputs: &[Tensor], names: &[String]) -> Result<Run> {
    let g = tachyon_frontend::decode_model(&model.encode_to_vec(), path)?;
    let ids: Vec<usize> = names
        .iter()
        .map(|n| g.values.iter().position(|v| &v.name == n).with_context(|| format!("internal error: no tensor '{n}'")))
        .collect::<Result<_>>()?;
    let mut r = Run { outputs: vec![], named: vec![vec![]; names.len()] };
    for x in inputs {
        let vals = tachyon_frontend::eval::run_float_values(&g, std::slice::from_ref(x))
            .map_err(|e| anyhow::anyhow!("{}: float evaluation: {e}", path.display()))?;
        for o in &g.outputs {
            let t = vals[o.0 as usize].as_ref().context("internal error: output not computed")?;
            r.outputs.extend(&t.data);
        }
        for (k, &id) in ids.iter().enumerate() {
            let t = vals[id].as_ref().with_context(|| format!("internal error: '{}' not computed", names[k]))?;
            r.named[k].extend(&t.data);
        }
    }
    Ok(r)
}

/// ‖a − b‖ / ‖b‖.
pub fn rel_error(a: &[f64], b: &[f64]) -> f64 {
    let d: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt();
    let n: f64 = b.iter().map(|y| y * y).sum::<f64>().sqrt();
    if n == 0.0 {
        d
    } else {
        d / n
    }
}

/// One evaluated candidate.
#[derive(Clone)]
struct Candidate {
    method: Method,
    rank: usize,
    bits: u32,
    stages: Vec<rewrite::Stage>,
    acts: Vec<Option<ActQuant>>,
    model: ModelProto,
    model_error: f64,
    layer_error: f64,
    weight_error: f64,
    intermediates: Vec<String>,
}

/// Builds and measures candidate (method, rank) of `t` on top of `current`.
#[allow(clippy::too_many_arguments)]
fn candidate(
    current: &ModelProto,
    path: &Path,
    t: &Target,
    method: Method,
    rank: usize,
    bits: u32,
    o: &Options,
    inputs: &[Tensor],
    reference: &[f64],
    layer_ref: &[f64],
) -> Result<Candidate> {
    let (st, weight_error) = stages(t, method, rank, bits).map_err(|e| anyhow::anyhow!("layer '{}': {e}", t.name))?;
    let (acts, intermediates) = calibrate(current, path, t, &st, o.act_bits, inputs)?;
    let model = apply(current, t, &st, &acts);
    let r = run(&model, path, inputs, std::slice::from_ref(&t.output))?;
    Ok(Candidate {
        method,
        rank,
        bits,
        stages: st,
        acts,
        model,
        model_error: rel_error(&r.outputs, reference),
        layer_error: rel_error(&r.named[0], layer_ref),
        weight_error,
        intermediates,
    })
}

/// The quantizers of the intermediate activations of `stages` replacing `t` in `current`:
/// signed `act_bits` bits, each scale the smallest power of two that holds the largest value
/// seen on `inputs` (float evaluation without them). Also each as text with that value.
pub fn calibrate(
    current: &ModelProto,
    path: &Path,
    t: &Target,
    stages: &[rewrite::Stage],
    act_bits: u32,
    inputs: &[Tensor],
) -> Result<(Vec<Option<ActQuant>>, Vec<String>)> {
    let mids: Vec<String> = (0..stages.len().saturating_sub(1)).map(|k| stage_out(t, k)).collect();
    let probe = apply(current, t, stages, &vec![None; mids.len()]);
    let p = run(&probe, path, inputs, &mids)?;
    let mut acts = vec![];
    let mut intermediates = vec![];
    let qmax = f64::powi(2.0, act_bits as i32 - 1) - 1.0;
    for v in &p.named {
        let max = v.iter().fold(0f64, |m, x| m.max(x.abs()));
        let exp = if max == 0.0 { 0 } else { (max / qmax).log2().ceil() as i32 };
        acts.push(Some(ActQuant { exp, bits: act_bits }));
        intermediates.push(format!("fixed<{},{}> (max |x| {:.3})", act_bits, act_bits as i32 + exp, max));
    }
    Ok((acts, intermediates))
}

/// The sub-model computing `t.output` from the quantizer that feeds `t.input` (through
/// single-input nodes such as MaxPool or Relu): priced alone by the hls cost model.
fn sub_model(model: &ModelProto, g: &Graph, t: &Target) -> Result<ModelProto> {
    let graph = model.graph.as_ref().context("the model has no graph")?;
    let producer = |name: &str| graph.node.iter().find(|n| n.output.iter().any(|o| o == name));
    // Walk back to the input quantizer.
    let mut at = t.input.clone();
    let entry = loop {
        match producer(&at) {
            Some(n) if n.op_type == "Quant" => break n.input.first().cloned().unwrap_or_default(),
            Some(n) if n.input.len() == 1 => at = n.input[0].clone(),
            _ => bail!(
                "layer '{}': no Quant before its input '{}' (through single-input nodes), so it cannot be priced alone",
                t.name,
                t.input
            ),
        }
    };
    let shape_of = |name: &str| -> Result<Vec<i64>> {
        let v = g.values.iter().find(|v| v.name == name).and_then(|v| v.shape.clone());
        Ok(v.with_context(|| format!("the shape of '{name}' is unknown"))?.iter().map(|&d| d as i64).collect())
    };
    // Backward cone of t.output, stopping at the entry tensor and at initializers.
    let mut keep = vec![false; graph.node.len()];
    let mut stack = vec![t.output.clone()];
    let mut seen = std::collections::BTreeSet::new();
    while let Some(v) = stack.pop() {
        if v == entry || !seen.insert(v.clone()) {
            continue;
        }
        if let Some(k) = graph.node.iter().position(|n| n.output.contains(&v)) {
            keep[k] = true;
            stack.extend(graph.node[k].input.iter().filter(|i| !i.is_empty()).cloned());
        }
    }
    let nodes: Vec<NodeProto> = graph.node.iter().zip(&keep).filter(|(_, &k)| k).map(|(n, _)| n.clone()).collect();
    let used: std::collections::BTreeSet<String> = nodes.iter().flat_map(|n| n.input.iter().cloned()).collect();
    let mut b = tachyon_common::GraphBuilder::new(&format!("{}_alone", t.name));
    b.input(&entry, &shape_of(&entry)?);
    b.output(&t.output, &shape_of(&t.output)?);
    let mut m = b.build(&[]);
    m.opset_import = model.opset_import.clone();
    let sub = m.graph.as_mut().context("internal error: built model without a graph")?;
    sub.node = nodes;
    sub.initializer = graph.initializer.iter().filter(|i| used.contains(&i.name)).cloned().collect();
    Ok(m)
}

/// What the caller's compiler says of a (sub-)model: its estimated resources, latency and the
/// output widths of its linear layers, in order.
#[derive(Clone, Debug, Default)]
pub struct Estimate {
    pub lut: u64,
    pub dsp: u64,
    pub cycles: u32,
    pub linear_widths: Vec<u32>,
}

/// The cost model: compiles the model file with the config at the clock (ns) and estimates it.
/// The driver passes its own compiler; tests may pass anything.
pub type Compile<'a> = dyn Fn(&Path, &Config, f64) -> Result<Estimate> + 'a;

/// Compiles a sub-model in memory (through a scratch file) and prices it.
fn price(m: &ModelProto, scratch: &Path, name: &str, o: &Options, compile: &Compile) -> Result<Cost> {
    // Node names may hold '/' or ':' (TensorFlow exporters): keep the file name plain.
    let file: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    let p = scratch.join(format!("{file}.onnx"));
    std::fs::write(&p, m.encode_to_vec()).with_context(|| format!("cannot write {}", p.display()))?;
    // A layer after the spatial part (a dense head) is parallel in a stream model: price it so.
    let e = compile(&p, &o.config, o.clock_ns).or_else(|e| {
        if o.config.style() != tachyon_quantize::config::Style::Stream {
            return Err(e);
        }
        let mut parallel = o.config.clone();
        parallel.default.style = Some(tachyon_quantize::config::Style::Parallel);
        compile(&p, &parallel, o.clock_ns)
    });
    let e = e.with_context(|| format!("pricing '{name}' with the hls cost model"))?;
    let cost = e.lut + DSP_LUTS * e.dsp + o.latency_luts * u64::from(e.cycles);
    Ok(Cost { widths: e.linear_widths, lut: e.lut, dsp: e.dsp, cycles: e.cycles, cost })
}

/// Decomposes the model at `path` (see the module doc), pricing candidates with `compile`.
pub fn decompose(path: &Path, o: &Options, compile: &Compile) -> Result<Outcome> {
    if !(o.budget > 0.0 && o.budget.is_finite()) {
        bail!("--budget must be a positive relative error (0.01 = 1 %), got {}", o.budget);
    }
    if !(2..=32).contains(&o.act_bits) {
        bail!("--act-bits must be between 2 and 32, got {}", o.act_bits);
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let original = ModelProto::decode(bytes.as_slice())
        .map_err(|e| anyhow::anyhow!("{}: not an ONNX model: {e}", path.display()))?;
    let g = tachyon_frontend::decode_model(&bytes, path)?;
    let inputs = calibration(&g, o.inputs.as_deref(), o.samples)?;
    let held_out = match &o.validate {
        Some(p) => Some(calibration(&g, Some(p), usize::MAX)?),
        None => None,
    };
    let (mut targets, notes) = find_targets(&original, &g, o.weight_bits.unwrap_or(8));
    // One scratch folder per call (calls may run in parallel threads of one process).
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let scratch = std::env::temp_dir().join(format!("tachyon-decompose-{}-{call}", std::process::id()));
    std::fs::create_dir_all(&scratch).with_context(|| format!("cannot create {}", scratch.display()))?;
    let result = select(path, &original, &g, &mut targets, notes, &inputs, o, compile, &scratch);
    let _ = std::fs::remove_dir_all(&scratch);
    let mut outcome = result?;
    if let Some(x) = held_out {
        let want = run(&original, path, &x, &[])?.outputs;
        let got = run(&outcome.model, path, &x, &[])?.outputs;
        outcome.validation = Some((x.len(), rel_error(&got, &want)));
    }
    Ok(outcome)
}

/// What the search needs besides the layer: the model file (for messages), calibration inputs,
/// the original outputs, options and the scratch folder.
struct Ctx<'a> {
    path: &'a Path,
    inputs: &'a [Tensor],
    reference: Vec<f64>,
    o: &'a Options,
    compile: &'a Compile<'a>,
    scratch: &'a Path,
}

/// The cheapest candidate of layer `t` on top of `base` whose model error is within `target`,
/// by bisection over the ranks of every (method, factor bits); and what was tried.
fn search(base: &ModelProto, t: &Target, target: f64, cx: &Ctx) -> Result<(Option<Choice>, Vec<Tried>)> {
    let layer_ref = run(base, cx.path, cx.inputs, std::slice::from_ref(&t.output))?.named.remove(0);
    let bg = tachyon_frontend::decode_model(&base.encode_to_vec(), cx.path)?;
    let mut tried = vec![];
    let mut best: Option<(Candidate, Cost)> = None;
    let bit_choices = match cx.o.weight_bits {
        Some(b) => vec![b.max(2)],
        None => vec![t.weight_bits.max(2), t.weight_bits.max(2) + 2],
    };
    for method in t.methods() {
        for &bits in &bit_choices {
            let hi = t.max_rank(method);
            let eval =
                |r: usize| candidate(base, cx.path, t, method, r, bits, cx.o, cx.inputs, &cx.reference, &layer_ref);
            // Coarse scan over ranks 1, 2, 3, 4, 6, 8, 12, 16, … (the error need not fall all the
            // way to full rank: every extra term brings its own rounding), then bisection
            // between the last failing and the first passing point.
            let mut found: Option<Candidate> = None;
            let mut best_error = f64::INFINITY;
            let mut last_fail = 0usize;
            for r in scan_ranks(hi) {
                let c = eval(r)?;
                best_error = best_error.min(c.model_error);
                if c.model_error <= target {
                    found = Some(c);
                    break;
                }
                last_fail = r;
            }
            if let Some(f) = &found {
                let (mut lo, mut hi_ok) = (last_fail + 1, f.rank);
                while lo < hi_ok {
                    let mid = (lo + hi_ok) / 2;
                    let c = eval(mid)?;
                    if c.model_error <= target {
                        hi_ok = mid;
                        found = Some(c);
                    } else {
                        lo = mid + 1;
                    }
                }
            }
            let error_at_max = best_error;
            let Some(c) = found else {
                tried.push(Tried { method, bits, rank: None, cost: None, model_error: error_at_max });
                continue;
            };
            let m = sub_model(&c.model, &bg, t)?;
            let cost = price(&m, cx.scratch, &format!("{}_{method}_{}_{bits}", t.name, c.rank), cx.o, cx.compile)?;
            tried.push(Tried { method, bits, rank: Some(c.rank), cost: Some(cost.cost), model_error: c.model_error });
            if best.as_ref().is_none_or(|(_, b)| cost.cost < b.cost) {
                best = Some((c, cost));
            }
        }
    }
    Ok((best, tried))
}

/// Ranks 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, … below `hi`, and `hi`.
fn scan_ranks(hi: usize) -> Vec<usize> {
    let mut v: Vec<usize> =
        (0..).map(|k| if k % 2 == 0 { 1 << (k / 2) } else { 3 << (k / 2) }).take_while(|&r| r < hi).collect();
    v.sort_unstable();
    v.dedup();
    if hi >= 1 {
        v.push(hi);
    }
    v
}

/// A chosen candidate and its cost.
type Choice = (Candidate, Cost);

/// `original` with every chosen decomposition applied except layer `except`'s.
fn with_choices(
    original: &ModelProto,
    targets: &[Target],
    chosen: &[Option<(Candidate, Cost)>],
    except: Option<usize>,
) -> ModelProto {
    let mut m = original.clone();
    for (k, c) in chosen.iter().enumerate() {
        if let (Some((c, _)), false) = (c, except == Some(k)) {
            m = apply(&m, &targets[k], &c.stages, &c.acts);
        }
    }
    m
}

/// Two passes over the layers, most expensive first. Pass 1: each layer within its cumulative
/// share of the budget. Pass 2: each layer again, the others as chosen, within the whole budget
/// (a layer may take the slack the others left). A choice is replaced only by a cheaper one, and
/// every accepted model is within the budget.
#[allow(clippy::too_many_arguments)]
fn select(
    path: &Path,
    original: &ModelProto,
    g: &Graph,
    targets: &mut [Target],
    mut notes: Vec<String>,
    inputs: &[Tensor],
    o: &Options,
    compile: &Compile,
    scratch: &Path,
) -> Result<Outcome> {
    // Price every layer as it is.
    let mut before = vec![];
    let mut priced = vec![];
    for t in targets.iter() {
        match sub_model(original, g, t).and_then(|m| price(&m, scratch, &t.name, o, compile)) {
            Ok(c) => {
                before.push(c);
                priced.push(t.clone());
            }
            Err(e) => notes.push(format!("'{}' left alone: {e:#}", t.name)),
        }
    }
    let mut order: Vec<usize> = (0..priced.len()).collect();
    order.sort_by_key(|&k| (std::cmp::Reverse(before[k].cost), priced[k].index));
    let reference = run(original, path, inputs, &[])?.outputs;
    let cx = Ctx { path, inputs, reference, o, compile, scratch };
    let mut chosen: Vec<Option<(Candidate, Cost)>> = vec![None; priced.len()];
    let mut tried: Vec<Vec<Tried>> = vec![vec![]; priced.len()];
    let total_cost: u64 = before.iter().map(|c| c.cost).sum::<u64>().max(1);
    let mut cost_so_far = 0;
    for pass in 0..2 {
        for &k in &order {
            cost_so_far += before[k].cost;
            let target = if pass == 0 { o.budget * (cost_so_far as f64 / total_cost as f64).sqrt() } else { o.budget };
            let base = with_choices(original, &priced, &chosen, Some(k));
            let (best, t) = search(&base, &priced[k], target, &cx)?;
            tried[k] = t;
            let now = chosen[k].as_ref().map_or(before[k].cost, |(_, c)| c.cost);
            if let Some(b) = best.filter(|(_, c)| c.cost < now) {
                chosen[k] = Some(b);
            }
        }
    }
    let model = with_choices(original, &priced, &chosen, None);
    let model_error = rel_error(&run(&model, path, inputs, &[])?.outputs, &cx.reference);
    let mut layers = vec![];
    for &k in &order {
        let t = &priced[k];
        let b = before[k].clone();
        let mut res = LayerResult {
            layer: t.name.clone(),
            method: None,
            rank: 0,
            params_before: t.params(),
            params_after: t.params(),
            before: b.clone(),
            after: b,
            layer_error: 0.0,
            model_error: 0.0,
            weight_error: 0.0,
            intermediates: vec![],
            bits: t.weight_bits,
            tried: std::mem::take(&mut tried[k]),
        };
        if let Some((c, cost)) = &chosen[k] {
            res.method = Some(c.method);
            res.rank = c.rank;
            res.bits = c.bits;
            res.params_after = t.params_of(c.method, c.rank);
            res.after = cost.clone();
            res.layer_error = c.layer_error;
            res.model_error = c.model_error;
            res.weight_error = c.weight_error;
            res.intermediates = c.intermediates.clone();
        }
        layers.push(res);
    }
    Ok(Outcome { model, layers, notes, model_error, validation: None })
}

/// The per-layer table printed by `tachyon decompose`.
pub fn table(o: &Outcome) -> String {
    let mut s = String::new();
    s += &format!(
        "{:<14} {:<16} {:>4} {:>8} {:>8} {:>8} {:>8} {:>5} {:>5} {:>9} {:>9}  intermediates\n",
        "layer", "method", "rank", "params", "→", "LUT", "→", "DSP", "→", "layer err", "model err"
    );
    for l in &o.layers {
        s += &format!(
            "{:<14} {:<16} {:>4} {:>8} {:>8} {:>8} {:>8} {:>5} {:>5} {:>8.3}% {:>8.3}%  {}\n",
            l.layer,
            l.method.map_or("kept".to_string(), |m| format!("{m} w{}", l.bits)),
            if l.method.is_some() { l.rank.to_string() } else { "-".into() },
            l.params_before,
            l.params_after,
            l.before.lut,
            l.after.lut,
            l.before.dsp,
            l.after.dsp,
            100.0 * l.layer_error,
            100.0 * l.model_error,
            l.intermediates.join(", ")
        );
        let tried: Vec<String> = l
            .tried
            .iter()
            .map(|t| match (t.rank, t.cost) {
                (Some(r), Some(c)) => format!("{} w{} r{r} cost {c}", t.method, t.bits),
                _ => format!("{} w{}: none (best {:.2}%)", t.method, t.bits, 100.0 * t.model_error),
            })
            .collect();
        if l.method.is_some() {
            s += &format!("{:<14} linear output widths {:?} → {:?} bits\n", "", l.before.widths, l.after.widths);
        }
        s += &format!("{:<14} tried: {} (layer cost {})\n", "", tried.join("; "), l.before.cost);
    }
    let (b, a): (u64, u64) = o.layers.iter().fold((0, 0), |(b, a), l| (b + l.before.lut, a + l.after.lut));
    s += &format!("layers' LUT estimate {b} → {a}; relative output error {:.3}%\n", 100.0 * o.model_error);
    if let Some((n, e)) = o.validation {
        s += &format!("held-out inputs: {n} samples, relative output error {:.3}%\n", 100.0 * e);
    }
    for n in &o.notes {
        s += &format!("note: {n}\n");
    }
    s
}
