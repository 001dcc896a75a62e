//! Every shipped example and every model of `../shared/models` compiles to the same Verilog,
//! report and quantized model as recorded in `tests/fixtures/design_hashes.txt` (FNV-1a hashes of
//! `rtl/<top>.v`, `report.json` and `model.txt`): refactoring must not change a design.
//!
//! The cases marked `slow` (the transformers, the calorimeter CNN, …: seconds to minutes each)
//! run with `TACHYON_ALL_DESIGNS=1`, which `benches/design_hashes.sh` sets; the others always
//! run. `BLESS=1` rewrites the hashes of the cases that ran, for a change made on purpose (say
//! why in the commit).

use std::path::Path;
use tachyon_driver::report::ProjectReport;
use tachyon_quantize::Config;

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The three hashes of one case, compiled in memory.
fn hashes(repo: &Path, model: &str, clock: f64, config: &str) -> [String; 3] {
    let config = match config {
        "" => Config::default(),
        c if c.starts_with('@') => Config::load(&repo.join(&c[1..])).unwrap(),
        c => Config::parse(c).unwrap(),
    };
    let b = tachyon_driver::project::compile(&repo.join(model), &config, clock, "tachyon_top", None)
        .unwrap_or_else(|e| panic!("{model}: {e:#}"));
    let report = ProjectReport::new(&b.design.report, None).to_json().unwrap();
    [b.verilog.as_bytes(), report.as_bytes(), b.qmodel.to_string().as_bytes()].map(|x| format!("{:016x}", fnv(x)))
}

#[test]
fn designs_are_byte_identical_to_the_recorded_ones() {
    let repo = crate::common::repo();
    let file = repo.join("tests/fixtures/design_hashes.txt");
    let text = std::fs::read_to_string(&file).unwrap();
    let all = std::env::var_os("TACHYON_ALL_DESIGNS").is_some();
    let bless = std::env::var_os("BLESS").is_some();
    let (mut out, mut failures, mut slow, mut absent) = (vec![], vec![], 0, 0);
    for line in text.lines() {
        let f: Vec<&str> = line.split('|').collect();
        if line.starts_with('#') || f.len() != 8 {
            out.push(line.to_string());
            continue;
        }
        let (name, model, clock, config, speed) = (f[0], f[1], f[2], f[3], f[4]);
        if speed == "slow" && !all {
            slow += 1;
            out.push(line.to_string());
            continue;
        }
        if !repo.join(model).is_file() {
            absent += 1;
            out.push(line.to_string());
            continue;
        }
        let got = hashes(&repo, model, clock.parse().unwrap(), config);
        let want = [f[5], f[6], f[7]];
        for (k, what) in ["rtl", "report.json", "model.txt"].iter().enumerate() {
            if got[k] != want[k] {
                failures.push(format!("{name}: {what} hash {} (recorded {})", got[k], want[k]));
            }
        }
        out.push(format!("{name}|{model}|{clock}|{config}|{speed}|{}|{}|{}", got[0], got[1], got[2]));
    }
    if slow > 0 {
        skip_note!("note: {slow} slow design(s) not compiled here; benches/design_hashes.sh checks them all");
    }
    if absent > 0 {
        skip_note!("skipped: {absent} design(s) of ../shared/models, which is absent");
    }
    if bless {
        std::fs::write(&file, out.join("\n") + "\n").unwrap();
        return;
    }
    assert!(failures.is_empty(), "designs changed (BLESS=1 to re-record on purpose):\n{}", failures.join("\n"));
}
