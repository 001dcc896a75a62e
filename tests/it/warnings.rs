//! The warnings a user needs, printed by `tachyon build` / `tachyon sim` and kept in
//! report.json and report.html (constant outputs, a `reuse` that raises a layer's DSP count,
//! `sim -n` without `--inputs`), none of them on a normal model; and the report's history of
//! every `sim` run, titled with the model's file name.

use crate::common::*;
use prost::Message;
use std::path::{Path, PathBuf};
use std::process::Command;
use tachyon_common::onnx_builder::GraphBuilder;
use tachyon_driver::report::read_report;

fn tachyon(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tachyon")).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr))
}

fn tiny() -> PathBuf {
    repo().join("examples/tiny_mlp/tiny_mlp.onnx")
}

/// A float model x[1,4] → MatMul → Add → y[1,3] whose weight columns `zero` are all 0.
fn dense_model(dir: &Path, name: &str, zero: &[usize]) -> PathBuf {
    let mut g = GraphBuilder::new(name);
    let x = g.input("x", &[1, 4]);
    g.output("y", &[1, 3]);
    let w: Vec<f32> = (0..12).map(|i| if zero.contains(&(i % 3)) { 0.0 } else { 0.25 * (i as f32 - 5.0) }).collect();
    let w = g.initializer_f32("W", &[4, 3], &w);
    let b = g.initializer_f32("B", &[3], &[0.5, -0.25, 0.75]);
    let mm = g.node("MatMul", "", "mm", &[&x, &w], &["mm"], vec![]);
    g.node("Add", "", "bias", &[&mm, &b], &["y"], vec![]);
    let path = dir.join(format!("{name}.onnx"));
    std::fs::write(&path, g.build(&[("", 13)]).encode_to_vec()).unwrap();
    path
}

/// A config file `dir/name` holding `json`.
fn config_file(dir: &Path, name: &str, json: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, json).unwrap();
    path
}

