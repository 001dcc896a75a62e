//! The same design as a hierarchy of small modules: what a project ships for a large design of
//! repeated parts ([`super::emit_rtl`], so that Verilator builds each distinct part once), and
//! how `tachyon synth --partitioned` measures designs too big to synthesize flat.
//!
//! yosys' `synth_xilinx -flatten` time grows faster than the design: 15k LUTs take 1.5 minutes,
//! 90k LUTs 25 minutes, and a million-LUT transformer would take most of a day. Such designs are
//! mostly copies: a per-token layer is sixteen identical adder graphs, a softmax row or a
//! LayerNorm is one of dozens alike. [`emit_partitioned`] cuts the netlist into parts and writes
//! each distinct part once as a module; the top instantiates them. yosys synthesizes each
//! distinct module once (without `-flatten`) and `stat -top` counts every instance.
//!
//! A part is a connected piece of one ONNX node's logic: signals are grouped by
//! [`Signal::origin`](crate::Signal::origin), and two signals of a group join when one drives
//! the other. Wires holding a constant are copied into every part that reads them (the part
//! sees the constant, as flat synthesis would), so a constant shared by sixteen tokens does not
//! tie them into one part. Everything a part reads from outside is an input port, everything
//! read outside (or a port of the design) an output port; parts are compared by their text with
//! signals renamed in order (`n0`, `n1`, …, ports `i0…`, `o0…`), so two parts are the same
//! module exactly when they are the same logic.
//!
//! The hierarchy simulates exactly like the flat module: every signal keeps its width,
//! signedness and driver (part ports carry unsigned bits, see `unsigned`). Synthesis differs
//! only in what crosses a boundary: yosys cannot drop an output bit that no other part reads or
//! merge equal registers of two parts.
//! `rtl/tests/partition.rs` co-simulates the hierarchy against the netlist simulator, and the
//! transformer benchmark compares it with flat synthesis where both run.

use std::collections::HashMap;
use std::fmt::Write;

use super::emit_verilog;
use super::text::decl_type;
use crate::netlist::{Assign, Expr, Module, Reg, Signal, SignalId, SignalKind};

/// The hierarchical text and what it is made of.
pub struct Partitioned {
    /// The distinct part modules, then the top module (same name and ports as the flat one).
    pub verilog: String,
    /// Instances in the top.
    pub parts: usize,
    /// Distinct part modules.
    pub modules: usize,
    /// Each distinct part module on its own (the same text as in `verilog`), with how many
    /// times the top instantiates it. The top holds nothing else: wires and instances only, so
    /// the parts' resources times their instances are the design's (`tachyon synth
    /// --partitioned` synthesizes them in parallel).
    pub part_modules: Vec<PartModule>,
}

/// One distinct part module.
pub struct PartModule {
    pub name: String,
    pub verilog: String,
    pub instances: usize,
}

impl PartModule {
    /// Whether Verilator should build this module once for all its instances (hierarchical
    /// verilation): a part used at least twice whose copies add up to many lines. The
    /// partitioned text marks these `/*verilator hier_block*/`; other tools read a comment.
    pub fn hier_block(&self) -> bool {
        let lines = self.lines();
        self.instances >= 2 && lines >= HIER_BLOCK_LINES && (self.instances - 1) * lines >= HIER_BLOCK_SAVED_LINES
    }

    fn lines(&self) -> usize {
        self.verilog.bytes().filter(|&b| b == b'\n').count()
    }
}

/// The smallest part module worth a hierarchical block of its own, and the fewest lines a block
/// must save (its copies beyond the first): each block is a separate verilation, C++ library and
/// make step, so a block that saves little costs more than it saves. The shipped transformer's
/// harness build (Verilator 5.006, clang++, 2 cores, ccache empty) with blocks of ≥ 20 lines
/// saving ≥ 1,000: 56 blocks, 150 s; ≥ 50 lines: 35 blocks, 117 s; saving ≥ 5,000: 26 blocks,
/// 98 s; saving ≥ 10,000: 22 blocks, 95 s (the deep set 14 → 11 s, the interaction network
/// 13 → 10 s).
const HIER_BLOCK_LINES: usize = 50;
const HIER_BLOCK_SAVED_LINES: usize = 10_000;

impl Partitioned {
    /// The fraction of the design's instantiated lines that lie in hierarchical blocks (what
    /// Verilator builds once instead of per instance).
    pub fn hier_share(&self) -> f64 {
        let (mut marked, mut total) = (0usize, 0usize);
        for pm in &self.part_modules {
            let lines = pm.lines() * pm.instances;
            total += lines;
            if pm.hier_block() {
                marked += lines;
            }
        }
        if total == 0 {
            0.0
        } else {
            marked as f64 / total as f64
        }
    }
}

