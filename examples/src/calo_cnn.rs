//! A 2-D CNN on 12×12 calorimeter images (energy deposits of one or two showers), in QONNX,
//! generated from a seed: the example where layer-specific tensor decomposition (Mixed-TD,
//! `tachyon decompose`) pays. Input `x` [1, 1, 12, 12].
//!
//! ```text
//! x ─Quant(fixed<10,5>)→ conv0: Conv 1→16, 3×3, pad 1 + bias → Relu → Quant(ufixed<8,3>)
//!   → MaxPool 2×2 [1,16,6,6]
//!   → conv1: Conv 16→32, 3×3, pad 1 + bias → Relu → Quant(ufixed<8,3>)     (low rank: channels)
//!   → MaxPool 2×2 [1,32,3,3]
//!   → conv2: Conv 32→16, 3×3, pad 1 + bias → Relu → Quant(ufixed<8,3>)     (low rank: spatial)
//!   → GlobalAveragePool → Quant(ufixed<8,3>) → Flatten
//!   → dense: MatMul 16→5 + bias → Quant(fixed<12,5>) → y [1,5]
//! ```
//!
//! **The weights are synthetic, not trained.** Random He-normal weights are full rank and nothing
//! decomposes them well; trained CNN kernels have fast-decaying spectra. So conv1 and conv2 are
//! drawn *low rank plus noise*: a sum of `rank` random outer products with singular values
//! decaying as 0.75^k, plus 0.5 % (of the weights' standard deviation) independent noise, scaled to
//! the He standard deviation. conv1 is low rank in the channel reshaping F × (C·Kh·Kw), conv2 in
//! the spatial reshaping (F·Kh) × (C·Kw), so the two layers want different decompositions. All
//! weights are 8-bit with a power-of-two scale fitted to their range; biases are fixed<8,3>.

use crate::set_models::{grid_normal, Net, ACT_BITS, ACT_FRAC, BIAS_BITS, BIAS_FRAC, INPUT_BITS, INPUT_FRAC};
use tachyon_common::onnx_builder::{Attr, GraphBuilder, QONNX_DOMAIN};
use tachyon_common::rng::Rng;
use tachyon_frontend::proto::ModelProto;

/// Image side (pixels).
pub const CALO_SIDE: usize = 12;
/// Output classes.
pub const CALO_CLASSES: usize = 5;
/// Bits of every weight tensor.
pub const CALO_WEIGHT_BITS: u32 = 8;

/// How a conv kernel [F, C, Kh, Kw] is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Spectrum {
    /// Independent He-normal entries (full rank).
    Full,
    /// Low rank in the matrix F × (C·Kh·Kw).
    Channel(usize),
    /// Low rank in the matrix (F·Kh) × (C·Kw).
    Spatial(usize),
}

/// `rows × cols` (row-major) = Σ_k 0.75^k u_k v_kᵀ + 0.5 % noise, scaled to standard deviation `std`.
fn low_rank(rng: &mut Rng, rows: usize, cols: usize, rank: usize, std: f64) -> Vec<f64> {
    let mut m = vec![0f64; rows * cols];
    for k in 0..rank {
        let s = 0.75f64.powi(k as i32);
        let u: Vec<f64> = (0..rows).map(|_| rng.normal()).collect();
        let v: Vec<f64> = (0..cols).map(|_| rng.normal()).collect();
        for i in 0..rows {
            for j in 0..cols {
                m[i * cols + j] += s * u[i] * v[j];
            }
        }
    }
    let rms = (m.iter().map(|v| v * v).sum::<f64>() / m.len() as f64).sqrt().max(1e-12);
    m.iter_mut().for_each(|v| *v = *v / rms * std + 0.005 * std * rng.normal());
    m
}

/// Rounds `w` onto the signed `bits`-bit grid with the smallest power-of-two scale that holds
/// its largest magnitude; returns (values on the grid, log2 of the scale).
fn on_grid(w: &[f64], bits: u32) -> (Vec<f32>, i32) {
    let max = w.iter().fold(0f64, |m, v| m.max(v.abs())).max(1e-12);
    let qmax = f64::powi(2.0, bits as i32 - 1) - 1.0;
    let e = (max / qmax).log2().ceil() as i32;
    let s = f64::powi(2.0, e);
    (w.iter().map(|v| ((v / s).round_ties_even().clamp(-qmax - 1.0, qmax) * s) as f32).collect(), e)
}

