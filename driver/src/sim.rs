//! `tachyon sim`: Verilator co-simulation of a project against the reference interpreter.
//!
//! Vectors come from an `.npy` file of float inputs (converted exactly as the model's prologue
//! says) and/or are drawn at random over the full input ranges (extremes included). They are
//! streamed back to back; every output integer of every vector must equal the interpreter's.
//! Each run is appended to the project's `report.json` ([`SimRecord`]), so the report keeps
//! every co-simulation, not only the last.
//!
//! The design simulated is the RTL in Verilator's C++ harness (work folder `sim/`); with
//! [`SimOptions::simulator`], the RTL in a Verilog testbench (`sim/tb-<simulator>/`); with
//! [`SimOptions::post_synth`], the netlist yosys synthesizes from it, with yosys' cell models
//! (`sim-post/`, see [`crate::post_synth`]). Every route is compared with the interpreter the
//! same way.

use crate::manifest::Manifest;
use anyhow::{bail, Result};
use std::path::{Path, PathBuf};
use tachyon_frontend::{DType, Tensor};
use tachyon_quantize::{interp, LayerKind, QModel};
use tachyon_testbenches::{CosimOptions, CosimResult, Simulator, TestbenchOptions};

/// Options of `tachyon sim`.
#[derive(Clone, Debug, Default)]
pub struct SimOptions {
    pub inputs: Option<PathBuf>,
    pub expect: Option<PathBuf>,
    /// Use at most this many rows of `inputs` (an error without `inputs`).
    pub limit: Option<usize>,
    /// Random vectors added (default 1000 when no inputs are given).
    pub random: Option<usize>,
    pub seed: u64,
    /// Idle cycles between vectors (0 = back to back).
    pub gap: u32,
    /// Simulate the design as synthesized by yosys instead of the RTL ([`crate::post_synth`]).
    pub post_synth: bool,
    /// Run the Verilog testbench in this simulator (the default after synthesis: Icarus)
    /// instead of the RTL's Verilator C++ harness.
    pub simulator: Option<Simulator>,
    /// Build Verilator's harness without `-Wall` (hand-edited RTL; see
    /// `tachyon_testbenches::CosimOptions::lint`).
    pub no_lint: bool,
}

/// What a co-simulation found.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SimSummary {
    pub vectors: usize,
    pub mismatches: usize,
    /// Vectors (index) with at least one mismatching output.
    #[serde(default)]
    pub first_mismatches: Vec<String>,
    pub latency_cycles: u32,
    pub expected_latency_cycles: u32,
    pub ii_cycles: u32,
    pub build_seconds: f64,
    pub run_seconds: f64,
    /// The Verilator build linted the RTL with `-Wall`, without a warning (a flat design's
    /// harness build; see `tachyon_testbenches::CosimOptions::lint`).
    #[serde(default)]
    pub linted: bool,
    /// With --expect: largest |RTL − expected| over all outputs, and argmax agreement.
    pub max_abs_diff: Option<f64>,
    pub argmax_agreement: Option<f64>,
    pub compared_rows: Option<usize>,
    /// With --inputs: per layer whose output is an ONNX tensor, how far the fixed-point values
    /// are from the float model's on those samples.
    #[serde(default)]
    pub layer_errors: Vec<LayerError>,
    /// What the user should know about the run (e.g. `-n` larger than the samples).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// With --post-synth: what was synthesized and simulated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_synth: Option<crate::post_synth::PostSynthInfo>,
    /// The simulator of the Verilog testbench, when one ran (not the C++ harness).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulator: Option<Simulator>,
}

