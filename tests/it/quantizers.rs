//! QONNX quantizers end to end on models built here: every rounding mode, signed/unsigned,
//! narrow, per-channel power-of-two scales, Trunc and BipolarQuant. The interpreter must equal
//! the float semantics (frontend `run_float`, a port of the qonnx executor) exactly, and the RTL
//! must equal the interpreter.

use crate::common::*;
use prost::Message;
use tachyon_common::onnx_builder::{Attr, GraphBuilder, QONNX_DOMAIN};
use tachyon_driver::project::build;
use tachyon_frontend::{DType, Tensor};
use tachyon_quantize::{interp, Config};

const MODES: [&str; 7] = ["ROUND", "HALF_UP", "HALF_DOWN", "CEIL", "FLOOR", "ROUND_TO_ZERO", "DOWN"];

#[allow(clippy::too_many_arguments)]
fn quant_node(
    g: &mut GraphBuilder,
    x: &str,
    y: &str,
    scales: &[f32],
    bits: f32,
    signed: bool,
    narrow: bool,
    mode: &str,
) -> String {
    let shape: Vec<usize> = if scales.len() == 1 { vec![] } else { vec![scales.len()] };
    let s = g.initializer_f32(&format!("{y}_scale"), &shape, scales);
    let z = g.initializer_f32(&format!("{y}_zp"), &[], &[0.0]);
    let b = g.initializer_f32(&format!("{y}_bits"), &[], &[bits]);
    g.node(
        "Quant",
        QONNX_DOMAIN,
        y,
        &[x, &s, &z, &b],
        &[y],
        vec![
            Attr::int("signed", signed as i64),
            Attr::int("narrow", narrow as i64),
            Attr::string("rounding_mode", mode),
        ],
    )
}

/// x[1,8] → Quant(2^-4, 10 bits) → MatMul(8×6 on 2^-3) + bias → per-channel Quant(mode) → Relu →
/// Trunc(2 bits down, FLOOR or mode) → output; optional final BipolarQuant instead of Trunc.
fn model(seed: u64, mode: &str, signed: bool, narrow: bool, bipolar: bool) -> Vec<u8> {
    let mut r = Lcg(seed);
    let mut g = GraphBuilder::new("quantizers");
    let x = g.input("x", &[1, 8]);
    g.output("y", &[1, 6]);
    let xq = quant_node(&mut g, &x, "xq", &[1.0 / 16.0], 10.0, true, false, "ROUND");
    let w: Vec<f32> = (0..48).map(|_| r.int(-20, 20) as f32 / 8.0).collect();
    let w = g.initializer_f32("W", &[8, 6], &w);
    let b: Vec<f32> = (0..6).map(|_| r.int(-30, 30) as f32 / 16.0).collect();
    let b = g.initializer_f32("B", &[6], &b);
    let mm = g.node("MatMul", "", "mm", &[&xq, &w], &["mm"], vec![]);
    let add = g.node("Add", "", "bias", &[&mm, &b], &["add"], vec![]);
    let scales: Vec<f32> = (0..6).map(|_| 2f32.powi(-(r.int(0, 4) as i32))).collect();
    let q = quant_node(&mut g, &add, "q", &scales, 7.0, signed, narrow, mode);
    let relu = g.node("Relu", "", "relu", &[&q], &["relu"], vec![]);
    if bipolar {
        let s = g.initializer_f32("bp_scale", &[], &[0.5]);
        g.node("BipolarQuant", QONNX_DOMAIN, "bp", &[&relu, &s], &["y"], vec![]);
    } else {
        // Trunc: input on the 2^0 grid (scale 1), output scale 4 (drop two bits), 5 output bits.
        let s = g.initializer_f32("t_s", &[], &[1.0]);
        let z = g.initializer_f32("t_z", &[], &[0.0]);
        let ib = g.initializer_f32("t_ib", &[], &[8.0]);
        let os = g.initializer_f32("t_os", &[], &[4.0]);
        let ob = g.initializer_f32("t_ob", &[], &[5.0]);
        g.node(
            "Trunc",
            QONNX_DOMAIN,
            "trunc",
            &[&relu, &s, &z, &ib, &os, &ob],
            &["y"],
            vec![
                Attr::string("rounding_mode", mode),
                Attr::int("signed", signed as i64),
                Attr::int("narrow", narrow as i64),
            ],
        );
    }
    // Trunc with an output scale (six inputs) is QONNX opset 2 (qonnx's executor runs the
    // five-input opset-1 form otherwise).
    g.build(&[("", 13), (QONNX_DOMAIN, if bipolar { 1 } else { 2 })]).encode_to_vec()
}

