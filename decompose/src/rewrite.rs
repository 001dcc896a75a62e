//! Finding the layers Mixed-TD can decompose in an ONNX model, computing the quantized factors of
//! one (method, rank) candidate, and rewriting the `ModelProto` with them.
//!
//! A target is a `Conv` (2-D, `group` 1, explicit pads) or a `MatMul`/`Gemm` whose weight is a
//! constant (an initializer, or a QONNX `Quant` of one). A candidate replaces the node by a chain
//! of *stages*, each a node with its own weight initializer behind a `Quant` (power-of-two scale,
//! signed, ROUND), with an activation `Quant` between consecutive stages; the last stage keeps
//! the original bias and output name, so the rest of the graph is untouched:
//!
//! ```text
//! before:  x → conv1(W [F,C,Kh,Kw], b) → conv1_out
//! channel: x → conv1_td0 (Conv Kh×Kw, C→r) → conv1_td0_act (Quant) → conv1_td1 (Conv 1×1, r→F, b) → conv1_out
//! spatial: x → conv1_td0 (Conv 1×Kw, C→r) → Quant → conv1_td1 (Conv Kh×1, r→F, b) → conv1_out
//! in-group:  x → Conv Kh×Kw C→G·r, group G → Quant → Conv 1×1 G·r→F (b) → conv1_out
//! out-group: x → Conv Kh×Kw C→G·r → Quant → Conv 1×1 G·r→F, group G (b) → conv1_out
//! cp:      x → 1×1 C→R → Quant → depthwise Kh×1 → Quant → depthwise 1×Kw → Quant → 1×1 R→F (b) → conv1_out
//! svd:     x → MatMul [in,r] → Quant → MatMul/Gemm [r,out] (+ C) → out
//! ```

use super::linalg::{cp_als, lstsq, quantize, svd_factors, Matrix, NoConvergence, Quantized};
use tachyon_frontend::proto::{AttributeProto, ModelProto, NodeProto, TensorProto};
use tachyon_frontend::Graph;

/// QONNX custom-op domain of `Quant`.
pub const QONNX_DOMAIN: &str = "qonnx.custom_op.general";

/// How a layer is decomposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Dense: W [in × out] ≈ A [in × r] · B [r × out].
    Svd,
    /// Conv, channel reshaping F × (C·Kh·Kw): Conv Kh×Kw C→r, then 1×1 r→F.
    Channel,
    /// Conv, spatial reshaping (F·Kh) × (C·Kw): Conv 1×Kw C→r, then Kh×1 r→F.
    Spatial,
    /// Conv, CP rank R: 1×1 C→R, depthwise Kh×1, depthwise 1×Kw, 1×1 R→F.
    Cp,
    /// Conv, input-channel groups: the C input channels in G groups, each slice
    /// W_g [F × (C/G·Kh·Kw)] ≈ U_g [F × r] · V_g [r × (C/G·Kh·Kw)]; a grouped Kh×Kw conv
    /// (group G, C→G·r, weights the V_g) then a 1×1 conv G·r→F (weights the U_g side by side):
    /// W = Σ_g U_g V_g exactly at full rank.
    InGroups(usize),
    /// Conv, output-channel groups: the F output channels in G groups, each slice
    /// W_g [F/G × (C·Kh·Kw)] ≈ U_g [F/G × r] · V_g [r × (C·Kh·Kw)]; a Kh×Kw conv C→G·r (weights
    /// the V_g stacked) then a grouped 1×1 conv (group G, G·r→F, group g's weights U_g).
    OutGroups(usize),
}

/// Group counts tried for the grouped reshapings (those that divide the channels).
pub const GROUPS: [usize; 2] = [2, 4];

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Svd => "svd",
            Method::Channel => "channel-svd",
            Method::Spatial => "spatial-svd",
            Method::Cp => "cp",
            Method::InGroups(g) => return write!(f, "in-group{g}-svd"),
            Method::OutGroups(g) => return write!(f, "out-group{g}-svd"),
        })
    }
}

