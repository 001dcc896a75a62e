//! The dense chain of a random model: per layer (streams 10 + layer for the structure, 100 +
//! layer for weights and biases, 200 + layer for skip connections, 500 + layer for blocks),
//!
//! ```text
//! MatMul(x, Quant(W)) [+ Add(Quant(b))]  or  Gemm(x, Quant(W), Quant(b)) [transB, alpha, beta]
//! [affine op on the grid]
//! hidden: [Relu] Quant(act) | BipolarQuant  [Trunc] [Relu] [float chain → Quant] [layout no-op]
//!         [skip connection [Quant]] [block]
//! last:   Quant(out) [→ Softmax | Sigmoid | float Mul epilogue], or no Quant
//! ```

use super::{chance, draw_spec, non_dyadic, pick, stream, Chain, Gen, QuantSpec};
use tachyon_common::onnx_builder::{Attr, QONNX_DOMAIN};
use tachyon_common::rng::Rng;

/// Where a dense layer sits in the model.
pub(super) struct Layer {
    pub seed: u64,
    /// Position in the dense chain, from 0.
    pub index: usize,
    /// Output width of the product.
    pub n_out: usize,
    /// The output layer.
    pub last: bool,
    /// Before a set model's aggregation (acting on each particle).
    pub pre_agg: bool,
}

/// The knobs of a layer's product, drawn from the layer's stream.
struct DenseSpec {
    gemm: bool,
    trans_b: bool,
    w_spec: QuantSpec,
    has_bias: bool,
    b_spec: QuantSpec,
    /// The bias is 2^-`b_shrink` of the typical product.
    b_shrink: i32,
    alpha: f32,
    beta: f32,
}

impl DenseSpec {
    /// Draws the knobs; a bias on the grid of the product half of the time (`x_frac` is the
    /// grid of the layer's input).
    fn draw(r: &mut Rng, pre_agg: bool, x_frac: i32, bits: u32) -> DenseSpec {
        let gemm = chance(r, 0.5) && !pre_agg;
        let trans_b = gemm && chance(r, 0.5);
        let w_spec = draw_spec(r, 1, 8, bits, 0.85);
        let has_bias = chance(r, 0.8);
        let mut b_spec = draw_spec(r, 1, 16, bits, 0.8);
        if chance(r, 0.5) {
            b_spec.frac = (w_spec.frac + x_frac).clamp(0, 8);
        }
        let b_shrink = 1 + r.below(4) as i32;
        let (alpha, beta) = if gemm && chance(r, 0.25) {
            (pick(r, &[1.0f32, 0.5, 2.0, 0.25]), pick(r, &[1.0f32, 0.5, 2.0]))
        } else {
            (1.0, 1.0)
        };
        DenseSpec { gemm, trans_b, w_spec, has_bias, b_spec, b_shrink, alpha, beta }
    }
}

/// What follows a layer's product, drawn for every layer (hidden or last) so that the stream
/// stays the same whichever branch uses it.
struct Activation {
    relu: bool,
    relu_after: bool,
    bipolar: bool,
    trunc: bool,
    chain: bool,
    layout: bool,
    no_out_quant: bool,
    tail: u64,
    a_spec: QuantSpec,
}

impl Activation {
    /// Draws the choices; the activation quantizer is fitted to the magnitude `mag`.
    fn draw(r: &mut Rng, mag: f64, extras: bool, pre_agg: bool, bits: u32) -> Activation {
        let relu = chance(r, 0.7);
        let relu_after = chance(r, 0.2);
        let bipolar = chance(r, 0.06) && extras;
        let trunc = chance(r, 0.1) && extras;
        let chain = chance(r, 0.15) && extras && !pre_agg;
        let layout = chance(r, 0.15) && extras && !pre_agg;
        let no_out_quant = chance(r, 0.1) && extras;
        let tail = if extras { r.below(16) } else { 99 };
        let mut a_spec = draw_spec(r, 1, 12, bits, if relu { 0.3 } else { 0.8 });
        a_spec.fit(mag, r.below(8));
        Activation { relu, relu_after, bipolar, trunc, chain, layout, no_out_quant, tail, a_spec }
    }
}

