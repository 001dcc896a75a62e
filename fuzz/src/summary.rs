//! The totals of a `tachyon fuzz` campaign ([`CampaignSummary`], printed at the end) and the
//! record of each failing model written out.

use crate::campaign::{Check, FuzzOutcome, Level};
use std::fmt;
use std::path::PathBuf;

/// A failing model written to the campaign's output folder.
#[derive(Clone, Debug)]
pub struct FailureRecord {
    pub seed: u64,
    pub level: Level,
    pub description: String,
    /// `fail_<seed>.onnx`.
    pub model: PathBuf,
}

/// Totals of a campaign (counts of models unless said otherwise).
#[derive(Clone, Debug, Default)]
pub struct CampaignSummary {
    pub models: usize,
    pub first_seed: u64,
    /// Float vectors run through (b) (and (a) where not skipped).
    pub vectors: usize,
    /// Vectors co-simulated at level (c).
    pub rtl_vectors: usize,
    pub float_exact: usize,
    pub float_approx: usize,
    pub float_skipped: usize,
    pub rtl_passed: usize,
    pub rtl_skipped: usize,
    /// Models whose level (c) design was the stream style.
    pub streamed: usize,
    /// Level (d) on one model in this many (0: never).
    pub post_synth_every: u64,
    /// Vectors simulated at level (d).
    pub post_synth_vectors: usize,
    pub post_synth_passed: usize,
    pub post_synth_skipped: usize,
    /// Models failing at each level (a model may fail at several).
    pub compile_failures: usize,
    pub float_mismatches: usize,
    pub interpreter_failures: usize,
    pub rtl_mismatches: usize,
    pub post_synth_mismatches: usize,
    pub failures: Vec<FailureRecord>,
    /// Why (a) or (c) was skipped, with counts.
    pub skip_reasons: std::collections::BTreeMap<String, usize>,
    pub seconds: f64,
}

impl CampaignSummary {
    /// Number of failing models.
    pub fn failed(&self) -> usize {
        self.failures.len()
    }

    /// Counts one model's outcome.
    pub(crate) fn add(&mut self, o: &FuzzOutcome) {
        self.models += 1;
        self.streamed += usize::from(o.streamed);
        self.vectors += o.vectors;
        self.rtl_vectors += o.rtl_vectors;
        self.post_synth_vectors += o.post_synth_vectors;
        let mut skip = |level: &str, why: &str| {
            // Bit counts vary per model; group by the reason's kind.
            let kind = if why.contains("float32") { "float32 not exact" } else { why };
            *self.skip_reasons.entry(format!("{level}: {kind}")).or_insert(0) += 1;
        };
        match &o.float {
            Check::Exact => self.float_exact += 1,
            Check::Approx { .. } => self.float_approx += 1,
            Check::Skipped(why) => {
                self.float_skipped += 1;
                skip("(a)", why);
            }
            Check::Failed => {}
        }
        match &o.rtl {
            Check::Exact | Check::Approx { .. } => self.rtl_passed += 1,
            Check::Skipped(why) => {
                self.rtl_skipped += 1;
                skip("(c)", why);
            }
            Check::Failed => {}
        }
        match &o.post_synth {
            Some(Check::Exact | Check::Approx { .. }) => self.post_synth_passed += 1,
            Some(Check::Skipped(why)) => {
                self.post_synth_skipped += 1;
                skip("(d)", why);
            }
            Some(Check::Failed) | None => {}
        }
        let has = |l: Level| o.failures.iter().any(|f| f.level == l);
        self.compile_failures += has(Level::Compile) as usize;
        self.float_mismatches += has(Level::Float) as usize;
        self.interpreter_failures += has(Level::Interpreter) as usize;
        self.rtl_mismatches += has(Level::Verilator) as usize;
        self.post_synth_mismatches += has(Level::PostSynth) as usize;
    }
}

impl fmt::Display for CampaignSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last = self.first_seed + self.models.max(1) as u64 - 1;
        writeln!(f, "models        {} (seeds {}..={last}) in {:.0} s", self.models, self.first_seed, self.seconds)?;
        writeln!(f, "vectors       {} float, {} co-simulated", self.vectors, self.rtl_vectors)?;
        writeln!(f, "compile       {} failures", self.compile_failures)?;
        writeln!(f, "(b) interp    {} failures", self.interpreter_failures)?;
        writeln!(
            f,
            "(a) float     {} mismatches; {} exact, {} within table tolerance, {} skipped",
            self.float_mismatches, self.float_exact, self.float_approx, self.float_skipped
        )?;
        writeln!(
            f,
            "(c) verilator {} mismatches; {} exact, {} skipped; {} in the stream style",
            self.rtl_mismatches, self.rtl_passed, self.rtl_skipped, self.streamed
        )?;
        if self.post_synth_every > 0 {
            writeln!(
                f,
                "(d) post-synth {} mismatches; {} exact, {} skipped (one model in {}; {} vectors)",
                self.post_synth_mismatches,
                self.post_synth_passed,
                self.post_synth_skipped,
                self.post_synth_every,
                self.post_synth_vectors
            )?;
        }
        for (why, n) in &self.skip_reasons {
            writeln!(f, "  skipped {why}: {n}")?;
        }
        for r in &self.failures {
            writeln!(f, "FAIL seed {} at {}: {} — {}", r.seed, r.level, r.model.display(), r.description)?;
        }
        Ok(())
    }
}
