//! The integer requantization of the interpreter equals QONNX's float `Quant` semantics
//! (frontend `eval::quant`, a step-by-step port of the qonnx executor) for every rounding mode,
//! signed/unsigned, narrow/wide, and inputs on random fixed-point grids — including ties.

use proptest::prelude::*;
use tachyon_frontend::eval::{int_range, quant};
use tachyon_frontend::{DType, RoundMode, Tensor};
use tachyon_quantize::fixed::Overflow;
use tachyon_quantize::interp::requant;
use tachyon_quantize::qir::Requant;

const MODES: [RoundMode; 6] =
    [RoundMode::HalfEven, RoundMode::HalfUp, RoundMode::HalfDown, RoundMode::Ceil, RoundMode::Floor, RoundMode::ToZero];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]
    #[test]
    fn requant_matches_qonnx_quant(n in -70000i64..70000, in_frac in -2i32..12, out_frac in -3i32..10, bits in 2u32..12, signed: bool, narrow: bool, mode in 0usize..6) {
        let x = n as f64 * 2f64.powi(-in_frac);
        let scale = 2f64.powi(-out_frac);
        let t = |v: f64| Tensor::scalar(DType::F64, v);
        let want = quant(&t(x), &t(scale), &t(0.0), bits as f64, signed, narrow, MODES[mode]).unwrap().data[0];
        let (lo, hi) = int_range(bits as f64, signed, narrow).unwrap();
        let r = Requant { from_frac: in_frac, to_frac: out_frac, div: 1, round: MODES[mode].into(), lo: lo as i128, hi: hi as i128, overflow: Overflow::Sat };
        let got = requant(n as i128, &r) as f64 * scale;
        prop_assert_eq!(got, want, "x={} scale={} bits={} signed={} narrow={} mode={:?}", x, scale, bits, signed, narrow, MODES[mode]);
    }
}

#[test]
fn bipolar_one_bit_quant() {
    let t = |v: f64| Tensor::scalar(DType::F64, v);
    for (x, want) in [(-0.5, -1.0), (0.0, 1.0), (3.0, 1.0)] {
        assert_eq!(quant(&t(x), &t(1.0), &t(0.0), 1.0, true, false, RoundMode::HalfEven).unwrap().data[0], want);
    }
}
