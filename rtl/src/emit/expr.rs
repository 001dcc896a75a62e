//! Rendering of one [`Expr`] as an exactly width-matched Verilog expression, recording which
//! bits of which signals it reads (for the `UNUSED` lint bracketing in [`super`]).
//!
//! Every operand is first brought to the width the operation works at with an explicit
//! sign/zero extension or part-select (`{{4{a[7]}}, a}`, `{4'h0, b}`, `a[3:0]`), so no
//! Verilog context-width or signedness rule ever changes a result:
//!
//! | expr            | Verilog (destination `W` bits)                                        |
//! |-----------------|-----------------------------------------------------------------------|
//! | `Const(v)`      | `W'h<v mod 2^W>`                                                      |
//! | `Ext(a)`        | `ext(a,W)`: `a`, `a[W-1:0]`, `{{n{a[msb]}}, a}` or `{n'h0, a}`        |
//! | `Add/Sub/Mul`   | `ext(a,W) op ext(b,W)` — exact modulo 2^W                             |
//! | `Add3`          | `ext(a<<i,W) + ext(b<<j,W) - ext(c<<k,W)` (or an UltraScale instance,  |
//! |                 | see [`super::ternary`])                                               |
//! | `Neg`           | `-ext(a,W)`                                                           |
//! | `Shl(a,k)`      | `{ext(a,W-k), k'h0}` (or `W'h0` when `k ≥ W`)                         |
//! | `Shr(a,k)`      | bits `[wa-1:k]` of `a` with `a`'s signedness, extended to `W`         |
//! | `Cmp`           | `$signed(ext(a,C)) op $signed(ext(b,C))`, `C` wide enough for both    |
//! |                 | operands with one extra bit for each unsigned one                     |
//! | `Slice`/`Concat`| `a[lo+W-1:lo]` / `{a, b, …}`                                          |
//! | `Mux`           | `sel ? ext(t,W) : ext(f,W)`                                           |
//! | bitwise         | `a & b`, `a \| b`, `a ^ b`, `~a` (operands already `W` bits)         |
//! | `Table`         | a call of a generated `function` holding a `case` with a `default`    |

use std::collections::HashSet;
use std::fmt::Write;

use super::text::literal;
use crate::netlist::{Addend, CmpOp, Expr, Gated, Module, SignalId};

/// Expression renderer for one module.
pub(crate) struct Render<'a> {
    m: &'a Module,
    /// Bits of each signal read by the rendered text.
    /// Per signal, a bit set (64-bit words) of the bits read.
    pub reads: Vec<Vec<u64>>,
    /// Identifiers in use (signal names and generated function names).
    taken: HashSet<String>,
    /// Generated table functions, in order of use.
    pub functions: Vec<String>,
}

impl<'a> Render<'a> {
    pub fn new(m: &'a Module) -> Self {
        let taken = m.signals.iter().map(|s| s.name.clone()).collect();
        Render {
            m,
            reads: m.signals.iter().map(|s| vec![0u64; s.width.div_ceil(64) as usize]).collect(),
            taken,
            functions: Vec::new(),
        }
    }

    fn width(&self, id: SignalId) -> u32 {
        self.m.signal(id).width
    }

