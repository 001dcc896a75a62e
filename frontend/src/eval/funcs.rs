//! Float semantics of the element-wise functions of [`FloatFn`], as ONNX defines them.
//!
//! Each is computed in binary64 and rounded once to the tensor's type, except where onnxruntime's
//! float32 kernels round every step and a step-by-step evaluation reproduces them better
//! (HardSwish exactly, Elu nearly: its `eˣ − 1` cancels). onnxruntime's own `exp`, `log` and
//! `tanh` are vectorized approximations within a few float32 ulps of the exact values, so a
//! float32 value computed here may differ from onnxruntime's in its last bits; only a value
//! within those bits of a quantizer's rounding boundary could then round differently (the
//! tests compare every input code of each function with onnxruntime).

use super::fit;
use crate::ir::FloatFn;
use crate::tensor::DType;

/// `f(v)` on a tensor of type `dt` (F32 rounds to float32 as onnxruntime does).
pub fn apply(f: FloatFn, v: f64, dt: DType) -> f64 {
    let r = |x: f64| fit(dt, x);
    match f {
        FloatFn::Selu { alpha, gamma } => r(if v > 0.0 { gamma * v } else { gamma * (alpha * v.exp() - alpha) }),
        FloatFn::Elu { alpha } => {
            if v >= 0.0 {
                r(v)
            } else {
                r(alpha * r(r(v.exp()) - 1.0))
            }
        }
        FloatFn::Celu { alpha } => r(v.max(0.0) + (alpha * ((v / alpha).exp() - 1.0)).min(0.0)),
        FloatFn::Softplus => r(softplus(v)),
        FloatFn::Softsign => r(v / (1.0 + v.abs())),
        FloatFn::HardSwish => r(v * r(r(r(r(1.0 / 6.0) * v) + 0.5).clamp(0.0, 1.0))),
        FloatFn::Mish => r(v * softplus(v).tanh()),
        FloatFn::Exp => r(v.exp()),
        FloatFn::Log => r(v.ln()),
        FloatFn::Abs => r(v.abs()),
    }
}

/// `ln(1 + eˣ)` without overflow for large x.
fn softplus(v: f64) -> f64 {
    if v > 0.0 {
        v + (-v).exp().ln_1p()
    } else {
        v.exp().ln_1p()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_at_known_points() {
        let f = |f, v| apply(f, v, DType::F64);
        assert_eq!(f(FloatFn::Abs, -2.5), 2.5);
        assert_eq!(f(FloatFn::HardSwish, 3.0), 3.0);
        assert_eq!(f(FloatFn::HardSwish, -3.0), 0.0);
        assert!((f(FloatFn::Softplus, 0.0) - 2f64.ln()).abs() < 1e-15);
        assert!((f(FloatFn::Softplus, 800.0) - 800.0).abs() < 1e-12);
        assert_eq!(f(FloatFn::Softsign, 1.0), 0.5);
        assert_eq!(f(FloatFn::Log, 0.0), f64::NEG_INFINITY);
        assert!(f(FloatFn::Log, -1.0).is_nan());
        assert!((f(FloatFn::Elu { alpha: 1.0 }, -1.0) - ((-1f64).exp() - 1.0)).abs() < 1e-15);
        assert!((f(FloatFn::Selu { alpha: 2.0, gamma: 3.0 }, 1.0) - 3.0).abs() < 1e-15);
        assert!((f(FloatFn::Celu { alpha: 2.0 }, -2.0) - 2.0 * ((-1f64).exp() - 1.0)).abs() < 1e-15);
        assert!((f(FloatFn::Mish, 1.0) - 0.865_098_4).abs() < 1e-6);
    }
}
