//! The reference interpreter compiled for throughput (`tachyon.Project.predict`, millions of
//! inferences): the same integers as [`crate::interp::run`], computed in `i64` where the
//! verified element bounds prove nothing can overflow, with dense layers as `i16` matrices
//! (a dot product the compiler vectorizes) when weights and inputs fit. Layers it does not
//! specialize, and any layer whose bounds do not fit, go through [`interp::eval_layer`] on
//! `i128`: the plan is an evaluation order and a data layout, never a second semantics.

use crate::fixed::{bits_for, Overflow};
use crate::interp;
use crate::qir::{LayerKind, QModel};
use crate::round::Round;

/// Largest magnitude a value may reach in the `i64` paths.
const I64_SAFE: i128 = 1 << 62;

/// How one layer is computed.
enum Step {
    /// `y_r = b_r + Σ w[r][j]·x_j`, `w` row-major over all `n` inputs, `i32` accumulation.
    DenseI16 {
        n: usize,
        w: Vec<i16>,
        bias: Vec<i64>,
    },
    /// Sparse rows in `i64` (CSR).
    SparseI64 {
        ptr: Vec<u32>,
        col: Vec<u32>,
        coef: Vec<i64>,
        bias: Vec<i64>,
    },
    /// Requantizations without a divisor, as shifts with rounding in `i64`.
    Requant(Vec<Rq>),
    Relu,
    Gather(Vec<u32>),
    /// The interpreter's own evaluation on `i128`.
    Generic(LayerKind),
}

/// One requantization `x · 2^(to − from)` rounded and saturated or wrapped, in `i64`.
#[derive(Clone, Copy)]
struct Rq {
    /// Right shift (`from − to` > 0) or left shift (negated).
    shift: i32,
    round: Round,
    lo: i64,
    hi: i64,
    /// `Some((width, signed))`: wrap instead of saturating.
    wrap: Option<(u32, bool)>,
}

impl Rq {
    #[inline]
    fn apply(&self, v: i64) -> i64 {
        let y = if self.shift <= 0 {
            v << -self.shift
        } else {
            let s = self.shift as u32;
            let q = v >> s;
            let r = v - (q << s);
            let half = 1i64 << (s - 1);
            let up = match self.round {
                Round::Floor => false,
                Round::Ceil => r > 0,
                Round::ToZero => r > 0 && v < 0,
                Round::HalfUp => r >= half,
                Round::HalfDown => r > half,
                Round::HalfEven => r > half || (r == half && q & 1 == 1),
                Round::HalfAway => r > half || (r == half && v >= 0),
                Round::HalfToZero => r > half || (r == half && v < 0),
            };
            q + up as i64
        };
        match self.wrap {
            None => y.clamp(self.lo, self.hi),
            Some((w, _)) if w >= 64 => y,
            Some((w, signed)) => {
                let m = y & ((1i64 << w) - 1);
                if signed && m >= 1i64 << (w - 1) {
                    m - (1i64 << w)
                } else {
                    m
                }
            }
        }
    }
}

/// The `i64` form of requantizations of inputs `xe`, when no intermediate can overflow.
fn requant(rs: &[crate::qir::Requant], xe: &[crate::fixed::Elem]) -> Option<Step> {
    let mut out = Vec::with_capacity(rs.len());
    for (r, e) in rs.iter().zip(xe) {
        let shift = r.from_frac.checked_sub(r.to_frac)?;
        if r.div != 1 || shift >= 62 || shift <= -62 {
            return None;
        }
        if shift < 0 && mag(e.lo, e.hi).checked_shl((-shift) as u32).is_none_or(|v| v >= I64_SAFE) {
            return None;
        }
        let wrap = match r.overflow {
            Overflow::Sat | Overflow::SatSym => None,
            Overflow::Wrap => Some((bits_for(r.lo, r.hi), r.lo < 0)),
        };
        let (lo, hi) = (r.lo.clamp(-I64_SAFE, I64_SAFE) as i64, r.hi.clamp(-I64_SAFE, I64_SAFE) as i64);
        out.push(Rq { shift, round: r.round, lo, hi, wrap });
    }
    Some(Step::Requant(out))
}

/// A compiled [`QModel`] (owns what it needs; build once, run many times).
pub struct Plan {
    /// Per layer: its input tensors, its output tensor and how it is computed.
    layers: Vec<(Vec<usize>, usize, Step)>,
    input: usize,
    output: usize,
    tensors: usize,
}

/// Reusable buffers of [`Plan::run`] (one per thread).
#[derive(Default)]
pub struct Scratch {
    vals: Vec<Vec<i64>>,
    x: Vec<i64>,
    x16: Vec<i16>,
    wide: Vec<i128>,
}

