//! Reading a model file: ONNX/QONNX as it is, an HGQ2 (Keras 3) `.keras` file through the
//! `tachyon-export` Python exporter (docs/qonnx_extension.md), run with the user's Python
//! (`TACHYON_PYTHON`, else `python3`). Everything after this sees ONNX bytes.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python that runs the exporter.
pub fn python() -> PathBuf {
    std::env::var_os("TACHYON_PYTHON").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("python3"))
}

/// Whether `path` names a Keras model (exported through Python first).
pub fn is_keras(path: &Path) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case("keras"))
}

/// What to do when the exporter cannot run.
const INSTALL: &str = "Keras (.keras) models are exported to ONNX by Tachyon's Python exporter: run \
     scripts/python-env.sh (a virtualenv with hgq2 0.2.0, keras 3.15.1, jax 0.10.2 and the exporter) and set \
     TACHYON_PYTHON=.venv/bin/python, or `pip install hgq2==0.2.0 keras==3.15.1 jax==0.10.2 ./exporter` into your \
     own Python and point TACHYON_PYTHON at it";

/// Where exports are kept (`tachyon-export --cache`): `TACHYON_CACHE` (empty or `off`: no
/// cache), else `$XDG_CACHE_HOME/tachyon/exports`, else `~/.cache/tachyon/exports`. Entries are
/// keyed by the model's bytes, the exporter's sources and the package versions, so a stale
/// entry is never used.
pub fn export_cache() -> Option<PathBuf> {
    match std::env::var_os("TACHYON_CACHE") {
        Some(v) if v.is_empty() || v == "off" => None,
        Some(v) => Some(PathBuf::from(v)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .map(|c| c.join("tachyon/exports")),
    }
}

/// Exports the Keras model at `keras` to the ONNX file `onnx` with `tachyon-export` (through
/// the export cache when there is one).
pub fn export_keras(keras: &Path, onnx: &Path) -> Result<()> {
    let py = python();
    let mut cmd = Command::new(&py);
    cmd.arg("-m").arg("tachyon_export").arg(keras).arg(onnx);
    if let Some(cache) = export_cache() {
        cmd.arg("--cache").arg(cache);
    }
    let phase = tachyon_flows::tools::Phases::new(&format!("{}: exporting with HGQ2 (Python)", keras.display()));
    let out = cmd.output().with_context(|| format!("{}: cannot run {} ({INSTALL})", keras.display(), py.display()))?;
    drop(phase);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        if err.contains("No module named tachyon_export") {
            bail!("{}: {} has no tachyon_export module. {INSTALL}", keras.display(), py.display());
        }
        let msg: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        let shown = msg.iter().rev().take(12).rev().cloned().collect::<Vec<_>>().join("\n");
        bail!("{}: the exporter failed ({}):\n{shown}", keras.display(), out.status);
    }
    Ok(())
}

/// A fresh path for an exported model in the temporary folder (distinct per call, so calls
/// from several threads of one process do not collide).
pub fn scratch_onnx() -> PathBuf {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("tachyon-export-{}-{call}.onnx", std::process::id()))
}

/// The ONNX bytes of the model at `path` (exported first when it is a `.keras` file).
pub fn read_model(path: &Path) -> Result<Vec<u8>> {
    if !is_keras(path) {
        return std::fs::read(path).with_context(|| format!("cannot read {}", path.display()));
    }
    if !path.is_file() {
        bail!("cannot read {}: no such file", path.display());
    }
    let tmp = scratch_onnx();
    let result = export_keras(path, &tmp)
        .and_then(|()| std::fs::read(&tmp).with_context(|| format!("the exporter wrote no {}", tmp.display())));
    let _ = std::fs::remove_file(&tmp);
    result
}

/// The imported graph of the model at `path` (messages name `path`).
pub fn load_graph(path: &Path) -> Result<tachyon_frontend::Graph> {
    load_graph_with(path, &tachyon_frontend::ImportOptions::default())
}

/// [`load_graph`] with import options (`--input-shape`).
pub fn load_graph_with(path: &Path, import: &tachyon_frontend::ImportOptions) -> Result<tachyon_frontend::Graph> {
    let bytes = read_model(path)?;
    Ok(tachyon_frontend::decode_model_with(&bytes, path, import)?)
}
