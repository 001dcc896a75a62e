//! `make-examples` output is byte-identical from run to run, and the committed example files are
//! exactly what it generates today.

use std::path::{Path, PathBuf};
use std::process::Command;
use tachyon_common::npy::NpyData;

const FILES: [&str; 7] = [
    "jet_mlp/jet_mlp.onnx",
    "jet_mlp/jet_mlp.input.npy",
    "jet_mlp/README.md",
    "tiny_mlp/tiny_mlp.onnx",
    "tiny_mlp/tiny_mlp.input.npy",
    "transformer/transformer.json",
    "transformer/transformer_ii2.json",
];

fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tachyon-make-examples-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run_make_examples(out: &Path) {
    let status = Command::new(env!("CARGO_BIN_EXE_make-examples")).arg(out).status().expect("make-examples runs");
    assert!(status.success(), "make-examples failed: {status}");
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn two_runs_write_identical_bytes() {
    let (a, b) = (fresh_dir("a"), fresh_dir("b"));
    run_make_examples(&a);
    run_make_examples(&b);
    for f in FILES {
        let (x, y) = (read(&a.join(f)), read(&b.join(f)));
        assert!(!x.is_empty(), "{f} is empty");
        assert!(x == y, "{f} differs between two runs");
    }
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

#[test]
fn npy_files_hold_the_expected_float32_arrays() {
    let dir = fresh_dir("npy");
    tachyon_examples::write_examples(&dir).unwrap();
    for (f, rows, cols) in [("jet_mlp/jet_mlp.input.npy", 256, 16), ("tiny_mlp/tiny_mlp.input.npy", 64, 4)] {
        let bytes = read(&dir.join(f));
        assert!(bytes.starts_with(b"\x93NUMPY"), "{f}: not an npy file");
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        let header = String::from_utf8_lossy(&bytes[10..10 + header_len]);
        assert!(header.contains("<f4"), "{f}: {header}");
        assert!(header.contains(&format!("({rows}, {cols})")), "{f}: {header}");
        assert_eq!(bytes.len() - 10 - header_len, rows * cols * 4, "{f}: payload size");
        let arr = tachyon_common::npy::read_npy(dir.join(f)).unwrap();
        assert_eq!(arr.shape, vec![rows, cols], "{f}");
        let expected = tachyon_examples::jet_mlp::normal_inputs(1, rows, cols);
        assert_eq!(arr.data, NpyData::F32(expected), "{f}: values");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn committed_examples_are_up_to_date() {
    let dir = fresh_dir("committed");
    tachyon_examples::write_examples(&dir).unwrap();
    let committed = Path::new(env!("CARGO_MANIFEST_DIR"));
    for f in FILES {
        assert!(
            read(&dir.join(f)) == read(&committed.join(f)),
            "examples/{f} is stale: regenerate with `cargo run -p tachyon-examples --bin make-examples`"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
