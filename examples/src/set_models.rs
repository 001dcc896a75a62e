//! Permutation-invariant example models for particle-level jet tagging, in QONNX, generated from
//! a seed with [`tachyon_common::rng::Rng`]. The input is `x` [1, N, F]: N particle candidates with F
//! features each.
//!
//! [`deep_set`] — a shared network φ on every particle, a mean over the particles, a network ρ:
//! ```text
//! x ─Quant(fixed<10,5>)→ xq
//! φ:  for each layer:  MatMul(·, Quant(W)) on [1,N,·] + Quant(b) → Relu → Quant(ufixed<8,3>, FLOOR)
//! pool: ReduceMean over the particle axis → Quant(ufixed<8,3>, FLOOR)
//! ρ:  hidden layers as φ on [1,·]; last: MatMul + bias → Quant(fixed<12,5>, FLOOR) → y [1,C]
//! ```
//!
//! [`interaction_net`] — an interaction network (JEDI-net structure): every ordered pair of
//! particles (i ≠ j, E = N(N−1) edges) gets the features of its receiver and its sender, built by
//! constant one-hot matrices `Rr`, `Rs` [E, N] on the left of a MatMul and concatenated; a shared
//! relational network f_R on each edge; the edge effects summed per receiver by `Rrᵀ` [N, E]; an
//! object network f_O on each particle's features concatenated with its summed effects; a sum
//! over particles; a classifier φ_C.
//!
//! Weights are drawn He-normal and rounded onto the fixed<6,2> grid (scale 2^-4), biases on the
//! fixed<8,3> grid (scale 2^-5). Node names follow `{net}{layer}_matmul`, `{net}{layer}_bias`,
//! `{net}{layer}_relu`, `{net}{layer}_act`.

use tachyon_common::onnx_builder::{Attr, GraphBuilder, QONNX_DOMAIN};
use tachyon_common::rng::Rng;
use tachyon_frontend::proto::ModelProto;

/// Input quantizer: fixed<10,5> (scale 2^-5).
pub const INPUT_FRAC: i32 = 5;
pub const INPUT_BITS: f32 = 10.0;
/// Weights: fixed<6,2> (scale 2^-4).
pub const WEIGHT_FRAC: i32 = 4;
pub const WEIGHT_BITS: f32 = 6.0;
/// Biases: fixed<8,3> (scale 2^-5).
pub const BIAS_FRAC: i32 = 5;
pub const BIAS_BITS: f32 = 8.0;
/// Hidden activations: ufixed<8,3> (scale 2^-5), FLOOR.
pub const ACT_FRAC: i32 = 5;
pub const ACT_BITS: f32 = 8.0;
/// Outputs: fixed<12,5> (scale 2^-7), FLOOR.
pub const OUT_FRAC: i32 = 7;
pub const OUT_BITS: f32 = 12.0;

/// Shape of a deep set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeepSetShape {
    /// Particles N and features F.
    pub particles: usize,
    pub features: usize,
    /// Widths of φ's layers (applied to each particle).
    pub phi: Vec<usize>,
    /// Widths of ρ's layers; the last is the number of classes.
    pub rho: Vec<usize>,
}

impl DeepSetShape {
    /// The issue's tagger: N = 32, F = 16, φ 16-32-32, ρ 32-16-5.
    pub fn tagger() -> DeepSetShape {
        DeepSetShape { particles: 32, features: 16, phi: vec![32, 32], rho: vec![16, 5] }
    }
}

/// Shape of an interaction network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InteractionShape {
    pub particles: usize,
    pub features: usize,
    /// Widths of the relational network f_R (the last is the edge-effect size D_e).
    pub f_r: Vec<usize>,
    /// Widths of the object network f_O (the last is the object size D_o).
    pub f_o: Vec<usize>,
    /// Widths of the classifier φ_C; the last is the number of classes.
    pub phi_c: Vec<usize>,
}