/// The geometry of a target.
#[derive(Clone, Debug)]
pub enum Kind {
    /// `MatMul` (or `Gemm` when `gemm`), weight as [in × out] (a `Gemm` with transB=1 is
    /// transposed on reading).
    Dense { gemm: bool, n_in: usize, n_out: usize },
    /// 2-D `Conv` with weight [F, C, Kh, Kw].
    Conv { f: usize, c: usize, kh: usize, kw: usize, strides: [i64; 2], pads: [i64; 4], dilations: [i64; 2] },
}

/// A decomposable layer.
#[derive(Clone, Debug)]
pub struct Target {
    /// Index of the node in the graph's node list and its name (never empty: `node{index}`).
    pub index: usize,
    pub name: String,
    pub kind: Kind,
    /// The effective (dequantized) weight, row-major in [in × out] (Dense) or [F, C, Kh, Kw].
    pub weight: Vec<f64>,
    /// Bit width of the original weight quantizer (the option's default without one).
    pub weight_bits: u32,
    /// Names of the layer's data input and output tensors.
    pub input: String,
    pub output: String,
}

impl Target {
    /// Number of weight parameters.
    pub fn params(&self) -> usize {
        self.weight.len()
    }
    /// The methods that apply to this layer: the grouped reshapings for each G of [`GROUPS`]
    /// that divides the channels and leaves a rank with fewer parameters than the layer.
    pub fn methods(&self) -> Vec<Method> {
        let Kind::Conv { f, c, kh, kw, .. } = self.kind else { return vec![Method::Svd] };
        let mut v = vec![Method::Channel];
        if kh * kw > 1 {
            v.extend([Method::Spatial, Method::Cp]);
        }
        for g in GROUPS {
            if c.is_multiple_of(g) {
                v.push(Method::InGroups(g));
            }
            if f.is_multiple_of(g) {
                v.push(Method::OutGroups(g));
            }
        }
        v.retain(|&m| self.max_rank(m) >= 1);
        v
    }
    /// Parameters of a candidate (for the grouped reshapings, r is the rank of each group).
    pub fn params_of(&self, method: Method, r: usize) -> usize {
        match (&self.kind, method) {
            (Kind::Dense { n_in, n_out, .. }, _) => r * (n_in + n_out),
            (Kind::Conv { f, c, kh, kw, .. }, Method::Channel) => r * (c * kh * kw + f),
            (Kind::Conv { f, c, kh, kw, .. }, Method::Spatial) => r * (c * kw + f * kh),
            (Kind::Conv { f, c, kh, kw, .. }, Method::InGroups(g)) => r * (c * kh * kw + g * f),
            (Kind::Conv { f, c, kh, kw, .. }, Method::OutGroups(g)) => r * (g * c * kh * kw + f),
            (Kind::Conv { f, c, kh, kw, .. }, _) => r * (c + kh + kw + f),
        }
    }
    /// The largest rank worth trying: the candidate must have fewer parameters than the layer
    /// (CP ranks up to the larger of F and C, at most 64).
    pub fn max_rank(&self, method: Method) -> usize {
        let p = self.params();
        let by_params = (1..=p).take_while(|&r| self.params_of(method, r) < p).last().unwrap_or(0);
        match (&self.kind, method) {
            (Kind::Dense { n_in, n_out, .. }, _) => by_params.min(*n_in.min(n_out)),
            (Kind::Conv { f, c, kh, kw, .. }, Method::Channel) => by_params.min(*f.min(&(c * kh * kw))),
            (Kind::Conv { f, c, kh, kw, .. }, Method::Spatial) => by_params.min((f * kh).min(c * kw)),
            (Kind::Conv { f, c, kh, kw, .. }, Method::InGroups(g)) => by_params.min(*f.min(&(c / g * kh * kw))),
            (Kind::Conv { f, c, kh, kw, .. }, Method::OutGroups(g)) => by_params.min((f / g).min(c * kh * kw)),
            (Kind::Conv { f, c, .. }, _) => by_params.min(*f.max(c)).min(64),
        }
    }
}

/// One node of a decomposed chain: its op, quantized weight and shape, attributes.
#[derive(Clone, Debug)]
pub struct Stage {
    pub op: &'static str,
    pub weight: Quantized,
    pub shape: Vec<usize>,
    pub attrs: Vec<AttributeProto>,
}

