//! Reading and writing NumPy `.npy` files without a NumPy dependency.
//!
//! Reads format versions 1.0, 2.0 and 3.0, little- and big-endian, dtypes
//! f4, f8, i1, i2, i4, i8, u1, u2, u4, u8 and bool, C order only. Floats stay
//! floats ([`NpyData::F32`] / [`NpyData::F64`]); integers and bools are widened
//! to `i64` ([`NpyData::I64`]). Writes version 1.0 (2.0 if the header would
//! not fit) little-endian `<f4`, `<f8` and `<i8`.
//!
//! The reader never trusts the declared shape: the element count is computed
//! with overflow checks and compared with the bytes actually in the file
//! before anything is allocated for it.

mod dtype;
mod error;
mod header;

pub use error::NpyError;

use std::path::{Path, PathBuf};

/// An n-dimensional array read from a `.npy` file, in C (row-major) order.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The dimensions; empty for a 0-d (scalar) array.
    pub shape: Vec<usize>,
    /// The elements, flattened in C order.
    pub data: NpyData,
}

/// The elements of an [`NpyArray`].
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    /// `f4` elements.
    F32(Vec<f32>),
    /// `f8` elements.
    F64(Vec<f64>),
    /// Any integer dtype or bool (as 0/1), widened to `i64`.
    I64(Vec<i64>),
}

impl NpyArray {
    /// Number of elements (the product of the shape).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements as `f64` (exact for f4, f8 and integers up to 2^53 in magnitude).
    pub fn to_f64(&self) -> Vec<f64> {
        self.data.to_f64()
    }
}

impl NpyData {
    /// Number of elements.
    pub fn len(&self) -> usize {
        match self {
            NpyData::F32(v) => v.len(),
            NpyData::F64(v) => v.len(),
            NpyData::I64(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The elements as `f64` (exact for f4, f8 and integers up to 2^53 in magnitude).
    pub fn to_f64(&self) -> Vec<f64> {
        match self {
            NpyData::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            NpyData::F64(v) => v.clone(),
            NpyData::I64(v) => v.iter().map(|&x| x as f64).collect(),
        }
    }
}

/// Reads a `.npy` file.
pub fn read_npy(path: impl AsRef<Path>) -> Result<NpyArray, NpyError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| NpyError::Io { path: path.into(), source })?;
    parse_npy(&bytes, path)
}

/// Decodes the bytes of a `.npy` file; `path` is only used in error messages.
pub fn parse_npy(bytes: &[u8], path: &Path) -> Result<NpyArray, NpyError> {
    let p = || PathBuf::from(path);
    let truncated = |what: String| NpyError::Truncated { path: p(), what };
    if bytes.len() < header::MAGIC.len() || &bytes[..6] != header::MAGIC {
        return Err(NpyError::BadMagic { path: p() });
    }
    let (major, minor) = match bytes.get(6..8) {
        Some(v) => (v[0], v[1]),
        None => return Err(truncated("version bytes missing".into())),
    };
    let len_bytes = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => return Err(NpyError::UnsupportedVersion { path: p(), major, minor }),
    };
    let len_field = bytes.get(8..8 + len_bytes).ok_or_else(|| truncated("header length field missing".into()))?;
    let header_len = len_field.iter().rev().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    let data_start = (8 + len_bytes).saturating_add(header_len);
    let header_bytes = bytes.get(8 + len_bytes..data_start).ok_or_else(|| {
        truncated(format!("header declares {header_len} bytes but only {} follow", bytes.len() - 8 - len_bytes))
    })?;
    let header_text: String = if major == 3 {
        std::str::from_utf8(header_bytes)
            .map_err(|e| NpyError::BadHeader { path: p(), reason: format!("not UTF-8: {e}") })?
            .to_string()
    } else {
        // Latin-1: every byte is the code point of the same value.
        header_bytes.iter().map(|&b| char::from(b)).collect()
    };
    let h = header::parse_header(&header_text).map_err(|reason| NpyError::BadHeader { path: p(), reason })?;
    let dt =
        dtype::parse_descr(&h.descr).ok_or_else(|| NpyError::UnsupportedDtype { path: p(), descr: h.descr.clone() })?;
    if h.fortran_order {
        return Err(NpyError::FortranOrder { path: p() });
    }
    let data = &bytes[data_start..];
    let expected = h.shape.iter().try_fold(dt.size as u128, |acc, &d| acc.checked_mul(d as u128));
    let length_error = |expected| NpyError::DataLength {
        path: p(),
        shape: h.shape.clone(),
        itemsize: dt.size,
        expected,
        actual: data.len(),
    };
    match expected {
        Some(e) if e == data.len() as u128 => {}
        Some(e) if e > data.len() as u128 => {
            return Err(truncated(format!(
                "shape {:?} × itemsize {} needs {e} data bytes, but only {} are present",
                h.shape,
                dt.size,
                data.len()
            )))
        }
        Some(e) => return Err(length_error(e)),
        None => {
            return Err(NpyError::BadHeader {
                path: p(),
                reason: format!("shape {:?} describes more than 2^128 bytes", h.shape),
            })
        }
    }
    let data =
        dtype::decode(data, dt).map_err(|e| NpyError::ValueOutOfRange { path: p(), index: e.index, value: e.value })?;
    Ok(NpyArray { shape: h.shape, data })
}

/// Writes `data` (C order) with the given shape as little-endian `<f4`.
pub fn write_npy_f32(path: impl AsRef<Path>, shape: &[usize], data: &[f32]) -> Result<(), NpyError> {
    write_raw(path.as_ref(), "<f4", shape, data.len(), data.iter().flat_map(|x| x.to_le_bytes()))
}

/// Writes `data` (C order) with the given shape as little-endian `<f8`.
pub fn write_npy_f64(path: impl AsRef<Path>, shape: &[usize], data: &[f64]) -> Result<(), NpyError> {
    write_raw(path.as_ref(), "<f8", shape, data.len(), data.iter().flat_map(|x| x.to_le_bytes()))
}

/// Writes `data` (C order) with the given shape as little-endian `<i8`.
pub fn write_npy_i64(path: impl AsRef<Path>, shape: &[usize], data: &[i64]) -> Result<(), NpyError> {
    write_raw(path.as_ref(), "<i8", shape, data.len(), data.iter().flat_map(|x| x.to_le_bytes()))
}

fn write_raw(
    path: &Path,
    descr: &str,
    shape: &[usize],
    count: usize,
    payload: impl Iterator<Item = u8>,
) -> Result<(), NpyError> {
    let expected = shape.iter().try_fold(1u128, |acc, &d| acc.checked_mul(d as u128));
    if expected != Some(count as u128) {
        return Err(NpyError::ShapeMismatch {
            path: path.into(),
            shape: shape.to_vec(),
            expected: expected.unwrap_or(u128::MAX),
            actual: count,
        });
    }
    let mut bytes = header::format_header(descr, shape);
    bytes.extend(payload);
    std::fs::write(path, bytes).map_err(|source| NpyError::Io { path: path.into(), source })
}
