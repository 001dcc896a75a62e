//! Planted bugs: the co-simulation must catch a wrong design. Each test builds the shipped tiny
//! MLP, alters one thing in its Verilog the way a compiler bug would — a constant, an adder's
//! operation, a pipeline register, the valid chain — and requires `tachyon sim` to report
//! mismatches or a latency error and to exit non-zero. The unaltered design passes the same
//! run, so the check is what fails, not the set-up.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use tachyon_driver::project::build;

/// The tiny MLP built into a fresh scratch folder.
fn tiny(name: &str) -> PathBuf {
    let out = scratch(&format!("planted_{name}"));
    build(&build_options(repo().join("examples/tiny_mlp/tiny_mlp.onnx"), &out)).unwrap();
    out
}

/// Rewrites the first line of the design for which `edit` returns a replacement.
fn plant(project: &Path, what: &str, edit: impl Fn(&str) -> Option<String>) {
    let path = project.join("rtl/tachyon_top.v");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut done = false;
    let lines: Vec<String> = text
        .lines()
        .map(|l| match (done, edit(l)) {
            (false, Some(new)) => {
                done = true;
                new
            }
            _ => l.to_string(),
        })
        .collect();
    assert!(done, "no line to plant '{what}' in {}", path.display());
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

/// `tachyon sim --no-lint` on 300 random vectors: (exit status success, printed text, summary).
/// A planted bug can leave a signal unread (a stuck register's input, a skipped valid stage),
/// which the harness build's `-Wall` would report before any vector runs: these tests are about
/// what the co-simulation itself catches.
fn sim(project: &Path) -> (bool, String, tachyon_driver::sim::SimSummary) {
    let run = Command::new(env!("CARGO_BIN_EXE_tachyon"))
        .args(["sim", project.to_str().unwrap(), "--random", "300", "--no-lint"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout).to_string() + &String::from_utf8_lossy(&run.stderr);
    let summary = serde_json::from_str(&std::fs::read_to_string(project.join("sim/results.json")).unwrap())
        .unwrap_or_else(|e| panic!("sim/results.json: {e}\n{text}"));
    (run.status.success(), text, summary)
}

/// Plants `edit` and requires the co-simulation to fail.
fn caught(name: &str, edit: impl Fn(&str) -> Option<String>) {
    if !have("verilator") {
        return;
    }
    let p = tiny(name);
    let (ok, text, s) = sim(&p);
    assert!(ok && s.mismatches == 0, "the unaltered design must pass:\n{text}");
    plant(&p, name, edit);
    let (ok, text, s) = sim(&p);
    assert!(!ok, "{name}: `tachyon sim` exited 0 on a wrong design:\n{text}");
    assert!(
        s.mismatches > 0 || s.latency_cycles != s.expected_latency_cycles,
        "{name}: no mismatch and no latency error reported:\n{text}"
    );
}

/// `assign const_N = W'hH;` with a non-zero constant: its top set bit cleared (low bits can be
/// shifted out downstream, and then a flip changes nothing).
#[test]
fn a_wrong_constant_is_caught() {
    caught("constant", |l| {
        let rest = l.trim().strip_prefix("assign const_")?;
        let (name, value) = rest.split_once(" = ")?;
        if name == "0" {
            return None;
        }
        let (width, hex) = value.strip_suffix(';')?.split_once("'h")?;
        let v = u128::from_str_radix(hex, 16).ok()?;
        let top = 1u128 << (127 - v.leading_zeros());
        Some(format!("    assign const_{name} = {width}'h{:x};", v ^ top))
    });
}

/// The first two-operand adder outside the synthesis-only branches subtracts instead.
#[test]
fn a_wrong_adder_operation_is_caught() {
    caught("adder", |l| {
        let t = l.trim();
        let is_add = t.starts_with("assign ") && t.contains("_add") && t.matches(" + ").count() == 1;
        is_add.then(|| l.replacen(" + ", " - ", 1))
    });
}

/// A pipeline register that keeps its old value instead of taking the new one.
#[test]
fn a_stuck_pipeline_register_is_caught() {
    caught("register", |l| {
        let (lhs, rhs) = l.trim().strip_suffix(';')?.split_once(" <= ")?;
        (lhs.ends_with("_d1") && !lhs.starts_with("valid"))
            .then(|| format!("        {lhs} <= {lhs};"))
            .filter(|_| rhs != lhs)
    });
}

/// The output valid taken one register early: the measured latency no longer matches.
#[test]
fn a_missing_pipeline_stage_is_caught() {
    caught("stage", |l| {
        let n: u32 = l.trim().strip_prefix("assign out_valid = valid_d")?.strip_suffix(';')?.parse().ok()?;
        (n > 1).then(|| format!("    assign out_valid = valid_d{};", n - 1))
    });
}

/// `tachyon sim`'s harness build is the design's `-Wall` lint: an unread signal added to the
/// Verilog fails it, naming the warning and the build log; `--no-lint` then simulates the
/// (still correct) design with 0 mismatches.
#[test]
fn a_lint_warning_fails_the_harness_build() {
    if !have("verilator") {
        return;
    }
    let p = tiny("lint");
    let s = tachyon_driver::sim::run(&p, &tachyon_driver::sim::SimOptions { random: Some(50), ..Default::default() })
        .unwrap();
    assert!(s.linted && s.mismatches == 0, "{s:?}");
    plant(&p, "unread wire", |l| {
        let name = l.trim().strip_prefix("reg ")?.split_once(';')?.0.rsplit(' ').next()?.to_string();
        Some(format!("{l}\n    wire planted_spare = |{name};"))
    });
    let run = Command::new(env!("CARGO_BIN_EXE_tachyon"))
        .args(["sim", p.to_str().unwrap(), "--random", "50"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout).to_string() + &String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "an unread signal passed the harness build:\n{text}");
    assert!(text.contains("UNUSEDSIGNAL") && text.contains("planted_spare") && text.contains("build.log"), "{text}");
    assert!(text.contains("--no-lint"), "the error says how to simulate hand-edited RTL:\n{text}");
    let (ok, text, s) = sim(&p);
    assert!(ok && s.mismatches == 0 && !s.linted, "--no-lint:\n{text}");
}
