//! Golden snapshots (insta) of the quantized IR dump (`model.txt`, the `Display` of `QModel`)
//! of shipped example models lowered with the default config, and of the main error messages
//! of bad models. The snapshots live in `quantize/tests/snapshots/`.
//!
//! A change to a snapshot is a change to what users see: review the diff, then re-bless on
//! purpose with
//!
//! ```text
//! INSTA_UPDATE=always cargo test -p tachyon-quantize --test snapshots
//! ```
//!
//! (or `cargo insta review` where cargo-insta is installed). Never edit a `.snap` by hand.

mod common;

use tachyon_common::onnx_builder::{Attr, GraphBuilder};
use tachyon_quantize::Config;

fn model_txt(name: &str) -> String {
    common::lower_example(name).to_string()
}

#[test]
fn jet_mlp_model_txt() {
    insta::assert_snapshot!(model_txt("jet_mlp"));
}

#[test]
fn tiny_mlp_model_txt() {
    insta::assert_snapshot!(model_txt("tiny_mlp"));
}

#[test]
fn deep_set_model_txt() {
    insta::assert_snapshot!(model_txt("deep_set"));
}

#[test]
fn pulse_cnn_model_txt() {
    insta::assert_snapshot!(model_txt("pulse_cnn"));
}

/// The message of lowering `model` (named `<name>.onnx`) with `cfg`, which must fail.
fn error_text(name: &str, model: &tachyon_frontend::proto::ModelProto, cfg: &Config) -> String {
    match common::lower_proto(name, model, cfg) {
        Ok(_) => panic!("{name}: lowering must fail"),
        Err(e) => e.to_string(),
    }
}

/// Unknown ops are all reported together, each naming its node.
#[test]
fn unsupported_ops_error() {
    let m = common::quantized("unsupported", 4, |g: &mut GraphBuilder, xq: &str| {
        let y = g.node("Hardmax", "", "pick", &[xq], &["pick_out"], vec![Attr::int("axis", -1)]);
        let y = g.node("Acosh", "", "smooth", &[&y], &["smooth_out"], vec![]);
        (g.node("Frobnicate", "com.example", "custom", &[&y], &["y"], vec![]), vec![1, 4])
    });
    insta::assert_snapshot!(error_text("unsupported", &m, &Config::default()));
}

/// A Trunc whose scale is not a power of two (float scales are supported on Quant, not Trunc).
#[test]
fn non_power_of_two_trunc_scale_error() {
    let m = common::quantized("scale", 4, |g: &mut GraphBuilder, xq: &str| {
        let s = g.initializer_f32("t_s", &[], &[0.3]);
        let z = g.initializer_f32("t_z", &[], &[0.0]);
        let ib = g.initializer_f32("t_ib", &[], &[8.0]);
        let ob = g.initializer_f32("t_ob", &[], &[4.0]);
        let attrs = vec![Attr::string("rounding_mode", "FLOOR")];
        (g.node("Trunc", "qonnx.custom_op.general", "act", &[xq, &s, &z, &ib, &ob], &["y"], attrs), vec![1, 4])
    });
    insta::assert_snapshot!(error_text("scale", &m, &Config::default()));
}

/// A config naming a layer the model does not have.
#[test]
fn unknown_config_layer_error() {
    let m = common::quantized("named", 4, |g: &mut GraphBuilder, xq: &str| {
        (g.node("Relu", "", "relu", &[xq], &["y"], vec![]), vec![1, 4])
    });
    let cfg = Config::parse(r#"{ "layers": { "dense_7": { "result": "fixed<8,3>" } } }"#).unwrap();
    insta::assert_snapshot!(error_text("named", &m, &cfg));
}

/// A malformed attribute: the front end's error, naming the node and the attribute.
#[test]
fn bad_attribute_error() {
    let m = common::quantized("flag", 4, |g: &mut GraphBuilder, xq: &str| {
        let w = g.initializer_f32("w", &[4, 2], &[0.5; 8]);
        (g.node("Gemm", "", "fc", &[xq, &w], &["y"], vec![Attr::int("transB", 3)]), vec![1, 2])
    });
    insta::assert_snapshot!(error_text("flag", &m, &Config::default()));
}
