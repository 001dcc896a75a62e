//! Transformer-style blocks on a hidden activation x [1, n] of a random model (drawn from their
//! own stream per layer, part 500 + layer), each followed by a Quant:
//!
//! ```text
//! LayerNormalization (opset 17, axis −1, Scale and B): on [1, n], or on [1, r, k] rows
//!                    (Reshape there and back)
//! MatMul of two activations: x·xᵀ or xᵀ·x of Reshape(x, [a, b]), or A·B of two Slices of x
//!                    reshaped to [a, b] and [b, c] (rank 2 or 3)
//! Mul of two activations: x ⊙ x or x ⊙ an earlier tensor of the same width
//! Softmax(axis −1) of Reshape(Quant(x), [1, r, k]), r, k ≥ 2 (a softmax per row), Reshape back
//! Attention head: h = Reshape(x, [1, t, e]), t ≥ 2; Quant(softmax(Quant(h·hᵀ))) · h, Reshape back
//! ```

use super::{chance, draw_spec, pick, Gen};
use tachyon_common::onnx_builder::Attr;
use tachyon_common::rng::Rng;

/// Largest width a product block may produce.
const MAX_PRODUCT: usize = 16;

/// `(r, k)` with r·k = n, r, k ≥ 2, drawn among the factorizations of `n`.
fn rows(r: &mut Rng, n: usize) -> Option<(usize, usize)> {
    let f: Vec<usize> = (2..n).filter(|d| n.is_multiple_of(*d) && n / d >= 2).collect();
    (!f.is_empty()).then(|| {
        let d = pick(r, &f);
        (d, n / d)
    })
}

impl Gen {
    fn reshape(&mut self, x: &str, dims: &[i64]) -> String {
        let s = self.fresh("shape");
        let s = self.g.initializer_i64(&s, &[dims.len()], dims);
        self.op("Reshape", "", &[x, &s], vec![])
    }

    /// Elements `start..end` of x [1, n] (Slice on axis 1, opset-13 inputs).
    fn slice(&mut self, x: &str, start: usize, end: usize) -> String {
        let ins: Vec<String> = [("sl_s", start as i64), ("sl_e", end as i64), ("sl_a", 1)]
            .iter()
            .map(|&(b, v)| {
                let k = self.fresh(b);
                self.g.initializer_i64(&k, &[1], &[v])
            })
            .collect();
        self.op("Slice", "", &[x, &ins[0], &ins[1], &ins[2]], vec![])
    }

    /// The Quant after a block, fitted to the current magnitude; returns its output and grid.
    fn block_quant(&mut self, r: &mut Rng, x: &str, limit: u32, p_signed: f64) -> (String, i32) {
        let mut s = draw_spec(r, 2, 12, limit, p_signed);
        s.fit(self.mag, r.below(8));
        self.desc.push(format!("act {}", s.describe()));
        let q = self.quant(x, "bq", &s);
        self.mag = self.mag.min(s.max_abs());
        (q, s.frac)
    }

    fn layernorm(&mut self, r: &mut Rng, x: &str, n: usize, frac: i32) -> String {
        let grouped = if chance(r, 0.4) { rows(r, n) } else { None };
        let k = grouped.map_or(n, |(_, k)| k);
        let gamma: Vec<f32> =
            (0..k).map(|_| (1 + r.below(12)) as f32 / 8.0 * if chance(r, 0.1) { -1.0 } else { 1.0 }).collect();
        let beta: Vec<f32> = (0..k).map(|_| (r.below(9) as f32 - 4.0) / 16.0).collect();
        let eps = pick(r, &[1e-5f32, 1e-3, f32::powi(2.0, -2 * frac.clamp(0, 10))]);
        let g = self.konst("ln_g", &[k], &gamma);
        let b = self.konst("ln_b", &[k], &beta);
        let m = |v: &[f32]| v.iter().fold(0.0f64, |a, c| a.max(c.abs() as f64));
        self.mag = m(&gamma) * 1.5 + m(&beta);
        self.opset = self.opset.max(17);
        let attrs = || vec![Attr::int("axis", -1), Attr::float("epsilon", eps)];
        match grouped {
            Some((rr, k)) => {
                self.desc.push(format!("LayerNorm rows {rr}×{k} ε{eps}"));
                let y = self.reshape(x, &[1, rr as i64, k as i64]);
                let y = self.op("LayerNormalization", "", &[&y, &g, &b], attrs());
                self.reshape(&y, &[1, n as i64])
            }
            None => {
                self.desc.push(format!("LayerNorm {n} ε{eps}"));
                self.op("LayerNormalization", "", &[x, &g, &b], attrs())
            }
        }
    }

