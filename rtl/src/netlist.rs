//! The netlist IR: typed signals in an arena, combinational assignments and clocked registers.
//!
//! Semantics (shared by the Rust simulator, the verifier and the Verilog emitter):
//! * every signal has an explicit `width` (1..=128) and `signed` flag; its value is a two's
//!   complement (signed) or plain binary (unsigned) integer of that width;
//! * every [`Expr`] computes the *mathematically exact* integer result from its operands, each
//!   read with its own signedness, and the result is then wrapped (truncated, two's complement)
//!   to the destination signal's width. Widths in a lowering are chosen so nothing is lost;
//! * registers all clock on the rising edge of the module's single clock `clk`; a register with
//!   `reset: Some(v)` takes `v` on a clock edge while the synchronous active-high `rst` is 1.
//!
//! Signals live in `Module::signals` indexed by [`SignalId`] and print as `s<N>` in dumps; the
//! emitted Verilog uses each signal's `name`, which lowerings prefix with the layer name.

use std::fmt;

/// Index of a signal in [`Module::signals`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct SignalId(pub u32);

impl SignalId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Display for SignalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

/// What drives a signal and whether it is a port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SignalKind {
    /// Module input port (driven from outside). `clk` and `rst` are inputs too.
    Input,
    /// Module output port, driven by exactly one assignment.
    Output,
    /// Internal combinational wire, driven by exactly one assignment.
    Wire,
    /// Internal register output, driven by exactly one [`Reg`].
    Reg,
}

/// One signal of the netlist.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Signal {
    /// Verilog identifier, unique within the module.
    pub name: String,
    /// Bit width, 1..=128.
    pub width: u32,
    /// Two's complement when true.
    pub signed: bool,
    pub kind: SignalKind,
    /// Where it came from (ONNX node name), emitted as a comment.
    pub origin: Option<String>,
}

/// Comparison operators; the result is a 1-bit unsigned value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// A combinational expression. Operands are signals; the result is wrapped to the width of the
/// destination signal (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Expr {
    /// A constant (must fit the destination: verifier checks it).
    Const(i128),
    /// Copy with sign/zero extension (by the source's signedness) or truncation to the low bits.
    Ext(SignalId),
    /// a + b
    Add(SignalId, SignalId),
    /// `±a·2^i ± b·2^j ± c·2^k`: a ternary adder. At most two addends are negated and every
    /// shift is below the destination width. On [`Fabric::UltraScale`] it is one LUT6_2 per
    /// result bit into a CARRY8 chain, the LUTs of one binary adder for three operands.
    Add3([Addend; 3]),
    /// `±(g₀ ? a·2^i : 0) ± (g₁ ? b·2^j : 0)`: two gated addends, the rows of a LUT multiplier.
    /// At most one is negated, every shift is below the destination width, and each gate is one
    /// bit. On [`Fabric::UltraScale`] it is one LUT6_2 per result bit into a CARRY8 chain: the
    /// gates live in the adder's LUTs, which read `g₀, aᵢ, g₁, bᵢ`.
    GatedAdd([Gated; 2]),
    /// [`Expr::Add3`] whose third addend is gated: `±a·2^i ± b·2^j ± (gate ? c·2^k : 0)`, with
    /// `k` not below `i` or `j`. On [`Fabric::UltraScale`] the gate is the fifth input of the
    /// ternary adder's LUT6_2, so the last partial product of an odd-width LUT multiplier costs
    /// no LUTs of its own.
    Add3Gated {
        t: [Addend; 3],
        gate: SignalId,
    },
    /// a - b
    Sub(SignalId, SignalId),
    /// -a
    Neg(SignalId),
    /// a * b (full product of both operands)
    Mul(SignalId, SignalId),
    /// a · 2^k
    Shl(SignalId, u32),
    /// floor(a / 2^k) (arithmetic shift for signed a, logical for unsigned)
    Shr(SignalId, u32),
    /// bits [lo + dst.width - 1 : lo] of a, as a plain bit pattern; needs lo + dst.width ≤ a.width
    Slice {
        src: SignalId,
        lo: u32,
    },
    /// bit concatenation, first element is the most significant; widths must sum to dst.width
    Concat(Vec<SignalId>),
    /// sel ? t : f, where sel is 1 bit wide
    Mux {
        sel: SignalId,
        t: SignalId,
        f: SignalId,
    },
    /// 1-bit result of comparing the numeric values of a and b
    Cmp(CmpOp, SignalId, SignalId),
    /// bitwise and/or/xor of two signals of the destination's width; not of one such signal
    And(SignalId, SignalId),
    Or(SignalId, SignalId),
    Xor(SignalId, SignalId),
    Not(SignalId),
    /// read-only table: dst = `entries[index]` with `index` read as unsigned;
    /// `entries.len() == 1 << index.width`; every entry fits the destination
    Table {
        index: SignalId,
        entries: Vec<i128>,
    },
}

