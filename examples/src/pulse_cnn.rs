//! A 1-D CNN for 64-sample detector pulses (PulseDL-style energy/timing regression or pile-up
//! classification), in QONNX, generated from a seed. Input `x` [1, 1, 64]: one channel of 64
//! ADC samples.
//!
//! ```text
//! x ─Quant(fixed<10,5>)→ conv0: Conv 1→4, k 5, pad 2 + bias → Relu → Quant(ufixed<8,3>)
//!   → MaxPool k 2 s 2 [1,4,32]
//!   → conv1: Conv 4→8, k 3, stride 2, pad 1 + bias → Relu → Quant(ufixed<8,3>) [1,8,16]
//!   → GlobalAveragePool → Quant(ufixed<8,3>) → Flatten
//!   → dense: MatMul 8→3 + bias → Quant(fixed<12,5>) → y [1,3]
//! ```
//! Weights fixed<6,2> (He-normal, rounded), biases fixed<8,3>, as in [`crate::set_models`].

use crate::set_models::{
    grid_normal, Net, ACT_BITS, ACT_FRAC, BIAS_BITS, BIAS_FRAC, INPUT_BITS, INPUT_FRAC, WEIGHT_BITS, WEIGHT_FRAC,
};
use tachyon_common::onnx_builder::{Attr, GraphBuilder, QONNX_DOMAIN};
use tachyon_common::rng::Rng;
use tachyon_frontend::proto::ModelProto;

/// Samples per pulse.
pub const PULSE_SAMPLES: usize = 64;
/// Output classes.
pub const PULSE_CLASSES: usize = 3;

/// A Conv with quantized weights [out, in, k] and bias, then Relu and the activation Quant.
#[allow(clippy::too_many_arguments)]
fn conv(net: &mut Net, x: &str, name: &str, c_in: usize, c_out: usize, k: usize, stride: i64, pad: i64) -> String {
    let w = grid_normal(net.rng, c_out * c_in * k, (2.0 / (c_in * k) as f64).sqrt(), WEIGHT_FRAC, WEIGHT_BITS);
    let b = grid_normal(net.rng, c_out, 0.1, BIAS_FRAC, BIAS_BITS);
    let attrs = vec![
        Attr::ints("kernel_shape", &[k as i64]),
        Attr::ints("strides", &[stride]),
        Attr::ints("pads", &[pad, pad]),
    ];
    net.conv_relu(x, name, (&w, &[c_out, c_in, k], WEIGHT_FRAC, WEIGHT_BITS), &b, attrs)
}

/// The pulse CNN of the module doc (graph `pulse_cnn`, input `x` [1,1,64], output `y` [1,3]).
pub fn pulse_cnn(seed: u64) -> ModelProto {
    let mut rng = Rng::new(seed);
    let mut g = GraphBuilder::new("pulse_cnn");
    let x = g.input("x", &[1, 1, PULSE_SAMPLES as i64]);
    g.output("y", &[1, PULSE_CLASSES as i64]);
    let mut net = Net { g: &mut g, rng: &mut rng };
    let xq = net.quant(&x, "xq", INPUT_FRAC, INPUT_BITS, true, "ROUND");
    let h = conv(&mut net, &xq, "conv0", 1, 4, 5, 1, 2);
    let h = net.g.node(
        "MaxPool",
        "",
        "pool0",
        &[&h],
        &["pool0_out"],
        vec![Attr::ints("kernel_shape", &[2]), Attr::ints("strides", &[2])],
    );
    let h = conv(&mut net, &h, "conv1", 4, 8, 3, 2, 1);
    let h = net.g.node("GlobalAveragePool", "", "gap", &[&h], &["gap_out"], vec![]);
    let h = net.quant(&h, "gap_act", ACT_FRAC, ACT_BITS, false, "FLOOR");
    let h = net.g.node("Flatten", "", "flatten", &[&h], &["flat"], vec![Attr::int("axis", 1)]);
    let y = net.dense(&h, "dense", 8, PULSE_CLASSES, true);
    net.g.node("Identity", "", "output", &[&y], &["y"], vec![]);
    g.build(&[("", 13), (QONNX_DOMAIN, 1)])
}

/// `rows` pulses of 64 samples (row-major [rows, 1, 64]): a baseline with noise plus one or two
/// shaped pulses (rise of 2 samples, exponential decay) at random times and amplitudes.
pub fn pulse_inputs(seed: u64, rows: usize) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(rows * PULSE_SAMPLES);
    for _ in 0..rows {
        let mut p = vec![0f64; PULSE_SAMPLES];
        let pulses = 1 + rng.below(2) as usize;
        for _ in 0..pulses {
            let t0 = 8 + rng.below(40) as usize;
            let amp = 2.0 + rng.uniform() * 10.0;
            for (t, v) in p.iter_mut().enumerate().skip(t0) {
                let dt = (t - t0) as f64;
                *v += amp * (1.0 - (-dt / 1.5).exp()) * (-dt / 8.0).exp();
            }
        }
        out.extend(p.iter().map(|v| (v + rng.normal() * 0.2) as f32));
    }
    out
}
