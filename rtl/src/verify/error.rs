//! [`VerifyError`]: one variant per violated netlist invariant. Every message names the
//! signal(s) involved as `` `name` (sN) `` so a failure can be found in both the dump and the
//! emitted Verilog.

use crate::netlist::{Module, SignalId};

/// A violated netlist invariant (an internal bug in whichever lowering built the module).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("module name `{name}` is not a legal Verilog identifier")]
    IllegalModuleName { name: String },
    #[error("{context} refers to {id}, but the module has only {count} signals")]
    BadId { context: String, id: SignalId, count: usize },
    #[error("signal {signal} has width {width}; widths must be 1..=128")]
    BadWidth { signal: String, width: u32 },
    #[error("signal {signal}: the name is not a legal Verilog identifier (letters, digits, `_`, no leading digit, no keyword)")]
    IllegalName { signal: String },
    #[error("signals {first} and {second} have the same name")]
    DuplicateName { first: String, second: String },
    #[error("port list entry {signal} is a {kind} signal, not an input or output")]
    NotAPort { signal: String, kind: String },
    #[error("signal {signal} appears more than once in the port list")]
    DuplicatePort { signal: String },
    #[error("{kind} signal {signal} is missing from the port list")]
    MissingPort { signal: String, kind: String },
    #[error("{role} {signal} must be a 1-bit input port")]
    BadClockOrReset { role: &'static str, signal: String },
    #[error("clk and rst are the same signal {signal}")]
    ClockIsReset { signal: String },
    #[error("the clock {signal} is used as data by {user}")]
    ClockAsData { signal: String, user: String },
    #[error("input {signal} is driven inside the module by {by}")]
    InputDriven { signal: String, by: String },
    #[error("{kind} signal {signal} has no driver")]
    Undriven { signal: String, kind: String },
    #[error("signal {signal} has {count} drivers; exactly one is allowed")]
    MultiplyDriven { signal: String, count: usize },
    #[error("{kind} signal {signal} is driven by a register; only Reg-kind signals may be")]
    RegDrivesNonReg { signal: String, kind: String },
    #[error("Reg-kind signal {signal} is driven by an assignment; it must be driven by a register")]
    AssignDrivesReg { signal: String },
    #[error("register {q} <= {d}: q is {q_ty} but d is {d_ty}; width and signedness must match")]
    RegTypeMismatch { q: String, d: String, q_ty: String, d_ty: String },
    #[error("the module has registers (first: {q}) but no clock")]
    MissingClock { q: String },
    #[error("clock {clk} is present but the module has no registers")]
    ClockWithoutRegs { clk: String },
    #[error("register {q} has a reset value but the module has no rst")]
    ResetWithoutRst { q: String },
    #[error("register {q}: reset value {value} does not fit {ty}")]
    ResetOutOfRange { q: String, value: i128, ty: String },
    #[error("{dst} = const {value}: the constant does not fit {ty}")]
    ConstOutOfRange { dst: String, value: i128, ty: String },
    #[error("table {dst}: entry {entry} = {value} does not fit {ty}")]
    TableEntryOutOfRange { dst: String, entry: usize, value: i128, ty: String },
    #[error("table {dst}: index {index} is {width} bits wide; at most 16 are allowed")]
    TableIndexTooWide { dst: String, index: String, width: u32 },
    #[error("table {dst}: {len} entries, but a {width}-bit index {index} needs exactly {expected}")]
    TableSize { dst: String, index: String, width: u32, len: usize, expected: usize },
    #[error("slice {dst} = {src}[{hi}:{lo}] is out of bounds: {src} is {width} bits wide")]
    SliceOutOfBounds { dst: String, src: String, hi: u64, lo: u32, width: u32 },
    #[error("concat {dst}: operand widths sum to {sum}, but the destination is {width} bits")]
    ConcatWidth { dst: String, sum: u64, width: u32 },
    #[error("mux {dst}: select {sel} is {width} bits wide, must be 1")]
    MuxSelWidth { dst: String, sel: String, width: u32 },
    #[error("comparison {dst} is {width} bits wide, must be 1")]
    CmpWidth { dst: String, width: u32 },
    #[error("{op} {dst} is {width} bits wide but operand {operand} is {operand_width}; bitwise operands must have the destination's width")]
    BitwiseWidth { op: &'static str, dst: String, width: u32, operand: String, operand_width: u32 },
    #[error("add3 {dst} negates {negated} addends; at most two may be negated (negate the sum instead)")]
    Add3Negations { dst: String, negated: usize },
    #[error(
        "add3 {dst} shifts an addend by {shift} but is only {width} bits wide; every shift must be below the width"
    )]
    Add3Shift { dst: String, shift: u32, width: u32 },
    #[error("gadd {dst} negates both addends; at most one may be negated")]
    GatedAddNegations { dst: String },
    #[error(
        "gadd {dst} shifts an addend by {shift} but is only {width} bits wide; every shift must be below the width"
    )]
    GatedAddShift { dst: String, shift: u32, width: u32 },
    #[error("gadd {dst}: gate {gate} is {width} bits wide, must be 1")]
    GatedAddGate { dst: String, gate: String, width: u32 },
    #[error("add3g {dst} gates an addend shifted by {shift}, below another addend's shift; the gated addend must have the highest shift")]
    Add3GatedShift { dst: String, shift: u32 },
    #[error("combinational loop: {path}")]
    CombLoop { path: String },
    #[error("register feedback loop reachable from data inputs: {path}; pipeline stages would be unbounded")]
    FeedbackLoop { path: String },
    #[error("unbalanced pipeline at {dst}: operand {a} is at stage {stage_a} but operand {b} is at stage {stage_b}")]
    Unbalanced { dst: String, a: String, stage_a: u32, b: String, stage_b: u32 },
    #[error("outputs disagree on latency: {a} is at stage {stage_a} but {b} is at stage {stage_b}")]
    OutputLatency { a: String, stage_a: u32, b: String, stage_b: u32 },
}

/// `` `name` (sN) `` for an id already known to be in range.
pub(crate) fn sig(m: &Module, id: SignalId) -> String {
    match m.signals.get(id.index()) {
        Some(s) => format!("`{}` ({id})", s.name),
        None => id.to_string(),
    }
}

/// `i8` / `u8`: signedness and width, as in the dump.
pub(crate) fn ty(m: &Module, id: SignalId) -> String {
    match m.signals.get(id.index()) {
        Some(s) => format!("{}{}", if s.signed { 'i' } else { 'u' }, s.width),
        None => "?".to_string(),
    }
}
