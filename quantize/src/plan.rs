//! The reference interpreter compiled for throughput (`tachyon.Project.predict`, millions of
//! inferences): the same integers as [`crate::interp::run`], computed in `i64` where the
//! verified element bounds prove nothing can overflow, with dense layers as `i16` matrices
//! (a dot product the compiler vectorizes) when weights and inputs fit. Layers it does not
//! specialize, and any layer whose bounds do not fit, go through [`interp::eval_layer`] on
//! `i128`: the plan is an evaluation order and a data layout, never a second semantics.

use crate::interp;
use crate::qir::{LayerKind, QModel};

/// Largest magnitude a value may reach in the `i64` paths.
const I64_SAFE: i128 = 1 << 62;

/// How one layer is computed.
enum Step {
    /// `y_r = b_r + Σ w[r][j]·x_j`, `w` row-major over all `n` inputs, `i32` accumulation.
    DenseI16 { n: usize, w: Vec<i16>, bias: Vec<i64> },
    /// Sparse rows in `i64` (CSR).
    SparseI64 { ptr: Vec<u32>, col: Vec<u32>, coef: Vec<i64>, bias: Vec<i64> },
    /// The interpreter's own evaluation on `i128`.
    Generic(LayerKind),
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
                    for (row, &b) in w.chunks_exact(*n).zip(bias) {
                        let acc: i32 = row.iter().zip(&s.x16).map(|(&a, &b)| a as i32 * b as i32).sum();
                        y.push(b + acc as i64);
                    }
                }
                Step::SparseI64 { ptr, col, coef, bias } => {
                    for (r, &b) in bias.iter().enumerate() {
                        let (a, e) = (ptr[r] as usize, ptr[r + 1] as usize);
                        let acc: i64 = col[a..e].iter().zip(&coef[a..e]).map(|(&j, &c)| c * s.x[j as usize]).sum();
                        y.push(b + acc);
                    }
                }
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
        && xm.iter().all(|&v| small(v) && small(-v))
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
