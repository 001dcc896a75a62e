//! The Python exporter's own test suite (pytest over exporter/tests: synthetic HGQ2 layers
//! exported and evaluated by the NumPy reference of the tachyon.fixed semantics, bit-exact with
//! Keras; the quantizer semantics; errors and the export cache), run from the exporter's
//! virtualenv so that `cargo test --workspace` covers it. Skipped, saying so, without that
//! virtualenv. The five HGQ2 checkpoints go through the same NumPy reference in `hgq2.rs`, on
//! the export `tachyon build` made of each.

use crate::common::*;
use std::process::Command;

#[test]
fn exporter_pytest_suite_passes() {
    let venv = venv();
    let pytest = venv.join("bin/pytest");
    if !pytest.is_file() {
        skip_note!("skipped: no exporter virtualenv at {} (run scripts/python-env.sh)", venv.display());
        return;
    }
    let out = Command::new(&pytest)
        .args(["-q", "-p", "no:cacheprovider"])
        .arg(repo().join("exporter/tests"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "pytest exporter/tests failed:\n{text}");
    assert!(text.contains("passed"), "{text}");
}

/// The exporter, the reference-executor script and the particle-surrogate bench are typed: `mypy --strict` passes on them
/// (exporter/pyproject.toml lists the files and the untyped third-party modules).
#[test]
fn python_code_type_checks() {
    let venv = venv();
    let python = venv.join("bin/python");
    if !python.is_file() {
        skip_note!("skipped: no exporter virtualenv at {} (run scripts/python-env.sh)", venv.display());
        return;
    }
    let out = Command::new(&python)
        .args(["-m", "mypy", "--no-incremental", "--cache-dir", "/dev/null"])
        .current_dir(repo().join("exporter"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "mypy --strict:\n{text}");
}