/// `m` as distinct part modules and a top that instantiates them (see the module docs).
/// Assumes `m` passed [`crate::verify()`].
pub fn emit_partitioned(m: &Module) -> Partitioned {
    let n = m.signals.len();
    // The value of each constant wire (copied into the parts that read it).
    let mut constant: Vec<Option<&Expr>> = vec![None; n];
    for a in &m.assigns {
        if matches!(a.expr, Expr::Const(_)) && m.signal(a.dst).kind == SignalKind::Wire {
            constant[a.dst.index()] = Some(&a.expr);
        }
    }
    // Members: every signal driven inside the design except constant wires.
    let member = |id: SignalId| m.signal(id).kind != SignalKind::Input && constant[id.index()].is_none();

    let mut uf = UnionFind::new(n);
    let same_group = |a: SignalId, b: SignalId| m.signal(a).origin == m.signal(b).origin;
    for a in &m.assigns {
        for o in a.expr.operands() {
            if member(a.dst) && member(o) && same_group(a.dst, o) {
                uf.union(a.dst.index(), o.index());
            }
        }
    }
    for r in &m.regs {
        if member(r.d) && same_group(r.q, r.d) {
            uf.union(r.q.index(), r.d.index());
        }
    }

    // Parts in order of their first member; each member's part.
    let mut part_of: Vec<Option<usize>> = vec![None; n];
    let mut roots: HashMap<usize, usize> = HashMap::new();
    let mut members: Vec<Vec<SignalId>> = vec![];
    for id in m.signal_ids().filter(|&id| member(id)) {
        let root = uf.find(id.index());
        let p = *roots.entry(root).or_insert_with(|| {
            members.push(vec![]);
            members.len() - 1
        });
        part_of[id.index()] = Some(p);
        members[p].push(id);
    }
    // Read from another part (or a design output): such members become output ports.
    let mut read_outside = vec![false; n];
    let mut mark = |reader: Option<usize>, o: SignalId| {
        if part_of[o.index()].is_some() && part_of[o.index()] != reader {
            read_outside[o.index()] = true;
        }
    };
    for a in &m.assigns {
        a.expr.operands().into_iter().for_each(|o| mark(part_of[a.dst.index()], o));
    }
    for r in &m.regs {
        mark(part_of[r.q.index()], r.d);
    }
    for id in m.signal_ids().filter(|&id| m.signal(id).kind == SignalKind::Output) {
        read_outside[id.index()] = true;
    }
    let mut assigns_of: Vec<Vec<&Assign>> = vec![vec![]; members.len()];
    for a in &m.assigns {
        if let Some(p) = part_of[a.dst.index()] {
            assigns_of[p].push(a);
        }
    }
    let mut regs_of: Vec<Vec<&Reg>> = vec![vec![]; members.len()];
    for r in &m.regs {
        if let Some(p) = part_of[r.q.index()] {
            regs_of[p].push(r);
        }
    }

    // Instance names: `u<part>`, with `_` appended while a signal has the name.
    let names: std::collections::HashSet<&str> = m.signals.iter().map(|s| s.name.as_str()).collect();
    let mut prefix = String::from("u");
    while names.iter().any(|n| n.strip_prefix(prefix.as_str()).is_some_and(|r| r.chars().all(|c| c.is_ascii_digit()))) {
        prefix.push('_');
    }
    let mut modules: Vec<PartModule> = vec![];
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut instances = String::new();
    for p in 0..members.len() {
        let part = Part::build(m, &members[p], &assigns_of[p], &regs_of[p], &read_outside, &constant);
        let text = emit_verilog(&part.module);
        let k = *index.entry(text).or_insert_with(|| {
            let mut named = part.module.clone();
            named.name = format!("{}_p{}", m.name, modules.len());
            modules.push(PartModule { verilog: emit_verilog(&named), name: named.name, instances: 0 });
            modules.len() - 1
        });
        modules[k].instances += 1;
        let conns: Vec<String> = part
            .module
            .ports
            .iter()
            .zip(&part.outer)
            .map(|(&local, &outer)| format!(".{}({})", part.module.signal(local).name, m.signal(outer).name))
            .collect();
        let _ = writeln!(instances, "    {}_p{k} {prefix}{p} ({});", m.name, conns.join(", "));
    }

    // Part modules share the file of the top.
    let mut out = String::from("/* verilator lint_off DECLFILENAME */\n");
    for pm in &modules {
        if pm.hier_block() {
            let at = pm.verilog.find("\n);\n").expect("a part module has ports") + 4;
            out.push_str(&pm.verilog[..at]);
            out.push_str("    /*verilator hier_block*/\n");
            out.push_str(&pm.verilog[at..]);
        } else {
            out.push_str(&pm.verilog);
        }
        out.push('\n');
    }
    for line in &m.doc {
        let _ = writeln!(out, "// {}", line.replace('\n', " "));
    }
    let _ = writeln!(
        out,
        "// Partitioned: {} instances of {} part modules, each distinct part written once.",
        members.len(),
        modules.len()
    );
    let ports: Vec<String> = m
        .ports
        .iter()
        .map(|&p| {
            let s = m.signal(p);
            let dir = if s.kind == SignalKind::Input { "input" } else { "output" };
            format!("    {dir} wire {}{}", decl_type(s), s.name)
        })
        .collect();
    let _ = writeln!(out, "module {} (\n{}\n);", m.name, ports.join(",\n"));
    for id in m.signal_ids() {
        let s = m.signal(id);
        if read_outside[id.index()] && s.kind != SignalKind::Output {
            let _ = writeln!(out, "    wire {}{};", decl_type(s), s.name);
        }
    }
    out.push_str(&instances);
    out.push_str("endmodule\n");
    Partitioned { verilog: out, parts: members.len(), modules: modules.len(), part_modules: modules }
}

