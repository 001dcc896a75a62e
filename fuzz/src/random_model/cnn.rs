//! The convolutional front of a random CNN model (drawn from its own stream, part 400): the
//! input is [1, C, L] or [1, C, H, W] (C ≤ 3, L ≤ 12, H, W ≤ 6), quantized by the input Quant,
//! then 1..2 blocks and a Flatten that hands [1, n] to the dense layers.
//!
//! ```text
//! per block: [Pad(constant, value on the grid, one- or two-sided)]
//!            Conv(k 1..3, stride 1..2, dilation 1..2, pads (one-sided included), group 1 or
//!                 depthwise, Quant(W), [bias: Quant(b) or a raw initializer on the grid])
//!            [Relu | Clip | [Quant] LeakyRelu] Quant(act) [Relu]   (Clip bounds on a grid;
//!                 a LeakyRelu slope off the grid gets a Quant before it)
//!            [MaxPool | AveragePool(count_include_pad 0/1) → Quant]   (kernel, stride, pads)
//! then:      [GlobalAveragePool → Quant | GlobalMaxPool]  (always when the map is large)
//!            Flatten(axis 1)
//! ```

use super::{chance, draw_spec, pick, Gen};
use tachyon_common::onnx_builder::Attr;
use tachyon_common::rng::Rng;

/// Largest flattened feature count handed to the dense layers without a global pool.
const MAX_FLAT: usize = 32;

/// Shape of a CNN model's input (without the batch dimension of 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct CnnInput {
    pub channels: usize,
    /// One (L) or two (H, W) spatial dimensions.
    pub spatial: Vec<usize>,
}

impl CnnInput {
    /// Draws C ≤ 3 (and ≤ `max_width`), then L in 3..=12 or H, W in 2..=6 (bounded by
    /// `2·max_width` and `max_width`, so smaller limits give smaller maps).
    pub fn draw(r: &mut Rng, max_width: usize) -> CnnInput {
        let channels = (1 + r.below(3) as usize).min(max_width);
        let spatial = if chance(r, 0.5) {
            vec![(3 + r.below(10) as usize).min((2 * max_width).max(3))]
        } else {
            (0..2).map(|_| (2 + r.below(5) as usize).min(max_width.max(2))).collect()
        };
        CnnInput { channels, spatial }
    }

    /// `[1, C, spatial…]`.
    pub fn dims(&self) -> Vec<i64> {
        [1, self.channels].iter().chain(&self.spatial).map(|&d| d as i64).collect()
    }
}

/// Output length of a window op along one axis (0 when the window does not fit).
fn out_len(len: usize, k: usize, stride: usize, dil: usize, pb: usize, pe: usize) -> usize {
    let span = dil * (k - 1) + 1;
    let padded = len + pb + pe;
    if padded < span {
        0
    } else {
        (padded - span) / stride + 1
    }
}

/// Kernel, strides, dilations and `[begins…, ends…]` pads of one window op over `dims`, drawn
/// so that every output dimension is at least 1 (pads stay below the kernel, as pooling needs).
struct Window {
    kernel: Vec<usize>,
    strides: Vec<usize>,
    dilations: Vec<usize>,
    pads: Vec<usize>,
}

impl Window {
    fn draw(r: &mut Rng, dims: &[usize], dilate: bool, pad: bool) -> Window {
        let rank = dims.len();
        let mut w = Window { kernel: vec![], strides: vec![], dilations: vec![], pads: vec![0; 2 * rank] };
        for (a, &len) in dims.iter().enumerate() {
            let mut k = 1 + r.below(3) as usize;
            let s = 1 + r.below(2) as usize;
            let mut d = if dilate && chance(r, 0.3) { 2 } else { 1 };
            let (mut pb, mut pe) =
                if pad && chance(r, 0.5) { (r.below(k as u64) as usize, r.below(k as u64) as usize) } else { (0, 0) };
            if out_len(len, k, s, d, pb, pe) == 0 {
                d = 1;
                k = k.min(len + pb + pe).max(1);
                pb = pb.min(k - 1);
                pe = pe.min(k - 1);
            }
            w.kernel.push(k);
            w.strides.push(s);
            w.dilations.push(d);
            w.pads[a] = pb;
            w.pads[rank + a] = pe;
        }
        w
    }

