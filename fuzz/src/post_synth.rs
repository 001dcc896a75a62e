//! Level (d) of `tachyon fuzz`: the design of level (c), as yosys synthesizes it for
//! UltraScale+ (ternary adders as `LUT6_2` + `CARRY8`, carry chains, flip-flops, shift-register
//! LUTs), simulated with yosys' cell models in Icarus (`tachyon sim --post-synth`) and compared
//! with the interpreter bit for bit at the latency and II the build reports. Gate-level
//! simulation is slow, so it runs on a share of the models ([`selected`]) with at most
//! [`MAX_VECTORS`] vectors.

use std::path::Path;
use tachyon_driver::sim::{run, SimOptions};

/// Vectors of level (d) at most (level (c) runs all of them).
pub const MAX_VECTORS: usize = 50;

/// Whether the model of `seed` gets level (d) when one model in `every` does (0: none).
pub fn selected(seed: u64, every: u64) -> bool {
    every > 0 && seed.is_multiple_of(every)
}

/// Why level (d) cannot run here, if it cannot: yosys or Icarus missing.
pub fn unavailable() -> Option<String> {
    if tachyon_flows::yosys::version().is_err() {
        return Some("yosys not installed".into());
    }
    if !tachyon_testbenches::Simulator::Icarus.available() {
        return Some("iverilog not installed".into());
    }
    None
}

/// Level (d) on the built `project` (level (c)'s) with `vectors` random vectors from `seed`:
/// the vectors simulated, or what went wrong (for a [`crate::campaign::Failure`]).
pub fn check(project: &Path, vectors: usize, seed: u64, ii: u32) -> Result<usize, String> {
    let n = vectors.min(MAX_VECTORS);
    let o = SimOptions { random: Some(n), seed, post_synth: true, ..Default::default() };
    let again = format!("tachyon sim {} --post-synth --random {n} --seed {seed}", project.display());
    let s = run(project, &o).map_err(|e| format!("{again}: {e:#}"))?;
    if s.mismatches > 0 {
        return Err(format!(
            "{} of {} vectors mismatch after synthesis ({again}):\n  {}",
            s.mismatches,
            s.vectors,
            s.first_mismatches.join("\n  ")
        ));
    }
    if s.latency_cycles != s.expected_latency_cycles || s.ii_cycles != ii {
        return Err(format!(
            "after synthesis: measured latency {} / II {}, the build reports {} / {ii} ({again})",
            s.latency_cycles, s.ii_cycles, s.expected_latency_cycles
        ));
    }
    Ok(s.vectors)
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_nth_seed_is_selected() {
        let picked: Vec<u64> = (1..=30).filter(|&s| super::selected(s, 10)).collect();
        assert_eq!(picked, vec![10, 20, 30]);
        assert!(!(0..100).any(|s| super::selected(s, 0)));
    }
}
