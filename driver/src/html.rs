//! `OUT/report.html`, written by `tachyon report`: one self-contained page (inline CSS and SVG,
//! no scripts, fonts, images or links outside the file) for people.
//!
//! It shows what the project folder holds: `report.json` (summary, board budget, warnings, a
//! pipeline chart of the stages each layer occupies, per-layer resource bars and bit widths), and
//! when present `synth.json` (estimate vs yosys), `sim/results.json` and `sim/axis/results.json`
//! (co-simulation), `ice40/summary.json` (bitstream) and `vivado/out/*/results.txt` (Vivado).

use anyhow::{Context, Result};
use serde_json::Value;
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

/// A JSON number or string as text (`-` when absent).
fn num(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => esc(s),
        _ => "-".into(),
    }
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
fn pipeline_svg(layers: &[Value], latency: u64) -> String {
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
        let (a, b) = (l["stage_in"].as_u64().unwrap_or(0) as f64, l["stage_out"].as_u64().unwrap_or(0) as f64);
        let name = l["name"].as_str().unwrap_or("");
        let _ =
            write!(s, "<text x=\"0\" y=\"{:.1}\">{}</text>", y + 12.0, esc(&name.chars().take(28).collect::<String>()));
        let x = label_w + col_w * a + 2.0;
        let w = (col_w * (b - a + 1.0) - 4.0).max(4.0);
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{w:.1}\" height=\"{:.1}\" rx=\"3\" fill=\"#4c78a8\"><title>{}: stages {a}-{b}</title></rect>",
            y + 2.0,
            row_h - 5.0,
            esc(name)
        );
    }
    s + "</svg>"
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// The page for the project in `dir`.
pub fn render(dir: &Path) -> Result<String> {
    let path = dir.join("report.json");
    let r: Value = serde_json::from_str(
        &std::fs::read_to_string(&path).with_context(|| format!("{}: run tachyon build first", path.display()))?,
    )
    .with_context(|| format!("{} is malformed", path.display()))?;
    let layers: Vec<Value> = r["layers"].as_array().cloned().unwrap_or_default();
    let t = &r["total"];
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Tachyon report: {m}</title>\
         <style>{STYLE}</style></head><body>\n<h1>{m}</h1><div class=\"sub\">top module <code>{top}</code>, \
         clock {clk} ns{board}</div>\n",
        m = esc(r["model"].as_str().unwrap_or("model")),
        top = esc(r["top"].as_str().unwrap_or("")),
        clk = num(&r["clock_ns"]),
        board = r["board"]["name"]
            .as_str()
            .map(|b| format!(", board {} (<code>{}</code>)", esc(b), num(&r["board"]["part"])))
            .unwrap_or_default(),
    );
    h.push_str("<div class=\"cards\">");
    let card = |label: &str, value: String| format!("<div class=\"card\">{label}<b>{value}</b></div>");
    h.push_str(&card("latency", format!("{} cycles = {} ns", num(&r["latency_cycles"]), num(&r["latency_ns"]))));
    h.push_str(&card("initiation interval", format!("{} cycle(s)", num(&r["ii_cycles"]))));
    h.push_str(&card("slowest stage (model)", format!("{} ns", num(&r["critical_stage_ns"]))));
    h.push_str(&card("Fmax estimate", format!("{} MHz", num(&r["fmax_mhz_estimate"]))));
    for (k, label) in [("lut", "LUT"), ("ff", "FF"), ("dsp", "DSP"), ("carry8", "CARRY8")] {
        h.push_str(&card(&format!("{label} (estimate)"), num(&t[k])));
    }
    let _ = write!(
        h,
        "</div><div class=\"sub\">input {} bits, output {} bits",
        num(&r["input_bits"]),
        num(&r["output_bits"])
    );
    if let Some(c) = r["input_conversion"].as_str() {
        let _ = write!(h, "; input conversion: {}", esc(c));
    }
    h.push_str("</div>\n");
    for w in r["warnings"].as_array().into_iter().flatten() {
        let _ = writeln!(h, "<p class=\"warn\">{}</p>", esc(w.as_str().unwrap_or("")));
    }
    for e in r["epilogue"].as_array().into_iter().flatten() {
        let _ = writeln!(h, "<p class=\"warn\">float op {} stays outside the hardware (epilogue)</p>", num(e));
    }
    if r["board"].is_object() {
        h.push_str("<h2>Board budget</h2><table><tr><th>resource</th><th>estimate</th><th>part</th><th>use</th></tr>");
        for (k, bk, label) in
            [("lut", "lut", "LUT"), ("ff", "ff", "FF"), ("dsp", "dsp", "DSP"), ("bram", "bram36", "BRAM36")]
        {
            let (e, p) = (t[k].as_f64().unwrap_or(0.0), r["board"][bk].as_f64().unwrap_or(0.0));
            let pct = if p > 0.0 { 100.0 * e / p } else { 0.0 };
            let color = if pct > 100.0 { "#b3261e" } else { "#4c78a8" };
            let _ = write!(
                h,
                "<tr><td>{label}</td><td class=\"n\">{e}</td><td class=\"n\">{p}</td><td>{} {pct:.2} %</td></tr>",
                bar(e, p, 160, color)
            );
        }
        h.push_str("</table>\n");
    }
    let _ = write!(
        h,
        "<h2>Pipeline</h2><div class=\"sub\">register stages 0–{} spanned by each layer</div>",
        num(&r["latency_cycles"])
    );
    h.push_str(&pipeline_svg(&layers, r["latency_cycles"].as_u64().unwrap_or(0)));
    layer_table(&mut h, &layers);
    widths(&mut h, &layers);
    extras(&mut h, dir);
    let _ = writeln!(
        h,
        "<p class=\"sub\">Generated by Tachyon {} from <code>{}</code>; <code>tachyon report</code> rewrites this page.</p></body></html>",
        env!("CARGO_PKG_VERSION"),
        esc(&dir.join("report.json").display().to_string())
    );
    Ok(h)
}

