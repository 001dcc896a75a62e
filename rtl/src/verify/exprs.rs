//! Per-assignment typing rules: constants and table entries fit the destination, slices are in
//! bounds, concatenations sum to the destination width, mux selects and comparison results are
//! 1 bit, bitwise operands have the destination's width, tables are complete and small.

use super::error::{sig, ty, VerifyError};
use crate::bits::fits;
use crate::netlist::{Assign, Expr, Module};

/// Maximum index width of a [`Expr::Table`].
pub const MAX_TABLE_INDEX_WIDTH: u32 = 16;

pub(crate) fn check_assign(m: &Module, a: &Assign) -> Result<(), VerifyError> {
    // Buses wider than 128 bits are only sliced (inputs) or concatenated (outputs).
    let wide = |s: &crate::SignalId| m.signal(*s).width > 128;
    let bus_ok = match &a.expr {
        Expr::Slice { .. } => !wide(&a.dst),
        Expr::Concat(parts) => !parts.iter().any(wide),
        e => !wide(&a.dst) && !e.operands().iter().any(wide),
    };
    if !bus_ok {
        return Err(VerifyError::BadWidth {
            signal: format!("`{}` ({})", m.signal(a.dst).name, a.dst),
            width: m.signal(a.dst).width,
        });
    }
    let d = m.signal(a.dst);
    let w = d.width;
    let dst = || sig(m, a.dst);
    let width_of = |id| m.signal(id).width;
    match &a.expr {
        Expr::Const(v) if !fits(*v, w, d.signed) => {
            return Err(VerifyError::ConstOutOfRange { dst: dst(), value: *v, ty: ty(m, a.dst) });
        }
        Expr::Slice { src, lo } => {
            let hi = u64::from(*lo) + u64::from(w) - 1;
            if hi >= u64::from(width_of(*src)) {
                return Err(VerifyError::SliceOutOfBounds {
                    dst: dst(),
                    src: sig(m, *src),
                    hi,
                    lo: *lo,
                    width: width_of(*src),
                });
            }
        }
        Expr::Concat(parts) => {
            let sum: u64 = parts.iter().map(|&p| u64::from(width_of(p))).sum();
            if sum != u64::from(w) {
                return Err(VerifyError::ConcatWidth { dst: dst(), sum, width: w });
            }
        }
        Expr::Mux { sel, .. } if width_of(*sel) != 1 => {
            return Err(VerifyError::MuxSelWidth { dst: dst(), sel: sig(m, *sel), width: width_of(*sel) });
        }
        Expr::Cmp(..) if w != 1 => return Err(VerifyError::CmpWidth { dst: dst(), width: w }),
        Expr::And(x, y) | Expr::Or(x, y) | Expr::Xor(x, y) => {
            for o in [*x, *y] {
                check_bitwise(m, a, o)?;
            }
        }
        Expr::Not(x) => check_bitwise(m, a, *x)?,
        Expr::Add3(t) => {
            let negated = t.iter().filter(|d| d.neg).count();
            if negated > 2 {
                return Err(VerifyError::Add3Negations { dst: dst(), negated });
            }
            if let Some(d) = t.iter().find(|d| d.shift >= w) {
                return Err(VerifyError::Add3Shift { dst: dst(), shift: d.shift, width: w });
            }
        }
        Expr::Add3Gated { t, gate } => {
            let negated = t.iter().filter(|d| d.neg).count();
            if negated > 2 {
                return Err(VerifyError::Add3Negations { dst: dst(), negated });
            }
            if let Some(d) = t.iter().find(|d| d.shift >= w) {
                return Err(VerifyError::Add3Shift { dst: dst(), shift: d.shift, width: w });
            }
            if width_of(*gate) != 1 {
                return Err(VerifyError::GatedAddGate { dst: dst(), gate: sig(m, *gate), width: width_of(*gate) });
            }
            if t[2].shift < t[0].shift.max(t[1].shift) {
                return Err(VerifyError::Add3GatedShift { dst: dst(), shift: t[2].shift });
            }
        }
        Expr::GatedAdd(t) => {
            let negated = t.iter().filter(|g| g.term.neg).count();
            if negated > 1 {
                return Err(VerifyError::GatedAddNegations { dst: dst() });
            }
            if let Some(g) = t.iter().find(|g| g.term.shift >= w) {
                return Err(VerifyError::GatedAddShift { dst: dst(), shift: g.term.shift, width: w });
            }
            if let Some(g) = t.iter().find(|g| width_of(g.gate) != 1) {
                return Err(VerifyError::GatedAddGate { dst: dst(), gate: sig(m, g.gate), width: width_of(g.gate) });
            }
        }
        Expr::Table { index, entries } => {
            let iw = width_of(*index);
            if iw > MAX_TABLE_INDEX_WIDTH {
                return Err(VerifyError::TableIndexTooWide { dst: dst(), index: sig(m, *index), width: iw });
            }
            let expected = 1usize << iw;
            if entries.len() != expected {
                return Err(VerifyError::TableSize {
                    dst: dst(),
                    index: sig(m, *index),
                    width: iw,
                    len: entries.len(),
                    expected,
                });
            }
            if let Some((entry, &value)) = entries.iter().enumerate().find(|(_, &v)| !fits(v, w, d.signed)) {
                return Err(VerifyError::TableEntryOutOfRange { dst: dst(), entry, value, ty: ty(m, a.dst) });
            }
        }
        _ => {}
    }
    Ok(())
}

fn check_bitwise(m: &Module, a: &Assign, operand: crate::SignalId) -> Result<(), VerifyError> {
    let (w, ow) = (m.signal(a.dst).width, m.signal(operand).width);
    if w == ow {
        return Ok(());
    }
    Err(VerifyError::BitwiseWidth {
        op: a.expr.mnemonic(),
        dst: sig(m, a.dst),
        width: w,
        operand: sig(m, operand),
        operand_width: ow,
    })
}
