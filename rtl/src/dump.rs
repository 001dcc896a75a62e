//! The readable text form of a [`Module`], for tests, golden files and debugging.
//!
//! ```text
//! module mac
//! ; a doc line
//! ports s0, s1, s2, s5
//! clk s0
//! s0:u1 input clk
//! s1:i8 input a
//! s3:i12 wire layer1_acc_0  ; layer1
//! s3:i12 = add s1, s2  ; layer1_acc_0
//! s4:i12 = reg s3, reset 0  ; acc_q
//! ```
//!
//! Signals print as `sN:iW` (signed) or `sN:uW` (unsigned), ids exactly as [`SignalId`]
//! displays them. Declarations come first in id order (trailing comment: origin), then
//! assignments and registers in module order (trailing comment: destination name).

use std::fmt::Write;

use crate::netlist::{Expr, Module, SignalId};

/// `sN:iW` / `sN:uW`, or just `sN` for an out-of-range id.
fn typed(m: &Module, id: SignalId) -> String {
    match m.signals.get(id.index()) {
        Some(s) => format!("{id}:{}{}", if s.signed { 'i' } else { 'u' }, s.width),
        None => id.to_string(),
    }
}

fn list(ids: &[SignalId]) -> String {
    ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

/// The expression in text form, e.g. `add s1, s2` or `table s4, [0, 1, -1, 3]`.
pub fn expr_text(e: &Expr) -> String {
    let op = e.mnemonic();
    match e {
        Expr::Const(v) => format!("{op} {v}"),
        Expr::Shl(a, k) | Expr::Shr(a, k) => format!("{op} {a}, {k}"),
        Expr::Slice { src, lo } => format!("{op} {src}, {lo}"),
        Expr::Add3(t) => {
            let ds: Vec<String> =
                t.iter().map(|d| format!("{}{}<<{}", if d.neg { "-" } else { "+" }, d.sig, d.shift)).collect();
            format!("{op} {}", ds.join(", "))
        }
        Expr::Add3Gated { t, gate } => {
            let ds: Vec<String> =
                t.iter().map(|d| format!("{}{}<<{}", if d.neg { "-" } else { "+" }, d.sig, d.shift)).collect();
            format!("{op} {}, ({gate} ? {})", ds[..2].join(", "), ds[2])
        }
        Expr::GatedAdd(t) => {
            let ds: Vec<String> = t
                .iter()
                .map(|g| {
                    let sign = if g.term.neg { "-" } else { "+" };
                    format!("{sign}({} ? {}<<{})", g.gate, g.term.sig, g.term.shift)
                })
                .collect();
            format!("{op} {}", ds.join(", "))
        }
        Expr::Table { index, entries } => {
            let es = entries.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(", ");
            format!("{op} {index}, [{es}]")
        }
        _ => format!("{op} {}", list(&e.operands())),
    }
}

/// The whole module as text (never panics, even on an unverified module).
pub fn dump(m: &Module) -> String {
    let mut out = String::new();
    let name_of = |id: SignalId| m.signals.get(id.index()).map_or("?", |s| s.name.as_str());
    let _ = writeln!(out, "module {}", m.name);
    for line in m.doc.iter().flat_map(|d| d.lines()) {
        let _ = writeln!(out, "; {line}");
    }
    let _ = writeln!(out, "ports {}", list(&m.ports));
    if let Some(c) = m.clk {
        let _ = writeln!(out, "clk {c}");
    }
    if let Some(r) = m.rst {
        let _ = writeln!(out, "rst {r}");
    }
    for id in m.signal_ids() {
        let s = m.signal(id);
        let _ = write!(out, "{} {} {}", typed(m, id), s.kind.name(), s.name);
        if let Some(o) = &s.origin {
            let _ = write!(out, "  ; {}", o.replace(['\n', '\r'], " "));
        }
        out.push('\n');
    }
    for a in &m.assigns {
        let _ = writeln!(out, "{} = {}  ; {}", typed(m, a.dst), expr_text(&a.expr), name_of(a.dst));
    }
    for r in &m.regs {
        let reset = r.reset.map(|v| format!(", reset {v}")).unwrap_or_default();
        let _ = writeln!(out, "{} = reg {}{reset}  ; {}", typed(m, r.q), r.d, name_of(r.q));
    }
    out
}
