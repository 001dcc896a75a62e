//! Ergonomic construction of a [`Module`]: ports, wires, assignments and registers.
//!
//! Every `add_*` call takes a free-form name, sanitizes it into a legal Verilog identifier
//! (see [`crate::names::sanitize`]) and makes it unique within the module by appending `_1`,
//! `_2`, … — so lowerings can name signals after ONNX nodes without worrying about clashes.
//! The builder does not check widths or operand types: run [`crate::verify()`] on the result.
//!
//! Cost: `Module` has no name index (adding a field would break other crates' struct
//! literals), so each added signal scans the existing names once — O(n²) overall, about 7 s
//! for 50 000 signals on the development machine.
//!
//! ```text
//! let mut m = Module::new("top");
//! let clk = m.add_clock();                       // input clk
//! let a = m.add_input("a", 8, true);             // input signed [7:0] a
//! let s = m.wire("sum", 9, true, None, Expr::Add(a, a));
//! let q = m.reg("sum_q", s, Some(0), None);      // reg signed [8:0] sum_q
//! ```

use crate::names::{sanitize, uniquify};
use crate::netlist::{Assign, Expr, Module, Reg, RegRole, Signal, SignalId, SignalKind};

impl Module {
    /// An empty module called `name` (used verbatim; [`crate::verify()`] checks it is legal).
    pub fn new(name: &str) -> Module {
        Module { name: name.to_string(), ..Module::default() }
    }

    /// The signal `id`.
    ///
    /// # Panics
    /// If `id` is not a signal of this module.
    pub fn signal(&self, id: SignalId) -> &Signal {
        &self.signals[id.index()]
    }

    /// The signal whose (final, unique) name is exactly `name`.
    pub fn find(&self, name: &str) -> Option<SignalId> {
        self.signals.iter().position(|s| s.name == name).map(|i| SignalId(i as u32))
    }

    /// Ids of all signals, in index order.
    pub fn signal_ids(&self) -> impl Iterator<Item = SignalId> {
        (0..self.signals.len() as u32).map(SignalId)
    }

    /// The sanitized, unique form `name` would get if added now.
    pub fn unique_name(&self, name: &str) -> String {
        let base = sanitize(name);
        if self.name_index.0.len() == self.signals.len() {
            // Fast path: the index is in step with the signals.
            if !self.name_index.0.contains(&base) {
                return base;
            }
            return (1u64..).map(|n| format!("{base}_{n}")).find(|c| !self.name_index.0.contains(c)).unwrap_or(base);
        }
        uniquify(&base, self.signals.iter().map(|s| s.name.as_str()))
    }

    /// Adds a signal without touching ports, drivers or clocking; returns its id.
    pub fn add_signal(
        &mut self,
        name: &str,
        width: u32,
        signed: bool,
        kind: SignalKind,
        origin: Option<&str>,
    ) -> SignalId {
        if self.name_index.0.len() != self.signals.len() {
            self.name_index.0 = self.signals.iter().map(|s| s.name.clone()).collect();
        }
        let name = self.unique_name(name);
        self.name_index.0.insert(name.clone());
        let id = SignalId(self.signals.len() as u32);
        self.signals.push(Signal { name, width, signed, kind, origin: origin.map(str::to_string) });
        id
    }

    /// Adds an input port (appended to the port list).
    pub fn add_input(&mut self, name: &str, width: u32, signed: bool) -> SignalId {
        let id = self.add_signal(name, width, signed, SignalKind::Input, None);
        self.ports.push(id);
        id
    }

    /// Adds an output port (appended to the port list); drive it with [`Module::assign`].
    pub fn add_output(&mut self, name: &str, width: u32, signed: bool) -> SignalId {
        let id = self.add_signal(name, width, signed, SignalKind::Output, None);
        self.ports.push(id);
        id
    }

    /// Adds an internal wire; drive it with [`Module::assign`].
    pub fn add_wire(&mut self, name: &str, width: u32, signed: bool, origin: Option<&str>) -> SignalId {
        self.add_signal(name, width, signed, SignalKind::Wire, origin)
    }

    /// Adds the continuous assignment `dst = expr`.
    pub fn assign(&mut self, dst: SignalId, expr: Expr) {
        self.assigns.push(Assign { dst, expr });
    }

    /// Adds a wire and assigns `expr` to it; returns the wire.
    pub fn wire(&mut self, name: &str, width: u32, signed: bool, origin: Option<&str>, expr: Expr) -> SignalId {
        let id = self.add_wire(name, width, signed, origin);
        self.assign(id, expr);
        id
    }

    /// Adds a register `q <= d` (with synchronous reset value `reset` if given) whose output is
    /// a new Reg-kind signal with `d`'s width and signedness; returns `q`. Call
    /// [`Module::add_clock`] (and [`Module::add_reset`] for reset values) as well.
    ///
    /// # Panics
    /// If `d` is not a signal of this module.
    pub fn reg(&mut self, name: &str, d: SignalId, reset: Option<i128>, origin: Option<&str>) -> SignalId {
        let (width, signed) = {
            let s = self.signal(d);
            (s.width, s.signed)
        };
        let q = self.add_signal(name, width, signed, SignalKind::Reg, origin);
        self.regs.push(Reg { q, d, reset, role: RegRole::Pipeline });
        q
    }

    /// Adds a state register (see [`RegRole::State`]) of the given type whose input is set
    /// later with [`Module::set_state_input`] (it holds its value until then); returns `q`.
    pub fn state_reg(
        &mut self,
        name: &str,
        width: u32,
        signed: bool,
        reset: Option<i128>,
        stage: Option<u32>,
        origin: Option<&str>,
    ) -> SignalId {
        let q = self.add_signal(name, width, signed, SignalKind::Reg, origin);
        self.regs.push(Reg { q, d: q, reset, role: RegRole::State { stage } });
        q
    }

    /// Connects the input of state register `q`.
    ///
    /// # Panics
    /// If `q` is not a state register of this module.
    pub fn set_state_input(&mut self, q: SignalId, d: SignalId) {
        let r = self
            .regs
            .iter_mut()
            .find(|r| r.q == q && matches!(r.role, RegRole::State { .. }))
            .expect("set_state_input: not a state register");
        r.d = d;
    }

    /// Creates the 1-bit `clk` input port and records it in [`Module::clk`]; returns the
    /// existing clock if there already is one.
    pub fn add_clock(&mut self) -> SignalId {
        if let Some(clk) = self.clk {
            return clk;
        }
        let clk = self.add_input("clk", 1, false);
        self.clk = Some(clk);
        clk
    }

    /// Creates the 1-bit synchronous active-high `rst` input port and records it in
    /// [`Module::rst`]; returns the existing reset if there already is one.
    pub fn add_reset(&mut self) -> SignalId {
        if let Some(rst) = self.rst {
            return rst;
        }
        let rst = self.add_input("rst", 1, false);
        self.rst = Some(rst);
        rst
    }
}
