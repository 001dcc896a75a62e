//! Per-kind invariants of one layer: element counts and indices, grids and parameters (items
//! 6–8 of [`crate::verify`]). After these pass, every index a kind stores addresses its inputs
//! and [`super::bounds`] may evaluate the kind on intervals without panicking.

use super::error::VerifyError;
use super::MAX_MANT_BITS;
use crate::fixed::{Elem, Overflow};
use crate::qir::{Layer, LayerKind, LayerNormSpec, Steps};

/// Largest magnitude of a layer normalization's `p`, `hmax` and `shift`.
const MAX_LAYERNORM_EXPONENT: u32 = 1 << 20;

/// The checks of one layer, reading `xe` (its inputs' elements, concatenated) and writing `ye`.
pub(super) fn check(l: &Layer, xe: &[Elem], ye: &[Elem]) -> Result<(), VerifyError> {
    let c = Ctx { l, kind: l.kind.mnemonic(), inputs: xe.len(), outputs: ye.len() };
    match &l.kind {
        LayerKind::Linear { rows, bias } => {
            c.count("rows", rows.len())?;
            c.count("biases", bias.len())?;
            for &(j, _) in rows.iter().flatten() {
                c.index("row entry", j)?;
            }
        }
        LayerKind::Requant(rs) => {
            c.count("requant specs", rs.len())?;
            c.count("input elements", xe.len())?;
            for (element, ((r, x), y)) in rs.iter().zip(xe).zip(ye).enumerate() {
                if r.lo > r.hi {
                    return Err(VerifyError::RequantRange { layer: c.name(), element, lo: r.lo, hi: r.hi });
                }
                if r.div % 2 == 0 || (r.div > 1 && r.overflow == Overflow::Wrap) {
                    return Err(VerifyError::RequantDivisor { layer: c.name(), element, div: r.div });
                }
                for (side, spec, actual) in [("input", r.from_frac, x.frac), ("output", r.to_frac, y.frac)] {
                    if spec != actual {
                        return Err(VerifyError::RequantGrid { layer: c.name(), element, side, spec, actual });
                    }
                }
            }
        }
        LayerKind::Relu => {
            c.count("input elements", xe.len())?;
            for (element, (x, y)) in xe.iter().zip(ye).enumerate() {
                c.grid(element, element as u32, x, y)?;
            }
        }
        LayerKind::Threshold(ss) => {
            c.count("step functions", ss.len())?;
            c.count("input elements", xe.len())?;
            for (element, s) in ss.iter().enumerate() {
                c.steps(element, s)?;
            }
        }
        LayerKind::Lookup(t) => {
            c.count("input elements", xe.len())?;
            c.table("lookup table", &t.entries, false)?;
            c.shift("table index shift", t.shift)?;
            c.one_grid(xe)?;
        }
        LayerKind::Softmax(s) => {
            c.count("input elements", xe.len())?;
            c.table("exp table", &s.exp_table, true)?;
            c.table("1/x table", &s.inv_table, true)?;
            c.shift("exp table index shift", s.exp_shift)?;
            c.shift("1/x table index shift", s.inv_shift)?;
            c.one_grid(xe)?;
        }
        LayerKind::Gather(src) => {
            c.count("sources", src.len())?;
            for &j in src {
                c.index("gather source", j)?;
            }
            for (element, (&j, y)) in src.iter().zip(ye).enumerate() {
                c.grid(element, j, &xe[j as usize], y)?;
            }
        }
        LayerKind::Max(sets) => {
            c.count("maxima", sets.len())?;
            for (element, set) in sets.iter().enumerate() {
                if set.is_empty() {
                    return Err(VerifyError::EmptyMaxSet { layer: c.name(), element });
                }
                for &j in set {
                    c.index("max operand", j)?;
                    c.grid(element, j, &xe[j as usize], &ye[element])?;
                }
            }
        }
        LayerKind::Product(pairs) => {
            c.count("products", pairs.len())?;
            for (element, (&(a, b), y)) in pairs.iter().zip(ye).enumerate() {
                c.index("product operand", a)?;
                c.index("product operand", b)?;
                let (fa, fb) = (xe[a as usize].frac, xe[b as usize].frac);
                if fa.checked_add(fb) != Some(y.frac) {
                    return Err(VerifyError::ProductGrid { layer: c.name(), element, a: fa, b: fb, out: y.frac });
                }
            }
        }
        LayerKind::LayerNorm(s) => {
            c.count("input elements", xe.len())?;
            c.count("gains", s.gain.len())?;
            c.count("biases", s.bias.len())?;
            c.layernorm(s, xe)?;
            c.one_grid(xe)?;
        }
    }
    Ok(())
}

/// The layer under check and its element counts.
struct Ctx<'a> {
    l: &'a Layer,
    kind: &'static str,
    inputs: usize,
    outputs: usize,
}

