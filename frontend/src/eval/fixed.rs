//! Float semantics of Tachyon's fixed-point ops `FixedQuant` and `Lookup` (domain
//! `tachyon.fixed`, docs/qonnx_extension.md), computed exactly: `x · 2^f` is a power-of-two
//! scaling, rounding compares the exact fraction with one half, and overflow works on integers.

use super::{broadcast_shape, need, R};
use crate::ir::{OverflowMode, RoundMode};
use crate::tensor::Tensor;

/// Largest `|f|` and width `k + i + f` a `FixedQuant` element may have.
pub const MAX_FIXED_BITS: i64 = 64;

/// The `(k, i, f)` of every element of a tensor of `shape`, from the broadcast `K`, `I`, `F`.
pub fn element_params(k: &Tensor, i: &Tensor, f: &Tensor, shape: &[usize]) -> R<Vec<(i64, i64, i64)>> {
    for (name, t) in [("K", k), ("I", i), ("F", f)] {
        if broadcast_shape(shape, &t.shape)? != shape {
            return Err(format!("{name} of shape {:?} does not broadcast to the input's {shape:?}", t.shape));
        }
        if let Some(v) = t.data.iter().find(|v| v.fract() != 0.0 || !v.is_finite()) {
            return Err(format!("{name} must hold integers, found {v}"));
        }
    }
    let count: usize = shape.iter().product();
    let at = |t: &Tensor, e: usize| t.data[super::broadcast_index(shape, &t.shape, e)] as i64;
    (0..count)
        .map(|e| {
            let (k, i, f) = (at(k, e), at(i, e), at(f, e));
            if k != 0 && k != 1 {
                return Err(format!("K must be 0 or 1, found {k}"));
            }
            if f.abs() > MAX_FIXED_BITS || k + i + f > MAX_FIXED_BITS || i.abs() > 2 * MAX_FIXED_BITS {
                return Err(format!(
                    "k={k} i={i} f={f}: |f| and the width k+i+f must be at most {MAX_FIXED_BITS} bits"
                ));
            }
            Ok((k, i, f))
        })
        .collect()
}

/// The integer range `[lo, hi]` of an element with `(k, i, f)` under `overflow`, or `None` for a
/// pruned element (`k + i + f ≤ 0`, always 0).
pub fn element_range(k: i64, i: i64, f: i64, overflow: OverflowMode) -> Option<(i128, i128)> {
    if k + i + f <= 0 {
        return None;
    }
    let top = 1i128 << (i + f); // i + f ≥ 0 here, since k ≤ 1 and k + i + f ≥ 1
    let lo = match overflow {
        OverflowMode::SatSym => -(k as i128) * (top - 1),
        _ => -(k as i128) * top,
    };
    Some((lo, top - 1))
}

/// `round(v)` for a real `v` (exact for every finite f64), as an integer; `v` must satisfy
/// `|v| < 2^120`.
fn round_exact(v: f64, round: RoundMode) -> i128 {
    let fl = v.floor();
    let n = fl as i128;
    let frac = v - fl; // exact: |v| < 2^53 when v has a fraction
    match round {
        RoundMode::Floor => n,
        RoundMode::HalfUp => n + i128::from(frac >= 0.5),
        RoundMode::HalfEven => n + i128::from(frac > 0.5 || (frac == 0.5 && n % 2 != 0)),
        RoundMode::HalfDown => n + i128::from(frac > 0.5),
        RoundMode::HalfAway => n + i128::from(frac > 0.5 || (frac == 0.5 && v > 0.0)),
        RoundMode::HalfToZero => n + i128::from(frac > 0.5 || (frac == 0.5 && v < 0.0)),
        RoundMode::Ceil => n + i128::from(frac > 0.0),
        RoundMode::ToZero => {
            if v < 0.0 {
                n + i128::from(frac > 0.0)
            } else {
                n
            }
        }
    }
}

/// The integer code of one element: `x` quantized to `(k, i, f)` (`0` for a pruned element).
pub fn fixed_code(x: f64, (k, i, f): (i64, i64, i64), round: RoundMode, overflow: OverflowMode) -> R<i128> {
    let Some((lo, hi)) = element_range(k, i, f, overflow) else { return Ok(0) };
    if x.is_nan() {
        return Err("FixedQuant of NaN".into());
    }
    let v = x * 2f64.powi(f as i32);
    let b = (k + i + f) as u32;
    let huge = 2f64.powi(120);
    if overflow == OverflowMode::Wrap {
        if !v.is_finite() {
            return Err(format!("FixedQuant with WRAP of {x} (not finite)"));
        }
        // Past 2^120 every float is a multiple of 2^68, so 0 modulo 2^b (b ≤ 64).
        let n = if v.abs() >= huge { 0 } else { round_exact(v, round) };
        let m = 1i128 << b;
        let off = k as i128 * (1i128 << (i + f));
        return Ok((n + off).rem_euclid(m) - off);
    }
    let n = if v >= huge {
        hi
    } else if v <= -huge {
        lo
    } else {
        round_exact(v, round)
    };
    Ok(n.clamp(lo, hi))
}

/// `FixedQuant(x, k, i, f)`: every element quantized, `y = code · 2^−f`.
pub fn fixed_quant(inputs: &[Option<&Tensor>], round: RoundMode, overflow: OverflowMode) -> R<Tensor> {
    let x = need(inputs, 0, "X")?;
    let params = element_params(need(inputs, 1, "K")?, need(inputs, 2, "I")?, need(inputs, 3, "F")?, &x.shape)?;
    let data = x
        .data
        .iter()
        .zip(&params)
        .map(|(&v, &p)| Ok(fixed_code(v, p, round, overflow)? as f64 * 2f64.powi(-(p.2 as i32))))
        .collect::<R<Vec<f64>>>()?;
    Ok(Tensor::new(x.dtype, x.shape.clone(), data))
}

