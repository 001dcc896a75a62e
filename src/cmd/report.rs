//! `tachyon report`: print a project's report as a table (with yosys figures once `tachyon synth` has run) and write

use anyhow::Result;
use std::path::PathBuf;

/// Print a project's report as a table (with yosys figures once `tachyon synth` has run) and write
/// OUT/report.html (self-contained: layers, pipeline, widths, estimate vs yosys, co-simulation).
#[derive(clap::Args)]
pub struct Args {
    /// Project folder made by `tachyon build`.
    pub project: PathBuf,
}

/// Runs the command.
pub fn run(a: Args) -> Result<()> {
    let Args { project } = a;
    let text = std::fs::read_to_string(project.join("report.json"))
        .map_err(|e| anyhow::anyhow!("{}/report.json: {e}; run tachyon build first", project.display()))?;
    let r: serde_json::Value = serde_json::from_str(&text)?;
    say!(
        "{:<28} {:<10} {:<9} {:>5} {:>6} {:>7} {:>8} {:>7} {:>4}",
        "layer",
        "kind",
        "style",
        "outs",
        "width",
        "stages",
        "LUT",
        "FF",
        "DSP"
    );
    for l in r["layers"].as_array().into_iter().flatten() {
        // `stream/k`: one output pixel every k cycles.
        let style = match (l["style"].as_str(), l["pixel_interval"].as_u64()) {
            (Some("stream"), Some(k)) => format!("stream/{k}"),
            (Some(s), _) => s.to_string(),
            _ => String::new(),
        };
        say!(
            "{:<28} {:<10} {:<9} {:>5} {:>6} {:>7} {:>8} {:>7} {:>4}",
            l["name"].as_str().unwrap_or(""),
            l["kind"].as_str().unwrap_or(""),
            style,
            l["outputs"].to_string(),
            format!("{}-{}", l["width_min"], l["width_max"]),
            format!("{}-{}", l["stage_in"], l["stage_out"]),
            l["estimate"]["lut"].to_string(),
            l["estimate"]["ff"].to_string(),
            l["estimate"]["dsp"].to_string()
        );
    }
    let t = &r["total"];
    say!("total: LUT {} FF {} CARRY8 {} DSP {}", t["lut"], t["ff"], t["carry8"], t["dsp"]);
    say!(
            "latency {} cycles = {} ns at {} ns, II {} ({} style, {} inferences/µs); slowest stage ≈ {} ns by the delay model",
            r["latency_cycles"],
            r["latency_ns"],
            r["clock_ns"],
            r["ii_cycles"],
            r["style"].as_str().unwrap_or("parallel"),
            r["throughput_per_us"],
            r["critical_stage_ns"]
        );
    if let Ok(text) = std::fs::read_to_string(project.join("synth.json")) {
        let s: tachyon_driver::synth::SynthSummary = serde_json::from_str(&text)?;
        say!(
            "yosys ({}): LUT {} FF {} CARRY {} SRL {} DSP {} BRAM {} — estimate error LUT {:+.1} %, FF {:+.1} %",
            s.family,
            s.yosys.lut,
            s.yosys.ff,
            s.yosys.carry,
            s.yosys.srl,
            s.yosys.dsp,
            s.yosys.bram,
            s.lut_error * 100.0,
            s.ff_error * 100.0
        );
    }
    let read =
        |p: PathBuf| -> Option<serde_json::Value> { serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok() };
    if let Some(s) = read(project.join("sim/results.json")) {
        say!(
            "co-simulation: {} vectors, {} mismatches, latency {} cycles, II {}",
            s["vectors"],
            s["mismatches"],
            s["latency_cycles"],
            s["ii_cycles"]
        );
    }
    if let Some(s) = read(project.join("sim/axis/results.json")) {
        say!(
            "AXI-Stream: {} vectors, {} received, {} mismatches, {} protocol errors",
            s["vectors"],
            s["received"],
            s["mismatches"],
            s["protocol_errors"].as_array().map_or(0, |a| a.len())
        );
    }
    if let Some(s) = read(project.join("ice40/summary.json")) {
        say!(
            "iCE40 ({}): Fmax {:.2} MHz (required {} MHz), logic cells {} of {}",
            s["board"].as_str().unwrap_or(""),
            s["fmax_mhz"].as_f64().unwrap_or(0.0),
            s["constraint_mhz"],
            s["utilization"]["ICESTORM_LC"][0],
            s["utilization"]["ICESTORM_LC"][1]
        );
    }
    let html = tachyon_driver::html::write(&project)?;
    say!("wrote {}", html.display());
    Ok(())
}
