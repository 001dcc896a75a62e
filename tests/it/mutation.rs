//! Mutated model files never panic any stage (decode, lowering, hardware generation, emission): a fixed-seed batch of byte
//! flips, truncations and insertions over real models must end in `Ok` or a clean error.

use std::path::Path;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(r: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..1 + r.below(4) {
        match r.below(5) {
            0 => {
                let i = r.below(b.len());
                b[i] ^= 1 << r.below(8);
            }
            1 => {
                let i = r.below(b.len());
                b[i] = r.next() as u8;
            }
            2 => b.truncate(r.below(b.len())),
            3 => {
                let i = r.below(b.len());
                b.insert(i, r.next() as u8);
            }
            _ => {
                // Overwrite a varint-ish byte with a large value (sizes, dims, tags).
                let i = r.below(b.len());
                b[i] = 0xff;
            }
        }
        if b.is_empty() {
            break;
        }
    }
    b
}

#[test]
fn mutated_models_never_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let models = ["examples/tiny_mlp/tiny_mlp.onnx", "examples/jet_mlp/jet_mlp.onnx"];
    let mut r = Rng(0x7ac4_0001);
    let mut outcomes = [0usize; 2];
    for m in models {
        let base = std::fs::read(root.join(m)).unwrap();
        for _ in 0..600 {
            let bytes = mutate(&mut r, &base);
            let res = std::panic::catch_unwind(|| {
                let path = Path::new("/fuzz/model.onnx");
                match tachyon_frontend::decode_model(&bytes, path) {
                    Ok(g) => {
                        let _ = tachyon_frontend::print::dump(&g);
                        if let Ok(q) = tachyon_quantize::lower(&g, &tachyon_quantize::Config::default()) {
                            let opts =
                                tachyon_hls::HlsOptions::default().validate(&q).expect("default knobs are valid");
                            let d = tachyon_hls::synthesize(&q, &opts);
                            tachyon_rtl::verify(&d.module).expect("generated netlists always verify");
                            let _ = tachyon_rtl::emit_verilog(&d.module);
                        }
                        true
                    }
                    Err(e) => {
                        assert!(e.to_string().contains("model.onnx"), "error names the file: {e}");
                        false
                    }
                }
            });
            match res {
                Ok(ok) => outcomes[ok as usize] += 1,
                Err(_) => panic!("panic on a mutation of {m}; bytes written to /tmp/tachyon-crash.onnx {}", {
                    let _ = std::fs::write("/tmp/tachyon-crash.onnx", &bytes);
                    ""
                }),
            }
        }
    }
    // Both paths were exercised.
    assert!(outcomes[0] > 100 && outcomes[1] > 100, "{outcomes:?}");
}
