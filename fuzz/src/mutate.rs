//! In-tree mutational fuzzing of everything that reads user input: the ONNX decoder (and, for
//! inputs that still decode, shape inference and the quantized lowering) and the JSON config
//! parser. Inputs are mutated from a seed corpus (`fuzz/corpus/`): bit flips, byte edits,
//! insertions and deletions, protobuf varint and length corruption, splices of two inputs and
//! truncation. Each execution runs under `catch_unwind`; a panic is a bug, and its input is
//! written to `fuzz/crashes/` (replayed by the tests forever after).
//!
//! This stands in for `cargo fuzz` (libFuzzer needs a nightly toolchain): no coverage guidance,
//! but millions of executions per minute on the small seeds, deterministic from a seed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

pub use tachyon_common::rng::Rng;

/// Uniform in `0..n` (0 when `n` is 0).
fn below(rng: &mut Rng, n: usize) -> usize {
    rng.below(n as u64) as usize
}

/// Values that make decoders and allocators misbehave when written as varints.
const INTERESTING: [u64; 12] =
    [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0xffff, 0x7fff_ffff, 0xffff_ffff, 1 << 40, i64::MAX as u64, u64::MAX];

fn varint(mut v: u64) -> Vec<u8> {
    let mut out = vec![];
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return out;
        }
        out.push(b | 0x80);
    }
}

/// One to four random mutations of `input` (`other` is a second corpus entry for splicing).
pub fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + below(rng, 4) {
        let len = v.len();
        match below(rng, 9) {
            0 if len > 0 => {
                let i = below(rng, len);
                v[i] ^= 1 << below(rng, 8);
            }
            1 if len > 0 => {
                let i = below(rng, len);
                v[i] = rng.next_u64() as u8;
            }
            2 => {
                let i = below(rng, len + 1);
                v.insert(i, rng.next_u64() as u8);
            }
            3 if len > 0 => {
                let i = below(rng, len);
                let n = 1 + below(rng, (len - i).min(16));
                v.drain(i..i + n);
            }
            4 => {
                // A protobuf varint with an interesting value (a field length, a dimension, ...).
                let i = below(rng, len + 1);
                let x = INTERESTING[below(rng, INTERESTING.len())];
                let bytes = varint(x);
                v.splice(i..i, bytes);
            }
            5 if len > 1 => {
                // Overwrite what may be a length prefix or a varint with an interesting value.
                let i = below(rng, len);
                let x = INTERESTING[below(rng, INTERESTING.len())];
                let bytes = varint(x);
                let end = (i + bytes.len()).min(len);
                v.splice(i..end, bytes);
            }
            6 if !other.is_empty() => {
                // Splice: a prefix of this input and a suffix of the other.
                let i = below(rng, len + 1);
                let j = below(rng, other.len());
                v.truncate(i);
                v.extend_from_slice(&other[j..]);
            }
            7 if len > 0 => v.truncate(below(rng, len)),
            _ if len > 1 => {
                // Duplicate a chunk (repeated fields, nested messages).
                let i = below(rng, len);
                let n = 1 + below(rng, (len - i).min(64));
                let chunk = v[i..i + n].to_vec();
                let at = below(rng, len + 1);
                v.splice(at..at, chunk);
            }
            _ => v.push(rng.next_u64() as u8),
        }
    }
    v
}

/// What a fuzzing run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub executions: u64,
    /// Inputs accepted by the decoder (or parser).
    pub accepted: u64,
    /// Accepted models that also lowered to the quantized IR.
    pub lowered: u64,
    /// Inputs refused with an error (the expected outcome for garbage).
    pub refused: u64,
    /// Panics: each is a bug; the inputs are in `crashes`.
    pub panics: u64,
    pub crashes: Vec<PathBuf>,
}

