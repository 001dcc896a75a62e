//! Bit-pattern helpers shared by the verifier, the simulator and the emitter.
//!
//! A signal value is stored as its raw bit pattern in a `u128` (bits above the width are zero);
//! these helpers convert between patterns and numeric values and test whether a constant fits.

use std::cmp::Ordering;

/// All-ones mask of `width` bits (`width` is 1..=128; larger widths saturate to 128 bits).
pub fn mask(width: u32) -> u128 {
    if width >= 128 {
        u128::MAX
    } else {
        (1u128 << width) - 1
    }
}

/// Truncates `bits` to its low `width` bits (two's complement wrap).
pub fn wrap(bits: u128, width: u32) -> u128 {
    bits & mask(width)
}

/// Reads a `width`-bit pattern as a number, extended to 128 bits by its signedness.
///
/// For an unsigned 128-bit pattern ≥ 2^127 the result is that pattern reinterpreted as `i128`
/// (the value modulo 2^128).
pub fn to_i128(bits: u128, width: u32, signed: bool) -> i128 {
    let bits = wrap(bits, width);
    if signed && width < 128 {
        let sh = 128 - width;
        ((bits << sh) as i128) >> sh
    } else {
        bits as i128
    }
}

/// `x << k` with every bit shifted out for `k ≥ 128`.
pub fn shl(x: u128, k: u32) -> u128 {
    x.checked_shl(k).unwrap_or(0)
}

/// Whether the integer `v` is representable in `width` bits with the given signedness.
pub fn fits(v: i128, width: u32, signed: bool) -> bool {
    if width == 0 {
        return false;
    }
    if signed {
        if width >= 128 {
            return true;
        }
        let half = 1i128 << (width - 1);
        (-half..half).contains(&v)
    } else {
        v >= 0 && (width >= 127 || v < (1i128 << width))
    }
}

/// The exact integer value of a signal: signed values as `i128`, unsigned as `u128` (so an
/// unsigned 128-bit value keeps its magnitude).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Num {
    S(i128),
    U(u128),
}

impl Num {
    /// The value of a `width`-bit pattern with the given signedness.
    pub fn of(bits: u128, width: u32, signed: bool) -> Num {
        if signed {
            Num::S(to_i128(bits, width, true))
        } else {
            Num::U(wrap(bits, width))
        }
    }

    /// Smallest value of the type.
    pub fn min_of(width: u32, signed: bool) -> Num {
        if signed {
            Num::of(1u128 << (width - 1), width, true)
        } else {
            Num::U(0)
        }
    }

    /// Largest value of the type.
    pub fn max_of(width: u32, signed: bool) -> Num {
        if signed {
            Num::of(mask(width) >> 1, width, true)
        } else {
            Num::U(mask(width))
        }
    }
}

/// Numeric comparison of two exact values of any signedness.
pub fn compare(a: Num, b: Num) -> Ordering {
    match (a, b) {
        (Num::S(x), Num::S(y)) => x.cmp(&y),
        (Num::U(x), Num::U(y)) => x.cmp(&y),
        (Num::S(x), Num::U(y)) => match u128::try_from(x) {
            Ok(x) => x.cmp(&y),
            Err(_) => Ordering::Less,
        },
        (Num::U(_), Num::S(_)) => compare(b, a).reverse(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_sign_extension() {
        assert_eq!(mask(1), 1);
        assert_eq!(mask(128), u128::MAX);
        assert_eq!(to_i128(0xff, 8, true), -1);
        assert_eq!(to_i128(0xff, 8, false), 255);
        assert_eq!(to_i128(1, 1, true), -1);
        assert_eq!(to_i128(u128::MAX, 128, true), -1);
        assert_eq!(shl(1, 128), 0);
    }

    #[test]
    fn fits_bounds() {
        assert!(fits(-128, 8, true) && fits(127, 8, true));
        assert!(!fits(128, 8, true) && !fits(-129, 8, true));
        assert!(fits(255, 8, false) && !fits(256, 8, false) && !fits(-1, 8, false));
        assert!(fits(i128::MIN, 128, true) && fits(i128::MAX, 127, false));
        assert!(!fits(-1, 1, false) && fits(-1, 1, true) && !fits(1, 1, true));
    }

    #[test]
    fn exact_comparison() {
        assert_eq!(compare(Num::S(-1), Num::U(u128::MAX)), Ordering::Less);
        assert_eq!(compare(Num::U(u128::MAX), Num::S(i128::MAX)), Ordering::Greater);
        assert_eq!(compare(Num::S(5), Num::U(5)), Ordering::Equal);
        assert_eq!(Num::min_of(8, true), Num::S(-128));
        assert_eq!(Num::max_of(128, true), Num::S(i128::MAX));
        assert_eq!(Num::max_of(128, false), Num::U(u128::MAX));
    }
}
