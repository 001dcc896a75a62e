//! Fixed-point types as the user writes them (`fixed<16,6>`, `ufixed<8,3,RND,SAT>`, hls4ml's
//! `ap_fixed<16,6>`), and the integer intervals ([`Elem`]) that every value of the quantized IR
//! carries: a value is the integer `n · 2^-frac` with `n ∈ [lo, hi]`.

use crate::round::Round;
use std::fmt;

/// What happens to values outside a type's range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Overflow {
    /// Keep the low bits (two's complement wrap-around).
    Wrap,
    /// Clamp to the range.
    Sat,
    /// Clamp to the symmetric range (−max … max).
    SatSym,
}

impl Overflow {
    pub fn parse(s: &str) -> Option<Overflow> {
        Some(match s.to_ascii_uppercase().as_str() {
            "WRAP" | "AP_WRAP" => Overflow::Wrap,
            "SAT" | "AP_SAT" => Overflow::Sat,
            "SAT_SYM" | "AP_SAT_SYM" => Overflow::SatSym,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Overflow::Wrap => "WRAP",
            Overflow::Sat => "SAT",
            Overflow::SatSym => "SAT_SYM",
        }
    }
}

/// Why a string is not a fixed-point type (config files name types as text). `text` is the
/// string as written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FixedTypeError {
    #[error("'{text}' is not a fixed-point type; write e.g. fixed<16,6>, ufixed<8,3>, fixed<16,6,RND,SAT> or int<8>")]
    NotAType { text: String },
    #[error("'{text}': width {width} must be between 1 and 64 bits")]
    Width { text: String, width: i64 },
    #[error("'{text}': unknown rounding mode '{mode}' (TRN, RND, RND_CONV, RND_ZERO, RND_INF, RND_MIN_INF, TRN_ZERO)")]
    Rounding { text: String, mode: String },
    #[error("'{text}': unknown overflow mode '{mode}' (WRAP, SAT, SAT_SYM)")]
    Overflow { text: String, mode: String },
}

/// A fixed-point type: `width` bits of which `int_bits` are integer bits (sign included), so the
/// least significant bit weighs `2^-(width - int_bits)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct FixedType {
    pub signed: bool,
    pub width: u32,
    pub int_bits: i32,
    pub round: Round,
    pub overflow: Overflow,
}

impl FixedType {
    /// hls4ml's default `ap_fixed<16,6>` (truncation, wrap-around).
    pub const DEFAULT: FixedType =
        FixedType { signed: true, width: 16, int_bits: 6, round: Round::Floor, overflow: Overflow::Wrap };

    pub fn frac(&self) -> i32 {
        self.width as i32 - self.int_bits
    }
    /// Integer range of the type's raw values.
    pub fn range(&self) -> (i128, i128) {
        let w = self.width;
        match (self.signed, self.overflow) {
            (true, Overflow::SatSym) => (-(1i128 << (w - 1)) + 1, (1i128 << (w - 1)) - 1),
            (true, _) => (-(1i128 << (w - 1)), (1i128 << (w - 1)) - 1),
            (false, _) => (0, (1i128 << w) - 1),
        }
    }
    /// Parses `fixed<W,I>`, `ufixed<W,I>`, `ap_fixed<W,I[,Q[,O]]>`, `ap_ufixed<…>`, `int<W>`,
    /// `uint<W>`; rounding/overflow default to TRN/WRAP as in ap_fixed.
    pub fn parse(s: &str) -> Result<FixedType, FixedTypeError> {
        let t = s.trim().replace(' ', "");
        let err = || FixedTypeError::NotAType { text: s.to_string() };
        let open = t.find('<').ok_or_else(err)?;
        if !t.ends_with('>') {
            return Err(err());
        }
        let kind = t[..open].to_ascii_lowercase();
        let args: Vec<&str> = t[open + 1..t.len() - 1].split(',').collect();
        let num = |i: usize| -> Result<i64, FixedTypeError> {
            args.get(i).ok_or_else(err)?.parse::<i64>().map_err(|_| err())
        };
        let (signed, width, int_bits, rest) = match kind.as_str() {
            "fixed" | "ap_fixed" => (true, num(0)?, num(1)?, 2),
            "ufixed" | "ap_ufixed" => (false, num(0)?, num(1)?, 2),
            "int" | "ap_int" => (true, num(0)?, num(0)?, 1),
            "uint" | "ap_uint" => (false, num(0)?, num(0)?, 1),
            _ => return Err(err()),
        };
        if !(1..=64).contains(&width) {
            return Err(FixedTypeError::Width { text: s.to_string(), width });
        }
        let round = match args.get(rest) {
            Some(r) => {
                Round::parse(r).ok_or_else(|| FixedTypeError::Rounding { text: s.to_string(), mode: r.to_string() })?
            }
            None => Round::Floor,
        };
        let overflow = match args.get(rest + 1) {
            Some(o) => Overflow::parse(o)
                .ok_or_else(|| FixedTypeError::Overflow { text: s.to_string(), mode: o.to_string() })?,
            None => Overflow::Wrap,
        };
        if args.len() > rest + 2 {
            return Err(err());
        }
        Ok(FixedType { signed, width: width as u32, int_bits: int_bits as i32, round, overflow })
    }
}

