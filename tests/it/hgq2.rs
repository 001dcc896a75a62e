//! HGQ2 (Keras 3) checkpoints of ../shared/models/hgq2 end to end, the way a user runs them:
//! `tachyon build MODEL.keras` (exported by tachyon-export through TACHYON_PYTHON), then the
//! reference interpreter must equal Keras's own outputs bit for bit on all 2,000 vectors (half
//! of them overflowing the wrap-around quantizers), and the RTL must equal the interpreter on
//! them (Verilator), lint clean. Needs the exporter's Python (scripts/python-env.sh makes
//! `.venv`); skipped, saying so, when it is absent — CI installs it.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python with tachyon-export and HGQ2: `TACHYON_PYTHON`, else the repository's `.venv`.
fn exporter_python() -> Option<PathBuf> {
    let py = std::env::var_os("TACHYON_PYTHON").map(PathBuf::from).unwrap_or_else(|| repo().join(".venv/bin/python"));
    let ok = Command::new(&py)
        .args(["-c", "import tachyon_export, hgq"])
        .env("KERAS_BACKEND", "jax")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip_note!("skipped: no Python with tachyon-export and hgq2 at {} (run scripts/python-env.sh)", py.display());
        return None;
    }
    Some(py)
}

/// Builds `name` from its .keras file with the CLI, checks interpreter = Keras on every vector
/// and co-simulates.
fn check(name: &str, clock: &str) {
    let (Some(models), Some(py)) = (shared_models(), exporter_python()) else { return };
    let dir = models.join("hgq2");
    let out = scratch(&format!("hgq2_{name}"));
    let run = Command::new(env!("CARGO_BIN_EXE_tachyon"))
        .args(["build", dir.join(format!("{name}.keras")).to_str().unwrap(), "--clock-ns", clock, "-o"])
        .arg(&out)
        .env("TACHYON_PYTHON", &py)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout).to_string() + &String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{name}: {text}");
    interpreter_equals_keras(&out, &dir, name);
    lint(&out);
    if have("verilator") {
        let s = tachyon_driver::sim::run(
            &out,
            &tachyon_driver::sim::SimOptions {
                inputs: Some(dir.join(format!("{name}.input.npy"))),
                expect: Some(dir.join(format!("{name}.output.npy"))),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!((s.vectors, s.mismatches), (2000, 0), "{name}: {:?}", s.first_mismatches);
        assert_eq!(s.max_abs_diff, Some(0.0), "{name}: RTL vs Keras");
    }
}

fn interpreter_equals_keras(project: &Path, dir: &Path, name: &str) {
    let (_, loaded) = tachyon_driver::project::load(project).unwrap();
    let q = &loaded.qmodel;
    let x = tachyon_common::read_npy(dir.join(format!("{name}.input.npy"))).unwrap();
    let y = tachyon_common::read_npy(dir.join(format!("{name}.output.npy"))).unwrap();
    let (xs, ys) = (x.to_f64(), y.to_f64());
    let (nx, ny) = (xs.len() / x.shape[0], ys.len() / y.shape[0]);
    for k in 0..x.shape[0] {
        let got = tachyon_quantize::interp::evaluate(q, &xs[k * nx..(k + 1) * nx]).unwrap();
        let want = &ys[k * ny..(k + 1) * ny];
        // Bit for bit (0.0 and −0.0 are the same fixed-point zero).
        let same = got.iter().zip(want).all(|(a, b)| a.to_bits() == b.to_bits() || (*a == 0.0 && *b == 0.0));
        assert!(same, "{name}, vector {k}: interpreter {got:?}, Keras {want:?}");
    }
}

#[test]
fn jsc_openml_530_is_bit_exact_with_keras() {
    check("jsc_openml_530", "5");
}

#[test]
fn jsc_openml_13285_is_bit_exact_with_keras() {
    check("jsc_openml_13285", "2.5");
}
