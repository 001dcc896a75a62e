//! The Python package (python/): its pytest suite and mypy, on the wheel that
//! `scripts/build-wheel.sh --dev` built (scripts/test.sh builds it before `cargo test`),
//! installed into a scratch virtualenv layered over the pinned `.venv` (numpy, onnx, qonnx,
//! HGQ2/Keras, pytest, mypy).

use crate::common::*;
use std::path::PathBuf;
use std::process::Command;

/// The newest wheel in target/wheels, if any.
fn wheel() -> Option<PathBuf> {
    let dir = repo().join("target/wheels");
    let mut found: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("tachyon_nn-")))
        .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
        .collect();
    found.sort();
    found.pop().map(|(_, p)| p)
}

#[test]
fn python_package_pytest_and_mypy() {
    let base = venv();
    if !base.join("bin/python").is_file() {
        skip_note!("skipped: no pinned virtualenv at {} (run scripts/python-env.sh)", base.display());
        return;
    }
    let Some(whl) = wheel() else {
        skip_note!("skipped: no wheel in target/wheels (run scripts/build-wheel.sh --dev; scripts/test.sh does)");
        return;
    };
    // A scratch virtualenv that sees the pinned packages (site.addsitedir also reads their .pth
    // files, so the editable exporter is found) and holds only the wheel itself.
    let scratch = repo().join("target/python-package-test");
    let _ = std::fs::remove_dir_all(&scratch);
    let ok = Command::new("python3").arg("-m").arg("venv").arg(scratch.join("venv")).status().unwrap().success();
    assert!(ok, "python3 -m venv failed");
    let py = scratch.join("venv/bin/python");
    let site = |py: &PathBuf| {
        let out = Command::new(py).args(["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).output();
        PathBuf::from(String::from_utf8(out.unwrap().stdout).unwrap().trim())
    };
    let base_site = site(&base.join("bin/python"));
    std::fs::write(
        site(&py).join("_tachyon_base.pth"),
        format!("import site; site.addsitedir({:?})\n", base_site.to_string_lossy()),
    )
    .unwrap();
    let out = Command::new(&py)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps"])
        .arg(&whl)
        .output()
        .unwrap();
    assert!(out.status.success(), "pip install {}: {}", whl.display(), String::from_utf8_lossy(&out.stderr));
    // Run from outside the repository, so `import tachyon` is the installed wheel.
    let out = Command::new(&py)
        .args(["-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider"])
        .arg(repo().join("python/tests"))
        .current_dir(&scratch)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the Python package's pytest suite failed");
    if repo().join("../shared/models").is_dir() && have("verilator") {
        assert!(!text.contains("SKIPPED"), "a pytest case was skipped:\n{text}");
    }
    let out = Command::new(&py)
        .args(["-m", "mypy", "--config-file"])
        .arg(repo().join("python/pyproject.toml"))
        .arg(repo().join("python/tachyon"))
        .arg(repo().join("python/tests"))
        .arg(repo().join("examples/python"))
        .current_dir(&scratch)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "mypy --strict on the Python package:\n{text}");
}
