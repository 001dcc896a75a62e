//! Lowering of a front-end graph to the quantized IR.
//!
//! Walks the nodes in order and keeps a symbolic state per ONNX value ([`Sym`]):
//! * `Pre` — float values computed from the graph input before any quantizer: becomes the
//!   prologue. A `Quant`/`BipolarQuant` ends it exactly (the hardware input is the quantized
//!   value); any other op ends it by quantizing to the configured input type;
//! * `Q` — a tensor of the quantized IR;
//! * `Pending` — a quantized tensor followed by float ops with non-power-of-two constants
//!   (e.g. batch norm in a Brevitas model) or float functions (Tanh, HardSigmoid; see
//!   [`activation`]). The next quantizer turns the whole chain into exact
//!   step functions ([`LayerKind::Threshold`]) evaluated with the float semantics; at the graph
//!   output the chain becomes the epilogue.
//!
//! Float models (no quantizer in the file) get weight, bias and result types from the config,
//! hls4ml-style; results are requantized where a layer ends (before a non-linear op or output).
//! Consecutive linear layers are fused afterwards ([`fuse::fuse_linear`]), and a ReLU goes
//! where the requantization after it clamps at zero anyway ([`fuse::fuse_relu`]); a rounding
//! constant moves into the bias of the linear layer before its requantization
//! ([`fuse::fold_rounding`]); and a table lookup absorbs the element-wise layers after it, as
//! one step function per element ([`fuse::compose_tables`]; not in time-multiplexed designs).

mod activation;
mod bn_fold;
mod dense;
mod elementwise;
pub use elementwise::requant_elem;
pub mod fuse;
mod inputs;
mod scales;
mod steps;
mod structural;
pub mod tables;

use crate::config::{Config, Field};
use crate::error::QuantizeError;
use crate::fixed::{Elem, FixedType};
use crate::qir::{FloatStep, InputConv, Layer, LayerKind, Prologue, QModel, QTensor, Requant, TensorId};
use std::collections::{BTreeMap, BTreeSet};
use tachyon_frontend::{Graph, Node, Op, Tensor, ValueId};

/// Symbolic state of one ONNX value during lowering.
#[derive(Clone, Debug)]
enum Sym {
    Const(Tensor),
    Pre {
        steps: Vec<FloatStep>,
    },
    Q(TensorId),
    /// `base` divided element-wise by odd `divisors` (a mean over a count that is not a power of
    /// two): exact only through the quantizer that must follow.
    Divided {
        base: TensorId,
        divisors: Vec<u32>,
    },
    /// `shape` is the ONNX shape of the value the first step reads.
    Pending {
        base: TensorId,
        shape: Vec<usize>,
        steps: Vec<FloatStep>,
    },
}

pub(crate) struct Lowerer<'a> {
    g: &'a Graph,
    cfg: &'a Config,
    /// No quantizer in the file: precision comes from the config.
    float_mode: bool,
    /// The input quantizer is Tachyon's `FixedQuant` (an HGQ2-style model): input elements no
    /// layer reads leave the bus ([`inputs::prune_inputs`]).
    fixed_input: bool,
    /// Constants on this grid or a coarser one are exact (see [`dense::GRID_FRAC`]); a model
    /// written with Tachyon's fixed-point ops states its constants exactly, to 2^-64.
    exact_frac: i32,
    m: QModel,
    syms: Vec<Option<Sym>>,
    names: BTreeSet<String>,
    /// Float mode: tensors whose layer result type is still to be applied (tensor → node name).
    unfinished: BTreeMap<TensorId, String>,
    /// Batch norms folded into the float weights of the op before them (`bn_fold::after`):
    /// their output is that op's.
    folded: BTreeSet<String>,
    input_done: bool,
    /// The input quantizer that ended the prologue: its signature (op, float steps, constants),
    /// node name and output tensor.
    input_quantizer: Option<(String, String, TensorId)>,
}

