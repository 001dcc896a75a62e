//! Typed access to a node's attributes.

use super::ImportError;
use crate::proto::{attribute_type, data_type, AttributeProto, TensorProto};

/// The attributes of one node.
pub struct Attrs<'a>(pub &'a [AttributeProto]);

impl<'a> Attrs<'a> {
    fn get(&self, name: &str) -> Option<&'a AttributeProto> {
        self.0.iter().find(|a| a.name == name)
    }
    pub fn int(&self, name: &str) -> Option<i64> {
        self.get(name).map(|a| a.i)
    }
    pub fn int_or(&self, name: &str, default: i64) -> i64 {
        self.int(name).unwrap_or(default)
    }
    pub fn float(&self, name: &str) -> Option<f64> {
        self.get(name).map(|a| a.f as f64)
    }
    pub fn float_or(&self, name: &str, default: f64) -> f64 {
        self.get(name).map(|a| a.f as f64).unwrap_or(default)
    }
    pub fn ints(&self, name: &str) -> Option<Vec<i64>> {
        self.get(name).map(|a| a.ints.clone())
    }
    pub fn floats(&self, name: &str) -> Option<Vec<f64>> {
        self.get(name).map(|a| a.floats.iter().map(|&v| f64::from(v)).collect())
    }
    pub fn string(&self, name: &str) -> Option<String> {
        self.get(name).map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }
    pub fn tensor(&self, name: &str) -> Option<TensorProto> {
        self.get(name).and_then(|a| a.t.clone())
    }
    /// `Constant` written with `value_float(s)` / `value_int(s)` instead of a tensor.
    pub fn constant_from_scalars(&self) -> Option<TensorProto> {
        let a = self.0.first()?;
        let mut t = TensorProto::default();
        match (a.name.as_str(), a.r#type) {
            ("value_float", _) => {
                t.data_type = data_type::FLOAT;
                t.float_data = vec![a.f];
            }
            ("value_floats", _) => {
                t.data_type = data_type::FLOAT;
                t.dims = vec![a.floats.len() as i64];
                t.float_data = a.floats.clone();
            }
            ("value_int", _) => {
                t.data_type = data_type::INT64;
                t.int64_data = vec![a.i];
            }
            ("value_ints", attribute_type::INTS) | ("value_ints", _) => {
                t.data_type = data_type::INT64;
                t.dims = vec![a.ints.len() as i64];
                t.int64_data = a.ints.clone();
            }
            _ => return None,
        }
        Some(t)
    }
    /// 0/1 flag; any other value is malformed.
    pub fn flag(&self, name: &str, default: bool) -> Result<bool, ImportError> {
        match self.int(name) {
            None => Ok(default),
            Some(0) => Ok(false),
            Some(1) => Ok(true),
            Some(value) => Err(ImportError::NotAFlag { name: name.to_string(), value }),
        }
    }
}