fn ints(name: &str, v: &[i64]) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: 7, ints: v.to_vec(), ..Default::default() }
}
fn int(name: &str, v: i64) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: 2, i: v, ..Default::default() }
}
/// A Conv stage with weight `shape` [out, in / group, kh, kw]: a spatial stage carries its
/// strides, pads and dilations, a 1×1 stage none; `group` when the stage is grouped.
fn conv(weight: Quantized, shape: [usize; 4], geometry: Option<Geometry>, group: Option<usize>) -> Stage {
    let mut attrs = vec![ints("kernel_shape", &[shape[2] as i64, shape[3] as i64])];
    if let Some((strides, pads, dilations)) = geometry {
        attrs.extend([ints("strides", &strides), ints("pads", &pads), ints("dilations", &dilations)]);
    }
    if let Some(g) = group {
        attrs.push(int("group", g as i64));
    }
    Stage { op: "Conv", weight, shape: shape.to_vec(), attrs }
}

fn string(name: &str, v: &str) -> AttributeProto {
    AttributeProto { name: name.into(), r#type: 3, s: v.as_bytes().to_vec(), ..Default::default() }
}
fn attr<'a>(n: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    n.attribute.iter().find(|a| a.name == name)
}

fn value<'g>(g: &'g Graph, name: &str) -> Option<&'g tachyon_frontend::Value> {
    g.values.iter().find(|v| v.name == name)
}

/// The decomposable layers of `model` (whose imported graph is `g`), and a note for every
/// Conv/MatMul/Gemm that is left alone, with the reason.
pub fn find_targets(model: &ModelProto, g: &Graph, default_bits: u32) -> (Vec<Target>, Vec<String>) {
    let mut targets = vec![];
    let mut notes = vec![];
    let Some(graph) = &model.graph else { return (targets, notes) };
    for (index, n) in graph.node.iter().enumerate() {
        if !n.domain.is_empty() || !matches!(n.op_type.as_str(), "Conv" | "MatMul" | "Gemm") {
            continue;
        }
        let name = if n.name.is_empty() { format!("node{index}") } else { n.name.clone() };
        match target(n, g, index, &name, graph, default_bits) {
            Ok(t) => targets.push(t),
            Err(why) => notes.push(format!("{} '{name}': {why}", n.op_type)),
        }
    }
    (targets, notes)
}