/// Lowers `g` to the quantized IR using `cfg` for everything the model does not fix itself.
pub fn lower(g: &Graph, cfg: &Config) -> Result<QModel, QuantizeError> {
    let path = g.path.display().to_string();
    let unsupported = g.unsupported();
    if !unsupported.is_empty() {
        return Err(tachyon_frontend::FrontendError::Unsupported { path: g.path.clone(), list: unsupported }.into());
    }
    let known: Vec<String> = g.nodes.iter().map(|n| n.name.clone()).collect();
    let unknown = cfg.unknown_layers(&known);
    if !unknown.is_empty() {
        return Err(QuantizeError::Config(format!(
            "the config names layers that are not in {path}: {}; the model's nodes are: {}",
            unknown.join(", "),
            known.join(", ")
        )));
    }
    if g.inputs.len() != 1 || g.outputs.len() != 1 {
        return Err(QuantizeError::Model {
            path,
            what: format!(
                "the model has {} inputs and {} outputs; Tachyon compiles single-input, single-output models",
                g.inputs.len(),
                g.outputs.len()
            ),
        });
    }
    let input_shape = g.value(g.inputs[0]).shape.clone().unwrap_or_default();
    let mut l = Lowerer {
        g,
        cfg,
        float_mode: g.quantizers == 0,
        fixed_input: false,
        exact_frac: if g.nodes.iter().any(|n| n.domain == tachyon_frontend::FIXED_DOMAIN) {
            dense::FIXED_GRID_FRAC
        } else {
            dense::GRID_FRAC
        },
        m: QModel {
            name: if g.name.is_empty() { "model".into() } else { g.name.clone() },
            tensors: vec![],
            layers: vec![],
            input: TensorId(0),
            output: TensorId(0),
            prologue: Prologue { input_shape, steps: vec![], conv: InputConv::Exact { frac: 0 }, select: None },
            epilogue: vec![],
            output_shape: g.value(g.outputs[0]).shape.clone().unwrap_or_default(),
            epilogue_shape: g.value(g.outputs[0]).shape.clone().unwrap_or_default(),
        },
        syms: g.values.iter().map(|v| v.konst.clone().map(Sym::Const)).collect(),
        names: BTreeSet::new(),
        unfinished: BTreeMap::new(),
        folded: BTreeSet::new(),
        input_done: false,
        input_quantizer: None,
    };
    l.syms[g.inputs[0].0 as usize] = Some(Sym::Pre { steps: vec![] });
    for n in &g.nodes {
        l.node(n)?;
    }
    let out = g.outputs[0];
    match l.sym(out).clone() {
        Sym::Q(t) => {
            let t = l.finish(t)?;
            l.m.output = t;
        }
        Sym::Pending { base, shape, steps } => {
            let t = l.finish(base)?;
            l.m.output = t;
            l.m.epilogue = steps;
            l.m.epilogue_shape = shape;
        }
        Sym::Divided { .. } => {
            return Err(QuantizeError::Model {
                path: g.path.display().to_string(),
                what: "the output is a mean over a count that is not a power of two; add a Quant node after it so \
                       the division has an exact rounding"
                    .into(),
            })
        }
        Sym::Pre { .. } | Sym::Const(_) => {
            return Err(QuantizeError::Model {
                path: g.path.display().to_string(),
                what: "the output does not depend on any quantized or hardware computation".into(),
            })
        }
    }
    let fixed_input = l.fixed_input;
    let mut m = l.m;
    fuse::fuse_linear(&mut m);
    fuse::fuse_relu(&mut m);
    fuse::fold_rounding(&mut m);
    crate::relations::tighten(&mut m);
    if !cfg.time_multiplexed() {
        fuse::compose_tables(&mut m);
    }
    if fixed_input {
        inputs::prune_inputs(&mut m);
    }
    // Cheap (linear in the model) and the last line of defence against a lowering bug turning
    // into wrong hardware, so it runs in release builds too.
    crate::verify::verify(&m)
        .map_err(|error| QuantizeError::Verify { path: g.path.display().to_string(), error: Box::new(error) })?;
    Ok(m)
}

impl<'a> Lowerer<'a> {
    fn sym(&self, v: ValueId) -> &Sym {
        self.syms[v.0 as usize].as_ref().expect("values are defined before use (topological order)")
    }

    pub(crate) fn err(&self, n: &Node, what: impl Into<String>) -> QuantizeError {
        QuantizeError::Node {
            path: self.g.path.display().to_string(),
            node: format!("node '{}'", n.name),
            op: n.node_ref().op,
            what: what.into(),
        }
    }

    fn set(&mut self, v: ValueId, s: Sym) {
        self.syms[v.0 as usize] = Some(s);
    }

