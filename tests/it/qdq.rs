//! ONNX QDQ and integer ops as onnxruntime's static quantization writes them: Q→DQ pairs on
//! activations (uint8 with odd zero points, int8, and opset 21's int16/uint16), per-axis int8
//! weights (and int4/uint4, packed two per byte) and int32 biases behind
//! DequantizeLinear, and the integer-op forms QLinearMatMul, QLinearConv, MatMulInteger and
//! ConvInteger. Each model is compared with onnxruntime (every output of every vector: equal,
//! or — for float MatMuls between Q/DQ — a quantizer input within `TIE_BOUND` of a rounding
//! tie, counted) and co-simulated with 0 mismatches.

use crate::common::*;
use prost::Message;
use tachyon_common::onnx_builder::{Attr, GraphBuilder};
use tachyon_driver::project::build;
use tachyon_frontend::proto::{data_type, ModelProto, TensorProto};
use tachyon_frontend::{DType, Graph, Op, Tensor};
use tachyon_quantize::{interp, Config};

/// See `float_scales::TIE_BOUND`.
const TIE_BOUND: f64 = 1.0 / 2048.0;

/// Integer initializers added to a built model (the builder writes float32 and int64 only).
#[derive(Default)]
struct Ints(Vec<TensorProto>);

impl Ints {
    fn add(&mut self, name: &str, dt: i32, shape: &[usize], data: &[i64]) -> String {
        let raw: Vec<u8> = match dt {
            data_type::INT8 | data_type::UINT8 => data.iter().map(|&v| v as u8).collect(),
            data_type::INT16 | data_type::UINT16 => data.iter().flat_map(|&v| (v as u16).to_le_bytes()).collect(),
            // Two per byte, the lower index in the lower nibble.
            data_type::INT4 | data_type::UINT4 => {
                data.chunks(2).map(|p| (p[0] as u8 & 0xf) | (p.get(1).map_or(0, |&v| v as u8 & 0xf) << 4)).collect()
            }
            data_type::INT32 => data.iter().flat_map(|&v| (v as i32).to_le_bytes()).collect(),
            _ => panic!("type {dt}"),
        };
        self.0.push(TensorProto {
            dims: shape.iter().map(|&d| d as i64).collect(),
            data_type: dt,
            name: name.to_string(),
            raw_data: raw,
            ..Default::default()
        });
        name.to_string()
    }
    fn into_model(self, g: GraphBuilder, opset: i64) -> Vec<u8> {
        let mut m: ModelProto = g.build(&[("", opset)]);
        if let Some(gr) = m.graph.as_mut() {
            gr.initializer.extend(self.0);
        }
        m.encode_to_vec()
    }
}

fn odd_scale(r: &mut Lcg, e: i32) -> f32 {
    (1.0 + r.int(1, 1 << 20) as f32 / (1 << 21) as f32) * 2f32.powi(e)
}

/// QuantizeLinear then DequantizeLinear of `x` with a per-tensor scale and zero point.
fn qdq(g: &mut GraphBuilder, ints: &mut Ints, x: &str, y: &str, s: f32, z: i64, dt: i32) -> String {
    let sc = g.initializer_f32(&format!("{y}_s"), &[], &[s]);
    let zp = ints.add(&format!("{y}_z"), dt, &[], &[z]);
    let q = g.node("QuantizeLinear", "", &format!("{y}_Q"), &[x, &sc, &zp], &[&format!("{y}_q")], vec![]);
    g.node("DequantizeLinear", "", &format!("{y}_DQ"), &[&q, &sc, &zp], &[y], vec![])
}

/// A per-axis int8 weight behind DequantizeLinear (`axis` of `shape`).
fn dq_weight(
    g: &mut GraphBuilder,
    ints: &mut Ints,
    r: &mut Lcg,
    y: &str,
    shape: &[usize],
    axis: usize,
) -> (String, Vec<f32>) {
    dq_weight_of(g, ints, r, y, shape, axis, (data_type::INT8, -127, 127), -8)
}