/// Per-layer table with latency and resource bars.
fn layer_table(h: &mut String, layers: &[Value]) {
    let max = |k: &str| layers.iter().map(|l| l["estimate"][k].as_f64().unwrap_or(0.0)).fold(0.0, f64::max);
    let (max_lut, max_ff, max_cyc) =
        (max("lut"), max("ff"), layers.iter().map(|l| l["cycles"].as_f64().unwrap_or(0.0)).fold(0.0, f64::max));
    h.push_str(
        "<h2>Layers</h2><table><tr><th>layer</th><th>kind</th><th>ONNX nodes</th><th>outputs</th><th>width</th>\
         <th>stages</th><th>cycles</th><th>LUT</th><th>FF</th><th>DSP</th><th>CARRY8</th></tr>\n",
    );
    for l in layers {
        let e = &l["estimate"];
        let nodes: Vec<String> = l["onnx_nodes"].as_array().into_iter().flatten().map(num).collect();
        let _ = writeln!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}–{}</td>\
             <td class=\"n\">{}–{}</td><td>{} {}</td><td>{} {}</td><td>{} {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            num(&l["name"]),
            num(&l["kind"]),
            nodes.join(", "),
            num(&l["outputs"]),
            num(&l["width_min"]),
            num(&l["width_max"]),
            num(&l["stage_in"]),
            num(&l["stage_out"]),
            bar(l["cycles"].as_f64().unwrap_or(0.0), max_cyc, 60, "#72b7b2"),
            num(&l["cycles"]),
            bar(e["lut"].as_f64().unwrap_or(0.0), max_lut, 90, "#4c78a8"),
            num(&e["lut"]),
            bar(e["ff"].as_f64().unwrap_or(0.0), max_ff, 70, "#f58518"),
            num(&e["ff"]),
            num(&e["dsp"]),
            num(&e["carry8"]),
        );
    }
    h.push_str("</table>\n");
}

/// Bit widths: each layer's output types.
fn widths(h: &mut String, layers: &[Value]) {
    h.push_str("<h2>Bit widths</h2><div class=\"sub\">element types <code>fixed&lt;W,I&gt;[lo,hi]</code> from interval analysis</div>");
    for l in layers {
        let types: Vec<String> = l["output_types"].as_array().into_iter().flatten().map(num).collect();
        let shown: Vec<String> = types.iter().take(24).cloned().collect();
        let more =
            if types.len() > shown.len() { format!(" … {} more", types.len() - shown.len()) } else { String::new() };
        let _ = writeln!(
            h,
            "<details><summary><code>{}</code>: {} outputs, {}–{} bits ({} distinct types)</summary><code>{}</code>{more}</details>",
            num(&l["name"]),
            num(&l["outputs"]),
            num(&l["width_min"]),
            num(&l["width_max"]),
            types.len(),
            shown.join(" ")
        );
    }
}

