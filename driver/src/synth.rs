//! `tachyon synth`: synthesizes a project's Verilog with yosys (`synth_xilinx`, flattened — the
//! way resource figures are compared across tools) and sets the counts beside the estimate of
//! `report.json`, writing both to `synth.json`.
//!
//! `--partitioned` is for designs too big to synthesize flat (a million LUTs would take yosys
//! most of a day): the project's netlist is rebuilt and cut into distinct part modules
//! ([`tachyon_rtl::emit_partitioned`]); each distinct module is synthesized once, `jobs` yosys
//! processes at a time, and counted once per instance. The figures differ from flat synthesis
//! only by what crosses a part boundary (see `benches/RESULTS.md` for both methods on one
//! design).

use anyhow::{bail, Context, Result};
use std::path::Path;
pub use tachyon_flows::yosys::Counts;
use tachyon_flows::yosys::{synthesize, synthesize_parts};

/// The result of `tachyon synth`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SynthSummary {
    pub family: String,
    pub yosys_version: String,
    pub seconds: f64,
    pub yosys: Counts,
    /// The estimate from report.json.
    pub estimate: Counts,
    /// (estimate − yosys) / yosys for LUT and FF (FF against FF + SRL: yosys packs delay
    /// chains into SRLs where the estimate counts flip-flops).
    pub lut_error: f64,
    pub ff_error: f64,
    /// Synthesized as a hierarchy of part modules (`--partitioned`), not flat: how many
    /// instances of how many distinct modules.
    #[serde(default)]
    pub partitioned: Option<PartitionCounts>,
}

/// The shape of a partitioned synthesis.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PartitionCounts {
    pub instances: usize,
    pub modules: usize,
}

/// Runs yosys on `project/rtl/*.v` for `family` (`xcup`, `xcu`, `xc7`), flat, or with
/// `partitioned` on the project's netlist cut into part modules, `jobs` yosys processes at a
/// time (0: one per core; see the module docs).
pub fn run(project: &Path, family: &str, partitioned: bool, jobs: usize) -> Result<SynthSummary> {
    let t = crate::report::read_report(project)?.design.total;
    let mut files: Vec<_> = std::fs::read_dir(project.join("rtl"))
        .with_context(|| format!("{}/rtl", project.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "v"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{}/rtl has no .v files", project.display());
    }
    let work = tempdir(project)?;
    let mut counts = None;
    let result = if partitioned {
        let (manifest, loaded) = crate::project::load(project)?;
        let design = crate::project::netlist(project, &manifest, &loaded)?;
        let hier = tachyon_rtl::emit_partitioned(&design.module);
        counts = Some(PartitionCounts { instances: hier.parts, modules: hier.modules });
        let jobs = if jobs == 0 { std::thread::available_parallelism().map_or(1, |n| n.get()) } else { jobs };
        synthesize_parts(&hier.part_modules, family, jobs, &work, &project.display().to_string())
    } else {
        synthesize(&files, family, &work, &project.display().to_string())
    };
    let _ = std::fs::remove_dir_all(&work);
    let tachyon_flows::yosys::Synthesis { counts: yosys, version, seconds } = result?;
    let estimate = Counts { lut: t.lut, ff: t.ff, carry: t.carry8, srl: 0, dsp: t.dsp, bram: t.bram };
    let rel = |e: u64, y: u64| if y == 0 { 0.0 } else { (e as f64 - y as f64) / y as f64 };
    let summary = SynthSummary {
        family: family.to_string(),
        yosys_version: version,
        seconds,
        lut_error: rel(estimate.lut, yosys.lut),
        ff_error: rel(estimate.ff, yosys.ff + yosys.srl),
        yosys,
        estimate,
        partitioned: counts,
    };
    let tmp = project.join(".synth.json.tmp");
    std::fs::write(&tmp, serde_json::to_string_pretty(&summary)? + "\n")?;
    std::fs::rename(&tmp, project.join("synth.json"))?;
    Ok(summary)
}

/// A fresh scratch folder inside the project (removed after the run).
fn tempdir(project: &Path) -> Result<std::path::PathBuf> {
    let d = project.join(format!(".synth-{}", std::process::id()));
    if d.exists() {
        std::fs::remove_dir_all(&d)?;
    }
    std::fs::create_dir_all(&d).with_context(|| format!("cannot create {}", d.display()))?;
    Ok(d)
}
