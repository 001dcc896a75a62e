//! `tachyon fuzz`: differential fuzzing. Random quantized QONNX models
//! ([`crate::random_model`]) are checked at up to four levels that must agree:
//!
//! * (a) float QONNX semantics: [`tachyon_frontend::eval::run_float`] on the graph, every step
//!   rounded to float32 as onnxruntime and the qonnx executor do;
//! * (b) the bit-exact reference interpreter: [`interp::evaluate`] on the lowered model
//!   (prologue, integer layers, epilogue);
//! * (c) the emitted Verilog, co-simulated by Verilator (`tachyon build` + `tachyon sim`),
//!   against (b), at the latency and II the build reports; the clock, multiplication strategy
//!   and reuse factor vary with the seed ([`HardwareVariant`]);
//! * (d) on every N-th model, the design of (c) as yosys synthesizes it, simulated with yosys'
//!   cell models, against (b) ([`crate::post_synth`]).
//!
//! (a) must equal (b) exactly whenever float32 holds every intermediate value exactly: every
//! tensor of the quantized model and every partial sum of every linear layer is an integer of at
//! most 24 bits on its grid ([`float32_exact`]). Otherwise (a) is skipped for that model and
//! counted as skipped, never silently. Softmax, sigmoid and layer normalization are tables by
//! design (`quantize::lower::tables`): wherever they occur, the float run is compared with the
//! table's output within the bound its geometry allows and then continues from the table's
//! values ([`tables`]), so the ops before and after are still compared exactly.
//! (c) and (d) must match (b) bit for bit. Any error or panic while loading, lowering or building a
//! generated model is a failure too (level "compile").

use crate::random_model::{random_model_with, to_bytes, Limits, RandomModelInfo};
use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use tachyon_common::rng::Rng;
use tachyon_driver::project::{build, BuildOptions};
use tachyon_driver::sim::{run, SimOptions};
use tachyon_frontend::Graph;
use tachyon_quantize::{interp, Config, LayerKind, QModel};

pub use crate::summary::{CampaignSummary, FailureRecord};
pub use crate::tables::{run_float_through_tables, site_tolerance, table_sites, SiteStats, TableSite};

/// Float32 represents every integer up to 2^24 exactly.
pub const F32_EXACT_BITS: u32 = 24;

/// Where a model failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Loading, lowering or building the model failed or panicked.
    Compile,
    /// (a): float QONNX semantics disagree with the interpreter.
    Float,
    /// (b): the interpreter failed or panicked on an input.
    Interpreter,
    /// (c): the Verilog disagrees with the interpreter (or the co-simulation failed).
    Verilator,
    /// (d): the synthesized netlist disagrees with the interpreter (or synthesis or its
    /// simulation failed).
    PostSynth,
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Level::Compile => "compile",
            Level::Float => "(a) float vs interpreter",
            Level::Interpreter => "(b) interpreter",
            Level::Verilator => "(c) verilator vs interpreter",
            Level::PostSynth => "(d) post-synthesis vs interpreter",
        })
    }
}

/// The result of one level on one model.
#[derive(Clone, Debug, PartialEq)]
pub enum Check {
    /// Every vector agreed bit for bit.
    Exact,
    /// Outputs computed through tables agreed within `tolerance`; the largest difference seen.
    Approx { max_abs_diff: f64, tolerance: f64 },
    /// Not run, and why.
    Skipped(String),
    /// Disagreed or failed: see [`FuzzOutcome::failures`].
    Failed,
}

/// One failure of a model, with enough detail to reproduce it.
#[derive(Clone, Debug)]
pub struct Failure {
    pub level: Level,
    pub detail: String,
}

/// What [`check_model`] found.
#[derive(Clone, Debug)]
pub struct FuzzOutcome {
    /// Float vectors run through (b), and (a) unless skipped.
    pub vectors: usize,
    /// Level (a) against (b).
    pub float: Check,
    /// Vectors co-simulated at level (c).
    pub rtl_vectors: usize,
    /// Level (c) against (b).
    pub rtl: Check,
    pub failures: Vec<Failure>,
    /// Level (c) built the stream style.
    pub streamed: bool,
    /// Level (d) against (b); `None` when this model was not selected for it.
    pub post_synth: Option<Check>,
    /// Vectors simulated at level (d).
    pub post_synth_vectors: usize,
}