fn target(
    n: &NodeProto,
    g: &Graph,
    index: usize,
    name: &str,
    graph: &tachyon_frontend::proto::GraphProto,
    default_bits: u32,
) -> Result<Target, String> {
    let (Some(x), Some(wname), Some(out)) = (n.input.first(), n.input.get(1), n.output.first()) else {
        return Err("has fewer than two inputs".into());
    };
    let w = value(g, wname)
        .and_then(|v| v.konst.clone())
        .ok_or_else(|| "its weight is not a constant (initializer or Quant of one)".to_string())?;
    // The weight quantizer's bit width, when the weight comes out of a Quant.
    let bits = match graph.node.iter().find(|q| q.output.iter().any(|o| o == wname)) {
        Some(q) if q.op_type == "Quant" => q
            .input
            .get(3)
            .and_then(|b| value(g, b))
            .and_then(|v| v.konst.as_ref())
            .and_then(|t| t.as_scalar())
            .map(|b| b as u32)
            .ok_or_else(|| format!("its weight quantizer '{}' has no constant bit width", q.name))?,
        Some(p) => {
            return Err(format!("its weight comes out of {} '{}', not a Quant or initializer", p.op_type, p.name))
        }
        None => default_bits,
    };
    let no_shape = || format!("the shape of '{x}' or '{out}' is unknown");
    value(g, x).and_then(|v| v.shape.clone()).ok_or_else(no_shape)?;
    value(g, out).and_then(|v| v.shape.clone()).ok_or_else(no_shape)?;
    let kind = match n.op_type.as_str() {
        "Conv" => {
            if w.shape.len() != 4 {
                return Err(format!(
                    "a {}-D convolution (only 2-D ones are decomposed)",
                    w.shape.len().saturating_sub(2)
                ));
            }
            if attr(n, "group").is_some_and(|a| a.i != 1) {
                return Err("a grouped convolution".into());
            }
            if attr(n, "auto_pad").is_some_and(|a| !a.s.is_empty() && a.s != b"NOTSET") {
                return Err("auto_pad is set (give explicit pads)".into());
            }
            let get2 = |k: &str| -> Result<[i64; 2], String> {
                match attr(n, k).map(|a| a.ints.as_slice()) {
                    None | Some([]) => Ok([1, 1]),
                    Some(&[a, b]) => Ok([a, b]),
                    Some(v) => Err(format!("attribute {k} = {v:?} is not 2-D")),
                }
            };
            let pads = match attr(n, "pads").map(|a| a.ints.as_slice()) {
                None | Some([]) => [0; 4],
                Some(&[a, b, c, d]) => [a, b, c, d],
                Some(v) => return Err(format!("attribute pads = {v:?} is not 2-D")),
            };
            let s = &w.shape;
            Kind::Conv {
                f: s[0],
                c: s[1],
                kh: s[2],
                kw: s[3],
                strides: get2("strides")?,
                pads,
                dilations: get2("dilations")?,
            }
        }
        op => {
            if w.shape.len() != 2 {
                return Err(format!("its weight has shape {:?} (a matrix is needed)", w.shape));
            }
            let gemm = op == "Gemm";
            if gemm && attr(n, "transA").is_some_and(|a| a.i != 0) {
                return Err("Gemm with transA = 1".into());
            }
            let trans_b = gemm && attr(n, "transB").is_some_and(|a| a.i != 0);
            let (n_in, n_out) = if trans_b { (w.shape[1], w.shape[0]) } else { (w.shape[0], w.shape[1]) };
            let weight =
                if trans_b { Matrix::new(n_out, n_in, w.data.clone()).transpose().data } else { w.data.clone() };
            return Ok(Target {
                index,
                name: name.to_string(),
                kind: Kind::Dense { gemm, n_in, n_out },
                weight,
                weight_bits: bits,
                input: x.clone(),
                output: out.clone(),
            });
        }
    };
    Ok(Target {
        index,
        name: name.into(),
        kind,
        weight: w.data.clone(),
        weight_bits: bits,
        input: x.clone(),
        output: out.clone(),
    })
}

/// Strides, pads and dilations of a Conv stage.
type Geometry = ([i64; 2], [i64; 4], [i64; 2]);

/// The stages of a candidate and the relative error of the reconstructed weight.
type Stages = Result<(Vec<Stage>, f64), NoConvergence>;

/// The shape and geometry of a Conv target ([`Kind::Conv`]).
#[derive(Clone, Copy)]
struct ConvDims {
    f: usize,
    c: usize,
    kh: usize,
    kw: usize,
    strides: [i64; 2],
    pads: [i64; 4],
    dilations: [i64; 2],
}

impl ConvDims {
    /// The original layer's geometry, for a stage with the full Kh×Kw kernel.
    fn geometry(&self) -> Geometry {
        (self.strides, self.pads, self.dilations)
    }
    /// The width half of the geometry, for a 1×Kw stage.
    fn width_geometry(&self) -> Geometry {
        let (s, p, d) = (self.strides, self.pads, self.dilations);
        ([1, s[1]], [0, p[1], 0, p[3]], [1, d[1]])
    }
    /// The height half of the geometry, for a Kh×1 stage.
    fn height_geometry(&self) -> Geometry {
        let (s, p, d) = (self.strides, self.pads, self.dilations);
        ([s[0], 1], [p[0], 0, p[2], 0], [d[0], 1])
    }
}

