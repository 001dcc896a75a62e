//! Lowering of each quantized-IR layer kind to netlist operations (one file per family).

pub mod cse;
pub mod fold;
pub mod linear;
pub mod misc;
pub mod norm;
pub mod phases;
pub mod requant;
pub mod reuse;
pub mod softmax;
pub mod stream;

use crate::pipeline::{Builder, Val};
use tachyon_quantize::config::Strategy;
use tachyon_quantize::fixed::bits_for;
use tachyon_quantize::qir::LayerKind;
use tachyon_quantize::Elem;
use tachyon_quantize::QModel;
use tachyon_rtl::{Addend, Expr, Fabric, Gated};

/// Lowers one layer; `xs` are the input values, `out` the output element types, `strategy` how a
/// linear layer multiplies by its weights.
pub fn lower_layer(b: &mut Builder, kind: &LayerKind, xs: &[Val], out: &[Elem], strategy: Strategy) -> Vec<Val> {
    let ys: Vec<Val> = match kind {
        LayerKind::Linear { rows, bias } => linear::lower_linear(b, xs, rows, bias, strategy),
        LayerKind::Requant(rs) => xs
            .iter()
            .zip(rs)
            .zip(out)
            .map(|((&x, r), e)| {
                misc::requant_after_relu(b, x, r).unwrap_or_else(|| requant::requant(b, x, r, e.lo, e.hi))
            })
            .collect(),
        LayerKind::Relu => xs.iter().map(|&x| misc::relu(b, x)).collect(),
        LayerKind::Threshold(ss) => xs.iter().zip(ss).map(|(&x, s)| misc::steps(b, x, s)).collect(),
        LayerKind::Lookup(t) => xs.iter().map(|&x| misc::lookup(b, x, t)).collect(),
        LayerKind::Softmax(s) => softmax::softmax(b, xs, s),
        LayerKind::Gather(src) => src.iter().map(|&j| xs[j as usize]).collect(),
        LayerKind::LayerNorm(s) => norm::layernorm(b, xs, s),
        LayerKind::Product(pairs) => {
            pairs.iter().map(|&(a, c)| product_with(b, xs[a as usize], xs[c as usize], strategy)).collect()
        }
        LayerKind::Max(sets) => sets
            .iter()
            .map(|set| softmax::tree(b, set.iter().map(|&j| xs[j as usize]).collect(), &mut softmax::max2))
            .collect(),
    };
    narrow_all(b, ys, out)
}

/// Whether layer `li` of `m` is a ReLU whose output one requantization reads and nothing else:
/// that requantization then goes before the ReLU's multiplexer ([`misc::requant_after_relu`]),
/// which selects among fewer bits. (With two readers it would take two multiplexers.)
pub fn relu_feeds_requant(m: &QModel, li: usize) -> bool {
    let l = &m.layers[li];
    let reader = match m.readers(l.output)[..] {
        [r] => Some(&m.layers[r]),
        _ => None,
    };
    matches!(l.kind, LayerKind::Relu)
        && m.output != l.output
        && reader.is_some_and(|r| matches!(r.kind, LayerKind::Requant(_)) && r.inputs.len() == 1)
}

/// `x · y` of two computed values: a constant multiply (adder graph) when one is a known
/// constant, otherwise a multiplier (DSP48E2 or LUTs, as synthesis decides by width).
pub(crate) fn product(b: &mut Builder, x: Val, y: Val) -> Val {
    product_inner(b, x, y)
}

/// LUTs a DSP slice is worth when `auto` chooses between the two (the price `tachyon
/// decompose` uses too).
pub const DSP_LUTS: u64 = 100;

/// Largest `width(x) · width(y)` that `auto` builds from LUTs: such a multiplier takes fewer
/// LUTs than the ~100 a DSP slice is worth (the price `tachyon decompose` uses), and no
/// DSP-sized pipeline.
pub const LUT_PRODUCT_BITS: u32 = 100;