impl fmt::Display for FixedType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}fixed<{},{}", if self.signed { "" } else { "u" }, self.width, self.int_bits)?;
        if self.round != Round::Floor || self.overflow != Overflow::Wrap {
            write!(f, ",{},{}", self.round.name(), self.overflow.name())?;
        }
        write!(f, ">")
    }
}

/// The exact type of one scalar in the quantized IR: an integer `n ∈ [lo, hi]` standing for
/// `n · 2^-frac`. Widths are derived from the interval, so no bit is wasted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Elem {
    pub frac: i32,
    pub lo: i128,
    pub hi: i128,
}

impl Elem {
    pub fn new(frac: i32, lo: i128, hi: i128) -> Elem {
        debug_assert!(lo <= hi);
        Elem { frac, lo, hi }
    }
    /// The full range of a fixed-point type.
    pub fn of_type(t: &FixedType) -> Elem {
        let (lo, hi) = t.range();
        Elem { frac: t.frac(), lo, hi }
    }
    pub fn signed(&self) -> bool {
        self.lo < 0
    }
    /// Smallest two's complement (signed) or binary (unsigned) width holding [lo, hi].
    pub fn width(&self) -> u32 {
        bits_for(self.lo, self.hi)
    }
    pub fn constant(&self) -> Option<i128> {
        (self.lo == self.hi).then_some(self.lo)
    }
    pub fn contains(&self, v: i128) -> bool {
        self.lo <= v && v <= self.hi
    }
    /// Intersected with `[lo, hi]`; left as it is if the two do not meet.
    pub fn narrow(&mut self, lo: i128, hi: i128) {
        let (l, h) = (lo.max(self.lo), hi.min(self.hi));
        if l <= h {
            *self = Elem::new(self.frac, l, h);
        }
    }
    /// Human form: `fixed<W,I>` of the derived width with the interval, e.g. `ufixed<8,3>[0,255]`.
    pub fn describe(&self) -> String {
        let w = self.width() as i32;
        format!("{}fixed<{},{}>[{},{}]", if self.signed() { "" } else { "u" }, w, w - self.frac, self.lo, self.hi)
    }
}

/// Minimal width holding every integer of [lo, hi]: signed when lo < 0.
#[inline]
pub fn bits_for(lo: i128, hi: i128) -> u32 {
    if lo < 0 {
        let need = |v: i128| {
            if v < 0 {
                129 - (!v).leading_zeros()
            } else {
                129 - v.leading_zeros()
            }
        };
        need(lo).max(need(hi)).max(1)
    } else {
        (128 - hi.leading_zeros()).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(bits_for(0, 0), 1);
        assert_eq!(bits_for(0, 1), 1);
        assert_eq!(bits_for(0, 255), 8);
        assert_eq!(bits_for(-128, 127), 8);
        assert_eq!(bits_for(-129, 0), 9);
        assert_eq!(bits_for(-1, 0), 1);
        assert_eq!(bits_for(-1, 1), 2);
        assert_eq!(bits_for(0, 256), 9);
    }

    #[test]
    fn parse_types() {
        let t = FixedType::parse("fixed<16,6>").unwrap();
        assert_eq!((t.signed, t.width, t.int_bits, t.frac()), (true, 16, 6, 10));
        let t = FixedType::parse("ap_ufixed<8, 3, AP_RND, AP_SAT>").unwrap();
        assert_eq!((t.signed, t.round, t.overflow), (false, Round::HalfUp, Overflow::Sat));
        assert_eq!(t.to_string(), "ufixed<8,3,RND,SAT>");
        assert!(FixedType::parse("float").is_err());
        assert_eq!(
            FixedType::parse("fixed<0,1>").unwrap_err().to_string(),
            "'fixed<0,1>': width 0 must be between 1 and 64 bits"
        );
        assert_eq!(
            FixedType::parse("fixed<8,3,RND,CLAMP>").unwrap_err(),
            FixedTypeError::Overflow { text: "fixed<8,3,RND,CLAMP>".into(), mode: "CLAMP".into() }
        );
        assert_eq!(FixedType::parse("int<8>").unwrap().range(), (-128, 127));
    }
}