    fn name(&self, id: SignalId) -> &'a str {
        &self.m.signal(id).name
    }

    /// The name of `id` as an assignment target (records no read).
    pub fn target(&self, id: SignalId) -> String {
        self.name(id).to_string()
    }

    /// The whole signal `id`.
    pub fn full(&mut self, id: SignalId) -> String {
        let w = self.width(id);
        self.bits(id, w - 1, 0)
    }

    /// Bits `[hi:lo]` of `id` as an unsigned selection (the bare name when that is all of it).
    pub fn bits(&mut self, id: SignalId, hi: u32, lo: u32) -> String {
        let w = self.width(id);
        mark_read(&mut self.reads[id.index()], lo, hi);
        let name = self.name(id);
        if lo == 0 && hi == w - 1 {
            name.to_string()
        } else if hi == lo {
            format!("{name}[{lo}]")
        } else {
            format!("{name}[{hi}:{lo}]")
        }
    }

    /// The value of bits `[width-1:lo]` of `id`, read with `id`'s signedness, sign/zero
    /// extended or truncated to exactly `w` bits. Needs `lo < width`.
    pub fn ext(&mut self, id: SignalId, lo: u32, w: u32) -> String {
        let sw = self.width(id);
        let avail = sw - lo;
        if w <= avail {
            return self.bits(id, lo + w - 1, lo);
        }
        let body = self.bits(id, sw - 1, lo);
        let pad = w - avail;
        if self.m.signal(id).signed {
            let msb = self.bits(id, sw - 1, sw - 1);
            if pad == 1 {
                format!("{{{msb}, {body}}}")
            } else {
                format!("{{{{{pad}{{{msb}}}}}, {body}}}")
            }
        } else {
            format!("{{{}, {body}}}", literal(pad, 0))
        }
    }

    /// The Verilog right-hand side of `dst = e` for a destination of `w` bits.
    pub fn expr(&mut self, dst: SignalId, e: &Expr) -> String {
        let w = self.width(dst);
        match e {
            Expr::Const(v) => literal(w, *v),
            Expr::Ext(a) => self.ext(*a, 0, w),
            Expr::Add(a, b) => self.binary(*a, "+", *b, w),
            Expr::Sub(a, b) => self.binary(*a, "-", *b, w),
            Expr::Add3(t) => self.add3(t, w),
            Expr::GatedAdd(t) => self.gated_add(t, w),
            Expr::Add3Gated { t, gate } => self.add3_gated(t, *gate, w),
            Expr::Mul(a, b) => self.multiply(*a, *b),
            Expr::Neg(a) => format!("-{}", self.ext(*a, 0, w)),
            Expr::Shl(_, k) if *k >= w => literal(w, 0),
            Expr::Shl(a, 0) => self.ext(*a, 0, w),
            Expr::Shl(a, k) => format!("{{{}, {}}}", self.ext(*a, 0, w - k), literal(*k, 0)),
            Expr::Shr(a, k) => self.shr(*a, *k, w),
            Expr::Slice { src, lo } => self.bits(*src, lo + w - 1, *lo),
            Expr::Concat(parts) if parts.len() == 1 => self.full(parts[0]),
            Expr::Concat(parts) => {
                let ps: Vec<String> = parts.iter().map(|&p| self.full(p)).collect();
                format!("{{{}}}", ps.join(", "))
            }
            Expr::Mux { sel, t, f } => {
                let s = self.full(*sel);
                format!("{s} ? {} : {}", self.ext(*t, 0, w), self.ext(*f, 0, w))
            }
            Expr::Cmp(op, a, b) => self.cmp(*op, *a, *b),
            Expr::And(a, b) => format!("{} & {}", self.full(*a), self.full(*b)),
            Expr::Or(a, b) => format!("{} | {}", self.full(*a), self.full(*b)),
            Expr::Xor(a, b) => format!("{} ^ {}", self.full(*a), self.full(*b)),
            Expr::Not(a) => format!("~{}", self.full(*a)),
            Expr::Table { index, entries } => self.table(dst, *index, entries),
        }
    }

    /// `a * b` with each operand at its own width (Verilog extends both to the destination by
    /// the expression's signedness), so synthesis sees the true operand widths — explicit
    /// sign-extension bits would make yosys use two DSP48E2s for what fits in one. An unsigned
    /// operand beside a signed one gets a zero sign bit. The emitter brackets these assignments
    /// with `lint_off WIDTH` (the implicit extension is the point).
    fn multiply(&mut self, a: SignalId, b: SignalId) -> String {
        let (sa, sb) = (self.m.signal(a).signed, self.m.signal(b).signed);
        let mut operand = |id: SignalId, signed: bool| {
            let full = self.full(id);
            if sa == sb || signed {
                full
            } else {
                format!("$signed({{1'b0, {full}}})")
            }
        };
        let (x, y) = (operand(a, sa), operand(b, sb));
        format!("{x} * {y}")
    }

    fn binary(&mut self, a: SignalId, op: &str, b: SignalId, w: u32) -> String {
        format!("{} {op} {}", self.ext(a, 0, w), self.ext(b, 0, w))
    }

    fn shr(&mut self, a: SignalId, k: u32, w: u32) -> String {
        let wa = self.width(a);
        if k < wa {
            return self.ext(a, k, w);
        }
        if !self.m.signal(a).signed {
            return literal(w, 0);
        }
        let msb = self.bits(a, wa - 1, wa - 1);
        if w == 1 {
            msb
        } else {
            format!("{{{w}{{{msb}}}}}")
        }
    }

    /// Always a signed comparison: an unsigned operand gets one extra zero bit. Verilator folds
    /// constant wires before linting and flags *unsigned* comparisons that become tautologies
    /// (`x >= 0`, `x <= 8'hff`: `UNSIGNED`, `CMPCONST`); it has no such rule for signed ones.
    fn cmp(&mut self, op: CmpOp, a: SignalId, b: SignalId) -> String {
        let need = |id: SignalId| self.width(id) + u32::from(!self.m.signal(id).signed);
        let c = need(a).max(need(b));
        let (x, y) = (self.ext(a, 0, c), self.ext(b, 0, c));
        let sym = match op {
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        };
        format!("$signed({x}) {sym} $signed({y})")
    }

    /// A fresh identifier based on `base`, unique among signals and generated names.
    pub(super) fn fresh(&mut self, base: &str) -> String {
        let mut name = base.to_string();
        let mut n = 1u64;
        while self.taken.contains(&name) {
            name = format!("{base}_{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }

    fn table(&mut self, dst: SignalId, index: SignalId, entries: &[i128]) -> String {
        let (w, iw) = (self.width(dst), self.width(index));
        let base = self.name(dst);
        let func = self.fresh(&format!("{base}_lut"));
        let arg = self.fresh(&format!("{base}_lut_index"));
        let range = |w: u32| {
            if w == 1 {
                String::new()
            } else {
                format!("[{}:0] ", w - 1)
            }
        };
        let mut f = String::new();
        let _ = writeln!(f, "    function {}{func};", range(w));
        let _ = writeln!(f, "        input {}{arg};", range(iw));
        let _ = writeln!(f, "        begin");
        let _ = writeln!(f, "            case ({arg})");
        for (i, &v) in entries.iter().enumerate() {
            let _ = writeln!(f, "                {}: {func} = {};", literal(iw, i as i128), literal(w, v));
        }
        let _ = writeln!(f, "                default: {func} = {};", literal(w, 0));
        let _ = writeln!(f, "            endcase");
        let _ = writeln!(f, "        end");
        let _ = writeln!(f, "    endfunction");
        self.functions.push(f);
        format!("{func}({})", self.full(index))
    }
}

/// Marks bits `lo..=hi` as read in a word bit set.
pub fn mark_read(words: &mut [u64], lo: u32, hi: u32) {
    for b in lo..=hi {
        if let Some(w) = words.get_mut((b / 64) as usize) {
            *w |= 1u64 << (b % 64);
        }
    }
}

/// Whether all `width` bits are marked in a word bit set.
pub fn all_read(words: &[u64], width: u32) -> bool {
    (0..width).all(|b| words.get((b / 64) as usize).is_some_and(|w| w >> (b % 64) & 1 == 1))
}

impl Render<'_> {
    /// `±a·2^i ± b·2^j ± c·2^k` as a `w`-bit Verilog expression (positive addends first): the
    /// portable form of a ternary adder.
    pub(super) fn add3(&mut self, t: &[Addend; 3], w: u32) -> String {
        let mut order: Vec<&Addend> = t.iter().collect();
        order.sort_by_key(|d| d.neg);
        let mut out = String::new();
        for (i, d) in order.into_iter().enumerate() {
            let v = self.shifted(d, w);
            match (i, d.neg) {
                (0, _) => out.push_str(&v),
                (_, false) => out.push_str(&format!(" + {v}")),
                (_, true) => out.push_str(&format!(" - {v}")),
            }
        }
        out
    }

    /// `±(g ? a : 0) ± (g ? b : 0)` as `w` bits (at most one term negated: it goes second).
    pub(super) fn gated_add(&mut self, t: &[Gated; 2], w: u32) -> String {
        let mut order = *t;
        order.sort_by_key(|g| g.term.neg);
        let zero = literal(w, 0);
        let [a, b] = order.map(|g| format!("({} ? {} : {zero})", self.full(g.gate), self.shifted(&g.term, w)));
        format!("{a} {} {b}", if order[1].term.neg { "-" } else { "+" })
    }

    /// `±a ± b ± (g ? c : 0)` as `w` bits (positive addends first).
    pub(super) fn add3_gated(&mut self, t: &[Addend; 3], gate: SignalId, w: u32) -> String {
        let zero = literal(w, 0);
        let g = self.full(gate);
        let mut terms: Vec<(bool, String)> = t
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let v = self.shifted(d, w);
                (d.neg, if i == 2 { format!("({g} ? {v} : {zero})") } else { v })
            })
            .collect();
        terms.sort_by_key(|(neg, _)| *neg);
        let mut out = String::new();
        for (i, (neg, v)) in terms.into_iter().enumerate() {
            match (i, neg) {
                (0, _) => out.push_str(&v),
                (_, false) => out.push_str(&format!(" + {v}")),
                (_, true) => out.push_str(&format!(" - {v}")),
            }
        }
        out
    }

    /// `d.sig · 2^d.shift` as exactly `w` bits.
    pub(super) fn shifted(&mut self, d: &Addend, w: u32) -> String {
        if d.shift == 0 {
            self.ext(d.sig, 0, w)
        } else {
            format!("{{{}, {}}}", self.ext(d.sig, 0, w - d.shift), literal(d.shift, 0))
        }
    }
}
