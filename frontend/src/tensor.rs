//! Constant tensors: decoding `TensorProto` (inline typed fields, `raw_data`, external data files)
//! into a dense `Tensor` of `f64` values that remembers whether the model computes it in `f32`.

use crate::proto::{data_location, data_type, TensorProto};
use std::path::{Component, Path, PathBuf};

/// Largest number of elements Tachyon accepts in one tensor (guards against absurd declared sizes).
pub const MAX_ELEMENTS: usize = 1 << 28;

/// Element type of a tensor, as far as arithmetic semantics go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DType {
    /// IEEE binary32: every value is an f32; float ops on it round to f32.
    F32,
    /// IEEE binary64.
    F64,
    /// Any integer type (values exact in f64 up to 2^53).
    Int,
    Bool,
}

/// A dense constant tensor in C order. Values are stored as f64, which holds every f32, every
/// f64 and every integer up to 2^53 exactly.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tensor {
    pub dtype: DType,
    pub shape: Vec<usize>,
    #[serde(with = "crate::serde_f64::vec")]
    pub data: Vec<f64>,
}

impl Tensor {
    pub fn new(dtype: DType, shape: Vec<usize>, data: Vec<f64>) -> Tensor {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Tensor { dtype, shape, data }
    }
    pub fn scalar(dtype: DType, v: f64) -> Tensor {
        Tensor::new(dtype, vec![], vec![v])
    }
    pub fn len(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    /// The single value of a one-element tensor.
    pub fn as_scalar(&self) -> Option<f64> {
        (self.data.len() == 1).then(|| self.data[0])
    }
    /// Values as integers (shapes, axes, indices); `None` if any is not integral.
    pub fn as_ints(&self) -> Option<Vec<i64>> {
        self.data.iter().map(|&v| (v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64)).collect()
    }
}

/// Why a tensor (an initializer, a `Constant`'s value, a declared shape) cannot be decoded. The
/// messages say what is wrong with the tensor; the caller adds which tensor or node it is.
#[derive(Debug, thiserror::Error)]
pub enum TensorError {
    #[error("negative dimension {dim} in shape {dims:?}")]
    NegativeDim { dim: i64, dims: Vec<i64> },
    #[error("shape {dims:?} has more than {MAX_ELEMENTS} elements")]
    TooLarge { dims: Vec<i64> },
    #[error("element type {} is not supported (use float32, float64 or an integer type)", dtype_name(*.data_type))]
    UnsupportedType { data_type: i32 },
    #[error("holds {bytes} bytes of data but its shape {dims:?} of {} needs {needed}", dtype_name(*.data_type))]
    RawSize { bytes: usize, dims: Vec<i64>, data_type: i32, needed: usize },
    #[error("holds {values} values but its shape {dims:?} needs {needed}")]
    ValueCount { values: usize, dims: Vec<i64>, needed: usize },
    #[error("external data without a 'location' entry")]
    NoLocation,
    #[error("external data location '{location}' leaves the model's folder (absolute path or '..'); Tachyon only reads data files beside the model")]
    LocationEscapes { location: String },
    #[error("external data '{key}' = '{value}' is not a number")]
    ExternalNumber { key: String, value: String },
    /// (`error` is not a `source`: its text is already part of this message.)
    #[error("cannot read external data file {}: {error}", path.display())]
    ExternalRead { path: PathBuf, error: std::io::Error },
    #[error("external data offset {offset} is beyond the end of {} ({len} bytes)", path.display())]
    OffsetBeyondEnd { offset: u64, path: PathBuf, len: usize },
    #[error("external data [{offset}, +{length}) is beyond the end of {} ({len} bytes)", path.display())]
    RangeBeyondEnd { offset: u64, length: u64, path: PathBuf, len: usize },
}

/// Number of elements of `dims`, refusing negative dims and sizes above [`MAX_ELEMENTS`].
pub fn checked_numel(dims: &[i64]) -> Result<usize, TensorError> {
    let mut n: usize = 1;
    for &d in dims {
        if d < 0 {
            return Err(TensorError::NegativeDim { dim: d, dims: dims.to_vec() });
        }
        n = n
            .checked_mul(d as usize)
            .filter(|&n| n <= MAX_ELEMENTS)
            .ok_or_else(|| TensorError::TooLarge { dims: dims.to_vec() })?;
    }
    Ok(n)
}

/// Decodes a `TensorProto`. `model_dir` resolves external data; locations must stay inside it.
pub fn decode_tensor(t: &TensorProto, model_dir: &Path) -> Result<Tensor, TensorError> {
    let n = checked_numel(&t.dims)?;
    let shape: Vec<usize> = t.dims.iter().map(|&d| d as usize).collect();
    let (dtype, width) = match t.data_type {
        data_type::FLOAT => (DType::F32, 4),
        data_type::DOUBLE => (DType::F64, 8),
        data_type::INT8 | data_type::UINT8 => (DType::Int, 1),
        data_type::INT16 | data_type::UINT16 => (DType::Int, 2),
        data_type::INT32 | data_type::UINT32 => (DType::Int, 4),
        data_type::INT64 | data_type::UINT64 => (DType::Int, 8),
        data_type::BOOL => (DType::Bool, 1),
        data_type::FLOAT16 => (DType::F32, 2),
        data_type::INT4 | data_type::UINT4 => return decode_int4(t, model_dir, n, shape),
        other => return Err(TensorError::UnsupportedType { data_type: other }),
    };
    let external;
    let raw: Option<&[u8]> = if t.data_location == data_location::EXTERNAL {
        external = read_external(t, model_dir)?;
        Some(&external)
    } else if !t.raw_data.is_empty() || n == 0 {
        Some(&t.raw_data)
    } else {
        None
    };
    let data: Vec<f64> = match raw {
        Some(bytes) => {
            if bytes.len() != n * width {
                return Err(TensorError::RawSize {
                    bytes: bytes.len(),
                    dims: t.dims.clone(),
                    data_type: t.data_type,
                    needed: n * width,
                });
            }
            bytes.chunks_exact(width).map(|c| raw_value(t.data_type, c)).collect()
        }
        None => {
            let typed: Vec<f64> = match t.data_type {
                data_type::FLOAT => t.float_data.iter().map(|&v| v as f64).collect(),
                data_type::DOUBLE => t.double_data.clone(),
                data_type::INT64 => t.int64_data.iter().map(|&v| v as f64).collect(),
                data_type::UINT32 | data_type::UINT64 => t.uint64_data.iter().map(|&v| v as f64).collect(),
                data_type::FLOAT16 => t.int32_data.iter().map(|&v| f16_to_f64(v as u16)).collect(),
                _ => t.int32_data.iter().map(|&v| v as f64).collect(),
            };
            if typed.len() != n {
                return Err(TensorError::ValueCount { values: typed.len(), dims: t.dims.clone(), needed: n });
            }
            typed
        }
    };
    Ok(Tensor { dtype, shape, data })
}

/// A packed 4-bit tensor: two elements per byte, the lower index in the lower nibble, in
/// `raw_data` (or external data) or one byte per `int32_data` value (ONNX IR 10).
fn decode_int4(t: &TensorProto, model_dir: &Path, n: usize, shape: Vec<usize>) -> Result<Tensor, TensorError> {
    let bytes: Vec<u8> = if t.data_location == data_location::EXTERNAL {
        read_external(t, model_dir)?
    } else if !t.raw_data.is_empty() || n == 0 {
        t.raw_data.clone()
    } else {
        t.int32_data.iter().map(|&v| v as u8).collect()
    };
    let needed = n.div_ceil(2);
    if bytes.len() != needed {
        return Err(TensorError::RawSize { bytes: bytes.len(), dims: t.dims.clone(), data_type: t.data_type, needed });
    }
    let signed = t.data_type == data_type::INT4;
    let data = (0..n)
        .map(|i| {
            let nibble = (bytes[i / 2] >> (4 * (i % 2))) & 0xf;
            if signed && nibble >= 8 {
                nibble as f64 - 16.0
            } else {
                nibble as f64
            }
        })
        .collect();
    Ok(Tensor { dtype: DType::Int, shape, data })
}

fn raw_value(dt: i32, c: &[u8]) -> f64 {
    let mut b8 = [0u8; 8];
    b8[..c.len()].copy_from_slice(c);
    match dt {
        data_type::FLOAT => f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64,
        data_type::DOUBLE => f64::from_le_bytes(b8),
        data_type::INT8 => c[0] as i8 as f64,
        data_type::UINT8 | data_type::BOOL => c[0] as f64,
        data_type::INT16 => i16::from_le_bytes([c[0], c[1]]) as f64,
        data_type::UINT16 => u16::from_le_bytes([c[0], c[1]]) as f64,
        data_type::INT32 => i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64,
        data_type::UINT32 => u32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64,
        data_type::INT64 => i64::from_le_bytes(b8) as f64,
        data_type::UINT64 => u64::from_le_bytes(b8) as f64,
        data_type::FLOAT16 => f16_to_f64(u16::from_le_bytes([c[0], c[1]])),
        _ => f64::NAN,
    }
}

fn f16_to_f64(h: u16) -> f64 {
    let sign = if h & 0x8000 != 0 { -1.0 } else { 1.0 };
    let exp = ((h >> 10) & 0x1f) as i32;
    let man = (h & 0x3ff) as f64;
    match exp {
        0 => sign * man * 2f64.powi(-24),
        31 => {
            if man == 0.0 {
                sign * f64::INFINITY
            } else {
                f64::NAN
            }
        }
        e => sign * (1.0 + man / 1024.0) * 2f64.powi(e - 15),
    }
}

fn read_external(t: &TensorProto, model_dir: &Path) -> Result<Vec<u8>, TensorError> {
    let get = |k: &str| t.external_data.iter().find(|e| e.key == k).map(|e| e.value.as_str());
    let location = get("location").ok_or(TensorError::NoLocation)?;
    let rel = Path::new(location);
    if rel.is_absolute() || rel.components().any(|c| !matches!(c, Component::Normal(_) | Component::CurDir)) {
        return Err(TensorError::LocationEscapes { location: location.to_string() });
    }
    let parse = |k: &str| -> Result<Option<u64>, TensorError> {
        get(k)
            .map(|v| {
                v.parse::<u64>().map_err(|_| TensorError::ExternalNumber { key: k.to_string(), value: v.to_string() })
            })
            .transpose()
    };
    let offset = parse("offset")?.unwrap_or(0);
    let length = parse("length")?;
    let path = model_dir.join(rel);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(error) => return Err(TensorError::ExternalRead { path, error }),
    };
    let len = bytes.len();
    let Some(start) = usize::try_from(offset).ok().filter(|&s| s <= len) else {
        return Err(TensorError::OffsetBeyondEnd { offset, path, len });
    };
    let end = match length {
        Some(l) => match start.checked_add(l as usize).filter(|&e| e <= len) {
            Some(e) => e,
            None => return Err(TensorError::RangeBeyondEnd { offset, length: l, path, len }),
        },
        None => len,
    };
    Ok(bytes[start..end].to_vec())
}