impl InteractionShape {
    /// The shipped example: N = 8 particles with F = 8 features, f_R 16-8, f_O 16-8, φ_C 16-5.
    pub fn tagger() -> InteractionShape {
        InteractionShape { particles: 8, features: 8, f_r: vec![16, 8], f_o: vec![16, 8], phi_c: vec![16, 5] }
    }
}

/// Values drawn from normal(0, `std`), rounded half to even onto the signed `bits`-bit grid of
/// scale 2^-`frac`.
pub(crate) fn grid_normal(rng: &mut Rng, n: usize, std: f64, frac: i32, bits: f32) -> Vec<f32> {
    let scale = f64::powi(2.0, frac);
    let hi = f64::powi(2.0, bits as i32 - 1);
    (0..n)
        .map(|_| ((rng.normal_with(0.0, std) * scale).round_ties_even().clamp(-hi, hi - 1.0) / scale) as f32)
        .collect()
}

/// A QONNX network under construction: dense layers with quantized weights and activations.
pub(crate) struct Net<'a> {
    pub(crate) g: &'a mut GraphBuilder,
    pub(crate) rng: &'a mut Rng,
}

impl Net<'_> {
    pub(crate) fn quant(&mut self, x: &str, name: &str, frac: i32, bits: f32, signed: bool, mode: &str) -> String {
        self.g.quant(x, name, f32::powi(2.0, -frac), 0.0, bits, signed, false, mode)
    }

    /// A Conv with the weights `w` (of `shape`, on the 2^-`w_frac` grid in `w_bits` bits) and the
    /// bias `b` (fixed<8,3>) behind their Quants, then Relu and the activation Quant
    /// (ufixed<8,3>, FLOOR); `attrs` give the geometry.
    pub(crate) fn conv_relu(
        &mut self,
        x: &str,
        name: &str,
        w: (&[f32], &[usize], i32, f32),
        b: &[f32],
        attrs: Vec<Attr>,
    ) -> String {
        let (w, shape, w_frac, w_bits) = w;
        let w = self.g.initializer_f32(&format!("{name}_W"), shape, w);
        let wq = self.quant(&w, &format!("{name}_Wq"), w_frac, w_bits, true, "ROUND");
        let b = self.g.initializer_f32(&format!("{name}_b"), &[b.len()], b);
        let bq = self.quant(&b, &format!("{name}_bq"), BIAS_FRAC, BIAS_BITS, true, "ROUND");
        let y = self.g.node("Conv", "", name, &[x, &wq, &bq], &[&format!("{name}_out")], attrs);
        let r = self.g.node("Relu", "", &format!("{name}_relu"), &[&y], &[&format!("{name}_relu")], vec![]);
        self.quant(&r, &format!("{name}_act"), ACT_FRAC, ACT_BITS, false, "FLOOR")
    }

    /// `x · W + b` on the last axis (shared over the leading ones): He-normal weights and
    /// normal(0, 0.1) biases on their grids, times `scale` (rounded back onto the grids unless
    /// it is 1), behind weight and bias quantizers.
    pub(crate) fn linear(&mut self, x: &str, prefix: &str, n_in: usize, n_out: usize, scale: f64) -> String {
        let mut w = grid_normal(self.rng, n_in * n_out, (2.0 / n_in as f64).sqrt(), WEIGHT_FRAC, WEIGHT_BITS);
        let mut b = grid_normal(self.rng, n_out, 0.1, BIAS_FRAC, BIAS_BITS);
        if scale != 1.0 {
            let onto = |v: f32, frac: i32, bits: f32| {
                let s = f64::powi(2.0, frac);
                let hi = f64::powi(2.0, bits as i32 - 1);
                ((v as f64 * scale * s).round_ties_even().clamp(-hi, hi - 1.0) / s) as f32
            };
            w.iter_mut().for_each(|v| *v = onto(*v, WEIGHT_FRAC, WEIGHT_BITS));
            b.iter_mut().for_each(|v| *v = onto(*v, BIAS_FRAC, BIAS_BITS));
        }
        let w = self.g.initializer_f32(&format!("{prefix}_W"), &[n_in, n_out], &w);
        let wq = self.quant(&w, &format!("{prefix}_Wq"), WEIGHT_FRAC, WEIGHT_BITS, true, "ROUND");
        let b = self.g.initializer_f32(&format!("{prefix}_b"), &[n_out], &b);
        let bq = self.quant(&b, &format!("{prefix}_bq"), BIAS_FRAC, BIAS_BITS, true, "ROUND");
        let mm = self.g.node("MatMul", "", &format!("{prefix}_matmul"), &[x, &wq], &[&format!("{prefix}_mm")], vec![]);
        self.g.node("Add", "", &format!("{prefix}_bias"), &[&mm, &bq], &[&format!("{prefix}_add")], vec![])
    }

    /// The mean over the particle (token) axis 1 of [1, N, F], without keeping the axis.
    pub(crate) fn mean_over_particles(&mut self, x: &str) -> String {
        let axes = vec![Attr::ints("axes", &[1]), Attr::int("keepdims", 0)];
        self.g.node("ReduceMean", "", "pool", &[x], &["pool_mean"], axes)
    }

    /// One dense layer ([`Net::linear`]), then either ReLU and the hidden-activation quantizer
    /// or, for the last layer, the output quantizer.
    pub(crate) fn dense(&mut self, x: &str, prefix: &str, n_in: usize, n_out: usize, last: bool) -> String {
        let add = self.linear(x, prefix, n_in, n_out, 1.0);
        if last {
            return self.quant(&add, &format!("{prefix}_out"), OUT_FRAC, OUT_BITS, true, "FLOOR");
        }
        let relu = self.g.node("Relu", "", &format!("{prefix}_relu"), &[&add], &[&format!("{prefix}_relu")], vec![]);
        self.quant(&relu, &format!("{prefix}_act"), ACT_FRAC, ACT_BITS, false, "FLOOR")
    }

    /// Dense layers of the given widths after an input of width `n_in`; `last_out` makes the
    /// final layer an output layer.
    pub(crate) fn mlp(
        &mut self,
        mut x: String,
        prefix: &str,
        mut n_in: usize,
        widths: &[usize],
        last_out: bool,
    ) -> String {
        for (i, &w) in widths.iter().enumerate() {
            x = self.dense(&x, &format!("{prefix}{i}"), n_in, w, last_out && i + 1 == widths.len());
            n_in = w;
        }
        x
    }
}

