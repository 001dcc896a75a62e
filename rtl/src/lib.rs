//! tachyon-rtl: the netlist IR at the bottom of the compiler, with its builder, verifier,
//! cycle-accurate simulator, text dump and Verilog-2005 emitter.
//!
//! * [`netlist`] — the IR types and their semantics;
//! * [`builder`] — `impl Module` construction helpers (`add_input`, `wire`, `reg`, …);
//! * [`verify()`] — every structural, typing and pipeline-balance invariant;
//! * [`Sim`] — the bit-exact oracle that lowerings are property-tested against;
//! * [`dump()`] / [`emit_verilog()`] — text form for tests, Verilog for tools.

mod accessors;
pub mod bits;
pub mod builder;
pub mod dump;
pub mod emit;
mod keywords;
pub mod names;
pub mod netlist;
pub mod prune;
pub mod sim;
pub mod verify;
pub mod wrappers;

pub use dump::dump;
pub use emit::{emit_partitioned, emit_rtl, emit_verilog, PartModule, Partitioned};
pub use keywords::is_keyword;
pub use netlist::{Addend, Assign, CmpOp, Expr, Fabric, Gated, Module, Reg, RegRole, Signal, SignalId, SignalKind};
pub use prune::prune;
pub use sim::Sim;
pub use verify::{verify, Stages, VerifyError};