/// One `tachyon sim` run as `report.json` keeps it (`sims`): when, on what, and what it found.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SimRecord {
    /// UTC, `YYYY-MM-DD HH:MM:SS`.
    pub date: String,
    /// File names of `--inputs` and `--expect`, when given.
    pub inputs: Option<String>,
    pub expect: Option<String>,
    /// Samples of `--inputs` used, random vectors added, and all vectors.
    pub samples: usize,
    pub random: usize,
    pub vectors: usize,
    pub mismatches: usize,
    pub latency_cycles: u32,
    pub ii_cycles: u32,
    /// With `--expect`: largest |RTL − expected|, argmax agreement, samples compared.
    pub max_abs_diff: Option<f64>,
    pub argmax_agreement: Option<f64>,
    pub compared_rows: Option<usize>,
    /// What was simulated when not the RTL in the C++ harness: `post-synth (synth_xilinx
    /// -family xcup, 1292 cells, icarus)` or `rtl (icarus)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design: Option<String>,
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of a time in seconds since the Unix epoch.
pub fn utc_date(secs: u64) -> String {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Float-vs-fixed error of one layer's output over the `--inputs` samples.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct LayerError {
    pub layer: String,
    /// The ONNX tensor it computes.
    pub tensor: String,
    pub max_abs: f64,
    pub rms: f64,
}

/// For every layer whose output stands for an ONNX tensor of the same size, the largest and
/// root-mean-square difference between the interpreter's value (the RTL's, bit for bit) and the
/// float model's on `samples` (float rows of the graph input).
pub fn layer_errors(model: &Path, q: &QModel, samples: &[Vec<f64>]) -> Result<Vec<LayerError>> {
    layer_errors_with(model, &Default::default(), q, samples)
}

/// [`layer_errors`] with the model imported as the project's build did (`--input-shape`).
pub fn layer_errors_with(
    model: &Path,
    import: &tachyon_frontend::ImportOptions,
    q: &QModel,
    samples: &[Vec<f64>],
) -> Result<Vec<LayerError>> {
    let g = tachyon_frontend::load_model_with(model, import)?;
    let input = g.inputs.first().copied().ok_or_else(|| anyhow::anyhow!("the model has no input"))?;
    let shape = g.value(input).shape.clone().unwrap_or_default();
    let by_name: std::collections::BTreeMap<&str, usize> =
        g.values.iter().enumerate().map(|(k, v)| (v.name.as_str(), k)).collect();
    let mut acc: Vec<(f64, f64, usize)> = vec![(0.0, 0.0, 0); q.layers.len()];
    for x in samples {
        let vals = tachyon_frontend::eval::run_float_values(&g, &[Tensor::new(DType::F32, shape.clone(), x.clone())])
            .map_err(|e| anyhow::anyhow!(e))?;
        let ints = interp::run_all(q, &interp::quantize_input(q, x).map_err(|e| anyhow::anyhow!(e))?);
        for (k, l) in q.layers.iter().enumerate() {
            let t = q.tensor(l.output);
            let Some(f) = by_name.get(t.name.as_str()).and_then(|&v| vals[v].as_ref()) else { continue };
            if f.data.len() != t.elems.len() {
                continue;
            }
            for (i, ((&v, e), &want)) in ints[l.output.0 as usize].iter().zip(&t.elems).zip(&f.data).enumerate() {
                // A rounding constant moved into a bias is not part of the ONNX tensor's value:
                // `v − offset`, and after a ReLU `max(v − offset, 0)` (`v = max(x + offset, 0)`).
                let off = t.offset.get(i).copied().unwrap_or(0);
                let v = if matches!(l.kind, LayerKind::Relu) { (v - off).max(0) } else { v - off };
                let d = (v as f64 * 2f64.powi(-e.frac) - want).abs();
                acc[k].0 = acc[k].0.max(d);
                acc[k].1 += d * d;
                acc[k].2 += 1;
            }
        }
    }
    Ok(q.layers
        .iter()
        .zip(acc)
        .filter(|(_, a)| a.2 > 0)
        .map(|(l, (max_abs, sq, n))| LayerError {
            layer: l.name.clone(),
            tensor: q.tensor(l.output).name.clone(),
            max_abs,
            rms: (sq / n as f64).sqrt(),
        })
        .collect())
}

/// A small deterministic generator (splitmix64).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    fn range(&mut self, lo: i128, hi: i128) -> i128 {
        let span = (hi - lo) as u128 + 1;
        let r = ((self.next() as u128) << 64 | self.next() as u128) % span;
        lo + r as i128
    }
}

