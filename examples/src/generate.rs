//! Writing the shipped example files: each model as `.onnx` next to a `.input.npy` of test
//! vectors, plus a README for the jet model. Every byte is a function of the fixed seeds below,
//! so regenerating gives identical files.

use crate::calo_cnn::{calo_cnn, calo_inputs, CALO_SIDE};
use crate::jet_mlp::{jet_inputs, jet_mlp, normal_inputs, tiny_mlp, JET_SIZES, TINY_SIZES};
use crate::pulse_cnn::{pulse_cnn, pulse_inputs, PULSE_SAMPLES};
use crate::set_models::{deep_set, interaction_net, particle_inputs, DeepSetShape, InteractionShape};
use crate::transformer::{transformer, transformer_config_dsp, TransformerShape, TRANSFORMER_II2_CONFIG};
use prost::Message;
use std::path::{Path, PathBuf};

/// Seed of the shipped models' weights (the Python script's default seed).
pub const MODEL_SEED: u64 = 0;
/// Seed of the shipped input vectors.
pub const INPUT_SEED: u64 = 1;
/// Number of input vectors shipped with the jet model.
pub const JET_VECTORS: usize = 256;
/// Number of input vectors shipped with the tiny model.
pub const TINY_VECTORS: usize = 64;
/// Number of input vectors shipped with each set model.
pub const SET_VECTORS: usize = 64;

