//! Netlist construction with automatic, balanced pipelining.
//!
//! Every value ([`Val`]) knows its pipeline stage (registers crossed since the input) and its
//! combinational delay within that stage. An operation takes its operands to a common stage
//! (inserting delay registers, shared per signal and stage), and if its delay would push the
//! stage past the clock budget it registers the operands first. The result: every path between
//! two registers fits the clock by the delay model, and all paths into a node cross the same
//! number of registers (the `rtl` verifier checks that balance).

use crate::delay::Delay;
use std::collections::HashMap;
use tachyon_quantize::fixed::bits_for;
use tachyon_rtl::{Expr, Module, SignalId};

/// A value in the netlist under construction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Val {
    pub sig: SignalId,
    /// `None` for constants (usable at any stage).
    pub stage: Option<u32>,
    /// Arrival time of its top bit within its stage, in picoseconds (the delay that must fit
    /// the clock).
    pub delay_ps: u32,
    /// Arrival time of its low bit (earlier than `delay_ps` for adder outputs whose carry is
    /// still rippling; see [`crate::delay`]).
    pub low_ps: u32,
    /// Exact integer range of the value.
    pub lo: i128,
    pub hi: i128,
}

impl Val {
    pub fn width(&self) -> u32 {
        bits_for(self.lo, self.hi)
    }
    pub fn signed(&self) -> bool {
        self.lo < 0
    }
}

/// How adder trees use ternary adders (on [`tachyon_rtl::Fabric::UltraScale`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Ternary {
    /// Binary adders only.
    Off,
    /// Ternary adders wherever three or more terms are left: the fewest LUTs.
    #[default]
    Greedy,
    /// Per output, the most ternary tree that finishes in the binary tree's stage and at most
    /// this many picoseconds after it.
    NoLater(u32),
}

/// A point in the construction that [`Builder::rollback`] returns to.
pub struct Mark {
    signals: usize,
    assigns: usize,
    regs: usize,
    counter: u32,
    critical_ps: u32,
    valid: usize,
}

impl Mark {
    /// How many registers the module had.
    pub fn regs(&self) -> usize {
        self.regs
    }
}

/// Builds one module.
pub struct Builder {
    pub m: Module,
    budget_ps: u32,
    delayed: HashMap<(SignalId, u32), SignalId>,
    consts: HashMap<(i128, u32, bool), SignalId>,
    /// Name prefix of the layer being built (e.g. `dense0`).
    pub prefix: String,
    /// ONNX origin of the layer being built.
    pub origin: String,
    counter: u32,
    /// Latest arrival time at any register input so far (the critical stage's logic delay).
    pub critical_ps: u32,
    /// The valid chain: `valid[s]` is the input's valid flag delayed to stage `s`.
    valid: Vec<SignalId>,
    /// How the layer being built uses ternary adders.
    pub ternary: Ternary,
    /// Common-subexpression plans of linear layers, reused across rebuilds of one design.
    pub plans: crate::layers::cse::PlanCache,
    /// Each ReLU multiplexer built so far whose one reader is a requantization, by its output:
    /// its select (the input's sign) and its input, so that the requantization can drop bits
    /// before the multiplexer ([`crate::layers::misc::requant_after_relu`]).
    pub relus: HashMap<SignalId, (Val, Val)>,
    /// Whether the layer being built is a ReLU whose output only a requantization reads
    /// ([`crate::layers::relu_feeds_requant`]): its multiplexers go into [`Builder::relus`].
    pub relu_to_requant: bool,
}

fn ps(ns: f64) -> u32 {
    (ns * 1000.0).round() as u32
}

impl Builder {
    pub fn new(m: Module, clock_ns: f64) -> Builder {
        let budget = (clock_ns - crate::delay::REGISTER_OVERHEAD_NS).max(0.2);
        Builder {
            m,
            budget_ps: ps(budget),
            delayed: HashMap::new(),
            consts: HashMap::new(),
            prefix: String::new(),
            origin: String::new(),
            counter: 0,
            critical_ps: 0,
            valid: vec![],
            ternary: Ternary::default(),
            plans: Default::default(),
            relus: HashMap::new(),
            relu_to_requant: false,
        }
    }

