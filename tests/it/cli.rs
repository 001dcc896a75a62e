//! The `tachyon` binary itself: help on every subcommand, exit codes, inspect, boards, report.

use crate::common::*;
use std::process::Command;

fn tachyon(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tachyon")).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr))
}

#[test]
fn every_subcommand_has_help() {
    for sub in ["build", "sim", "inspect", "report", "synth", "boards"] {
        let (ok, text) = tachyon(&[sub, "--help"]);
        assert!(ok && text.contains("Usage"), "{sub} --help:\n{text}");
    }
    let (ok, text) = tachyon(&["--help"]);
    assert!(ok && text.contains("build") && text.contains("sim") && text.contains("inspect"));
}

#[test]
fn inspect_shows_graph_quantizers_and_unsupported_nodes() {
    let model = repo().join("examples/jet_mlp/jet_mlp.onnx");
    let (ok, text) = tachyon(&["inspect", model.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert!(
        text.contains("dense0_matmul: MatMul") && text.contains("Quant(") && text.contains("rounding=Floor"),
        "{text}"
    );
    assert!(text.contains("qmodel") && text.contains("requant"), "quantized model printed:\n{text}");
}

#[test]
fn build_with_board_and_report() {
    let out = scratch("cli_board");
    let model = repo().join("examples/tiny_mlp/tiny_mlp.onnx");
    let (ok, text) = tachyon(&["build", model.to_str().unwrap(), "--board", "vu13p", "-o", out.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert!(text.contains("latency") && text.contains("2.5 ns"), "board clock used:\n{text}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["board"]["part"], "xcvu13p-flga2577-2-e");
    assert_eq!(report["clock_ns"], 2.5);
    let (ok, text) = tachyon(&["report", out.to_str().unwrap()]);
    assert!(ok && text.contains("dense0_matmul") && text.contains("total: LUT"), "{text}");
    let (ok, text) = tachyon(&[
        "build",
        model.to_str().unwrap(),
        "--board",
        "nosuchboard",
        "-o",
        scratch("cli_bad").to_str().unwrap(),
    ]);
    assert!(!ok && text.contains("unknown board") && text.contains("vu13p"), "{text}");
    let (ok, text) = tachyon(&["boards"]);
    assert!(ok && text.contains("icebreaker") && text.contains("xcvu9p"), "{text}");
}

#[test]
fn errors_exit_nonzero_with_a_message() {
    let (ok, text) = tachyon(&["build", "/nonexistent/model.onnx", "-o", scratch("cli_missing").to_str().unwrap()]);
    assert!(!ok && text.contains("error:") && text.contains("model.onnx"), "{text}");
    let (ok, text) = tachyon(&["sim", "/nonexistent/project"]);
    assert!(!ok && text.contains("tachyon.json"), "{text}");
}

/// `tachyon synth` runs yosys on a project, writes synth.json with the yosys counts beside the
/// estimate, and `tachyon report` then shows both; the estimate is within 25 % on LUTs.
#[test]
fn synth_compares_yosys_with_the_estimate() {
    let out = scratch("cli_synth");
    let model = repo().join("examples/tiny_mlp/tiny_mlp.onnx");
    let (ok, text) = tachyon(&["build", model.to_str().unwrap(), "-o", out.to_str().unwrap(), "--force"]);
    assert!(ok, "{text}");
    if !have("yosys") {
        let (ok, text) = tachyon(&["synth", out.to_str().unwrap()]);
        assert!(!ok && text.contains("yosys is not installed"), "{text}");
        return;
    }
    let (ok, text) = tachyon(&["synth", out.to_str().unwrap()]);
    assert!(ok && text.contains("estimate error"), "{text}");
    let s: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("synth.json")).unwrap()).unwrap();
    let lut = s["yosys"]["lut"].as_u64().unwrap();
    assert!(lut > 100, "{s}");
    assert!(s["lut_error"].as_f64().unwrap().abs() < 0.25, "estimate within 25 %: {s}");
    let (ok, text) = tachyon(&["report", out.to_str().unwrap()]);
    assert!(ok && text.contains("yosys (xcup)") && text.contains("slowest stage"), "{text}");
    // Partitioned: the same design as part modules, within a few percent of flat synthesis.
    let (ok, text) = tachyon(&["synth", out.to_str().unwrap(), "--partitioned"]);
    assert!(ok && text.contains("partitioned ("), "{text}");
    let p: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("synth.json")).unwrap()).unwrap();
    assert!(p["partitioned"]["instances"].as_u64().unwrap() > p["partitioned"]["modules"].as_u64().unwrap(), "{p}");
    for k in ["lut", "ff"] {
        let (flat, part) = (s["yosys"][k].as_f64().unwrap(), p["yosys"][k].as_f64().unwrap());
        assert!((part - flat).abs() <= 0.03 * flat, "{k}: partitioned {part} against flat {flat}");
    }
    assert_eq!(p["yosys"]["dsp"], s["yosys"]["dsp"]);
    let (ok, text) = tachyon(&["synth", out.to_str().unwrap(), "--family", "nope"]);
    assert!(!ok && text.contains("unknown family"), "{text}");
    let (ok, text) = tachyon(&["synth", scratch("cli_synth_missing").to_str().unwrap()]);
    assert!(!ok && text.contains("report.json"), "{text}");
}

/// The commands as the README writes them — relative project paths, from the project's parent
/// and from another folder — on a project whose model file is gone after the build: a project
/// is self-contained, so nothing after `build` reads (or recompiles) the model.
#[test]
fn readme_commands_work_with_relative_paths_from_any_directory() {
    let root = scratch("cli_relative");
    std::fs::create_dir_all(root.join("models")).unwrap();
    std::fs::create_dir_all(root.join("elsewhere")).unwrap();
    std::fs::copy(repo().join("examples/tiny_mlp/tiny_mlp.onnx"), root.join("models/tiny.onnx")).unwrap();
    let run = |cwd: &str, args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_tachyon")).args(args).current_dir(root.join(cwd)).output().unwrap();
        let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "tachyon {} (in {cwd}):\n{text}", args.join(" "));
        text
    };
    let text = run(".", &["build", "models/tiny.onnx", "--clock-ns", "5", "-o", "out"]);
    assert!(text.contains("built"), "{text}");
    std::fs::remove_file(root.join("models/tiny.onnx")).unwrap();
    assert!(root.join("out/model.onnx").is_file() && root.join("out/qmodel.json").is_file());
    let text = run(".", &["report", "out"]);
    assert!(text.contains("latency") && text.contains("report.html"), "{text}");
    let text = run("elsewhere", &["report", "../out"]);
    assert!(text.contains("latency"), "{text}");
    let text = run(".", &["vivado", "out"]);
    assert!(text.contains("vivado") && text.contains("build.tcl"), "{text}");
    if have("verilator") {
        let text = run(".", &["sim", "out", "--random", "40"]);
        assert!(text.contains("mismatches   0"), "{text}");
        let text = run("elsewhere", &["sim", "../out", "--random", "40", "--seed", "3"]);
        assert!(text.contains("mismatches   0"), "{text}");
        let text = run("elsewhere", &["sim", "../out", "--axis", "--random", "30"]);
        assert!(text.contains("mismatches   0"), "{text}");
    }
    if have("yosys") {
        let text = run("elsewhere", &["synth", "../out"]);
        assert!(text.contains("yosys") && text.contains("synth.json"), "{text}");
    }
    // Co-simulation with the model's own float samples compares each layer with the model's
    // float semantics, read from the project's copy of the model.
    if have("verilator") {
        let x = repo().join("examples/tiny_mlp/tiny_mlp.input.npy");
        let text = run("elsewhere", &["sim", "../out", "--inputs", x.to_str().unwrap()]);
        assert!(text.contains("mismatches   0") && text.contains("fixed vs float per layer"), "{text}");
    }
}

/// A long run (`--random` at the optimized-build threshold) builds the harness at `-O1` in its
/// own object folder and is bit-exact like any other.
#[test]
fn long_runs_use_the_optimized_harness() {
    if !have("verilator") {
        return;
    }
    let out = scratch("cli_long_run");
    let model = repo().join("examples/tiny_mlp/tiny_mlp.onnx");
    let (ok, text) = tachyon(&["build", model.to_str().unwrap(), "-o", out.to_str().unwrap(), "--force"]);
    assert!(ok, "{text}");
    let n = tachyon_testbenches::OPTIMIZE_FROM_VECTORS.to_string();
    let (ok, text) = tachyon(&["sim", out.to_str().unwrap(), "--random", &n]);
    assert!(ok && text.contains("mismatches   0"), "{text}");
    assert!(out.join("sim/obj_dir_O1/tachyon_cosim").is_file(), "{text}");
    assert!(!out.join("sim/obj_dir").exists(), "only the optimized build ran: {text}");
}