/// Random input vectors over each element's range; the first two are all-minimum and all-maximum.
pub fn random_vectors(q: &QModel, n: usize, seed: u64) -> Vec<Vec<i128>> {
    let elems = q.input_elems();
    let mut rng = Rng(seed ^ 0x7461_6368_796f_6e00);
    (0..n)
        .map(|k| {
            elems
                .iter()
                .map(|e| match k {
                    0 => e.lo,
                    1 => e.hi,
                    _ => rng.range(e.lo, e.hi),
                })
                .collect()
        })
        .collect()
}

fn read_rows(path: &Path) -> Result<(Vec<Vec<f64>>, Vec<usize>)> {
    let a = tachyon_common::npy::read_npy(path)?;
    let data = a.to_f64();
    let rows = *a.shape.first().unwrap_or(&1);
    if rows == 0 {
        bail!("{} holds no samples", path.display());
    }
    let per = data.len() / rows;
    Ok((data.chunks(per.max(1)).map(|c| c.to_vec()).collect(), a.shape))
}

fn argmax(v: &[f64]) -> usize {
    v.iter().enumerate().fold(0, |b, (k, &x)| if x > v[b] { k } else { b })
}

fn rtl_files(dir: &Path, m: &Manifest) -> Vec<PathBuf> {
    vec![dir.join("rtl").join(format!("{}.v", m.top))]
}

/// Harness options for a project: work folder `sim/`, and a design with II > 1 gets its inputs
/// at least II cycles apart (a stream design's frame of pixel beats fills its II).
/// Runs of many vectors get the optimized build.
fn cosim_options(dir: &Path, m: &Manifest, gap: u32, vectors: usize, lint: bool) -> CosimOptions {
    CosimOptions {
        work_dir: dir.join("sim"),
        gap: effective_gap(m, gap),
        trace: false,
        jobs: 2,
        optimize: vectors >= tachyon_testbenches::OPTIMIZE_FROM_VECTORS,
        // The build is the design's `verilator -Wall` lint too: a warning fails it.
        lint,
    }
}

/// `gap`, raised so that inputs come at most once every II cycles.
fn effective_gap(m: &Manifest, gap: u32) -> u32 {
    let beats = m.frame.as_ref().map_or(1, |f| (f.len() / m.inputs.len().max(1)) as u32);
    gap.max(m.ii_cycles.saturating_sub(beats))
}

/// What a route of [`run`] simulated besides the outputs.
struct Route {
    post_synth: Option<crate::post_synth::PostSynthInfo>,
    simulator: Option<Simulator>,
    /// The work folder (`results.json` goes there).
    work: PathBuf,
}

