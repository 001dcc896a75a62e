//! The netlist verifier. [`verify`] checks, in this order, and reports the first violation:
//!
//! 1. **Names** — the module name and every signal name are legal Verilog identifiers (ASCII
//!    letters, digits, `_`, not starting with a digit, not a Verilog/SystemVerilog keyword);
//!    signal names are unique.
//! 2. **Widths** — every signal is 1..=128 bits wide, except ports (buses), which may be up to
//!    [`MAX_PORT_WIDTH`] bits but then only be read by `Slice` and written by `Concat`.
//! 3. **Ids** — every [`SignalId`](crate::SignalId) in `clk`, `rst`, `ports`, assignments and
//!    registers indexes an existing signal.
//! 4. **Ports** — `ports` lists every Input and Output signal exactly once and nothing else.
//! 5. **Clock and reset** — `clk` and `rst`, when set, are distinct 1-bit inputs; the clock is
//!    never an operand of an assignment or the `d` of a register.
//! 6. **Drivers** — every Output/Wire is driven by exactly one assignment, every Reg-kind signal
//!    by exactly one register, and no Input by either.
//! 7. **Registers** — `q` and `d` have the same width and signedness; `clk` is present iff
//!    there are registers; a reset value needs `rst` and must fit `q`.
//! 8. **Expressions** — `Const` values and `Table` entries fit the destination's width and
//!    signedness; `Slice` stays inside its source; `Concat` widths sum to the destination
//!    width; the `Mux` select is 1 bit; a `Cmp` destination is 1 bit; `And`/`Or`/`Xor`/`Not`
//!    operands have the destination's width; a `Table` index is at most 16 bits and the table
//!    has exactly `1 << index.width` entries.
//! 9. **No combinational loop** — the assignments (registers cut paths) form a DAG.
//! 10. **Pipeline balance** — each signal's stage is the number of registers on every path from
//!     a data input (inputs other than `clk`/`rst`); constants, `clk`, `rst` and logic fed only
//!     by them have no stage. All operands of an assignment that have a stage agree, no
//!     register feedback loop is reachable from a data input, and all outputs that have a stage
//!     share it (the latency). A valid chain is an ordinary 1-bit register chain from the
//!     `valid` input and balances like any other data. A state register (`RegRole::State`)
//!     cuts its feedback loop: its output has the stage it declares (and starts paths of its
//!     own), or none.
//!
//! `verify` never panics, whatever the module contains.

mod error;
mod exprs;
mod graph;
mod stages;
mod structure;

pub use error::VerifyError;
pub use exprs::MAX_TABLE_INDEX_WIDTH;
pub use stages::Stages;
pub use structure::MAX_PORT_WIDTH;

use crate::netlist::Module;

/// Checks every invariant listed in the [module docs](self); returns the pipeline stages.
pub fn verify(m: &Module) -> Result<Stages, VerifyError> {
    verify_with_order(m).map(|(stages, _)| stages)
}

/// [`verify`], also returning a combinational evaluation order (indices into `m.assigns`).
pub(crate) fn verify_with_order(m: &Module) -> Result<(Stages, Vec<usize>), VerifyError> {
    structure::check_signals(m)?;
    structure::check_ids(m)?;
    structure::check_ports(m)?;
    structure::check_drivers(m)?;
    structure::check_regs(m)?;
    for a in &m.assigns {
        exprs::check_assign(m, a)?;
    }
    let order = graph::comb_order(m)?;
    let stages = stages::compute(m)?;
    Ok((stages, order))
}
