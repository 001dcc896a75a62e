//! The five HGQ2 (Keras 3) checkpoints of ../shared/models/hgq2 end to end, the way a user runs
//! them: `tachyon build MODEL.keras` (exported by tachyon-export through TACHYON_PYTHON), then
//! the export evaluated by the exporter's NumPy reference semantics and Tachyon's reference
//! interpreter must each equal Keras's own outputs bit for bit on all 2,000 vectors
//! (half of them overflowing the wrap-around quantizers), the same model gives the same files
//! again, and the RTL must equal Keras on the 2,000 vectors and be lint clean (Verilator,
//! whose harness build of a flat design runs `-Wall`; about 20 s for each transformer). Needs
//! the exporter's Python (scripts/python-env.sh makes `.venv`); skipped, saying so, when it is
//! absent — CI has it.

use crate::common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Python with tachyon-export and HGQ2: `TACHYON_PYTHON`, else the repository's `.venv`.
fn exporter_python() -> Option<PathBuf> {
    let py = std::env::var_os("TACHYON_PYTHON").map(PathBuf::from).unwrap_or_else(|| repo().join(".venv/bin/python"));
    let ok = Command::new(&py)
        .args(["-c", "import tachyon_export, hgq"])
        .env("KERAS_BACKEND", "jax")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip_note!("skipped: no Python with tachyon-export and hgq2 at {} (run scripts/python-env.sh)", py.display());
        return None;
    }
    Some(py)
}

/// `tachyon build dir/name.keras --clock-ns clock -o out`.
fn build_keras(py: &Path, dir: &Path, name: &str, clock: &str, out: &Path) {
    let run = Command::new(env!("CARGO_BIN_EXE_tachyon"))
        .args(["build", dir.join(format!("{name}.keras")).to_str().unwrap(), "--clock-ns", clock, "--force", "-o"])
        .arg(out)
        .env("TACHYON_PYTHON", py)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout).to_string() + &String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{name}: {text}");
}

