//! `tachyon synth`: synthesizes a project's Verilog with yosys (`synth_xilinx`, flattened — the
//! way resource figures are compared across tools) and sets the counts beside the estimate of
//! `report.json`, writing both to `synth.json`.
//!
//! `--partitioned` is for designs too big to synthesize flat (a million LUTs would take yosys
//! most of a day): the project's netlist is rebuilt and written as distinct part modules under
//! a top ([`tachyon_rtl::emit_partitioned`]); yosys synthesizes each distinct module once and
//! `stat -top` counts every instance. The figures differ from flat synthesis only by what
//! crosses a part boundary (see `benches/RESULTS.md` for both methods on one design).

use anyhow::{bail, Context, Result};
use std::path::Path;
use std::process::Command;

/// yosys' cell counts of a design.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub lut: u64,
    pub ff: u64,
    pub carry: u64,
    pub srl: u64,
    pub dsp: u64,
    pub bram: u64,
}

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

/// Sums the cell counts of yosys' `stat` output.
pub fn parse_stat(text: &str) -> Counts {
    let mut c = Counts::default();
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let (Some(cell), Some(n)) = (it.next(), it.next()) else { continue };
        let Ok(n) = n.parse::<u64>() else { continue };
        let is = |p: &str| cell.starts_with(p);
        // LUT6_2 (the ternary adders' dual-output LUTs) takes one LUT6 site like a LUT6.
        if (cell.len() == 4 && is("LUT") && cell.as_bytes()[3].is_ascii_digit()) || cell == "LUT6_2" {
            c.lut += n;
        } else if ["FDRE", "FDSE", "FDCE", "FDPE"].contains(&cell) {
            c.ff += n;
        } else if cell == "CARRY4" || cell == "CARRY8" {
            c.carry += n;
        } else if is("SRL") {
            c.srl += n;
        } else if is("DSP48E") {
            c.dsp += n;
        } else if is("RAMB18") || is("RAMB36") {
            c.bram += n;
        }
    }
    c
}

/// Sums the cell counts of the whole hierarchy in the output of yosys' `stat -top`: the part
/// after `design hierarchy`, where each module's cells are multiplied by its instances.
pub fn parse_hierarchy_stat(text: &str) -> Option<Counts> {
    // The totals follow the instance list (whose module names could look like cell names).
    let (_, hierarchy) = text.split_once("=== design hierarchy ===")?;
    let (_, totals) = hierarchy.split_once("Number of cells:")?;
    Some(parse_stat(totals))
}

/// Runs yosys on `project/rtl/*.v` for `family` (`xcup`, `xcu`, `xc7`), flat, or with
/// `partitioned` on the project's netlist written as part modules (see the module docs).
pub fn run(project: &Path, family: &str, partitioned: bool) -> Result<SynthSummary> {
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(project.join("report.json"))
            .with_context(|| format!("{}/report.json: run `tachyon build` first", project.display()))?,
    )?;
    let version = match Command::new("yosys").arg("-V").output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        _ => bail!("yosys is not installed (Debian/Ubuntu: apt-get install -y yosys; or run scripts/setup.sh)"),
    };
    if !["xcup", "xcu", "xc7", "xc6s"].contains(&family) {
        bail!("unknown family '{family}': use xcup (UltraScale+), xcu (UltraScale) or xc7 (7 series)");
    }
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
    let stat = work.join("stat.txt");
    let log = work.join("yosys.log");
    let mut counts = None;
    let script = if partitioned {
        let (manifest, built) = crate::project::load(project)?;
        let hier = tachyon_rtl::emit_partitioned(&built.design.module);
        counts = Some(PartitionCounts { instances: hier.parts, modules: hier.modules });
        let file = work.join(format!("{}.v", manifest.top));
        std::fs::write(&file, &hier.verilog).with_context(|| format!("cannot write {}", file.display()))?;
        format!(
            "read_verilog \"{}\"; hierarchy -top {top}; synth_xilinx -family {family} -top {top}; tee -o {} stat -top {top}",
            file.display(),
            stat.display(),
            top = manifest.top
        )
    } else {
        format!(
            "read_verilog {}; hierarchy -auto-top; synth_xilinx -family {family} -flatten; tee -o {} stat",
            files.iter().map(|f| format!("\"{}\"", f.display())).collect::<Vec<_>>().join(" "),
            stat.display()
        )
    };
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner.set_message(format!("yosys: synth_xilinx -family {family}"));
    let start = std::time::Instant::now();
    let out = Command::new("yosys").arg("-q").arg("-l").arg(&log).arg("-p").arg(&script).output();
    spinner.finish_and_clear();
    let out = out.context("cannot run yosys")?;
    let seconds = start.elapsed().as_secs_f64();
    if !out.status.success() {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let errors: Vec<&str> = text.lines().filter(|l| l.contains("ERROR")).take(5).collect();
        let _ = std::fs::remove_dir_all(&work);
        bail!("yosys failed on {}:\n{}{}", project.display(), errors.join("\n"), String::from_utf8_lossy(&out.stderr));
    }
    let text = std::fs::read_to_string(&stat).context("yosys wrote no statistics")?;
    let yosys = if partitioned {
        parse_hierarchy_stat(&text).context("yosys' statistics have no design hierarchy")?
    } else {
        parse_stat(&text)
    };
    let _ = std::fs::remove_dir_all(&work);
    let t = &report["total"];
    let get = |k: &str| t[k].as_u64().unwrap_or(0);
    let estimate =
        Counts { lut: get("lut"), ff: get("ff"), carry: get("carry8"), srl: 0, dsp: get("dsp"), bram: get("bram") };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_counts_are_summed_by_kind() {
        let text =
            "   Number of cells:   10\n     CARRY8  3\n     FDRE   7\n     FDSE 1\n     LUT2  4\n     LUT6  5\n     \
                    LUT6_2 9\n     SRL16E 2\n     DSP48E2 1\n     RAMB36E2 2\n     $paramod 3\n";
        let c = parse_stat(text);
        assert_eq!(c, Counts { lut: 18, ff: 8, carry: 3, srl: 2, dsp: 1, bram: 2 });
    }

    /// yosys 0.23's `stat -top` on a top with two instances of one leaf: only the hierarchy's
    /// totals count, and an instance line named like a cell is not one.
    #[test]
    fn hierarchy_stat_counts_the_totals_only() {
        let text = "=== LUT6_top_p0 ===\n   Number of cells: 20\n     CARRY4 3\n     FDRE 9\n     LUT2 8\n\n\
                    === LUT6_top ===\n   Number of cells: 38\n     BUFG 1\n     LUT6_top_p0 2\n\n\
                    === design hierarchy ===\n\n   LUT6_top 1\n     LUT6_top_p0 2\n\n   Number of wires: 31\n\
                    \x20  Number of cells: 76\n     BUFG 1\n     CARRY4 6\n     FDRE 18\n     LUT2 16\n";
        let c = parse_hierarchy_stat(text).expect("a hierarchy");
        assert_eq!(c, Counts { lut: 16, ff: 18, carry: 6, srl: 0, dsp: 0, bram: 0 });
        assert_eq!(parse_hierarchy_stat("=== top ===\n   Number of cells: 3\n     LUT2 3\n"), None);
    }
}