impl FuzzOutcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Runs `f`, turning a panic into an error message.
fn guard<T>(f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(format!("panicked: {msg}"))
        }
    }
}

/// Why float32 does not evaluate a model exactly.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct NotExact(pub String);

/// `Ok` when float32 evaluates the model exactly: every tensor element and every partial sum of
/// every linear layer (bounded by `|bias| + Σ|c|·max|x|`) is an integer of at most 24 bits on
/// its grid; otherwise why not.
pub fn float32_exact(q: &QModel) -> Result<(), NotExact> {
    let limit = 1i128 << F32_EXACT_BITS;
    for (k, t) in q.tensors.iter().enumerate() {
        if let Some(e) = t.elems.iter().find(|e| e.lo.abs() > limit || e.hi.abs() > limit) {
            return Err(NotExact(format!(
                "tensor t{k} '{}' holds integers of {} bits (float32 is exact up to {F32_EXACT_BITS})",
                t.name,
                e.width()
            )));
        }
    }
    for l in &q.layers {
        if let LayerKind::Linear { rows, bias } = &l.kind {
            let xe = &q.layer_input_elems(l);
            for (row, b) in rows.iter().zip(bias) {
                let bound = row.iter().fold(b.abs(), |s, &(j, c)| {
                    let e = xe[j as usize];
                    s.saturating_add(c.abs().saturating_mul(e.lo.abs().max(e.hi.abs())))
                });
                if bound > limit {
                    return Err(NotExact(format!(
                        "partial sums of layer {} reach {} bits (float32 is exact up to {F32_EXACT_BITS})",
                        l.name,
                        128 - bound.leading_zeros()
                    )));
                }
            }
        }
    }
    Ok(())
}

/// `n` float inputs for levels (a) and (b): the all-minimum and all-maximum vectors, then per
/// element mostly values on the input grid within its range, some between grid points (ties
/// included) and some beyond the range (float32 values).
pub fn input_vectors(q: &QModel, n: usize, seed: u64) -> Vec<Vec<f64>> {
    let elems = q.input_elems();
    let len: usize = q.prologue.input_shape.iter().product();
    let mut r = Rng::new(seed ^ 0x6675_7a7a_696e_7075);
    (0..n)
        .map(|k| {
            (0..len)
                .map(|i| {
                    let Some(e) = elems.get(i % elems.len().max(1)) else { return 0.0 };
                    let span = (e.hi - e.lo) as u128 + 1;
                    let v = match k {
                        0 => e.lo as f64,
                        1 => e.hi as f64,
                        _ => {
                            let base = (e.lo + (r.next_u64() as u128 % span) as i128) as f64;
                            match r.next_u64() % 8 {
                                0 => base + 0.5,
                                1 => base + r.uniform(),
                                2 => e.lo as f64 - 1.0 - (r.next_u64() % 4) as f64,
                                3 => e.hi as f64 + 1.0 + (r.next_u64() % 4) as f64,
                                _ => base,
                            }
                        }
                    };
                    (v * 2f64.powi(-e.frac)) as f32 as f64
                })
                .collect()
        })
        .collect()
}

