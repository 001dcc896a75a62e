//! `tachyon sim --post-synth`: the design as yosys synthesizes it — `LUT6_2` with the ternary
//! adders' INIT values and `CARRY8` at UltraScale+, `CARRY4` on 7 series, `SB_LUT4`/`SB_CARRY`
//! on iCE40, shift-register LUTs in a stream design — simulated with yosys' own cell models and
//! compared with the reference interpreter bit for bit, at the latency and II the build
//! reports. Small models keep gate-level simulation to seconds: the tiny MLP on every target
//! kind, the shipped pulse CNN in the stream style, a small deep set. The jet MLP and the
//! qkeras jet tagger (tens of thousands of cells) are run by `benches/post_synth.sh`.
//!
//! The checks can fail: a LUT INIT altered in the netlist, and a wrong ternary INIT function
//! in the Verilog (which the RTL co-simulation cannot see, it runs the plain sum), are both
//! reported as mismatches with a non-zero exit.

use crate::common::*;
use prost::Message;
use std::path::{Path, PathBuf};
use std::process::Command;
use tachyon_driver::project::build;
use tachyon_driver::sim::{run, SimOptions, SimSummary};
use tachyon_testbenches::Simulator;

/// yosys and Icarus are installed (a skip notice otherwise).
fn tools() -> bool {
    have("yosys") && have("iverilog")
}

/// `model` built into a fresh scratch folder with an optional config (JSON text) and board.
fn built(name: &str, model: &Path, config: Option<&str>, board: Option<&str>) -> PathBuf {
    let out = scratch(&format!("post_synth_{name}"));
    let mut o = build_options(model, &out);
    if let Some(json) = config {
        let p = out.with_extension("json");
        std::fs::write(&p, json).unwrap();
        o.config = Some(p);
    }
    o.board = board.map(str::to_string);
    build(&o).unwrap_or_else(|e| panic!("{name}: {e:#}"));
    out
}

/// The post-synthesis co-simulation of `random` vectors: exact, at the reported latency and II.
fn exact(project: &Path, random: usize, simulator: Option<Simulator>) -> SimSummary {
    let o = SimOptions { random: Some(random), post_synth: true, simulator, ..Default::default() };
    let s = run(project, &o).unwrap_or_else(|e| panic!("{}: {e:#}", project.display()));
    let m = tachyon_driver::manifest::read_manifest(project).unwrap();
    assert_eq!(s.mismatches, 0, "{}: {:?}", project.display(), s.first_mismatches);
    assert_eq!((s.latency_cycles, s.ii_cycles), (m.latency_cycles, m.ii_cycles), "{}", project.display());
    let p = s.post_synth.as_ref().expect("the run says what it synthesized");
    println!(
        "{}: {} ({} cells): synth {:.1} s, sim build {:.1} s, run {:.1} s for {} vectors",
        project.display(),
        p.command,
        p.cells.values().sum::<u64>(),
        p.synth_seconds,
        s.build_seconds,
        s.run_seconds,
        s.vectors
    );
    s
}

fn cells(s: &SimSummary, cell: &str) -> u64 {
    s.post_synth.as_ref().and_then(|p| p.cells.get(cell).copied()).unwrap_or(0)
}

fn tiny() -> PathBuf {
    repo().join("examples/tiny_mlp/tiny_mlp.onnx")
}

const PORTABLE: &str = r#"{"default": {"primitives": "portable"}}"#;