/// `Lookup(x, values)`: `values[x · 2^frac − first]` for every element.
pub fn lookup(x: &Tensor, values: &Tensor, frac: i64, first: i64) -> R<Tensor> {
    if values.shape.len() != 1 || values.data.is_empty() {
        return Err(format!("Lookup values must be a non-empty 1-D table, found shape {:?}", values.shape));
    }
    if frac.abs() > MAX_FIXED_BITS {
        return Err(format!("Lookup frac {frac} is out of range (at most {MAX_FIXED_BITS} in magnitude)"));
    }
    let scale = 2f64.powi(frac as i32);
    let data = x
        .data
        .iter()
        .map(|&v| {
            let c = v * scale;
            if c.fract() != 0.0 || !c.is_finite() || c.abs() > 1e15 {
                return Err(format!("Lookup input {v} is not on the 2^-{frac} grid"));
            }
            let idx = c as i64 - first;
            if idx < 0 || idx as usize >= values.data.len() {
                return Err(format!(
                    "Lookup input {v} (code {}) is outside the table of codes {first}..{}",
                    c as i64,
                    first + values.data.len() as i64 - 1
                ));
            }
            Ok(values.data[idx as usize])
        })
        .collect::<R<Vec<f64>>>()?;
    Ok(Tensor::new(x.dtype, x.shape.clone(), data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use OverflowMode::*;
    use RoundMode::*;

    #[test]
    fn rounding_modes_at_ties() {
        // f = 1: codes of x · 2.
        let q = |x: f64, r| fixed_code(x, (1, 3, 1), r, Sat).unwrap();
        assert_eq!([q(0.25, HalfUp), q(-0.25, HalfUp), q(0.75, HalfUp), q(-0.75, HalfUp)], [1, 0, 2, -1]);
        assert_eq!([q(0.25, HalfEven), q(0.75, HalfEven), q(-0.25, HalfEven), q(-0.75, HalfEven)], [0, 2, 0, -2]);
        assert_eq!([q(0.3, Floor), q(-0.3, Floor)], [0, -1]);
    }

    #[test]
    fn overflow_modes() {
        // k=1, i=2, f=0: range [-4, 3]; SAT_SYM [-3, 3].
        let q = |x: f64, o| fixed_code(x, (1, 2, 0), Floor, o).unwrap();
        assert_eq!([q(4.0, Wrap), q(5.0, Wrap), q(-5.0, Wrap), q(-4.0, Wrap)], [-4, -3, 3, -4]);
        assert_eq!([q(9.0, Sat), q(-9.0, Sat), q(-9.0, SatSym)], [3, -4, -3]);
        // Unsigned: k=0, i=2, f=1: [0, 7].
        assert_eq!(fixed_code(4.0, (0, 2, 1), Floor, Wrap).unwrap(), 0);
        assert_eq!(fixed_code(-0.5, (0, 2, 1), Floor, Wrap).unwrap(), 7);
        // Pruned elements are 0; huge values wrap to 0 past 2^120 and saturate.
        assert_eq!(fixed_code(123.0, (1, -3, 1), HalfUp, Wrap).unwrap(), 0);
        assert_eq!(fixed_code(1e38, (1, 2, 10), HalfUp, Wrap).unwrap(), 0);
        assert_eq!(fixed_code(f64::INFINITY, (1, 2, 0), HalfUp, Sat).unwrap(), 3);
        assert!(fixed_code(f64::INFINITY, (1, 2, 0), HalfUp, Wrap).is_err());
        // Negative i and f: k=1, i=-2, f=5: width 4, grid 2^-5, range [-8, 7] codes.
        assert_eq!(fixed_code(0.1, (1, -2, 5), HalfUp, Sat).unwrap(), 3);
    }

    #[test]
    fn quant_and_lookup_tensors() {
        let x = Tensor::new(crate::DType::F32, vec![1, 3], vec![0.3, -1.2, 7.9]);
        let k = Tensor::new(crate::DType::F32, vec![1], vec![1.0]);
        let i = Tensor::new(crate::DType::F32, vec![1, 3], vec![1.0, 1.0, 2.0]);
        let f = Tensor::new(crate::DType::F32, vec![1, 3], vec![2.0, 0.0, -1.0]);
        let y = fixed_quant(&[Some(&x), Some(&k), Some(&i), Some(&f)], HalfUp, Wrap).unwrap();
        // 0.3·4 = 1.2 → 1 → 0.25; −1.2 → −1; 7.9/2 = 3.95 → 4, which wraps in the codes [−2, 1]
        // of k=1, i=2, f=−1 (i + f = 1) to 0.
        assert_eq!(y.data, vec![0.25, -1.0, 0.0]);
        let table = Tensor::new(crate::DType::F32, vec![4], vec![10.0, 11.0, 12.0, 13.0]);
        let z = lookup(&Tensor::new(crate::DType::F32, vec![2], vec![-0.5, 0.5]), &table, 1, -1).unwrap();
        assert_eq!(z.data, vec![10.0, 12.0]);
        assert!(lookup(&Tensor::new(crate::DType::F32, vec![1], vec![2.0]), &table, 1, -1).is_err());
    }
}
