//! `tachyon-fuzz decoder|config [ITERATIONS] [SEED]`: mutational fuzzing of the ONNX decoder (and
//! the lowering of whatever still decodes) or of the config parser, from the seed corpus in
//! `fuzz/corpus/`. Prints executions, outcomes and speed; panicking inputs are saved to
//! `fuzz/crashes/` and the exit code is 1.

use std::time::Instant;
use tachyon_fuzz::{fuzz_config, fuzz_decoder, read_corpus, root};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let target = args.get(1).map(String::as_str).unwrap_or("decoder");
    let iterations: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let seed: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1);
    let crashes = root().join("crashes");
    let start = Instant::now();
    let stats = match target {
        "decoder" => fuzz_decoder(&read_corpus(&root().join("corpus"), "onnx"), iterations, seed, Some(&crashes)),
        "config" => fuzz_config(&read_corpus(&root().join("corpus"), "json"), iterations, seed, Some(&crashes)),
        other => {
            eprintln!("unknown target '{other}': use decoder or config");
            std::process::exit(2);
        }
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{target}: {} executions in {secs:.1} s ({:.0}/s, seed {seed}): {} accepted ({} lowered), {} refused, {} panics",
        stats.executions,
        stats.executions as f64 / secs.max(1e-9),
        stats.accepted,
        stats.lowered,
        stats.refused,
        stats.panics
    );
    for c in &stats.crashes {
        println!("crash: {}", c.display());
    }
    if stats.panics > 0 {
        std::process::exit(1);
    }
}