    fn out_dims(&self, dims: &[usize]) -> Vec<usize> {
        let rank = dims.len();
        (0..rank)
            .map(|a| {
                out_len(dims[a], self.kernel[a], self.strides[a], self.dilations[a], self.pads[a], self.pads[rank + a])
            })
            .collect()
    }

    fn ints(v: &[usize]) -> Vec<i64> {
        v.iter().map(|&x| x as i64).collect()
    }

    /// `k[3,2] s[2,1] d[1,2] p[1,0,0,1]` (strides, dilations and pads only when not trivial).
    fn describe(&self) -> String {
        let list = |v: &[usize]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",");
        let mut s = format!("k[{}]", list(&self.kernel));
        if self.strides.iter().any(|&x| x != 1) {
            s += &format!(" s[{}]", list(&self.strides));
        }
        if self.dilations.iter().any(|&x| x != 1) {
            s += &format!(" d[{}]", list(&self.dilations));
        }
        if self.pads.iter().any(|&x| x != 0) {
            s += &format!(" p[{}]", list(&self.pads));
        }
        s
    }
}

/// The feature map being built: channels, spatial dims and grid of the current tensor.
struct Map {
    x: String,
    channels: usize,
    dims: Vec<usize>,
    frac: i32,
}

impl Gen {
    /// A Quant of the map with a fresh spec fitted to the current magnitude.
    fn cnn_quant(&mut self, r: &mut Rng, m: &mut Map, base: &str, p_signed: f64, limit: u32) {
        let mut s = draw_spec(r, 2, 10, limit, p_signed);
        s.fit(self.mag, r.below(8));
        self.desc.push(format!("act {}", s.describe()));
        m.x = self.quant(&m.x, base, &s);
        self.mag = self.mag.min(s.max_abs());
        m.frac = s.frac;
    }

    /// Pad in constant mode (0 or a value on the map's grid) on some spatial sides.
    fn cnn_pad(&mut self, r: &mut Rng, m: &mut Map) {
        let rank = m.dims.len();
        let mut pads = vec![0i64; 2 * (rank + 2)];
        for a in 0..rank {
            pads[2 + a] = r.below(3) as i64;
            pads[rank + 4 + a] = r.below(3) as i64;
        }
        if pads.iter().all(|&p| p == 0) {
            pads[2] = 1;
        }
        let p = self.fresh("pads");
        let p = self.g.initializer_i64(&p, &[pads.len()], &pads);
        let value = if chance(r, 0.5) { 0.0 } else { (r.below(7) as f32 - 3.0) * f32::powi(2.0, -m.frac) };
        let mut ins = vec![m.x.clone(), p];
        if value != 0.0 || chance(r, 0.5) {
            ins.push(self.konst("padv", &[], &[value]));
        }
        let attrs = if chance(r, 0.5) { vec![Attr::string("mode", "constant")] } else { vec![] };
        let refs: Vec<&str> = ins.iter().map(String::as_str).collect();
        self.desc.push(format!("Pad{:?}={value}", pads));
        m.x = self.op("Pad", "", &refs, attrs);
        self.mag = self.mag.max(value.abs() as f64);
        for a in 0..rank {
            m.dims[a] += (pads[2 + a] + pads[rank + 4 + a]) as usize;
        }
    }