/// A per-axis weight of integer type `dt` with codes in `[lo, hi]` behind DequantizeLinear
/// (`axis` of `shape`), scales `odd_scale(e)`, zero points 0.
#[allow(clippy::too_many_arguments)]
fn dq_weight_of(
    g: &mut GraphBuilder,
    ints: &mut Ints,
    r: &mut Lcg,
    y: &str,
    shape: &[usize],
    axis: usize,
    (dt, lo, hi): (i32, i64, i64),
    e: i32,
) -> (String, Vec<f32>) {
    let n: usize = shape.iter().product();
    let w: Vec<i64> = (0..n).map(|_| r.int(lo, hi)).collect();
    let s: Vec<f32> = (0..shape[axis]).map(|_| odd_scale(r, e)).collect();
    let wq = ints.add(&format!("{y}_int"), dt, shape, &w);
    let sc = g.initializer_f32(&format!("{y}_s"), &[shape[axis]], &s);
    let zp = ints.add(&format!("{y}_z"), dt, &[shape[axis]], &vec![0; shape[axis]]);
    let out = g.node(
        "DequantizeLinear",
        "",
        &format!("{y}_DQ"),
        &[&wq, &sc, &zp],
        &[y],
        vec![Attr::int("axis", axis as i64)],
    );
    (out, s)
}

/// `Relu(MatMul(x, w) + b)` with an int32 bias behind a per-column DequantizeLinear whose scales
/// are `sx · s_w[j]` (onnxruntime's bias form), `w` of `s_w.len()` columns.
fn dense_relu(g: &mut GraphBuilder, ints: &mut Ints, r: &mut Lcg, x: &str, sx: f32, w: &str, s_w: &[f32]) -> String {
    let n = s_w.len();
    let b: Vec<i64> = (0..n).map(|_| r.int(-4000, 4000)).collect();
    let bq = ints.add("b1_int", data_type::INT32, &[n], &b);
    let bs: Vec<f32> = s_w.iter().map(|&s| s * sx).collect();
    let bsc = g.initializer_f32("b1_s", &[n], &bs);
    let bz = ints.add("b1_z", data_type::INT32, &[n], &vec![0; n]);
    let b1 = g.node("DequantizeLinear", "", "b1_DQ", &[&bq, &bsc, &bz], &["b1"], vec![Attr::int("axis", 0)]);
    let h = g.node("MatMul", "", "fc1", &[x, w], &["h1"], vec![]);
    let h = g.node("Add", "", "fc1_bias", &[&h, &b1], &["h1b"], vec![]);
    g.node("Relu", "", "relu", &[&h], &["a1"], vec![])
}

/// onnxruntime's QDQ format: x → Q/DQ(uint8, odd zero point) → MatMul(DQ int8 per-column) +
/// DQ int32 bias → Relu → Q/DQ(uint8) → MatMul(DQ int8) → Q/DQ(int8, zero point −3).
fn qdq_mlp(seed: u64) -> Vec<u8> {
    let mut r = Lcg(seed);
    let mut g = GraphBuilder::new("qdq_mlp");
    let mut ints = Ints::default();
    let x = g.input("x", &[1, 12]);
    g.output("y", &[1, 4]);
    let sx = odd_scale(&mut r, -6);
    let xq = qdq(&mut g, &mut ints, &x, "xdq", sx, 131, data_type::UINT8);
    let (w1, s1) = dq_weight(&mut g, &mut ints, &mut r, "w1", &[12, 8], 1);
    let a = dense_relu(&mut g, &mut ints, &mut r, &xq, sx, &w1, &s1);
    let sa = odd_scale(&mut r, -4);
    let aq = qdq(&mut g, &mut ints, &a, "a1dq", sa, 0, data_type::UINT8);
    let (w2, _) = dq_weight(&mut g, &mut ints, &mut r, "w2", &[8, 4], 1);
    let h2 = g.node("MatMul", "", "fc2", &[&aq, &w2], &["h2"], vec![]);
    let so = odd_scale(&mut r, -3);
    qdq(&mut g, &mut ints, &h2, "y", so, -3, data_type::INT8);
    ints.into_model(g, 13)
}

