//! The compiled interpreter (`tachyon_quantize::plan`, behind the Python package's `predict`)
//! gives the reference interpreter's integers on every shipped example, the shared reference
//! models and 300 random fuzzer models, over random vectors spanning the full input ranges.

use crate::common::*;
use tachyon_quantize::interp;
use tachyon_quantize::plan::{Plan, Scratch};
use tachyon_quantize::{Config, QModel};

/// Block-wise prologue (`quantize_inputs`) against one sample at a time, on float samples.
fn same_codes(name: &str, q: &QModel, rows: usize, seed: u64) {
    let n: usize = q.prologue.input_shape.iter().product();
    let mut r = Lcg(seed);
    let xs: Vec<f64> = (0..rows * n).map(|_| r.int(-4000, 4000) as f64 / 997.0).collect();
    let one: Result<Vec<Vec<i128>>, String> = xs.chunks(n).map(|x| interp::quantize_input(q, x)).collect();
    match (interp::quantize_inputs(q, &xs, rows), one) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{name}"),
        (Err(_), Err(_)) => {}
        (a, b) => panic!("{name}: block-wise {:?} vs one by one {:?}", a.err(), b.err()),
    }
}

fn agree(name: &str, q: &QModel, n: usize, seed: u64) -> bool {
    same_codes(name, q, 64, seed);
    let Some(plan) = Plan::new(q) else { return false };
    let mut s = Scratch::default();
    for (i, v) in tachyon_driver::sim::random_vectors(q, n, seed).iter().enumerate() {
        assert_eq!(plan.run(&mut s, v), interp::run(q, v), "{name}: vector {i}");
    }
    true
}

#[test]
fn plan_equals_the_interpreter() {
    let mut planned = 0;
    let mut models: Vec<std::path::PathBuf> = std::fs::read_dir(repo().join("examples"))
        .unwrap()
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "onnx"))
        .collect();
    if let Some(d) = shared_models() {
        models.push(d.join("qonnx-model-zoo/TFC_2W2A.onnx"));
        models.push(d.join("qonnx-model-zoo/qkeras_jettagging.onnx"));
    }
    models.sort();
    for m in &models {
        let g = tachyon_frontend::load_model(m).unwrap();
        let q = tachyon_quantize::lower(&g, &Config::default()).unwrap();
        planned += agree(&m.display().to_string(), &q, 200, 7) as usize;
    }
    assert!(planned >= models.len() - 1, "{planned} of {} models planned", models.len());
    for seed in 0..300u64 {
        let (m, _) = tachyon_fuzz::random_model::random_model(seed);
        let bytes = tachyon_fuzz::random_model::to_bytes(&m);
        let Ok(g) = tachyon_frontend::decode_model(&bytes, std::path::Path::new("fuzz.onnx")) else { continue };
        let Ok(q) = tachyon_quantize::lower(&g, &Config::default()) else { continue };
        agree(&format!("fuzz seed {seed}"), &q, 50, seed);
    }
}
