//! ONNX QDQ and integer ops (onnxruntime's static quantization, PyTorch exporters), rewritten
//! before import into ops the compiler already has.
//!
//! An integer tensor `q` with zero point `z` is carried as the float tensor of its **centered
//! codes** `q − z` (exact small integers); its scale stays a float multiplication after it:
//!
//! | ONNX                                   | rewritten to                                              |
//! |----------------------------------------|-----------------------------------------------------------|
//! | `QuantizeLinear(x, s, z)`              | `Div(x, s)` → `Quant(·, 1, 0, b)` → `Clip(qmin−z, qmax−z)` |
//! | `DequantizeLinear(c, s, z)`, `c` computed | `Mul(c − z, s)` (float32, as onnxruntime)              |
//! | `DequantizeLinear(W, s, z)`, `W` constant | `Mul(W − z, s)` with `s` in binary64: exact weights    |
//! | `MatMulInteger(a, B, za, zb)`          | `MatMul(a − za, B − zb)`: the exact integer accumulator   |
//! | `ConvInteger(x, W, zx, zw)`            | `Conv(x − zx, W − zw)`                                    |
//! | `QLinearMatMul` / `QLinearConv`        | the integer accumulator (+ int32 bias), then `Mul(M)` in float32 with `M = (sa·sb)/sy` computed in float32 as onnxruntime does, `Quant(·, 1, 0, b)`, `Clip` |
//!
//! `QuantizeLinear` divides in float32 and rounds half to even *before* adding the zero point
//! (a scale-1 `Quant` then `Clip` to the centered range), exactly as onnxruntime; a Q→DQ pair is
//! therefore bit-exact on the model input and, after an accumulation, the exact requantization
//! of the model's constants (see the README's "Float scales and QDQ"). Layout ops (Reshape,
//! Transpose, Flatten, MaxPool, …) pass centered codes through. What does not fit is refused
//! with the node named: per-axis quantization of computed tensors, zero points that differ
//! between a tensor's producer and its consumer, integer tensors read by other ops.

use crate::error::{FrontendError, NodeRef, Result};
use crate::proto::{data_type, AttributeProto, GraphProto, NodeProto, TensorProto};
use crate::tensor::{decode_tensor, Tensor};
use std::collections::HashMap;
use std::path::Path;

const QONNX: &str = "qonnx.custom_op.general";
/// The ops this pass rewrites.
const OPS: [&str; 6] =
    ["QuantizeLinear", "DequantizeLinear", "MatMulInteger", "ConvInteger", "QLinearMatMul", "QLinearConv"];
/// Ops that move or select integer codes without computing on them.
const LAYOUT: [&str; 11] = [
    "Reshape",
    "Flatten",
    "Transpose",
    "Squeeze",
    "Unsqueeze",
    "Identity",
    "MaxPool",
    "Slice",
    "Gather",
    "Concat",
    "GlobalMaxPool",
];

/// Whether a graph has anything for this pass.
pub fn has_qdq(gp: &GraphProto) -> bool {
    gp.node.iter().any(|n| (n.domain.is_empty() || n.domain == "ai.onnx") && OPS.contains(&n.op_type.as_str()))
}

/// The integer type of a zero point: (qmin, qmax, bits, signed).
fn int_type(dt: i32) -> Option<(f64, f64, f64, bool)> {
    Some(match dt {
        data_type::UINT8 => (0.0, 255.0, 8.0, false),
        data_type::INT8 => (-128.0, 127.0, 8.0, true),
        data_type::UINT16 => (0.0, 65535.0, 16.0, false),
        data_type::INT16 => (-32768.0, 32767.0, 16.0, true),
        data_type::UINT4 => (0.0, 15.0, 4.0, false),
        data_type::INT4 => (-8.0, 7.0, 4.0, true),
        _ => return None,
    })
}

struct Rewriter<'a> {
    path: &'a Path,
    out: GraphProto,
    /// Constants by name, with their ONNX element type.
    consts: HashMap<String, (Tensor, i32)>,
    /// Centered-code tensors: their zero point (one value, per tensor) and element type.
    codes: HashMap<String, (f64, i32)>,
    outputs: Vec<String>,
    /// Graph inputs, and `x / s` values by the tensor `x` they divide.
    inputs: Vec<String>,
    divided: HashMap<String, String>,
    fresh: usize,
}