/// One operand of [`Expr::Add3`]: `±sig · 2^shift`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Addend {
    pub sig: SignalId,
    pub shift: u32,
    pub neg: bool,
}

impl Addend {
    /// The first result bit of the ternary adder over `t` that needs logic (a LUT on
    /// UltraScale). Below it only the lowest-shifted addend has bits; they pass through when it
    /// is positive. With the lowest addend negated, the logic starts at its shift.
    pub fn logic_start(t: &[Addend; 3]) -> u32 {
        let mut order = *t;
        order.sort_by_key(|d| (d.shift, d.neg));
        if order[0].neg {
            order[0].shift
        } else {
            order[1].shift
        }
    }
}

/// One operand of [`Expr::GatedAdd`]: `±(gate ? sig · 2^shift : 0)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Gated {
    pub gate: SignalId,
    pub term: Addend,
}

/// What the emitted Verilog may instantiate besides portable logic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Fabric {
    /// Portable Verilog only: [`Expr::Add3`] is written as `a + b - c`.
    #[default]
    Generic,
    /// AMD/Xilinx UltraScale and UltraScale+: [`Expr::Add3`] instantiates LUT6_2 and CARRY8
    /// (with behavioural models of both for simulation, outside `ifdef SYNTHESIS`).
    UltraScale,
}

/// `dst = expr` (continuous assignment).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Assign {
    pub dst: SignalId,
    pub expr: Expr,
}

/// `q <= d` on every rising edge of `clk` (same width and signedness); with `reset`, `q <= v`
/// while `rst` is high.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Reg {
    pub q: SignalId,
    pub d: SignalId,
    pub reset: Option<i128>,
    /// A pipeline register, or state of a time-multiplexed unit.
    #[serde(default)]
    pub role: RegRole,
}

/// What a register is for, as far as pipeline balance is concerned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RegRole {
    /// One pipeline stage: `q` is one stage after `d`.
    #[default]
    Pipeline,
    /// State of a time-multiplexed unit (a hold register, a phase counter, an accumulator):
    /// its input closes a feedback loop, so `d → q` is not a pipeline edge. `q` is read as
    /// belonging to `stage` — the stage at which the unit's schedule makes its value valid for
    /// the token there — or to no stage (control and intermediate state). The verifier trusts
    /// the schedule; co-simulation checks it.
    State { stage: Option<u32> },
}

/// A flat module: ports, wires, assignments and registers.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Module {
    pub name: String,
    /// Free text placed in the header comment of the emitted file.
    pub doc: Vec<String>,
    pub signals: Vec<Signal>,
    /// Port order of the emitted module header.
    pub ports: Vec<SignalId>,
    pub assigns: Vec<Assign>,
    pub regs: Vec<Reg>,
    /// The clock input (required when there are registers).
    pub clk: Option<SignalId>,
    /// The synchronous active-high reset input, if any.
    pub rst: Option<SignalId>,
    /// The primitives the emitted Verilog may use.
    #[serde(default)]
    pub fabric: Fabric,
    /// Index of the signal names, kept by the builder so adding a signal stays O(1); rebuilt
    /// whenever it is out of step with `signals`. Not part of the module's value.
    #[serde(skip)]
    pub name_index: NameIndex,
}

/// The set of signal names of a module (see [`Module::name_index`]); equality ignores it.
#[derive(Clone, Debug, Default)]
pub struct NameIndex(pub std::collections::HashSet<String>);

impl PartialEq for NameIndex {
    fn eq(&self, _: &NameIndex) -> bool {
        true
    }
}
impl Eq for NameIndex {}