/// Human name of an ONNX data type code.
pub fn dtype_name(dt: i32) -> String {
    let s = match dt {
        data_type::FLOAT => "float32",
        data_type::UINT8 => "uint8",
        data_type::INT8 => "int8",
        data_type::UINT16 => "uint16",
        data_type::INT16 => "int16",
        data_type::INT32 => "int32",
        data_type::INT64 => "int64",
        data_type::STRING => "string",
        data_type::BOOL => "bool",
        data_type::FLOAT16 => "float16",
        data_type::DOUBLE => "float64",
        data_type::UINT32 => "uint32",
        data_type::UINT64 => "uint64",
        data_type::UINT4 => "uint4",
        data_type::INT4 => "int4",
        data_type::COMPLEX64 => "complex64",
        data_type::COMPLEX128 => "complex128",
        data_type::BFLOAT16 => "bfloat16",
        _ => return format!("type code {dt}"),
    };
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packed 4-bit tensors: lower index in the lower nibble, an odd count leaves the last high
    /// nibble unused; `int32_data` holds one packed byte per value.
    #[test]
    fn int4_tensors_unpack_low_nibble_first() {
        let t = |dt, raw: Vec<u8>, i32s: Vec<i32>| TensorProto {
            dims: vec![3],
            data_type: dt,
            raw_data: raw,
            int32_data: i32s,
            ..Default::default()
        };
        let dir = Path::new(".");
        let int4 = decode_tensor(&t(data_type::INT4, vec![0x8f, 0x07], vec![]), dir).unwrap();
        assert_eq!(int4.data, [-1.0, -8.0, 7.0]);
        let uint4 = decode_tensor(&t(data_type::UINT4, vec![], vec![0x8f, 0x07]), dir).unwrap();
        assert_eq!(uint4.data, [15.0, 8.0, 7.0]);
        assert!(decode_tensor(&t(data_type::INT4, vec![0x8f], vec![]), dir).is_err());
    }
}
