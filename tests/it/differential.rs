//! Differential fuzzing, fixed seeds: random quantized QONNX models
//! (`tachyon_fuzz::random_model`) must agree at the three levels of `tachyon_fuzz::campaign` — float
//! QONNX semantics = reference interpreter (exactly, or within the table bounds at every
//! softmax, sigmoid and layer normalization), and Verilator RTL = interpreter, bit for bit.
//! Also: the generator is deterministic, and every model loads, lowers and contains the op
//! families it claims.

use crate::common::*;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use tachyon_fuzz::campaign::{check_model, input_vectors, Check};
use tachyon_fuzz::random_model::{random_model, random_model_with, to_bytes, Limits};
use tachyon_quantize::{interp, Config};

/// First seed and size of the batch co-simulated by `fixed_seed_batch_agrees_at_three_levels`.
const FIRST_SEED: u64 = 1;
const MODELS: u64 = 24;
/// Vectors per model and level.
const VECTORS: usize = 50;

/// The op families the generator's module doc claims to cover.
const FAMILIES: &[&str] = &[
    "Add",
    "AveragePool",
    "BatchNormalization",
    "BipolarQuant",
    "Cast",
    "Clip",
    "Concat",
    "Conv",
    "Div",
    "Dropout",
    "Flatten",
    "Gemm",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "Identity",
    "LayerNormalization",
    "LeakyRelu",
    "MatMul",
    "Max",
    "MaxPool",
    "Mul",
    "Neg",
    "Pad",
    "Quant",
    "ReduceMax",
    "ReduceMean",
    "ReduceSum",
    "Relu",
    "Reshape",
    "Sigmoid",
    "Slice",
    "Softmax",
    "Squeeze",
    "Sub",
    "Transpose",
    "Trunc",
    "Unsqueeze",
];

#[test]
fn generator_is_deterministic_and_models_have_the_claimed_ops() {
    let dir = scratch("differential_ops");
    std::fs::create_dir_all(&dir).unwrap();
    let mut seen = BTreeSet::new();
    let mut cnn = 0;
    for seed in 0..300 {
        let (m, info) = random_model(seed);
        let bytes = to_bytes(&m);
        assert_eq!(bytes, to_bytes(&random_model(seed).0), "seed {seed}: two different models");
        assert_eq!(info, random_model(seed).1);
        let path = dir.join(format!("m{seed}.onnx"));
        let g = tachyon_frontend::decode_model(&bytes, &path).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let ops: BTreeSet<String> = g.nodes.iter().map(|n| n.op_type.clone()).collect();
        assert_eq!(ops, info.ops, "seed {seed}: {}", info.description);
        tachyon_quantize::lower(&g, &Config::default()).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!((1..=3).contains(&info.layers) && info.widths.len() == info.layers);
        assert!(info.input_width >= 1 && info.widths.iter().all(|w| (1..=8).contains(w)));
        match &info.input_shape[..] {
            [1, n] | [1, _, n] if info.particles > 1 || info.input_shape.len() == 2 => {
                assert!((1..=8).contains(n) && *n == info.input_width)
            }
            [1, c, l] => assert!((1..=3).contains(c) && (3..=12).contains(l), "{:?}", info.input_shape),
            [1, c, h, w] => assert!((1..=3).contains(c) && (2..=6).contains(h) && (2..=6).contains(w)),
            other => panic!("seed {seed}: input shape {other:?}"),
        }
        cnn += (info.input_shape.len() > 2 && info.particles == 1) as usize;
        seen.extend(info.ops);
    }
    let missing: Vec<&&str> = FAMILIES.iter().filter(|f| !seen.contains(**f)).collect();
    assert!(missing.is_empty(), "op families never generated in 300 seeds: {missing:?}");
    assert!((25..=80).contains(&cnn), "{cnn} CNN models of 300");
    // Smaller limits give smaller models from the same seed.
    let small = Limits { max_layers: 1, max_width: 2, max_bits: 4, extras: false };
    for seed in 0..50 {
        let (m, info) = random_model_with(seed, &small);
        assert_eq!(to_bytes(&m), to_bytes(&random_model_with(seed, &small).0));
        assert!(info.layers == 1 && info.input_width <= 2 && info.widths[0] <= 2, "{}", info.description);
        assert!(info.ops.iter().all(|o| ["Quant", "MatMul", "Gemm", "Add", "Relu"].contains(&o.as_str())));
    }
}