/// Builds `name` from its .keras file with the CLI (with `twice`, again: same files), checks
/// exporter's NumPy reference = interpreter = Keras on every vector, lints, and co-simulates the
/// 2,000 vectors.
fn check(name: &str, clock: &str, twice: bool) {
    let (Some(models), Some(py)) = (shared_models(), exporter_python()) else { return };
    let dir = models.join("hgq2");
    let out = scratch(&format!("hgq2_{name}"));
    build_keras(&py, &dir, name, clock, &out);
    if twice {
        // Deterministic: the same model and config give the same files (checked on the smaller
        // models; the transformers' builds take a minute each here).
        let again = scratch(&format!("hgq2_{name}_again"));
        build_keras(&py, &dir, name, clock, &again);
        for f in ["rtl/tachyon_top.v", "report.json", "model.txt", "qmodel.json", "model.onnx"] {
            assert!(
                std::fs::read(out.join(f)).unwrap() == std::fs::read(again.join(f)).unwrap(),
                "{name}: {f} differs"
            );
        }
    }
    reference_equals_keras(&py, &out, &dir, name);
    interpreter_equals_keras(&out, &dir, name);
    if have("verilator") {
        // The harness build of a flat design is its `-Wall` lint too (one Verilator parse of
        // the transformers' 257 k lines instead of two).
        let s = tachyon_driver::sim::run(
            &out,
            &tachyon_driver::sim::SimOptions {
                inputs: Some(dir.join(format!("{name}.input.npy"))),
                expect: Some(dir.join(format!("{name}.output.npy"))),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!((s.vectors, s.mismatches), (2000, 0), "{name}: {:?}", s.first_mismatches);
        assert_eq!(s.max_abs_diff, Some(0.0), "{name}: RTL vs Keras");
        lint_unless_linted(&out, Some(&s));
    }
}

/// The export `tachyon build` stored (the project's model.onnx), evaluated by the exporter's
/// NumPy reference of the tachyon.fixed semantics (`exporter/tests/reference_check.py`), equals
/// Keras on every vector, with only the standard and tachyon.fixed opsets: the exporter checked
/// on its own, apart from Tachyon's reading of its graph.
fn reference_equals_keras(py: &Path, project: &Path, dir: &Path, name: &str) {
    let run = Command::new(py)
        .arg(repo().join("exporter/tests/reference_check.py"))
        .arg(project.join("model.onnx"))
        .arg(dir.join(format!("{name}.input.npy")))
        .arg(dir.join(format!("{name}.output.npy")))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout).to_string() + &String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{name}: the exporter's reference semantics differ from Keras: {text}");
}

fn interpreter_equals_keras(project: &Path, dir: &Path, name: &str) {
    let (_, loaded) = tachyon_driver::project::load(project).unwrap();
    let q = &loaded.qmodel;
    let x = tachyon_common::read_npy(dir.join(format!("{name}.input.npy"))).unwrap();
    let y = tachyon_common::read_npy(dir.join(format!("{name}.output.npy"))).unwrap();
    let (xs, ys) = (x.to_f64(), y.to_f64());
    let (nx, ny) = (xs.len() / x.shape[0], ys.len() / y.shape[0]);
    for k in 0..x.shape[0] {
        let got = tachyon_quantize::interp::evaluate(q, &xs[k * nx..(k + 1) * nx]).unwrap();
        let want = &ys[k * ny..(k + 1) * ny];
        // Bit for bit (0.0 and −0.0 are the same fixed-point zero).
        let same = got.iter().zip(want).all(|(a, b)| a.to_bits() == b.to_bits() || (*a == 0.0 && *b == 0.0));
        assert!(same, "{name}, vector {k}: interpreter {got:?}, Keras {want:?}");
    }
}

#[test]
fn jsc_openml_530_is_bit_exact_with_keras() {
    check("jsc_openml_530", "5", true);
}

#[test]
fn jsc_openml_13285_is_bit_exact_with_keras() {
    check("jsc_openml_13285", "2.5", true);
}

#[test]
fn particle_model_32x16_is_bit_exact_with_keras() {
    check("jsc_plf_32x16_64425", "5", true);
}

#[test]
fn mha_transformer_is_bit_exact_with_keras() {
    check("mha_8part", "5", false);
}

#[test]
fn linformer_transformer_is_bit_exact_with_keras() {
    check("linformer_8part", "5", false);
}

/// Runs the Python `script` that makes (and saves) a Keras model. Keras compiles the same eager
/// operations there as the exporter's own load of the model in `tachyon build`, so the script
/// keeps them where the exporter does (`tachyon_export.cache.use_xla_cache`, before JAX is
/// imported).
fn make_model(py: &Path, script: &str) {
    let keep = match tachyon_driver::source::export_cache() {
        Some(cache) => format!(
            "from pathlib import Path
from tachyon_export.cache import use_xla_cache
use_xla_cache(Path(r'{}'))
",
            cache.display()
        ),
        None => String::new(),
    };
    let made = Command::new(py).args(["-c", &format!("{keep}{script}")]).output().unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
}

/// A model using a layer the exporter does not know: one clear error naming the layer, its
/// class and what is supported; nothing is written.
#[test]
fn an_unsupported_hgq2_layer_is_refused_clearly() {
    let Some(py) = exporter_python() else { return };
    let dir = scratch("hgq2_unsupported");
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("lstm.keras");
    let script = format!(
        "import os; os.environ['KERAS_BACKEND'] = 'jax'\nimport keras, hgq\n\
         i = keras.Input((4, 3)); o = keras.layers.LSTM(2)(i)\nkeras.Model(i, o).save(r'{}')",
        model.display()
    );
    make_model(&py, &script);
    let out = dir.join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_tachyon"))
        .args(["build", model.to_str().unwrap(), "-o", out.to_str().unwrap()])
        .env("TACHYON_PYTHON", &py)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(text.contains("lstm") && text.contains("LSTM") && text.contains("QDense"), "{text}");
    assert!(!out.exists(), "nothing is written");
}

/// Without the exporter's Python the error says what to install.
#[test]
fn a_keras_model_without_the_exporter_says_what_to_install() {
    let Some(models) = shared_models() else { return };
    let run = Command::new(env!("CARGO_BIN_EXE_tachyon"))
        .args(["build", models.join("hgq2/jsc_openml_530.keras").to_str().unwrap(), "-o", "/nonexistent/out"])
        .env("TACHYON_PYTHON", "/nonexistent/python3")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success() && text.contains("scripts/python-env.sh") && text.contains("hgq2"), "{text}");
}

