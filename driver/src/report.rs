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
    /// The file name of the model the project was built from (the report's title).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_file: Option<String>,
    /// Every `tachyon sim` run of the project, oldest first (appended by [`record_sim`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sims: Vec<crate::sim::SimRecord>,
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
        ProjectReport { design: design.clone(), board: board.cloned(), warnings, model_file: None, sims: vec![] }
    }

    /// With the build's design warnings (`crate::warnings`, after the board's) and the model's
    /// file name.
    pub fn with_build(mut self, warnings: &[String], model_file: Option<String>) -> ProjectReport {
        if !warnings.is_empty() {
            self.warnings.get_or_insert_with(Vec::new).extend(warnings.iter().cloned());
        }
        self.model_file = model_file;
        self
    }

    /// The title of the report: the model's file name, or the model's graph name for projects
    /// built before it was recorded.
    pub fn title(&self) -> &str {
        self.model_file.as_deref().unwrap_or(&self.design.model)
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

/// Appends a `tachyon sim` run to `dir/report.json` (written to a temporary file and renamed,
/// so a failure leaves the old report).
pub fn record_sim(dir: &Path, run: crate::sim::SimRecord) -> Result<()> {
    let mut r = read_report(dir)?;
    r.sims.push(run);
    let path = dir.join("report.json");
    let tmp = dir.join(".report.json.tmp");
    std::fs::write(&tmp, r.to_json()?).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
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