/// The opset-21 integer types: x → Q/DQ(int16, zero point −7) → MatMul(DQ int4 per-column,
/// an odd number of elements so the last byte is half used) + bias → Relu → Q/DQ(uint16, zero
/// point 3) → MatMul(DQ uint4, per-tensor zero point 8) → Q/DQ(int16).
fn qdq_int16_int4_mlp(seed: u64) -> Vec<u8> {
    let mut r = Lcg(seed);
    let mut g = GraphBuilder::new("qdq_int16_int4");
    let mut ints = Ints::default();
    let x = g.input("x", &[1, 9]);
    g.output("y", &[1, 3]);
    let sx = odd_scale(&mut r, -12);
    let xq = qdq(&mut g, &mut ints, &x, "xdq", sx, -7, data_type::INT16);
    let (w1, s1) = dq_weight_of(&mut g, &mut ints, &mut r, "w1", &[9, 5], 1, (data_type::INT4, -8, 7), -3);
    let a = dense_relu(&mut g, &mut ints, &mut r, &xq, sx, &w1, &s1);
    let aq = qdq(&mut g, &mut ints, &a, "a1dq", odd_scale(&mut r, -11), 3, data_type::UINT16);
    let w2: Vec<i64> = (0..5 * 3).map(|_| r.int(0, 15)).collect();
    let w2 = ints.add("w2_int", data_type::UINT4, &[5, 3], &w2);
    let s2 = g.initializer_f32("w2_s", &[], &[odd_scale(&mut r, -2)]);
    let z2 = ints.add("w2_z", data_type::UINT4, &[], &[8]);
    let w2 = g.node("DequantizeLinear", "", "w2_DQ", &[&w2, &s2, &z2], &["w2"], vec![]);
    let h2 = g.node("MatMul", "", "fc2", &[&aq, &w2], &["h2"], vec![]);
    qdq(&mut g, &mut ints, &h2, "y", odd_scale(&mut r, -3), 0, data_type::INT16);
    ints.into_model(g, 21)
}

/// onnxruntime's QOperator format: x → QuantizeLinear(uint8, zp 129) → QLinearMatMul(int8
/// per-column weights) → QLinearMatMul(uint8 weights with a zero point) → DequantizeLinear.
fn qlinear_mlp(seed: u64) -> Vec<u8> {
    let mut r = Lcg(seed);
    let mut g = GraphBuilder::new("qlinear_mlp");
    let mut ints = Ints::default();
    let x = g.input("x", &[1, 10]);
    g.output("y", &[1, 3]);
    let sx = g.initializer_f32("sx", &[], &[odd_scale(&mut r, -6)]);
    let zx = ints.add("zx", data_type::UINT8, &[], &[129]);
    let xq = g.node("QuantizeLinear", "", "x_Q", &[&x, &sx, &zx], &["xq"], vec![]);
    let w1: Vec<i64> = (0..60).map(|_| r.int(-127, 127)).collect();
    let w1 = ints.add("w1", data_type::INT8, &[10, 6], &w1);
    let s1: Vec<f32> = (0..6).map(|_| odd_scale(&mut r, -8)).collect();
    let s1 = g.initializer_f32("w1_s", &[6], &s1);
    let z1 = ints.add("w1_z", data_type::INT8, &[6], &[0; 6]);
    let sh = g.initializer_f32("sh", &[], &[odd_scale(&mut r, -5)]);
    let zh = ints.add("zh", data_type::UINT8, &[], &[7]);
    let h = g.node("QLinearMatMul", "", "fc1", &[&xq, &sx, &zx, &w1, &s1, &z1, &sh, &zh], &["h"], vec![]);
    let w2: Vec<i64> = (0..18).map(|_| r.int(0, 255)).collect();
    let w2 = ints.add("w2", data_type::UINT8, &[6, 3], &w2);
    let s2 = g.initializer_f32("w2_s", &[], &[odd_scale(&mut r, -8)]);
    let z2 = ints.add("w2_z", data_type::UINT8, &[], &[120]);
    let sy = g.initializer_f32("sy", &[], &[odd_scale(&mut r, -4)]);
    let zy = ints.add("zy", data_type::UINT8, &[], &[100]);
    let y = g.node("QLinearMatMul", "", "fc2", &[&h, &sh, &zh, &w2, &s2, &z2, &sy, &zy], &["yq"], vec![]);
    g.node("DequantizeLinear", "", "y_DQ", &[&y, &sy, &zy], &["y"], vec![]);
    ints.into_model(g, 13)
}

