//! `make-examples [OUT_DIR]`: writes the example models and their input vectors (default: the
//! `examples/` folder of the repository).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = format!("usage: make-examples [OUT_DIR]   (default: {})", env!("CARGO_MANIFEST_DIR"));
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("{usage}");
        return ExitCode::SUCCESS;
    }
    if args.len() > 1 {
        eprintln!("{usage}");
        return ExitCode::from(2);
    }
    let out = args.first().map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    match tachyon_examples::write_examples(&out) {
        Ok(paths) => {
            for p in paths {
                println!("wrote {}", p.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
