//! Models that are valid ONNX but that Tachyon must refuse, with an error naming the file, the
//! node and what to do — never a wrong answer, never a partial output folder.

use crate::common::*;
use prost::Message;
use std::process::Command;
use tachyon_common::onnx_builder::{GraphBuilder, QONNX_DOMAIN};

fn tachyon(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tachyon")).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr))
}

/// Three chained MatMuls on a 64-bit input with 32-bit weights and no requantization in between:
/// the exact accumulator of the last one needs more bits than the interpreter's integers hold.
fn precision_explosion() -> Vec<u8> {
    let mut g = GraphBuilder::new("explode");
    let x = g.input("x", &[1, 8]);
    g.output("y", &[1, 8]);
    let xq = g.quant(&x, "xq", 1.0, 0.0, 64.0, true, false, "ROUND");
    let w = g.initializer_f32("W", &[8, 8], &[(1u32 << 23) as f32 + 1.0; 64]);
    let wq = g.quant(&w, "Wq", 1.0, 0.0, 32.0, true, false, "ROUND");
    let h1 = g.node("MatMul", "", "mm1", &[&xq, &wq], &["h1"], vec![]);
    let h2 = g.node("MatMul", "", "mm2", &[&h1, &wq], &["h2"], vec![]);
    let h3 = g.node("MatMul", "", "mm3", &[&h2, &wq], &["h3"], vec![]);
    g.quant(&h3, "y", 1.0, 0.0, 64.0, true, false, "ROUND");
    g.build(&[("", 13), (QONNX_DOMAIN, 1)]).encode_to_vec()
}

#[test]
fn precision_beyond_the_interpreters_integers_is_refused() {
    let dir = scratch("hostile_precision");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("explode.onnx");
    std::fs::write(&model, precision_explosion()).unwrap();
    let out = dir.join("out");
    let (ok, text) = tachyon(&["build", model.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(!ok, "refused");
    assert!(
        text.contains("explode.onnx") && text.contains("'mm3' (MatMul)") && text.contains("more than 120 bits"),
        "{text}"
    );
    assert!(text.contains("reduce the precision"), "says what to do: {text}");
    assert!(!out.exists(), "nothing written");
}

#[test]
fn quantizer_bit_widths_beyond_64_are_refused() {
    let mut g = GraphBuilder::new("wide");
    let x = g.input("x", &[1, 2]);
    g.output("y", &[1, 2]);
    g.quant(&x, "y", 1.0, 0.0, 100.0, true, false, "ROUND");
    let dir = scratch("hostile_wide");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("wide.onnx");
    std::fs::write(&model, g.build(&[("", 13), (QONNX_DOMAIN, 1)]).encode_to_vec()).unwrap();
    let out = dir.join("out");
    let (ok, text) = tachyon(&["build", model.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(!ok && text.contains("node 'y'") && text.contains("bit width 100"), "{text}");
    assert!(!out.exists());
}

#[test]
fn output_path_that_cannot_be_created_leaves_nothing_behind() {
    let dir = scratch("hostile_outfile");
    std::fs::create_dir_all(&dir).unwrap();
    // The output's parent is a file: the build fails before writing anything.
    let blocker = dir.join("afile");
    std::fs::write(&blocker, "not a folder").unwrap();
    let model = repo().join("examples/tiny_mlp/tiny_mlp.onnx");
    let out = blocker.join("project");
    let (ok, text) = tachyon(&["build", model.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(!ok && text.contains("afile"), "{text}");
    let left: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("afile")], "no temporary folder left behind");
}