fn inputs(seed: u64, n: usize) -> Vec<Vec<f64>> {
    let mut r = Lcg(seed);
    // Values on a fine grid (including exact ties of the 2^-4 input quantizer) and out of range.
    (0..n).map(|_| (0..8).map(|_| r.int(-40000, 40000) as f64 / 1024.0).collect()).collect()
}

#[test]
fn interpreter_equals_qonnx_float_semantics() {
    let dir = scratch("quantizers");
    std::fs::create_dir_all(&dir).unwrap();
    let mut checked = 0;
    for (k, mode) in MODES.iter().enumerate() {
        for (signed, narrow, bipolar) in
            [(true, false, false), (true, true, false), (false, false, false), (false, true, true)]
        {
            let path = dir.join(format!("m_{k}_{signed}_{narrow}_{bipolar}.onnx"));
            std::fs::write(&path, model(k as u64 + 7, mode, signed, narrow, bipolar)).unwrap();
            let g = tachyon_frontend::load_model(&path).unwrap();
            let m = tachyon_quantize::lower(&g, &Config::default()).unwrap();
            for x in inputs(k as u64, 300) {
                let want =
                    tachyon_frontend::eval::run_float(&g, &[Tensor::new(DType::F32, vec![1, 8], x.clone())]).unwrap();
                let got = interp::evaluate(&m, &x).unwrap();
                assert_eq!(got, want[0].data, "{mode} signed={signed} narrow={narrow} bipolar={bipolar} x={x:?}");
                checked += 1;
            }
        }
    }
    assert_eq!(checked, MODES.len() * 4 * 300);
}

/// The same models through qonnx's own executor (tests/reference/run_reference.py): the
/// interpreter equals it bit for bit, ties of every rounding mode included (qonnx spells
/// Brevitas's ROUND_TO_ZERO as DOWN).
#[test]
fn interpreter_equals_the_qonnx_executor() {
    let dir = scratch("quantizers_qonnx");
    std::fs::create_dir_all(&dir).unwrap();
    for (k, mode) in MODES.iter().enumerate().filter(|(_, m)| **m != "ROUND_TO_ZERO") {
        let (signed, narrow, bipolar) = [(true, false, false), (false, true, true), (true, true, false)][k % 3];
        let path = dir.join(format!("m_{k}.onnx"));
        std::fs::write(&path, model(k as u64 + 7, mode, signed, narrow, bipolar)).unwrap();
        let g = tachyon_frontend::load_model(&path).unwrap();
        let m = tachyon_quantize::lower(&g, &Config::default()).unwrap();
        let xs = inputs(k as u64 + 100, 60);
        let flat: Vec<f32> = xs.iter().flatten().map(|&v| v as f32).collect();
        let Some(want) = reference_outputs(&path, &flat, 8, Reference::Qonnx) else { return };
        for (x, w) in xs.iter().zip(&want) {
            let got: Vec<f32> = interp::evaluate(&m, x).unwrap().iter().map(|&v| v as f32).collect();
            assert_eq!(&got, w, "{mode} signed={signed} narrow={narrow} bipolar={bipolar} x={x:?}");
        }
    }
}

#[test]
fn quantizer_model_cosimulates() {
    let dir = scratch("quantizers_rtl");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (mode, signed, narrow, bipolar)) in
        [("HALF_DOWN", true, true, false), ("ROUND", false, false, true)].into_iter().enumerate()
    {
        let path = dir.join(format!("q{i}.onnx"));
        std::fs::write(&path, model(3 + i as u64, mode, signed, narrow, bipolar)).unwrap();
        let out = dir.join(format!("out{i}"));
        let mut o = build_options(path, &out);
        o.clock_ns = Some(2.5);
        o.top = "qtop".into();
        build(&o).unwrap();
        lint(&out);
        yosys_synth(&out);
        cosim_random(&out, 3000);
    }
}
