//! Every input that ever crashed stays fixed (replayed from `fuzz/crashes/`), and a fixed-seed
//! fuzzing run of the decoder and of the config parser finds no panic.

use tachyon_fuzz::*;

#[test]
fn recorded_crashes_stay_fixed() {
    for input in read_corpus(&root().join("crashes"), "onnx") {
        assert!(decode_one(&input).is_ok(), "a recorded decoder crash panics again");
    }
    for input in read_corpus(&root().join("crashes"), "json") {
        assert!(config_one(&input).is_ok(), "a recorded config crash panics again");
    }
}

#[test]
fn decoder_survives_mutated_models() {
    let corpus = read_corpus(&root().join("corpus"), "onnx");
    assert!(corpus.len() >= 3, "seed corpus present");
    // Every seed decodes and lowers as is.
    for c in &corpus {
        assert_eq!(decode_one(c), Ok((true, true)), "a seed model decodes and lowers");
    }
    let stats = fuzz_decoder(&corpus, 100_000, 7, None);
    assert_eq!(stats.panics, 0, "{stats:?}");
    assert_eq!(stats.executions, 100_000);
    assert!(stats.refused > 1000 && stats.accepted > 100, "the mutations reach both outcomes: {stats:?}");
}

#[test]
fn config_parser_survives_mutated_configs() {
    let corpus = read_corpus(&root().join("corpus"), "json");
    assert!(!corpus.is_empty());
    let stats = fuzz_config(&corpus, 100_000, 11, None);
    assert_eq!(stats.panics, 0, "{stats:?}");
    assert!(stats.refused > 1000 && stats.accepted > 100, "{stats:?}");
}

#[test]
fn mutations_are_deterministic() {
    let mut a = Rng::new(3);
    let mut b = Rng::new(3);
    let x = b"hello protobuf".to_vec();
    for _ in 0..100 {
        assert_eq!(mutate(&mut a, &x, &x), mutate(&mut b, &x, &x));
    }
}
