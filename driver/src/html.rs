//! `OUT/report.html`, written by `tachyon report`: one self-contained page (inline CSS and SVG,
//! no scripts, fonts, images or links outside the file) for people.
//!
//! It shows what the project folder holds: `report.json` (summary, board budget, warnings, a
//! pipeline chart of the stages each layer occupies, per-layer resource bars and bit widths), and
//! when present `synth.json` (estimate vs yosys), `sim/results.json` and `sim/axis/results.json`
//! (co-simulation), `ice40/summary.json` (bitstream) and `vivado/out/*/results.txt` (Vivado).

use crate::report::{LayerReport, ProjectResults};
use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1180px;color:#1d2330;padding:0 16px}\
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d8dde6;padding-bottom:4px}\
.sub{color:#5b6577}.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}\
.card{border:1px solid #d8dde6;border-radius:6px;padding:8px 12px;min-width:120px}.card b{display:block;font-size:18px}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eef0f4;vertical-align:middle}\
th{background:#f5f7fa;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums}\
.ok{color:#11743a;font-weight:600}.bad{color:#b3261e;font-weight:600}.warn{background:#fff4d6;border:1px solid #e8c55a;padding:6px 10px;border-radius:4px}\
details summary{cursor:pointer}code{font-size:12px}svg text{font:11px system-ui,sans-serif;fill:#1d2330}";

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A float as `report.json` writes it (`5.0`, `2.5`; `-` when not finite).
fn fnum(v: f64) -> String {
    serde_json::Number::from_f64(v).map_or_else(|| "-".into(), |n| n.to_string())
}

/// A horizontal bar of `value / max` in a `w`-pixel SVG.
fn bar(value: f64, max: f64, w: u32, color: &str) -> String {
    let len = if max > 0.0 { (value / max).clamp(0.0, 1.0) * w as f64 } else { 0.0 };
    format!(
        "<svg width=\"{w}\" height=\"10\" role=\"img\"><rect width=\"{w}\" height=\"10\" fill=\"#eef0f4\"/>\
         <rect width=\"{len:.1}\" height=\"10\" fill=\"{color}\"/></svg>"
    )
}

/// Pipeline chart: one row per layer, a box over the register stages it spans.
fn pipeline_svg(layers: &[LayerReport], latency: u32) -> String {
    let (label_w, row_h, cols) = (190.0, 18.0, latency.max(1) as f64 + 1.0);
    let col_w = ((900.0 - label_w) / cols).min(60.0);
    let h = row_h * layers.len() as f64 + 22.0;
    let width = label_w + col_w * cols + 10.0;
    let mut s = format!("<svg width=\"{width:.0}\" height=\"{h:.0}\" role=\"img\" aria-label=\"pipeline stages\">");
    for c in 0..=latency {
        let x = label_w + col_w * c as f64;
        let _ = write!(s, "<text x=\"{:.1}\" y=\"12\">{c}</text>", x + col_w / 2.0 - 3.0);
        let _ = write!(s, "<line x1=\"{x:.1}\" y1=\"16\" x2=\"{x:.1}\" y2=\"{h:.0}\" stroke=\"#eef0f4\"/>");
    }
    for (i, l) in layers.iter().enumerate() {
        let y = 18.0 + row_h * i as f64;
        let (a, b) = (l.stage_in as f64, l.stage_out as f64);
        let _ = write!(
            s,
            "<text x=\"0\" y=\"{:.1}\">{}</text>",
            y + 12.0,
            esc(&l.name.chars().take(28).collect::<String>())
        );
        let x = label_w + col_w * a + 2.0;
        let w = (col_w * (b - a + 1.0) - 4.0).max(4.0);
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" rx=\"3\" fill=\"#4c78a8\"><title>{}: stages {a}-{b}</title></rect>",
            y + 2.0,
            row_h - 5.0,
            esc(&l.name)
        );
    }
    s + "</svg>"
}

/// The page for the project in `dir`.
pub fn render(dir: &Path) -> Result<String> {
    let all = crate::report::read(dir)?;
    let p = &all.report;
    let r = &p.design;
    let t = &r.total;
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Tachyon report: {m}</title>\
         <style>{STYLE}</style></head><body>\n<h1>{m}</h1><div class=\"sub\">top module <code>{top}</code>, \
         clock {clk} ns{board}</div>\n",
        m = esc(p.title()),
        top = esc(&r.top),
        clk = fnum(r.clock_ns),
        board = p
            .board
            .as_ref()
            .map(|b| format!(", board {} (<code>{}</code>)", esc(&b.name), esc(&b.part)))
            .unwrap_or_default(),
    );
    h.push_str("<div class=\"cards\">");
    let card = |label: &str, value: String| format!("<div class=\"card\">{label}<b>{value}</b></div>");
    h.push_str(&card("latency", format!("{} cycles = {} ns", r.latency_cycles, fnum(r.latency_ns))));
    h.push_str(&card("initiation interval", format!("{} cycle(s)", r.ii_cycles)));
    h.push_str(&card("slowest stage (model)", format!("{} ns", fnum(r.critical_stage_ns))));
    h.push_str(&card("Fmax estimate", format!("{} MHz", fnum(r.fmax_mhz_estimate))));
    for (v, label) in [(t.lut, "LUT"), (t.ff, "FF"), (t.dsp, "DSP"), (t.carry8, "CARRY8")] {
        h.push_str(&card(&format!("{label} (estimate)"), v.to_string()));
    }
    let _ = write!(h, "</div><div class=\"sub\">input {} bits, output {} bits", r.input_bits, r.output_bits);
    let _ = write!(h, "; input conversion: {}", esc(&r.input_conversion));
    h.push_str("</div>\n");
    for w in p.warnings.iter().flatten() {
        let _ = writeln!(h, "<p class=\"warn\">{}</p>", esc(w));
    }
    for e in &r.epilogue {
        let _ = writeln!(h, "<p class=\"warn\">float op {} stays outside the hardware (epilogue)</p>", esc(e));
    }
    if let Some(b) = &p.board {
        h.push_str("<h2>Board budget</h2><table><tr><th>resource</th><th>estimate</th><th>part</th><th>use</th></tr>");
        for (e, part, label) in
            [(t.lut, b.lut, "LUT"), (t.ff, b.ff, "FF"), (t.dsp, b.dsp, "DSP"), (t.bram, b.bram36, "BRAM36")]
        {
            let (e, part) = (e as f64, part as f64);
            let pct = if part > 0.0 { 100.0 * e / part } else { 0.0 };
            let color = if pct > 100.0 { "#b3261e" } else { "#4c78a8" };
            let _ = write!(
                h,
                "<tr><td>{label}</td><td class=\"n\">{e}</td><td class=\"n\">{part}</td><td>{} {pct:.2} %</td></tr>",
                bar(e, part, 160, color)
            );
        }
        h.push_str("</table>\n");
    }
    let _ = write!(
        h,
        "<h2>Pipeline</h2><div class=\"sub\">register stages 0–{} spanned by each layer</div>",
        r.latency_cycles
    );
    h.push_str(&pipeline_svg(&r.layers, r.latency_cycles));
    layer_table(&mut h, &r.layers);
    widths(&mut h, &r.layers);
    synth_section(&mut h, &all);
    sim_section(&mut h, &all);
    flow_sections(&mut h, &all);
    let _ = writeln!(
        h,
        "<p class=\"sub\">Generated by Tachyon {} from <code>{}</code>; <code>tachyon report</code> rewrites this page.</p></body></html>",
        env!("CARGO_PKG_VERSION"),
        esc(&dir.join("report.json").display().to_string())
    );
    Ok(h)
}

/// Per-layer table with latency and resource bars.
fn layer_table(h: &mut String, layers: &[LayerReport]) {
    let max = |f: fn(&LayerReport) -> u64| layers.iter().map(|l| f(l) as f64).fold(0.0, f64::max);
    let (max_lut, max_ff, max_cyc) = (max(|l| l.estimate.lut), max(|l| l.estimate.ff), max(|l| l.cycles.into()));
    h.push_str(
        "<h2>Layers</h2><table><tr><th>layer</th><th>kind</th><th>ONNX nodes</th><th>outputs</th><th>width</th>\
         <th>stages</th><th>cycles</th><th>LUT</th><th>FF</th><th>DSP</th><th>CARRY8</th></tr>\n",
    );
    for l in layers {
        let e = &l.estimate;
        let nodes: Vec<String> = l.onnx_nodes.iter().map(|n| esc(n)).collect();
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}–{}</td>\
             <td class=\"n\">{}–{}</td><td>{} {}</td><td>{} {}</td><td>{} {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&l.name),
            esc(&l.kind),
            nodes.join(", "),
            l.outputs,
            l.width_min,
            l.width_max,
            l.stage_in,
            l.stage_out,
            bar(l.cycles.into(), max_cyc, 60, "#72b7b2"),
            l.cycles,
            bar(e.lut as f64, max_lut, 90, "#4c78a8"),
            e.lut,
            bar(e.ff as f64, max_ff, 70, "#f58518"),
            e.ff,
            e.dsp,
            e.carry8,
        );
    }
    h.push_str("</table>\n");
}

/// Bit widths: each layer's output types.
fn widths(h: &mut String, layers: &[LayerReport]) {
    h.push_str("<h2>Bit widths</h2><div class=\"sub\">element types <code>fixed&lt;W,I&gt;[lo,hi]</code> from interval analysis</div>");
    for l in layers {
        let shown: Vec<String> = l.output_types.iter().take(24).map(|t| esc(t)).collect();
        let more = if l.output_types.len() > shown.len() {
            format!(" … {} more", l.output_types.len() - shown.len())
        } else {
            String::new()
        };
        let _ = writeln!(
            h,
            "<details><summary><code>{}</code>: {} outputs, {}–{} bits ({} distinct types)</summary><code>{}</code>{more}</details>",
            esc(&l.name),
            l.outputs,
            l.width_min,
            l.width_max,
            l.output_types.len(),
            shown.join(" ")
        );
    }
}

/// Estimate vs yosys, after `tachyon synth`.
fn synth_section(h: &mut String, all: &ProjectResults) {
    let Some(s) = &all.synth else { return };
    let _ = write!(
        h,
        "<h2>Estimate vs yosys</h2><div class=\"sub\">yosys <code>synth_xilinx -family {}</code> ({})</div>\
         <table><tr><th></th><th>estimate</th><th>yosys</th><th>error</th><th></th></tr>",
        esc(&s.family),
        esc(&s.yosys_version)
    );
    let (e, y) = (&s.estimate, &s.yosys);
    for (e, y, label) in [
        (e.lut, y.lut, "LUT"),
        (e.ff, y.ff, "FF"),
        (e.carry, y.carry, "CARRY"),
        (e.srl, y.srl, "SRL"),
        (e.dsp, y.dsp, "DSP"),
        (e.bram, y.bram, "BRAM"),
    ] {
        let (e, y) = (e as f64, y as f64);
        let err = if y > 0.0 { format!("{:+.1} %", 100.0 * (e - y) / y) } else { "-".into() };
        let m = e.max(y);
        let _ = write!(
            h,
            "<tr><td>{label}</td><td class=\"n\">{e}</td><td class=\"n\">{y}</td><td class=\"n\">{err}</td><td>{}<br>{}</td></tr>",
            bar(e, m, 200, "#4c78a8"),
            bar(y, m, 200, "#54a24b")
        );
    }
    h.push_str("</table><div class=\"sub\">bars: estimate (blue), yosys (green)</div>\n");
}

/// Every `tachyon sim` run the report has recorded, oldest first.
fn sim_history(h: &mut String, sims: &[crate::sim::SimRecord]) {
    if sims.is_empty() {
        return;
    }
    h.push_str(
        "<h3>Co-simulation runs</h3><table><tr><th>date (UTC)</th><th>design</th><th>inputs</th><th>random</th>\
         <th>vectors</th><th>mismatches</th><th>latency</th><th>II</th><th>expected</th><th>max |Δ|</th>\
         <th>argmax agreement</th></tr>",
    );
    let opt = |v: &Option<String>| v.as_deref().map_or_else(|| "–".to_string(), |s| format!("<code>{}</code>", esc(s)));
    for r in sims {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&r.date),
            esc(r.design.as_deref().unwrap_or("rtl (verilator)")),
            if r.inputs.is_some() { format!("{} × {}", r.samples, opt(&r.inputs)) } else { "–".into() },
            r.random,
            r.vectors,
            if r.mismatches == 0 { "ok" } else { "bad" },
            r.mismatches,
            r.latency_cycles,
            r.ii_cycles,
            opt(&r.expect),
            r.max_abs_diff.map_or_else(|| "–".into(), |d| format!("{d:.6}")),
            r.argmax_agreement.map_or_else(|| "–".into(), |a| format!("{:.2} %", a * 100.0)),
        );
    }
    h.push_str("</table>");
}

