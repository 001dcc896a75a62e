//! The bus layout of a top module as the harnesses see it: its packed input and output elements
//! and, for stream designs, the frame of beats an input vector takes.

use crate::cosim_error::CosimError;
use serde::{Deserialize, Serialize};

/// One element of a packed bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortElem {
    /// Width in bits, 1..=128.
    pub width: u32,
    /// Two's complement if true, unsigned otherwise.
    pub signed: bool,
}

impl PortElem {
    /// A signed element of `width` bits.
    pub fn signed(width: u32) -> Self {
        PortElem { width, signed: true }
    }

    /// An unsigned element of `width` bits.
    pub fn unsigned(width: u32) -> Self {
        PortElem { width, signed: false }
    }

    /// Whether `v` is a value of this element. An unsigned 128-bit element
    /// accepts every `i128`, read as its bit pattern (values ≥ 2^127 are
    /// carried as negative `i128`s).
    pub fn contains(&self, v: i128) -> bool {
        match (self.signed, self.width) {
            (_, 0) | (_, 129..) => false,
            (_, 128) => true,
            (true, w) => {
                let half = 1i128 << (w - 1);
                (-half..half).contains(&v)
            }
            (false, w) => (0..1i128 << w).contains(&v),
        }
    }

    /// `"signed 7-bit"` / `"unsigned 1-bit"`, for messages.
    pub fn describe(&self) -> String {
        let s = if self.signed { "signed" } else { "unsigned" };
        format!("{s} {}-bit", self.width)
    }
}

/// The name and bus layout of a top module.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopInterface {
    /// The Verilog module name.
    pub top: String,
    /// Elements of `in_data`, element 0 in the least significant bits.
    pub inputs: Vec<PortElem>,
    /// Elements of `out_data`, element 0 in the least significant bits.
    pub outputs: Vec<PortElem>,
    /// Stream style: an input vector is a frame of `frame.len() / inputs.len()` consecutive
    /// beats, and slot `s` of beat `k` carries vector element `frame[k · inputs.len() + s]`.
    /// Empty: one beat carries the whole vector.
    #[serde(default)]
    pub frame: Vec<u32>,
}

impl TopInterface {
    /// Beats per input vector.
    pub fn beats(&self) -> usize {
        if self.frame.is_empty() {
            1
        } else {
            self.frame.len() / self.inputs.len().max(1)
        }
    }

    /// The element type of every entry of an input vector (of `frame.len()` entries in the
    /// stream style).
    pub fn vector_elems(&self) -> Vec<PortElem> {
        if self.frame.is_empty() {
            return self.inputs.clone();
        }
        let mut v = vec![self.inputs[0]; self.frame.len()];
        for (k, &e) in self.frame.iter().enumerate() {
            v[e as usize] = self.inputs[k % self.inputs.len()];
        }
        v
    }

    /// Total width of `in_data`.
    pub fn in_bits(&self) -> u32 {
        self.inputs.iter().map(|e| e.width).sum()
    }

    /// Total width of `out_data`.
    pub fn out_bits(&self) -> u32 {
        self.outputs.iter().map(|e| e.width).sum()
    }

    /// Checks that the name is a plain Verilog identifier and every bus has
    /// at least one element, all 1..=128 bits wide.
    pub fn validate(&self) -> Result<(), CosimError> {
        let bad = |reason: String| CosimError::Interface { top: self.top.clone(), reason };
        let mut chars = self.top.chars();
        let ident_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ident_ok {
            return Err(bad("the top name must be a simple Verilog identifier ([A-Za-z_][A-Za-z0-9_]*)".into()));
        }
        for (dir, elems) in [("input", &self.inputs), ("output", &self.outputs)] {
            if elems.is_empty() {
                return Err(bad(format!("no {dir} elements")));
            }
            if let Some((i, e)) = elems.iter().enumerate().find(|(_, e)| !(1..=128).contains(&e.width)) {
                return Err(bad(format!("{dir} element {i} is {} bits wide (allowed: 1..=128)", e.width)));
            }
            // Verilator's own limit on a signal width is 64 Ki bits.
            if elems.iter().map(|e| u64::from(e.width)).sum::<u64>() > 65_536 {
                return Err(bad(format!("the {dir} bus is wider than 65536 bits")));
            }
        }
        if !self.frame.is_empty() {
            let mut seen = vec![false; self.frame.len()];
            let ok = self.frame.len().is_multiple_of(self.inputs.len())
                && self
                    .frame
                    .iter()
                    .all(|&e| (e as usize) < seen.len() && !std::mem::replace(&mut seen[e as usize], true));
            if !ok {
                return Err(bad(format!(
                    "the frame map must be a permutation of the {} vector elements, {} per beat",
                    self.frame.len(),
                    self.inputs.len()
                )));
            }
        }
        Ok(())
    }
}
