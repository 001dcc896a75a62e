//! The Verilog-2005 pretty-printer: the only place Verilog text is produced.
//!
//! [`emit_verilog`] expects a module that passed [`crate::verify()`] and guarantees output that
//! is deterministic (same module ⇒ byte-identical text), passes `verilator --lint-only -Wall`
//! (5.006) without a single warning when saved as `<module name>.v`, and synthesizes with
//! yosys. Layout:
//!
//! ```text
//! // <Module::doc lines>
//! module mac (
//!     input wire clk,
//!     input wire signed [7:0] a,  // layer1
//!     output wire signed [15:0] y
//! );
//!     wire signed [15:0] p;  // layer1
//!     reg signed [15:0] p_q;
//!
//!     /* verilator lint_off WIDTH */
//!     assign p = a * a;
//!     /* verilator lint_on WIDTH */
//!     assign y = p_q;
//!
//!     always @(posedge clk) begin
//!         p_q <= p;
//!     end
//! endmodule
//! ```
//!
//! Declarations of signals with bits that nothing reads (inputs or wires partly dropped by a
//! slice, an unused `rst`, …) are bracketed by `/* verilator lint_off UNUSED */` …
//! `/* verilator lint_on UNUSED */`; the read bits are recorded while rendering, so the
//! bracketing always matches the text. Registers without reset share one `always` block,
//! registers with a synchronous reset share a second one, both in `Module::regs` order.
//!
//! On [`Fabric::UltraScale`] every [`Expr::Add3`] is an instance of `<top>_add3`, a ternary adder
//! module written once after the design (`ternary`), and every [`Expr::GatedAdd`] one of
//! `<top>_gadd`; elsewhere they are `a + b - c` and `(g ? a : 0) + (h ? b : 0)` text.

mod expr;
mod partition;
mod ternary;
mod text;

use std::fmt::Write;

pub use partition::{emit_partitioned, PartModule, Partitioned};

use crate::netlist::{Expr, Fabric, Module, SignalId, SignalKind};
use expr::Render;
use text::{comment, decl_type, literal};

const LINT_OFF: &str = "/* verilator lint_off UNUSED */";
const LINT_ON: &str = "/* verilator lint_on UNUSED */";

/// Designs of at least this many assignments and registers may be written as a hierarchy
/// ([`emit_rtl`]; the jet MLP has 6 k, the shipped deep set 67 k). Measured with Verilator 5.006
/// on 2 cores (`tachyon sim`, harness build wall):
/// the shipped deep set (241 k lines flat) 35 s flat, 11 s as a hierarchy; the interaction
/// network (154 k lines) 25 s / 10 s; the shipped transformer (910 k lines) 236 s / 95 s; the
/// pulse CNN (27 k lines, few repeated parts) 3.9 s / 4.4 s.
pub const HIERARCHY_MIN_STATEMENTS: usize = 20_000;

/// The share of a partitioned design's lines that must lie in repeated part modules for the
/// hierarchy to be written: the calorimeter CNN in the parallel style is three connected
/// convolutions (shared subexpressions tie every pixel together), 3 % in blocks, and builds
/// slower as a hierarchy (214 s) than flat (193 s).
pub const HIERARCHY_MIN_SHARE: f64 = 0.5;

/// The Verilog a project ships (`rtl/<top>.v`): [`emit_verilog`]'s flat module, or, for a design
/// of at least [`HIERARCHY_MIN_STATEMENTS`] statements that is mostly repeated parts (per-token,
/// per-particle, per-head logic; [`HIERARCHY_MIN_SHARE`]), [`emit_partitioned`]'s hierarchy of
/// part modules under a top of the same name and ports, the repeated ones marked
/// `/*verilator hier_block*/`, so that Verilator (run with `--hierarchical`) verilates and
/// compiles each once. Both simulate and synthesize to the same logic (synthesis flattens);
/// the co-simulation proves this file, whichever form it has. Deterministic like both.
pub fn emit_rtl(m: &Module) -> String {
    if m.assigns.len() + m.regs.len() >= HIERARCHY_MIN_STATEMENTS {
        let p = emit_partitioned(m);
        if p.hier_share() >= HIERARCHY_MIN_SHARE {
            return p.verilog;
        }
    }
    emit_verilog(m)
}