/// Levels (b) and (a): the interpreter on every vector, float semantics compared with it.
fn check_float(g: &Graph, q: &QModel, cfg: &Config, inputs: &[Vec<f64>], failures: &mut Vec<Failure>) -> Check {
    let mut fail = |level, detail| {
        failures.push(Failure { level, detail });
        Check::Failed
    };
    let mut want = Vec::with_capacity(inputs.len());
    for x in inputs {
        match guard(|| interp::evaluate(q, x)) {
            Ok(y) => want.push(y),
            Err(e) => return fail(Level::Interpreter, format!("input {x:?}: {e}")),
        }
    }
    if let Err(why) = float32_exact(q) {
        return Check::Skipped(why.0);
    }
    let sites = match table_sites(g, q) {
        Ok(s) => s,
        Err(why) => return Check::Skipped(why),
    };
    let mut stats = SiteStats::default();
    for (x, b) in inputs.iter().zip(&want) {
        let a = match guard(|| run_float_through_tables(g, q, cfg, &sites, x, &mut stats)) {
            Ok(a) => a,
            Err(e) => return fail(Level::Float, format!("input {x:?}: {e}")),
        };
        if a.len() != b.len() || a.iter().zip(b).any(|(p, q)| p != q) {
            return fail(Level::Float, format!("input {x:?}\n  float       {a:?}\n  interpreter {b:?}"));
        }
    }
    if sites.is_empty() {
        Check::Exact
    } else {
        Check::Approx { max_abs_diff: stats.max_abs_diff, tolerance: stats.max_tolerance }
    }
}

static SCRATCH: AtomicUsize = AtomicUsize::new(0);

/// A fresh scratch folder under the system temp dir, unique in this process.
fn scratch(tag: &str) -> PathBuf {
    let k = SCRATCH.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("tachyon-fuzz-{}-{tag}-{k}", std::process::id()))
}

/// The hardware options of level (c), varied with the seed (they change the netlist, never the
/// numbers: the interpreter is the same for every variant).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HardwareVariant {
    pub clock_ns: f64,
    /// Multiplication strategy of every linear layer (`auto`, `adders`, `dsp`).
    pub strategy: &'static str,
    /// Reuse factor of every linear layer (II).
    pub reuse: u32,
    /// The stream style with this many pixels per clock (`None`: parallel). A model the stream
    /// style does not apply to (no sliding-window layer, a width P does not divide) is built
    /// parallel instead.
    pub stream: Option<u32>,
}

impl HardwareVariant {
    /// Half the seeds get the defaults (5 ns, auto, reuse 1); the others a faster or slower
    /// clock, a forced strategy and/or a reuse factor.
    pub fn of_seed(seed: u64) -> HardwareVariant {
        let mut r = Rng::new(seed ^ 0x6861_7264_7761_7265);
        let mut pick = |n: u64| (r.next_u64() % n) as usize;
        let mut v = if pick(2) == 0 {
            HardwareVariant { clock_ns: 5.0, strategy: "auto", reuse: 1, stream: None }
        } else {
            HardwareVariant {
                clock_ns: [5.0, 2.5, 1.6, 10.0][pick(4)],
                strategy: ["auto", "adders", "dsp"][pick(3)],
                reuse: [1, 1, 2, 3, 4][pick(5)],
                stream: None,
            }
        };
        // From a stream of its own, so the draws above keep their values: a third of the seeds
        // stream (reuse applies to parallel layers only).
        let mut r2 = Rng::new(seed ^ 0x7374_7265_616d_0001);
        if r2.next_u64().is_multiple_of(3) {
            v.stream = Some([1, 1, 2][(r2.next_u64() % 3) as usize]);
            v.reuse = 1;
        }
        v
    }

    /// The same variant in the parallel style.
    fn parallel(&self) -> HardwareVariant {
        HardwareVariant { stream: None, ..*self }
    }

    /// The build config, `None` for the defaults.
    fn config_json(&self) -> Option<String> {
        let stream = match self.stream {
            Some(p) => format!(r#", "style": "stream", "pixels_per_clock": {p}"#),
            None => String::new(),
        };
        (self.strategy != "auto" || self.reuse != 1 || self.stream.is_some()).then(|| {
            format!(r#"{{ "default": {{ "strategy": "{}", "reuse": {}{stream} }} }}"#, self.strategy, self.reuse)
        })
    }
}

impl fmt::Display for HardwareVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "clock {} ns, strategy {}, reuse {}", self.clock_ns, self.strategy, self.reuse)?;
        match self.stream {
            Some(p) => write!(f, ", stream {p} per clock"),
            None => Ok(()),
        }
    }
}

