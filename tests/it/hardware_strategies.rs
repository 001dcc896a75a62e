//! Per-layer multiplication strategies and reuse factors (DSP time-multiplexing, II = R) on the
//! shipped tiny MLP: each co-simulates with 0 mismatches at its initiation interval, lints clean,
//! and uses the resources its strategy promises.

use crate::common::*;
use tachyon_driver::project::build;

fn build_with(name: &str, config: &str) -> (std::path::PathBuf, tachyon_driver::project::Built) {
    let out = scratch(name);
    let cfg = out.with_extension("json");
    std::fs::write(&cfg, config).unwrap();
    let mut o = build_options(repo().join("examples/tiny_mlp/tiny_mlp.onnx"), out.clone());
    o.config = Some(cfg);
    o.force = true;
    let b = build(&o).unwrap();
    (out, b)
}

#[test]
fn reuse_factors_time_multiplex_and_stay_exact() {
    let (p1, b1) = build_with("strategies_r1", r#"{"default": {"strategy": "dsp"}}"#);
    assert_eq!(b1.design.ii, 1);
    let dsp1 = b1.design.report.total.dsp;
    assert!(dsp1 > 0, "strategy dsp uses DSPs");
    let _ = cosim_random(&p1, 300);
    for r in [2u32, 3, 5, 8] {
        let (p, b) = build_with(&format!("strategies_r{r}"), &format!(r#"{{"default": {{"reuse": {r}}}}}"#));
        assert_eq!(b.design.ii, r, "II = reuse");
        assert_eq!(b.design.report.ii_cycles, r);
        let m: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p.join("tachyon.json")).unwrap()).unwrap();
        assert_eq!(m["ii_cycles"], r);
        if let Some(s) = lint_and_cosim(&p, 300) {
            assert_eq!(s.latency_cycles, b.design.latency);
            assert!(s.ii_cycles >= r, "inputs are spaced by the II");
        }
    }
    // Fewer multipliers as the reuse grows: at reuse 8 each of the 8 + 3 outputs needs one (its
    // 4 or 8 inputs take turns), at reuse 2 two to four.
    let dsp = |r: u32| build_with(&format!("strategies_d{r}"), &format!(r#"{{"default": {{"reuse": {r}}}}}"#)).1;
    let (d2, d8) = (dsp(2).design.report.total.dsp, dsp(8).design.report.total.dsp);
    assert!(d8 < d2 && d8 <= 11, "reuse 8 uses fewer DSPs than reuse 2 ({d8} vs {d2})");
}

#[test]
fn adders_strategy_uses_no_dsp() {
    let (p, b) = build_with("strategies_adders", r#"{"default": {"strategy": "adders"}}"#);
    assert_eq!(b.design.report.total.dsp, 0);
    assert_eq!(b.design.ii, 1);
    let _ = lint_and_cosim(&p, 300);
}

#[test]
fn bad_reuse_is_refused() {
    let out = scratch("strategies_bad");
    let cfg = out.with_extension("json");
    std::fs::write(&cfg, r#"{"default": {"reuse": 0}}"#).unwrap();
    let mut o = build_options(repo().join("examples/tiny_mlp/tiny_mlp.onnx"), out.clone());
    o.config = Some(cfg);
    let e = build(&o).err().expect("reuse 0 is refused").to_string();
    assert!(e.contains("reuse must be between 1 and 4096"), "{e}");
    assert!(!out.exists(), "nothing written");
}
