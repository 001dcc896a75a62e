//! The numerical kernels of Mixed-TD on small dense matrices: truncated SVD, least squares
//! (through the SVD pseudo-inverse, so rank-deficient factors are fine), CP decomposition of a
//! 4-way tensor by alternating least squares, and quantization of a factor onto a power-of-two
//! grid. All decompositions use faer; everything is deterministic (no random initialization).

use faer::Mat;

/// A row-major matrix of f64.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<f64>,
}

impl Matrix {
    pub fn new(rows: usize, cols: usize, data: Vec<f64>) -> Matrix {
        assert_eq!(rows * cols, data.len(), "matrix data does not match its shape");
        Matrix { rows, cols, data }
    }
    pub fn zeros(rows: usize, cols: usize) -> Matrix {
        Matrix { rows, cols, data: vec![0.0; rows * cols] }
    }
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.data[i * self.cols + j]
    }
    pub fn set(&mut self, i: usize, j: usize, v: f64) {
        self.data[i * self.cols + j] = v;
    }
    fn to_faer(&self) -> Mat<f64> {
        Mat::from_fn(self.rows, self.cols, |i, j| self.at(i, j))
    }
    fn from_faer(m: faer::MatRef<'_, f64>) -> Matrix {
        Matrix::new(
            m.nrows(),
            m.ncols(),
            (0..m.nrows() * m.ncols()).map(|k| m[(k / m.ncols(), k % m.ncols())]).collect(),
        )
    }
    /// `self · other`.
    pub fn matmul(&self, other: &Matrix) -> Matrix {
        assert_eq!(self.cols, other.rows);
        let mut out = Matrix::zeros(self.rows, other.cols);
        for i in 0..self.rows {
            for k in 0..self.cols {
                let a = self.at(i, k);
                if a != 0.0 {
                    for j in 0..other.cols {
                        out.data[i * other.cols + j] += a * other.at(k, j);
                    }
                }
            }
        }
        out
    }
    pub fn transpose(&self) -> Matrix {
        Matrix::new(
            self.cols,
            self.rows,
            (0..self.rows * self.cols).map(|k| self.at(k % self.rows, k / self.rows)).collect(),
        )
    }
    /// Frobenius norm.
    pub fn norm(&self) -> f64 {
        self.data.iter().map(|v| v * v).sum::<f64>().sqrt()
    }
    /// ‖self − other‖ / ‖other‖ (0 when both are zero).
    pub fn rel_error(&self, reference: &Matrix) -> f64 {
        let d: f64 = self.data.iter().zip(&reference.data).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
        let n = reference.norm();
        if n == 0.0 {
            d
        } else {
            d / n
        }
    }
}

/// Numerical failure of a decomposition (faer's SVD did not converge).
#[derive(Debug, thiserror::Error)]
#[error("the singular value decomposition did not converge ({0})")]
pub struct NoConvergence(String);

/// Thin SVD `m = U · diag(s) · Vᵀ`: (U [rows × k], s, Vᵀ [k × cols]) with k = min(rows, cols),
/// singular values non-increasing.
pub fn svd(m: &Matrix) -> Result<(Matrix, Vec<f64>, Matrix), NoConvergence> {
    let s = m.to_faer().thin_svd().map_err(|e| NoConvergence(format!("{e:?}")))?;
    let sv: Vec<f64> = s.S().column_vector().iter().copied().collect();
    Ok((Matrix::from_faer(s.U()), sv, Matrix::from_faer(s.V()).transpose()))
}

/// The rank-`r` truncated SVD split into two factors `m ≈ A · B` (A [rows × r], B [r × cols]),
/// each rank-one term's singular value shared between its two vectors so that both have the
/// same largest magnitude (the best use of two per-tensor quantization grids).
pub fn svd_factors(m: &Matrix, r: usize) -> Result<(Matrix, Matrix), NoConvergence> {
    let (u, s, vt) = svd(m)?;
    let r = r.min(s.len());
    let mut a = Matrix::zeros(m.rows, r);
    let mut b = Matrix::zeros(r, m.cols);
    #[allow(clippy::needless_range_loop)]
    for k in 0..r {
        let umax = (0..m.rows).fold(0f64, |x, i| x.max(u.at(i, k).abs())).max(1e-300);
        let vmax = (0..m.cols).fold(0f64, |x, j| x.max(vt.at(k, j).abs())).max(1e-300);
        // a = u·s·t, b = v/t with max|a| = max|b|: t = sqrt(vmax / (s·umax)).
        let t = (vmax / (s[k].max(1e-300) * umax)).sqrt();
        for i in 0..m.rows {
            a.set(i, k, u.at(i, k) * s[k] * t);
        }
        for j in 0..m.cols {
            b.set(k, j, vt.at(k, j) / t);
        }
    }
    Ok((a, b))
}