/// The quantized stages of a candidate, with `bits`-bit factors. For the SVD methods the first
/// factor is quantized, then the second refitted by least squares to the quantized first and
/// quantized (so the second absorbs the rounding of the first); for CP the last factor is
/// refitted likewise. Returns the stages and the relative error of the reconstructed weight.
pub fn stages(t: &Target, method: Method, r: usize, bits: u32) -> Result<(Vec<Stage>, f64), NoConvergence> {
    let w = &t.weight;
    match t.kind {
        Kind::Dense { gemm, n_in, n_out } => svd_stages(w, gemm, n_in, n_out, r, bits),
        Kind::Conv { f, c, kh, kw, strides, pads, dilations } => {
            let d = ConvDims { f, c, kh, kw, strides, pads, dilations };
            match method {
                Method::Channel => channel_stages(w, d, r, bits),
                Method::Spatial => spatial_stages(w, d, r, bits),
                Method::InGroups(g) => in_group_stages(w, d, g, r, bits),
                Method::OutGroups(g) => out_group_stages(w, d, g, r, bits),
                // A Conv asked for plain SVD gets CP.
                Method::Cp | Method::Svd => cp_stages(w, d, r, bits),
            }
        }
    }
}

/// SVD of a dense weight [in × out]: MatMul [in, r], then MatMul (or Gemm, transB 0) [r, out].
fn svd_stages(weight: &[f64], gemm: bool, n_in: usize, n_out: usize, r: usize, bits: u32) -> Stages {
    let w = Matrix::new(n_in, n_out, weight.to_vec());
    let (a, b) = two_factors(&w, r, bits)?;
    let err = Matrix::new(n_in, r, a.values.clone()).matmul(&Matrix::new(r, n_out, b.values.clone())).rel_error(&w);
    let last = if gemm { "Gemm" } else { "MatMul" };
    let mut last_attrs = vec![];
    if gemm {
        last_attrs.push(int("transB", 0));
    }
    Ok((
        vec![
            Stage { op: "MatMul", weight: a, shape: vec![n_in, r], attrs: vec![] },
            Stage { op: last, weight: b, shape: vec![r, n_out], attrs: last_attrs },
        ],
        err,
    ))
}

/// Channel SVD of F × (C·Kh·Kw): Conv Kh×Kw C→r, then 1×1 r→F.
fn channel_stages(weight: &[f64], d: ConvDims, r: usize, bits: u32) -> Stages {
    let ConvDims { f, c, kh, kw, .. } = d;
    let w = Matrix::new(f, c * kh * kw, weight.to_vec());
    let (b, a) = two_factors(&w.transpose(), r, bits)?;
    // wᵀ [CKK × F] ≈ b [CKK × r] · a [r × F]: stage 0 weight [r, C, Kh, Kw] = bᵀ, stage 1 [F, r] = aᵀ.
    let first = transpose_q(&b, c * kh * kw, r);
    let second = transpose_q(&a, r, f);
    let err = Matrix::new(f, r, second.values.clone())
        .matmul(&Matrix::new(r, c * kh * kw, first.values.clone()))
        .rel_error(&w);
    Ok((vec![conv(first, [r, c, kh, kw], Some(d.geometry()), None), conv(second, [f, r, 1, 1], None, None)], err))
}

/// Spatial SVD of (C·Kw) × (F·Kh): Conv 1×Kw C→r, then Kh×1 r→F.
fn spatial_stages(weight: &[f64], d: ConvDims, r: usize, bits: u32) -> Stages {
    let ConvDims { f, c, kh, kw, .. } = d;
    // m[(c, kw), (f, kh)] = w[f, c, kh, kw] ≈ v [(c,kw) × r] · u [r × (f,kh)].
    let mut m = Matrix::zeros(c * kw, f * kh);
    for (i, &x) in weight.iter().enumerate() {
        let (q, j) = (i / kw, i % kw);
        let (q, h) = (q / kh, q % kh);
        let (ff, cc) = (q / c, q % c);
        m.set(cc * kw + j, ff * kh + h, x);
    }
    let (v, u) = two_factors(&m, r, bits)?;
    let err = Matrix::new(c * kw, r, v.values.clone()).matmul(&Matrix::new(r, f * kh, u.values.clone())).rel_error(&m);
    // stage 0 [r, C, 1, Kw] from vᵀ; stage 1 [F, r, Kh, 1] from u [r, (f, kh)].
    let first = transpose_q(&v, c * kw, r);
    let mut second = u.clone();
    for ff in 0..f {
        for rr in 0..r {
            for h in 0..kh {
                second.values[(ff * r + rr) * kh + h] = u.values[rr * f * kh + ff * kh + h];
            }
        }
    }
    Ok((
        vec![
            conv(first, [r, c, 1, kw], Some(d.width_geometry()), None),
            conv(second, [f, r, kh, 1], Some(d.height_geometry()), None),
        ],
        err,
    ))
}

