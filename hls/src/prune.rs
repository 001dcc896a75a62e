//! Dead-logic removal: drops every wire and register that no output depends on (e.g. a delay
//! register of a value whose consumers all turned out constant), so the Verilog is lint-clean
//! without unused logic and the resource estimate counts only what synthesis keeps.

use std::collections::HashMap;
use tachyon_rtl::{Expr, Module, SignalId, SignalKind};

fn operands(e: &Expr) -> Vec<SignalId> {
    match e {
        Expr::Const(_) => vec![],
        Expr::Ext(a) | Expr::Neg(a) | Expr::Not(a) | Expr::Shl(a, _) | Expr::Shr(a, _) => vec![*a],
        Expr::Slice { src, .. } => vec![*src],
        Expr::Table { index, .. } => vec![*index],
        Expr::Add(a, b)
        | Expr::Sub(a, b)
        | Expr::Mul(a, b)
        | Expr::And(a, b)
        | Expr::Or(a, b)
        | Expr::Xor(a, b)
        | Expr::Cmp(_, a, b) => {
            vec![*a, *b]
        }
        Expr::Mux { sel, t, f } => vec![*sel, *t, *f],
        Expr::Concat(v) => v.clone(),
    }
}

fn remap(e: &Expr, map: &HashMap<SignalId, SignalId>) -> Expr {
    let r = |s: &SignalId| map[s];
    match e {
        Expr::Const(v) => Expr::Const(*v),
        Expr::Ext(a) => Expr::Ext(r(a)),
        Expr::Neg(a) => Expr::Neg(r(a)),
        Expr::Not(a) => Expr::Not(r(a)),
        Expr::Shl(a, k) => Expr::Shl(r(a), *k),
        Expr::Shr(a, k) => Expr::Shr(r(a), *k),
        Expr::Slice { src, lo } => Expr::Slice { src: r(src), lo: *lo },
        Expr::Table { index, entries } => Expr::Table { index: r(index), entries: entries.clone() },
        Expr::Add(a, b) => Expr::Add(r(a), r(b)),
        Expr::Sub(a, b) => Expr::Sub(r(a), r(b)),
        Expr::Mul(a, b) => Expr::Mul(r(a), r(b)),
        Expr::And(a, b) => Expr::And(r(a), r(b)),
        Expr::Or(a, b) => Expr::Or(r(a), r(b)),
        Expr::Xor(a, b) => Expr::Xor(r(a), r(b)),
        Expr::Cmp(op, a, b) => Expr::Cmp(*op, r(a), r(b)),
        Expr::Mux { sel, t, f } => Expr::Mux { sel: r(sel), t: r(t), f: r(f) },
        Expr::Concat(v) => Expr::Concat(v.iter().map(r).collect()),
    }
}

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
            stack.extend(operands(&m.assigns[i].expr));
        }
        if let Some(i) = driver_reg[s.index()] {
            stack.push(m.regs[i].d);
        }
    }
    let mut out = Module { name: m.name.clone(), doc: m.doc.clone(), ..Module::default() };
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
            out.assigns.push(tachyon_rtl::Assign { dst: d, expr: remap(&a.expr, &map) });
        }
    }
    for r in &m.regs {
        if let Some(&q) = map.get(&r.q) {
            out.regs.push(tachyon_rtl::Reg { q, d: map[&r.d], reset: r.reset });
        }
    }
    out
}
