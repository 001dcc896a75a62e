//! Each invariant of the quantized-IR verifier, broken on purpose: a small model is built with
//! the ONNX builder, lowered (it verifies clean), then one field is changed by hand, and
//! `verify` must report exactly the matching `VerifyError` variant — never panic.

mod common;

use common::quantized;
use tachyon_common::onnx_builder::{Attr, GraphBuilder};
use tachyon_quantize::fixed::{Elem, FixedType, Overflow};
use tachyon_quantize::qir::{InputConv, LayerKind, QModel, TensorId};
use tachyon_quantize::verify::{Site, VerifyError};
use tachyon_quantize::{verify, Config};

/// The small lowered models, one per group of layer kinds.
fn small_models() -> Vec<QModel> {
    let cfg = Config::default();
    let lower = |name: &str, m| common::lower_proto(name, &m, &cfg).unwrap_or_else(|e| panic!("{name}: {e}"));
    let dense = |g: &mut GraphBuilder, xq: &str| {
        let w: Vec<f32> = (0..12).map(|k| (k as f32 - 5.0) / 8.0).collect();
        let w = g.initializer_f32("w", &[4, 3], &w);
        let b = g.initializer_f32("b", &[3], &[0.5, -0.25, 1.0]);
        let y = g.node("MatMul", "", "dense", &[xq, &w], &["dense_out"], vec![]);
        let y = g.node("Add", "", "bias", &[&y, &b], &["bias_out"], vec![]);
        let y = g.node("Relu", "", "relu", &[&y], &["relu_out"], vec![]);
        let y = g.quant(&y, "act", 0.25, 0.0, 6.0, true, false, "ROUND");
        (y, vec![1, 3])
    };
    let unary = |op: &'static str, attrs: fn() -> Vec<Attr>| {
        move |g: &mut GraphBuilder, xq: &str| {
            let y = g.node(op, "", "f", &[xq], &["f_out"], attrs());
            (g.quant(&y, "yq", 0.0625, 0.0, 8.0, true, false, "ROUND"), vec![1, 4])
        }
    };
    vec![
        lower("dense", quantized("dense", 4, dense)),
        lower(
            "sigmoid",
            quantized("sigmoid", 4, |g, xq| (g.node("Sigmoid", "", "sig", &[xq], &["y"], vec![]), vec![1, 4])),
        ),
        lower("tanh", quantized("tanh", 4, unary("Tanh", Vec::new))),
        lower(
            "softmax",
            quantized("softmax", 4, |g, xq| {
                (g.node("Softmax", "", "softmax", &[xq], &["y"], vec![Attr::int("axis", -1)]), vec![1, 4])
            }),
        ),
        lower(
            "layernorm",
            quantized("layernorm", 4, |g, xq| {
                let s = g.initializer_f32("gamma", &[4], &[1.0, 0.5, 2.0, 1.0]);
                let b = g.initializer_f32("beta", &[4], &[0.0, 0.25, 0.0, -0.5]);
                (g.node("LayerNormalization", "", "ln", &[xq, &s, &b], &["y"], vec![Attr::int("axis", -1)]), vec![1, 4])
            }),
        ),
        lower(
            "product",
            quantized("product", 4, |g, xq| (g.node("Mul", "", "square", &[xq, xq], &["y"], vec![]), vec![1, 4])),
        ),
        lower(
            "max",
            quantized("max", 4, |g, xq| {
                let y = g.node(
                    "ReduceMax",
                    "",
                    "rmax",
                    &[xq],
                    &["y"],
                    vec![Attr::ints("axes", &[1]), Attr::int("keepdims", 1)],
                );
                (y, vec![1, 1])
            }),
        ),
        lower(
            "gather",
            quantized("gather", 4, |g, xq| {
                (g.node("Concat", "", "concat", &[xq, xq], &["y"], vec![Attr::int("axis", 1)]), vec![1, 8])
            }),
        ),
    ]
}

