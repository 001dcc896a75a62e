//! Dead-logic removal: drops every wire and register that no output depends on (e.g. a delay
//! register of a value whose consumers all turned out constant), so the Verilog is lint-clean
//! without unused logic and the resource estimate counts only what synthesis keeps.

use crate::netlist::{Assign, Module, Reg, SignalId, SignalKind};
use std::collections::HashMap;

/// Removes logic no output depends on. Ports are always kept.
pub fn prune(m: Module) -> Module {
    let n = m.signals.len();
    let mut driver_assign: Vec<Option<usize>> = vec![None; n];
    let mut driver_reg: Vec<Option<usize>> = vec![None; n];
    for (i, a) in m.assigns.iter().enumerate() {
        driver_assign[a.dst.index()] = Some(i);
    }
    for (i, r) in m.regs.iter().enumerate() {
        driver_reg[r.q.index()] = Some(i);
    }
    let mut live = vec![false; n];
    let mut stack: Vec<SignalId> = m.ports.clone();
    while let Some(s) = stack.pop() {
        if std::mem::replace(&mut live[s.index()], true) {
            continue;
        }
        if let Some(i) = driver_assign[s.index()] {
            stack.extend(m.assigns[i].expr.operands());
        }
        if let Some(i) = driver_reg[s.index()] {
            stack.push(m.regs[i].d);
        }
    }
    let mut out = Module { name: m.name.clone(), doc: m.doc.clone(), fabric: m.fabric, ..Module::default() };
    let mut map = HashMap::new();
    for (i, s) in m.signals.iter().enumerate() {
        if live[i] || s.kind == SignalKind::Input || s.kind == SignalKind::Output {
            map.insert(SignalId(i as u32), SignalId(out.signals.len() as u32));
            out.signals.push(s.clone());
        }
    }
    out.ports = m.ports.iter().map(|p| map[p]).collect();
    out.clk = m.clk.map(|c| map[&c]);
    out.rst = m.rst.map(|c| map[&c]);
    for a in &m.assigns {
        if let Some(&d) = map.get(&a.dst) {
            out.assigns.push(Assign { dst: d, expr: a.expr.map_operands(|s| map[&s]) });
        }
    }
    for r in &m.regs {
        if let Some(&q) = map.get(&r.q) {
            out.regs.push(Reg { q, d: map[&r.d], reset: r.reset, role: r.role });
        }
    }
    out
}