/// Sections for the files later commands leave in the project.
fn extras(h: &mut String, dir: &Path) {
    if let Some(s) = read_json(&dir.join("synth.json")) {
        let _ = write!(
            h,
            "<h2>Estimate vs yosys</h2><div class=\"sub\">yosys <code>synth_xilinx -family {}</code> ({})</div>\
             <table><tr><th></th><th>estimate</th><th>yosys</th><th>error</th><th></th></tr>",
            num(&s["family"]),
            num(&s["yosys_version"])
        );
        for (k, label) in
            [("lut", "LUT"), ("ff", "FF"), ("carry", "CARRY"), ("srl", "SRL"), ("dsp", "DSP"), ("bram", "BRAM")]
        {
            let (e, y) = (s["estimate"][k].as_f64().unwrap_or(0.0), s["yosys"][k].as_f64().unwrap_or(0.0));
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
    h.push_str("<h2>Co-simulation</h2>");
    match read_json(&dir.join("sim").join("results.json")) {
        Some(s) => {
            let pass = s["mismatches"].as_u64() == Some(0) && s["latency_cycles"] == s["expected_latency_cycles"];
            let _ = write!(
                h,
                "<p><span class=\"{}\">{}</span>: {} vectors through Verilator, {} mismatching the reference interpreter; \
                 measured latency {} cycles (report {}), II {}.</p>",
                if pass { "ok" } else { "bad" },
                if pass { "bit-exact" } else { "FAILED" },
                num(&s["vectors"]),
                num(&s["mismatches"]),
                num(&s["latency_cycles"]),
                num(&s["expected_latency_cycles"]),
                num(&s["ii_cycles"])
            );
            for m in s["first_mismatches"].as_array().into_iter().flatten() {
                let _ = write!(h, "<div><code>{}</code></div>", num(m));
            }
            let errors = s["layer_errors"].as_array().cloned().unwrap_or_default();
            if !errors.is_empty() {
                h.push_str(
                    "<h3>Fixed point vs float, per layer</h3><div class=\"sub\">on the <code>--inputs</code> samples, \
                     against the model's float semantics</div><table><tr><th>layer</th><th>ONNX tensor</th>\
                     <th>max |Δ|</th><th>rms</th></tr>",
                );
                for e in &errors {
                    let _ = write!(
                        h,
                        "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{:.6}</td><td>{:.6}</td></tr>",
                        num(&e["layer"]),
                        num(&e["tensor"]),
                        e["max_abs"].as_f64().unwrap_or(0.0),
                        e["rms"].as_f64().unwrap_or(0.0)
                    );
                }
                h.push_str("</table>");
            }
        }
        None => h.push_str("<p class=\"sub\">not run yet: <code>tachyon sim</code></p>"),
    }
    if let Some(s) = read_json(&dir.join("sim").join("axis").join("results.json")) {
        let pass = s["mismatches"].as_u64() == Some(0)
            && s["received"] == s["vectors"]
            && s["tlast_errors"].as_u64() == Some(0)
            && s["protocol_errors"].as_array().is_some_and(|a| a.is_empty());
        let _ = write!(
            h,
            "<p><span class=\"{}\">{}</span> AXI-Stream wrapper: {} vectors, {} received, {} mismatches, {} tlast errors, \
             {} protocol errors, with source valid {} and sink ready {} of the cycles.</p>",
            if pass { "ok" } else { "bad" },
            if pass { "exactly once, in order:" } else { "FAILED:" },
            num(&s["vectors"]),
            num(&s["received"]),
            num(&s["mismatches"]),
            num(&s["tlast_errors"]),
            s["protocol_errors"].as_array().map_or(0, |a| a.len()),
            num(&s["p_valid"]),
            num(&s["p_ready"])
        );
    }
    if let Some(s) = read_json(&dir.join("ice40").join("summary.json")) {
        let met = s["fmax_mhz"].as_f64() >= s["constraint_mhz"].as_f64();
        let _ = write!(
            h,
            "<h2>iCE40 bitstream</h2><p><code>{}</code> for {} ({}): Fmax <span class=\"{}\">{:.2} MHz</span> \
             (required {} MHz), {} bytes.</p><table><tr><th>cell</th><th>used</th><th>available</th><th></th></tr>",
            esc(&PathBuf::from(s["bin"].as_str().unwrap_or("")).file_name().unwrap_or_default().to_string_lossy()),
            num(&s["board"]),
            num(&s["part"]),
            if met { "ok" } else { "bad" },
            s["fmax_mhz"].as_f64().unwrap_or(0.0),
            num(&s["constraint_mhz"]),
            num(&s["bin_bytes"])
        );
        for (cell, u) in s["utilization"].as_object().into_iter().flatten() {
            let (used, avail) = (u[0].as_f64().unwrap_or(0.0), u[1].as_f64().unwrap_or(0.0));
            if used > 0.0 {
                let _ = write!(
                    h,
                    "<tr><td>{}</td><td class=\"n\">{used}</td><td class=\"n\">{avail}</td><td>{}</td></tr>",
                    esc(cell),
                    bar(used, avail, 160, "#4c78a8")
                );
            }
        }
        h.push_str("</table>\n");
    }
    for variant in ["core", "axis", "board"] {
        let p = dir.join("vivado").join("out").join(variant).join("results.txt");
        if let Ok(text) = std::fs::read_to_string(&p) {
            let r = tachyon_flows::vivado::parse_results(&text);
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
