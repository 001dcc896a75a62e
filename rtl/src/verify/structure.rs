//! Structural invariants: names, widths, ids, ports, clock/reset and drivers (see
//! [`crate::verify`] for the list). Everything here runs before any check that indexes
//! signals by the ids stored in assignments and registers.

use std::collections::HashMap;

use super::error::{sig, ty, VerifyError};
use crate::bits::fits;
use crate::names::is_legal_identifier;
use crate::netlist::{Module, SignalId, SignalKind};

fn kind_name(kind: SignalKind) -> &'static str {
    kind.name()
}

/// Widest port (bus) accepted.
pub const MAX_PORT_WIDTH: u32 = 1 << 20;

/// Module name, signal widths, signal names legal and unique.
pub(crate) fn check_signals(m: &Module) -> Result<(), VerifyError> {
    if !is_legal_identifier(&m.name) {
        return Err(VerifyError::IllegalModuleName { name: m.name.clone() });
    }
    let mut seen: HashMap<&str, SignalId> = HashMap::with_capacity(m.signals.len());
    for id in m.signal_ids() {
        let s = m.signal(id);
        let max = if matches!(s.kind, SignalKind::Input | SignalKind::Output) { MAX_PORT_WIDTH } else { 128 };
        if !(1..=max).contains(&s.width) {
            return Err(VerifyError::BadWidth { signal: sig(m, id), width: s.width });
        }
        if !is_legal_identifier(&s.name) {
            return Err(VerifyError::IllegalName { signal: sig(m, id) });
        }
        if let Some(&first) = seen.get(s.name.as_str()) {
            return Err(VerifyError::DuplicateName { first: sig(m, first), second: sig(m, id) });
        }
        seen.insert(&s.name, id);
    }
    Ok(())
}

/// Every id stored anywhere in the module is in range.
pub(crate) fn check_ids(m: &Module) -> Result<(), VerifyError> {
    let count = m.signals.len();
    let check = |id: SignalId, context: &dyn Fn() -> String| {
        if id.index() < count {
            Ok(())
        } else {
            Err(VerifyError::BadId { context: context(), id, count })
        }
    };
    if let Some(clk) = m.clk {
        check(clk, &|| "Module::clk".to_string())?;
    }
    if let Some(rst) = m.rst {
        check(rst, &|| "Module::rst".to_string())?;
    }
    for (i, &p) in m.ports.iter().enumerate() {
        check(p, &|| format!("port #{i}"))?;
    }
    for (i, a) in m.assigns.iter().enumerate() {
        check(a.dst, &|| format!("assignment #{i}"))?;
        for o in a.expr.operands() {
            check(o, &|| format!("assignment #{i} to {}", sig(m, a.dst)))?;
        }
    }
    for (i, r) in m.regs.iter().enumerate() {
        check(r.q, &|| format!("register #{i}"))?;
        check(r.d, &|| format!("register #{i} ({})", sig(m, r.q)))?;
    }
    Ok(())
}