/// Makes an HGQ2 model with the Python `body` (which defines `m` and the input batch `x`),
/// saves it with Keras's own outputs, builds it with `tachyon build`, and checks the interpreter
/// against Keras bit for bit, lint, and the RTL against the interpreter.
fn keras_model_end_to_end(name: &str, body: &str, cosim_vectors: usize) {
    let Some(py) = exporter_python() else { return };
    let dir = scratch(&format!("hgq2_{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let script = format!(
        "import os; os.environ['KERAS_BACKEND'] = 'jax'\n\
         import numpy as np, keras, hgq\n\
         {body}\n\
         np.save(r'{d}/{name}.input.npy', x)\n\
         np.save(r'{d}/{name}.output.npy', np.asarray(m.predict(x, verbose=0), dtype=np.float32))\n\
         m.save(r'{d}/{name}.keras')",
        d = dir.display()
    );
    make_model(&py, &script);
    let out = dir.join("out");
    build_keras(&py, &dir, name, "5", &out);
    interpreter_equals_keras(&out, &dir, name);
    lint_and_cosim(&out, cosim_vectors);
}

/// An HGQ2 convolutional model made here (a stand-alone QBatchNormalization, QConv1D with
/// stride, same padding and ReLU, a grouped, dilated QConv1D, then a two-input QEinsum of the
/// result with itself), compared with Keras's own `predict` on inputs that overflow its
/// quantizers: bit for bit, and co-simulated.
#[test]
fn an_hgq2_conv1d_model_is_bit_exact_with_keras() {
    keras_model_end_to_end(
        "conv",
        "from hgq.layers import QBatchNormalization, QConv1D, QEinsum\n\
         inp = keras.Input((9, 3))\n\
         bn = QBatchNormalization(name='bn')\n\
         h = QConv1D(4, 3, strides=2, padding='same', activation='relu', name='c1')(bn(inp))\n\
         h = QConv1D(4, 2, dilation_rate=2, padding='valid', groups=2, name='c2')(h)\n\
         m = keras.Model(inp, QEinsum('bnc,bmc->bnm', name='ein')([h, h]))\n\
         x = np.random.default_rng(4).normal(0, 3, (300, 9, 3)).astype(np.float32)\n\
         m.predict(x[:1], verbose=0)\n\
         r = np.random.default_rng(5)\n\
         bn.moving_mean.assign(r.normal(0, 1, 3).astype(np.float32))\n\
         bn.moving_variance.assign(r.uniform(0.2, 3, 3).astype(np.float32))\n\
         bn.bn_gamma.assign(r.uniform(0.5, 2, 3).astype(np.float32))",
        300,
    );
}

/// HGQ2's table activations (`QUnaryFunctionLUT` homogeneous and per-element,
/// `QAffinedUnaryFunctionLUT`), the element-wise merges, `QMeanPow2` and max/average pooling,
/// windowed and global: bit for bit with Keras, and co-simulated.
#[test]
fn hgq2_tables_merges_and_pooling_are_bit_exact_with_keras() {
    keras_model_end_to_end(
        "tables_pooling",
        "from hgq.layers import *\n\
         from hgq.quantizer import QuantizerConfig\n\
         iq = QuantizerConfig('kif', 'datalane', k0=1, i0=2, f0=3, round_mode='RND', overflow_mode='SAT')\n\
         inp = keras.Input((8, 3))\n\
         a = QConv1D(4, 3, padding='same', name='ca')(inp)\n\
         b = QConv1D(4, 1, name='cb')(inp)\n\
         a = QUnaryFunctionLUT('tanh', iq_conf=iq, name='t1')(a)\n\
         t2 = QUnaryFunctionLUT('sigmoid', name='t2')\n\
         b = t2(b)\n\
         c = QAffinedUnaryFunctionLUT('tanh', iq_conf=iq, name='t3')(QAdd(name='add')([a, b]))\n\
         mx = QMaximum(name='max')([QSubtract(name='sub')([a, b]), QMultiply(name='mul')([a, c])])\n\
         mx = QMinimum(name='min')([mx, QAveragePow2(name='avg')([a, b])])\n\
         p = QMaxPooling1D(2, padding='same', name='mp')(mx)\n\
         q = QAveragePooling1D(2, name='ap')(mx)\n\
         g = QAveragePow2(name='avg2')([QGlobalMaxPooling1D(name='gmax')(p), QGlobalAveragePooling1D(name='gavg')(q), QMeanPow2(axes=1, name='mean')(q)])\n\
         m = keras.Model(inp, QDense(3, name='out')(g))\n\
         x = np.random.default_rng(6).normal(0, 2, (400, 8, 3)).astype(np.float32)\n\
         m.predict(x[:1], verbose=0)\n\
         q2 = t2.iq.quantizer; q2._i.assign(np.broadcast_to(np.array([[[1., 2., 0., 3.]]], np.float32), q2._i.shape)); q2._f.assign(np.broadcast_to(np.array([[[2., 3., 4., 1.]]], np.float32), q2._f.shape))",
        300,
    );
}

/// HGQ2 attention beyond the two checkpoints: a two-head `QMultiHeadAttention` whose softmax
/// normalises by a real inverse table (its input quantizer has bits, so `1/Σe` is looked up
/// per row, not the checkpoints' constant), then a `QLinformerAttention` over it with a residual
/// and a dense layer on the flattened particles, on inputs that overflow the quantizers: bit
/// for bit with Keras, and co-simulated.
#[test]
fn hgq2_attention_with_an_inverse_table_and_two_heads_is_bit_exact_with_keras() {
    keras_model_end_to_end(
        "attention",
        "from hgq.layers import QDense, QMultiHeadAttention, QLinformerAttention, QAdd\n\
         from hgq.quantizer import QuantizerConfig\n\
         inv_iq = QuantizerConfig('kif', 'datalane', k0=0, i0=3, f0=3, overflow_mode='SAT')\n\
         inp = keras.Input((5, 3))\n\
         h = QDense(6, activation='relu', name='embed')(inp)\n\
         a = QMultiHeadAttention(num_heads=2, key_dim=4, softmax_inv_iq_conf=inv_iq, name='mha')(h, h)\n\
         h = QAdd(name='res')([a, h])\n\
         h = QLinformerAttention(num_heads=1, lin_kv_proj_dim=2, key_dim=4, name='lin')(h, h, h)\n\
         m = keras.Model(inp, QDense(3, name='out')(keras.layers.Flatten()(h)))\n\
         x = np.random.default_rng(7).normal(0, 3, (300, 5, 3)).astype(np.float32)",
        300,
    );
    // The normalisation is a table of the sum, not a constant (the project exists unless the
    // exporter's Python is absent, which was said above).
    let onnx = repo().join("target/test-projects/hgq2_attention/out/model.onnx");
    if onnx.parent().is_some_and(|d| d.is_dir()) {
        let bytes = std::fs::read(&onnx).unwrap();
        assert!(bytes.windows(15).any(|w| w == b"mha/softmax/inv"), "{}: no inverse table", onnx.display());
    }
}