/// Runs `vectors` through the design the options choose (see the module doc).
fn simulate(dir: &Path, m: &Manifest, o: &SimOptions, vectors: &[Vec<i128>]) -> Result<(CosimResult, Route)> {
    let gap = effective_gap(m, o.gap);
    if o.post_synth {
        let simulator = o.simulator.unwrap_or_default();
        let (res, info) = crate::post_synth::simulate(dir, m, vectors, gap, simulator)?;
        let route = Route { post_synth: Some(info), simulator: Some(simulator), work: dir.join("sim-post") };
        return Ok((res, route));
    }
    if let Some(simulator) = o.simulator {
        let opts = TestbenchOptions {
            work_dir: dir.join("sim").join(format!("tb-{simulator}")),
            simulator,
            files: rtl_files(dir, m),
            libraries: vec![],
            defines: vec![],
            foreign: false,
            gap,
            timeout: tachyon_testbenches::verilog_sim::timeout_for(m.latency_cycles, m.ii_cycles),
            jobs: 2,
        };
        let phase = tachyon_flows::tools::Phases::new(&format!("{simulator}: streaming {} vectors", vectors.len()));
        let res = tachyon_testbenches::run_testbench(&m.interface(), vectors, &opts);
        drop(phase);
        return Ok((res?, Route { post_synth: None, simulator: Some(simulator), work: dir.join("sim") }));
    }
    if !tachyon_testbenches::verilator_available() {
        bail!(
            "verilator not found on PATH: install it (apt-get install -y verilator) to co-simulate, or run the \
             Verilog testbench in Icarus with --simulator icarus"
        );
    }
    let opts = cosim_options(dir, m, o.gap, vectors.len(), !o.no_lint);
    // A spinner with elapsed time on a terminal (hidden when stderr is not one, e.g. in tests).
    let phase = tachyon_flows::tools::Phases::new(&format!("verilator: building the harness of {}", m.top));
    let harness = tachyon_testbenches::build_harness(&rtl_files(dir, m), &m.interface(), &opts);
    if let Err(e @ tachyon_testbenches::CosimError::BuildFailed { stderr_tail, .. }) = &harness {
        if opts.lint && stderr_tail.contains("%Warning-") {
            bail!(
                "{e}\nthe harness build lints the RTL with verilator -Wall, and a warning fails it: a design \
                 Tachyon generated is -Wall clean (please report this one); hand-edited RTL can be simulated \
                 with --no-lint"
            );
        }
    }
    phase.set(&format!("verilator: streaming {} vectors", vectors.len()));
    let res = harness.and_then(|h| h.run(vectors));
    drop(phase);
    Ok((res?, Route { post_synth: None, simulator: None, work: dir.join("sim") }))
}

/// The RTL's output integers for `vectors` (input-bus integers) of the project in `dir`, from a
/// Verilator run; no comparison.
pub fn rtl_outputs(dir: &Path, vectors: &[Vec<i128>]) -> Result<Vec<Vec<i128>>> {
    let (manifest, _) = crate::project::load(dir)?;
    if !tachyon_testbenches::verilator_available() {
        bail!("verilator not found on PATH: install it (apt-get install -y verilator) to co-simulate");
    }
    let opts = cosim_options(dir, &manifest, 0, vectors.len(), true);
    let h = tachyon_testbenches::build_harness(&rtl_files(dir, &manifest), &manifest.interface(), &opts)?;
    Ok(h.run(vectors)?.outputs)
}

