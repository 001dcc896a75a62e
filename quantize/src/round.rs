//! Exact integer rounding: every rounding mode of QONNX and of `ap_fixed`, applied to the exact
//! rational `num / 2^k`. This is the naive, obviously-correct definition (quotient, remainder,
//! compare with one half); hardware lowerings use cheaper tricks and are tested against it.

use tachyon_frontend::RoundMode;

/// A rounding mode. QONNX names: ROUND = `HalfEven`, CEIL, FLOOR, ROUND_TO_ZERO = `ToZero`,
/// HALF_UP, HALF_DOWN. ap_fixed names: AP_TRN = `Floor`, AP_TRN_ZERO = `ToZero`, AP_RND =
/// `HalfUp`, AP_RND_ZERO = `HalfToZero`, AP_RND_MIN_INF = `HalfDown`, AP_RND_INF = `HalfAway`,
/// AP_RND_CONV = `HalfEven`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Round {
    Floor,
    Ceil,
    ToZero,
    HalfUp,
    HalfDown,
    HalfEven,
    HalfAway,
    HalfToZero,
}

impl Round {
    /// Parses QONNX or ap_fixed spellings (case-insensitive).
    pub fn parse(s: &str) -> Option<Round> {
        Some(match s.to_ascii_uppercase().as_str() {
            "TRN" | "AP_TRN" | "FLOOR" => Round::Floor,
            "CEIL" => Round::Ceil,
            "TRN_ZERO" | "AP_TRN_ZERO" | "ROUND_TO_ZERO" => Round::ToZero,
            "RND" | "AP_RND" | "HALF_UP" => Round::HalfUp,
            "RND_MIN_INF" | "AP_RND_MIN_INF" | "HALF_DOWN" => Round::HalfDown,
            "RND_CONV" | "AP_RND_CONV" | "ROUND" | "HALF_EVEN" => Round::HalfEven,
            "RND_INF" | "AP_RND_INF" | "HALF_AWAY" => Round::HalfAway,
            "RND_ZERO" | "AP_RND_ZERO" | "HALF_TO_ZERO" => Round::HalfToZero,
            _ => return None,
        })
    }
    /// The ap_fixed-style name used in dumps and reports.
    pub fn name(self) -> &'static str {
        match self {
            Round::Floor => "TRN",
            Round::Ceil => "CEIL",
            Round::ToZero => "TRN_ZERO",
            Round::HalfUp => "RND",
            Round::HalfDown => "RND_MIN_INF",
            Round::HalfEven => "RND_CONV",
            Round::HalfAway => "RND_INF",
            Round::HalfToZero => "RND_ZERO",
        }
    }
}

impl From<RoundMode> for Round {
    fn from(m: RoundMode) -> Round {
        match m {
            RoundMode::HalfEven => Round::HalfEven,
            RoundMode::HalfUp => Round::HalfUp,
            RoundMode::HalfDown => Round::HalfDown,
            RoundMode::Ceil => Round::Ceil,
            RoundMode::Floor => Round::Floor,
            RoundMode::ToZero => Round::ToZero,
        }
    }
}

/// `round(num / den)` for `den > 0`, exactly.
pub fn div_round(num: i128, den: i128, mode: Round) -> i128 {
    debug_assert!(den > 0);
    let q = num.div_euclid(den); // floor
    let r = num.rem_euclid(den); // 0 <= r < den
    if r == 0 {
        return q;
    }
    let twice = 2 * r; // compare r with den/2 without losing precision
    let half = twice.cmp(&den);
    use std::cmp::Ordering::*;
    let up = match mode {
        Round::Floor => false,
        Round::Ceil => true,
        Round::ToZero => num < 0,
        Round::HalfUp => half != Less,
        Round::HalfDown => half == Greater,
        Round::HalfEven => half == Greater || (half == Equal && q.rem_euclid(2) == 1),
        Round::HalfAway => half == Greater || (half == Equal && num > 0),
        Round::HalfToZero => half == Greater || (half == Equal && num < 0),
    };
    q + up as i128
}

/// `round(num / 2^k)` exactly.
pub fn shift_round(num: i128, k: u32, mode: Round) -> i128 {
    if k == 0 {
        num
    } else {
        div_round(num, 1i128 << k, mode)
    }
}

/// Rescales an integer at `from` fractional bits to `to` fractional bits with rounding.
pub fn rescale(v: i128, from: i32, to: i32, mode: Round) -> i128 {
    if to >= from {
        v << (to - from) as u32
    } else {
        shift_round(v, (from - to) as u32, mode)
    }
}

/// Rounds a finite f64 to an integer in `mode` (exact: f64 rounding to an integer is exact).
pub fn round_f64(x: f64, mode: Round) -> f64 {
    let f = x.floor();
    let r = x - f; // exact for finite x
    if r == 0.0 {
        return f;
    }
    let up = match mode {
        Round::Floor => false,
        Round::Ceil => true,
        Round::ToZero => x < 0.0,
        Round::HalfUp => r >= 0.5,
        Round::HalfDown => r > 0.5,
        Round::HalfEven => r > 0.5 || (r == 0.5 && (f / 2.0).fract() != 0.0),
        Round::HalfAway => r > 0.5 || (r == 0.5 && x > 0.0),
        Round::HalfToZero => r > 0.5 || (r == 0.5 && x < 0.0),
    };
    f + up as i32 as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_in_every_mode() {
        // value, floor, ceil, tozero, halfup, halfdown, halfeven, halfaway, halftozero
        let cases: &[(i128, [i128; 8])] = &[
            (5, [2, 3, 2, 3, 2, 2, 3, 2]),          // 2.5
            (-5, [-3, -2, -2, -2, -3, -2, -3, -2]), // -2.5
            (3, [1, 2, 1, 2, 1, 2, 2, 1]),          // 1.5
            (7, [3, 4, 3, 4, 3, 4, 4, 3]),          // 3.5
        ];
        let modes = [
            Round::Floor,
            Round::Ceil,
            Round::ToZero,
            Round::HalfUp,
            Round::HalfDown,
            Round::HalfEven,
            Round::HalfAway,
            Round::HalfToZero,
        ];
        for (v, want) in cases {
            for (m, w) in modes.iter().zip(want) {
                assert_eq!(shift_round(*v, 1, *m), *w, "{v}/2 in {m:?}");
                assert_eq!(round_f64(*v as f64 / 2.0, *m) as i128, *w, "{v}/2 in {m:?} (f64)");
            }
        }
    }

    #[test]
    fn non_halves_round_to_nearest() {
        for m in [Round::HalfUp, Round::HalfDown, Round::HalfEven, Round::HalfAway, Round::HalfToZero] {
            assert_eq!(shift_round(-7, 2, m), -2); // -1.75
            assert_eq!(shift_round(-5, 2, m), -1); // -1.25
            assert_eq!(shift_round(5, 2, m), 1);
            assert_eq!(shift_round(7, 2, m), 2);
        }
    }
}