fn build_cli(model: &Path, out: &Path, extra: &[&str]) -> String {
    let mut args = vec!["build", model.to_str().unwrap(), "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let (ok, text) = tachyon(&args);
    assert!(ok, "{text}");
    text
}

#[test]
fn constant_outputs_are_reported() {
    let dir = scratch("warn_constant");
    std::fs::create_dir_all(&dir).unwrap();
    let some = dense_model(&dir, "some_constant", &[1]);
    let text = build_cli(&some, &dir.join("a"), &[]);
    assert!(
        text.contains("warning: 1 of 3 outputs do not depend on the input") && text.contains("y[1] = -0.25"),
        "{text}"
    );
    let w = read_report(&dir.join("a")).unwrap().warnings.unwrap();
    assert!(w.len() == 1 && w[0].contains("y[1] = -0.25"), "{w:?}");

    let all = dense_model(&dir, "all_constant", &[0, 1, 2]);
    let text = build_cli(&all, &dir.join("b"), &[]);
    assert!(
        text.contains("warning: the design is constant") && text.contains("y[0] = 0.5, y[1] = -0.25, y[2] = 0.75"),
        "{text}"
    );
    let (ok, text) = tachyon(&["report", dir.join("b").to_str().unwrap()]);
    assert!(ok && text.contains("the design is constant"), "{text}");
    let html = std::fs::read_to_string(dir.join("b/report.html")).unwrap();
    assert!(html.contains("<p class=\"warn\">the design is constant"));

    // A normal model: no warning, and report.json has no warnings at all.
    let normal = dense_model(&dir, "normal", &[]);
    let text = build_cli(&normal, &dir.join("c"), &[]);
    assert!(!text.contains("warning:"), "{text}");
    assert!(read_report(&dir.join("c")).unwrap().warnings.is_none());
}

#[test]
fn reuse_that_raises_dsps_is_reported_with_the_reason() {
    let dir = scratch("warn_reuse");
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = config_file(&dir, "reuse.json", r#"{"default": {"reuse": 4}}"#);
    let text = build_cli(&tiny(), &dir.join("r4"), &["-c", cfg.to_str().unwrap()]);
    assert!(
        text.contains("warning: layer 'dense0_matmul'") && text.contains("reuse 4 raises its DSP count from 0 to"),
        "{text}"
    );
    assert!(text.contains("shift-and-add logic in LUTs"), "{text}");
    let r = read_report(&dir.join("r4")).unwrap();
    let w = r.warnings.unwrap();
    let layer = r.design.layers.iter().find(|l| l.name == "dense0_matmul").unwrap();
    assert!(layer.estimate.dsp > 0 && w.iter().any(|w| w.contains(&format!("to {}", layer.estimate.dsp))), "{w:?}");

    // Reuse on a layer whose products are on DSPs anyway (strategy dsp) saves them: no warning.
    std::fs::write(&cfg, r#"{"default": {"reuse": 4, "strategy": "dsp"}}"#).unwrap();
    let text = build_cli(&tiny(), &dir.join("dsp"), &["-c", cfg.to_str().unwrap()]);
    assert!(!text.contains("raises its DSP count"), "{text}");
    let text = build_cli(&tiny(), &dir.join("plain"), &[]);
    assert!(!text.contains("warning:"), "{text}");
}

#[test]
fn sim_n_without_inputs_is_an_error_that_says_what_to_do() {
    let dir = scratch("warn_sim_n");
    build_cli(&tiny(), &dir, &[]);
    let (ok, text) = tachyon(&["sim", dir.to_str().unwrap(), "-n", "5"]);
    assert!(
        !ok && text.contains("-n N takes the first N samples of --inputs") && text.contains("--random N"),
        "{text}"
    );
    assert!(read_report(&dir).unwrap().sims.is_empty());
}

/// Two runs of `tachyon sim` (one with --inputs, --expect and -n beyond the samples, one random)
/// give two entries in report.json, `tachyon report` and report.html, titled with the model file.
#[test]
fn every_sim_run_is_kept_in_the_report() {
    if !have("verilator") {
        return;
    }
    let dir = scratch("warn_sim_history");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dense_model(&dir, "history_model", &[]);
    let out = dir.join("prj");
    build_cli(&model, &out, &[]);
    let xs: Vec<f32> = (0..20).map(|i| (i as f32 - 10.0) / 4.0).collect();
    // y = x·W + b computed here: the MatMul of dense_model, exactly representable.
    let w: Vec<f32> = (0..12).map(|i| 0.25 * (i as f32 - 5.0)).collect();
    let ys: Vec<f32> = xs
        .chunks(4)
        .flat_map(|x| {
            (0..3).map(|o| (0..4).map(|i| x[i] * w[i * 3 + o]).sum::<f32>() + [0.5, -0.25, 0.75][o]).collect::<Vec<_>>()
        })
        .collect();
    let (xp, yp) = (dir.join("x.npy"), dir.join("y.npy"));
    tachyon_common::npy::write_npy_f32(&xp, &[5, 4], &xs).unwrap();
    tachyon_common::npy::write_npy_f32(&yp, &[5, 3], &ys).unwrap();
    let (ok, text) = tachyon(&[
        "sim",
        out.to_str().unwrap(),
        "--inputs",
        xp.to_str().unwrap(),
        "--expect",
        yp.to_str().unwrap(),
        "-n",
        "50",
    ]);
    assert!(
        ok && text.contains("warning: -n 50 asks for more samples than") && text.contains("all 5 are used"),
        "{text}"
    );
    let (ok, text) = tachyon(&["sim", out.to_str().unwrap(), "--random", "40"]);
    assert!(ok && !text.contains("warning:"), "{text}");
    let r = read_report(&out).unwrap();
    assert_eq!(r.model_file.as_deref(), Some("history_model.onnx"));
    assert_eq!(r.sims.len(), 2, "{:?}", r.sims);
    let (a, b) = (&r.sims[0], &r.sims[1]);
    assert_eq!((a.samples, a.random, a.vectors, a.mismatches), (5, 0, 5, 0));
    assert_eq!((a.inputs.as_deref(), a.expect.as_deref()), (Some("x.npy"), Some("y.npy")));
    assert_eq!((a.max_abs_diff, a.argmax_agreement, a.compared_rows), (Some(0.0), Some(1.0), Some(5)));
    assert_eq!((b.samples, b.random, b.vectors, b.mismatches, b.max_abs_diff), (0, 40, 40, 0, None));
    assert!(a.date.len() == 19 && a.date <= b.date, "{} {}", a.date, b.date);
    let (ok, text) = tachyon(&["report", out.to_str().unwrap()]);
    assert!(ok && text.starts_with("history_model.onnx: top tachyon_top"), "{text}");
    assert!(
        text.contains("co-simulation runs (2):") && text.contains("5 samples of x.npy") && text.contains("40 random"),
        "{text}"
    );
    assert!(text.contains("vs y.npy: max |Δ| 0.000000, argmax agreement 100.00 %"), "{text}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("<title>Tachyon report: history_model.onnx</title>") && html.contains("Co-simulation runs"));
    assert_eq!(
        html.matches(&format!("<td>{}</td>", a.date)).count() + html.matches(&format!("<td>{}</td>", b.date)).count(),
        if a.date == b.date { 4 } else { 2 }
    );
}

/// `max_latency`: a bound the clock cannot meet is a warning (the design is built anyway, as
/// fast as the clock allows); a bound above the fewest cycles is met, with no more LUTs than
/// the fastest design (the cycles go to ternary adders), and no warning.
#[test]
fn max_latency_is_met_or_reported() {
    let dir = scratch("warn_max_latency");
    std::fs::create_dir_all(&dir).unwrap();
    let tight = config_file(&dir, "tight.json", r#"{"default": {"max_latency": 1}}"#);
    let text = build_cli(&tiny(), &dir.join("a"), &["--config", tight.to_str().unwrap()]);
    assert!(text.contains("warning: max_latency is 1 cycles, but the design takes 2 at 5 ns"), "{text}");
    let w = read_report(&dir.join("a")).unwrap().warnings.unwrap();
    assert!(w.iter().any(|w| w.contains("max_latency is 1 cycles")), "{w:?}");

    let jet = repo().join("examples/jet_mlp/jet_mlp.onnx");
    let fastest = tachyon_driver::project::compile(&jet, &Default::default(), 5.0, "tachyon_top", None).unwrap();
    let n = fastest.design.latency + 2;
    let slow = config_file(&dir, "slow.json", &format!(r#"{{"default": {{"max_latency": {n}}}}}"#));
    let config = tachyon_quantize::Config::load(&slow).unwrap();
    let slower = tachyon_driver::project::compile(&jet, &config, 5.0, "tachyon_top", None).unwrap();
    assert!(slower.design.latency <= n, "{} cycles for max_latency {n}", slower.design.latency);
    let luts = |b: &tachyon_driver::project::Built| b.design.report.total.lut;
    assert!(
        luts(&slower) <= luts(&fastest),
        "{} LUTs in ≤ {n} cycles, {} in {}",
        luts(&slower),
        luts(&fastest),
        fastest.design.latency
    );
    let text = build_cli(&jet, &dir.join("b"), &["--config", slow.to_str().unwrap()]);
    assert!(!text.contains("warning:"), "{text}");
}
