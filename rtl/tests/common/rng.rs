//! A tiny deterministic RNG (SplitMix64) for stimulus and fixture data.

pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn next_u128(&mut self) -> u128 {
        (u128::from(self.next_u64()) << 64) | u128::from(self.next_u64())
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A bit pattern of `width` bits biased towards edge values (0, all ones, ±min/max).
    pub fn pattern(&mut self, width: u32) -> u128 {
        let mask = if width >= 128 { u128::MAX } else { (1u128 << width) - 1 };
        let half = 1u128 << (width - 1);
        let v = match self.below(8) {
            0 => 0,
            1 => u128::MAX,
            2 => half,
            3 => half - 1,
            4 => 1,
            _ => self.next_u128(),
        };
        v & mask
    }
}