/// The module as Verilog-2005 text. Assumes `m` passed [`crate::verify()`].
pub fn emit_verilog(m: &Module) -> String {
    let mut r = Render::new(m);
    let mut ternary = false;
    let mut gated = false;
    let mut ternary_gated = false;
    let assigns: Vec<String> = m
        .assigns
        .iter()
        .map(|a| {
            if let (Expr::Add3(t), Fabric::UltraScale) = (&a.expr, m.fabric) {
                ternary = true;
                return ternary::instance(&mut r, &m.name, a.dst, t, m.signal(a.dst).width);
            }
            if let (Expr::Add3Gated { t, gate }, Fabric::UltraScale) = (&a.expr, m.fabric) {
                ternary_gated = true;
                return ternary::instance_gated(&mut r, &m.name, a.dst, t, *gate, m.signal(a.dst).width);
            }
            if let (Expr::GatedAdd(t), Fabric::UltraScale) = (&a.expr, m.fabric) {
                gated = true;
                return ternary::gated_instance(&mut r, &m.name, a.dst, t, m.signal(a.dst).width);
            }
            let line = format!("    assign {} = {};", r.target(a.dst), r.expr(a.dst, &a.expr));
            if matches!(a.expr, Expr::Mul(..)) {
                format!("    /* verilator lint_off WIDTH */\n{line}\n    /* verilator lint_on WIDTH */")
            } else {
                line
            }
        })
        .collect();
    let regs = emit_regs(m, &mut r);
    if let Some(clk) = m.clk.filter(|_| !m.regs.is_empty()) {
        r.reads[clk.index()].iter_mut().for_each(|w| *w = u64::MAX);
    }

    let unread = |id: SignalId| {
        let s = m.signal(id);
        s.kind != SignalKind::Output && !expr::all_read(&r.reads[id.index()], s.width)
    };
    let origin =
        |id: SignalId| m.signal(id).origin.as_deref().map(|o| format!("  // {}", comment(o))).unwrap_or_default();

    let mut out = String::new();
    for line in m.doc.iter().flat_map(|d| d.split('\n')) {
        let line = comment(line.trim_end_matches('\r'));
        let _ = writeln!(out, "//{}{line}", if line.is_empty() { "" } else { " " });
    }
    if m.ports.is_empty() {
        let _ = writeln!(out, "module {};", m.name);
    } else {
        let _ = writeln!(out, "module {} (", m.name);
        for (i, &p) in m.ports.iter().enumerate() {
            let s = m.signal(p);
            let dir = if s.kind == SignalKind::Input { "input" } else { "output" };
            let comma = if i + 1 < m.ports.len() { "," } else { "" };
            let decl = format!("    {dir} wire {}{}{comma}{}", decl_type(s), s.name, origin(p));
            push_decl(&mut out, &decl, unread(p));
        }
        out.push_str(");\n");
    }

    let internal: Vec<SignalId> =
        m.signal_ids().filter(|&id| matches!(m.signal(id).kind, SignalKind::Wire | SignalKind::Reg)).collect();
    for &id in &internal {
        let s = m.signal(id);
        let kw = if s.kind == SignalKind::Reg { "reg" } else { "wire" };
        let decl = format!("    {kw} {}{};{}", decl_type(s), s.name, origin(id));
        push_decl(&mut out, &decl, unread(id));
    }
    for f in &r.functions {
        out.push('\n');
        out.push_str(f);
    }
    if !assigns.is_empty() {
        out.push('\n');
        for a in &assigns {
            out.push_str(a);
            out.push('\n');
        }
    }
    out.push_str(&regs);
    out.push_str("endmodule\n");
    if ternary {
        out.push_str(&ternary::library(&m.name));
    }
    if gated {
        out.push_str(&ternary::gated_library(&m.name));
    }
    if ternary_gated {
        out.push_str(&ternary::library_gated(&m.name));
    }
    out
}

fn push_decl(out: &mut String, decl: &str, unread: bool) {
    if unread {
        let _ = writeln!(out, "    {LINT_OFF}\n{decl}\n    {LINT_ON}");
    } else {
        let _ = writeln!(out, "{decl}");
    }
}

/// The `always` blocks: one for plain registers, one for registers with a reset value.
fn emit_regs(m: &Module, r: &mut Render) -> String {
    let Some(clk) = m.clk else {
        return String::new();
    };
    let clk = &m.signal(clk).name;
    let mut out = String::new();
    let plain: Vec<_> = m.regs.iter().filter(|g| g.reset.is_none()).collect();
    if !plain.is_empty() {
        let _ = writeln!(out, "\n    always @(posedge {clk}) begin");
        for g in plain {
            let _ = writeln!(out, "        {} <= {};", r.target(g.q), r.full(g.d));
        }
        out.push_str("    end\n");
    }
    let reset: Vec<_> = m.regs.iter().filter_map(|g| g.reset.map(|v| (g, v))).collect();
    if let (false, Some(rst)) = (reset.is_empty(), m.rst) {
        let rst_name = r.full(rst);
        let _ = writeln!(out, "\n    always @(posedge {clk}) begin");
        let _ = writeln!(out, "        if ({rst_name}) begin");
        for &(g, v) in &reset {
            let _ = writeln!(out, "            {} <= {};", r.target(g.q), literal(m.signal(g.q).width, v));
        }
        out.push_str("        end else begin\n");
        for &(g, _) in &reset {
            let _ = writeln!(out, "            {} <= {};", r.target(g.q), r.full(g.d));
        }
        out.push_str("        end\n    end\n");
    }
    out
}