/// Rewrites the QDQ and integer ops of `gp` (see the module doc); `None` when it has none.
pub fn rewrite(gp: &GraphProto, path: &Path, model_dir: &Path) -> Result<Option<GraphProto>> {
    if !has_qdq(gp) {
        return Ok(None);
    }
    let mut r = Rewriter {
        path,
        out: GraphProto { node: vec![], ..gp.clone() },
        consts: HashMap::new(),
        codes: HashMap::new(),
        outputs: gp.output.iter().map(|o| o.name.clone()).collect(),
        inputs: gp.input.iter().map(|o| o.name.clone()).collect(),
        divided: HashMap::new(),
        fresh: 0,
    };
    for t in &gp.initializer {
        let v = decode_tensor(t, model_dir).map_err(|e| FrontendError::Tensor {
            path: path.to_path_buf(),
            tensor: t.name.clone(),
            error: Box::new(e),
        })?;
        r.consts.insert(t.name.clone(), (v, t.data_type));
    }
    for n in &gp.node {
        if n.op_type == "Constant" {
            if let Some(t) = n.attribute.iter().find(|a| a.name == "value").and_then(|a| a.t.as_ref()) {
                if let (Ok(v), Some(o)) = (decode_tensor(t, model_dir), n.output.first()) {
                    r.consts.insert(o.clone(), (v, t.data_type));
                }
            }
        }
    }
    for n in &gp.node {
        r.node(n)?;
    }
    Ok(Some(r.out))
}

fn attr_i(n: &NodeProto, name: &str, default: i64) -> i64 {
    n.attribute.iter().find(|a| a.name == name).map_or(default, |a| a.i)
}