/// Failures while writing the example files.
#[derive(Debug, thiserror::Error)]
pub enum ExamplesError {
    /// Creating a directory or writing a file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The `.npy` writer failed.
    #[error("cannot write {path}: {detail}")]
    Npy { path: PathBuf, detail: String },
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ExamplesError> {
    std::fs::write(path, bytes).map_err(|source| ExamplesError::Io { path: path.to_path_buf(), source })
}

fn create_dir(path: &Path) -> Result<(), ExamplesError> {
    std::fs::create_dir_all(path).map_err(|source| ExamplesError::Io { path: path.to_path_buf(), source })
}

fn write_npy(path: &Path, shape: &[usize], data: &[f32]) -> Result<(), ExamplesError> {
    tachyon_common::npy::write_npy_f32(path, shape, data)
        .map_err(|e| ExamplesError::Npy { path: path.to_path_buf(), detail: e.to_string() })
}

/// The README written next to the jet model.
pub fn jet_readme() -> String {
    format!(
        "# jet_mlp\n\
         \n\
         A 16-64-32-32-5 jet-tagging MLP in QONNX, the structure of the da4ml comparison model\n\
         (`shared/tools/make_jet_qonnx.py`):\n\
         \n\
         - input `x` [1,16] quantized to fixed<16,6> (`Quant`, scale 2^-10, 16 bits, signed, ROUND);\n\
         - per layer `dense{{i}}_matmul` (MatMul) and `dense{{i}}_bias` (Add); weights He-normal\n\
         \x20 (std sqrt(2/n_in)) and biases normal(0, 0.1), rounded onto the fixed<8,3> grid and stored\n\
         \x20 as float32 initializers behind `Quant` nodes (scale 2^-5, 8 bits, signed, ROUND);\n\
         - hidden layers: `relu{{i}}` then `Quant` to ufixed<8,3> (scale 2^-5, 8 bits, unsigned, FLOOR);\n\
         - output `y` [1,5]: the logits quantized to fixed<16,6> (scale 2^-10, 16 bits, signed, FLOOR).\n\
         \n\
         The weights come from the seeded PRNG of the `tachyon-examples` crate (seed {MODEL_SEED}), not\n\
         from numpy, so they differ from the Python script's. `jet_mlp.input.npy` holds {JET_VECTORS}×{w}\n\
         standard-normal float32 test inputs (seed {INPUT_SEED}).\n\
         \n\
         Regenerate (byte-identical) with:\n\
         \n\
         ```sh\n\
         cargo run -p tachyon-examples --bin make-examples\n\
         ```\n",
        w = JET_SIZES[0]
    )
}

/// Writes `jet_mlp/{jet_mlp.onnx, jet_mlp.input.npy, README.md}` and
/// `tiny_mlp/{tiny_mlp.onnx, tiny_mlp.input.npy}` under `out_dir`; returns the written paths.
pub fn write_examples(out_dir: &Path) -> Result<Vec<PathBuf>, ExamplesError> {
    let mut written = vec![];
    let jet = out_dir.join("jet_mlp");
    create_dir(&jet)?;
    let p = jet.join("jet_mlp.onnx");
    write_file(&p, &jet_mlp(MODEL_SEED).encode_to_vec())?;
    written.push(p);
    let p = jet.join("jet_mlp.input.npy");
    let shape = [JET_VECTORS, JET_SIZES[0]];
    write_npy(&p, &shape, &jet_inputs(INPUT_SEED, JET_VECTORS))?;
    written.push(p);
    let p = jet.join("README.md");
    write_file(&p, jet_readme().as_bytes())?;
    written.push(p);

    let tiny = out_dir.join("tiny_mlp");
    create_dir(&tiny)?;
    let p = tiny.join("tiny_mlp.onnx");
    write_file(&p, &tiny_mlp(MODEL_SEED).encode_to_vec())?;
    written.push(p);
    let p = tiny.join("tiny_mlp.input.npy");
    let inputs = normal_inputs(INPUT_SEED, TINY_VECTORS, TINY_SIZES[0]);
    write_npy(&p, &[TINY_VECTORS, TINY_SIZES[0]], &inputs)?;
    written.push(p);

    let ds = DeepSetShape::tagger();
    let inputs = particle_inputs(INPUT_SEED, SET_VECTORS, ds.particles, ds.features);
    let shape = [SET_VECTORS, ds.particles, ds.features];
    written.extend(write_set_model(
        out_dir,
        "deep_set",
        &deep_set(&ds, MODEL_SEED),
        &shape,
        &inputs,
        SET_REUSE_CONFIG,
    )?);
    let is = InteractionShape::tagger();
    let inputs = particle_inputs(INPUT_SEED, SET_VECTORS, is.particles, is.features);
    let shape = [SET_VECTORS, is.particles, is.features];
    let model = interaction_net(&is, MODEL_SEED);
    written.extend(write_set_model(out_dir, "interaction_net", &model, &shape, &inputs, IN_REUSE_CONFIG)?);
    let ts = TransformerShape::jet();
    let inputs = particle_inputs(INPUT_SEED, SET_VECTORS, ts.tokens, ts.features);
    let shape = [SET_VECTORS, ts.tokens, ts.features];
    let model = transformer(&ts, MODEL_SEED);
    written.extend(write_set_model(
        out_dir,
        "transformer",
        &model,
        &shape,
        &inputs,
        &transformer_config_dsp(ts.blocks),
    )?);
    let p = out_dir.join("transformer").join("transformer_ii2.json");
    write_file(&p, TRANSFORMER_II2_CONFIG.as_bytes())?;
    written.push(p);
    let dir = out_dir.join("pulse_cnn");
    create_dir(&dir)?;
    let p = dir.join("pulse_cnn.onnx");
    write_file(&p, &pulse_cnn(MODEL_SEED).encode_to_vec())?;
    written.push(p);
    let p = dir.join("pulse_cnn.input.npy");
    write_npy(&p, &[SET_VECTORS, 1, PULSE_SAMPLES], &pulse_inputs(INPUT_SEED, SET_VECTORS))?;
    written.push(p);
    let dir = out_dir.join("calo_cnn");
    create_dir(&dir)?;
    let p = dir.join("calo_cnn.onnx");
    write_file(&p, &calo_cnn(MODEL_SEED).encode_to_vec())?;
    written.push(p);
    let p = dir.join("calo_cnn.input.npy");
    write_npy(&p, &[SET_VECTORS, 1, CALO_SIDE, CALO_SIDE], &calo_inputs(INPUT_SEED, SET_VECTORS))?;
    written.push(p);
    Ok(written)
}

/// Writes `name/{name.onnx, name.input.npy, <config>}` under `out_dir` (the config is
/// `transformer.json` for the transformer, `reuse.json` otherwise).
fn write_set_model(
    out_dir: &Path,
    name: &str,
    model: &tachyon_frontend::proto::ModelProto,
    shape: &[usize],
    inputs: &[f32],
    reuse: &str,
) -> Result<Vec<PathBuf>, ExamplesError> {
    let dir = out_dir.join(name);
    create_dir(&dir)?;
    let config = if name == "transformer" { "transformer.json" } else { "reuse.json" };
    let files = [dir.join(format!("{name}.onnx")), dir.join(format!("{name}.input.npy")), dir.join(config)];
    write_file(&files[0], &model.encode_to_vec())?;
    write_npy(&files[1], shape, inputs)?;
    write_file(&files[2], reuse.as_bytes())?;
    Ok(files.to_vec())
}

/// The deep set's reuse config: φ, the per-particle network that holds most of the arithmetic,
/// built 8 times instead of 32 and time-multiplexed over 4 phases (II = 4).
pub const SET_REUSE_CONFIG: &str = r#"{
  "layers": {
    "pool": { "set_reuse": 4 }
  }
}
"#;

/// The interaction network's reuse config: the object network f_O built 2 times instead of 8
/// and time-multiplexed over 4 phases (II = 4); the relational network stays parallel.
pub const IN_REUSE_CONFIG: &str = r#"{
  "layers": {
    "pool": { "set_reuse": 4 }
  }
}
"#;
