//! Model-level invariants: ids, layer names and origins, tensors, the input conversion, the
//! dataflow order and the epilogue (items 1–5 and 10 of [`crate::verify`]). The id check runs
//! first; everything after it may index tensors by the ids the model stores.

use super::error::{Site, VerifyError};
use super::MAX_FRAC;
use crate::fixed::Elem;
use crate::qir::{InputConv, Layer, QModel, TensorId};
use std::collections::HashSet;

/// Every tensor id stored in the model is in range.
pub(super) fn check_ids(m: &QModel) -> Result<(), VerifyError> {
    let count = m.tensors.len();
    let check = |site: &dyn Fn() -> Site, role: &'static str, id: TensorId| {
        if (id.0 as usize) < count {
            Ok(())
        } else {
            Err(VerifyError::BadTensorId { site: site(), role, id, count })
        }
    };
    check(&|| Site::Input, "the model input", m.input)?;
    check(&|| Site::Output, "the model output", m.output)?;
    for l in &m.layers {
        let site = || Site::Layer(l.name.clone());
        for &t in &l.inputs {
            check(&site, "an input", t)?;
        }
        check(&site, "its output", l.output)?;
    }
    Ok(())
}

/// ASCII letters, digits and `_`, not empty, not starting with a digit.
fn verilog_friendly(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Layer names are Verilog-friendly and unique; every layer has an origin.
pub(super) fn check_names(m: &QModel) -> Result<(), VerifyError> {
    let mut seen = HashSet::with_capacity(m.layers.len());
    for l in &m.layers {
        if !verilog_friendly(&l.name) {
            return Err(VerifyError::BadLayerName { layer: l.name.clone() });
        }
        if !seen.insert(l.name.as_str()) {
            return Err(VerifyError::DuplicateLayerName { layer: l.name.clone() });
        }
        if l.origin.is_empty() {
            return Err(VerifyError::NoOrigin { layer: l.name.clone() });
        }
    }
    Ok(())
}

/// Element count against the shape, and every element's interval, grid and width (at most
/// `max_width` bits).
pub(super) fn check_tensor(m: &QModel, site: &Site, id: TensorId, max_width: u32) -> Result<(), VerifyError> {
    let t = m.tensor(id);
    let expected = t.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).unwrap_or(usize::MAX);
    if expected != t.elems.len() {
        return Err(VerifyError::ShapeMismatch {
            site: site.clone(),
            tensor: id,
            shape: t.shape.clone(),
            expected,
            elems: t.elems.len(),
        });
    }
    for (element, e) in t.elems.iter().enumerate() {
        let site = || site.clone();
        if e.lo > e.hi {
            return Err(VerifyError::EmptyInterval { site: site(), tensor: id, element, lo: e.lo, hi: e.hi });
        }
        if e.frac.unsigned_abs() > MAX_FRAC as u32 {
            return Err(VerifyError::FracOutOfRange { site: site(), tensor: id, element, frac: e.frac, max: MAX_FRAC });
        }
        if e.width() > max_width {
            return Err(VerifyError::TooWide { site: site(), tensor: id, element, width: e.width(), max: max_width });
        }
    }
    Ok(())
}

/// The input tensor, and the type the prologue quantizes to.
pub(super) fn check_input(m: &QModel) -> Result<(), VerifyError> {
    // The input bus may carry any i128 interval; the width limit is for computed values.
    check_tensor(m, &Site::Input, m.input, 128)?;
    if let InputConv::Type(ty) = &m.prologue.conv {
        if !(1..=64).contains(&ty.width) {
            return Err(VerifyError::BadInputType { ty: ty.to_string() });
        }
        let (lo, hi) = ty.range();
        let inside = |e: &Elem| e.frac == ty.frac() && lo <= e.lo && e.hi <= hi;
        if let Some((element, e)) = m.input_elems().iter().enumerate().find(|(_, e)| !inside(e)) {
            return Err(VerifyError::InputOutsideType { element, elem: e.describe(), ty: ty.to_string() });
        }
    }
    Ok(())
}

/// Who defined each tensor so far, in layer order.
pub(super) struct Writers {
    by: Vec<Option<Site>>,
}

impl Writers {
    /// Only the model input is defined before the first layer.
    pub(super) fn new(m: &QModel) -> Writers {
        let mut by = vec![None; m.tensors.len()];
        by[m.input.0 as usize] = Some(Site::Input);
        Writers { by }
    }

    /// `l` reads only defined tensors and defines its output for the first time.
    pub(super) fn define(&mut self, l: &Layer) -> Result<(), VerifyError> {
        if l.inputs.is_empty() {
            return Err(VerifyError::NoInputs { layer: l.name.clone() });
        }
        if let Some(&tensor) = l.inputs.iter().find(|t| self.by[t.0 as usize].is_none()) {
            return Err(VerifyError::ReadBeforeDefined { layer: l.name.clone(), tensor });
        }
        let slot = &mut self.by[l.output.0 as usize];
        if let Some(first) = slot {
            return Err(VerifyError::WrittenTwice { layer: l.name.clone(), tensor: l.output, first: first.clone() });
        }
        *slot = Some(Site::Layer(l.name.clone()));
        Ok(())
    }

    /// After all layers: the model output is defined.
    pub(super) fn check_output(&self, m: &QModel) -> Result<(), VerifyError> {
        match self.by[m.output.0 as usize] {
            Some(_) => Ok(()),
            None => Err(VerifyError::OutputUndefined { tensor: m.output }),
        }
    }
}

/// The epilogue's first step reads as many elements as the output has.
pub(super) fn check_epilogue(m: &QModel) -> Result<(), VerifyError> {
    if m.epilogue.is_empty() {
        return Ok(());
    }
    let shape = &m.epilogue_shape;
    let expected = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)).unwrap_or(usize::MAX);
    let elems = m.output_elems().len();
    if expected != elems {
        return Err(VerifyError::EpilogueShape { tensor: m.output, shape: shape.clone(), expected, elems });
    }
    Ok(())
}
