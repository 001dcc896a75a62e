//! A delay model of AMD/Xilinx UltraScale+ fabric, used to decide where pipeline registers go.
//!
//! Every value has two arrival times within its pipeline stage: when its least significant bit
//! is ready and when its most significant bit is. Logic (LUTs, multiplexers, tables) makes all
//! bits ready together. A ripple-carry adder (LUT per bit into a CARRY8 chain) makes its low
//! bits ready one *level* after its operands' low bits, and its top bit after the carry has run
//! up the chain — but a chain of adders overlaps these ripples: level k's carry starts as soon as
//! level k−1's low bits arrive. So an adder tree of depth D over w-bit values costs about
//! `D · LEVEL + w · CARRY_PER_BIT`, not `D · (LEVEL + w · CARRY_PER_BIT)`.
//!
//! Figures (ns) for a −2 speed grade, taken on the slow side of what Vivado timing reports show
//! for these primitives: a LUT6 is ~0.1, a local net 0.25–0.45, a CARRY8 entry ~0.1 and the
//! carry ~0.015 per bit; clock-to-out plus setup ~0.15 and clock uncertainty/skew ~0.3.

/// Time from a register's clock edge to its output plus the next register's setup and the
/// clock uncertainty.
pub const REGISTER_OVERHEAD_NS: f64 = 0.45;

/// One LUT level plus the net to it.
pub const LUT_LEVEL_NS: f64 = 0.5;

/// An adder level: LUT, net, and entering/leaving the carry chain.
pub const ADDER_LEVEL_NS: f64 = 0.6;

/// Carry propagation per bit along a CARRY8 chain.
pub const CARRY_PER_BIT_NS: f64 = 0.02;

/// A DSP48E2 multiply between its input (A/B) and product (M) registers.
pub const DSP_REGISTERED_NS: f64 = 1.6;

/// How an operation delays its result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Delay {
    /// Logic: every output bit is ready this long after the latest operand bit.
    Logic(f64),
    /// A ripple-carry adder (or comparator) of this many bits.
    Carry(u32),
    /// A ternary adder of this many bits: a LUT level more than [`Delay::Carry`], for the
    /// carry-save carry each bit's LUT takes from its neighbour.
    Carry3(u32),
}

impl From<f64> for Delay {
    fn from(ns: f64) -> Delay {
        Delay::Logic(ns)
    }
}

/// Adder or subtractor of `width` bits.
pub fn add(width: u32) -> Delay {
    Delay::Carry(width)
}

/// Ternary adder of `width` bits (UltraScale LUT6_2 + CARRY8).
pub fn add3(width: u32) -> Delay {
    Delay::Carry3(width)
}

/// Comparator of `width` bits: a subtraction's carry chain, or one LUT for narrow operands.
pub fn compare(width: u32) -> Delay {
    if width <= 5 {
        Delay::Logic(LUT_LEVEL_NS)
    } else {
        Delay::Carry(width)
    }
}

/// 2:1 multiplexer (one LUT level).
pub fn mux() -> Delay {
    Delay::Logic(LUT_LEVEL_NS)
}

/// ROM lookup with an index of `bits` bits built from LUT6 and F7/F8 muxes.
pub fn table(bits: u32) -> Delay {
    Delay::Logic(LUT_LEVEL_NS + 0.1 + 0.25 * bits.saturating_sub(6) as f64)
}

/// Whether synthesis puts an `a`×`b`-bit multiply on a DSP48E2: yosys `synth_xilinx` maps every
/// multiply with both operands of 2+ bits and a product of 9+ bits there (Vivado similarly).
pub fn multiply_on_dsp(a: u32, b: u32) -> bool {
    a.min(b) >= 2 && a + b >= 9
}

/// A multiplier of two variables (DSP48E2 combinational path, or a few LUTs when tiny).
pub fn multiply(a: u32, b: u32) -> Delay {
    if multiply_on_dsp(a, b) {
        Delay::Logic(2.6)
    } else {
        Delay::Logic(LUT_LEVEL_NS * 2.0)
    }
}

/// Arrival times (ps) of a result's low and top bits, from its operands' `(low, top)` times.
pub fn arrival(d: Delay, operands: &[(u32, u32)], width: u32) -> (u32, u32) {
    let ps = |ns: f64| (ns * 1000.0).round() as u32;
    let low_in = operands.iter().map(|o| o.0).max().unwrap_or(0);
    let top_in = operands.iter().map(|o| o.1).max().unwrap_or(0);
    match d {
        Delay::Logic(ns) => (top_in + ps(ns), top_in + ps(ns)),
        Delay::Carry(_) | Delay::Carry3(_) => {
            let level = if matches!(d, Delay::Carry3(_)) { LUT_LEVEL_NS + ADDER_LEVEL_NS } else { ADDER_LEVEL_NS };
            let low = low_in + ps(level);
            let top = (low + ps(CARRY_PER_BIT_NS * width as f64)).max(top_in + ps(level + CARRY_PER_BIT_NS));
            (low, top)
        }
    }
}