/// Largest magnitude of an element's interval.
fn mag(lo: i128, hi: i128) -> i128 {
    lo.unsigned_abs().max(hi.unsigned_abs()).min(i128::MAX as u128) as i128
}

impl Plan {
    /// Compiles `m`, or `None` when some tensor's bounds do not fit `i64` (use the interpreter).
    pub fn new(m: &QModel) -> Option<Plan> {
        if m.tensors.iter().flat_map(|t| &t.elems).any(|e| mag(e.lo, e.hi) >= I64_SAFE) {
            return None;
        }
        let layers = m
            .layers
            .iter()
            .map(|l| {
                let inputs: Vec<usize> = l.inputs.iter().map(|t| t.0 as usize).collect();
                let xe = m.layer_input_elems(l);
                let step = match &l.kind {
                    LayerKind::Linear { rows, bias } => {
                        linear(rows, bias, &xe).unwrap_or_else(|| Step::Generic(l.kind.clone()))
                    }
                    LayerKind::Requant(rs) => requant(rs, &xe).unwrap_or_else(|| Step::Generic(l.kind.clone())),
                    LayerKind::Relu => Step::Relu,
                    LayerKind::Gather(src) => Step::Gather(src.clone()),
                    k => Step::Generic(k.clone()),
                };
                (inputs, l.output.0 as usize, step)
            })
            .collect();
        Some(Plan { layers, input: m.input.0 as usize, output: m.output.0 as usize, tensors: m.tensors.len() })
    }

    /// The output integers of one input vector (the hardware bus codes), as [`interp::run`].
    pub fn run(&self, s: &mut Scratch, input: &[i128]) -> Vec<i128> {
        s.vals.resize_with(self.tensors, Vec::new);
        let inp = &mut s.vals[self.input];
        inp.clear();
        inp.extend(input.iter().map(|&v| v as i64));
        for (inputs, out, step) in &self.layers {
            // The layer's operand: its inputs concatenated (borrowed when there is one).
            s.x.clear();
            for &t in inputs {
                s.x.extend_from_slice(&s.vals[t]);
            }
            let mut y = std::mem::take(&mut s.vals[*out]);
            y.clear();
            match step {
                Step::DenseI16 { n, w, bias } => {
                    s.x16.clear();
                    s.x16.extend(s.x.iter().map(|&v| v as i16));
                    dense_i16(w, *n, bias, &s.x16, &mut y);
                }
                Step::SparseI64 { ptr, col, coef, bias } => {
                    for (r, &b) in bias.iter().enumerate() {
                        let (a, e) = (ptr[r] as usize, ptr[r + 1] as usize);
                        let acc: i64 = col[a..e].iter().zip(&coef[a..e]).map(|(&j, &c)| c * s.x[j as usize]).sum();
                        y.push(b + acc);
                    }
                }
                Step::Requant(rs) => y.extend(s.x.iter().zip(rs).map(|(&v, r)| r.apply(v))),
                Step::Relu => y.extend(s.x.iter().map(|&v| v.max(0))),
                Step::Gather(src) => y.extend(src.iter().map(|&j| s.x[j as usize])),
                Step::Generic(kind) => {
                    s.wide.clear();
                    s.wide.extend(s.x.iter().map(|&v| v as i128));
                    y.extend(interp::eval_layer(kind, &s.wide).into_iter().map(|v| v as i64));
                }
            }
            s.vals[*out] = y;
        }
        s.vals[self.output].iter().map(|&v| v as i128).collect()
    }
}

/// `y_r = b_r + Σ_j w[r·n + j]·x_j` for every row of `w`, accumulated in `i32` (the caller proved
/// every partial sum fits). With AVX2 where the processor has it (16 products per instruction).
fn dense_i16(w: &[i16], n: usize, bias: &[i64], x: &[i16], y: &mut Vec<i64>) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2 (checked just above).
        return unsafe { dense_i16_avx2(w, n, bias, x, y) };
    }
    dense_i16_portable(w, n, bias, x, y)
}

#[inline(always)]
fn dense_i16_portable(w: &[i16], n: usize, bias: &[i64], x: &[i16], y: &mut Vec<i64>) {
    for (row, &b) in w.chunks_exact(n).zip(bias) {
        let acc: i32 = row.iter().zip(x).map(|(&a, &b)| (a as i32).wrapping_mul(b as i32)).fold(0, i32::wrapping_add);
        y.push(b + acc as i64);
    }
}

/// [`dense_i16_portable`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dense_i16_avx2(w: &[i16], n: usize, bias: &[i64], x: &[i16], y: &mut Vec<i64>) {
    dense_i16_portable(w, n, bias, x, y)
}

