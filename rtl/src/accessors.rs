//! Generic accessors on netlist types: an [`Expr`]'s operand signals and mnemonic, a
//! [`SignalKind`]'s lower-case name (both as printed by [`crate::dump()`]).

use crate::netlist::{Addend, CmpOp, Expr, Gated, SignalId, SignalKind};

impl SignalKind {
    /// `input`, `output`, `wire` or `reg`.
    pub fn name(self) -> &'static str {
        match self {
            SignalKind::Input => "input",
            SignalKind::Output => "output",
            SignalKind::Wire => "wire",
            SignalKind::Reg => "reg",
        }
    }
}

impl Expr {
    /// The same expression with every operand replaced by `f(operand)`.
    pub fn map_operands(&self, f: impl Fn(SignalId) -> SignalId) -> Expr {
        match self {
            Expr::Const(v) => Expr::Const(*v),
            Expr::Ext(a) => Expr::Ext(f(*a)),
            Expr::Neg(a) => Expr::Neg(f(*a)),
            Expr::Not(a) => Expr::Not(f(*a)),
            Expr::Shl(a, k) => Expr::Shl(f(*a), *k),
            Expr::Shr(a, k) => Expr::Shr(f(*a), *k),
            Expr::Slice { src, lo } => Expr::Slice { src: f(*src), lo: *lo },
            Expr::Table { index, entries } => Expr::Table { index: f(*index), entries: entries.clone() },
            Expr::Add(a, b) => Expr::Add(f(*a), f(*b)),
            Expr::Add3(t) => Expr::Add3(t.map(|d| Addend { sig: f(d.sig), ..d })),
            Expr::Add3Gated { t, gate } => {
                Expr::Add3Gated { t: t.map(|d| Addend { sig: f(d.sig), ..d }), gate: f(*gate) }
            }
            Expr::GatedAdd(t) => {
                Expr::GatedAdd(t.map(|g| Gated { gate: f(g.gate), term: Addend { sig: f(g.term.sig), ..g.term } }))
            }
            Expr::Sub(a, b) => Expr::Sub(f(*a), f(*b)),
            Expr::Mul(a, b) => Expr::Mul(f(*a), f(*b)),
            Expr::And(a, b) => Expr::And(f(*a), f(*b)),
            Expr::Or(a, b) => Expr::Or(f(*a), f(*b)),
            Expr::Xor(a, b) => Expr::Xor(f(*a), f(*b)),
            Expr::Cmp(op, a, b) => Expr::Cmp(*op, f(*a), f(*b)),
            Expr::Mux { sel, t, f: e } => Expr::Mux { sel: f(*sel), t: f(*t), f: f(*e) },
            Expr::Concat(v) => Expr::Concat(v.iter().map(|&x| f(x)).collect()),
        }
    }

    /// The operand signals in source order (`Mux` is `sel, t, f`; `Table` is its index).
    pub fn operands(&self) -> Vec<SignalId> {
        match self {
            Expr::Const(_) => vec![],
            Expr::Ext(a) | Expr::Neg(a) | Expr::Not(a) | Expr::Shl(a, _) | Expr::Shr(a, _) => {
                vec![*a]
            }
            Expr::Slice { src, .. } => vec![*src],
            Expr::Add3(t) => t.iter().map(|d| d.sig).collect(),
            Expr::GatedAdd(t) => t.iter().flat_map(|g| [g.gate, g.term.sig]).collect(),
            Expr::Add3Gated { t, gate } => t.iter().map(|d| d.sig).chain([*gate]).collect(),
            Expr::Table { index, .. } => vec![*index],
            Expr::Add(a, b)
            | Expr::Sub(a, b)
            | Expr::Mul(a, b)
            | Expr::Cmp(_, a, b)
            | Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Xor(a, b) => vec![*a, *b],
            Expr::Concat(parts) => parts.clone(),
            Expr::Mux { sel, t, f } => vec![*sel, *t, *f],
        }
    }

    /// Lower-case operation name used by [`crate::dump()`] (`add`, `cmp.lt`, `table`, …).
    pub fn mnemonic(&self) -> &'static str {
        match self {
            Expr::Const(_) => "const",
            Expr::Ext(_) => "ext",
            Expr::Add(..) => "add",
            Expr::Add3(..) => "add3",
            Expr::GatedAdd(..) => "gadd",
            Expr::Add3Gated { .. } => "add3g",
            Expr::Sub(..) => "sub",
            Expr::Neg(_) => "neg",
            Expr::Mul(..) => "mul",
            Expr::Shl(..) => "shl",
            Expr::Shr(..) => "shr",
            Expr::Slice { .. } => "slice",
            Expr::Concat(_) => "concat",
            Expr::Mux { .. } => "mux",
            Expr::Cmp(op, ..) => match op {
                CmpOp::Lt => "cmp.lt",
                CmpOp::Le => "cmp.le",
                CmpOp::Gt => "cmp.gt",
                CmpOp::Ge => "cmp.ge",
                CmpOp::Eq => "cmp.eq",
                CmpOp::Ne => "cmp.ne",
            },
            Expr::And(..) => "and",
            Expr::Or(..) => "or",
            Expr::Xor(..) => "xor",
            Expr::Not(_) => "not",
            Expr::Table { .. } => "table",
        }
    }
}
