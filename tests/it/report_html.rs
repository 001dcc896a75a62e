//! `tachyon report` writes `report.html`: self-contained (no network, no external files), with
//! every layer, the pipeline chart, bit widths, the board budget, and — once the files exist —
//! estimate vs yosys and the co-simulation results. Rendered by headless Chromium when present.

use crate::common::*;
use std::path::Path;
use std::process::Command;

fn tachyon(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tachyon")).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr))
}

/// Nothing in the page may make a browser fetch anything.
fn assert_self_contained(html: &str) {
    let lower = html.to_lowercase();
    for bad in ["http://", "https://", "src=", "href=", "<script", "<link", "<img", "<iframe", "@import", "url("] {
        assert!(!lower.contains(bad), "report.html contains {bad:?}");
    }
    for tag in ["svg", "table", "details", "tr"] {
        let open = lower.matches(&format!("<{tag}>")).count() + lower.matches(&format!("<{tag} ")).count();
        let close = lower.matches(&format!("</{tag}>")).count();
        assert_eq!(open, close, "<{tag}> opened {open} times, closed {close} times");
    }
    assert!(lower.starts_with("<!doctype html>") && lower.trim_end().ends_with("</html>"));
}

fn write_json(path: &Path, v: serde_json::Value) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

#[test]
fn report_html_is_self_contained_and_complete() {
    let out = scratch("report_html");
    let model = repo().join("examples/jet_mlp/jet_mlp.onnx");
    let (ok, text) = tachyon(&["build", model.to_str().unwrap(), "--board", "zcu102", "-o", out.to_str().unwrap()]);
    assert!(ok, "{text}");
    let (ok, text) = tachyon(&["report", out.to_str().unwrap()]);
    assert!(ok && text.contains("report.html"), "{text}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_self_contained(&html);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let layers = report["layers"].as_array().unwrap();
    assert!(layers.len() >= 8);
    for l in layers {
        let name = l["name"].as_str().unwrap();
        assert!(html.contains(&format!("<code>{name}</code>")), "layer {name} missing");
        let t = l["output_types"][0].as_str().unwrap().replace('<', "&lt;").replace('>', "&gt;");
        assert!(html.contains(&t), "width {t} of {name} missing");
    }
    assert!(html.contains("aria-label=\"pipeline stages\"") && html.contains("Board budget"));
    assert!(html.contains("xczu9eg-ffvb1156-2-e"));
    assert!(html.contains("not run yet") && !html.contains("Estimate vs yosys"));

    // The sections of later commands, from their result files.
    write_json(
        &out.join("synth.json"),
        serde_json::json!({"family": "xcup", "yosys_version": "Yosys 0.23", "seconds": 1.0,
            "yosys": {"lut": 1000, "ff": 500, "carry": 90, "srl": 3, "dsp": 0, "bram": 0},
            "estimate": {"lut": 1100, "ff": 480, "carry": 95, "srl": 0, "dsp": 0, "bram": 0},
            "lut_error": 0.1, "ff_error": -0.05}),
    );
    write_json(
        &out.join("sim/results.json"),
        serde_json::json!({"vectors": 1256, "mismatches": 0, "first_mismatches": [], "latency_cycles": 9,
            "expected_latency_cycles": 9, "ii_cycles": 1, "build_seconds": 9.0, "run_seconds": 0.1}),
    );
    write_json(
        &out.join("sim/axis/results.json"),
        serde_json::json!({"p_valid": 0.7, "p_ready": 0.5, "vectors": 300, "received": 300, "mismatches": 0,
            "first_mismatches": [], "tlast_errors": 0, "protocol_errors": [], "min_accept_gap": 1,
            "max_accept_gap": 9, "cycles": 700}),
    );
    let (ok, text) = tachyon(&["report", out.to_str().unwrap()]);
    assert!(ok, "{text}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert_self_contained(&html);
    assert!(html.contains("Estimate vs yosys") && html.contains("+10.0 %"), "estimate vs yosys");
    assert!(html.contains("bit-exact") && html.contains("1256 vectors"), "co-simulation");
    assert!(html.contains("exactly once, in order") && html.contains("AXI-Stream"), "AXI-Stream co-simulation");
    assert!(!out.join(".report.html.tmp").exists());

    // Rendered by headless Chromium with the network refused, when a browser is installed.
    let script = repo().join("scripts/report_screenshot.sh");
    let shot = Command::new("bash").arg(&script).arg(&out).output().unwrap();
    match shot.status.code() {
        Some(0) => assert!(std::fs::metadata(out.join("report.png")).unwrap().len() > 10_000),
        Some(2) => skip_note!("skipped: no headless Chromium for the screenshot (scripts/report_screenshot.sh)"),
        _ => panic!("report_screenshot.sh:\n{}", String::from_utf8_lossy(&shot.stderr)),
    }
}

#[test]
fn report_of_a_missing_project_says_what_to_do() {
    let (ok, text) = tachyon(&["report", "/nonexistent/project"]);
    assert!(!ok && text.contains("report.json") && text.contains("tachyon build"), "{text}");
}
