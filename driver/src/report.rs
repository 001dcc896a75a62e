//! A project's reports as typed values: `report.json` (the design's [`Report`] with the board
//! and its budget warnings) and, when the later commands have run, `synth.json`,
//! `sim/results.json`, `sim/axis/results.json`, `ice40/summary.json` and Vivado's
//! `vivado/out/*/results.txt`. `tachyon report`, `report.html` and the build summary read them
//! through here, never by string keys.

use anyhow::{Context, Result};
use std::path::Path;
pub use tachyon_hls::report::{LayerReport, Report, Resources};

/// `report.json`: the design's report, plus the board it targets and the budget warnings when
/// built with `--board`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ProjectReport {
    #[serde(flatten)]
    pub design: Report,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub board: Option<tachyon_boards::Board>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<String>>,
}

impl ProjectReport {
    /// The report of `design` for `board`, with a warning when the estimate exceeds the part.
    pub fn new(design: &Report, board: Option<&tachyon_boards::Board>) -> ProjectReport {
        let warnings = board.map(|b| {
            let t = &design.total;
            let mut w = vec![];
            if t.lut > b.lut || t.ff > b.ff || t.dsp > b.dsp {
                w.push(format!("the estimate (LUT {}, FF {}, DSP {}) exceeds the {} part", t.lut, t.ff, t.dsp, b.name));
            }
            w
        });
        ProjectReport { design: design.clone(), board: board.cloned(), warnings }
    }

    /// The text of `report.json` (keys sorted, as every project has written them).
    pub fn to_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(&serde_json::to_value(self)?)? + "\n")
    }
}

/// Everything a project folder reports.
#[derive(Clone, Debug)]
pub struct ProjectResults {
    pub report: ProjectReport,
    pub synth: Option<crate::synth::SynthSummary>,
    pub sim: Option<crate::sim::SimSummary>,
    pub axis: Option<crate::axis::AxisSummary>,
    pub ice40: Option<tachyon_flows::ice40::BitstreamSummary>,
    /// Vivado runs found: variant (`core`, `axis`, `board`) and its results.
    pub vivado: Vec<(String, tachyon_flows::vivado::Results)>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(None) };
    let v = serde_json::from_str(&text).with_context(|| {
        format!("{} is malformed (written by another Tachyon?); run the command again", path.display())
    })?;
    Ok(Some(v))
}

/// Reads `dir/report.json`.
pub fn read_report(dir: &Path) -> Result<ProjectReport> {
    let path = dir.join("report.json");
    read_json(&path)?.with_context(|| format!("{} is missing: run tachyon build first", path.display()))
}

/// Reads every report of the project in `dir`.
pub fn read(dir: &Path) -> Result<ProjectResults> {
    let mut vivado = vec![];
    for variant in ["core", "axis", "board"] {
        let p = dir.join("vivado").join("out").join(variant).join("results.txt");
        if let Ok(text) = std::fs::read_to_string(&p) {
            vivado.push((variant.to_string(), tachyon_flows::vivado::parse_results(&text)));
        }
    }
    Ok(ProjectResults {
        report: read_report(dir)?,
        synth: read_json(&dir.join("synth.json"))?,
        sim: read_json(&dir.join("sim").join("results.json"))?,
        axis: read_json(&dir.join("sim").join("axis").join("results.json"))?,
        ice40: read_json(&dir.join("ice40").join("summary.json"))?,
        vivado,
    })
}