    /// A unique Verilog-friendly layer name from an ONNX node name.
    fn layer_name(&mut self, base: &str) -> String {
        let mut s: String =
            base.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
        s = s.trim_matches('_').to_string();
        while s.contains("__") {
            s = s.replace("__", "_");
        }
        if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
            s = format!("l_{s}");
        }
        let mut name = s.clone();
        let mut k = 1;
        while self.names.contains(&name) {
            name = format!("{s}_{k}");
            k += 1;
        }
        self.names.insert(name.clone());
        name
    }

    pub(crate) fn new_tensor(&mut self, name: &str, shape: Vec<usize>, elems: Vec<Elem>) -> TensorId {
        let id = TensorId(self.m.tensors.len() as u32);
        self.m.tensors.push(QTensor { name: name.to_string(), shape, elems, offset: vec![] });
        id
    }

    pub(crate) fn elems(&self, t: TensorId) -> &[Elem] {
        &self.m.tensor(t).elems
    }

    /// Appends a layer producing a new tensor with the given element types.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push_layer(
        &mut self,
        node: &str,
        origin: Vec<String>,
        kind: LayerKind,
        input: TensorId,
        out_name: &str,
        shape: Vec<usize>,
        elems: Vec<Elem>,
    ) -> TensorId {
        self.push_layer_multi(node, origin, kind, vec![input], out_name, shape, elems)
    }

    /// Appends a layer reading several tensors (indices address their concatenation).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push_layer_multi(
        &mut self,
        node: &str,
        origin: Vec<String>,
        kind: LayerKind,
        inputs: Vec<TensorId>,
        out_name: &str,
        shape: Vec<usize>,
        elems: Vec<Elem>,
    ) -> TensorId {
        let output = self.new_tensor(out_name, shape, elems);
        let name = self.layer_name(node);
        self.m.layers.push(Layer { name, origin, kind, inputs, output });
        output
    }

    fn shape_of(&self, v: ValueId) -> Vec<usize> {
        self.g.value(v).shape.clone().unwrap_or_default()
    }

    /// The single non-constant input of a node and the constants beside it.
    fn split_inputs(&self, n: &Node) -> Result<(usize, Vec<Option<Tensor>>), QuantizeError> {
        let mut running = None;
        let mut args = vec![];
        for (i, inp) in n.inputs.iter().enumerate() {
            match inp.map(|v| self.sym(v)) {
                Some(Sym::Const(t)) => args.push(Some(t.clone())),
                None => args.push(None),
                Some(_) => {
                    if running.is_some() {
                        return Err(self.err(n, "operations between two computed tensors (e.g. residual Add, attention MatMul) are not supported yet; only one operand may be non-constant"));
                    }
                    running = Some(i);
                    args.push(None);
                }
            }
        }
        let r = running.ok_or_else(|| self.err(n, "node has no non-constant input (should have been folded)"))?;
        Ok((r, args))
    }

    /// Ends the prologue by quantizing to the configured input type.
    fn materialize_input(&mut self, steps: Vec<FloatStep>, v: ValueId) -> TensorId {
        let ty = self.cfg.input_type();
        let shape = self.shape_of(v);
        let n: usize = shape.iter().product();
        self.m.prologue.steps = steps;
        self.m.prologue.conv = InputConv::Type(ty);
        let t = self.new_tensor(&self.g.value(v).name.clone(), shape, vec![Elem::of_type(&ty); n]);
        self.m.input = t;
        self.input_done = true;
        t
    }

    /// Float mode: applies the result type (and accumulator type) of the layer that made `t`.
    pub(crate) fn finish(&mut self, t: TensorId) -> Result<TensorId, QuantizeError> {
        let Some(node) = self.unfinished.remove(&t) else {
            return Ok(t);
        };
        let mut t = t;
        for field in [Field::Accum, Field::Result] {
            if let Some(ty) = self.cfg.precision(&node, field) {
                t = self.requant_to_type(&node, t, ty, field);
            }
        }
        Ok(t)
    }

    fn requant_to_type(&mut self, node: &str, t: TensorId, ty: FixedType, field: Field) -> TensorId {
        let (lo, hi) = ty.range();
        let elems = self.elems(t).to_vec();
        let specs: Vec<Requant> = elems
            .iter()
            .map(|e| Requant {
                from_frac: e.frac,
                to_frac: ty.frac(),
                div: 1,
                round: ty.round,
                lo,
                hi,
                overflow: ty.overflow,
            })
            .collect();
        let out: Vec<Elem> = specs.iter().zip(&elems).map(|(r, e)| elementwise::requant_elem(e, r)).collect();
        let shape = self.m.tensor(t).shape.clone();
        let name = format!(
            "{node}_{}",
            match field {
                Field::Accum => "accum",
                _ => "result",
            }
        );
        let tname = self.m.tensor(t).name.clone();
        self.push_layer(&name, vec![node.to_string()], LayerKind::Requant(specs), t, &tname, shape, out)
    }

    fn node(&mut self, n: &Node) -> Result<(), QuantizeError> {
        if n.outputs.is_empty() {
            return Ok(());
        }
        if self.folded.contains(&n.name) {
            let x = n.input(0).map(|v| self.sym(v).clone());
            if let Some(x) = x {
                self.set(n.outputs[0], x);
                return Ok(());
            }
        }
        let computed: Vec<usize> = (0..n.inputs.len())
            .filter(|&i| n.input(i).is_some_and(|v| !matches!(self.sym(v), Sym::Const(_))))
            .collect();
        if computed.len() == 2 {
            if let Some(sym) = self.same_base(n, &computed) {
                let out = n.outputs[0];
                self.set(out, sym);
                return Ok(());
            }
        }
        if computed.len() >= 2 {
            return self.structural(n, &computed);
        }
        let out = n.outputs[0];
        let (slot, args) = self.split_inputs(n)?;
        let x = n.inputs[slot].expect("running input exists");
        let sym = self.sym(x).clone();
        let step = activation::float_step(self, n, &args)?;
        let is_quantizer = n.op.is_quantizer();
        let is_float_elementwise =
            matches!(n.op, Op::Add | Op::Sub | Op::Mul | Op::Div | Op::BatchNorm { .. } | Op::Neg | Op::Pow | Op::Sqrt);
        let is_layout = matches!(
            n.op,
            Op::Reshape { .. }
                | Op::Flatten { .. }
                | Op::Identity
                | Op::Dropout
                | Op::Squeeze { .. }
                | Op::Unsqueeze { .. }
                | Op::Transpose { .. }
                | Op::Cast { .. }
        );
        match sym {
            Sym::Const(_) => unreachable!("split_inputs returns a non-constant input"),
            Sym::Pre { mut steps } => {
                if is_layout || is_float_elementwise {
                    steps.push(step);
                    self.set(out, Sym::Pre { steps });
                } else if is_quantizer && scales::float_scaled(self, n) {
                    let s = scales::scaled_input(self, n, steps, out)?;
                    self.set(out, s);
                } else if is_quantizer {
                    let before = format!("{steps:?}");
                    steps.push(step);
                    // The same quantizer on the same float input (HGQ2: two layers reading the
                    // model input, each with its own input quantizer) reads one input bus.
                    let konsts: Vec<_> =
                        n.inputs.iter().skip(1).map(|v| v.and_then(|v| self.g.value(v).konst.clone())).collect();
                    let key = format!("{:?}", (&n.op, before, &konsts));
                    let t = match &self.input_quantizer {
                        None => {
                            let t = self.quantized_input(n, steps, out)?;
                            self.input_quantizer = Some((key, n.name.clone(), t));
                            t
                        }
                        Some((k, _, t)) if *k == key => *t,
                        Some((_, first, _)) => {
                            return Err(self.err(
                                n,
                                format!(
                                    "the model input is quantized a second time, differently from '{first}'; \
                                     Tachyon's input bus carries one quantized input: quantize the input once \
                                     (one input quantizer, or the same one in every layer that reads the input)"
                                ),
                            ))
                        }
                    };
                    self.set(out, Sym::Q(t));
                } else {
                    let t = self.materialize_input(steps, x);
                    self.set(x, Sym::Q(t));
                    self.node(n)?;
                }
            }
            Sym::Pending { base, shape, mut steps } => {
                let is_activation = matches!(
                    n.op,
                    Op::Relu
                        | Op::Clip { .. }
                        | Op::LeakyRelu { .. }
                        | Op::Tanh
                        | Op::HardSigmoid { .. }
                        | Op::Sigmoid
                        | Op::Erf
                        | Op::Gelu { .. }
                        | Op::Func(_)
                );
                if is_layout && !matches!(n.op, Op::Transpose { .. }) || is_float_elementwise || is_activation {
                    steps.push(step);
                    self.set(out, Sym::Pending { base, shape, steps });
                } else if is_quantizer {
                    steps.push(step);
                    // Wider than `resolve_pending` tabulates (the span over all elements).
                    let xe = self.elems(base);
                    let lo = xe.iter().map(|e| e.lo).min().unwrap_or(0);
                    let hi = xe.iter().map(|e| e.hi).max().unwrap_or(0);
                    let wide = hi - lo + 1 > 1 << 16;
                    if scales::float_scaled(self, n) || (wide && scales::monotone(&steps)) {
                        let s = scales::resolve(self, n, base, &shape, &steps, out)?;
                        self.set(out, s);
                    } else {
                        let t = elementwise::resolve_pending(self, n, base, &shape, &steps, out)?;
                        self.set(out, Sym::Q(t));
                    }
                } else if let Some(s) = self.scaled_through(n, slot, x, base, &shape, &steps)? {
                    self.set(out, s);
                } else {
                    let names: Vec<String> =
                        steps.iter().map(|s| format!("'{}' ({})", s.node, s.op.mnemonic())).collect();
                    return Err(self.err(n, format!("the float ops {} have no exact fixed-point form (constants that are not powers of two, or a non-linear function such as Tanh); put a Quant node after them, before this op, and they become exact step functions", names.join(", "))));
                }
            }
            Sym::Q(t) => {
                let s = self.q_node(n, slot, &args, t, out)?;
                self.set(out, s);
            }
            Sym::Divided { base, divisors } => {
                if matches!(n.op, Op::Quant { .. } | Op::BipolarQuant) {
                    let shape = self.shape_of(out);
                    let name = self.g.value(out).name.clone();
                    let t = elementwise::lower_quantizer(self, n, base, &shape, &name, Some(&divisors))?;
                    self.set(out, Sym::Q(t));
                } else if matches!(
                    n.op,
                    Op::Identity
                        | Op::Dropout
                        | Op::Reshape { .. }
                        | Op::Flatten { .. }
                        | Op::Squeeze { .. }
                        | Op::Unsqueeze { .. }
                ) {
                    self.set(out, Sym::Divided { base, divisors });
                } else {
                    return Err(self.err(n, "a mean over a count that is not a power of two must be followed by a Quant node (the division is exact only as part of its rounding)"));
                }
            }
        }
        Ok(())
    }

    /// A scaled tensor (integers `base` times constant factors, [`scales`]) through `n`.
    fn scaled_through(
        &mut self,
        n: &Node,
        slot: usize,
        x: ValueId,
        base: TensorId,
        shape: &[usize],
        steps: &[FloatStep],
    ) -> Result<Option<Sym>, QuantizeError> {
        let in_shape = self.shape_of(x);
        match scales::pure_scale(steps, shape) {
            Some(sigma) if sigma.len() == in_shape.iter().product::<usize>() => {
                scales::through(self, n, slot, base, &in_shape, &sigma)
            }
            _ => Ok(None),
        }
    }

    /// A linear op of a quantized model whose constants come from float-scale quantizers or
    /// DequantizeLinear (binary64 in the front end, see [`scales`]): exact, by factoring each
    /// output's coefficients, never quantized to a config type.
    fn float_scaled_weights(
        &mut self,
        n: &Node,
        slot: usize,
        args: &[Option<Tensor>],
        t: TensorId,
    ) -> Result<Option<Sym>, QuantizeError> {
        let linear = matches!(structural::family(n, &[slot]), Some(structural::Family::Linear { .. }));
        if self.float_mode || !linear || !args.iter().flatten().any(|c| c.dtype == tachyon_frontend::DType::F64) {
            return Ok(None);
        }
        let Some(x) = n.inputs[slot] else { return Ok(None) };
        let in_shape = self.shape_of(x);
        let ones = vec![1.0; self.elems(t).len()];
        scales::through(self, n, slot, t, &in_shape, &ones)
    }

    /// Ends the prologue at an input quantizer: the hardware input is the quantized value.
    fn quantized_input(&mut self, n: &Node, steps: Vec<FloatStep>, out: ValueId) -> Result<TensorId, QuantizeError> {
        let shape = self.shape_of(out);
        let count: usize = shape.iter().product();
        let elems = elementwise::quantizer_elems(self, n, count, None)?;
        let frac = elems.first().map(|e| e.frac).unwrap_or(0);
        self.m.prologue.steps = steps;
        self.m.prologue.conv = InputConv::Exact { frac };
        let name = self.g.value(out).name.clone();
        self.fixed_input = matches!(n.op, Op::FixedQuant { .. });
        // Elements a FixedQuant prunes (no bits: always 0) stay off the input bus.
        let mut live: Vec<u32> = (0..elems.len() as u32).filter(|&k| elems[k as usize] != Elem::new(0, 0, 0)).collect();
        if live.is_empty() {
            // Every element pruned: the design is constant; one (constant) element keeps a bus.
            live.push(0);
        }
        if !matches!(n.op, Op::FixedQuant { .. }) || live.len() == elems.len() {
            let t = self.new_tensor(&name, shape, elems);
            self.m.input = t;
            self.input_done = true;
            return Ok(t);
        }
        let bus_elems = live.iter().map(|&k| elems[k as usize]).collect();
        let bus = self.new_tensor(&format!("{name}_bus"), vec![live.len()], bus_elems);
        self.m.input = bus;
        self.m.prologue.select = Some(live.clone());
        self.input_done = true;
        // The full tensor: the bus elements in place, the pruned ones the constant 0.
        let mut rows = vec![vec![]; elems.len()];
        for (pos, &k) in live.iter().enumerate() {
            rows[k as usize] = vec![(pos as u32, 1)];
        }
        let kind = LayerKind::Linear { rows, bias: vec![0; elems.len()] };
        Ok(self.push_layer(&format!("{}_unpack", n.name), vec![n.name.clone()], kind, bus, &name, shape, elems))
    }

    /// A structural op (see [`structural`]) on the computed inputs in `slots`, each of which must be
    /// quantized (a float model's input is quantized here if it is still float).
    fn structural(&mut self, n: &Node, slots: &[usize]) -> Result<(), QuantizeError> {
        let Some(family) = structural::family(n, slots) else {
            return Err(self.err(
                n,
                format!(
                    "{} of {} computed tensors is not supported (only sums, differences, concatenations, \
                     maxima and other linear or wiring ops may combine computed tensors)",
                    n.op_type,
                    slots.len()
                ),
            ));
        };
        let mut ops = vec![];
        for &slot in slots {
            let v = n.inputs[slot].expect("computed inputs are present");
            let t = match self.sym(v).clone() {
                Sym::Q(t) => t,
                Sym::Pre { steps } if !self.input_done => self.materialize_input(steps, v),
                Sym::Pre { .. } => {
                    return Err(self.err(n, "the float model input reaches this op through two different float paths; quantize it once first"))
                }
                Sym::Pending { shape, steps, .. } if scales::pure_scale(&steps, &shape).is_some() => {
                    return Err(self.err(n, format!("input '{}' carries a float scale (a Quant whose scale is not a power of two); tensors with different float scales cannot meet in this op exactly — quantize them with one shared scale or with power-of-two scales before it", self.g.value(v).name)))
                }
                Sym::Pending { .. } => {
                    return Err(self.err(n, "float operations with non-power-of-two constants must be followed by a Quant node before they meet another tensor"))
                }
                Sym::Divided { .. } => {
                    return Err(self.err(n, "a mean over a count that is not a power of two must be followed by a Quant node before it meets another tensor"))
                }
                Sym::Const(_) => unreachable!("computed inputs are not constants"),
            };
            self.set(v, Sym::Q(t));
            let t = self.finish(t)?;
            let shape = self.shape_of(v);
            if shape.iter().product::<usize>() != self.elems(t).len() {
                return Err(self.err(n, format!("input {slot} has shape {shape:?} but {} values", self.elems(t).len())));
            }
            ops.push((slot, t, shape));
        }
        match family {
            structural::Family::Wiring => {
                let outs = structural::lower_wiring(self, n, &ops)?;
                for (&v, t) in n.outputs.iter().zip(outs) {
                    self.set(v, Sym::Q(t));
                }
            }
            structural::Family::Linear { strict } => {
                let post = if self.float_mode && !strict { bn_fold::after(self, n)? } else { None };
                let affine = post.as_ref().map(|(_, a, c)| (a.as_slice(), c.as_slice()));
                let (y, divisors) = structural::lower_linear(self, n, &ops, strict, affine)?;
                if let Some((bn, _, _)) = post {
                    if let Some(layer) = self.m.layers.last_mut().filter(|layer| layer.output == y) {
                        layer.origin.push(bn.clone());
                    }
                    self.folded.insert(bn);
                }
                if self.float_mode {
                    self.unfinished.insert(y, n.name.clone());
                }
                let s = if divisors.iter().all(|&d| d == 1) { Sym::Q(y) } else { Sym::Divided { base: y, divisors } };
                self.set(n.outputs[0], s);
            }
            structural::Family::Max => {
                let y = structural::lower_max(self, n, &ops)?;
                self.set(n.outputs[0], Sym::Q(y));
            }
            structural::Family::Bilinear => {
                let y = structural::lower_bilinear(self, n, &ops)?;
                if self.float_mode {
                    self.unfinished.insert(y, n.name.clone());
                }
                self.set(n.outputs[0], Sym::Q(y));
            }
        }
        Ok(())
    }

    /// An element-wise op of two operands that are both the same quantized tensor `x` or float
    /// chains waiting on it (GELU's `x · (1 + erf(x/√2))`, SiLU's `x · σ(x)`), at least one a
    /// chain: one chain over `x`, which the next quantizer tabulates exactly.
    fn same_base(&self, n: &Node, slots: &[usize]) -> Option<Sym> {
        if !matches!(n.op, Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Max | Op::Min | Op::Pow) || n.outputs.len() != 1
        {
            return None;
        }
        let view = |v: ValueId| -> Option<(TensorId, Vec<usize>, Vec<FloatStep>)> {
            match self.sym(v) {
                Sym::Q(t) => Some((*t, self.shape_of(v), vec![])),
                Sym::Pending { base, shape, steps } => Some((*base, shape.clone(), steps.clone())),
                _ => None,
            }
        };
        let (a, b) = (view(n.inputs[slots[0]]?)?, view(n.inputs[slots[1]]?)?);
        if a.0 != b.0 || a.1 != b.1 || (a.2.is_empty() && b.2.is_empty()) || self.shape_of(n.outputs[0]) != a.1 {
            return None;
        }
        // The running tensor is a chain operand; the other one is recomputed from the base.
        let (run, other, other_slot) = if a.2.is_empty() { (b, a, slots[0]) } else { (a, b, slots[1]) };
        let mut steps = run.2;
        steps.push(FloatStep {
            node: n.name.clone(),
            op: n.op.clone(),
            args: vec![None; n.inputs.len()],
            base_operand: Some((other_slot, other.2)),
        });
        Some(Sym::Pending { base: run.0, shape: run.1, steps })
    }

    /// `n` applied to the quantized tensor `t` as the first float step of a chain that the next
    /// quantizer resolves into exact step functions.
    fn pending(&self, n: &Node, slot: usize, args: &[Option<Tensor>], t: TensorId) -> Result<Sym, QuantizeError> {
        Ok(Sym::Pending {
            base: t,
            shape: n.inputs[slot].and_then(|v| self.g.value(v).shape.clone()).unwrap_or_default(),
            steps: vec![activation::float_step(self, n, args)?],
        })
    }

    /// An op along one axis of a tensor with several rows (softmax of attention scores, layer
    /// normalization of tokens): `lower` once per group of `dim` elements (stride `inner`), then
    /// wiring back into the input's order.
    #[allow(clippy::too_many_arguments)]
    fn groups(
        &mut self,
        n: &Node,
        t: TensorId,
        outer: usize,
        dim: usize,
        inner: usize,
        shape: &[usize],
        out_name: &str,
        lower: &mut dyn FnMut(&mut Self, TensorId, &str) -> Result<TensorId, QuantizeError>,
    ) -> Result<TensorId, QuantizeError> {
        let xe = self.elems(t).to_vec();
        let mut parts = vec![];
        let mut place = vec![0u32; xe.len()];
        let mut at = 0u32;
        for o in 0..outer {
            for i in 0..inner {
                let src: Vec<u32> = (0..dim).map(|k| ((o * dim + k) * inner + i) as u32).collect();
                for &j in &src {
                    place[j as usize] = at;
                    at += 1;
                }
                let elems = src.iter().map(|&j| xe[j as usize]).collect();
                let name = format!("{out_name}_group{}", o * inner + i);
                let g =
                    self.push_layer(&n.name, vec![n.name.clone()], LayerKind::Gather(src), t, &name, vec![dim], elems);
                parts.push(lower(self, g, &name)?);
            }
        }
        let ye: Vec<Elem> = parts.iter().flat_map(|&p| self.elems(p).to_vec()).collect();
        let elems = place.iter().map(|&k| ye[k as usize]).collect();
        let kind = LayerKind::Gather(place);
        Ok(self.push_layer_multi(&n.name, vec![n.name.clone()], kind, parts, out_name, shape.to_vec(), elems))
    }

    /// Softmax of the quantized `t` along `axis` (opset < 13: over all trailing elements), one
    /// table-based softmax per group.
    fn q_softmax(
        &mut self,
        n: &Node,
        t: TensorId,
        axis: i64,
        legacy: bool,
        out_shape: &[usize],
        out_name: &str,
    ) -> Result<TensorId, QuantizeError> {
        let r = out_shape.len() as i64;
        let ax = if axis < 0 { axis + r } else { axis };
        if ax < 0 || ax >= r.max(1) {
            return Err(self.err(n, format!("softmax axis {axis} is out of range for shape {out_shape:?}")));
        }
        let ax = ax as usize;
        let outer: usize = out_shape[..ax].iter().product();
        // Opset < 13 coerces to 2-D at the axis (one softmax over all trailing elements);
        // from 13 the softmax runs along one axis.
        let (dim, inner) = if legacy {
            (out_shape[ax..].iter().product::<usize>(), 1)
        } else {
            (out_shape[ax], out_shape[ax + 1..].iter().product::<usize>())
        };
        Ok(if outer * inner == 1 {
            tables::lower_softmax(self, n, t, out_shape, out_name)?
        } else {
            self.groups(n, t, outer, dim, inner, out_shape, out_name, &mut |l, g, name| {
                tables::lower_softmax(l, n, g, &[dim], &format!("{name}_softmax"))
            })?
        })
    }

    /// LayerNormalization of the quantized `t` over the axes from `axis` on, with its constant
    /// scale and bias (`args[1]`, `args[2]`), one table-based normalization per group.
    #[allow(clippy::too_many_arguments)]
    fn q_layernorm(
        &mut self,
        n: &Node,
        slot: usize,
        args: &[Option<Tensor>],
        t: TensorId,
        axis: i64,
        epsilon: f64,
        out_shape: &[usize],
        out_name: &str,
    ) -> Result<TensorId, QuantizeError> {
        let r = out_shape.len() as i64;
        let ax = if axis < 0 { axis + r } else { axis };
        if slot != 0 || ax < 0 || ax >= r.max(1) {
            return Err(self.err(n, format!("LayerNormalization axis {axis} of shape {out_shape:?}: the normalized input must be the first input and the axis in range")));
        }
        let ax = ax as usize;
        let outer: usize = out_shape[..ax].iter().product();
        let dim: usize = out_shape[ax..].iter().product();
        let norm_shape = out_shape[ax..].to_vec();
        let per = |c: Option<&Tensor>, default: f64| -> Result<Vec<f64>, QuantizeError> {
            match c {
                None => Ok(vec![default; dim]),
                Some(c) => {
                    let ok = tachyon_frontend::eval::broadcast_shape(&norm_shape, &c.shape).ok().as_deref()
                        == Some(&norm_shape[..]);
                    if !ok {
                        return Err(
                            self.err(n, format!("Scale/B of shape {:?} does not broadcast to {norm_shape:?}", c.shape))
                        );
                    }
                    Ok((0..dim)
                        .map(|k| c.data[tachyon_frontend::eval::broadcast_index(&norm_shape, &c.shape, k)])
                        .collect())
                }
            }
        };
        let gamma = per(args.get(1).and_then(|a| a.as_ref()), 1.0)?;
        let beta = per(args.get(2).and_then(|a| a.as_ref()), 0.0)?;
        let eps = epsilon;
        Ok(if outer == 1 {
            tables::lower_layernorm(self, n, t, eps, &gamma, &beta, out_shape, out_name)?
        } else {
            self.groups(n, t, outer, dim, 1, out_shape, out_name, &mut |l, g, name| {
                tables::lower_layernorm(l, n, g, eps, &gamma, &beta, &[dim], &format!("{name}_norm"))
            })?
        })
    }

    /// A Transpose that moves only axes of size 1, keeping the order of the others (the flat data
    /// order is unchanged): keras2onnx's `[1, C] → [C, 1]` around a batch norm.
    fn moves_only_unit_axes(&self, n: &Node, perm: Option<&[i64]>) -> bool {
        let Some(shape) = n.input(0).and_then(|v| self.g.value(v).shape.clone()) else { return false };
        let r = shape.len();
        let perm: Vec<usize> = match perm {
            Some(p) if p.len() == r && p.iter().all(|&a| a >= 0 && (a as usize) < r) => {
                p.iter().map(|&a| a as usize).collect()
            }
            Some(_) => return false,
            None => (0..r).rev().collect(),
        };
        let moved: Vec<usize> = perm.into_iter().filter(|&a| shape[a] != 1).collect();
        moved.windows(2).all(|w| w[0] < w[1])
    }

    /// A node whose running input is the quantized tensor `t`.
    fn q_node(
        &mut self,
        n: &Node,
        slot: usize,
        args: &[Option<Tensor>],
        t: TensorId,
        out: ValueId,
    ) -> Result<Sym, QuantizeError> {
        let out_shape = self.shape_of(out);
        let out_name = self.g.value(out).name.clone();
        if let Some(sym) = self.float_scaled_weights(n, slot, args, t)? {
            return Ok(sym);
        }
        let handled_here = match &n.op {
            Op::MatMul | Op::Gemm { .. } => slot == 0,
            _ => false,
        };
        if let Op::Transpose { perm } = &n.op {
            if self.moves_only_unit_axes(n, perm.as_deref()) {
                // The data order is unchanged ([1, C] → [C, 1]): a reshape, no layer.
                return Ok(Sym::Q(t));
            }
        }
        if !handled_here && structural::family(n, &[slot]).is_some() {
            self.structural(n, &[slot])?;
            return Ok(self.sym(out).clone());
        }
        Ok(match &n.op {
            Op::MatMul | Op::Gemm { .. } => {
                let t = self.finish(t)?;
                let y = dense::lower_dense(self, n, slot, args, t, &out_shape, &out_name)?;
                if self.float_mode {
                    self.unfinished.insert(y, n.name.clone());
                }
                Sym::Q(y)
            }
            Op::Add | Op::Sub | Op::Mul | Op::Div | Op::BatchNorm { .. } | Op::Neg => {
                match elementwise::lower_affine(self, n, slot, args, t, &out_shape, &out_name)? {
                    Some(y) => {
                        if let Some(owner) = self.unfinished.remove(&t) {
                            self.unfinished.insert(y, owner);
                        } else if self.float_mode && matches!(n.op, Op::BatchNorm { .. }) {
                            // A batch norm of its own (after a ReLU, …) is a layer with a result
                            // type, as in hls4ml: its products never multiply into the next
                            // layer's weights.
                            self.unfinished.insert(y, n.name.clone());
                        }
                        Sym::Q(y)
                    }
                    None => self.pending(n, slot, args, t)?,
                }
            }
            Op::Relu => {
                let t = self.finish(t)?;
                let elems: Vec<Elem> =
                    self.elems(t).iter().map(|e| Elem::new(e.frac, e.lo.max(0), e.hi.max(0))).collect();
                Sym::Q(self.push_layer(&n.name, vec![n.name.clone()], LayerKind::Relu, t, &out_name, out_shape, elems))
            }
            op if op.is_quantizer() && scales::float_scaled(self, n) => {
                let t = self.finish(t)?;
                let steps = vec![activation::float_step(self, n, args)?];
                let shape = n.inputs[slot].map(|v| self.shape_of(v)).unwrap_or_default();
                scales::resolve(self, n, t, &shape, &steps, out)?
            }
            op if op.is_quantizer() => {
                let t = self.finish(t)?;
                Sym::Q(elementwise::lower_quantizer(self, n, t, &out_shape, &out_name, None)?)
            }
            Op::Lookup { frac, first } if slot == 0 => {
                let t = self.finish(t)?;
                Sym::Q(tables::lower_lookup(self, n, args, t, (*frac, *first), &out_shape, &out_name)?)
            }
            Op::Softmax { axis, legacy } => {
                let t = self.finish(t)?;
                let y = self.q_softmax(n, t, *axis, *legacy, &out_shape, &out_name)?;
                if self.float_mode {
                    self.unfinished.insert(y, n.name.clone());
                }
                Sym::Q(y)
            }
            Op::Clip { .. } | Op::LeakyRelu { .. } if slot != 0 => {
                return Err(self.err(n, "the bounds or slope must be constants; only the first input may be computed"))
            }
            Op::Clip { .. } => {
                let t = self.finish(t)?;
                match activation::lower_clip(self, n, args, t, &out_shape, &out_name)? {
                    Some(y) => Sym::Q(y),
                    None => self.pending(n, slot, args, t)?,
                }
            }
            Op::LeakyRelu { alpha } => {
                let t = self.finish(t)?;
                match activation::lower_leaky_relu(self, n, *alpha, t, &out_shape, &out_name)? {
                    Some(y) => Sym::Q(y),
                    None => self.pending(n, slot, args, t)?,
                }
            }
            Op::Func(tachyon_frontend::ir::FloatFn::Abs) => {
                // |x| = LeakyRelu(x) with slope −1: exact, no table.
                let t = self.finish(t)?;
                Sym::Q(activation::lower_abs(self, n, t, &out_shape, &out_name)?)
            }
            Op::Tanh | Op::HardSigmoid { .. } | Op::Erf | Op::Gelu { .. } | Op::Func(_) => {
                let t = self.finish(t)?;
                if self.float_mode {
                    Sym::Q(activation::float_function(self, n, t, &out_shape, &out_name)?)
                } else {
                    self.pending(n, slot, args, t)?
                }
            }
            Op::LayerNorm { axis, epsilon } => {
                let t = self.finish(t)?;
                let y = self.q_layernorm(n, slot, args, t, *axis, *epsilon, &out_shape, &out_name)?;
                if self.float_mode {
                    self.unfinished.insert(y, n.name.clone());
                }
                Sym::Q(y)
            }
            Op::Sigmoid => {
                let t = self.finish(t)?;
                let y = tables::lower_sigmoid(self, n, t, &out_shape, &out_name)?;
                if self.float_mode {
                    self.unfinished.insert(y, n.name.clone());
                }
                Sym::Q(y)
            }
            Op::Reshape { .. }
            | Op::Flatten { .. }
            | Op::Identity
            | Op::Dropout
            | Op::Squeeze { .. }
            | Op::Unsqueeze { .. }
            | Op::Cast { .. } => {
                if let Op::Cast { to } = n.op {
                    if to != tachyon_frontend::proto::data_type::FLOAT
                        && to != tachyon_frontend::proto::data_type::DOUBLE
                    {
                        return Err(self.err(n, "Cast of an activation to a non-float type is not supported"));
                    }
                }
                Sym::Q(t)
            }
            Op::Pow | Op::Sqrt => return Err(self.err(n, "Pow/Sqrt of an activation is not supported")),
            other => return Err(self.err(n, format!("{} on an activation is not supported", other.mnemonic()))),
        })
    }
}
