//! Helpers shared by the integration tests: a seeded PRNG for random vectors
//! (no `rand` dependency), fixture paths and per-test work directories.
#![allow(dead_code)]

/// Prints a skip notice straight to the terminal's stderr, so it shows even though the test
/// harness captures `println!` output of passing tests.
#[allow(unused_macros)]
macro_rules! skip_note {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

use std::path::PathBuf;

use tachyon_testbenches::PortElem;

/// xorshift64*: deterministic, good enough for test vectors.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn next_u128(&mut self) -> u128 {
        (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64())
    }

    /// A value of `e`: mostly uniform over its range, with a fair share of
    /// the extremes (min, max, 0, ±1) where carries and sign bits live.
    pub fn value(&mut self, e: PortElem) -> i128 {
        let w = e.width;
        let bits = match self.next_u64() % 8 {
            0 => 0,                                  // zero
            1 => u128::MAX,                          // all ones: -1 or max unsigned
            2 => 1u128 << (w - 1),                   // sign bit only: min signed
            3 => (1u128 << (w - 1)).wrapping_sub(1), // max signed
            _ => self.next_u128(),
        };
        from_bits(bits, e)
    }

    pub fn vector(&mut self, elems: &[PortElem]) -> Vec<i128> {
        elems.iter().map(|&e| self.value(e)).collect()
    }
}

/// The value of `e` with the low `e.width` bits of `bits` (unsigned 128-bit
/// values ≥ 2^127 come out as the negative `i128` with that bit pattern).
pub fn from_bits(bits: u128, e: PortElem) -> i128 {
    let w = e.width;
    if w == 128 {
        return bits as i128;
    }
    let v = bits & ((1u128 << w) - 1);
    if e.signed && (v >> (w - 1)) & 1 == 1 {
        (v | !((1u128 << w) - 1)) as i128
    } else {
        v as i128
    }
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

/// A fresh work directory under Cargo's per-target temp dir.
pub fn work_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cosim").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// True (after printing the skip notice) when Verilator is not installed.
pub fn skip_without_verilator() -> bool {
    if tachyon_testbenches::verilator_available() {
        false
    } else {
        skip_note!("skipped: verilator not installed");
        true
    }
}