impl Gen {
    /// One dense layer of the module doc on `chain`; returns the output's table op (`Softmax` or
    /// `Sigmoid`) when the last layer ends in one.
    pub(super) fn layer(&mut self, l: &Layer, chain: &mut Chain, extras: bool, bits: u32) -> Option<String> {
        let i = l.index as u64;
        // Float scales on the weights of hidden layers only: the last layer's outputs are
        // compared with a float run exactly.
        self.float_ok = !l.last;
        let mut r = stream(l.seed, 10 + i);
        let mut wr = stream(l.seed, 100 + i);
        self.dense(&mut r, &mut wr, l, chain, bits);
        if chance(&mut r, 0.3) && extras && !l.pre_agg {
            chain.x = self.affine(&mut r, &chain.x, l.n_out);
        }
        let mut act = Activation::draw(&mut r, self.mag, extras, l.pre_agg, bits);
        if !l.last {
            chain.x = self.hidden(&mut r, &mut act, std::mem::take(&mut chain.x), l.n_out, bits);
            chain.frac = act.a_spec.frac;
            // Skip connections from their own stream, so models without them keep their bytes.
            let mut sr = stream(l.seed, 200 + i);
            if chance(&mut sr, 0.25) && extras && !l.pre_agg {
                self.skip(&mut sr, chain, bits);
            }
            // Transformer-style blocks from their own stream as well.
            let mut hr = stream(l.seed, 500 + i);
            if extras && !l.pre_agg {
                if let Some((y, w, f)) = self.hidden_block(&mut hr, &chain.x, chain.n, chain.frac, &chain.earlier, bits)
                {
                    (chain.x, chain.n, chain.frac) = (y, w, f);
                }
            }
            if !l.pre_agg {
                chain.earlier.push((chain.x.clone(), chain.n, self.mag));
            }
            None
        } else if !act.no_out_quant {
            let table;
            (chain.x, table) = self.output(&mut r, &chain.x, act.tail, bits);
            table
        } else {
            self.desc.push("out unquantized".into());
            None
        }
    }

    /// The layer's product: MatMul with an optional bias Add (either operand order), or Gemm
    /// (transB, alpha, beta, bias as C), with quantized weights and bias; `chain` then holds the
    /// product, `l.n_out` wide.
    fn dense(&mut self, r: &mut Rng, wr: &mut Rng, l: &Layer, chain: &mut Chain, bits: u32) {
        let (i, n, n_out) = (l.index, chain.n, l.n_out);
        let d = DenseSpec::draw(r, l.pre_agg, chain.frac, bits);
        let (w_spec, b_spec) = (&d.w_spec, &d.b_spec);
        // Weights and biases from their own stream, so a change of widths leaves the rest alone.
        // Some zero weights, where 0 is on the grid (not for bipolar weights).
        let (lo, hi) = w_spec.range();
        let zero_ok = lo <= 0 && hi >= 0 && !(w_spec.signed && w_spec.bits == 1);
        let w_int: Vec<i64> = (0..n * n_out)
            .map(|_| if chance(wr, 0.15) && zero_ok { 0 } else { w_spec.draw_int(wr, i64::MAX) })
            .collect();
        // Typical magnitude of the product: |x| times the largest column norm.
        let norm = (0..n_out)
            .map(|o| (0..n).map(|k| (w_int[k * n_out + o] as f64 * w_spec.scale() as f64).powi(2)).sum::<f64>())
            .fold(0.0, f64::max)
            .sqrt();
        self.mag *= norm * d.alpha as f64;
        let w_flat: Vec<f32> = if d.trans_b {
            (0..n_out * n).map(|k| w_int[(k % n) * n_out + k / n] as f32 * w_spec.scale()).collect()
        } else {
            w_int.iter().map(|&q| q as f32 * w_spec.scale()).collect()
        };
        let w_shape = if d.trans_b { [n_out, n] } else { [n, n_out] };
        let wq = self.quant_const(&format!("W{i}"), &w_shape, &w_flat, w_spec);
        // Biases 2^-1..2^-4 of the typical product.
        let b_cap = ((self.mag / b_spec.scale() as f64) * f64::powi(2.0, -d.b_shrink)).clamp(1.0, 1e9) as i64;
        let bq = d.has_bias.then(|| {
            let b: Vec<f32> = (0..n_out).map(|_| b_spec.draw_int(wr, b_cap) as f32 * b_spec.scale()).collect();
            self.mag += b.iter().fold(0.0f64, |m, v| m.max(v.abs() as f64)) * d.beta as f64;
            self.quant_const(&format!("b{i}"), &[n_out], &b, b_spec)
        });
        let mut layer = format!("{} {n}→{n_out} w{}", if d.gemm { "Gemm" } else { "MatMul" }, w_spec.describe());
        if bq.is_some() {
            layer += &format!(" b{}", b_spec.describe());
        }
        let x = &chain.x;
        chain.x = if d.gemm {
            let mut attrs = vec![];
            if d.trans_b || chance(r, 0.2) {
                attrs.push(Attr::int("transB", d.trans_b as i64));
                layer += if d.trans_b { " transB" } else { "" };
            }
            if d.alpha != 1.0 || d.beta != 1.0 {
                attrs.push(Attr::float("alpha", d.alpha));
                attrs.push(Attr::float("beta", d.beta));
                layer += &format!(" α{} β{}", d.alpha, d.beta);
            }
            match &bq {
                Some(b) => self.op("Gemm", "", &[x, &wq, b], attrs),
                None => self.op("Gemm", "", &[x, &wq], attrs),
            }
        } else {
            let mm = self.op("MatMul", "", &[x, &wq], vec![]);
            match &bq {
                Some(b) if chance(r, 0.3) => self.op("Add", "", &[b, &mm], vec![]),
                Some(b) => self.op("Add", "", &[&mm, b], vec![]),
                None => mm,
            }
        };
        chain.n = n_out;
        self.desc.push(layer);
    }