/// One part as a module with canonical names, and the design signal behind each of its ports.
struct Part {
    module: Module,
    outer: Vec<SignalId>,
}

impl Part {
    fn build(
        m: &Module,
        members: &[SignalId],
        assigns: &[&Assign],
        regs: &[&Reg],
        read_outside: &[bool],
        constant: &[Option<&Expr>],
    ) -> Part {
        let mut pm = Module::new("part");
        pm.fabric = m.fabric;
        let mut outer = vec![];
        let mut local: HashMap<SignalId, SignalId> = HashMap::new();
        let add = |pm: &mut Module, name: String, s: &Signal, kind: SignalKind| {
            let id = SignalId(pm.signals.len() as u32);
            pm.signals.push(Signal { name, width: s.width, signed: s.signed, kind, origin: None });
            id
        };
        if !regs.is_empty() {
            let clk = m.clk.expect("a verified module with registers has a clock");
            let id = add(&mut pm, "clk".into(), m.signal(clk), SignalKind::Input);
            pm.ports.push(id);
            pm.clk = Some(id);
            outer.push(clk);
            if let (Some(rst), true) = (m.rst, regs.iter().any(|r| r.reset.is_some())) {
                let id = add(&mut pm, "rst".into(), m.signal(rst), SignalKind::Input);
                pm.ports.push(id);
                pm.rst = Some(id);
                outer.push(rst);
            }
        }
        // Members first (in design order), so the part's text follows the design's order.
        for (i, &id) in members.iter().enumerate() {
            let s = m.signal(id);
            let kind = if s.kind == SignalKind::Reg { SignalKind::Reg } else { SignalKind::Wire };
            local.insert(id, add(&mut pm, format!("n{i}"), s, kind));
        }
        // Operands from outside: constants are copied in, the rest are input ports.
        let mut operands: Vec<SignalId> = assigns.iter().flat_map(|a| a.expr.operands()).collect();
        operands.extend(regs.iter().map(|r| r.d));
        let (mut consts, mut casts) = (vec![], vec![]);
        for o in operands {
            if local.contains_key(&o) {
                continue;
            }
            let s = m.signal(o);
            if let Some(e) = constant[o.index()] {
                let id = add(&mut pm, format!("c{}", consts.len()), s, SignalKind::Wire);
                consts.push(Assign { dst: id, expr: e.clone() });
                local.insert(o, id);
            } else {
                // Ports are unsigned (see `unsigned`); a signed operand is read through a signed
                // wire of the port's bits.
                let k = outer.len();
                let port = add(&mut pm, format!("i{k}"), &unsigned(s), SignalKind::Input);
                pm.ports.push(port);
                outer.push(o);
                let id = if s.signed {
                    let id = add(&mut pm, format!("s{k}"), s, SignalKind::Wire);
                    casts.push(Assign { dst: id, expr: Expr::Ext(port) });
                    id
                } else {
                    port
                };
                local.insert(o, id);
            }
        }
        pm.assigns = consts;
        pm.assigns.append(&mut casts);
        for a in assigns {
            pm.assigns.push(Assign { dst: local[&a.dst], expr: a.expr.map_operands(|o| local[&o]) });
        }
        for r in regs {
            pm.regs.push(Reg { q: local[&r.q], d: local[&r.d], reset: r.reset, role: r.role });
        }
        for &id in members.iter().filter(|id| read_outside[id.index()]) {
            let port = add(&mut pm, format!("o{}", outer.len()), &unsigned(m.signal(id)), SignalKind::Output);
            pm.ports.push(port);
            pm.assigns.push(Assign { dst: port, expr: Expr::Ext(local[&id]) });
            outer.push(id);
        }
        Part { module: pm, outer }
    }
}

/// `s` as an unsigned signal of the same width: the type of a part module's port. Verilator
/// 5.006 writes the wrapper of a hierarchical block with a signed port as `input signed logic
/// [6:0] x`, which it then cannot parse; the bits crossing a boundary are the same either way
/// (the top's wires keep their signedness, and a part reads a signed operand through a signed
/// wire of its port).
fn unsigned(s: &Signal) -> Signal {
    Signal { signed: false, ..s.clone() }
}

struct UnionFind(Vec<usize>);

impl UnionFind {
    fn new(n: usize) -> UnionFind {
        UnionFind((0..n).collect())
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            self.0[ra.max(rb)] = ra.min(rb);
        }
    }
}