/// Co-simulation of the core and of the AXI-Stream wrapper, after `tachyon sim`.
fn sim_section(h: &mut String, all: &ProjectResults) {
    h.push_str("<h2>Co-simulation</h2>");
    match &all.sim {
        Some(s) => {
            let pass = s.mismatches == 0 && s.latency_cycles == s.expected_latency_cycles;
            let _ = write!(
                h,
                "<p><span class=\"{}\">{}</span>: {} vectors through Verilator, {} mismatching the reference interpreter; \
                 measured latency {} cycles (report {}), II {}.</p>",
                if pass { "ok" } else { "bad" },
                if pass { "bit-exact" } else { "FAILED" },
                s.vectors,
                s.mismatches,
                s.latency_cycles,
                s.expected_latency_cycles,
                s.ii_cycles
            );
            for m in &s.first_mismatches {
                let _ = write!(h, "<div><code>{}</code></div>", esc(m));
            }
            if !s.layer_errors.is_empty() {
                h.push_str(
                    "<h3>Fixed point vs float, per layer</h3><div class=\"sub\">on the <code>--inputs</code> samples, \
                     against the model's float semantics</div><table><tr><th>layer</th><th>ONNX tensor</th>\
                     <th>max |Δ|</th><th>rms</th></tr>",
                );
                for e in &s.layer_errors {
                    let _ = write!(
                        h,
                        "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{:.6}</td><td>{:.6}</td></tr>",
                        esc(&e.layer),
                        esc(&e.tensor),
                        e.max_abs,
                        e.rms
                    );
                }
                h.push_str("</table>");
            }
        }
        None => h.push_str("<p class=\"sub\">not run yet: <code>tachyon sim</code></p>"),
    }
    sim_history(h, &all.report.sims);
    if let Some(s) = &all.axis {
        let pass = s.mismatches == 0 && s.received == s.vectors && s.tlast_errors == 0 && s.protocol_errors.is_empty();
        let _ = write!(
            h,
            "<p><span class=\"{}\">{}</span> AXI-Stream wrapper: {} vectors, {} received, {} mismatches, {} tlast errors, \
             {} protocol errors, with source valid {} and sink ready {} of the cycles.</p>",
            if pass { "ok" } else { "bad" },
            if pass { "exactly once, in order:" } else { "FAILED:" },
            s.vectors,
            s.received,
            s.mismatches,
            s.tlast_errors,
            s.protocol_errors.len(),
            fnum(s.p_valid),
            fnum(s.p_ready)
        );
    }
}

