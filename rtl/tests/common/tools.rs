//! Running external tools on emitted Verilog: availability checks, scratch directories,
//! `verilator --lint-only -Wall` and yosys `synth_xilinx`.

/// Prints a skip notice straight to the terminal's stderr, so it shows even though the test
/// harness captures `println!` output of passing tests.
#[allow(unused_macros)]
macro_rules! skip_note {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use tachyon_rtl::{emit_verilog, Module};

/// Whether `tool --version` runs.
pub fn have(tool: &str) -> bool {
    // Icarus prints its version with -V; its --version is an error.
    let flag = if tool == "iverilog" { "-V" } else { "--version" };
    Command::new(tool).arg(flag).output().map(|o| o.status.success()).unwrap_or(false)
}

/// Prints the skip message and returns true when `tool` is missing.
pub fn skip_without(tool: &str) -> bool {
    if have(tool) {
        return false;
    }
    let what = if tool == "verilator" { "verilator" } else { tool };
    skip_note!("skipped: {what} not installed");
    true
}

/// A fresh, empty scratch directory.
pub fn scratch(tag: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("tachyon-rtl-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Writes the emitted Verilog to `<dir>/<module name>.v` and returns the path.
pub fn write_verilog(dir: &Path, m: &Module) -> PathBuf {
    let path = dir.join(format!("{}.v", m.name));
    std::fs::write(&path, emit_verilog(m)).expect("write verilog");
    path
}

/// All text `verilator --lint-only -Wall` prints for the module (empty when clean).
pub fn lint(m: &Module) -> String {
    let dir = scratch("lint");
    let path = write_verilog(&dir, m);
    let text = lint_file(&path);
    if text.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
        return text;
    }
    format!("{text}; file kept at {}", path.display())
}

/// All text `verilator --lint-only -Wall` prints for the Verilog file at `path`, run in its
/// folder (empty when clean; otherwise ending with the exit status).
pub fn lint_file(path: &Path) -> String {
    let out = Command::new("verilator")
        .arg("--lint-only")
        .arg("-Wall")
        .arg(path)
        .current_dir(path.parent().expect("a file in a folder"))
        .output()
        .expect("run verilator");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if text.is_empty() && out.status.success() {
        return text;
    }
    format!("{text}(exit {:?})", out.status.code())
}

/// Runs `yosys -q -p "read_verilog X.v; synth_xilinx -family xcup -flatten"`.
pub fn yosys_synth(m: &Module) -> Result<(), String> {
    let dir = scratch("yosys");
    let path = write_verilog(&dir, m);
    let script = format!("read_verilog {}; synth_xilinx -family xcup -flatten -top {}", path.display(), m.name);
    let out = Command::new("yosys").arg("-q").arg("-p").arg(&script).current_dir(&dir).output().expect("run yosys");
    if out.status.success() {
        let _ = std::fs::remove_dir_all(&dir);
        return Ok(());
    }
    Err(format!(
        "{}{}(file kept at {})",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        path.display()
    ))
}