/// SVD per group of C/`g` input channels: grouped Conv Kh×Kw C→G·r, then 1×1 G·r→F.
fn in_group_stages(weight: &[f64], d: ConvDims, g: usize, r: usize, bits: u32) -> Stages {
    let ConvDims { f, c, kh, kw, .. } = d;
    // Group gi's slice, transposed: m_g [(c', h, w) × F] for its C/G channels c'.
    let (cg, kk) = (c / g, kh * kw);
    let slices: Vec<Matrix> = (0..g)
        .map(|gi| {
            let mut m = Matrix::zeros(cg * kk, f);
            for ff in 0..f {
                for i in 0..cg * kk {
                    m.set(i, ff, weight[ff * c * kk + gi * cg * kk + i]);
                }
            }
            m
        })
        .collect();
    let (a, b, err) = grouped_factors(&slices, r, bits)?;
    // Stage 0 [G·r, C/G, Kh, Kw]: row gi·r + k is column k of a_g. Stage 1 [F, G·r]: b_g ᵀ.
    let mut first = Quantized { values: vec![0.0; g * r * cg * kk], exp: a.exp, bits: a.bits };
    let mut second = Quantized { values: vec![0.0; f * g * r], exp: b.exp, bits: b.bits };
    for gi in 0..g {
        for k in 0..r {
            for i in 0..cg * kk {
                first.values[(gi * r + k) * cg * kk + i] = a.values[gi * cg * kk * r + i * r + k];
            }
            for ff in 0..f {
                second.values[ff * g * r + gi * r + k] = b.values[gi * r * f + k * f + ff];
            }
        }
    }
    Ok((
        vec![conv(first, [g * r, cg, kh, kw], Some(d.geometry()), Some(g)), conv(second, [f, g * r, 1, 1], None, None)],
        err,
    ))
}

/// SVD per group of F/`g` output channels: Conv Kh×Kw C→G·r, then grouped 1×1 G·r→F.
fn out_group_stages(weight: &[f64], d: ConvDims, g: usize, r: usize, bits: u32) -> Stages {
    let ConvDims { f, c, kh, kw, .. } = d;
    // Group gi's slice, transposed: m_g [(c, h, w) × F/G].
    let (fg, ckk) = (f / g, c * kh * kw);
    let slices: Vec<Matrix> = (0..g)
        .map(|gi| Matrix::new(fg, ckk, weight[gi * fg * ckk..(gi + 1) * fg * ckk].to_vec()).transpose())
        .collect();
    let (a, b, err) = grouped_factors(&slices, r, bits)?;
    // Stage 0 [G·r, C, Kh, Kw]: row gi·r + k is column k of a_g. Stage 1 [F, r]: row
    // gi·F/G + f' is column f' of b_g.
    let mut first = Quantized { values: vec![0.0; g * r * ckk], exp: a.exp, bits: a.bits };
    let mut second = Quantized { values: vec![0.0; f * r], exp: b.exp, bits: b.bits };
    for gi in 0..g {
        for k in 0..r {
            for i in 0..ckk {
                first.values[(gi * r + k) * ckk + i] = a.values[gi * ckk * r + i * r + k];
            }
            for j in 0..fg {
                second.values[(gi * fg + j) * r + k] = b.values[gi * r * fg + k * fg + j];
            }
        }
    }
    Ok((
        vec![conv(first, [g * r, c, kh, kw], Some(d.geometry()), None), conv(second, [f, r, 1, 1], None, Some(g))],
        err,
    ))
}