    /// A hidden layer's activation on `x`, `n_out` wide: [Relu] Quant (or BipolarQuant) [Trunc]
    /// [Relu], then an optional float chain with its Quant and an optional layout no-op.
    /// `act.a_spec` ends as the quantizer of the result.
    fn hidden(&mut self, r: &mut Rng, act: &mut Activation, mut x: String, n_out: usize, bits: u32) -> String {
        if act.relu && !act.relu_after {
            self.desc.push("Relu".into());
            x = self.op("Relu", "", &[&x], vec![]);
        }
        if act.bipolar {
            let s = self.konst("bip_s", &[], &[act.a_spec.scale()]);
            self.desc.push(format!("BipolarQuant/2^-{}", act.a_spec.frac));
            x = self.op("BipolarQuant", QONNX_DOMAIN, &[&x, &s], vec![]);
            self.mag = act.a_spec.scale() as f64;
        } else {
            self.desc.push(format!("act {}", act.a_spec.describe()));
            x = self.act_quant(&x, "act", &act.a_spec, n_out);
            self.mag = self.mag.min(act.a_spec.max_abs());
            if act.trunc {
                x = self.trunc(r, &x, &mut act.a_spec, bits);
            }
        }
        if act.relu && act.relu_after {
            self.desc.push("Relu".into());
            x = self.op("Relu", "", &[&x], vec![]);
        }
        if act.chain {
            x = self.float_chain(r, &x, n_out);
            let mut c_spec = draw_spec(r, 1, 12, bits, 0.7);
            c_spec.fit(self.mag, r.below(8));
            self.desc.push(format!("act {}", c_spec.describe()));
            x = self.quant(&x, "cq", &c_spec);
            self.mag = self.mag.min(c_spec.max_abs());
            act.a_spec = c_spec;
        }
        if act.layout {
            x = self.layout(r, &x, n_out);
        }
        x
    }

    /// A skip connection: Add, Sub or Max with an earlier tensor of the same width, or Concat
    /// with any earlier tensor (either operand order), then sometimes a Quant.
    fn skip(&mut self, sr: &mut Rng, chain: &mut Chain, bits: u32) {
        let (px, pn, pmag) = chain.earlier[sr.below(chain.earlier.len() as u64) as usize].clone();
        let x = &chain.x;
        if pn == chain.n && chance(sr, 0.6) {
            let op = pick(sr, &["Add", "Sub", "Max"]);
            self.desc.push(format!("{op} with an earlier tensor"));
            chain.x =
                if chance(sr, 0.5) { self.op(op, "", &[x, &px], vec![]) } else { self.op(op, "", &[&px, x], vec![]) };
            self.mag = self.mag.max(pmag) * if op == "Max" { 1.0 } else { 1.5 };
        } else {
            self.desc.push(format!("Concat with an earlier tensor of {pn}"));
            chain.x = if chance(sr, 0.5) {
                self.op("Concat", "", &[x, &px], vec![Attr::int("axis", 1)])
            } else {
                self.op("Concat", "", &[&px, x], vec![Attr::int("axis", -1)])
            };
            self.mag = self.mag.max(pmag);
            chain.n += pn;
        }
        if chance(sr, 0.5) {
            let mut s_spec = draw_spec(sr, 2, 12, bits, 0.8);
            s_spec.fit(self.mag, sr.below(8));
            self.desc.push(format!("act {}", s_spec.describe()));
            chain.x = self.quant(&chain.x, "sq", &s_spec);
            self.mag = self.mag.min(s_spec.max_abs());
            chain.frac = s_spec.frac;
        }
    }

    /// The output Quant of the last layer on `x`, then per `tail` a Softmax, a Sigmoid, a float
    /// Mul epilogue or nothing; returns the output and its table op.
    fn output(&mut self, r: &mut Rng, x: &str, tail: u64, bits: u32) -> (String, Option<String>) {
        let mut o_spec = draw_spec(r, 1, 16, bits, 0.8);
        o_spec.fit(self.mag, r.below(8));
        self.desc.push(format!("out {}", o_spec.describe()));
        let x = self.quant(x, "yq", &o_spec);
        match tail {
            0 => {
                self.desc.push("Softmax".into());
                (self.op("Softmax", "", &[&x], vec![Attr::int("axis", -1)]), Some("Softmax".to_string()))
            }
            1 => {
                self.desc.push("Sigmoid".into());
                (self.op("Sigmoid", "", &[&x], vec![]), Some("Sigmoid".to_string()))
            }
            2 => {
                let c = non_dyadic(r);
                let k = self.konst("epi", &[], &[c]);
                self.desc.push(format!("epilogue Mul({c})"));
                (self.op("Mul", "", &[&x, &k], vec![]), None)
            }
            _ => (x, None),
        }
    }
}