#[test]
fn small_models_cover_every_kind_and_verify_clean() {
    let models = small_models();
    for m in &models {
        println!("{m}");
        verify(m).unwrap_or_else(|e| panic!("{}: {e}", m.name));
    }
    for kind in ["linear", "requant", "relu", "threshold", "lookup", "softmax", "gather", "max", "product", "layernorm"]
    {
        assert!(
            models.iter().any(|m| m.layers.iter().any(|l| l.kind.mnemonic() == kind)),
            "no small model has a {kind} layer"
        );
    }
}

/// A clone of the first small model with a layer of `kind`, and that layer's index.
fn with_kind(models: &[QModel], kind: &str) -> (QModel, usize) {
    for m in models {
        if let Some(i) = m.layers.iter().position(|l| l.kind.mnemonic() == kind) {
            return (m.clone(), i);
        }
    }
    panic!("no small model has a {kind} layer")
}

fn out(m: &mut QModel, i: usize) -> &mut Vec<Elem> {
    let t = m.layers[i].output.0 as usize;
    &mut m.tensors[t].elems
}

/// One broken invariant: the kind of layer to break, how, and the variant expected.
struct Case {
    name: &'static str,
    kind: &'static str,
    mutate: fn(&mut QModel, usize),
    expect: fn(&VerifyError) -> bool,
}

macro_rules! case {
    ($name:literal, $kind:literal, |$m:ident, $i:ident| $body:expr, $pat:pat) => {
        Case {
            name: $name,
            kind: $kind,
            mutate: |$m: &mut QModel, $i: usize| {
                let _ = $i;
                $body;
            },
            expect: |e| matches!(e, $pat),
        }
    };
}

