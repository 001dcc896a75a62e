//! `tachyon.json`, the manifest of a project folder: what the project was built from and with
//! (model, config, clock, board, top) and the core's bus layout and timing, which every command
//! after `build` reads.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use tachyon_testbenches::{PortElem, TopInterface};

/// The manifest stored as `tachyon.json` in a project folder.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub tachyon_version: String,
    /// The model the project was built from, relative to the project folder (stored in it).
    pub model: PathBuf,
    /// Where that model was read from at build time (absolute; for information only).
    #[serde(default)]
    pub source: PathBuf,
    /// The configuration used (inline, so the project does not depend on the config file).
    pub config: serde_json::Value,
    pub clock_ns: f64,
    pub board: Option<String>,
    pub top: String,
    pub latency_cycles: u32,
    /// Initiation interval: inputs may arrive at most once every `ii_cycles` cycles.
    #[serde(default = "one")]
    pub ii_cycles: u32,
    pub inputs: Vec<tachyon_hls::BusElem>,
    pub outputs: Vec<tachyon_hls::BusElem>,
    /// Stream style: the flat input element of each slot of each beat (see
    /// `tachyon_hls::Design::frame`); absent for one-beat inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frame: Option<Vec<u32>>,
    /// `--input-shape` of the build: how the stored model's inputs are read (absent: as the
    /// file says, or with a batch axis taken out, which the import finds again).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_shapes: Vec<tachyon_frontend::InputShape>,
}

impl Manifest {
    /// How the project's model is imported (its `--input-shape`).
    pub fn import_options(&self) -> tachyon_frontend::ImportOptions {
        tachyon_frontend::ImportOptions { input_shapes: self.input_shapes.clone() }
    }
    /// What a wrapper or a tool flow needs to know of the core; `model` names the model in
    /// headers.
    pub fn core(&self, model: &str) -> tachyon_rtl::wrappers::Core {
        tachyon_rtl::wrappers::Core {
            top: self.top.clone(),
            in_bits: self.inputs.iter().map(|e| e.width).sum(),
            out_bits: self.outputs.iter().map(|e| e.width).sum(),
            latency: self.latency_cycles,
            ii: self.ii_cycles,
            version: self.tachyon_version.clone(),
            model: model.to_string(),
        }
    }
}

impl Manifest {
    /// The core's bus layout as the co-simulation harnesses see it.
    pub fn interface(&self) -> TopInterface {
        let pe = |e: &tachyon_hls::BusElem| PortElem { width: e.width, signed: e.signed };
        TopInterface {
            top: self.top.clone(),
            inputs: self.inputs.iter().map(pe).collect(),
            outputs: self.outputs.iter().map(pe).collect(),
            frame: self.frame.clone().unwrap_or_default(),
        }
    }
}

fn one() -> u32 {
    1
}

/// Reads `dir/tachyon.json` (without recompiling the model).
pub fn read_manifest(dir: &Path) -> Result<Manifest> {
    let text = std::fs::read_to_string(dir.join("tachyon.json")).with_context(|| {
        format!("{} is not a Tachyon project (no tachyon.json); run tachyon build first", dir.display())
    })?;
    serde_json::from_str(&text).with_context(|| format!("{}/tachyon.json is malformed", dir.display()))
}
