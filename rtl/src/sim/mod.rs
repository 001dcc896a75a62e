//! A cycle-accurate, bit-exact simulator of a verified [`Module`] — the fast oracle that
//! lowerings are property-tested against (and that Verilator runs are compared with).
//!
//! Values are held as bit patterns of each signal's width; all registers start at 0. The
//! protocol mirrors a testbench: [`Sim::set_input`] the inputs (including `rst`), [`Sim::eval`]
//! and read outputs with [`Sim::get`], then [`Sim::step`] for a rising clock edge.
//!
//! Arithmetic is exact for every width up to 128: operands are widened to 128 bits and
//! Add/Sub/Neg/Mul/Shl wrap modulo 2^128 before being wrapped to the destination width. A
//! product whose full value needs more than 128 bits (e.g. two 100-bit operands) is therefore
//! reduced modulo 2^128 first, which loses nothing because the destination keeps at most the
//! low 128 bits anyway (see `eval.rs` for the argument).

mod eval;

use crate::bits::{to_i128, wrap};
use crate::netlist::{Assign, Module, Reg, SignalId, SignalKind};
use crate::verify::{verify_with_order, Stages, VerifyError};
use eval::{eval_expr, Values};

/// Simulation state of one module.
#[derive(Clone, Debug)]
pub struct Sim {
    names: Vec<String>,
    kinds: Vec<SignalKind>,
    widths: Vec<u32>,
    signed: Vec<bool>,
    bits: Vec<u128>,
    /// Bit patterns of ports wider than 128 bits, in 128-bit chunks, least significant first
    /// (empty for every other signal). Only slices and concatenations touch them.
    wide: Vec<Vec<u128>>,
    /// Assignments in combinational evaluation order.
    assigns: Vec<Assign>,
    regs: Vec<Reg>,
    rst: Option<SignalId>,
    stages: Stages,
    cycle: u64,
}

impl Sim {
    /// Verifies `m` and prepares it for simulation (topologically orders the assignments
    /// once). All signals start at 0; call [`Sim::eval`] after setting inputs.
    pub fn new(m: &Module) -> Result<Sim, VerifyError> {
        let (stages, order) = verify_with_order(m)?;
        let is_port = |id: SignalId| matches!(m.signal(id).kind, SignalKind::Input | SignalKind::Output);
        if let Some(id) = m.signal_ids().find(|&id| m.signal(id).width > 128 && !is_port(id)) {
            // Values are held in 128 bits; only ports (buses of sliced/concatenated elements)
            // may be wider.
            return Err(VerifyError::BadWidth {
                signal: format!("`{}` ({id})", m.signal(id).name),
                width: m.signal(id).width,
            });
        }
        let n = m.signals.len();
        let mut sim = Sim {
            names: m.signals.iter().map(|s| s.name.clone()).collect(),
            kinds: m.signals.iter().map(|s| s.kind).collect(),
            widths: m.signals.iter().map(|s| s.width).collect(),
            signed: m.signals.iter().map(|s| s.signed).collect(),
            bits: vec![0; n],
            wide: m
                .signals
                .iter()
                .map(|s| if s.width > 128 { vec![0; s.width.div_ceil(128) as usize] } else { vec![] })
                .collect(),
            assigns: order.into_iter().map(|i| m.assigns[i].clone()).collect(),
            regs: m.regs.clone(),
            rst: m.rst,
            stages,
            cycle: 0,
        };
        sim.eval();
        Ok(sim)
    }

    /// Sets input `id` to `value` wrapped to its width (so both `-1` and `255` set an 8-bit
    /// input to all ones). Takes effect at the next [`Sim::eval`] or [`Sim::step`].
    ///
    /// # Panics
    /// If `id` is not an input of the module.
    pub fn set_input(&mut self, id: SignalId, value: i128) {
        let i = id.index();
        assert!(self.kinds.get(i) == Some(&SignalKind::Input), "Sim::set_input: {id} is not an input port");
        self.bits[i] = wrap(value as u128, self.widths[i]);
    }

    /// Sets a port of any width from its bit pattern in 128-bit chunks, least significant
    /// first (missing chunks are 0, bits beyond the width are dropped).
    ///
    /// # Panics
    /// If `id` is not an input port.
    pub fn set_input_chunks(&mut self, id: SignalId, chunks: &[u128]) {
        let i = id.index();
        assert!(self.kinds.get(i) == Some(&SignalKind::Input), "Sim::set_input_chunks: {id} is not an input port");
        if self.widths[i] <= 128 {
            self.bits[i] = wrap(chunks.first().copied().unwrap_or(0), self.widths[i]);
            return;
        }
        let w = self.widths[i];
        for (k, c) in self.wide[i].iter_mut().enumerate() {
            let v = chunks.get(k).copied().unwrap_or(0);
            let left = w - 128 * k as u32;
            *c = if left >= 128 { v } else { wrap(v, left) };
        }
    }