/// QLinearConv (int8 per-channel weights, int32 bias) → MaxPool on uint8 → DequantizeLinear.
fn qlinear_cnn(seed: u64) -> Vec<u8> {
    let mut r = Lcg(seed);
    let mut g = GraphBuilder::new("qlinear_cnn");
    let mut ints = Ints::default();
    let x = g.input("x", &[1, 2, 5, 5]);
    g.output("y", &[1, 3, 2, 2]);
    let sx = g.initializer_f32("sx", &[], &[odd_scale(&mut r, -6)]);
    let zx = ints.add("zx", data_type::UINT8, &[], &[128]);
    let xq = g.node("QuantizeLinear", "", "x_Q", &[&x, &sx, &zx], &["xq"], vec![]);
    let w: Vec<i64> = (0..54).map(|_| r.int(-127, 127)).collect();
    let w = ints.add("w", data_type::INT8, &[3, 2, 3, 3], &w);
    let sw: Vec<f32> = (0..3).map(|_| odd_scale(&mut r, -8)).collect();
    let sw = g.initializer_f32("w_s", &[3], &sw);
    let zw = ints.add("w_z", data_type::INT8, &[3], &[0; 3]);
    let sy = g.initializer_f32("sy", &[], &[odd_scale(&mut r, -4)]);
    let zy = ints.add("zy", data_type::UINT8, &[], &[3]);
    let b: Vec<i64> = (0..3).map(|_| r.int(-3000, 3000)).collect();
    let b = ints.add("b", data_type::INT32, &[3], &b);
    let c = g.node(
        "QLinearConv",
        "",
        "conv",
        &[&xq, &sx, &zx, &w, &sw, &zw, &sy, &zy, &b],
        &["c"],
        vec![Attr::ints("kernel_shape", &[3, 3]), Attr::ints("pads", &[1, 1, 1, 1])],
    );
    let p = g.node(
        "MaxPool",
        "",
        "pool",
        &[&c],
        &["p"],
        vec![Attr::ints("kernel_shape", &[2, 2]), Attr::ints("strides", &[2, 2])],
    );
    g.node("DequantizeLinear", "", "y_DQ", &[&p, &sy, &zy], &["y"], vec![]);
    ints.into_model(g, 13)
}

/// MatMulInteger / ConvInteger, as dynamic-quantization graphs write them after a static
/// QuantizeLinear: the int32 accumulator → Cast → Mul(scale) → Add(bias) (float epilogue).
fn integer_ops(seed: u64, conv: bool) -> Vec<u8> {
    let mut r = Lcg(seed);
    let mut g = GraphBuilder::new(if conv { "conv_integer" } else { "matmul_integer" });
    let mut ints = Ints::default();
    let (x, out) =
        if conv { (g.input("x", &[1, 1, 4, 4]), vec![1, 2, 2, 2]) } else { (g.input("x", &[1, 8]), vec![1, 5]) };
    g.output("y", &out.iter().map(|&d| d as i64).collect::<Vec<_>>());
    let s = odd_scale(&mut r, -5);
    let sx = g.initializer_f32("sx", &[], &[s]);
    let zx = ints.add("zx", data_type::UINT8, &[], &[77]);
    let xq = g.node("QuantizeLinear", "", "x_Q", &[&x, &sx, &zx], &["xq"], vec![]);
    // onnxruntime's ConvInteger takes one weight zero point; MatMulInteger one per column.
    let (wshape, zw_len) = if conv { (vec![2, 1, 3, 3], 1) } else { (vec![8, 5], 5) };
    let n: usize = wshape.iter().product();
    let w: Vec<i64> = (0..n).map(|_| r.int(0, 255)).collect();
    let w = ints.add("w", data_type::UINT8, &wshape, &w);
    let zw: Vec<i64> = (0..zw_len).map(|_| r.int(100, 150)).collect();
    let zw = ints.add("w_z", data_type::UINT8, if conv { &[] } else { &[5] }, &zw);
    let a = if conv {
        g.node("ConvInteger", "", "acc", &[&xq, &w, &zx, &zw], &["a"], vec![Attr::ints("kernel_shape", &[3, 3])])
    } else {
        g.node("MatMulInteger", "", "acc", &[&xq, &w, &zx, &zw], &["a"], vec![])
    };
    let f = g.node("Cast", "", "cast", &[&a], &["af"], vec![Attr::int("to", 1)]);
    let ws = g.initializer_f32("ws", &[], &[s * odd_scale(&mut r, -7)]);
    let m = g.node("Mul", "", "scale", &[&f, &ws], &["m"], vec![]);
    let b = g.initializer_f32("bias", &[], &[0.3125]);
    g.node("Add", "", "bias_add", &[&m, &b], &["y"], vec![]);
    ints.into_model(g, 13)
}