    /// Logic delay that fits between two registers at the target clock.
    pub fn budget_ns(&self) -> f64 {
        self.budget_ps as f64 / 1000.0
    }

    /// Sets the module's input valid flag (stage 0 of the valid chain).
    pub fn set_valid(&mut self, in_valid: SignalId) {
        self.valid = vec![in_valid];
    }

    /// The input's valid flag delayed to `stage` (extending the `valid_d*` chain as needed).
    pub fn valid_at(&mut self, stage: u32) -> SignalId {
        assert!(!self.valid.is_empty(), "valid_at before set_valid");
        while self.valid.len() <= stage as usize {
            let s = self.valid.len();
            let prev = self.valid[s - 1];
            let q = self.m.reg(&format!("valid_d{s}"), prev, Some(0), None);
            self.valid.push(q);
        }
        self.valid[stage as usize]
    }

    fn fresh(&mut self, what: &str) -> String {
        self.counter += 1;
        format!("{}_{}{}", self.prefix, what, self.counter)
    }

    /// A constant.
    pub fn constant(&mut self, v: i128) -> Val {
        let (w, s) = (bits_for(v, v), v < 0);
        let sig = match self.consts.get(&(v, w, s)) {
            Some(&id) => id,
            None => {
                let name = if v < 0 { format!("const_m{}", v.unsigned_abs()) } else { format!("const_{v}") };
                let id = self.m.wire(&name, w, s, None, Expr::Const(v));
                self.consts.insert((v, w, s), id);
                id
            }
        };
        Val { sig, stage: None, delay_ps: 0, low_ps: 0, lo: v, hi: v }
    }

    /// A value entering at stage 0 (an input port slice).
    pub fn source(&mut self, sig: SignalId, lo: i128, hi: i128) -> Val {
        Val { sig, stage: Some(0), delay_ps: 0, low_ps: 0, lo, hi }
    }

    /// Registers `v` once (next stage, zero delay).
    pub fn register(&mut self, v: Val) -> Val {
        let Some(stage) = v.stage else { return v };
        self.critical_ps = self.critical_ps.max(v.delay_ps);
        if let Some(&q) = self.delayed.get(&(v.sig, stage + 1)) {
            return Val { sig: q, stage: Some(stage + 1), delay_ps: 0, low_ps: 0, ..v };
        }
        let base = self.m.signal(v.sig).name.clone();
        let root = match base.rfind("_d") {
            Some(i) if base[i + 2..].chars().all(|c| c.is_ascii_digit()) && i + 2 < base.len() => &base[..i],
            _ => base.as_str(),
        };
        let name = format!("{root}_d{}", stage + 1);
        let origin = self.origin.clone();
        let q = self.m.reg(&name, v.sig, None, Some(origin.as_str()).filter(|s| !s.is_empty()));
        self.delayed.insert((v.sig, stage + 1), q);
        Val { sig: q, stage: Some(stage + 1), delay_ps: 0, low_ps: 0, ..v }
    }

    /// Brings `v` to `stage` through delay registers (a constant stays a constant).
    pub fn at_stage(&mut self, v: Val, stage: u32) -> Val {
        let mut v = v;
        while let Some(s) = v.stage {
            if s >= stage {
                break;
            }
            v = self.register(v);
        }
        v
    }

    /// The current point of construction, to try one way of building something and take it
    /// back ([`Builder::rollback`]).
    pub fn mark(&self) -> Mark {
        Mark {
            signals: self.m.signals.len(),
            assigns: self.m.assigns.len(),
            regs: self.m.regs.len(),
            counter: self.counter,
            critical_ps: self.critical_ps,
            valid: self.valid.len(),
        }
    }

    /// Removes everything built since `mark` (signals, assignments, registers, shared delay
    /// registers and constants). Ports must not have been added since.
    pub fn rollback(&mut self, mark: &Mark) {
        let n = mark.signals;
        for s in self.m.signals.drain(n..) {
            self.m.name_index.0.remove(&s.name);
        }
        self.m.assigns.truncate(mark.assigns);
        self.m.regs.truncate(mark.regs);
        self.delayed.retain(|&(s, _), q| s.index() < n && q.index() < n);
        self.consts.retain(|_, c| c.index() < n);
        self.relus.retain(|r, _| r.index() < n);
        self.counter = mark.counter;
        self.critical_ps = mark.critical_ps;
        self.valid.truncate(mark.valid);
    }

