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
    let all = tachyon_driver::report::read(&a.project)?;
    let r = &all.report.design;
    say!("{}: top {}, clock {} ns", all.report.title(), r.top, r.clock_ns);
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
    for l in &r.layers {
        // `stream/k`: one output pixel every k cycles.
        let style = match (l.style.as_str(), l.pixel_interval) {
            ("stream", Some(k)) => format!("stream/{k}"),
            (s, _) => s.to_string(),
        };
        say!(
            "{:<28} {:<10} {:<9} {:>5} {:>6} {:>7} {:>8} {:>7} {:>4}",
            l.name,
            l.kind,
            style,
            l.outputs,
            format!("{}-{}", l.width_min, l.width_max),
            format!("{}-{}", l.stage_in, l.stage_out),
            l.estimate.lut,
            l.estimate.ff,
            l.estimate.dsp
        );
    }
    let t = &r.total;
    say!("total: LUT {} FF {} CARRY8 {} DSP {}", t.lut, t.ff, t.carry8, t.dsp);
    let f = |v: f64| serde_json::Number::from_f64(v).map_or_else(|| "-".into(), |n| n.to_string());
    say!(
        "latency {} cycles = {} ns at {} ns, II {} ({} style, {} inferences/µs); slowest stage ≈ {} ns by the delay model",
        r.latency_cycles,
        f(r.latency_ns),
        f(r.clock_ns),
        r.ii_cycles,
        r.style,
        f(r.throughput_per_us),
        f(r.critical_stage_ns)
    );
    if let Some(s) = &all.synth {
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
    if let Some(s) = &all.sim {
        say!(
            "co-simulation: {} vectors, {} mismatches, latency {} cycles, II {}",
            s.vectors,
            s.mismatches,
            s.latency_cycles,
            s.ii_cycles
        );
    }
    for w in all.report.warnings.iter().flatten() {
        say!("warning: {w}");
    }
    if !all.report.sims.is_empty() {
        say!("co-simulation runs ({}):", all.report.sims.len());
        for r in &all.report.sims {
            let on = match (&r.inputs, r.random) {
                (Some(i), 0) => format!("{} samples of {i}", r.samples),
                (Some(i), n) => format!("{} samples of {i} + {n} random", r.samples),
                (None, n) => format!("{n} random"),
            };
            let vs = match (&r.expect, r.max_abs_diff, r.argmax_agreement) {
                (Some(e), Some(d), Some(a)) => format!(", vs {e}: max |Δ| {d:.6}, argmax agreement {:.2} %", a * 100.0),
                _ => String::new(),
            };
            let design = r.design.as_ref().map_or_else(String::new, |d| format!(" [{d}]"));
            say!(
                "  {}  {} vectors ({on}), {} mismatches, latency {}, II {}{vs}{design}",
                r.date,
                r.vectors,
                r.mismatches,
                r.latency_cycles,
                r.ii_cycles
            );
        }
    }
    if let Some(s) = &all.axis {
        say!(
            "AXI-Stream: {} vectors, {} received, {} mismatches, {} protocol errors",
            s.vectors,
            s.received,
            s.mismatches,
            s.protocol_errors.len()
        );
    }
    if let Some(s) = &all.ice40 {
        let lc = s.utilization.get("ICESTORM_LC").copied().unwrap_or_default();
        say!(
            "iCE40 ({}): Fmax {:.2} MHz (required {} MHz), logic cells {} of {}",
            s.board,
            s.fmax_mhz,
            f(s.constraint_mhz),
            lc.0,
            lc.1
        );
    }
    let html = tachyon_driver::html::write(&a.project)?;
    say!("wrote {}", html.display());
    Ok(())
}
