//! Helpers shared by the end-to-end tests.
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

use std::path::{Path, PathBuf};
use std::process::Command;

/// `../shared/models` beside the repository, if present.
pub fn shared_models() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/models");
    if p.is_dir() {
        Some(p)
    } else {
        skip_note!("skipped: ../shared/models is absent (the reference models live outside this repository)");
        None
    }
}

/// A 64-bit LCG for reproducible test inputs and weights.
pub struct Lcg(pub u64);
impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    /// Uniform in `lo..=hi`.
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh scratch folder under target/ (removed first if it exists).
pub fn scratch(name: &str) -> PathBuf {
    let p = repo().join("target").join("test-projects").join(name);
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    p
}

pub fn have(tool: &str) -> bool {
    let ok = Command::new(tool).arg("--version").output().map(|o| o.status.success()).unwrap_or(false)
        || Command::new(tool).arg("-V").output().map(|o| o.status.success()).unwrap_or(false);
    if !ok {
        skip_note!("skipped: {tool} is not installed (run scripts/setup.sh)");
    }
    ok
}

/// `verilator --lint-only -Wall` must print nothing and succeed.
pub fn lint(project: &Path) {
    if !have("verilator") {
        return;
    }
    let rtl: Vec<PathBuf> = std::fs::read_dir(project.join("rtl")).unwrap().map(|e| e.unwrap().path()).collect();
    let out = Command::new("verilator").arg("--lint-only").arg("-Wall").args(&rtl).output().unwrap();
    let text = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.trim().is_empty(), "verilator -Wall on {}:\n{text}", project.display());
}

/// yosys `synth_xilinx -family xcup` must succeed.
pub fn yosys_synth(project: &Path) {
    if !have("yosys") {
        return;
    }
    let rtl: Vec<String> =
        std::fs::read_dir(project.join("rtl")).unwrap().map(|e| e.unwrap().path().display().to_string()).collect();
    let script =
        format!("read_verilog {}; hierarchy -auto-top; synth_xilinx -family xcup -flatten; stat", rtl.join(" "));
    let out = Command::new("yosys").arg("-q").arg("-p").arg(&script).output().unwrap();
    assert!(out.status.success(), "yosys on {}:\n{}", project.display(), String::from_utf8_lossy(&out.stderr));
}

/// Build options with the tests' defaults: no config, 5 ns, top `tachyon_top`, no `--force`.
pub fn build_options(model: impl Into<PathBuf>, out: impl Into<PathBuf>) -> tachyon_driver::project::BuildOptions {
    tachyon_driver::project::BuildOptions {
        model: model.into(),
        config: None,
        clock_ns: Some(5.0),
        board: None,
        top: "tachyon_top".into(),
        out: out.into(),
        force: false,
        input_shapes: vec![],
    }
}

/// Co-simulates `random` random vectors of a built project and asserts 0 mismatches and the
/// latency and initiation interval the project reports; `None` (after a skip notice) when
/// Verilator is absent.
pub fn cosim_random(project: &Path, random: usize) -> Option<tachyon_driver::sim::SimSummary> {
    if !have("verilator") {
        return None;
    }
    let s = tachyon_driver::sim::run(
        project,
        &tachyon_driver::sim::SimOptions { random: Some(random), ..Default::default() },
    )
    .unwrap();
    assert_eq!(s.mismatches, 0, "{}: {:?}", project.display(), s.first_mismatches);
    assert_eq!(s.latency_cycles, s.expected_latency_cycles, "{}: measured latency", project.display());
    let manifest = tachyon_driver::manifest::read_manifest(project).unwrap();
    assert_eq!(s.ii_cycles, manifest.ii_cycles, "{}: measured initiation interval", project.display());
    Some(s)
}

/// [`cosim_random`], whose harness build is the design's `verilator -Wall` lint when the design
/// is flat; otherwise linted on its own ([`lint_unless_linted`]).
pub fn lint_and_cosim(project: &Path, random: usize) -> Option<tachyon_driver::sim::SimSummary> {
    let s = cosim_random(project, random);
    lint_unless_linted(project, s.as_ref());
    s
}

/// [`lint`] unless the co-simulation `s` of the project already linted it (`SimSummary::linted`:
/// a flat design's harness build runs `-Wall`; a hierarchy, or no co-simulation, is linted here).
pub fn lint_unless_linted(project: &Path, s: Option<&tachyon_driver::sim::SimSummary>) {
    if !s.is_some_and(|s| s.linted) {
        lint(project);
    }
}

/// An independent reference executor for `reference_outputs`.
#[derive(Clone, Copy, Debug)]
pub enum Reference {
    /// qonnx's `execute_onnx` (QONNX custom ops in NumPy, standard ops through onnxruntime).
    Qonnx,
    /// onnxruntime on the whole graph (standard ONNX: QDQ, QLinear*, float models).
    Ort,
}

/// The pinned virtualenv made by scripts/python-env.sh: `TACHYON_VENV`, else `<repo>/.venv`.
pub fn venv() -> PathBuf {
    std::env::var_os("TACHYON_VENV").map(PathBuf::from).unwrap_or_else(|| repo().join(".venv"))
}

/// The repository's pinned Python (`.venv`, made by scripts/python-env.sh; `TACHYON_VENV`
/// overrides) if it has onnxruntime and qonnx; `None` after a skip notice otherwise.
pub fn reference_python() -> Option<PathBuf> {
    let py = venv().join("bin/python");
    let ok = Command::new(&py).args(["-c", "import onnxruntime, qonnx"]).output().is_ok_and(|o| o.status.success());
    if !ok {
        skip_note!("skipped: no Python with onnxruntime and qonnx at {} (run scripts/python-env.sh)", py.display());
        return None;
    }
    Some(py)
}

/// The outputs of `model` on `inputs` (one row of `row_len` values per sample) computed by an
/// independent executor (tests/reference/run_reference.py), one flattened row per sample;
/// `None` (after a skip notice) when the pinned Python is absent.
pub fn reference_outputs(model: &Path, inputs: &[f32], row_len: usize, how: Reference) -> Option<Vec<Vec<f32>>> {
    let py = reference_python()?;
    let dir = scratch(&format!(
        "reference-{}",
        model.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let (x, y) = (dir.join("inputs.npy"), dir.join("outputs.npy"));
    tachyon_common::npy::write_npy_f32(&x, &[inputs.len() / row_len, row_len], inputs).unwrap();
    let which = match how {
        Reference::Qonnx => "qonnx",
        Reference::Ort => "ort",
    };
    let out = Command::new(&py)
        .arg(repo().join("tests/reference/run_reference.py"))
        .args([which, model.to_str().unwrap(), x.to_str().unwrap(), y.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "reference executor ({which}) on {}:\n{}",
        model.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let arr = tachyon_common::npy::read_npy(&y).unwrap();
    let vals: Vec<f32> = arr.to_f64().into_iter().map(|v| v as f32).collect();
    let n = inputs.len() / row_len;
    Some(vals.chunks(vals.len() / n).map(|c| c.to_vec()).collect())
}