/// Runs the co-simulation of the project in `dir`.
pub fn run(dir: &Path, o: &SimOptions) -> Result<SimSummary> {
    let (manifest, built) = crate::project::load(dir)?;
    let mut vectors = vec![];
    let mut npy_rows = 0;
    let mut float_rows: Vec<Vec<f64>> = vec![];
    let mut warnings = vec![];
    if o.limit.is_some() && o.inputs.is_none() {
        bail!(
            "-n N takes the first N samples of --inputs, and no --inputs is given; for N random vectors use --random N"
        );
    }
    if let Some(p) = &o.inputs {
        let (rows, _) = read_rows(p)?;
        if let Some(n) = o.limit.filter(|&n| n > rows.len()) {
            warnings.push(format!(
                "-n {n} asks for more samples than {} holds; all {} are used",
                p.display(),
                rows.len()
            ));
        }
        let rows: Vec<_> = rows.into_iter().take(o.limit.unwrap_or(usize::MAX)).collect();
        float_rows = rows.clone();
        for (i, r) in rows.iter().enumerate() {
            vectors.push(
                interp::quantize_input(&built.qmodel, r)
                    .map_err(|e| anyhow::anyhow!("{}: sample {i}: {e}", p.display()))?,
            );
        }
        npy_rows = rows.len();
    }
    let random = o.random.unwrap_or(if o.inputs.is_none() { 1000 } else { 0 });
    vectors.extend(random_vectors(&built.qmodel, random, o.seed));
    if vectors.is_empty() {
        bail!("no vectors to simulate (give --inputs or --random N)");
    }
    // The reference outputs are computed while the harness builds and runs (a second core's
    // work: for a million jet-MLP vectors the interpreter takes longer than the simulation).
    let (reference, simulated) = std::thread::scope(|s| {
        let reference = s.spawn(|| vectors.iter().map(|v| interp::run(&built.qmodel, v)).collect::<Vec<_>>());
        let simulated = simulate(dir, &manifest, o, &vectors);
        (reference.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)), simulated)
    });
    let (res, route) = simulated?;
    warnings.extend(route.post_synth.iter().flat_map(|p| p.notes.iter().cloned()));
    let work = route.work;
    let label = if o.post_synth { "netlist" } else { "rtl" };
    let mut mismatches = 0;
    let mut first = vec![];
    for (i, (got, want)) in res.outputs.iter().zip(&reference).enumerate() {
        if got != want {
            mismatches += 1;
            if first.len() < 10 {
                first.push(format!("vector {i}: {label} {got:?} reference {want:?}"));
            }
        }
    }
    if res.outputs.len() != reference.len() {
        bail!("the design produced {} outputs for {} vectors", res.outputs.len(), reference.len());
    }
    let mut summary = SimSummary {
        vectors: vectors.len(),
        mismatches,
        first_mismatches: first,
        latency_cycles: res.latency_cycles,
        expected_latency_cycles: manifest.latency_cycles,
        ii_cycles: res.ii_cycles,
        build_seconds: res.build_seconds,
        run_seconds: res.run_seconds,
        linted: res.linted,
        max_abs_diff: None,
        argmax_agreement: None,
        compared_rows: None,
        layer_errors: vec![],
        warnings,
        post_synth: route.post_synth,
        simulator: route.simulator,
    };
    if !float_rows.is_empty() {
        summary.layer_errors =
            layer_errors_with(&dir.join(&manifest.model), &manifest.import_options(), &built.qmodel, &float_rows)?;
    }
    if let Some(p) = &o.expect {
        let (exp, _) = read_rows(p)?;
        let n = npy_rows.min(exp.len());
        if n == 0 {
            bail!("--expect needs --inputs with the matching samples");
        }
        let mut maxd: f64 = 0.0;
        let mut agree = 0;
        for (i, (out, want)) in res.outputs.iter().zip(&exp).take(n).enumerate() {
            let got = interp::dequantize_output(&built.qmodel, out).map_err(|e| anyhow::anyhow!(e))?;
            if got.len() != want.len() {
                bail!("{}: sample {i} has {} values, the model outputs {}", p.display(), want.len(), got.len());
            }
            for (a, b) in got.iter().zip(want) {
                maxd = maxd.max((a - b).abs());
            }
            if argmax(&got) == argmax(want) {
                agree += 1;
            }
        }
        summary.max_abs_diff = Some(maxd);
        summary.argmax_agreement = Some(agree as f64 / n as f64);
        summary.compared_rows = Some(n);
    }
    std::fs::write(work.join("results.json"), serde_json::to_string_pretty(&summary)? + "\n")?;
    let name =
        |p: &Option<PathBuf>| p.as_ref().map(|p| p.file_name().unwrap_or(p.as_os_str()).to_string_lossy().into_owned());
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    crate::report::record_sim(
        dir,
        SimRecord {
            date: utc_date(now),
            inputs: name(&o.inputs),
            expect: name(&o.expect),
            samples: npy_rows,
            random,
            vectors: summary.vectors,
            mismatches: summary.mismatches,
            latency_cycles: summary.latency_cycles,
            ii_cycles: summary.ii_cycles,
            max_abs_diff: summary.max_abs_diff,
            argmax_agreement: summary.argmax_agreement,
            compared_rows: summary.compared_rows,
            design: match (&summary.post_synth, summary.simulator) {
                (Some(p), _) => Some(format!("post-synth ({})", p.describe())),
                (None, Some(s)) => Some(format!("rtl ({s})")),
                (None, None) => None,
            },
        },
    )?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_dates() {
        assert_eq!(super::utc_date(0), "1970-01-01 00:00:00");
        assert_eq!(super::utc_date(951_868_799), "2000-02-29 23:59:59");
        assert_eq!(super::utc_date(1_796_602_147), "2026-12-07 00:09:07");
    }
}
