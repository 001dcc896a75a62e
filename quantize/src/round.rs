//! Exact integer rounding: every rounding mode of QONNX and of `ap_fixed`, applied to the exact
//! rational `num / 2^k`. This is the naive, obviously-correct definition (quotient, remainder,
//! compare with one half); hardware lowerings use cheaper tricks and are tested against it.

use tachyon_frontend::RoundMode;

/// A rounding mode. QONNX names (qonnx's executor): ROUND = `HalfEven`, CEIL, FLOOR, DOWN =
/// `ToZero`, HALF_UP = `HalfAway`, HALF_DOWN = `HalfToZero`. ap_fixed names: AP_TRN = `Floor`, AP_TRN_ZERO = `ToZero`, AP_RND =
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
    /// Every mode, in declaration order.
    pub const ALL: [Round; 8] = [
        Round::Floor,
        Round::Ceil,
        Round::ToZero,
        Round::HalfUp,
        Round::HalfDown,
        Round::HalfEven,
        Round::HalfAway,
        Round::HalfToZero,
    ];

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
            RoundMode::HalfAway => Round::HalfAway,
            RoundMode::HalfToZero => Round::HalfToZero,
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
    // r against den/2 as r against den − r: no overflow for any den.
    round_up(q, r.cmp(&(den - r)), num, mode)
}

/// The floor quotient `q` of `num`, moved up by one where `mode` says, given how the dropped
/// fraction (non-zero) compares with one half.
fn round_up(q: i128, half: std::cmp::Ordering, num: i128, mode: Round) -> i128 {
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

/// `round(num / 2^k)` exactly, for any `k`.
pub fn shift_round(num: i128, k: u32, mode: Round) -> i128 {
    use std::cmp::Ordering::*;
    match k {
        0 => num,
        1..=126 => div_round(num, 1i128 << k, mode),
        _ => {
            // |num| ≤ 2^127 ≤ 2^k: the quotient lies in [−1, 1).
            if num == 0 {
                return 0;
            }
            if k == 127 && num == i128::MIN {
                return -1; // exact
            }
            let q = if num < 0 { -1 } else { 0 };
            // The dropped fraction is num/2^k (num > 0) or 1 + num/2^k (num < 0).
            let half = match (num > 0, k) {
                (true, 127) => num.cmp(&(1i128 << 126)),
                (true, _) => Less,
                (false, 127) => num.cmp(&-(1i128 << 126)),
                (false, 128) => {
                    if num == i128::MIN {
                        Equal
                    } else {
                        Greater
                    }
                }
                (false, _) => Greater,
            };
            round_up(q, half, num, mode)
        }
    }
}

/// Rescales an integer at `from` fractional bits to `to` fractional bits with rounding.
///
/// A result beyond i128 saturates (an interval that wide is refused by the lowering as too
/// wide; wrap-around requantization uses [`shl_wrapping`] instead).
pub fn rescale(v: i128, from: i32, to: i32, mode: Round) -> i128 {
    if to >= from {
        let s = (to - from) as u32;
        let sat = if v > 0 { i128::MAX } else { i128::MIN };
        match v {
            0 => 0,
            _ if s >= 127 => sat,
            _ => v.checked_mul(1i128 << s).unwrap_or(sat),
        }
    } else {
        shift_round(v, (from - to) as u32, mode)
    }
}

/// `round(v · 2^(to − from) / div)` exactly, for an odd `div ≥ 1`; saturates like [`rescale`].
pub fn rescale_div(v: i128, from: i32, to: i32, div: u32, mode: Round) -> i128 {
    if div <= 1 {
        return rescale(v, from, to, mode);
    }
    let d = div as i128;
    if to >= from {
        let s = (to - from) as u32;
        match (s < 127).then(|| v.checked_mul(1i128 << s)).flatten() {
            Some(num) => div_round(num, d, mode),
            None => {
                if v > 0 {
                    i128::MAX
                } else {
                    i128::MIN
                }
            }
        }
    } else {
        let s = (from - to) as u32;
        match (s < 127).then(|| d.checked_mul(1i128 << s)).flatten() {
            Some(den) => div_round(v, den, mode),
            // |v| < 2^127 ≤ den / 2: the quotient lies strictly between −1/2 and 1/2, rounded as
            // ±1/4 is.
            None => div_round(v.signum(), 4, mode),
        }
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
        for (v, want) in cases {
            for (m, w) in Round::ALL.iter().zip(want) {
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

/// `v · 2^s` modulo 2^128 (exact in every bit a wrap-around to at most 128 bits keeps).
pub fn shl_wrapping(v: i128, s: u32) -> i128 {
    if s >= 128 {
        0
    } else {
        v.wrapping_shl(s)
    }
}

#[cfg(test)]
mod wide_shift_tests {
    use super::*;

    #[test]
    fn shifts_beyond_i128_round_exactly() {
        let m = i128::MIN;
        assert_eq!(shift_round(m, 127, Round::Floor), -1);
        assert_eq!(shift_round(m, 127, Round::Ceil), -1);
        assert_eq!(shift_round(1 << 126, 127, Round::HalfEven), 0);
        assert_eq!(shift_round(1 << 126, 127, Round::HalfUp), 1);
        assert_eq!(shift_round(-(1 << 126), 127, Round::HalfUp), 0);
        assert_eq!(shift_round(-(1 << 126), 127, Round::HalfDown), -1);
        assert_eq!(shift_round(-(1 << 126), 127, Round::HalfEven), 0);
        assert_eq!(shift_round(m, 128, Round::HalfEven), 0);
        assert_eq!(shift_round(m, 128, Round::HalfAway), -1);
        assert_eq!(shift_round(5, 200, Round::Ceil), 1);
        assert_eq!(shift_round(5, 200, Round::Floor), 0);
        assert_eq!(shift_round(-5, 200, Round::Floor), -1);
        assert_eq!(shift_round(-5, 200, Round::HalfUp), 0);
        assert_eq!(shift_round(-5, 200, Round::ToZero), 0);
        assert_eq!(shift_round(i128::MAX, 127, Round::HalfUp), 1);
        // Huge denominators do not overflow the half comparison.
        assert_eq!(div_round(i128::MAX - 1, i128::MAX, Round::HalfUp), 1);
        assert_eq!(div_round(3, i128::MAX, Round::HalfUp), 0);
        assert_eq!(rescale(3, 0, 200, Round::Floor), i128::MAX);
        assert_eq!(shl_wrapping(3, 130), 0);
    }
}