    /// MatMul of two activations; returns the product [1, w] and w.
    fn act_matmul(&mut self, r: &mut Rng, x: &str, n: usize) -> Option<(String, usize)> {
        let divisors: Vec<usize> = (1..=n).filter(|d| n.is_multiple_of(*d)).collect();
        if chance(r, 0.5) || n < 2 {
            // x·xᵀ ([a, a]) or xᵀ·x ([b, b]) of Reshape(x, [a, b]).
            let a = pick(r, &divisors);
            let b = n / a;
            let left = chance(r, 0.5);
            let w = if left { a * a } else { b * b };
            if w > MAX_PRODUCT {
                return None;
            }
            self.desc.push(format!("MatMul {} of [{a},{b}]", if left { "x·xᵀ" } else { "xᵀ·x" }));
            let m = self.reshape(x, &[a as i64, b as i64]);
            let t = self.op("Transpose", "", &[&m], vec![Attr::ints("perm", &[1, 0])]);
            let p =
                if left { self.op("MatMul", "", &[&m, &t], vec![]) } else { self.op("MatMul", "", &[&t, &m], vec![]) };
            self.mag = self.mag * self.mag * (if left { b } else { a } as f64).sqrt();
            return Some((self.reshape(&p, &[1, w as i64]), w));
        }
        // A [a, b] · B [b, c] from two slices of x.
        let b = 1 + r.below(2) as usize;
        let a = 1 + r.below(3) as usize;
        let c = 1 + r.below(3) as usize;
        if a * b + b * c > n {
            return None;
        }
        let rank3 = chance(r, 0.5);
        self.desc.push(format!("MatMul [{a},{b}]·[{b},{c}] of slices{}", if rank3 { " (rank 3)" } else { "" }));
        let dims = |p: usize, q: usize| if rank3 { vec![1, p as i64, q as i64] } else { vec![p as i64, q as i64] };
        let sa = self.slice(x, 0, a * b);
        let ma = self.reshape(&sa, &dims(a, b));
        let sb = self.slice(x, a * b, a * b + b * c);
        let mb = self.reshape(&sb, &dims(b, c));
        let p = self.op("MatMul", "", &[&ma, &mb], vec![]);
        self.mag = self.mag * self.mag * (b as f64).sqrt();
        Some((self.reshape(&p, &[1, (a * c) as i64]), a * c))
    }

    /// Softmax per row of Reshape(Quant(x), [1, r, k]) and the Quant of the probabilities.
    fn act_softmax(&mut self, r: &mut Rng, x: &str, n: usize, limit: u32) -> Option<(String, i32)> {
        let (rr, k) = rows(r, n)?;
        // A coarse grid before the softmax keeps its exp table small.
        let mut s = draw_spec(r, 2, 8, limit, 0.8);
        s.fit(self.mag, r.below(8));
        s.frac = s.frac.min(4);
        self.desc.push(format!("act {}", s.describe()));
        let q = self.quant(x, "smq", &s);
        self.desc.push(format!("Softmax rows {rr}×{k}"));
        let y = self.reshape(&q, &[1, rr as i64, k as i64]);
        let axis = if chance(r, 0.5) { -1 } else { 2 };
        let y = self.op("Softmax", "", &[&y], vec![Attr::int("axis", axis)]);
        let y = self.reshape(&y, &[1, n as i64]);
        let mut o = draw_spec(r, 2, 10, limit, 0.2);
        o.frac = (o.bits as i32 - o.signed as i32 - r.below(2) as i32).clamp(0, 8);
        self.desc.push(format!("act {}", o.describe()));
        self.mag = 0.5;
        Some((self.quant(&y, "pq", &o), o.frac))
    }