/// Conv 3×3, pad 1, with weights drawn per `spec`, bias, Relu and the activation Quant.
fn conv(net: &mut Net, x: &str, name: &str, c_in: usize, c_out: usize, spec: Spectrum) -> String {
    let k = 3;
    let std = (2.0 / (c_in * k * k) as f64).sqrt();
    let w: Vec<f64> = match spec {
        Spectrum::Full => (0..c_out * c_in * k * k).map(|_| net.rng.normal_with(0.0, std)).collect(),
        Spectrum::Channel(r) => low_rank(net.rng, c_out, c_in * k * k, r, std),
        Spectrum::Spatial(r) => {
            // m[(f, kh), (c, kw)] → w[f, c, kh, kw]
            let m = low_rank(net.rng, c_out * k, c_in * k, r, std);
            let mut w = vec![0f64; c_out * c_in * k * k];
            for f in 0..c_out {
                for c in 0..c_in {
                    for kh in 0..k {
                        for kw in 0..k {
                            w[((f * c_in + c) * k + kh) * k + kw] = m[(f * k + kh) * (c_in * k) + c * k + kw];
                        }
                    }
                }
            }
            w
        }
    };
    let (w, e) = on_grid(&w, CALO_WEIGHT_BITS);
    let b = grid_normal(net.rng, c_out, 0.05, BIAS_FRAC, BIAS_BITS);
    let attrs = vec![Attr::ints("kernel_shape", &[3, 3]), Attr::ints("pads", &[1, 1, 1, 1])];
    net.conv_relu(x, name, (&w, &[c_out, c_in, k, k], -e, CALO_WEIGHT_BITS as f32), &b, attrs)
}

fn maxpool(net: &mut Net, x: &str, name: &str) -> String {
    net.g.node(
        "MaxPool",
        "",
        name,
        &[x],
        &[&format!("{name}_out")],
        vec![Attr::ints("kernel_shape", &[2, 2]), Attr::ints("strides", &[2, 2])],
    )
}

/// The calorimeter CNN of the module doc (graph `calo_cnn`, input `x` [1,1,12,12], output `y` [1,5]).
pub fn calo_cnn(seed: u64) -> ModelProto {
    let mut rng = Rng::new(seed);
    let mut g = GraphBuilder::new("calo_cnn");
    let side = CALO_SIDE as i64;
    let x = g.input("x", &[1, 1, side, side]);
    g.output("y", &[1, CALO_CLASSES as i64]);
    let mut net = Net { g: &mut g, rng: &mut rng };
    let xq = net.quant(&x, "xq", INPUT_FRAC, INPUT_BITS, true, "ROUND");
    let h = conv(&mut net, &xq, "conv0", 1, 16, Spectrum::Full);
    let h = maxpool(&mut net, &h, "pool0");
    let h = conv(&mut net, &h, "conv1", 16, 32, Spectrum::Channel(6));
    let h = maxpool(&mut net, &h, "pool1");
    let h = conv(&mut net, &h, "conv2", 32, 16, Spectrum::Spatial(6));
    let h = net.g.node("GlobalAveragePool", "", "gap", &[&h], &["gap_out"], vec![]);
    let h = net.quant(&h, "gap_act", ACT_FRAC, ACT_BITS, false, "FLOOR");
    let h = net.g.node("Flatten", "", "flatten", &[&h], &["flat"], vec![Attr::int("axis", 1)]);
    let y = net.dense(&h, "dense", 16, CALO_CLASSES, true);
    net.g.node("Identity", "", "output", &[&y], &["y"], vec![]);
    g.build(&[("", 13), (QONNX_DOMAIN, 1)])
}

/// `rows` calorimeter images (row-major [rows, 1, 12, 12]): one or two electromagnetic showers
/// (a Gaussian core of width 0.8–1.6 cells at a random sub-cell position, energy 2–12) over
/// pile-up noise, negative cells cut to zero as after zero suppression.
pub fn calo_inputs(seed: u64, rows: usize) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let n = CALO_SIDE;
    let mut out = Vec::with_capacity(rows * n * n);
    for _ in 0..rows {
        let mut img = vec![0f64; n * n];
        for _ in 0..1 + rng.below(2) {
            let (r0, c0) = (2.0 + rng.uniform() * 8.0, 2.0 + rng.uniform() * 8.0);
            let width = 0.8 + rng.uniform() * 0.8;
            let e = 2.0 + rng.uniform() * 10.0;
            for (i, v) in img.iter_mut().enumerate() {
                let (dr, dc) = ((i / n) as f64 - r0, (i % n) as f64 - c0);
                *v += e * (-(dr * dr + dc * dc) / (2.0 * width * width)).exp();
            }
        }
        out.extend(img.iter().map(|v| (v + rng.normal() * 0.1).max(0.0) as f32));
    }
    out
}