    /// One Conv with quantized weights (and bias), its activation and Quant.
    fn cnn_conv(&mut self, r: &mut Rng, m: &mut Map, limit: u32) {
        let cin = m.channels;
        let depthwise = cin > 1 && chance(r, 0.25);
        let (group, cout) =
            if depthwise { (cin, cin * (1 + r.below(2) as usize)) } else { (1, 1 + r.below(3) as usize) };
        let w = Window::draw(r, &m.dims, true, true);
        let taps: usize = w.kernel.iter().product::<usize>() * (cin / group);
        let w_spec = draw_spec(r, 1, 8, limit, 0.85);
        let (lo, hi) = w_spec.range();
        let zero_ok = lo <= 0 && hi >= 0 && !(w_spec.signed && w_spec.bits == 1);
        let w_int: Vec<i64> = (0..cout * taps)
            .map(|_| if chance(r, 0.15) && zero_ok { 0 } else { w_spec.draw_int(r, i64::MAX) })
            .collect();
        let sc = w_spec.scale() as f64;
        let norm = w_int
            .chunks(taps)
            .map(|c| c.iter().map(|&q| (q as f64 * sc).powi(2)).sum::<f64>())
            .fold(0.0, f64::max)
            .sqrt();
        self.mag *= norm;
        let mut wshape = vec![cout, cin / group];
        wshape.extend(&w.kernel);
        let w_f: Vec<f32> = w_int.iter().map(|&q| q as f32 * w_spec.scale()).collect();
        let wq = self.quant_const("cW", &wshape, &w_f, &w_spec);
        let mut ins = vec![m.x.clone(), wq];
        let mut layer = format!("Conv {cin}→{cout} {} w{}", w.describe(), w_spec.describe());
        if group > 1 {
            layer += &format!(" group {group}");
        }
        if chance(r, 0.7) {
            let mut b_spec = draw_spec(r, 2, 16, limit, 0.8);
            if chance(r, 0.5) {
                b_spec.frac = (w_spec.frac + m.frac).clamp(0, 8);
            }
            let cap = ((self.mag / b_spec.scale() as f64) / 4.0).clamp(1.0, 1e9) as i64;
            let b: Vec<f32> = (0..cout).map(|_| b_spec.draw_int(r, cap) as f32 * b_spec.scale()).collect();
            self.mag += b.iter().fold(0.0f64, |a, v| a.max(v.abs() as f64));
            if chance(r, 0.6) {
                ins.push(self.quant_const("cb", &[cout], &b, &b_spec));
                layer += &format!(" b{}", b_spec.describe());
            } else {
                ins.push(self.konst("cb", &[cout], &b));
                layer += " b(raw)";
            }
        }
        let mut attrs = vec![Attr::ints("kernel_shape", &Window::ints(&w.kernel))];
        if w.strides.iter().any(|&s| s != 1) || chance(r, 0.3) {
            attrs.push(Attr::ints("strides", &Window::ints(&w.strides)));
        }
        if w.dilations.iter().any(|&d| d != 1) {
            attrs.push(Attr::ints("dilations", &Window::ints(&w.dilations)));
        }
        if w.pads.iter().any(|&p| p != 0) || chance(r, 0.2) {
            attrs.push(Attr::ints("pads", &Window::ints(&w.pads)));
        }
        if group > 1 || chance(r, 0.1) {
            attrs.push(Attr::int("group", group as i64));
        }
        self.desc.push(layer);
        let refs: Vec<&str> = ins.iter().map(String::as_str).collect();
        m.x = self.op("Conv", "", &refs, attrs);
        m.dims = w.out_dims(&m.dims);
        m.channels = cout;
        let act = r.below(5);
        match act {
            0 | 1 => {
                self.desc.push("Relu".into());
                m.x = self.op("Relu", "", &[&m.x], vec![]);
            }
            2 => {
                let unit = self.near_mag();
                let hi = unit * pick(r, &[0.5f32, 0.75, 1.0, 1.5]);
                let lo = if chance(r, 0.5) { 0.0 } else { -unit * pick(r, &[0.25f32, 0.5, 0.375]) };
                let lo_k = self.konst("clip_lo", &[], &[lo]);
                let hi_k = self.konst("clip_hi", &[], &[hi]);
                self.desc.push(format!("Clip({lo}, {hi})"));
                m.x = if chance(r, 0.3) {
                    self.op("Clip", "", &[&m.x, &lo_k], vec![])
                } else {
                    self.op("Clip", "", &[&m.x, &lo_k, &hi_k], vec![])
                };
                self.mag = self.mag.min(hi.max(-lo) as f64);
            }
            3 => {
                let alpha = pick(r, &[0.125f32, 0.25, 0.3, 0.1, 0.5]);
                if alpha == 0.3 || alpha == 0.1 {
                    // Not a fixed-point slope: the op becomes thresholds of the next Quant, which
                    // needs a narrow input (a Quant right after the Conv).
                    self.cnn_quant(r, m, "lq", 0.8, limit.min(12));
                }
                self.desc.push(format!("LeakyRelu({alpha})"));
                m.x = self.op("LeakyRelu", "", &[&m.x], vec![Attr::float("alpha", alpha)]);
            }
            _ => {}
        }
        self.cnn_quant(r, m, "cq", if act <= 1 { 0.3 } else { 0.8 }, limit);
        if act == 4 && chance(r, 0.5) {
            self.desc.push("Relu".into());
            m.x = self.op("Relu", "", &[&m.x], vec![]);
        }
    }