    /// The bit pattern of signal `id` of any width in 128-bit chunks, least significant first.
    pub fn get_chunks(&self, id: SignalId) -> Vec<u128> {
        let i = id.index();
        if self.widths[i] <= 128 {
            vec![self.bits[i]]
        } else {
            self.wide[i].clone()
        }
    }

    /// Bits `[lo, lo + width)` of a wide signal.
    fn wide_slice(&self, i: usize, lo: u32, width: u32) -> u128 {
        let mut out = 0u128;
        for k in 0..width.min(128) {
            let b = lo + k;
            let bit = (self.wide[i][(b / 128) as usize] >> (b % 128)) & 1;
            out |= bit << k;
        }
        out
    }

    /// Evaluates an assignment that reads or writes a wide port (a slice or a concatenation).
    fn eval_wide(&mut self, k: usize) -> bool {
        let dst = self.assigns[k].dst.index();
        match &self.assigns[k].expr {
            crate::Expr::Slice { src, lo } if self.widths[src.index()] > 128 => {
                self.bits[dst] = self.wide_slice(src.index(), *lo, self.widths[dst]);
                true
            }
            crate::Expr::Concat(parts) if self.widths[dst] > 128 => {
                let mut words = vec![0u128; self.wide[dst].len()];
                let mut at = 0u32;
                for p in parts.iter().rev() {
                    let pw = self.widths[p.index()];
                    for b in 0..pw {
                        let bit = if pw > 128 {
                            (self.wide[p.index()][(b / 128) as usize] >> (b % 128)) & 1
                        } else {
                            (self.bits[p.index()] >> b) & 1
                        };
                        let t = at + b;
                        words[(t / 128) as usize] |= bit << (t % 128);
                    }
                    at += pw;
                }
                self.wide[dst] = words;
                true
            }
            _ => false,
        }
    }

    /// Settles the combinational logic from the current inputs and register values.
    pub fn eval(&mut self) {
        for k in 0..self.assigns.len() {
            if self.eval_wide(k) {
                continue;
            }
            let dst = self.assigns[k].dst.index();
            let v = Values { widths: &self.widths, signed: &self.signed, bits: &self.bits };
            let r = eval_expr(&self.assigns[k].expr, self.widths[dst], &v);
            self.bits[dst] = r;
        }
    }

    /// One rising clock edge: settles the logic, updates every register at once (to its reset
    /// value if it has one and `rst` is 1), then settles the logic again.
    pub fn step(&mut self) {
        self.eval();
        let in_reset = self.rst.is_some_and(|r| self.bits[r.index()] != 0);
        let next: Vec<u128> = self
            .regs
            .iter()
            .map(|r| match r.reset {
                Some(v) if in_reset => wrap(v as u128, self.widths[r.q.index()]),
                _ => self.bits[r.d.index()],
            })
            .collect();
        for (r, v) in self.regs.iter().zip(next) {
            self.bits[r.q.index()] = v;
        }
        self.cycle += 1;
        self.eval();
    }

    /// The value of signal `id`, read with its signedness. An unsigned 128-bit value ≥ 2^127
    /// comes back as its bit pattern reinterpreted as `i128` (cast it to `u128`).
    ///
    /// # Panics
    /// If `id` is not a signal of the module.
    pub fn get(&self, id: SignalId) -> i128 {
        let i = id.index();
        to_i128(self.bits[i], self.widths[i], self.signed[i])
    }

    /// The raw bit pattern of signal `id` (bits above its width are 0).
    ///
    /// # Panics
    /// If `id` is not a signal of the module.
    pub fn get_bits(&self, id: SignalId) -> u128 {
        self.bits[id.index()]
    }

    /// The signal called `name`, if any.
    pub fn find(&self, name: &str) -> Option<SignalId> {
        self.names.iter().position(|n| n == name).map(|i| SignalId(i as u32))
    }

    /// Number of [`Sim::step`] calls so far.
    pub fn cycle(&self) -> u64 {
        self.cycle
    }

    /// The pipeline stages computed when the module was verified.
    pub fn stages(&self) -> &Stages {
        &self.stages
    }
}