fn save_crash(dir: Option<&Path>, kind: &str, ext: &str, input: &[u8], stats: &mut Stats) {
    stats.panics += 1;
    let Some(dir) = dir else { return };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in input {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    let path = dir.join(format!("{kind}-{h:016x}.{ext}"));
    if std::fs::write(&path, input).is_ok() {
        stats.crashes.push(path);
    }
}

/// A panic caught while running one input: a bug, with the panic's message.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("panicked: {0}")]
pub struct Panicked(pub String);

/// Runs `decode_model` — and, for what decodes, the lowering to the quantized IR — on one input;
/// `Err` carries a panic's message.
pub fn decode_one(bytes: &[u8]) -> Result<(bool, bool), Panicked> {
    catch_unwind(AssertUnwindSafe(|| {
        match tachyon_frontend::decode_model(bytes, Path::new("fuzz/input.onnx")) {
            Ok(g) => {
                let lowered = tachyon_quantize::lower(&g, &tachyon_quantize::Config::default()).is_ok();
                (true, lowered)
            }
            Err(e) => {
                // Errors must name the file.
                let text = e.to_string();
                assert!(text.contains("input.onnx"), "decoder error without the file name: {text}");
                (false, false)
            }
        }
    }))
    .map_err(|p| panic_text(&p))
}

/// Runs the config parser on one input; `Err` carries a panic's message.
pub fn config_one(bytes: &[u8]) -> Result<bool, Panicked> {
    catch_unwind(AssertUnwindSafe(|| {
        let text = String::from_utf8_lossy(bytes);
        tachyon_quantize::Config::parse(&text).is_ok()
    }))
    .map_err(|p| panic_text(&p))
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> Panicked {
    Panicked(
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    )
}

/// Silences the default panic message while `f` runs (panics are counted, not printed).
fn quietly<T>(f: impl FnOnce() -> T) -> T {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = f();
    std::panic::set_hook(hook);
    r
}

/// The outcome of one execution: accepted (and, for models, lowered too) or refused.
enum Outcome {
    Accepted { lowered: bool },
    Refused,
}

/// `iterations` inputs mutated from `corpus` through `run`; a panic is saved as `kind-….ext`.
fn fuzz(
    corpus: &[Vec<u8>],
    iterations: u64,
    seed: u64,
    crash_dir: Option<&Path>,
    (kind, ext): (&str, &str),
    run: impl Fn(&[u8]) -> Result<Outcome, Panicked>,
) -> Stats {
    let mut rng = Rng::new(seed);
    let mut stats = Stats::default();
    quietly(|| {
        for _ in 0..iterations {
            let a = &corpus[below(&mut rng, corpus.len())];
            let b = &corpus[below(&mut rng, corpus.len())];
            let input = mutate(&mut rng, a, b);
            stats.executions += 1;
            match run(&input) {
                Ok(Outcome::Accepted { lowered }) => {
                    stats.accepted += 1;
                    stats.lowered += lowered as u64;
                }
                Ok(Outcome::Refused) => stats.refused += 1,
                Err(_) => save_crash(crash_dir, kind, ext, &input, &mut stats),
            }
        }
    });
    stats
}

/// `iterations` mutated inputs from `corpus` through the decoder and the lowering.
pub fn fuzz_decoder(corpus: &[Vec<u8>], iterations: u64, seed: u64, crash_dir: Option<&Path>) -> Stats {
    fuzz(corpus, iterations, seed, crash_dir, ("decoder", "onnx"), |input| {
        decode_one(input).map(|(ok, lowered)| if ok { Outcome::Accepted { lowered } } else { Outcome::Refused })
    })
}

/// `iterations` mutated configs from `corpus` through the config parser.
pub fn fuzz_config(corpus: &[Vec<u8>], iterations: u64, seed: u64, crash_dir: Option<&Path>) -> Stats {
    fuzz(corpus, iterations, seed, crash_dir, ("config", "json"), |input| {
        config_one(input).map(|ok| if ok { Outcome::Accepted { lowered: false } } else { Outcome::Refused })
    })
}

/// The files of `dir` with extension `ext`, sorted, read into memory.
pub fn read_corpus(dir: &Path, ext: &str) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == ext));
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// This crate's folder (corpus and crashes live beside the sources).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
