//! A simple delay model of AMD/Xilinx UltraScale+ fabric (ns), used to decide where pipeline
//! registers go. Calibrated to be conservative: one LUT level plus local routing is ~0.5 ns,
//! a CARRY8 segment adds ~0.05 ns per 8 bits, block-level routing ~0.3 ns.

/// Time from a register's clock edge to its output plus the next register's setup.
pub const REGISTER_OVERHEAD_NS: f64 = 0.45;

/// Adder or subtractor (LUT + carry chain) of `width` bits.
pub fn add(width: u32) -> f64 {
    0.5 + 0.05 * width.div_ceil(8) as f64 + 0.3
}

/// Comparator: a subtraction's carry chain.
pub fn compare(width: u32) -> f64 {
    add(width)
}

/// 2:1 multiplexer (one LUT level).
pub fn mux() -> f64 {
    0.55
}

/// ROM lookup with an index of `bits` bits built from LUT6 and F7/F8 muxes.
pub fn table(bits: u32) -> f64 {
    0.6 + 0.25 * bits.saturating_sub(6) as f64 + 0.3
}

/// A multiplier of two variables (DSP48E2 combinational path, or LUTs when narrow).
pub fn multiply(a: u32, b: u32) -> f64 {
    if a.min(b) <= 4 {
        add(a.max(b)) * 2.0
    } else {
        2.6
    }
}