/// UltraScale+ (ternary adders as LUT6_2 + CARRY8) and the portable Verilog at UltraScale+; a
/// second run reuses the netlist, and `verilator --binary --timing` on it gives the same exact
/// result as Icarus.
#[test]
fn tiny_mlp_is_exact_after_synthesis_at_ultrascale_plus() {
    if !tools() {
        return;
    }
    let p = built("tiny_xcup", &tiny(), None, None);
    let s = exact(&p, 300, None);
    assert!(cells(&s, "LUT6_2") > 0 && cells(&s, "CARRY8") > 0, "{:?}", s.post_synth);
    assert!(s.post_synth.as_ref().unwrap().command.starts_with("synth_xilinx -family xcup"));
    let again = exact(&p, 50, None);
    assert_eq!(again.post_synth.unwrap().synth_seconds, 0.0, "the netlist is reused");
    if have("verilator") {
        let s = exact(&p, 300, Some(Simulator::Verilator));
        assert_eq!(s.simulator, Some(Simulator::Verilator));
        assert_eq!(s.post_synth.unwrap().synth_seconds, 0.0, "the same netlist");
    }
    let p = built("tiny_portable", &tiny(), Some(PORTABLE), None);
    let rtl = std::fs::read_to_string(p.join("rtl/tachyon_top.v")).unwrap();
    assert!(!rtl.contains("LUT6_2"), "portable Verilog instantiates no primitive");
    exact(&p, 300, None);
}

/// 7 series (CARRY4) on the Arty A7, and iCE40 (SB_LUT4, SB_CARRY) on the iCEBreaker.
#[test]
fn tiny_mlp_is_exact_after_synthesis_on_7_series_and_ice40() {
    if !tools() {
        return;
    }
    let s = exact(&built("tiny_xc7", &tiny(), None, Some("arty-a7")), 300, None);
    assert!(cells(&s, "CARRY4") > 0 && cells(&s, "CARRY8") == 0, "{:?}", s.post_synth);
    let s = exact(&built("tiny_ice40", &tiny(), None, Some("icebreaker")), 300, None);
    assert!(cells(&s, "SB_LUT4") > 0 && cells(&s, "SB_CARRY") > 0, "{:?}", s.post_synth);
    assert!(s.post_synth.unwrap().command.starts_with("synth_ice40"));
}