/// Whether the stream style (with `hw`'s pixels per clock) applies to the model at `path`.
fn streams(path: &Path, hw: HardwareVariant) -> bool {
    let Some(p) = hw.stream else { return false };
    let Ok(g) = tachyon_frontend::load_model(path) else { return false };
    let Ok(q) = tachyon_quantize::lower(&g, &Config::default()) else { return false };
    tachyon_hls::layers::stream::plan(&q, &Default::default(), p as usize).is_ok()
}

/// Level (c): build the model (with the [`HardwareVariant`] of `seed`) and co-simulate
/// `vectors` random vectors against the interpreter; then level (d) on that build when
/// `post_synth`.
fn check_rtl(
    path: &Path,
    vectors: usize,
    seed: u64,
    post_synth: bool,
    pb: Option<&ProgressBar>,
    out: &mut FuzzOutcome,
) {
    let dir = scratch(&format!("rtl-{seed}"));
    let project = dir.join("project");
    let mut hw = HardwareVariant::of_seed(seed);
    if hw.stream.is_some() && !streams(path, hw) {
        hw = hw.parallel();
    }
    out.streamed = hw.stream.is_some();
    let config = dir.join("config.json");
    let mut opts = BuildOptions {
        model: path.to_path_buf(),
        config: None,
        clock_ns: Some(hw.clock_ns),
        board: None,
        top: "fuzz_top".into(),
        out: project.clone(),
        force: true,
        input_shapes: vec![],
    };
    let mut fail = |level, detail: String| {
        out.failures.push(Failure { level, detail: format!("[{hw}] {detail}") });
        out.rtl = Check::Failed;
    };
    if let Some(json) = hw.config_json() {
        if let Err(e) = std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&config, json)) {
            return fail(Level::Compile, format!("cannot write {}: {e}", config.display()));
        }
        opts.config = Some(config);
    }
    let built = guard(|| build(&opts).map_err(|e| format!("{e:#}")));
    let ii = match built {
        Ok(b) => b.design.ii,
        Err(e) => return fail(Level::Compile, format!("tachyon build: {e}")),
    };
    let sim = || {
        guard(|| {
            run(&project, &SimOptions { random: Some(vectors), seed, ..Default::default() })
                .map_err(|e| format!("{e:#}"))
        })
    };
    let s = match pb {
        Some(pb) => pb.suspend(sim),
        None => sim(),
    };
    match s {
        Err(e) => fail(Level::Verilator, format!("tachyon sim (project kept in {}): {e}", project.display())),
        Ok(s) if s.mismatches > 0 => fail(
            Level::Verilator,
            format!(
                "{} of {} vectors mismatch (project kept in {}; tachyon sim --random {vectors} --seed {seed}):\n  {}",
                s.mismatches,
                s.vectors,
                project.display(),
                s.first_mismatches.join("\n  ")
            ),
        ),
        Ok(s) if s.latency_cycles != s.expected_latency_cycles || s.ii_cycles != ii => fail(
            Level::Verilator,
            format!(
                "measured latency {} / II {}, the build reports {} / {} (project kept in {})",
                s.latency_cycles,
                s.ii_cycles,
                s.expected_latency_cycles,
                ii,
                project.display()
            ),
        ),
        Ok(s) => {
            out.rtl = Check::Exact;
            out.rtl_vectors = s.vectors;
            if post_synth {
                let run = || guard(|| crate::post_synth::check(&project, vectors, seed, ii));
                match pb.map_or_else(run, |pb| pb.suspend(run)) {
                    Ok(n) => (out.post_synth, out.post_synth_vectors) = (Some(Check::Exact), n),
                    Err(e) => {
                        out.failures.push(Failure { level: Level::PostSynth, detail: format!("[{hw}] {e}") });
                        out.post_synth = Some(Check::Failed);
                        return;
                    }
                }
            }
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// The levels to run besides (a) and (b).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Levels {
    /// Level (c) (skipped, with a notice, when Verilator is not installed).
    pub verilator: bool,
    /// Level (d), after a passing (c) (skipped, with a notice, without yosys or Icarus).
    pub post_synth: bool,
}

/// Checks the model at `path` at the levels (a)–(c) of the module doc with `vectors` vectors per
/// level drawn from `seed`; level (c) only when `verilator` (skipped, with a notice, when
/// Verilator is not installed). `Err` only for problems of the fuzzer itself.
pub fn check_model(path: &Path, vectors: usize, seed: u64, verilator: bool) -> Result<FuzzOutcome> {
    Ok(check(path, vectors, seed, Levels { verilator, post_synth: false }, None))
}

/// [`check_model`] with level (d) as well when `levels.post_synth`.
pub fn check_model_with(path: &Path, vectors: usize, seed: u64, levels: Levels) -> Result<FuzzOutcome> {
    Ok(check(path, vectors, seed, levels, None))
}

fn check(path: &Path, vectors: usize, seed: u64, levels: Levels, pb: Option<&ProgressBar>) -> FuzzOutcome {
    let verilator = levels.verilator;
    let mut out = FuzzOutcome {
        vectors: 0,
        float: Check::Skipped("not run".into()),
        rtl_vectors: 0,
        rtl: Check::Skipped("not run".into()),
        failures: vec![],
        streamed: false,
        post_synth: None,
        post_synth_vectors: 0,
    };
    let compiled = guard(|| {
        let g = tachyon_frontend::load_model(path).map_err(|e| e.to_string())?;
        let q = tachyon_quantize::lower(&g, &Config::default()).map_err(|e| e.to_string())?;
        Ok((g, q))
    });
    let (g, q) = match compiled {
        Ok(c) => c,
        Err(e) => {
            out.failures.push(Failure { level: Level::Compile, detail: e });
            return out;
        }
    };
    let inputs = input_vectors(&q, vectors, seed);
    out.vectors = inputs.len();
    out.float = check_float(&g, &q, &Config::default(), &inputs, &mut out.failures);
    out.rtl = if !verilator {
        Check::Skipped("disabled (--no-verilator)".into())
    } else if !tachyon_testbenches::verilator_available() {
        static NOTICE: std::sync::Once = std::sync::Once::new();
        NOTICE.call_once(|| eprintln!("skipped: verilator not installed (level (c) of tachyon fuzz)"));
        Check::Skipped("verilator not installed".into())
    } else {
        let post_synth = levels.post_synth && post_synth_available(&mut out);
        check_rtl(path, vectors, seed, post_synth, pb, &mut out);
        out.rtl.clone()
    };
    if levels.post_synth && out.post_synth.is_none() && out.rtl != Check::Failed {
        out.post_synth = Some(Check::Skipped(match &out.rtl {
            Check::Skipped(why) => format!("level (c) not run: {why}"),
            _ => "not run".into(),
        }));
    }
    out
}

/// Whether level (d) can run; if not, marks it skipped (with a notice, once).
fn post_synth_available(out: &mut FuzzOutcome) -> bool {
    let Some(why) = crate::post_synth::unavailable() else { return true };
    static NOTICE: std::sync::Once = std::sync::Once::new();
    NOTICE.call_once(|| eprintln!("skipped: {why} (level (d) of tachyon fuzz)"));
    out.post_synth = Some(Check::Skipped(why));
    false
}

/// The limits actually used by a model (so shrinking candidates are really smaller).
/// (A CNN's flattened width may exceed 8, the generator's largest `max_width`.)
fn effective_limits(info: &RandomModelInfo) -> Limits {
    let width = info.widths.iter().copied().chain([info.input_width]).max().unwrap_or(1).min(8);
    Limits { max_layers: info.layers, max_width: width, ..info.limits }
}

/// Strictly smaller limits to try, most promising first.
fn smaller(l: &Limits) -> Vec<Limits> {
    let mut c = vec![];
    if l.max_layers > 1 {
        c.push(Limits { max_layers: l.max_layers - 1, ..*l });
    }
    if l.max_width > 1 {
        c.push(Limits { max_width: l.max_width.div_ceil(2), ..*l });
        c.push(Limits { max_width: l.max_width - 1, ..*l });
    }
    if l.extras {
        c.push(Limits { extras: false, ..*l });
    }
    if l.max_bits > 2 {
        c.push(Limits { max_bits: l.max_bits.div_ceil(2), ..*l });
    }
    c.dedup();
    c
}

/// Regenerates the model of `seed` with ever smaller limits while it keeps failing at `level`;
/// returns the smallest failing model.
#[allow(clippy::too_many_arguments)]
fn shrink(
    seed: u64,
    level: Level,
    mut best: (Vec<u8>, RandomModelInfo, FuzzOutcome),
    vectors: usize,
    levels: Levels,
    work: &Path,
    pb: &ProgressBar,
) -> Result<(Vec<u8>, RandomModelInfo, FuzzOutcome)> {
    const MAX_TRIES: usize = 16;
    let mut tries = 0;
    'outer: while tries < MAX_TRIES {
        for limits in smaller(&effective_limits(&best.1)) {
            tries += 1;
            let (m, info) = random_model_with(seed, &limits);
            let bytes = to_bytes(&m);
            if bytes == best.0 {
                continue;
            }
            pb.set_message(format!("seed {seed}: shrinking ({tries})"));
            let path = work.join(format!("shrink_{seed}.onnx"));
            std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
            let o = check(&path, vectors, seed, levels, Some(pb));
            if o.failures.iter().any(|f| f.level == level) {
                best = (bytes, info, o);
                continue 'outer;
            }
            if tries >= MAX_TRIES {
                break;
            }
        }
        break;
    }
    Ok(best)
}