/// The generated models are not degenerate: in most of them the outputs vary with the input.
#[test]
fn random_models_compute_something() {
    let dir = scratch("differential_informative");
    std::fs::create_dir_all(&dir).unwrap();
    let mut varying = 0;
    for seed in 0..100 {
        let (m, _) = random_model(seed);
        let g = tachyon_frontend::decode_model(&to_bytes(&m), &dir.join("m.onnx")).unwrap();
        let q = tachyon_quantize::lower(&g, &Config::default()).unwrap();
        let outs: BTreeSet<Vec<u64>> = input_vectors(&q, 50, seed)
            .iter()
            .map(|x| interp::evaluate(&q, x).unwrap().iter().map(|v| v.to_bits()).collect())
            .collect();
        varying += (outs.len() > 1) as usize;
    }
    assert!(varying >= 70, "only {varying} of 100 random models have outputs that depend on the input");
}

/// Worker threads of the batch: Verilator builds are mostly single-threaded phases (parsing,
/// linking), so two builds side by side use two cores better than one build with `-j 2`.
const WORKERS: usize = 2;

#[test]
fn fixed_seed_batch_agrees_at_three_levels() {
    let verilator = have("verilator");
    let dir = scratch("differential_batch");
    std::fs::create_dir_all(&dir).unwrap();
    let start = Instant::now();
    let next = AtomicU64::new(FIRST_SEED);
    let outcomes = Mutex::new(vec![]);
    std::thread::scope(|s| {
        for _ in 0..WORKERS {
            s.spawn(|| loop {
                let seed = next.fetch_add(1, Ordering::Relaxed);
                if seed >= FIRST_SEED + MODELS {
                    break;
                }
                let (m, info) = random_model(seed);
                let path = dir.join(format!("model_{seed}.onnx"));
                std::fs::write(&path, to_bytes(&m)).unwrap();
                let o = check_model(&path, VECTORS, seed, verilator).unwrap();
                outcomes.lock().unwrap().push((seed, info, o));
            });
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap();
    outcomes.sort_by_key(|(seed, ..)| *seed);
    let (mut exact, mut approx, mut skipped, mut rtl) = (0, 0, vec![], 0);
    let mut failures = vec![];
    for (seed, info, o) in &outcomes {
        match &o.float {
            Check::Exact => exact += 1,
            Check::Approx { .. } => approx += 1,
            Check::Skipped(why) => skipped.push(format!("seed {seed}: {why}")),
            Check::Failed => {}
        }
        rtl += (o.rtl == Check::Exact) as usize;
        for f in &o.failures {
            failures.push(format!("seed {seed} ({}) failed at {}:\n{}", info.description, f.level, f.detail));
        }
    }
    skip_note!(
        "differential: {} models in {:.1} s; (a) exact {exact}, within table bounds {approx}, skipped {} {:?}; \
         (c) {rtl} co-simulated",
        outcomes.len(),
        start.elapsed().as_secs_f64(),
        skipped.len(),
        skipped
    );
    assert_eq!(outcomes.len(), MODELS as usize);
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n\n"));
    assert!(exact >= MODELS as usize * 3 / 5, "level (a) compared exactly on only {exact} models");
    if verilator {
        assert_eq!(rtl, MODELS as usize, "every model co-simulated");
    }
}

/// Checks a frozen fuzzer failure from `tests/fixtures/fuzz/` at the three levels (`seed` picks
/// the vectors and the hardware variant it failed with).
fn fuzz_fixture(file: &str, seed: u64) {
    if !have("verilator") {
        return;
    }
    let path = repo().join("tests/fixtures/fuzz").join(file);
    let o = check_model(&path, VECTORS, seed, true).unwrap();
    let details: Vec<String> = o.failures.iter().map(|f| format!("{}: {}", f.level, f.detail)).collect();
    assert!(o.passed(), "{file}:\n{}", details.join("\n"));
}

/// Reuse > 1 folded compile-time-constant inputs by their interval's lower bound (fixed in
/// 628d6cf; tests/fixtures/fuzz/reuse_constant_inputs_seed179.txt).
#[test]
fn fuzz_seed179_reuse_with_constant_inputs() {
    fuzz_fixture("reuse_constant_inputs_seed179.onnx", 179);
}

/// An input FixedQuant pruning every element (a constant design) was refused at compile
/// (tests/fixtures/fuzz/fixed_all_pruned_input_seed93.txt).
#[test]
fn fuzz_seed93_fixed_quant_pruning_the_whole_input() {
    fuzz_fixture("fixed_all_pruned_input_seed93.onnx", 93);
}

/// Half-even rounding dropped the x[s] term when the shift reached past a signed value's width
/// (tests/fixtures/fuzz/half_even_shift_beyond_width.txt).
#[test]
fn fuzz_seed379_half_even_shift_beyond_width() {
    fuzz_fixture("half_even_shift_beyond_width_seed379.onnx", 379);
    fuzz_fixture("half_even_shift_beyond_width_min.onnx", 1);
}

/// Clip with one bound of an element that always lies beyond it (a conv channel whose range is
/// all negative, then Clip(x, 0)) was refused as "Clip bounds 0 and inf meet on the grid" —
/// found by the CNN models of the fuzzer. The element is the bound, a constant.
#[test]
fn fuzz_clip_one_bound_of_an_element_beyond_it() {
    use tachyon_common::onnx_builder::{GraphBuilder, QONNX_DOMAIN};
    let mut g = GraphBuilder::new("clip_beyond");
    let x = g.input("x", &[1, 2]);
    let xq = g.quant(&x, "xq", 1.0, 0.0, 4.0, false, false, "ROUND");
    let off = g.initializer_f32("off", &[2], &[-16.0, -4.0]);
    let shifted = g.node("Add", "", "shift", &[&xq, &off], &["shifted"], vec![]);
    let lo = g.initializer_f32("lo", &[], &[0.0]);
    let hi = g.initializer_f32("hi", &[], &[-2.0]);
    let floor = g.node("Clip", "", "clip_lo", &[&shifted, &lo], &["floored"], vec![]);
    let ceil = g.node("Clip", "", "clip_hi", &[&floor, "", &hi], &["ceiled"], vec![]);
    g.quant(&ceil, "y", 1.0, 0.0, 6.0, true, false, "ROUND");
    g.output("y", &[1, 2]);
    let dir = scratch("differential_clip");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("clip_beyond.onnx");
    std::fs::write(&path, to_bytes(&g.build(&[("", 13), (QONNX_DOMAIN, 1)]))).unwrap();
    let o = check_model(&path, VECTORS, 1, have("verilator")).unwrap();
    let details: Vec<String> = o.failures.iter().map(|f| format!("{}: {}", f.level, f.detail)).collect();
    assert!(o.passed() && o.float == Check::Exact, "{:?}\n{}", o.float, details.join("\n"));
}

/// Attention heads from the generator (scores h·hᵀ, a softmax per row, A·h, quantized between)
/// agree at all three levels under their seeds' hardware variants, reuse ones included (the
/// products then take turns on DSPs, the sums stay parallel).
#[test]
fn fuzz_attention_heads_agree_at_three_levels() {
    use tachyon_fuzz::campaign::HardwareVariant;
    let dir = scratch("differential_attention");
    std::fs::create_dir_all(&dir).unwrap();
    let (mut reused, mut plain, mut picked) = (0, 0, vec![]);
    for seed in 0..20_000 {
        let (m, info) = random_model(seed);
        if !info.description.contains("attention head") {
            continue;
        }
        let v = HardwareVariant::of_seed(seed);
        let take = if v.reuse > 1 && v.strategy != "adders" { &mut reused } else { &mut plain };
        if *take < 3 {
            *take += 1;
            picked.push((seed, m, v.to_string()));
        }
        if reused == 3 && plain == 3 {
            break;
        }
    }
    assert!(reused == 3 && plain == 3, "attention heads: {reused} with reuse, {plain} without");
    for (seed, m, variant) in picked {
        let path = dir.join(format!("attention_{seed}.onnx"));
        std::fs::write(&path, to_bytes(&m)).unwrap();
        let out = check_model(&path, VECTORS, seed, true).unwrap();
        skip_note!("seed {seed} ({variant}): float {:?}, rtl {:?}", out.float, out.rtl);
        assert!(out.passed(), "seed {seed} ({variant}): {:?}", out.failures);
    }
}
