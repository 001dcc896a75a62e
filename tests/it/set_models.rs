//! Permutation-invariant models (examples/src/set_models.rs) end to end: the interpreter equals
//! the float QONNX semantics, the RTL equals the interpreter, and permuting the particles of an
//! input leaves the RTL's outputs unchanged. Small shapes keep the Verilator builds short; the
//! shipped N = 32 deep set and N = 8 interaction network are built (not simulated) here and
//! benchmarked by `benches/sets.sh`.

use crate::common::*;
use prost::Message;
use tachyon_common::rng::Rng;
use tachyon_driver::project::build;
use tachyon_examples::set_models::{deep_set, interaction_net, particle_inputs, DeepSetShape, InteractionShape};
use tachyon_frontend::{DType, Tensor};
use tachyon_quantize::{interp, Config};

struct SetCase {
    name: &'static str,
    particles: usize,
    features: usize,
    model: Vec<u8>,
}

fn cases() -> Vec<SetCase> {
    let ds = DeepSetShape { particles: 6, features: 3, phi: vec![5, 4], rho: vec![4, 3] };
    let is = InteractionShape { particles: 4, features: 3, f_r: vec![4, 3], f_o: vec![4, 3], phi_c: vec![3] };
    vec![
        SetCase { name: "deep_set", particles: 6, features: 3, model: deep_set(&ds, 3).encode_to_vec() },
        SetCase { name: "interaction_net", particles: 4, features: 3, model: interaction_net(&is, 4).encode_to_vec() },
    ]
}

fn write(c: &SetCase, dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(format!("{}.onnx", c.name));
    std::fs::write(&p, &c.model).unwrap();
    p
}

/// `x` with its particles (rows of `f` features) reordered by `perm`.
fn permute(x: &[i128], f: usize, perm: &[usize]) -> Vec<i128> {
    perm.iter().flat_map(|&p| x[p * f..(p + 1) * f].iter().copied()).collect()
}

#[test]
fn set_models_match_float_semantics() {
    let dir = scratch("set_models");
    for c in cases() {
        let path = write(&c, &dir);
        let g = tachyon_frontend::load_model(&path).unwrap();
        let m = tachyon_quantize::lower(&g, &Config::default()).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let shape = vec![1, c.particles, c.features];
        let xs = particle_inputs(9, 300, c.particles, c.features);
        for x in xs.chunks(c.particles * c.features) {
            let x: Vec<f64> = x.iter().map(|&v| v as f64 * 3.0).collect();
            let want =
                tachyon_frontend::eval::run_float(&g, &[Tensor::new(DType::F32, shape.clone(), x.clone())]).unwrap();
            assert_eq!(interp::evaluate(&m, &x).unwrap(), want[0].data, "{}: x={x:?}", c.name);
        }
    }
}

#[test]
fn set_models_cosimulate_and_are_permutation_invariant_in_rtl() {
    let dir = scratch("set_models_rtl");
    // Fully parallel (II = 1), and φ folded over the particles (deep set: 6 particles on 2 or 3
    // copies; interaction network: the object network's 4 particles on 2 copies).
    let runs = [("deep_set", 1), ("deep_set", 3), ("deep_set", 2), ("interaction_net", 1), ("interaction_net", 2)];
    for (name, fold) in runs {
        let c = cases().into_iter().find(|c| c.name == name).unwrap();
        let path = write(&c, &dir);
        let out = dir.join(format!("{name}_fold{fold}"));
        let mut o = build_options(path, &out);
        o.clock_ns = Some(2.5);
        if fold > 1 {
            let cfg = dir.join(format!("{name}_fold{fold}.json"));
            std::fs::write(&cfg, format!("{{\"layers\": {{\"pool\": {{\"set_reuse\": {fold}}}}}}}")).unwrap();
            o.config = Some(cfg);
        }
        let built = build(&o).unwrap_or_else(|e| panic!("{name} fold {fold}: {e}"));
        assert_eq!(built.design.ii, fold, "{name}");
        if lint_and_cosim(&out, 1000).is_none() {
            skip_note!("skipped: verilator is not installed (RTL permutation check of {})", c.name);
            continue;
        }
        // Random input vectors, each followed by three permutations of its particles.
        let mut rng = Rng::new(21);
        let base = tachyon_driver::sim::random_vectors(&built.qmodel, 40, 5);
        let mut vectors = vec![];
        for x in &base {
            vectors.push(x.clone());
            for _ in 0..3 {
                let mut perm: Vec<usize> = (0..c.particles).collect();
                for i in (1..perm.len()).rev() {
                    perm.swap(i, rng.below(i as u64 + 1) as usize);
                }
                vectors.push(permute(x, c.features, &perm));
            }
        }
        let ys = tachyon_driver::sim::rtl_outputs(&out, &vectors).unwrap();
        assert_eq!(ys.len(), vectors.len());
        let mut varied = 0;
        for (k, group) in ys.chunks(4).enumerate() {
            for y in &group[1..] {
                assert_eq!(
                    y, &group[0],
                    "{}: vector {k}: a permutation of the particles changed the RTL output",
                    c.name
                );
            }
            varied += (group[0] != ys[0]) as usize;
        }
        assert!(varied > 0, "{}: every output equal; the check would not see a difference", c.name);
    }
}

#[test]
fn shipped_set_examples_build() {
    let dir = scratch("set_examples");
    let root = repo().join("examples");
    for (model, cfg) in [
        ("deep_set/deep_set.onnx", None),
        ("interaction_net/interaction_net.onnx", None),
        ("interaction_net/interaction_net.onnx", Some("interaction_net/reuse.json")),
    ] {
        let out = dir.join(model.replace('/', "_")).with_extension(if cfg.is_some() { "reuse" } else { "ii1" });
        let mut o = build_options(root.join(model), &out);
        o.clock_ns = Some(2.5);
        o.config = cfg.map(|c| root.join(c));
        let b = build(&o).unwrap_or_else(|e| panic!("{model}: {e}"));
        assert_eq!(b.design.ii, if cfg.is_some() { 4 } else { 1 }, "{model}");
    }
}

#[test]
fn set_reuse_that_cannot_fold_is_refused_by_name() {
    let dir = scratch("set_models_bad_fold");
    let c = cases().into_iter().find(|c| c.name == "deep_set").unwrap();
    let path = write(&c, &dir);
    for (layer, r, want) in
        [("pool", 4, "must divide the 6 particles"), ("rho0_matmul", 2, "not a sum, mean or maximum")]
    {
        let cfg = dir.join(format!("{layer}.json"));
        std::fs::write(&cfg, format!("{{\"layers\": {{\"{layer}\": {{\"set_reuse\": {r}}}}}}}")).unwrap();
        let mut o = build_options(&path, dir.join(format!("out_{layer}")));
        o.config = Some(cfg);
        let Err(e) = build(&o) else { panic!("{layer}: set_reuse {r} was accepted") };
        let e = format!("{e:#}");
        assert!(e.contains("set_reuse") && e.contains(want), "{layer}: {e}");
        assert!(!dir.join(format!("out_{layer}")).exists());
    }
}