    /// A self-attention head on h = Reshape(x, [1, t, e]): scores h·hᵀ → Quant → Softmax per row
    /// → Quant → ·h. Returns the output [1, n].
    fn attention(&mut self, r: &mut Rng, x: &str, n: usize, limit: u32) -> Option<String> {
        let tokens: Vec<usize> = (2..=n).filter(|t| n.is_multiple_of(*t) && t * t <= MAX_PRODUCT).collect();
        if tokens.is_empty() {
            return None;
        }
        let t = pick(r, &tokens);
        let e = n / t;
        self.desc.push(format!("attention head [{t},{e}]"));
        let h = self.reshape(x, &[1, t as i64, e as i64]);
        let kt = self.op("Transpose", "", &[&h], vec![Attr::ints("perm", &[0, 2, 1])]);
        let scores = self.op("MatMul", "", &[&h, &kt], vec![]);
        let x_mag = self.mag;
        self.mag = self.mag * self.mag * (e as f64).sqrt();
        let mut sq = draw_spec(r, 2, 8, limit, 0.8);
        sq.fit(self.mag, r.below(8));
        sq.frac = sq.frac.min(4);
        self.desc.push(format!("act {}", sq.describe()));
        let sq = self.quant(&scores, "sq", &sq);
        let a = self.op("Softmax", "", &[&sq], vec![Attr::int("axis", -1)]);
        let mut o = draw_spec(r, 2, 10, limit, 0.2);
        o.frac = (o.bits as i32 - o.signed as i32 - r.below(2) as i32).clamp(0, 8);
        self.desc.push(format!("act {}", o.describe()));
        let aq = self.quant(&a, "aq", &o);
        let y = self.op("MatMul", "", &[&aq, &h], vec![]);
        // Each row is a weighted mean of h's rows (weights ≈ a distribution).
        self.mag = x_mag * 1.2;
        Some(self.reshape(&y, &[1, n as i64]))
    }

    /// With some probability, one block of the module doc on x [1, n] (grid 2^-`frac`);
    /// `earlier` holds tensors a Mul may pair it with (name, width, magnitude). Returns the
    /// block's output, width and grid.
    pub(super) fn hidden_block(
        &mut self,
        r: &mut Rng,
        x: &str,
        n: usize,
        frac: i32,
        earlier: &[(String, usize, f64)],
        limit: u32,
    ) -> Option<(String, usize, i32)> {
        match r.below(28) {
            0 | 1 if n >= 2 => {
                let y = self.layernorm(r, x, n, frac);
                let (q, f) = self.block_quant(r, &y, limit, 0.9);
                Some((q, n, f))
            }
            2..=4 => {
                let (y, w) = self.act_matmul(r, x, n)?;
                let (q, f) = self.block_quant(r, &y, limit, 0.8);
                Some((q, w, f))
            }
            5 => {
                let same: Vec<&(String, usize, f64)> = earlier.iter().filter(|e| e.1 == n).collect();
                let (px, pmag) = match same.is_empty() || chance(r, 0.3) {
                    true => (x.to_string(), self.mag),
                    false => {
                        let e = pick(r, &same);
                        (e.0.clone(), e.2)
                    }
                };
                self.desc.push(format!("Mul with {}", if px == x { "itself" } else { "an earlier tensor" }));
                let y = if chance(r, 0.5) {
                    self.op("Mul", "", &[x, &px], vec![])
                } else {
                    self.op("Mul", "", &[&px, x], vec![])
                };
                self.mag *= pmag;
                let (q, f) = self.block_quant(r, &y, limit, 0.8);
                Some((q, n, f))
            }
            6 | 7 => {
                let (q, f) = self.act_softmax(r, x, n, limit)?;
                Some((q, n, f))
            }
            8 => {
                let y = self.attention(r, x, n, limit)?;
                let (q, f) = self.block_quant(r, &y, limit, 0.8);
                Some((q, n, f))
            }
            _ => None,
        }
    }
}