/// The deep set of the module doc (graph `deep_set`, input `x` [1,N,F], output `y` [1,C]).
pub fn deep_set(shape: &DeepSetShape, seed: u64) -> ModelProto {
    let mut rng = Rng::new(seed);
    let mut g = GraphBuilder::new("deep_set");
    let (n, f) = (shape.particles, shape.features);
    let classes = *shape.rho.last().expect("ρ has an output layer");
    let x = g.input("x", &[1, n as i64, f as i64]);
    g.output("y", &[1, classes as i64]);
    let mut net = Net { g: &mut g, rng: &mut rng };
    let xq = net.quant(&x, "xq", INPUT_FRAC, INPUT_BITS, true, "ROUND");
    let h = net.mlp(xq, "phi", f, &shape.phi, false);
    let pooled = net.mean_over_particles(&h);
    let pooled = net.quant(&pooled, "pool_act", ACT_FRAC, ACT_BITS, false, "FLOOR");
    let width = *shape.phi.last().unwrap_or(&f);
    let y = net.mlp(pooled, "rho", width, &shape.rho, true);
    net.g.node("Identity", "", "output", &[&y], &["y"], vec![]);
    g.build(&[("", 13), (QONNX_DOMAIN, 1)])
}

/// The interaction network of the module doc (graph `interaction_net`, input `x` [1,N,F],
/// output `y` [1,C]).
pub fn interaction_net(shape: &InteractionShape, seed: u64) -> ModelProto {
    let mut rng = Rng::new(seed);
    let mut g = GraphBuilder::new("interaction_net");
    let (n, f) = (shape.particles, shape.features);
    let classes = *shape.phi_c.last().expect("φ_C has an output layer");
    let x = g.input("x", &[1, n as i64, f as i64]);
    g.output("y", &[1, classes as i64]);
    // Ordered pairs (receiver i, sender j), i ≠ j, receiver-major.
    let pairs: Vec<(usize, usize)> =
        (0..n).flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j))).collect();
    let e = pairs.len();
    let mut rr = vec![0f32; e * n];
    let mut rs = vec![0f32; e * n];
    for (p, &(i, j)) in pairs.iter().enumerate() {
        rr[p * n + i] = 1.0;
        rs[p * n + j] = 1.0;
    }
    let rr_t: Vec<f32> = (0..n * e).map(|k| rr[(k % e) * n + k / e]).collect();
    let rr = g.initializer_f32("Rr", &[e, n], &rr);
    let rs = g.initializer_f32("Rs", &[e, n], &rs);
    let rr_t = g.initializer_f32("RrT", &[n, e], &rr_t);
    let mut net = Net { g: &mut g, rng: &mut rng };
    let xq = net.quant(&x, "xq", INPUT_FRAC, INPUT_BITS, true, "ROUND");
    let recv = net.g.node("MatMul", "", "receivers", &[&rr, &xq], &["recv"], vec![]);
    let send = net.g.node("MatMul", "", "senders", &[&rs, &xq], &["send"], vec![]);
    let pair = net.g.node("Concat", "", "pairs", &[&recv, &send], &["pair"], vec![Attr::int("axis", 2)]);
    let effects = net.mlp(pair, "fr", 2 * f, &shape.f_r, false);
    let summed = net.g.node("MatMul", "", "aggregate", &[&rr_t, &effects], &["agg"], vec![]);
    let d_e = *shape.f_r.last().unwrap_or(&f);
    let summed = net.quant(&summed, "agg_act", ACT_FRAC - 2, ACT_BITS, false, "FLOOR");
    let obj_in = net.g.node("Concat", "", "objects", &[&xq, &summed], &["obj_in"], vec![Attr::int("axis", 2)]);
    let objects = net.mlp(obj_in, "fo", f + d_e, &shape.f_o, false);
    let axes = net.g.initializer_i64("particle_axis", &[1], &[1]);
    let total = net.g.node("ReduceSum", "", "pool", &[&objects, &axes], &["pool_sum"], vec![Attr::int("keepdims", 0)]);
    let total = net.quant(&total, "pool_act", ACT_FRAC - 2, ACT_BITS + 2.0, false, "FLOOR");
    let d_o = *shape.f_o.last().unwrap_or(&f);
    let y = net.mlp(total, "phic", d_o, &shape.phi_c, true);
    net.g.node("Identity", "", "output", &[&y], &["y"], vec![]);
    g.build(&[("", 13), (QONNX_DOMAIN, 1)])
}

/// `rows` samples of N particles × F features (row-major [rows, N, F]): standard-normal
/// features, with the particles of each sample sorted by decreasing first feature (as a pT-ordered
/// candidate list is).
pub fn particle_inputs(seed: u64, rows: usize, particles: usize, features: usize) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(rows * particles * features);
    for _ in 0..rows {
        let mut ps: Vec<Vec<f32>> =
            (0..particles).map(|_| (0..features).map(|_| rng.normal() as f32).collect()).collect();
        ps.sort_by(|a, b| b[0].total_cmp(&a[0]));
        out.extend(ps.into_iter().flatten());
    }
    out
}