/// The least-squares `X` minimizing ‖A·X − B‖ (minimum norm when A is rank deficient).
pub fn lstsq(a: &Matrix, b: &Matrix) -> Result<Matrix, NoConvergence> {
    Ok(pinv(a)?.matmul(b))
}

/// Moore–Penrose pseudo-inverse (singular values below 1e-12 of the largest count as zero).
pub fn pinv(a: &Matrix) -> Result<Matrix, NoConvergence> {
    let (u, s, vt) = svd(a)?;
    let tol = s.first().copied().unwrap_or(0.0) * 1e-12;
    let mut out = Matrix::zeros(a.cols, a.rows);
    for (k, &sk) in s.iter().enumerate() {
        if sk <= tol || sk == 0.0 {
            continue;
        }
        for i in 0..a.cols {
            let v = vt.at(k, i) / sk;
            for j in 0..a.rows {
                out.data[i * a.rows + j] += v * u.at(j, k);
            }
        }
    }
    Ok(out)
}

/// A CP (CANDECOMP/PARAFAC) decomposition of a 4-way tensor T[i0, i1, i2, i3] ≈
/// Σ_r F0[i0, r] · F1[i1, r] · F2[i2, r] · F3[i3, r]; `factors[n]` is [dims[n] × rank].
#[derive(Clone, Debug)]
pub struct Cp {
    pub dims: [usize; 4],
    pub rank: usize,
    pub factors: [Matrix; 4],
}

impl Cp {
    /// The dense tensor (row-major over `dims`).
    pub fn reconstruct(&self) -> Vec<f64> {
        let [d0, d1, d2, d3] = self.dims;
        let mut t = vec![0f64; d0 * d1 * d2 * d3];
        for r in 0..self.rank {
            for a in 0..d0 {
                let fa = self.factors[0].at(a, r);
                for b in 0..d1 {
                    let fab = fa * self.factors[1].at(b, r);
                    for c in 0..d2 {
                        let fabc = fab * self.factors[2].at(c, r);
                        for d in 0..d3 {
                            t[((a * d1 + b) * d2 + c) * d3 + d] += fabc * self.factors[3].at(d, r);
                        }
                    }
                }
            }
        }
        t
    }
}

/// Unfolding of mode `n`: [dims[n] × (product of the other dims)], the other indices in order.
fn unfold(t: &[f64], dims: [usize; 4], n: usize) -> Matrix {
    let total: usize = dims.iter().product();
    let mut m = Matrix::zeros(dims[n], total / dims[n]);
    for (flat, &v) in t.iter().enumerate() {
        let mut idx = [0usize; 4];
        let mut rest = flat;
        for k in (0..4).rev() {
            idx[k] = rest % dims[k];
            rest /= dims[k];
        }
        let mut col = 0;
        for k in 0..4 {
            if k != n {
                col = col * dims[k] + idx[k];
            }
        }
        m.set(idx[n], col, v);
    }
    m
}

/// Khatri–Rao product of the factors other than `n`, rows in the column order of [`unfold`].
fn khatri_rao_except(f: &[Matrix; 4], n: usize, rank: usize) -> Matrix {
    let others: Vec<&Matrix> = (0..4).filter(|&k| k != n).map(|k| &f[k]).collect();
    let rows: usize = others.iter().map(|m| m.rows).product();
    let mut out = Matrix::zeros(rows, rank);
    for row in 0..rows {
        let mut rest = row;
        let mut idx = [0usize; 3];
        for k in (0..3).rev() {
            idx[k] = rest % others[k].rows;
            rest /= others[k].rows;
        }
        for r in 0..rank {
            out.set(row, r, (0..3).map(|k| others[k].at(idx[k], r)).product());
        }
    }
    out
}

