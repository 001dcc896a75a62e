//! The hardware options are validated once ([`HlsOptions::resolve`], [`HlsOptions::validate`]):
//! what they accept carries its plans, what they refuse comes back as a typed error whose text
//! is frozen here (the CLI prints it after the model's path).

use std::collections::BTreeMap;
use tachyon_hls::layers::fold::FoldError;
use tachyon_hls::{HlsOptions, OptionsError, Target};
use tachyon_quantize::qir::*;
use tachyon_quantize::{Config, Elem};

/// One layer `layer` (ONNX `node`) from an input of `shape` to `n_out` elements.
fn model(shape: Vec<usize>, kind: LayerKind, n_out: usize) -> QModel {
    let n_in: usize = shape.iter().product();
    let e = Elem::new(0, -8, 7);
    QModel {
        name: "opts".into(),
        tensors: vec![
            QTensor { name: "x".into(), shape: shape.clone(), elems: vec![e; n_in], offset: vec![] },
            QTensor {
                name: "y".into(),
                shape: vec![1, n_out],
                elems: vec![Elem::new(0, -1024, 1023); n_out],
                offset: vec![],
            },
        ],
        layers: vec![Layer {
            name: "layer".into(),
            origin: vec!["node".into()],
            kind,
            inputs: vec![TensorId(0)],
            output: TensorId(1),
        }],
        input: TensorId(0),
        output: TensorId(1),
        prologue: Prologue { input_shape: shape, steps: vec![], conv: InputConv::Exact { frac: 0 }, select: None },
        epilogue: vec![],
        output_shape: vec![1, n_out],
        epilogue_shape: vec![1, n_out],
    }
}

/// A sum over 4 particles of one feature.
fn particle_sum() -> QModel {
    let rows = vec![(0..4).map(|j| (j, 1)).collect()];
    model(vec![1, 4], LayerKind::Linear { rows, bias: vec![0] }, 1)
}

fn knobs(set_reuse: u32) -> HlsOptions {
    HlsOptions { set_reuse: BTreeMap::from([("layer".to_string(), set_reuse)]), ..HlsOptions::default() }
}

fn target(board: Option<&str>, family: &str) -> Target {
    Target { clock_ns: 5.0, top: "top".into(), delay_scale: 1.0, board: board.map(String::from), family: family.into() }
}

#[test]
fn a_foldable_set_carries_its_segment() {
    let m = particle_sum();
    let opts = knobs(2).validate(&m).unwrap();
    let seg = &opts.folds()[&0];
    assert_eq!((seg.aggregation, seg.particles, seg.reuse), (0, 4, 2));
    assert!(opts.stream_plan().is_none());
    // R 1 folds nothing.
    assert!(knobs(1).validate(&m).unwrap().folds().is_empty());
}

#[test]
fn set_reuse_errors_name_the_layer() {
    let e = knobs(3).validate(&particle_sum()).unwrap_err();
    assert_eq!(
        e,
        OptionsError::SetReuse(FoldError::ReuseDoesNotDivide { layer: "layer".into(), reuse: 3, particles: 4 })
    );
    assert_eq!(e.to_string(), "set_reuse: layer layer: set_reuse 3 must divide the 4 particles (and be at least 2)");
    let relu = model(vec![1, 4], LayerKind::Relu, 4);
    assert_eq!(
        knobs(2).validate(&relu).unwrap_err().to_string(),
        "set_reuse: layer layer (node): it is not a sum, mean or maximum over a particle axis"
    );
}

#[test]
fn stream_errors_name_the_input() {
    let stream = |m: &QModel, reuse: u32| {
        HlsOptions {
            stream: Some(Default::default()),
            reuse: BTreeMap::from([("layer".to_string(), reuse)]),
            ..HlsOptions::default()
        }
        .validate(m)
    };
    let cube = model(vec![1, 2, 2, 2, 2], LayerKind::Relu, 16);
    assert_eq!(
        stream(&cube, 1).unwrap_err().to_string(),
        "style \"stream\": the stream style needs a 1-D signal [C, L] or an image [C, H, W] / [H, W, C] as input; \
         the input 'x' has shape [1, 2, 2, 2, 2]"
    );
    // A per-pixel scaling of a signal is a 1 × 1 window: it streams, so it cannot reuse.
    let scale =
        model(vec![1, 4], LayerKind::Linear { rows: (0..4).map(|j| vec![(j, 3)]).collect(), bias: vec![0; 4] }, 4);
    assert_eq!(stream(&scale, 1).unwrap().stream_plan().map(|p| p.streamed()), Some(1));
    assert_eq!(
        stream(&scale, 2).unwrap_err().to_string(),
        "layer 'layer' (ONNX node) streams, and reuse/set_reuse apply to parallel layers; remove the reuse or \
         give the layer \"style\": \"parallel\""
    );
}

#[test]
fn ultrascale_primitives_need_an_ultrascale_part() {
    let m = particle_sum();
    let cfg = Config::parse(r#"{"default": {"primitives": "ultrascale"}}"#).unwrap();
    assert_eq!(
        HlsOptions::resolve(&m, &cfg, target(Some("arty-a7"), "xc7")).unwrap_err().to_string(),
        "\"primitives\": \"ultrascale\" needs an UltraScale or UltraScale+ part, and board 'arty-a7' is family xc7; \
         remove the option or use \"portable\""
    );
    let opts = HlsOptions::resolve(&m, &cfg, target(None, "xcup")).unwrap();
    assert_eq!(opts.knobs().fabric, tachyon_rtl::Fabric::UltraScale);
    let opts = HlsOptions::resolve(&m, &Config::default(), target(Some("arty-a7"), "xc7")).unwrap();
    assert_eq!(opts.knobs().fabric, tachyon_rtl::Fabric::Generic);
}