/// The shipped pulse CNN in the stream style (one sample per clock, II 64; shift-register
/// LUTs), at UltraScale+ with ternary adders.
#[test]
fn stream_cnn_is_exact_after_synthesis() {
    if !tools() {
        return;
    }
    let model = repo().join("examples/pulse_cnn/pulse_cnn.onnx");
    let p = built("pulse_stream", &model, Some(r#"{"default": {"style": "stream"}}"#), None);
    let s = exact(&p, 8, None);
    assert_eq!(s.ii_cycles, 64);
    assert!(cells(&s, "LUT6_2") > 0, "{:?}", s.post_synth);
}

/// A small deep set (6 particles × 3 features, φ 5-4, mean, ρ 4-3) at UltraScale+ (the portable
/// Verilog is the tiny MLP's case here; benches/post_synth.sh runs this deep set portable too).
#[test]
fn deep_set_is_exact_after_synthesis() {
    if !tools() {
        return;
    }
    use tachyon_examples::set_models::{deep_set, DeepSetShape};
    let shape = DeepSetShape { particles: 6, features: 3, phi: vec![5, 4], rho: vec![4, 3] };
    let dir = scratch("post_synth_deep_set_model");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("deep_set.onnx");
    std::fs::write(&model, deep_set(&shape, 3).encode_to_vec()).unwrap();
    exact(&built("deep_set_xcup", &model, None, None), 200, None);
}

/// `tachyon sim --post-synth --random 300`: (exit status success, printed text, summary).
fn cli(project: &Path) -> (bool, String, SimSummary) {
    let run = Command::new(env!("CARGO_BIN_EXE_tachyon"))
        .args(["sim", project.to_str().unwrap(), "--post-synth", "--random", "300"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout).to_string() + &String::from_utf8_lossy(&run.stderr);
    let summary = serde_json::from_str(&std::fs::read_to_string(project.join("sim-post/results.json")).unwrap())
        .unwrap_or_else(|e| panic!("sim-post/results.json: {e}\n{text}"));
    (run.status.success(), text, summary)
}

/// One ternary adder LUT of the synthesized netlist with its INIT complemented (through
/// `tachyon_flows::netlist::plant_lut_init`): `tachyon sim --post-synth` reports mismatches and
/// exits non-zero, and the fuzzer's post-synthesis check fails.
#[test]
fn a_wrong_lut_in_the_netlist_is_caught() {
    if !tools() {
        return;
    }
    let p = built("planted_lut", &tiny(), None, None);
    let (ok, text, s) = cli(&p);
    assert!(ok && s.mismatches == 0, "the synthesized design passes:\n{text}");
    let netlist = p.join("sim-post/synth/netlist.v");
    let planted = tachyon_flows::netlist::plant_lut_init(&netlist, "LUT6_2", 7).unwrap().expect("a LUT6_2");
    let (ok, text, s) = cli(&p);
    assert!(!ok, "exit 0 with {planted:?}:\n{text}");
    assert!(s.mismatches > 0 && text.contains("netlist ["), "{planted:?}:\n{text}");
    assert!(text.contains("(reused)"), "the altered netlist is the one simulated:\n{text}");
    // The fuzzer's level (d) reports it as a failure too.
    let e = tachyon_fuzz::post_synth::check(&p, 50, 1, 1).unwrap_err();
    assert!(e.contains("mismatch after synthesis"), "{e}");
}

/// The majority half of the ternary adder's INIT function made wrong in the Verilog: the RTL
/// co-simulation (the plain sum under `ifdef SYNTHESIS … else`) still passes; after synthesis
/// the wrong LUTs are simulated and caught.
#[test]
fn a_wrong_ternary_init_is_caught_after_synthesis_only() {
    if !tools() || !have("verilator") {
        return;
    }
    let p = built("planted_ternary", &tiny(), None, None);
    let rtl = p.join("rtl/tachyon_top.v");
    let text = std::fs::read_to_string(&rtl).unwrap();
    let right = "lut_init[k] = (x0 & x1) | (x0 & x2) | (x1 & x2);";
    assert!(text.contains(right), "the ternary adder's INIT function changed; update this test");
    std::fs::write(&rtl, text.replace(right, "lut_init[k] = (x0 & x1) | (x0 & x2);")).unwrap();
    let s = run(&p, &SimOptions { random: Some(300), ..Default::default() }).unwrap();
    assert_eq!(s.mismatches, 0, "the RTL branch does not use the INIT");
    let (ok, text, s) = cli(&p);
    assert!(!ok && s.mismatches > 0, "the wrong INIT must be caught after synthesis:\n{text}");
}

/// Without the simulator on PATH the error names the package, before any synthesis.
#[test]
fn a_missing_simulator_is_named() {
    if !have("yosys") {
        return;
    }
    let p = built("no_iverilog", &tiny(), None, None);
    let bin = scratch("post_synth_path_without_iverilog");
    std::fs::create_dir_all(&bin).unwrap();
    let yosys = std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join("yosys"))
        .find(|y| y.is_file())
        .unwrap();
    std::os::unix::fs::symlink(yosys, bin.join("yosys")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tachyon"))
        .args(["sim", p.to_str().unwrap(), "--post-synth", "--random", "3"])
        .env("PATH", &bin)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && text.contains("apt-get install -y iverilog"), "{text}");
    assert!(!p.join("sim-post/synth/netlist.v").exists(), "no synthesis without a simulator");
}

/// The fuzzer's level (d) on two random models (seeds with different hardware variants): the
/// design of level (c) is exact after synthesis too. `benches/post_synth_fuzz.sh` runs 200.
#[test]
fn the_fuzzers_post_synthesis_level_passes() {
    if !tools() || !have("verilator") {
        return;
    }
    use tachyon_fuzz::campaign::{check_model_with, Check, Levels};
    use tachyon_fuzz::random_model::{random_model, to_bytes};
    let dir = scratch("post_synth_fuzz");
    std::fs::create_dir_all(&dir).unwrap();
    for seed in [3, 8] {
        let path = dir.join(format!("model_{seed}.onnx"));
        std::fs::write(&path, to_bytes(&random_model(seed).0)).unwrap();
        let o = check_model_with(&path, 30, seed, Levels { verilator: true, post_synth: true }).unwrap();
        let failures: Vec<String> = o.failures.iter().map(|f| format!("{}: {}", f.level, f.detail)).collect();
        assert!(o.passed(), "seed {seed}:\n{}", failures.join("\n"));
        assert_eq!((o.post_synth, o.post_synth_vectors), (Some(Check::Exact), 30), "seed {seed}");
    }
}