    /// MaxPool, or AveragePool (count_include_pad 0 or 1) and a Quant.
    fn cnn_pool(&mut self, r: &mut Rng, m: &mut Map, limit: u32) {
        let w = Window::draw(r, &m.dims, false, true);
        let max = chance(r, 0.5);
        let op = if max { "MaxPool" } else { "AveragePool" };
        let mut attrs = vec![Attr::ints("kernel_shape", &Window::ints(&w.kernel))];
        if w.strides.iter().any(|&s| s != 1) || chance(r, 0.3) {
            attrs.push(Attr::ints("strides", &Window::ints(&w.strides)));
        }
        if w.pads.iter().any(|&p| p != 0) {
            attrs.push(Attr::ints("pads", &Window::ints(&w.pads)));
        }
        let mut d = format!("{op} {}", w.describe());
        if !max && chance(r, 0.6) {
            let inc = chance(r, 0.5);
            attrs.push(Attr::int("count_include_pad", inc as i64));
            d += &format!(" count_include_pad {}", inc as i64);
        }
        self.desc.push(d);
        m.x = self.op(op, "", &[&m.x], attrs);
        m.dims = w.out_dims(&m.dims);
        if !max {
            self.cnn_quant(r, m, "pq", 0.8, limit);
        }
    }

    /// The CNN front of the module doc on the quantized input `x` (grid 2^-`frac`); returns the
    /// flattened tensor [1, n], n and the grid of its last quantizer.
    pub(super) fn cnn_front(
        &mut self,
        r: &mut Rng,
        x: &str,
        input: &CnnInput,
        frac: i32,
        limit: u32,
    ) -> (String, usize, i32) {
        let mut m = Map { x: x.to_string(), channels: input.channels, dims: input.spatial.clone(), frac };
        self.desc.push(format!("CNN {}×{:?}", input.channels, input.spatial));
        for _ in 0..1 + r.below(2) {
            if chance(r, 0.2) {
                self.cnn_pad(r, &mut m);
            }
            self.cnn_conv(r, &mut m, limit);
            if chance(r, 0.4) {
                self.cnn_pool(r, &mut m, limit);
            }
        }
        let flat = m.channels * m.dims.iter().product::<usize>();
        if flat > MAX_FLAT || chance(r, 0.3) {
            if chance(r, 0.5) {
                self.desc.push("GlobalAveragePool".into());
                m.x = self.op("GlobalAveragePool", "", &[&m.x], vec![]);
                self.cnn_quant(r, &mut m, "gq", 0.8, limit);
            } else {
                self.desc.push("GlobalMaxPool".into());
                m.x = self.op("GlobalMaxPool", "", &[&m.x], vec![]);
            }
            m.dims.iter_mut().for_each(|d| *d = 1);
        }
        let n = m.channels * m.dims.iter().product::<usize>();
        self.desc.push(format!("Flatten → {n}"));
        let y = self.op("Flatten", "", &[&m.x], vec![Attr::int("axis", 1)]);
        (y, n, m.frac)
    }
}