impl Ctx<'_> {
    fn name(&self) -> String {
        self.l.name.clone()
    }

    /// `count` things of `what`, one per output element.
    fn count(&self, what: &'static str, count: usize) -> Result<(), VerifyError> {
        if count == self.outputs {
            return Ok(());
        }
        Err(VerifyError::CountMismatch { layer: self.name(), kind: self.kind, what, count, expected: self.outputs })
    }

    /// An element index into the inputs' concatenation.
    fn index(&self, what: &'static str, index: u32) -> Result<(), VerifyError> {
        if (index as usize) < self.inputs {
            return Ok(());
        }
        Err(VerifyError::IndexOutOfRange { layer: self.name(), kind: self.kind, what, index, inputs: self.inputs })
    }

    /// Output element `element` (`y`) is on the grid of input element `j` (`x`) it reads.
    fn grid(&self, element: usize, j: u32, x: &Elem, y: &Elem) -> Result<(), VerifyError> {
        if x.frac == y.frac {
            return Ok(());
        }
        Err(VerifyError::GridChanged {
            layer: self.name(),
            kind: self.kind,
            element,
            source_element: j,
            from: x.frac,
            to: y.frac,
        })
    }

    /// All inputs on the grid of the first one.
    fn one_grid(&self, xe: &[Elem]) -> Result<(), VerifyError> {
        let Some(first) = xe.first() else { return Ok(()) };
        match xe.iter().position(|e| e.frac != first.frac) {
            None => Ok(()),
            Some(element) => Err(VerifyError::MixedGrid {
                layer: self.name(),
                kind: self.kind,
                element,
                frac: xe[element].frac,
                first: first.frac,
            }),
        }
    }

    fn steps(&self, element: usize, s: &Steps) -> Result<(), VerifyError> {
        if s.values.len() != s.thresholds.len() + 1 {
            return Err(VerifyError::StepsLength {
                layer: self.name(),
                element,
                thresholds: s.thresholds.len(),
                values: s.values.len(),
            });
        }
        if s.thresholds.windows(2).any(|w| w[0] >= w[1]) {
            return Err(VerifyError::StepsOrder { layer: self.name(), element });
        }
        Ok(())
    }

    fn table(&self, table: &'static str, entries: &[i128], non_negative: bool) -> Result<(), VerifyError> {
        if entries.is_empty() {
            return Err(VerifyError::EmptyTable { layer: self.name(), table });
        }
        if non_negative {
            if let Some((entry, &value)) = entries.iter().enumerate().find(|(_, &v)| v < 0) {
                return Err(VerifyError::NegativeTableEntry { layer: self.name(), table, entry, value });
            }
        }
        Ok(())
    }

    fn shift(&self, what: &'static str, shift: u32) -> Result<(), VerifyError> {
        if shift < 128 {
            return Ok(());
        }
        Err(VerifyError::ShiftTooLarge { layer: self.name(), what, shift })
    }

    /// Table geometry, epsilon, exponents, and `hmax` against the largest variance the inputs
    /// allow (computed as `lower::tables::lower_layernorm` does).
    fn layernorm(&self, s: &LayerNormSpec, xe: &[Elem]) -> Result<(), VerifyError> {
        let layer = || self.name();
        if !(2..=MAX_MANT_BITS).contains(&s.mant_bits) {
            return Err(VerifyError::LayerNormMantissa { layer: layer(), mant_bits: s.mant_bits, max: MAX_MANT_BITS });
        }
        let expected = 1usize << (s.mant_bits - 1);
        for (parity, table) in s.rsqrt.iter().enumerate() {
            if table.len() != expected {
                return Err(VerifyError::LayerNormTable {
                    layer: layer(),
                    parity,
                    len: table.len(),
                    mant_bits: s.mant_bits,
                    expected,
                });
            }
        }
        if s.eps < 1 {
            return Err(VerifyError::LayerNormEps { layer: layer(), eps: s.eps });
        }
        let max = MAX_LAYERNORM_EXPONENT;
        if s.p > max || s.hmax.unsigned_abs() > max || s.shift > max {
            return Err(VerifyError::LayerNormExponents { layer: layer(), p: s.p, hmax: s.hmax, shift: s.shift });
        }
        // |D_i| ≤ 2n·max|x|, V ≤ n·max D² + eps.
        let count = xe.len() as i128;
        let amax = xe.iter().map(|e| e.lo.unsigned_abs().max(e.hi.unsigned_abs())).max().unwrap_or(0);
        let vmax = i128::try_from(amax)
            .ok()
            .and_then(|a| a.checked_mul(2 * count))
            .and_then(|d| d.checked_mul(d))
            .and_then(|d2| d2.checked_mul(count))
            .and_then(|v| v.checked_add(s.eps))
            .ok_or_else(|| VerifyError::LayerNormRange { layer: layer() })?;
        let k = 128 - vmax.leading_zeros() as i32;
        let e = k - s.mant_bits as i32;
        let needed = (e - e.rem_euclid(2)) / 2;
        if s.hmax < needed {
            return Err(VerifyError::LayerNormHmax { layer: layer(), hmax: s.hmax, needed });
        }
        Ok(())
    }
}