fn tensor_proto(name: &str, dims: &[usize], data: &[f64], double: bool) -> TensorProto {
    TensorProto {
        name: name.to_string(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: if double { data_type::DOUBLE } else { data_type::FLOAT },
        float_data: if double { vec![] } else { data.iter().map(|&v| v as f32).collect() },
        double_data: if double { data.to_vec() } else { vec![] },
        ..Default::default()
    }
}

impl Rewriter<'_> {
    fn err(&self, n: &NodeProto, what: impl Into<String>) -> FrontendError {
        FrontendError::Node {
            path: self.path.to_path_buf(),
            node: NodeRef { name: n.name.clone(), op: n.op_type.clone() },
            what: what.into(),
        }
    }

    fn konst(&self, name: &str) -> Option<&(Tensor, i32)> {
        self.consts.get(name)
    }

    /// Input `i` of `n` as a constant, or an error naming it.
    fn need(&self, n: &NodeProto, i: usize, what: &str) -> Result<(Tensor, i32)> {
        n.input
            .get(i)
            .filter(|s| !s.is_empty())
            .and_then(|s| self.konst(s).cloned())
            .ok_or_else(|| self.err(n, format!("the {what} (input {i}) must be a constant initializer")))
    }

    /// The optional zero point at input `i`: (values, element type); absent means 0 of `default`.
    fn zero_point(&self, n: &NodeProto, i: usize, default: i32) -> Result<(Tensor, i32)> {
        match n.input.get(i).filter(|s| !s.is_empty()) {
            None => Ok((Tensor::scalar(crate::tensor::DType::Int, 0.0), default)),
            Some(_) => self.need(n, i, "zero point"),
        }
    }

    fn add_const(&mut self, base: &str, dims: &[usize], data: &[f64], double: bool) -> String {
        self.fresh += 1;
        let name = format!("{base}__qdq{}", self.fresh);
        self.out.initializer.push(tensor_proto(&name, dims, data, double));
        self.consts.insert(
            name.clone(),
            (
                Tensor::new(
                    if double { crate::tensor::DType::F64 } else { crate::tensor::DType::F32 },
                    dims.to_vec(),
                    data.to_vec(),
                ),
                if double { data_type::DOUBLE } else { data_type::FLOAT },
            ),
        );
        name
    }

    fn fresh_name(&mut self, base: &str) -> String {
        self.fresh += 1;
        format!("{base}__qdq{}", self.fresh)
    }

    fn emit(&mut self, op: &str, domain: &str, name: &str, inputs: &[&str], output: &str, attrs: Vec<AttributeProto>) {
        self.out.node.push(NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.to_string()],
            name: name.to_string(),
            op_type: op.to_string(),
            domain: domain.to_string(),
            attribute: attrs,
            ..Default::default()
        });
    }

    /// One value of a per-tensor parameter (all elements equal), or an error.
    fn single(&self, n: &NodeProto, t: &Tensor, what: &str) -> Result<f64> {
        let v = t.data.first().copied().unwrap_or(0.0);
        if t.data.iter().any(|&x| x != v) {
            return Err(self.err(
                n,
                format!("a per-axis {what} on a computed tensor is not supported; quantize activations per tensor"),
            ));
        }
        Ok(v)
    }

    /// `x` (centered codes or floats) rounded to the integer type of `dt`, centered on `z`:
    /// `Quant(·, 1, 0, bits)` (half to even), then `Clip(qmin − z, qmax − z)` when `z ≠ 0`
    /// (clamping after the rounding is the same as before it: the bounds are integers), written
    /// to `y`.
    fn round_to_codes(&mut self, n: &NodeProto, x: &str, z: f64, dt: i32, y: &str) -> Result<()> {
        let (qmin, qmax, bits, signed) = int_type(dt)
            .ok_or_else(|| self.err(n, format!("zero-point type {dt} is not an 8-, 16- or 4-bit integer type")))?;
        let (qbits, qsigned) = if z != 0.0 { (bits + 1.0, true) } else { (bits, signed) };
        let one = self.add_const(y, &[], &[1.0], false);
        let zero = self.add_const(y, &[], &[0.0], false);
        let b = self.add_const(y, &[], &[qbits], false);
        let attrs = vec![
            AttributeProto { name: "signed".into(), i: qsigned as i64, r#type: 2, ..Default::default() },
            AttributeProto { name: "narrow".into(), i: 0, r#type: 2, ..Default::default() },
            AttributeProto { name: "rounding_mode".into(), s: b"ROUND".to_vec(), r#type: 3, ..Default::default() },
        ];
        // A graph output keeps its ONNX meaning (the integers `q`, not `q − z`).
        let is_output = self.outputs.iter().any(|o| o == y) && z != 0.0;
        let centered = if is_output { self.fresh_name(y) } else { y.to_string() };
        if z != 0.0 {
            let lo = self.add_const(y, &[], &[qmin - z], false);
            let hi = self.add_const(y, &[], &[qmax - z], false);
            let r = self.fresh_name(y);
            if self.inputs.iter().any(|i| i == x) || self.inputs.iter().any(|i| self.divided.get(x) == Some(i)) {
                // On the model input the float prologue ends at the Quant: clamp the codes after it.
                self.emit("Quant", QONNX, &n.name, &[x, &one, &zero, &b], &r, attrs);
                self.emit("Clip", "", &format!("{}/clip", n.name), &[&r, &lo, &hi], &centered, vec![]);
            } else {
                // After an accumulation the clamp joins the float chain the Quant resolves.
                self.emit("Clip", "", &format!("{}/clip", n.name), &[x, &lo, &hi], &r, vec![]);
                self.emit("Quant", QONNX, &n.name, &[&r, &one, &zero, &b], &centered, attrs);
            }
        } else {
            self.emit("Quant", QONNX, &n.name, &[x, &one, &zero, &b], &centered, attrs);
        }
        if is_output {
            let zc = self.add_const(y, &[], &[z], false);
            self.emit("Add", "", &format!("{}/zero_point", n.name), &[&centered, &zc], y, vec![]);
        } else {
            self.codes.insert(y.to_string(), (z, dt));
        }
        Ok(())
    }

    /// The centered-code input `i` of `n` (checked against the consumer's zero point `z`).
    fn code_input(&self, n: &NodeProto, i: usize, z: f64) -> Result<String> {
        let name = n.input.get(i).cloned().unwrap_or_default();
        match self.codes.get(&name) {
            Some(&(zq, _)) if zq == z => Ok(name),
            Some(&(zq, _)) => Err(self.err(n, format!("input '{name}' has zero point {zq} where it was quantized but {z} here; use one zero point"))),
            None => Err(self.err(n, format!("input '{name}' must come from a QuantizeLinear or QLinear op (an integer tensor Tachyon can follow)"))),
        }
    }

    /// Constant integers `w` minus their zero point `z` (per axis `axis` of `w`), as floats.
    fn centered_const(&mut self, n: &NodeProto, w: &Tensor, z: &Tensor, axis: usize, base: &str) -> Result<String> {
        let zs = per_axis(w, z, axis).map_err(|m| self.err(n, m))?;
        let data: Vec<f64> = w.data.iter().zip(&zs).map(|(&v, &z)| v - z).collect();
        let wide = data.iter().any(|v| v.abs() > (1 << 24) as f64);
        Ok(self.add_const(base, &w.shape, &data, wide))
    }

    fn node(&mut self, n: &NodeProto) -> Result<()> {
        let default_domain = n.domain.is_empty() || n.domain == "ai.onnx";
        let op = n.op_type.as_str();
        if !default_domain || !OPS.contains(&op) {
            if default_domain && LAYOUT.contains(&op) {
                if let Some(&z) = n.input.first().and_then(|i| self.codes.get(i)) {
                    for o in &n.output {
                        self.codes.insert(o.clone(), z);
                    }
                }
            } else if let Some(i) = n.input.iter().find(|i| self.codes.contains_key(*i)) {
                return Err(self.err(n, format!("reads the integer tensor '{i}' (a QuantizeLinear or QLinear output); only DequantizeLinear, the QLinear/Integer ops and layout ops may read integer tensors")));
            }
            self.out.node.push(n.clone());
            return Ok(());
        }
        let y = n.output.first().cloned().unwrap_or_default();
        match op {
            "QuantizeLinear" => {
                if attr_i(n, "block_size", 0) != 0 {
                    return Err(self.err(n, "blocked quantization (block_size) is not supported"));
                }
                let (s, _) = self.need(n, 1, "scale")?;
                let out_dt = attr_i(n, "output_dtype", data_type::UINT8 as i64) as i32;
                let (z, dt) = self.zero_point(n, 2, out_dt)?;
                let x = n.input[0].clone();
                let s0 = self.single(n, &s, "scale")?;
                let z0 = self.single(n, &z, "zero point")?;
                let sc = self.add_const(&y, &[], &[s0], false);
                let d = self.fresh_name(&y);
                self.emit("Div", "", &format!("{}/div", n.name), &[&x, &sc], &d, vec![]);
                self.divided.insert(d.clone(), x.clone());
                self.round_to_codes(n, &d, z0, dt, &y)
            }
            "DequantizeLinear" => {
                let (s, _) = self.need(n, 1, "scale")?;
                let x = n.input[0].clone();
                if let Some((w, wdt)) = self.konst(&x).cloned() {
                    let (z, _) = self.zero_point(n, 2, wdt)?;
                    // The axis matters only to per-axis parameters (a scalar's default axis 1
                    // may not exist in a rank-1 tensor).
                    let axis = if s.data.len() <= 1 && z.data.len() <= 1 {
                        0
                    } else {
                        norm_axis(attr_i(n, "axis", 1), w.shape.len()).map_err(|m| self.err(n, m))?
                    };
                    let c = self.centered_const(n, &w, &z, axis, &y)?;
                    let ss = per_axis_shape(&w, &s, axis).map_err(|m| self.err(n, m))?;
                    let sc = self.add_const(&y, &ss, &s.data, true);
                    self.emit("Mul", "", &n.name, &[&c, &sc], &y, vec![]);
                    return Ok(());
                }
                let (z, _) = self.zero_point(n, 2, data_type::UINT8)?;
                let z0 = self.single(n, &z, "zero point")?;
                let s0 = self.single(n, &s, "scale")?;
                let c = if self.codes.contains_key(&x) {
                    self.code_input(n, 0, z0)?
                } else if z0 != 0.0 {
                    let zc = self.add_const(&y, &[], &[z0], false);
                    let c = self.fresh_name(&y);
                    self.emit("Sub", "", &format!("{}/zero_point", n.name), &[&x, &zc], &c, vec![]);
                    c
                } else {
                    x
                };
                // (q − z)·s in float32, as onnxruntime: the codes are exact in float32.
                let cf = self.fresh_name(&y);
                let to =
                    AttributeProto { name: "to".into(), i: data_type::FLOAT as i64, r#type: 2, ..Default::default() };
                self.emit("Cast", "", &format!("{}/cast", n.name), &[&c], &cf, vec![to]);
                let sc = self.add_const(&y, &[], &[s0], false);
                self.emit("Mul", "", &n.name, &[&cf, &sc], &y, vec![]);
                Ok(())
            }
            "MatMulInteger" | "ConvInteger" => {
                let (za, _) = self.zero_point(n, 2, data_type::UINT8)?;
                let za = self.single(n, &za, "zero point")?;
                let a = self.code_input(n, 0, za)?;
                let (w, wdt) = self.need(n, 1, "weight")?;
                let (zw, _) = self.zero_point(n, 3, wdt)?;
                let axis = if op == "ConvInteger" { 0 } else { w.shape.len().saturating_sub(1) };
                let wc = self.centered_const(n, &w, &zw, axis, &y)?;
                let (o, attrs) = if op == "ConvInteger" { ("Conv", n.attribute.clone()) } else { ("MatMul", vec![]) };
                self.emit(o, "", &n.name, &[&a, &wc], &y, attrs);
                Ok(())
            }
            _ => self.qlinear(n, &y),
        }
    }

    /// QLinearMatMul / QLinearConv: exact integer accumulation, then onnxruntime's float32
    /// requantization `round(float(A)·M) + zy` with `M = (sa·sb)/sy` in float32.
    fn qlinear(&mut self, n: &NodeProto, y: &str) -> Result<()> {
        let conv = n.op_type == "QLinearConv";
        let (sa, _) = self.need(n, 1, "input scale")?;
        let (za, _) = self.zero_point(n, 2, data_type::UINT8)?;
        let (w, wdt) = self.need(n, 3, "weight")?;
        let (sw, _) = self.need(n, 4, "weight scale")?;
        let (zw, _) = self.zero_point(n, 5, wdt)?;
        let (sy, _) = self.need(n, 6, "output scale")?;
        let (zy, ydt) = self.zero_point(n, 7, data_type::UINT8)?;
        let (sa, za, sy, zy) = (
            self.single(n, &sa, "input scale")?,
            self.single(n, &za, "input zero point")?,
            self.single(n, &sy, "output scale")?,
            self.single(n, &zy, "output zero point")?,
        );
        let a = self.code_input(n, 0, za)?;
        let axis = if conv { 0 } else { w.shape.len().saturating_sub(1) };
        let wc = self.centered_const(n, &w, &zw, axis, y)?;
        let acc = self.fresh_name(y);
        if conv {
            let mut ins = vec![a.clone(), wc.clone()];
            if let Some(b) = n.input.get(8).filter(|s| !s.is_empty()) {
                let (bt, _) =
                    self.konst(b).cloned().ok_or_else(|| self.err(n, "the bias must be a constant initializer"))?;
                let wide = bt.data.iter().any(|v| v.abs() > (1 << 24) as f64);
                ins.push(self.add_const(y, &bt.shape, &bt.data, wide));
            }
            let refs: Vec<&str> = ins.iter().map(|s| s.as_str()).collect();
            self.emit("Conv", "", &format!("{}/conv", n.name), &refs, &acc, n.attribute.clone());
        } else {
            self.emit("MatMul", "", &format!("{}/matmul", n.name), &[&a, &wc], &acc, vec![]);
        }
        // The multiplier per output channel, in float32 as onnxruntime computes it.
        let m: Vec<f64> = sw.data.iter().map(|&s| ((sa as f32 * s as f32) / sy as f32) as f64).collect();
        let mshape = if m.len() == 1 {
            vec![]
        } else if conv {
            let mut s = vec![m.len()];
            s.extend(std::iter::repeat_n(1, w.shape.len().saturating_sub(2)));
            s
        } else {
            vec![m.len()]
        };
        let mc = self.add_const(y, &mshape, &m, false);
        let scaled = self.fresh_name(y);
        self.emit("Mul", "", &format!("{}/requant", n.name), &[&acc, &mc], &scaled, vec![]);
        self.round_to_codes(n, &scaled, zy, ydt, y)
    }
}

fn norm_axis(axis: i64, rank: usize) -> std::result::Result<usize, String> {
    let a = if axis < 0 { axis + rank as i64 } else { axis };
    if rank == 0 {
        return Ok(0);
    }
    if a < 0 || a >= rank as i64 {
        return Err(format!("axis {axis} is out of range for rank {rank}"));
    }
    Ok(a as usize)
}

/// The shape that broadcasts a per-axis parameter `p` (scalar or 1-D along `axis`) over `w`.
fn per_axis_shape(w: &Tensor, p: &Tensor, axis: usize) -> std::result::Result<Vec<usize>, String> {
    if p.data.len() == 1 {
        return Ok(vec![]);
    }
    if w.shape.get(axis) != Some(&p.data.len()) {
        return Err(format!("{} per-axis parameters for axis {axis} of shape {:?}", p.data.len(), w.shape));
    }
    let mut s = vec![1; w.shape.len()];
    s[axis] = p.data.len();
    Ok(s)
}

/// A per-axis parameter broadcast to every element of `w`.
fn per_axis(w: &Tensor, p: &Tensor, axis: usize) -> std::result::Result<Vec<f64>, String> {
    if p.data.len() == 1 {
        return Ok(vec![p.data[0]; w.data.len()]);
    }
    per_axis_shape(w, p, axis)?;
    let inner: usize = w.shape[axis + 1..].iter().product();
    Ok((0..w.data.len()).map(|i| p.data[(i / inner) % p.data.len()]).collect())
}