/// Rank-`rank` CP decomposition by alternating least squares: each sweep solves every factor
/// in turn exactly (`F_n = T_(n) · KR · pinv(Hadamard of the other Gram matrices)`), until the
/// relative fit changes by less than `tol` or after `max_iters` sweeps. Initialized from the
/// leading left singular vectors of each unfolding (columns beyond the unfolding's rank from a
/// fixed cosine pattern), so the result is deterministic. Returns the decomposition and its
/// relative reconstruction error.
pub fn cp_als(
    t: &[f64],
    dims: [usize; 4],
    rank: usize,
    max_iters: usize,
    tol: f64,
) -> Result<(Cp, f64), NoConvergence> {
    let norm = t.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-300);
    let unfolds: Vec<Matrix> = (0..4).map(|n| unfold(t, dims, n)).collect();
    let mut factors: [Matrix; 4] = std::array::from_fn(|n| Matrix::zeros(dims[n], rank));
    for n in 0..4 {
        let (u, s, _) = svd(&unfolds[n])?;
        for r in 0..rank {
            for i in 0..dims[n] {
                let v = if r < s.len() && s[r] > 1e-12 * s[0].max(1e-300) {
                    u.at(i, r)
                } else {
                    (((i + 1) * (r + 3) * (n + 7)) as f64).cos() / (dims[n] as f64).sqrt()
                };
                factors[n].set(i, r, v);
            }
        }
    }
    let mut err = f64::INFINITY;
    for _ in 0..max_iters {
        for n in 0..4 {
            // Gram Hadamard product V = ∘_{k≠n} F_kᵀ F_k.
            let mut v = Matrix::new(rank, rank, vec![1.0; rank * rank]);
            for (k, f) in factors.iter().enumerate() {
                if k == n {
                    continue;
                }
                let g = f.transpose().matmul(f);
                v.data.iter_mut().zip(&g.data).for_each(|(a, b)| *a *= b);
            }
            let mttkrp = unfolds[n].matmul(&khatri_rao_except(&factors, n, rank));
            factors[n] = mttkrp.matmul(&pinv(&v)?);
        }
        let cp = Cp { dims, rank, factors: factors.clone() };
        let rec = cp.reconstruct();
        let e = rec.iter().zip(t).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt() / norm;
        let done = (err - e).abs() < tol;
        err = e;
        if done {
            break;
        }
    }
    balance(&mut factors, rank);
    Ok((Cp { dims, rank, factors }, err))
}

/// Rescales each rank-one term so that its four vectors have the same largest magnitude.
fn balance(f: &mut [Matrix; 4], rank: usize) {
    for r in 0..rank {
        let maxes: Vec<f64> = f.iter().map(|m| (0..m.rows).fold(0f64, |x, i| x.max(m.at(i, r).abs()))).collect();
        if maxes.contains(&0.0) {
            continue;
        }
        let g = maxes.iter().product::<f64>().powf(0.25);
        for (m, &mx) in f.iter_mut().zip(&maxes) {
            for i in 0..m.rows {
                let v = m.at(i, r) * g / mx;
                m.set(i, r, v);
            }
        }
    }
}

/// A factor rounded onto a signed `bits`-bit grid of scale 2^`exp`, the smallest power of two
/// that holds its largest magnitude (QONNX Quant, ROUND = half to even, not narrow).
#[derive(Clone, Debug)]
pub struct Quantized {
    pub values: Vec<f64>,
    pub exp: i32,
    pub bits: u32,
}

/// Rounds `v` onto the power-of-two grid of [`Quantized`].
pub fn quantize(v: &[f64], bits: u32) -> Quantized {
    let max = v.iter().fold(0f64, |m, x| m.max(x.abs()));
    let qmax = f64::powi(2.0, bits as i32 - 1) - 1.0;
    let exp = if max == 0.0 { 0 } else { (max / qmax).log2().ceil() as i32 };
    let s = f64::powi(2.0, exp);
    Quantized { values: v.iter().map(|x| (x / s).round_ties_even().clamp(-qmax - 1.0, qmax) * s).collect(), exp, bits }
}