/// A product layer's `x · y` with the layer's strategy: `adders` — and `auto` when the operands
/// are narrow ([`LUT_PRODUCT_BITS`]) — builds the multiplier from LUTs (partial products of the
/// narrower operand's bits, summed by an adder tree); `dsp`, and `auto` on wide operands, leave
/// the multiply to a DSP48E2 (or to synthesis for tiny widths).
pub(crate) fn product_with(b: &mut Builder, x: Val, y: Val, strategy: Strategy) -> Val {
    let narrow = x.width() * y.width() <= LUT_PRODUCT_BITS;
    let luts = strategy == Strategy::Adders || (strategy == Strategy::Auto && narrow);
    if luts && x.lo != x.hi && y.lo != y.hi {
        return lut_multiply(b, x, y);
    }
    product_inner(b, x, y)
}

/// `x · y` from LUTs: `Σ_j y_j · (x << j)` over the bits of the narrower operand, the top bit
/// of a signed one weighing `−2^(w−1)`; each partial product is an AND (a multiplexer with 0),
/// the sum an adder tree sized by interval analysis. On UltraScale the rows go in pairs
/// `(y_j ? x : 0) ± (y_{j+1} ? 2x : 0)` onto gated adders ([`Expr::GatedAdd`]), whose LUTs hold
/// the ANDs, and an odd row count's last row is the gated third addend of a ternary adder over
/// the last two pairs ([`Expr::Add3Gated`]; with one pair, a gated adder): no partial product
/// costs LUTs of its own.
fn lut_multiply(b: &mut Builder, x: Val, y: Val) -> Val {
    let (x, y) = if y.width() <= x.width() { (x, y) } else { (y, x) };
    let w = y.width();
    let (lo, hi) = product_range((x.lo, x.hi), (y.lo, y.hi));
    let bit = |b: &mut Builder, j: u32| b.op("ybit", &[y], 0, 1, 0.0, |s| Expr::Slice { src: s[0], lo: j });
    let neg = |j: u32| y.signed() && j == w - 1;
    // `y_j ? x : 0`, negated for a signed top bit, as a range.
    let (xl, xh) = (x.lo.min(0), x.hi.max(0));
    let row = |j: u32| if neg(j) { (-xh, -xl) } else { (xl, xh) };
    // `y_j ? (x << j) : 0` as a multiplexer (an AND), for the portable form and a lone row.
    let and_row = |b: &mut Builder, j: u32| {
        let (g, zero) = (bit(b, j), b.constant(0));
        let (lo, hi) = ((x.lo << j).min(0), (x.hi << j).max(0));
        let sx = if j == 0 { x } else { b.op("xsh", &[x], x.lo << j, x.hi << j, 0.0, |s| Expr::Shl(s[0], j)) };
        b.op("pp", &[g, sx, zero], lo, hi, crate::delay::mux(), |s| Expr::Mux { sel: s[0], t: s[1], f: s[2] })
    };
    // The terms of the sum and their coefficients.
    let mut terms: Vec<(Val, i128)> = vec![];
    if b.m.fabric == Fabric::UltraScale {
        for j in (0..w.saturating_sub(1)).step_by(2) {
            let (g0, g1) = (bit(b, j), bit(b, j + 1));
            let ((l0, h0), (l1, h1)) = (row(j), row(j + 1));
            let (l, h) = (l0 + 2 * l1, h0 + 2 * h1);
            let n1 = neg(j + 1);
            let pair = b.op("pp2", &[g0, x, g1], l, h, crate::delay::add(bits_for(l, h)), |s| {
                Expr::GatedAdd([
                    Gated { gate: s[0], term: Addend { sig: s[1], shift: 0, neg: false } },
                    Gated { gate: s[2], term: Addend { sig: s[1], shift: 1, neg: n1 } },
                ])
            });
            terms.push((pair, 1 << j));
        }
        if w % 2 == 1 {
            // The last row, gated inside the adder that takes the last pair(s).
            let j = w - 1;
            let (lr, hr) = row(j);
            let nr = neg(j);
            let shift_of = |k: i128| k.trailing_zeros();
            let top = if terms.len() >= 2 {
                let (q, kq) = terms.pop().expect("two pairs");
                let (p, kp) = terms.pop().expect("two pairs");
                let g = bit(b, j);
                let (sq, sr) = (shift_of(kq) - shift_of(kp), j - shift_of(kp));
                let (l, h) = (p.lo + (q.lo << sq) + (lr << sr), p.hi + (q.hi << sq) + (hr << sr));
                let t = b.op("pp3", &[p, q, x, g], l, h, crate::delay::add3(bits_for(l, h)), |s| Expr::Add3Gated {
                    t: [
                        Addend { sig: s[0], shift: 0, neg: false },
                        Addend { sig: s[1], shift: sq, neg: false },
                        Addend { sig: s[2], shift: sr, neg: nr },
                    ],
                    gate: s[3],
                });
                (t, kp)
            } else if let Some((p, kp)) = terms.pop() {
                let g = bit(b, j);
                let one = b.constant(1);
                let sr = j - shift_of(kp);
                let (l, h) = (p.lo + (lr << sr), p.hi + (hr << sr));
                let t = b.op("pp3", &[one, p, g, x], l, h, crate::delay::add(bits_for(l, h)), |s| {
                    Expr::GatedAdd([
                        Gated { gate: s[0], term: Addend { sig: s[1], shift: 0, neg: false } },
                        Gated { gate: s[2], term: Addend { sig: s[3], shift: sr, neg: nr } },
                    ])
                });
                (t, kp)
            } else {
                (and_row(b, 0), if nr { -1 } else { 1 })
            };
            terms.push(top);
        }
    } else {
        // Portable: each row an AND of the shifted operand (the constant 0 made first, which
        // keeps the netlist's signal order).
        b.constant(0);
        for j in 0..w {
            terms.push((and_row(b, j), if neg(j) { -1 } else { 1 }));
        }
    }
    let parts: Vec<Val> = terms.iter().map(|t| t.0).collect();
    let row: Vec<(u32, i128)> = terms.iter().enumerate().map(|(k, &(_, c))| (k as u32, c)).collect();
    let p = linear::lower_linear(b, &parts, &[row], &[0], Strategy::Adders)[0];
    requant::narrow(b, p, lo.max(p.lo), hi.min(p.hi))
}