fn cases() -> Vec<Case> {
    [
        ids_cases(),
        names_and_origins_cases(),
        tensors_cases(),
        input_conversion_cases(),
        dataflow_cases(),
        counts_and_indices_cases(),
        grids_cases(),
        parameters_cases_1(),
        parameters_cases_2(),
        soundness_cases(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Breakages of the invariants of group 1. Ids.
fn ids_cases() -> Vec<Case> {
    #[allow(unused_imports)]
    use LayerKind as K;
    #[allow(unused_imports)]
    use VerifyError as E;
    vec![
        // 1. Ids
        case!(
            "layer input id",
            "relu",
            |m, i| m.layers[i].inputs[0] = TensorId(999),
            E::BadTensorId { site: Site::Layer(_), id: TensorId(999), .. }
        ),
        case!("model output id", "relu", |m, i| m.output = TensorId(999), E::BadTensorId { site: Site::Output, .. }),
        case!("model input id", "relu", |m, i| m.input = TensorId(999), E::BadTensorId { site: Site::Input, .. }),
    ]
}

/// Breakages of the invariants of group 2. Names and origins.
fn names_and_origins_cases() -> Vec<Case> {
    #[allow(unused_imports)]
    use LayerKind as K;
    #[allow(unused_imports)]
    use VerifyError as E;
    vec![
        // 2. Names and origins
        case!("layer name", "relu", |m, i| m.layers[i].name = "1relu".into(), E::BadLayerName { .. }),
        case!("layer name with a dot", "relu", |m, i| m.layers[i].name = "re.lu".into(), E::BadLayerName { .. }),
        case!(
            "duplicate layer name",
            "relu",
            |m, i| m.layers[i].name = m.layers[0].name.clone(),
            E::DuplicateLayerName { .. }
        ),
        case!("no origin", "relu", |m, i| m.layers[i].origin.clear(), E::NoOrigin { .. }),
    ]
}

/// Breakages of the invariants of group 3. Tensors.
fn tensors_cases() -> Vec<Case> {
    #[allow(unused_imports)]
    use LayerKind as K;
    #[allow(unused_imports)]
    use VerifyError as E;
    vec![
        // 3. Tensors
        case!(
            "shape",
            "relu",
            |m, i| {
                let t = m.layers[i].output.0 as usize;
                m.tensors[t].shape = vec![1, 5]
            },
            E::ShapeMismatch { site: Site::Layer(_), expected: 5, elems: 3, .. }
        ),
        case!(
            "input shape",
            "relu",
            |m, i| {
                let t = m.input.0 as usize;
                m.tensors[t].shape = vec![2, 4]
            },
            E::ShapeMismatch { site: Site::Input, .. }
        ),
        case!(
            "empty interval",
            "relu",
            |m, i| out(m, i)[1] = Elem { frac: 6, lo: 5, hi: 4 },
            E::EmptyInterval { element: 1, lo: 5, hi: 4, .. }
        ),
        case!("frac", "relu", |m, i| out(m, i)[0].frac = 1 << 20, E::FracOutOfRange { element: 0, .. }),
        case!(
            "input frac",
            "relu",
            |m, i| {
                let t = m.input.0 as usize;
                m.tensors[t].elems[2].frac = i32::MIN
            },
            E::FracOutOfRange { site: Site::Input, element: 2, .. }
        ),
        case!("width", "relu", |m, i| out(m, i)[0].hi = 1 << 121, E::TooWide { width: 122, .. }),
    ]
}

/// Breakages of the invariants of group 4. Input conversion.
fn input_conversion_cases() -> Vec<Case> {
    #[allow(unused_imports)]
    use LayerKind as K;
    #[allow(unused_imports)]
    use VerifyError as E;
    vec![
        // 4. Input conversion
        case!(
            "input type width",
            "relu",
            |m, i| m.prologue.conv = InputConv::Type(FixedType { width: 0, ..FixedType::DEFAULT }),
            E::BadInputType { .. }
        ),
        case!(
            "input outside its type",
            "relu",
            |m, i| m.prologue.conv = InputConv::Type(FixedType { width: 4, int_bits: 1, ..FixedType::DEFAULT }),
            E::InputOutsideType { element: 0, .. }
        ),
    ]
}

/// Breakages of the invariants of group 5. Dataflow.
fn dataflow_cases() -> Vec<Case> {
    #[allow(unused_imports)]
    use LayerKind as K;
    #[allow(unused_imports)]
    use VerifyError as E;
    vec![
        // 5. Dataflow
        case!("reads nothing", "relu", |m, i| m.layers[i].inputs.clear(), E::NoInputs { .. }),
        case!("read before defined", "relu", |m, i| m.layers.swap(i - 1, i), E::ReadBeforeDefined { .. }),
        case!(
            "writes the input",
            "relu",
            |m, i| m.layers[i].output = m.input,
            E::WrittenTwice { first: Site::Input, .. }
        ),
        case!(
            "written twice",
            "relu",
            |m, i| m.layers[i].output = m.layers[i - 1].output,
            E::WrittenTwice { first: Site::Layer(_), .. }
        ),
        case!(
            "output never computed",
            "relu",
            |m, i| {
                m.tensors.push(m.tensors[0].clone());
                m.output = TensorId(m.tensors.len() as u32 - 1)
            },
            E::OutputUndefined { .. }
        ),
        case!(
            "epilogue shape",
            "relu",
            |m, i| {
                m.epilogue.push(tachyon_quantize::qir::FloatStep {
                    node: "scale".into(),
                    op: tachyon_frontend::Op::Relu,
                    args: vec![None],
                    base_operand: None,
                });
                m.epilogue_shape = vec![1, 7]
            },
            E::EpilogueShape { expected: 7, elems: 3, .. }
        ),
    ]
}

/// Breakages of the invariants of group 6. Counts and indices.
fn counts_and_indices_cases() -> Vec<Case> {
    #[allow(unused_imports)]
    use LayerKind as K;
    #[allow(unused_imports)]
    use VerifyError as E;
    vec![
        // 6. Counts and indices
        case!(
            "linear rows",
            "linear",
            |m, i| if let K::Linear { rows, .. } = &mut m.layers[i].kind {
                rows.pop();
            },
            E::CountMismatch { what: "rows", count: 2, expected: 3, .. }
        ),
        case!(
            "linear biases",
            "linear",
            |m, i| if let K::Linear { bias, .. } = &mut m.layers[i].kind {
                bias.push(0);
            },
            E::CountMismatch { what: "biases", count: 4, .. }
        ),
        case!(
            "linear index",
            "linear",
            |m, i| if let K::Linear { rows, .. } = &mut m.layers[i].kind {
                rows[0].push((4, 1));
            },
            E::IndexOutOfRange { what: "row entry", index: 4, inputs: 4, .. }
        ),
        case!(
            "requant specs",
            "requant",
            |m, i| if let K::Requant(rs) = &mut m.layers[i].kind {
                rs.pop();
            },
            E::CountMismatch { what: "requant specs", .. }
        ),
        case!(
            "relu inputs",
            "relu",
            |m, i| m.layers[i].inputs.push(m.input),
            E::CountMismatch { what: "input elements", count: 7, .. }
        ),
        case!(
            "step functions",
            "threshold",
            |m, i| if let K::Threshold(ss) = &mut m.layers[i].kind {
                ss.pop();
            },
            E::CountMismatch { what: "step functions", .. }
        ),
        case!(
            "gather sources",
            "gather",
            |m, i| if let K::Gather(src) = &mut m.layers[i].kind {
                src.push(0);
            },
            E::CountMismatch { what: "sources", .. }
        ),
        case!(
            "gather index",
            "gather",
            |m, i| if let K::Gather(src) = &mut m.layers[i].kind {
                src[3] = u32::MAX;
            },
            E::IndexOutOfRange { what: "gather source", index: u32::MAX, .. }
        ),
        case!(
            "max index",
            "max",
            |m, i| if let K::Max(sets) = &mut m.layers[i].kind {
                sets[0].push(8);
            },
            E::IndexOutOfRange { what: "max operand", index: 8, .. }
        ),
        case!(
            "products",
            "product",
            |m, i| if let K::Product(p) = &mut m.layers[i].kind {
                p.pop();
            },
            E::CountMismatch { what: "products", .. }
        ),
        case!(
            "product index",
            "product",
            |m, i| if let K::Product(p) = &mut m.layers[i].kind {
                p[0].1 = 8;
            },
            E::IndexOutOfRange { what: "product operand", index: 8, .. }
        ),
        case!(
            "layernorm gains",
            "layernorm",
            |m, i| if let K::LayerNorm(s) = &mut m.layers[i].kind {
                s.gain.pop();
            },
            E::CountMismatch { what: "gains", .. }
        ),
        case!("softmax inputs", "softmax", |m, i| out(m, i).truncate(3), E::ShapeMismatch { .. }),
    ]
}

/// Breakages of the invariants of group 7. Grids.
fn grids_cases() -> Vec<Case> {
    #[allow(unused_imports)]
    use LayerKind as K;
    #[allow(unused_imports)]
    use VerifyError as E;
    vec![
        // 7. Grids
        case!(
            "requant input grid",
            "requant",
            |m, i| if let K::Requant(rs) = &mut m.layers[i].kind {
                rs[2].from_frac += 1;
            },
            E::RequantGrid { element: 2, side: "input", .. }
        ),
        case!(
            "requant output grid",
            "requant",
            |m, i| if let K::Requant(rs) = &mut m.layers[i].kind {
                rs[0].to_frac -= 1;
            },
            E::RequantGrid { element: 0, side: "output", .. }
        ),
        case!("relu grid", "relu", |m, i| out(m, i)[1].frac += 1, E::GridChanged { kind: "relu", element: 1, .. }),
        case!(
            "gather grid",
            "gather",
            |m, i| out(m, i)[5].frac -= 2,
            E::GridChanged { kind: "gather", element: 5, source_element: 5, .. }
        ),
        case!("max grid", "max", |m, i| out(m, i)[0].frac += 1, E::GridChanged { kind: "max", .. }),
        case!("product grid", "product", |m, i| out(m, i)[0].frac = 3, E::ProductGrid { a: 3, b: 3, out: 3, .. }),
        case!(
            "softmax grid",
            "softmax",
            |m, i| {
                let t = m.input.0 as usize;
                m.tensors[t].elems[1].frac = 4
            },
            E::MixedGrid { kind: "softmax", element: 1, frac: 4, first: 3, .. }
        ),
        case!(
            "lookup grid",
            "lookup",
            |m, i| {
                let t = m.input.0 as usize;
                m.tensors[t].elems[3].frac = 2
            },
            E::MixedGrid { kind: "lookup", element: 3, .. }
        ),
        case!(
            "layernorm grid",
            "layernorm",
            |m, i| {
                let t = m.input.0 as usize;
                m.tensors[t].elems[2].frac = 2
            },
            E::MixedGrid { kind: "layernorm", element: 2, .. }
        ),
    ]
}

/// Breakages of the invariants of group 8. Parameters.
fn parameters_cases_1() -> Vec<Case> {
    #[allow(unused_imports)]
    use LayerKind as K;
    #[allow(unused_imports)]
    use VerifyError as E;
    vec![
        // 8. Parameters
        case!(
            "requant range",
            "requant",
            |m, i| if let K::Requant(rs) = &mut m.layers[i].kind {
                rs[1].lo = rs[1].hi + 1;
            },
            E::RequantRange { element: 1, .. }
        ),
        case!(
            "requant even divisor",
            "requant",
            |m, i| if let K::Requant(rs) = &mut m.layers[i].kind {
                rs[0].div = 2;
            },
            E::RequantDivisor { div: 2, .. }
        ),
        case!(
            "requant zero divisor",
            "requant",
            |m, i| if let K::Requant(rs) = &mut m.layers[i].kind {
                rs[0].div = 0;
            },
            E::RequantDivisor { div: 0, .. }
        ),
        case!(
            "requant divisor with wrap",
            "requant",
            |m, i| if let K::Requant(rs) = &mut m.layers[i].kind {
                rs[0].div = 3;
                rs[0].overflow = Overflow::Wrap;
            },
            E::RequantDivisor { div: 3, .. }
        ),
        case!(
            "steps length",
            "threshold",
            |m, i| if let K::Threshold(ss) = &mut m.layers[i].kind {
                ss[2].values.push(0);
            },
            E::StepsLength { element: 2, .. }
        ),
        case!(
            "steps order",
            "threshold",
            |m, i| if let K::Threshold(ss) = &mut m.layers[i].kind {
                ss[1].thresholds[1] = ss[1].thresholds[0];
            },
            E::StepsOrder { element: 1, .. }
        ),
        case!(
            "empty lookup table",
            "lookup",
            |m, i| if let K::Lookup(t) = &mut m.layers[i].kind {
                t.entries.clear();
            },
            E::EmptyTable { table: "lookup table", .. }
        ),
        case!(
            "lookup shift",
            "lookup",
            |m, i| if let K::Lookup(t) = &mut m.layers[i].kind {
                t.shift = 128;
            },
            E::ShiftTooLarge { shift: 128, .. }
        ),
        case!(
            "empty softmax table",
            "softmax",
            |m, i| if let K::Softmax(s) = &mut m.layers[i].kind {
                s.inv_table.clear();
            },
            E::EmptyTable { table: "1/x table", .. }
        ),
        case!(
            "negative softmax entry",
            "softmax",
            |m, i| if let K::Softmax(s) = &mut m.layers[i].kind {
                s.exp_table[5] = -1;
            },
            E::NegativeTableEntry { table: "exp table", entry: 5, value: -1, .. }
        ),
    ]
}

/// Breakages of the invariants of group 8. Parameters.
fn parameters_cases_2() -> Vec<Case> {
    #[allow(unused_imports)]
    use LayerKind as K;
    #[allow(unused_imports)]
    use VerifyError as E;
    vec![
        // 8. Parameters (continued)
        case!(
            "softmax shift",
            "softmax",
            |m, i| if let K::Softmax(s) = &mut m.layers[i].kind {
                s.exp_shift = u32::MAX;
            },
            E::ShiftTooLarge { .. }
        ),
        case!(
            "empty max set",
            "max",
            |m, i| if let K::Max(sets) = &mut m.layers[i].kind {
                sets[0].clear();
            },
            E::EmptyMaxSet { element: 0, .. }
        ),
        case!(
            "layernorm mantissa",
            "layernorm",
            |m, i| if let K::LayerNorm(s) = &mut m.layers[i].kind {
                s.mant_bits = 1;
            },
            E::LayerNormMantissa { mant_bits: 1, .. }
        ),
        case!(
            "layernorm huge mantissa",
            "layernorm",
            |m, i| if let K::LayerNorm(s) = &mut m.layers[i].kind {
                s.mant_bits = 200;
            },
            E::LayerNormMantissa { mant_bits: 200, .. }
        ),
        case!(
            "layernorm table",
            "layernorm",
            |m, i| if let K::LayerNorm(s) = &mut m.layers[i].kind {
                s.rsqrt[1].pop();
            },
            E::LayerNormTable { parity: 1, .. }
        ),
        case!(
            "layernorm eps",
            "layernorm",
            |m, i| if let K::LayerNorm(s) = &mut m.layers[i].kind {
                s.eps = 0;
            },
            E::LayerNormEps { eps: 0, .. }
        ),
        case!(
            "layernorm exponents",
            "layernorm",
            |m, i| if let K::LayerNorm(s) = &mut m.layers[i].kind {
                s.p = u32::MAX;
            },
            E::LayerNormExponents { .. }
        ),
        case!(
            "layernorm hmax",
            "layernorm",
            |m, i| if let K::LayerNorm(s) = &mut m.layers[i].kind {
                s.hmax -= 1;
            },
            E::LayerNormHmax { .. }
        ),
        case!(
            "layernorm range",
            "layernorm",
            |m, i| {
                let t = m.input.0 as usize;
                for e in &mut m.tensors[t].elems {
                    (e.lo, e.hi) = (-(1 << 110), 1 << 110);
                }
            },
            E::LayerNormRange { .. }
        ),
    ]
}

/// Breakages of the invariants of group 9. Soundness.
fn soundness_cases() -> Vec<Case> {
    #[allow(unused_imports)]
    use LayerKind as K;
    #[allow(unused_imports)]
    use VerifyError as E;
    vec![
        // 9. Soundness
        case!(
            "linear overflow",
            "linear",
            |m, i| if let K::Linear { rows, .. } = &mut m.layers[i].kind {
                rows[1][0].1 = i128::MAX / 3;
            },
            E::Overflow { kind: "linear", element: 1, .. }
        ),
        case!(
            "product overflow",
            "product",
            |m, i| {
                let t = m.input.0 as usize;
                m.tensors[t].elems[0] = Elem { frac: 3, lo: -(1 << 100), hi: 1 << 100 };
            },
            E::Overflow { kind: "product", element: 0, .. }
        ),
        case!(
            "unsound relu",
            "relu",
            |m, i| out(m, i)[2].hi = 100,
            E::Unsound { kind: "relu", element: 2, hi: 1591, type_hi: 100, .. }
        ),
        case!("unsound requant", "requant", |m, i| out(m, i)[0].lo = 1, E::Unsound { kind: "requant", element: 0, .. }),
        case!("unsound linear", "linear", |m, i| out(m, i)[0].lo += 1, E::Unsound { kind: "linear", element: 0, .. }),
        case!("unsound lookup", "lookup", |m, i| out(m, i)[0].hi -= 1, E::Unsound { kind: "lookup", .. }),
        case!("unsound softmax", "softmax", |m, i| out(m, i)[3].hi = 5, E::Unsound { kind: "softmax", element: 3, .. }),
        case!("unsound gather", "gather", |m, i| out(m, i)[7].lo = 0, E::Unsound { kind: "gather", element: 7, .. }),
        case!("unsound max", "max", |m, i| out(m, i)[0].hi = 126, E::Unsound { kind: "max", .. }),
        case!("unsound product", "product", |m, i| out(m, i)[1].lo = 0, E::Unsound { kind: "product", element: 1, .. }),
        case!("unsound threshold", "threshold", |m, i| out(m, i)[0].hi = 0, E::Unsound { kind: "threshold", .. }),
        case!("unsound layernorm", "layernorm", |m, i| out(m, i)[0].hi -= 1, E::Unsound { kind: "layernorm", .. }),
    ]
}

#[test]
fn every_broken_invariant_gives_its_variant() {
    let models = small_models();
    let mut failures = vec![];
    for c in cases() {
        let (mut m, i) = with_kind(&models, c.kind);
        (c.mutate)(&mut m, i);
        match verify(&m) {
            Err(e) if (c.expect)(&e) => {
                // Messages name the layer (or the model input/output) they are about.
                let msg = e.to_string();
                assert!(!msg.is_empty(), "{}: empty message", c.name);
            }
            other => failures.push(format!("{}: got {other:?}", c.name)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every variant is produced by at least one case above (so a new variant needs a new case).
#[test]
fn the_cases_cover_every_variant() {
    let models = small_models();
    let mut seen = std::collections::BTreeSet::new();
    for c in cases() {
        let (mut m, i) = with_kind(&models, c.kind);
        (c.mutate)(&mut m, i);
        if let Err(e) = verify(&m) {
            seen.insert(format!("{e:?}").split([' ', '{', '(']).next().unwrap_or_default().to_string());
        }
    }
    let all = "BadTensorId ShapeMismatch EmptyInterval FracOutOfRange TooWide BadInputType InputOutsideType \
               OutputUndefined EpilogueShape BadLayerName DuplicateLayerName NoOrigin NoInputs ReadBeforeDefined \
               WrittenTwice CountMismatch IndexOutOfRange RequantGrid GridChanged ProductGrid MixedGrid RequantRange \
               RequantDivisor StepsLength StepsOrder EmptyTable NegativeTableEntry ShiftTooLarge EmptyMaxSet \
               LayerNormMantissa LayerNormTable LayerNormEps LayerNormExponents LayerNormHmax LayerNormRange \
               Overflow Unsound";
    let missing: Vec<&str> = all.split_whitespace().filter(|v| !seen.contains(*v)).collect();
    assert!(missing.is_empty(), "no case produces {missing:?}");
}

/// Arbitrary garbage in every numeric field: `verify` returns, whatever it finds.
#[test]
fn never_panics_on_scrambled_models() {
    let models = small_models();
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let extremes = [i128::MIN, i128::MAX, 0, -1, 1, 1 << 100, -(1 << 126)];
    for round in 0..2000 {
        let mut m = models[round % models.len()].clone();
        for _ in 0..1 + next() % 3 {
            let v = extremes[(next() % extremes.len() as u64) as usize];
            let t = (next() % m.tensors.len() as u64) as usize;
            let n = m.tensors[t].elems.len().max(1);
            if let Some(e) = m.tensors[t].elems.get_mut((next() as usize) % n) {
                match next() % 3 {
                    0 => e.lo = v,
                    1 => e.hi = v,
                    _ => e.frac = v as i32,
                }
            }
            let l = (next() % m.layers.len().max(1) as u64) as usize;
            if let Some(layer) = m.layers.get_mut(l) {
                match &mut layer.kind {
                    LayerKind::Linear { rows, bias } => {
                        if let Some(b) = bias.first_mut() {
                            *b = v;
                        }
                        if let Some(c) = rows.iter_mut().flatten().next() {
                            c.1 = v;
                        }
                    }
                    LayerKind::Requant(rs) => {
                        rs[0].from_frac = v as i32;
                        rs[0].lo = v;
                    }
                    LayerKind::LayerNorm(s) => {
                        s.hmax = v as i32;
                        s.shift = v as u32;
                        s.mant_bits = (v as u32) % 40;
                    }
                    LayerKind::Softmax(s) => s.out_shift = v as u32,
                    LayerKind::Lookup(t) => t.offset = v,
                    LayerKind::Threshold(ss) => ss[0].values[0] = v,
                    _ => {}
                }
            }
        }
        let _ = verify(&m);
    }
}
