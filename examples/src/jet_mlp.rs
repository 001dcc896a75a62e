//! The shipped example models, generated from a seed with [`tachyon_common::rng::Rng`]:
//!
//! - [`jet_mlp`]: the 16-64-32-32-5 jet-tagging MLP in QONNX, structured exactly like
//!   `shared/tools/make_jet_qonnx.py` (same node, tensor and initializer names, same order):
//!   ```text
//!   x ─Quant(fixed<16,6>, ROUND)→ xq
//!   for each layer i:  W{i} ─Quant(fixed<8,3>)→ W{i}q,  b{i} ─Quant(fixed<8,3>)→ b{i}q
//!     dense{i}_matmul: MatMul(x, W{i}q) → mm{i};  dense{i}_bias: Add(mm{i}, b{i}q) → add{i}
//!     hidden: relu{i}: Relu → relu{i};  act{i}: Quant(ufixed<8,3>, FLOOR)
//!     last:   y: Quant(fixed<16,6>, FLOOR)
//!   ```
//!   The weights are drawn with this crate's PRNG, not numpy's, so they differ from the Python
//!   script's values; the grid, ranges and distributions are the same.
//! - [`tiny_mlp`]: the same structure at 4-8-3, for fast tests.
//! - [`float_mlp`]: a float MLP (MatMul, Add, Relu, final Softmax) with no Quant nodes.

use tachyon_common::onnx_builder::{Attr, GraphBuilder, QONNX_DOMAIN};
use tachyon_common::rng::Rng;
use tachyon_frontend::proto::ModelProto;

/// Layer widths of the jet MLP.
pub const JET_SIZES: [usize; 5] = [16, 64, 32, 32, 5];
/// Layer widths of the tiny MLP.
pub const TINY_SIZES: [usize; 3] = [4, 8, 3];
/// Total bits of the weight and bias type fixed<8,3>.
pub const WEIGHT_BITS: u32 = 8;
/// Fractional bits of fixed<8,3> (and of the activation type ufixed<8,3>): scale 2^-5.
pub const WEIGHT_FRAC: i32 = 5;
/// Total bits of the input and logit type fixed<16,6>.
pub const IO_BITS: u32 = 16;
/// Fractional bits of fixed<16,6>: scale 2^-10.
pub const IO_FRAC: i32 = 10;

/// `n` values drawn from normal(0, `std`), rounded half-to-even onto the fixed<8,3> grid
/// (multiples of 2^-5 in [-128, 127]·2^-5), as `np.clip(np.round(x * 2**5), -128, 127) / 2**5`.
fn grid_normal(rng: &mut Rng, n: usize, std: f64) -> Vec<f32> {
    let scale = f64::powi(2.0, WEIGHT_FRAC);
    let hi = f64::powi(2.0, WEIGHT_BITS as i32 - 1);
    (0..n)
        .map(|_| {
            let q = (rng.normal_with(0.0, std) * scale).round_ties_even();
            (q.clamp(-hi, hi - 1.0) / scale) as f32
        })
        .collect()
}

/// He-normal weights (std √(2/n_in)) and normal(0, 0.1) biases per layer, drawn in the Python
/// script's order (all of W{i}, row-major [n_in, n_out], then b{i}). `round` puts them on the
/// fixed<8,3> grid.
fn layer_params(rng: &mut Rng, sizes: &[usize], round: bool) -> Vec<(Vec<f32>, Vec<f32>)> {
    let draw = |rng: &mut Rng, n: usize, std: f64| -> Vec<f32> {
        if round {
            grid_normal(rng, n, std)
        } else {
            (0..n).map(|_| rng.normal_with(0.0, std) as f32).collect()
        }
    };
    sizes
        .windows(2)
        .map(|w| {
            let (n_in, n_out) = (w[0], w[1]);
            let weights = draw(rng, n_in * n_out, (2.0 / n_in as f64).sqrt());
            let bias = draw(rng, n_out, 0.1);
            (weights, bias)
        })
        .collect()
}