/// CP of rank `r`: 1×1 C→R, depthwise Kh×1, depthwise 1×Kw, 1×1 R→F, the output factor refitted
/// to the quantized other three.
fn cp_stages(weight: &[f64], d: ConvDims, r: usize, bits: u32) -> Stages {
    let ConvDims { f, c, kh, kw, .. } = d;
    let (cp, _) = cp_als(weight, [f, c, kh, kw], r, 300, 1e-10)?;
    let qc = quantize(&cp.factors[1].data, bits);
    let qh = quantize(&cp.factors[2].data, bits);
    let qw = quantize(&cp.factors[3].data, bits);
    // Refit the output factor: w_(0) [F × CKK] ≈ Ff [F × r] · KR(c, kh, kw)ᵀ.
    let kr = Matrix::new(c * kh * kw, r, {
        let mut data = vec![0f64; c * kh * kw * r];
        for (i, row) in data.chunks_mut(r).enumerate() {
            let (ci, h, j) = (i / (kh * kw), (i / kw) % kh, i % kw);
            for (rr, v) in row.iter_mut().enumerate() {
                *v = qc.values[ci * r + rr] * qh.values[h * r + rr] * qw.values[j * r + rr];
            }
        }
        data
    });
    let w = Matrix::new(f, c * kh * kw, weight.to_vec());
    let ff = lstsq(&kr, &w.transpose())?.transpose();
    let qf = quantize(&ff.data, bits);
    let err = Matrix::new(f, r, qf.values.clone()).matmul(&kr.transpose()).rel_error(&w);
    let tr = |q: &Quantized, rows: usize| transpose_q(q, rows, r);
    Ok((
        vec![
            conv(tr(&qc, c), [r, c, 1, 1], None, None),
            conv(tr(&qh, kh), [r, 1, kh, 1], Some(d.height_geometry()), Some(r)),
            conv(tr(&qw, kw), [r, 1, 1, kw], Some(d.width_geometry()), Some(r)),
            conv(qf, [f, r, 1, 1], None, None),
        ],
        err,
    ))
}

/// `m ≈ A · B` with A quantized, then B refitted to the quantized A and quantized.
fn two_factors(m: &Matrix, r: usize, bits: u32) -> Result<(Quantized, Quantized), NoConvergence> {
    let (a, _) = svd_factors(m, r)?;
    let qa = quantize(&a.data, bits);
    let b = lstsq(&Matrix::new(m.rows, r, qa.values.clone()), m)?;
    Ok((qa, quantize(&b.data, bits)))
}

/// Group-wise [`two_factors`]: each `m_g ≈ A_g · B_g` (rank `r`), with all the A_g on one
/// quantization grid (they form one stage's weight tensor), each B_g refitted to its rounded
/// A_g, and all the B_g on one grid. Returns the A_g [rows_g × r] one after the other, the B_g
/// [r × cols_g] likewise, and the relative error ‖(A_g B_g − m_g)_g‖ / ‖(m_g)_g‖.
fn grouped_factors(ms: &[Matrix], r: usize, bits: u32) -> Result<(Quantized, Quantized, f64), NoConvergence> {
    let mut a_all = vec![];
    for m in ms {
        let (a, _) = svd_factors(m, r)?;
        // svd_factors keeps at most min(rows, cols) terms: pad to r columns with zeros.
        for i in 0..m.rows {
            a_all.extend((0..r).map(|k| if k < a.cols { a.at(i, k) } else { 0.0 }));
        }
    }
    let qa = quantize(&a_all, bits);
    let (mut b_all, mut at) = (vec![], 0);
    let mut a_q = vec![];
    for m in ms {
        let a = Matrix::new(m.rows, r, qa.values[at..at + m.rows * r].to_vec());
        at += m.rows * r;
        b_all.extend(lstsq(&a, m)?.data);
        a_q.push(a);
    }
    let qb = quantize(&b_all, bits);
    let (mut d2, mut n2, mut at) = (0.0, 0.0, 0);
    for (m, a) in ms.iter().zip(&a_q) {
        let b = Matrix::new(r, m.cols, qb.values[at..at + r * m.cols].to_vec());
        at += r * m.cols;
        let rec = a.matmul(&b);
        d2 += rec.data.iter().zip(&m.data).map(|(x, y)| (x - y) * (x - y)).sum::<f64>();
        n2 += m.norm().powi(2);
    }
    let err = if n2 == 0.0 { d2.sqrt() } else { (d2 / n2).sqrt() };
    Ok((qa, qb, err))
}