/// The iCE40 bitstream and Vivado runs, when present.
fn flow_sections(h: &mut String, all: &ProjectResults) {
    if let Some(s) = &all.ice40 {
        let met = s.fmax_mhz >= s.constraint_mhz;
        let _ = write!(
            h,
            "<h2>iCE40 bitstream</h2><p><code>{}</code> for {} ({}): Fmax <span class=\"{}\">{:.2} MHz</span> \
             (required {} MHz), {} bytes.</p><table><tr><th>cell</th><th>used</th><th>available</th><th></th></tr>",
            esc(&PathBuf::from(&s.bin).file_name().unwrap_or_default().to_string_lossy()),
            esc(&s.board),
            esc(&s.part),
            if met { "ok" } else { "bad" },
            s.fmax_mhz,
            fnum(s.constraint_mhz),
            s.bin_bytes
        );
        for (cell, &(used, avail)) in &s.utilization {
            if used > 0 {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td class=\"n\">{used}</td><td class=\"n\">{avail}</td><td>{}</td></tr>",
                    esc(cell),
                    bar(used as f64, avail as f64, 160, "#4c78a8")
                );
            }
        }
        h.push_str("</table>\n");
    }
    for (variant, r) in &all.vivado {
        let _ = write!(
            h,
            "<h2>Vivado ({variant})</h2><p><code>{}</code> on <code>{}</code> at {} ns: WNS {} ns, Fmax {} MHz ({}).</p>",
            esc(&r.top),
            esc(&r.part),
            r.clock_ns,
            r.wns_ns.map_or("-".into(), |v| v.to_string()),
            r.fmax_mhz.map_or("-".into(), |v| v.to_string()),
            esc(&r.status)
        );
    }
}

/// Writes `dir/report.html` (through a temporary file, so a failure leaves no partial page).
pub fn write(dir: &Path) -> Result<PathBuf> {
    let page = render(dir)?;
    let out = dir.join("report.html");
    let tmp = dir.join(".report.html.tmp");
    std::fs::write(&tmp, page).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(out)
}