fn failure_report(seed: u64, original: &RandomModelInfo, info: &RandomModelInfo, o: &FuzzOutcome) -> String {
    let mut s = format!("seed        {seed}\n");
    let l = info.limits;
    s += &format!(
        "limits      max_layers {} max_width {} max_bits {} extras {} (random_model_with)\n",
        l.max_layers, l.max_width, l.max_bits, l.extras
    );
    s += &format!("model       {}\n", info.description);
    s += &format!("ops         {}\n", info.ops.iter().cloned().collect::<Vec<_>>().join(" "));
    if original.description != info.description {
        s += &format!("shrunk from {}\n", original.description);
    }
    s += &format!("level (a)   {:?}\nlevel (c)   {:?}\n", o.float, o.rtl);
    if let Some(d) = &o.post_synth {
        s += &format!("level (d)   {d:?}\n");
    }
    for f in &o.failures {
        s += &format!("\nFAILED at {}:\n{}\n", f.level, f.detail);
    }
    let hw = HardwareVariant::of_seed(seed);
    s += &format!("\nhardware    {hw}");
    if hw.stream.is_some() {
        s += " (parallel when the stream style does not apply to the model)";
    }
    if let Some(json) = hw.config_json() {
        s += &format!(" (config.json: {json})");
    }
    s += &format!(
        "\nreproduce:  tachyon inspect fail_{seed}.onnx; tachyon build fail_{seed}.onnx --clock-ns {} [-c config.json] -o p && tachyon sim p --random 100 --seed {seed}\n",
        hw.clock_ns
    );
    s
}