/// Whether some (rewritten) Quant input is within `TIE_BOUND` of a tie on sample `x`.
fn near_tie(g: &Graph, x: &Tensor) -> bool {
    let vals = tachyon_frontend::eval::run_float_values(g, std::slice::from_ref(x)).unwrap();
    g.nodes.iter().filter(|n| matches!(n.op, Op::Quant { .. })).any(|n| {
        let get = |i: usize| n.input(i).and_then(|v| vals[v.0 as usize].clone()).unwrap();
        let (y, s, z) = (get(0), get(1), get(2));
        y.data.iter().any(|&v| {
            let u = v / s.data[0] + z.data[0];
            (u - (u.floor() + 0.5)).abs() <= TIE_BOUND
        })
    })
}

/// Interpreter = float semantics, onnxruntime equal (`exact`) or equal up to counted near ties,
/// co-simulation with 0 mismatches.
fn check(name: &str, bytes: Vec<u8>, len: usize, n: usize, exact: bool) {
    let dir = scratch(&format!("qdq_{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.onnx"));
    std::fs::write(&path, bytes).unwrap();
    let g = tachyon_frontend::load_model(&path).unwrap();
    let m = tachyon_quantize::lower(&g, &Config::default()).unwrap();
    let shape = g.value(g.inputs[0]).shape.clone().unwrap();
    let mut r = Lcg(len as u64);
    let xs: Vec<Vec<f32>> = (0..n).map(|_| (0..len).map(|_| r.int(-2500, 2500) as f32 / 1000.0).collect()).collect();
    let mut ours = vec![];
    for x in &xs {
        let xf: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let got = interp::evaluate(&m, &xf).unwrap();
        let want = tachyon_frontend::eval::run_float(&g, &[Tensor::new(DType::F32, shape.clone(), xf)]).unwrap();
        assert_eq!(got, want[0].data, "{name}: interpreter vs float semantics on {x:?}");
        ours.push(got.iter().map(|&v| v as f32).collect::<Vec<f32>>());
    }
    if let Some(reference) = reference_outputs(&path, &xs.concat(), len, Reference::Ort) {
        let mut ties = 0;
        for ((x, a), b) in xs.iter().zip(&ours).zip(&reference) {
            if a != b {
                let t = Tensor::new(DType::F32, shape.clone(), x.iter().map(|&v| v as f64).collect());
                assert!(!exact && near_tie(&g, &t), "{name}: onnxruntime gives {b:?}, Tachyon {a:?} on {x:?}");
                ties += 1;
            }
        }
        eprintln!("{name}: {} vectors equal to onnxruntime, {ties} near-tie vectors rounded the other way", n - ties);
        assert!(ties * 20 <= n, "{name}: {ties} near ties");
    }
    let prj = dir.join("prj");
    build(&build_options(&path, &prj)).unwrap();
    if cosim_random(&prj, 300).is_none() {
        skip_note!("skipped: co-simulation of {name} (no Verilator)");
    }
}

#[test]
fn qdq_mlp_matches_onnxruntime() {
    check("qdq_mlp", qdq_mlp(3), 12, 300, false);
}

#[test]
fn qdq_int16_and_int4_match_onnxruntime() {
    check("qdq_int16_int4", qdq_int16_int4_mlp(11), 9, 300, false);
}

#[test]
fn qlinear_matmul_is_bit_exact() {
    check("qlinear_mlp", qlinear_mlp(5), 10, 300, true);
}

#[test]
fn qlinear_conv_is_bit_exact() {
    check("qlinear_cnn", qlinear_cnn(7), 50, 200, true);
}

#[test]
fn matmul_integer_and_conv_integer_are_bit_exact() {
    check("matmul_integer", integer_ops(9, false), 8, 300, true);
    check("conv_integer", integer_ops(10, true), 16, 200, true);
}

/// A QuantizeLinear output read by an op that is not QDQ-aware: refused, naming the node.
#[test]
fn integer_tensor_into_float_op_is_refused() {
    let mut g = GraphBuilder::new("bad_qdq");
    let mut ints = Ints::default();
    let x = g.input("x", &[1, 4]);
    g.output("y", &[1, 4]);
    let s = g.initializer_f32("s", &[], &[0.1]);
    let z = ints.add("z", data_type::UINT8, &[], &[3]);
    let q = g.node("QuantizeLinear", "", "q", &[&x, &s, &z], &["xq"], vec![]);
    g.node("Relu", "", "int_relu", &[&q], &["y"], vec![]);
    let dir = scratch("qdq_err");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.onnx");
    std::fs::write(&path, ints.into_model(g, 13)).unwrap();
    let e = tachyon_frontend::load_model(&path).unwrap_err().to_string();
    assert!(e.contains("int_relu") && e.contains("integer tensor 'xq'"), "{e}");
}