/// The quantized MLP of the module doc for any layer widths.
fn quant_mlp(graph_name: &str, sizes: &[usize], seed: u64) -> ModelProto {
    let mut rng = Rng::new(seed);
    let params = layer_params(&mut rng, sizes, true);
    let (n_in, n_out) = (sizes[0], sizes[sizes.len() - 1]);
    let w_scale = f32::powi(2.0, -WEIGHT_FRAC);
    let io_scale = f32::powi(2.0, -IO_FRAC);
    let mut g = GraphBuilder::new(graph_name);
    // Inputs, outputs and initializers are recorded in the order the Python script adds them.
    let x_in = g.input("x", &[1, n_in as i64]);
    g.output("y", &[1, n_out as i64]);
    let mut x = g.quant(&x_in, "xq", io_scale, 0.0, IO_BITS as f32, true, false, "ROUND");
    let last = params.len() - 1;
    for (i, (w, b)) in params.iter().enumerate() {
        let shape = [sizes[i], sizes[i + 1]];
        let wname = g.initializer_f32(&format!("W{i}"), &shape, w);
        let wq = g.quant(&wname, &format!("W{i}q"), w_scale, 0.0, WEIGHT_BITS as f32, true, false, "ROUND");
        let bname = g.initializer_f32(&format!("b{i}"), &shape[1..], b);
        let bq = g.quant(&bname, &format!("b{i}q"), w_scale, 0.0, WEIGHT_BITS as f32, true, false, "ROUND");
        let mm = g.node("MatMul", "", &format!("dense{i}_matmul"), &[&x, &wq], &[&format!("mm{i}")], vec![]);
        let add = g.node("Add", "", &format!("dense{i}_bias"), &[&mm, &bq], &[&format!("add{i}")], vec![]);
        x = if i < last {
            let relu = format!("relu{i}");
            g.node("Relu", "", &relu, &[&add], &[&relu], vec![]);
            g.quant(&relu, &format!("act{i}"), w_scale, 0.0, WEIGHT_BITS as f32, false, false, "FLOOR")
        } else {
            g.quant(&add, "y", io_scale, 0.0, IO_BITS as f32, true, false, "FLOOR")
        };
    }
    g.build(&[("", 13), (QONNX_DOMAIN, 1)])
}

/// The 16-64-32-32-5 jet-tagging QONNX MLP of the module doc (graph `jet_w8a8`, input `x`
/// [1,16], output `y` [1,5]); `seed` selects the weights.
pub fn jet_mlp(seed: u64) -> ModelProto {
    quant_mlp("jet_w8a8", &JET_SIZES, seed)
}

/// The 4-8-3 version of [`jet_mlp`] (graph `tiny_w8a8`, input `x` [1,4], output `y` [1,3]).
pub fn tiny_mlp(seed: u64) -> ModelProto {
    quant_mlp("tiny_w8a8", &TINY_SIZES, seed)
}

/// A float MLP without any Quant node (graph `float_mlp`, input `x` [1, sizes[0]], output `y`
/// [1, sizes.last]): per layer `dense{i}_matmul` MatMul and `dense{i}_bias` Add with He-normal
/// weights and normal(0, 0.1) biases (unrounded float32), `relu{i}` between layers and a final
/// `softmax` over the last axis. Opset 13.
///
/// Panics if `sizes` has fewer than two entries.
pub fn float_mlp(seed: u64, sizes: &[usize]) -> ModelProto {
    assert!(sizes.len() >= 2, "an MLP needs at least an input and an output width");
    let mut rng = Rng::new(seed);
    let params = layer_params(&mut rng, sizes, false);
    let mut g = GraphBuilder::new("float_mlp");
    let mut x = g.input("x", &[1, sizes[0] as i64]);
    g.output("y", &[1, sizes[sizes.len() - 1] as i64]);
    let last = params.len() - 1;
    for (i, (w, b)) in params.iter().enumerate() {
        let shape = [sizes[i], sizes[i + 1]];
        let wname = g.initializer_f32(&format!("W{i}"), &shape, w);
        let bname = g.initializer_f32(&format!("b{i}"), &shape[1..], b);
        let mm = g.node("MatMul", "", &format!("dense{i}_matmul"), &[&x, &wname], &[&format!("mm{i}")], vec![]);
        let add = g.node("Add", "", &format!("dense{i}_bias"), &[&mm, &bname], &[&format!("add{i}")], vec![]);
        x = if i < last {
            let relu = format!("relu{i}");
            g.node("Relu", "", &relu, &[&add], &[&relu], vec![])
        } else {
            g.node("Softmax", "", "softmax", &[&add], &["y"], vec![Attr::int("axis", -1)])
        };
    }
    g.build(&[("", 13)])
}

/// `n` rows of `width` standard-normal float32 values (row-major `n × width`).
pub fn normal_inputs(seed: u64, n: usize, width: usize) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..n * width).map(|_| rng.normal() as f32).collect()
}

/// `n × 16` standard-normal float32 inputs for [`jet_mlp`] (row-major).
pub fn jet_inputs(seed: u64, n: usize) -> Vec<f32> {
    normal_inputs(seed, n, JET_SIZES[0])
}