/// Generates `n_models` models from seeds `first_seed..`, checks each with `vectors` vectors per
/// level (level (d) on the seeds [`crate::post_synth::selected`] by `post_synth_every`), and
/// writes every failing model (shrunk) as `out_dir/fail_<seed>.onnx` with `fail_<seed>.txt`
/// (seed, description, level, first mismatching input and outputs).
pub fn run_campaign(
    n_models: usize,
    first_seed: u64,
    vectors: usize,
    out_dir: &Path,
    verilator: bool,
    post_synth_every: u64,
) -> Result<CampaignSummary> {
    let start = std::time::Instant::now();
    let work = scratch("campaign");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let pb = ProgressBar::new(n_models as u64);
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} models [{elapsed}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut summary = CampaignSummary { first_seed, post_synth_every, ..Default::default() };
    for seed in first_seed..first_seed + n_models as u64 {
        pb.set_message(format!("seed {seed}"));
        let (model, info) = random_model_with(seed, &Limits::default());
        let bytes = to_bytes(&model);
        let path = work.join(format!("model_{seed}.onnx"));
        std::fs::write(&path, &bytes).with_context(|| format!("writing {}", path.display()))?;
        let levels = Levels { verilator, post_synth: crate::post_synth::selected(seed, post_synth_every) };
        let o = check(&path, vectors, seed, levels, Some(&pb));
        summary.add(&o);
        if let Some(level) = o.failures.iter().map(|f| f.level).min() {
            pb.println(format!("seed {seed}: FAILED at {level}: {}", info.description));
            let (bytes, small, o) = shrink(seed, level, (bytes, info.clone(), o), vectors, levels, &work, &pb)?;
            std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
            let file = out_dir.join(format!("fail_{seed}.onnx"));
            std::fs::write(&file, &bytes).with_context(|| format!("writing {}", file.display()))?;
            let txt = out_dir.join(format!("fail_{seed}.txt"));
            std::fs::write(&txt, failure_report(seed, &info, &small, &o))
                .with_context(|| format!("writing {}", txt.display()))?;
            summary.failures.push(FailureRecord { seed, level, description: small.description, model: file });
        }
        let _ = std::fs::remove_file(&path);
        pb.inc(1);
    }
    pb.finish_and_clear();
    let _ = std::fs::remove_dir_all(&work);
    summary.seconds = start.elapsed().as_secs_f64();
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardware_variants_cover_every_option() {
        let v: Vec<HardwareVariant> = (0..200).map(HardwareVariant::of_seed).collect();
        assert_eq!(v[7], HardwareVariant::of_seed(7), "deterministic");
        for s in ["auto", "adders", "dsp"] {
            assert!(v.iter().any(|h| h.strategy == s), "strategy {s}");
        }
        for c in [1.6, 2.5, 5.0, 10.0] {
            assert!(v.iter().any(|h| h.clock_ns == c), "clock {c}");
        }
        assert!(v.iter().any(|h| h.reuse == 4));
        let defaults = v.iter().filter(|h| h.config_json().is_none() && h.clock_ns == 5.0).count();
        assert!((30..=100).contains(&defaults), "{defaults} of 200 with the default hardware");
        assert!(v.iter().any(|h| h.stream == Some(2)) && v.iter().any(|h| h.stream == Some(1)));
        assert!(v.iter().all(|h| h.stream.is_none() || h.reuse == 1));
        let s = HardwareVariant { clock_ns: 5.0, strategy: "auto", reuse: 1, stream: Some(2) }.config_json().unwrap();
        let c = Config::parse(&s).unwrap();
        assert_eq!((c.style(), c.pixels_per_clock()), (tachyon_quantize::config::Style::Stream, 2));
        let json = HardwareVariant { clock_ns: 5.0, strategy: "dsp", reuse: 2, stream: None }.config_json().unwrap();
        let c = Config::parse(&json).unwrap();
        assert_eq!((c.strategy(&[]), c.reuse(&[])), (tachyon_quantize::config::Strategy::Dsp, 2));
    }

    #[test]
    fn float32_exactness_follows_the_intervals() {
        let (m, _) = crate::random_model::random_model(3);
        let path = std::env::temp_dir().join("tachyon-fuzz-unit-m3.onnx");
        let g = tachyon_frontend::decode_model(&to_bytes(&m), &path).unwrap();
        let mut q = tachyon_quantize::lower(&g, &Config::default()).unwrap();
        assert!(float32_exact(&q).is_ok());
        let t = q.output.0 as usize;
        q.tensors[t].elems[0].hi = 1 << 25;
        let why = float32_exact(&q).unwrap_err();
        assert!(why.0.contains("holds integers of") && why.0.contains(&q.tensors[t].name), "{why}");
    }
}