/// The interval of `x · y` for `x ∈ [a.0, a.1]`, `y ∈ [c.0, c.1]`: the hull of the corners.
pub(crate) fn product_range(a: (i128, i128), c: (i128, i128)) -> (i128, i128) {
    let k = [a.0 * c.0, a.0 * c.1, a.1 * c.0, a.1 * c.1];
    (k.into_iter().min().unwrap_or(0), k.into_iter().max().unwrap_or(0))
}

fn product_inner(b: &mut Builder, x: Val, y: Val) -> Val {
    let (lo, hi) = product_range((x.lo, x.hi), (y.lo, y.hi));
    if lo == hi {
        return b.constant(lo);
    }
    if x.lo == x.hi || y.lo == y.hi {
        let (k, v) = if x.lo == x.hi { (x.lo, y) } else { (y.lo, x) };
        return linear::lower_linear(b, &[v], &[vec![(0, k)]], &[0], Strategy::Auto)[0];
    }
    b.multiply(x, y, lo, hi)
}

/// Every value lies in its element's interval: narrows wires that the hardware sized wider.
pub fn narrow_all(b: &mut Builder, ys: Vec<Val>, out: &[Elem]) -> Vec<Val> {
    ys.into_iter().zip(out).map(|(y, e)| requant::narrow(b, y, e.lo.max(y.lo), e.hi.min(y.hi))).collect()
}
