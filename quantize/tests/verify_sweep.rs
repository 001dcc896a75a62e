//! Every model the quantize tests and the shipped examples lower verifies clean: the shipped
//! example models (with their configs where they have one), the fuzz fixtures, a float model
//! and a range of random models. (`lower` runs the verifier itself; a violation would surface as
//! `QuantizeError::Verify`. The explicit call below keeps the sweep honest should that change.)

mod common;

use tachyon_quantize::{Config, QuantizeError};

fn check(what: &str, r: Result<tachyon_quantize::QModel, QuantizeError>) {
    match r {
        Ok(m) => {
            if let Err(e) = tachyon_quantize::verify(&m) {
                panic!("{what}: {e}");
            }
        }
        Err(e) => panic!("{what}: lowering failed: {e}"),
    }
}

#[test]
fn shipped_examples_verify() {
    let dir = common::root().join("examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let d = entry.unwrap().path();
        let Some(name) = d.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
        let onnx = d.join(format!("{name}.onnx"));
        if !onnx.exists() {
            continue;
        }
        let json = d.join(format!("{name}.json"));
        let cfg = if json.exists() { Config::load(&json).unwrap() } else { Config::default() };
        check(&name, common::lower_file(&onnx, &cfg));
        seen += 1;
    }
    assert!(seen >= 7, "only {seen} example models found in {}", dir.display());
}

#[test]
fn fuzz_fixtures_verify() {
    let dir = common::root().join("tests/fixtures/fuzz");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().and_then(|e| e.to_str()) != Some("onnx") {
            continue;
        }
        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        let json = dir.join(format!("{stem}.config.json"));
        let cfg = if json.exists() { Config::load(&json).unwrap() } else { Config::default() };
        check(&stem, common::lower_file(&p, &cfg));
    }
}

/// (Random models are lowered, and so verified, by the differential fuzzing tests of
/// `tachyon-fuzz`, which owns the random-model generator.)
#[test]
fn generated_models_verify() {
    let float = tachyon_examples::float_mlp(3, &[8, 6, 4]);
    check("float MLP", common::lower_proto("float_mlp", &float, &Config::default()));
}