/// The port list holds each Input/Output signal exactly once and nothing else; `clk`/`rst`
/// are distinct 1-bit inputs and the clock is never used as data.
pub(crate) fn check_ports(m: &Module) -> Result<(), VerifyError> {
    let mut in_ports = vec![false; m.signals.len()];
    for &p in &m.ports {
        let s = m.signal(p);
        if !matches!(s.kind, SignalKind::Input | SignalKind::Output) {
            return Err(VerifyError::NotAPort { signal: sig(m, p), kind: kind_name(s.kind).to_string() });
        }
        if in_ports[p.index()] {
            return Err(VerifyError::DuplicatePort { signal: sig(m, p) });
        }
        in_ports[p.index()] = true;
    }
    for id in m.signal_ids() {
        let kind = m.signal(id).kind;
        if matches!(kind, SignalKind::Input | SignalKind::Output) && !in_ports[id.index()] {
            return Err(VerifyError::MissingPort { signal: sig(m, id), kind: kind_name(kind).to_string() });
        }
    }
    for (role, id) in [("clock", m.clk), ("reset", m.rst)] {
        if let Some(id) = id {
            let s = m.signal(id);
            if s.kind != SignalKind::Input || s.width != 1 {
                return Err(VerifyError::BadClockOrReset { role, signal: sig(m, id) });
            }
        }
    }
    if let (Some(c), Some(r)) = (m.clk, m.rst) {
        if c == r {
            return Err(VerifyError::ClockIsReset { signal: sig(m, c) });
        }
    }
    if let Some(clk) = m.clk {
        for a in &m.assigns {
            if a.expr.operands().contains(&clk) {
                return Err(VerifyError::ClockAsData {
                    signal: sig(m, clk),
                    user: format!("the assignment to {}", sig(m, a.dst)),
                });
            }
        }
        for r in &m.regs {
            if r.d == clk {
                return Err(VerifyError::ClockAsData {
                    signal: sig(m, clk),
                    user: format!("register {}", sig(m, r.q)),
                });
            }
        }
    }
    Ok(())
}

/// Outputs and wires have exactly one assignment, Reg-kind signals exactly one register,
/// inputs neither.
pub(crate) fn check_drivers(m: &Module) -> Result<(), VerifyError> {
    let n = m.signals.len();
    let mut by_assign = vec![0usize; n];
    let mut by_reg = vec![0usize; n];
    for a in &m.assigns {
        by_assign[a.dst.index()] += 1;
    }
    for r in &m.regs {
        by_reg[r.q.index()] += 1;
    }
    for id in m.signal_ids() {
        let (na, nr) = (by_assign[id.index()], by_reg[id.index()]);
        let kind = m.signal(id).kind;
        let kname = || kind_name(kind).to_string();
        match kind {
            SignalKind::Input if na + nr > 0 => {
                let by = if na > 0 { "an assignment" } else { "a register" };
                return Err(VerifyError::InputDriven { signal: sig(m, id), by: by.to_string() });
            }
            SignalKind::Input => {}
            SignalKind::Output | SignalKind::Wire if nr > 0 => {
                return Err(VerifyError::RegDrivesNonReg { signal: sig(m, id), kind: kname() });
            }
            SignalKind::Reg if na > 0 => return Err(VerifyError::AssignDrivesReg { signal: sig(m, id) }),
            _ if na + nr == 0 => return Err(VerifyError::Undriven { signal: sig(m, id), kind: kname() }),
            _ if na + nr > 1 => return Err(VerifyError::MultiplyDriven { signal: sig(m, id), count: na + nr }),
            _ => {}
        }
    }
    Ok(())
}

/// Register q/d types agree; clk present iff there are registers; reset values need `rst` and
/// must fit.
pub(crate) fn check_regs(m: &Module) -> Result<(), VerifyError> {
    for r in &m.regs {
        let (q, d) = (m.signal(r.q), m.signal(r.d));
        if q.width != d.width || q.signed != d.signed {
            return Err(VerifyError::RegTypeMismatch {
                q: sig(m, r.q),
                d: sig(m, r.d),
                q_ty: ty(m, r.q),
                d_ty: ty(m, r.d),
            });
        }
        if let Some(v) = r.reset {
            if m.rst.is_none() {
                return Err(VerifyError::ResetWithoutRst { q: sig(m, r.q) });
            }
            if !fits(v, q.width, q.signed) {
                return Err(VerifyError::ResetOutOfRange { q: sig(m, r.q), value: v, ty: ty(m, r.q) });
            }
        }
    }
    match (m.regs.first(), m.clk) {
        (Some(r), None) => Err(VerifyError::MissingClock { q: sig(m, r.q) }),
        (None, Some(clk)) => Err(VerifyError::ClockWithoutRegs { clk: sig(m, clk) }),
        _ => Ok(()),
    }
}