/// The transpose of a quantized [rows × cols] factor.
fn transpose_q(q: &Quantized, rows: usize, cols: usize) -> Quantized {
    Quantized { values: Matrix::new(rows, cols, q.values.clone()).transpose().data, exp: q.exp, bits: q.bits }
}

/// The quantizer of an intermediate activation: signed, `bits` bits, scale 2^`exp`, ROUND.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ActQuant {
    pub exp: i32,
    pub bits: u32,
}

fn f32_init(name: &str, shape: &[usize], data: &[f64]) -> TensorProto {
    TensorProto {
        name: name.into(),
        dims: shape.iter().map(|&d| d as i64).collect(),
        data_type: 1,
        float_data: data.iter().map(|&v| v as f32).collect(),
        ..Default::default()
    }
}

/// Appends a QONNX `Quant` node `y = Quant(x)` and its scalar initializers.
fn push_quant(nodes: &mut Vec<NodeProto>, inits: &mut Vec<TensorProto>, x: &str, y: &str, exp: i32, bits: u32) {
    inits.push(f32_init(&format!("{y}_s"), &[], &[f64::powi(2.0, exp)]));
    inits.push(f32_init(&format!("{y}_z"), &[], &[0.0]));
    inits.push(f32_init(&format!("{y}_b"), &[], &[bits as f64]));
    nodes.push(NodeProto {
        input: vec![x.into(), format!("{y}_s"), format!("{y}_z"), format!("{y}_b")],
        output: vec![y.into()],
        name: y.into(),
        op_type: "Quant".into(),
        domain: QONNX_DOMAIN.into(),
        attribute: vec![int("narrow", 0), string("rounding_mode", "ROUND"), int("signed", 1)],
        ..Default::default()
    });
}

/// Name of the activation between stage `k` and `k + 1` (the tensor whose range sets its scale).
pub fn stage_out(t: &Target, k: usize) -> String {
    format!("{}_td{k}_out", t.name)
}

/// `model` with target `t` replaced by `stages`; `acts[k]` quantizes the output of stage `k`
/// (None: no quantizer, used to measure the activation's range). The original node's extra
/// inputs (bias, Gemm's C) go to the last stage, its other attributes (Gemm alpha/beta) too.
pub fn apply(model: &ModelProto, t: &Target, stages: &[Stage], acts: &[Option<ActQuant>]) -> ModelProto {
    let mut m = model.clone();
    let Some(graph) = m.graph.as_mut() else { return m };
    let Some(index) = graph.node.iter().position(|n| n.output.first() == Some(&t.output)) else { return m };
    let orig = graph.node[index].clone();
    let mut nodes = vec![];
    let mut inits = vec![];
    let mut x = t.input.clone();
    for (k, s) in stages.iter().enumerate() {
        let base = format!("{}_td{k}", t.name);
        inits.push(f32_init(&format!("{base}_W"), &s.shape, &s.weight.values));
        push_quant(&mut nodes, &mut inits, &format!("{base}_W"), &format!("{base}_Wq"), s.weight.exp, s.weight.bits);
        let last = k + 1 == stages.len();
        let mut inputs = vec![x.clone(), format!("{base}_Wq")];
        let mut attrs = s.attrs.clone();
        if last {
            inputs.extend(orig.input.iter().skip(2).cloned());
            attrs.extend(orig.attribute.iter().filter(|a| matches!(a.name.as_str(), "alpha" | "beta")).cloned());
        }
        let out = if last { t.output.clone() } else { stage_out(t, k) };
        nodes.push(NodeProto {
            input: inputs,
            output: vec![out.clone()],
            name: base.clone(),
            op_type: s.op.into(),
            attribute: attrs,
            doc_string: format!("Mixed-TD stage {k} of '{}'", t.name),
            ..Default::default()
        });
        x = out;
        if !last {
            if let Some(Some(q)) = acts.get(k) {
                let y = format!("{base}_act");
                push_quant(&mut nodes, &mut inits, &x, &y, q.exp, q.bits);
                x = y;
            }
        }
    }
    graph.node.splice(index..index + 1, nodes);
    graph.initializer.extend(inits);
    m
}