/// The fastest exact form of a linear layer over inputs of elements `xe`, if `i64` suffices.
fn linear(rows: &[Vec<(u32, i128)>], bias: &[i128], xe: &[crate::fixed::Elem]) -> Option<Step> {
    let xm: Vec<i128> = xe.iter().map(|e| mag(e.lo, e.hi)).collect();
    // Largest partial sum of each row, in any order of summation.
    let bound = |row: &Vec<(u32, i128)>, b: i128| -> Option<i128> {
        row.iter()
            .try_fold(b.checked_abs()?, |acc, &(j, c)| acc.checked_add(c.checked_abs()?.checked_mul(xm[j as usize])?))
    };
    for (row, &b) in rows.iter().zip(bias) {
        bound(row, b).filter(|&v| v < I64_SAFE)?;
    }
    let n = xe.len();
    let nnz: usize = rows.iter().map(Vec::len).sum();
    let small = |v: i128| (i16::MIN as i128..=i16::MAX as i128).contains(&v);
    let sum32 = rows.iter().all(|row| bound(row, 0).is_some_and(|v| v <= i32::MAX as i128));
    if sum32
        && n > 0
        && 4 * nnz >= rows.len() * n
        && xe.iter().all(|e| small(e.lo) && small(e.hi))
        && rows.iter().flatten().all(|&(_, c)| small(c))
    {
        let mut w = vec![0i32; rows.len() * n];
        for (r, row) in rows.iter().enumerate() {
            for &(j, c) in row {
                w[r * n + j as usize] += c as i32;
            }
        }
        // A coefficient listed twice may sum beyond i16: then the sparse form.
        if w.iter().all(|&c| small(c as i128)) {
            let w = w.into_iter().map(|c| c as i16).collect();
            return Some(Step::DenseI16 { n, w, bias: bias.iter().map(|&b| b as i64).collect() });
        }
    }
    let mut ptr = vec![0u32];
    let (mut col, mut coef) = (vec![], vec![]);
    for row in rows {
        for &(j, c) in row {
            col.push(j);
            coef.push(c as i64);
        }
        ptr.push(col.len() as u32);
    }
    Some(Step::SparseI64 { ptr, col, coef, bias: bias.iter().map(|&b| b as i64).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qir::Requant;

    /// The shift form of every rounding mode and overflow equals the interpreter's requant.
    #[test]
    fn shift_requant_equals_the_interpreter() {
        let mut seed = 0x5eed_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in Round::ALL {
            for (from, to) in [(0, 0), (4, 0), (1, 0), (9, 3), (2, 5), (20, 2)] {
                for overflow in [Overflow::Sat, Overflow::Wrap] {
                    for (lo, hi) in [(-128i128, 127i128), (0, 255), (-5, 9)] {
                        let r = Requant { from_frac: from, to_frac: to, div: 1, round, lo, hi, overflow };
                        let e = crate::fixed::Elem::new(from, -(1 << 24), 1 << 24);
                        let Some(Step::Requant(rq)) = requant(&[r], &[e]) else { panic!("not planned") };
                        for k in 0..2000 {
                            let v = if k < 100 { k as i128 - 50 } else { (next() % (1 << 25)) as i128 - (1 << 24) };
                            assert_eq!(rq[0].apply(v as i64) as i128, interp::requant(v, &r), "{r:?} at {v}");
                        }
                    }
                }
            }
        }
    }

    /// The `i16` dense path at the edges of its range (−32768 · −32768 products, sums at the
    /// `i32` bound) equals the interpreter, with and without AVX2.
    #[test]
    fn dense_i16_at_its_bounds() {
        let e = crate::fixed::Elem::new(0, -32768, 32767);
        let rows = vec![vec![(0, -32768), (1, -32767)], vec![(0, 32767), (1, -32768)], vec![(0, 1), (1, -1)]];
        let bias = vec![5, -(1 << 40), 0];
        let Some(Step::DenseI16 { n, w, bias: b64 }) = linear(&rows, &bias, &[e, e]) else { panic!("not dense") };
        let kind = LayerKind::Linear { rows, bias };
        for x in [[-32768i16, -32768], [32767, -32768], [-32768, 32767], [0, 1], [-1, -1]] {
            let want = interp::eval_layer(&kind, &x.map(i128::from));
            let mut y = vec![];
            dense_i16(&w, n, &b64, &x, &mut y);
            assert_eq!(y.iter().map(|&v| v as i128).collect::<Vec<_>>(), want, "{x:?}");
            y.clear();
            dense_i16_portable(&w, n, &b64, &x, &mut y);
            assert_eq!(y.iter().map(|&v| v as i128).collect::<Vec<_>>(), want, "{x:?} (portable)");
        }
    }
}
