//! Einsum by straightforward nested summation over every letter of the equation.

use super::{check_size, fit, out_dtype, R};
use crate::tensor::Tensor;

/// Most multiply-adds one Einsum may take (the product of all its letters' sizes).
const MAX_STEPS: usize = 1 << 30;

/// Parses an equation into its input terms and output term, the implicit output (no `->`) being
/// the letters that appear exactly once, in alphabetical order (ONNX / numpy rule).
pub fn parse(equation: &str) -> R<(Vec<Vec<u8>>, Vec<u8>)> {
    let eq: String = equation.chars().filter(|c| !c.is_whitespace()).collect();
    if eq.contains("...") {
        return Err(format!(
            "Einsum equation '{equation}': ellipsis ('...') is not supported; name every axis with a letter"
        ));
    }
    let (lhs, rhs) = match eq.split_once("->") {
        Some((l, r)) => (l, Some(r)),
        None => (eq.as_str(), None),
    };
    let terms: Vec<Vec<u8>> = lhs.split(',').map(|t| t.as_bytes().to_vec()).collect();
    let mut count = [0usize; 128];
    for &c in terms.iter().flatten() {
        if !c.is_ascii_alphabetic() {
            return Err(format!(
                "Einsum equation '{equation}': '{}' is not a letter; terms are letters separated by ',' with an \
                 optional '->' output",
                c as char
            ));
        }
        count[c as usize] += 1;
    }
    let out: Vec<u8> = match rhs {
        None => (0..128u8).filter(|&c| count[c as usize] == 1).collect(),
        Some(r) => {
            let out = r.as_bytes().to_vec();
            for (i, &c) in out.iter().enumerate() {
                if !c.is_ascii_alphabetic() || count[c as usize] == 0 || out[..i].contains(&c) {
                    return Err(format!(
                        "Einsum equation '{equation}': output letter '{}' must be a letter of some input, given once",
                        c as char
                    ));
                }
            }
            out
        }
    };
    Ok((terms, out))
}

/// The equation in explicit form, whitespace removed: `ij,jk->ik`.
pub fn normalize(equation: &str) -> R<String> {
    let (terms, out) = parse(equation)?;
    let terms: Vec<String> = terms.iter().map(|t| String::from_utf8_lossy(t).into_owned()).collect();
    Ok(format!("{}->{}", terms.join(","), String::from_utf8_lossy(&out)))
}

/// Evaluates an Einsum: for each output element, the sum over the letters absent from the output
/// of the product of the operands. Accumulates in f64 and rounds once, like MatMul.
pub(super) fn einsum(equation: &str, xs: &[&Tensor]) -> R<Tensor> {
    let (terms, out) = parse(equation)?;
    if terms.len() != xs.len() {
        return Err(format!("Einsum equation '{equation}' has {} operands but the node {}", terms.len(), xs.len()));
    }
    // Letters in order: the output's first, then the summed ones.
    let mut letters = out.clone();
    let mut size: Vec<usize> = vec![0; out.len()];
    let mut known = vec![false; out.len()];
    for (term, x) in terms.iter().zip(xs) {
        if term.len() != x.shape.len() {
            return Err(format!(
                "Einsum term '{}' has {} letters for an operand of shape {:?}",
                String::from_utf8_lossy(term),
                term.len(),
                x.shape
            ));
        }
        for (&c, &d) in term.iter().zip(&x.shape) {
            let i = letters.iter().position(|&l| l == c).unwrap_or_else(|| {
                letters.push(c);
                size.push(d);
                known.push(true);
                letters.len() - 1
            });
            if !known[i] {
                (size[i], known[i]) = (d, true);
            } else if size[i] != d {
                return Err(format!("Einsum letter '{}' stands for sizes {} and {d}", c as char, size[i]));
            }
        }
    }
    let shape = size[..out.len()].to_vec();
    let n_out = check_size(&shape)?;
    let n_sum = size[out.len()..].iter().try_fold(1usize, |n, &d| n.checked_mul(d));
    let Some(n_sum) = n_sum.filter(|&n| n_out.saturating_mul(n) <= MAX_STEPS) else {
        return Err(format!("Einsum '{equation}' with sizes {size:?} needs more than {MAX_STEPS} steps"));
    };
    // Per operand: (letter index, stride) of each axis.
    let axes: Vec<Vec<(usize, usize)>> = terms
        .iter()
        .zip(xs)
        .map(|(term, x)| {
            let st = super::strides(&x.shape);
            term.iter().zip(st).map(|(c, s)| (letters.iter().position(|l| l == c).unwrap_or(0), s)).collect()
        })
        .collect();
    let dt = out_dtype(xs);
    let mut coord = vec![0; letters.len()];
    let mut data = Vec::with_capacity(n_out);
    for _ in 0..n_out {
        let mut s = 0.0;
        for _ in 0..n_sum {
            s += xs
                .iter()
                .zip(&axes)
                .map(|(x, ax)| x.data[ax.iter().map(|&(l, st)| coord[l] * st).sum::<usize>()])
                .product::<f64>();
            super::next_coord(&mut coord[out.len()..], &size[out.len()..]);
        }
        data.push(fit(dt, s));
        super::next_coord(&mut coord[..out.len()], &shape);
    }
    Ok(Tensor::new(dt, shape, data))
}
