//! Golden snapshots (insta) of `report.json` for a few shipped designs and of the text of the
//! main user errors, as the CLI prints them. A change is re-blessed on purpose:
//! `INSTA_UPDATE=always cargo test -p tachyon --test it snapshots`, then review the diff.

use crate::common::*;
use std::process::Command;
use tachyon_driver::report::ProjectReport;
use tachyon_quantize::Config;

fn report(model: &str, clock: f64, config: &str) -> String {
    let config = if config.is_empty() { Config::default() } else { Config::parse(config).unwrap() };
    let b = tachyon_driver::project::compile(&repo().join(model), &config, clock, "tachyon_top", None).unwrap();
    ProjectReport::new(&b.design.report, None).to_json().unwrap()
}

#[test]
fn report_json_of_shipped_designs() {
    insta::assert_snapshot!("jet_mlp_report", report("examples/jet_mlp/jet_mlp.onnx", 5.0, ""));
    insta::assert_snapshot!(
        "interaction_net_reuse_report",
        report("examples/interaction_net/interaction_net.onnx", 5.0, r#"{"layers": {"pool": {"set_reuse": 2}}}"#)
    );
    insta::assert_snapshot!(
        "pulse_cnn_stream_report",
        report("examples/pulse_cnn/pulse_cnn.onnx", 2.5, r#"{"default": {"style": "stream"}}"#)
    );
}

/// `tachyon ARGS` run in `cwd`: its stderr, with `cwd` written as `$DIR`.
fn error_of(cwd: &std::path::Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_tachyon")).args(args).current_dir(cwd).output().unwrap();
    assert!(!o.status.success(), "tachyon {} succeeded", args.join(" "));
    String::from_utf8_lossy(&o.stderr).replace(&cwd.display().to_string(), "$DIR")
}

#[test]
fn main_error_messages() {
    let dir = scratch("error_snapshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(repo().join("examples/jet_mlp/jet_mlp.onnx"), dir.join("jet.onnx")).unwrap();
    std::fs::write(dir.join("not_onnx.onnx"), b"hello").unwrap();
    std::fs::write(dir.join("bad_reuse.json"), r#"{"default": {"reuse": 0}}"#).unwrap();
    std::fs::write(dir.join("set_reuse.json"), r#"{"layers": {"dense0_matmul": {"set_reuse": 2}}}"#).unwrap();
    std::fs::write(dir.join("stream.json"), r#"{"default": {"style": "stream"}}"#).unwrap();
    let errors = [
        ("missing_model", vec!["build", "nope.onnx", "-o", "out"]),
        ("not_onnx", vec!["build", "not_onnx.onnx", "-o", "out"]),
        ("unknown_board", vec!["build", "jet.onnx", "--board", "nope", "-o", "out"]),
        ("bad_reuse", vec!["build", "jet.onnx", "-c", "bad_reuse.json", "-o", "out"]),
        ("set_reuse_not_a_set", vec!["build", "jet.onnx", "-c", "set_reuse.json", "-o", "out"]),
        ("stream_mlp", vec!["build", "jet.onnx", "-c", "stream.json", "-o", "out"]),
        ("not_a_project", vec!["sim", "."]),
    ];
    for (name, args) in errors {
        insta::assert_snapshot!(name, error_of(&dir, &args));
    }
    assert!(!dir.join("out").exists(), "no failed build leaves a project");
}