    /// Whether an operation over `operands` delaying a `width`-bit result by `delay` fits the
    /// clock in the operands' stage; [`Builder::op`] registers its operands first when not.
    pub fn fits(&self, operands: &[Val], delay: Delay, width: u32) -> bool {
        let Some(stage) = operands.iter().filter_map(|v| v.stage).max() else { return true };
        let at = |v: &&Val| v.stage == Some(stage);
        let times: Vec<(u32, u32)> = operands.iter().filter(at).map(|v| (v.low_ps, v.delay_ps)).collect();
        let busy = operands.iter().filter(at).any(|v| v.delay_ps > 0);
        !busy || crate::delay::arrival(delay, &times, width).1 <= self.budget_ps
    }

    /// Creates `expr` over `operands` producing the range [lo, hi], delayed by `delay`.
    pub fn op(
        &mut self,
        what: &str,
        operands: &[Val],
        lo: i128,
        hi: i128,
        delay: impl Into<Delay>,
        expr: impl FnOnce(&[SignalId]) -> Expr,
    ) -> Val {
        let delay = delay.into();
        let width = bits_for(lo, hi);
        let cut = !self.fits(operands, delay, width);
        let mut stage = operands.iter().filter_map(|v| v.stage).max();
        let mut ops: Vec<Val> = operands
            .iter()
            .map(|&v| match stage {
                Some(s) => self.at_stage(v, s),
                None => v,
            })
            .collect();
        if cut {
            // Register the operands: the op starts a new stage.
            let s = stage.map(|s| s + 1);
            stage = s;
            ops = ops
                .into_iter()
                .map(|v| match s {
                    Some(s) => self.at_stage(v, s),
                    None => v,
                })
                .collect();
        }
        let times: Vec<(u32, u32)> = ops.iter().filter(|v| v.stage.is_some()).map(|v| (v.low_ps, v.delay_ps)).collect();
        let t = crate::delay::arrival(delay, &times, width);
        let name = self.fresh(what);
        let sigs: Vec<SignalId> = ops.iter().map(|v| v.sig).collect();
        let origin = self.origin.clone();
        let sig = self.m.wire(&name, width, lo < 0, Some(origin.as_str()).filter(|s| !s.is_empty()), expr(&sigs));
        let (low_ps, delay_ps) = if stage.is_some() { t } else { (0, 0) };
        Val { sig, stage, delay_ps, low_ps, lo, hi }
    }

    /// `x · y` with the product in [lo, hi]: a DSP48E2 (or LUTs when an operand is narrow). When
    /// the combinational multiply does not fit the clock, its inputs come straight from
    /// registers and the product is registered at once, which synthesis packs into the DSP's
    /// A/B and M registers.
    pub fn multiply(&mut self, x: Val, y: Val, lo: i128, hi: i128) -> Val {
        let d = crate::delay::multiply(x.width(), y.width());
        if matches!(d, Delay::Logic(ns) if ns > self.budget_ns()) {
            let x = if x.delay_ps > 0 { self.register(x) } else { x };
            let y = if y.delay_ps > 0 { self.register(y) } else { y };
            let dd = Delay::Logic(crate::delay::DSP_REGISTERED_NS);
            let p = self.op("mul", &[x, y], lo, hi, dd, |s| Expr::Mul(s[0], s[1]));
            return self.register(p);
        }
        self.op("mul", &[x, y], lo, hi, d, |s| Expr::Mul(s[0], s[1]))
    }

    /// A layer boundary: brings every value to one stage, registering once more when any value
    /// still carries combinational delay (values that are plain wires or registers stay).
    pub fn register_all(&mut self, vals: &[Val]) -> Vec<Val> {
        let s = vals.iter().filter_map(|v| v.stage).max().unwrap_or(0);
        let busy = vals.iter().any(|v| v.stage == Some(s) && v.delay_ps > 0);
        let target = if busy { s + 1 } else { s };
        vals.iter().map(|&v| if v.stage.is_none() { v } else { self.at_stage(v, target) }).collect()
    }
}
