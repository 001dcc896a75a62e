//! The supported `.npy` element types and their decoding into [`NpyData`].
//!
//! A descriptor is a byte-order character (`<` little, `>` big, `|` not
//! applicable, `=` native), a kind (`f`, `i`, `u`, `b`/`?`) and a size in
//! bytes. Floats keep their precision; every integer kind and bool is widened
//! to `i64`.

use super::NpyData;

/// What kind of number an element is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Float,
    Int,
    UInt,
    Bool,
}

/// A supported element type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dtype {
    pub kind: Kind,
    /// Bytes per element.
    pub size: usize,
    pub big_endian: bool,
}

/// Parses a descriptor such as `<f4`, `>i2`, `|u1` or `|b1`; `None` if unsupported.
pub(crate) fn parse_descr(descr: &str) -> Option<Dtype> {
    let (order, rest) = match descr.as_bytes().first()? {
        b'<' | b'>' | b'|' | b'=' => (descr.as_bytes()[0], &descr[1..]),
        _ => (b'=', descr),
    };
    let (kind, size) = match rest {
        "f4" => (Kind::Float, 4),
        "f8" => (Kind::Float, 8),
        "i1" => (Kind::Int, 1),
        "i2" => (Kind::Int, 2),
        "i4" => (Kind::Int, 4),
        "i8" => (Kind::Int, 8),
        "u1" => (Kind::UInt, 1),
        "u2" => (Kind::UInt, 2),
        "u4" => (Kind::UInt, 4),
        "u8" => (Kind::UInt, 8),
        "b1" | "?" => (Kind::Bool, 1),
        _ => return None,
    };
    let big_endian = match order {
        b'<' => false,
        b'>' => true,
        b'=' => cfg!(target_endian = "big"),
        // '|' means "byte order not applicable", which is only true of 1-byte types.
        _ if size == 1 => false,
        _ => return None,
    };
    Some(Dtype { kind, size, big_endian })
}

/// Why decoding stopped: a `u8` element too large for `i64`.
#[derive(Debug)]
pub(crate) struct OutOfRange {
    pub index: usize,
    pub value: u64,
}

/// Decodes `bytes` (exactly `count × size` long, checked by the caller).
pub(crate) fn decode(bytes: &[u8], dt: Dtype) -> Result<NpyData, OutOfRange> {
    let words = bytes.chunks_exact(dt.size).map(|c| {
        let mut buf = [0u8; 8];
        if dt.big_endian {
            buf[8 - dt.size..].copy_from_slice(c);
            u64::from_be_bytes(buf)
        } else {
            buf[..dt.size].copy_from_slice(c);
            u64::from_le_bytes(buf)
        }
    });
    let shift = 64 - 8 * dt.size as u32;
    Ok(match dt.kind {
        Kind::Float if dt.size == 4 => NpyData::F32(words.map(|w| f32::from_bits(w as u32)).collect()),
        Kind::Float => NpyData::F64(words.map(f64::from_bits).collect()),
        // Shift the sign bit to the top and back to sign-extend.
        Kind::Int => NpyData::I64(words.map(|w| ((w << shift) as i64) >> shift).collect()),
        Kind::Bool => NpyData::I64(words.map(|w| i64::from(w != 0)).collect()),
        Kind::UInt => NpyData::I64(
            words
                .enumerate()
                .map(|(index, w)| i64::try_from(w).map_err(|_| OutOfRange { index, value: w }))
                .collect::<Result<_, _>>()?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors() {
        let d = parse_descr("<i2").unwrap();
        assert_eq!((d.kind, d.size, d.big_endian), (Kind::Int, 2, false));
        assert!(parse_descr(">f8").unwrap().big_endian);
        assert_eq!(parse_descr("|b1").unwrap().kind, Kind::Bool);
        assert_eq!(parse_descr("|u1").unwrap().kind, Kind::UInt);
        for bad in ["<f2", "<c8", "|i4", "<U3", "", "<", "[('a', '<i4')]", "<M8[ns]"] {
            assert!(parse_descr(bad).is_none(), "accepted {bad:?}");
        }
    }

    #[test]
    fn decodes_signed_and_big_endian() {
        let dt = parse_descr(">i2").unwrap();
        let NpyData::I64(v) = decode(&[0xff, 0xfe, 0x00, 0x05], dt).unwrap() else { panic!() };
        assert_eq!(v, vec![-2, 5]);
        let dt = parse_descr("<u8").unwrap();
        let err = decode(&u64::MAX.to_le_bytes(), dt).unwrap_err();
        assert_eq!((err.index, err.value), (0, u64::MAX));
    }
}
