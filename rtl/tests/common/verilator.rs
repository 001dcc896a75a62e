//! Compiling an emitted module with `verilator --cc --exe --build` and a generated C++ driver,
//! then running it on a stimulus: the Verilator side of the Sim-vs-Verilator comparison.
//!
//! Protocol per cycle (identical to the `Sim` side): set every input except `clk`, evaluate
//! with `clk = 0`, print every output, then raise `clk` and evaluate (the rising edge).

use std::fmt::Write;
use std::process::Command;

use super::rng::Rng;
use super::tools::{lint_file, scratch};
use tachyon_rtl::{emit_verilog, Module, SignalId, SignalKind, Sim};

/// Inputs driven by the stimulus (all input ports except `clk`), in port order.
pub fn stimulus_inputs(m: &Module) -> Vec<SignalId> {
    m.ports.iter().copied().filter(|&p| m.signal(p).kind == SignalKind::Input && Some(p) != m.clk).collect()
}

/// Random stimulus for `cycles` cycles: random bit patterns on every input, `rst` (if any) high
/// for the first two cycles and now and then afterwards.
pub fn random_stimulus(m: &Module, cycles: usize, seed: u64) -> Vec<Vec<u128>> {
    let mut rng = Rng::new(seed);
    let ins = stimulus_inputs(m);
    (0..cycles)
        .map(|c| {
            ins.iter()
                .map(|&p| {
                    if Some(p) == m.rst {
                        u128::from(c < 2 || rng.below(10) == 0)
                    } else {
                        rng.pattern(m.signal(p).width)
                    }
                })
                .collect()
        })
        .collect()
}

/// Output ports in port order.
pub fn outputs(m: &Module) -> Vec<SignalId> {
    m.ports.iter().copied().filter(|&p| m.signal(p).kind == SignalKind::Output).collect()
}

/// The outputs of `Sim` on `stim` under the same protocol as [`run`]: per cycle, set the inputs,
/// evaluate, read every output, then clock.
pub fn sim_outputs(m: &Module, stim: &[Vec<u128>]) -> Vec<Vec<u128>> {
    let mut sim = Sim::new(m).expect("fixture verifies");
    let (ins, outs) = (stimulus_inputs(m), outputs(m));
    stim.iter()
        .map(|cycle| {
            for (&p, &v) in ins.iter().zip(cycle) {
                sim.set_input(p, v as i128);
            }
            sim.eval();
            let row = outs.iter().map(|&o| sim.get_bits(o)).collect();
            sim.step();
            row
        })
        .collect()
}

fn driver_cpp(m: &Module) -> String {
    let top = format!("V{}", m.name);
    let mut c = String::new();
    let _ = writeln!(
        c,
        "#include \"{top}.h\"\n#include \"verilated.h\"\n#include <cstdint>\n#include <cstdio>\n#include <memory>"
    );
    c.push_str(
        r#"
static void put(CData& v, const uint32_t* w) { v = static_cast<CData>(w[0]); }
static void put(SData& v, const uint32_t* w) { v = static_cast<SData>(w[0]); }
static void put(IData& v, const uint32_t* w) { v = w[0]; }
static void put(QData& v, const uint32_t* w) { v = static_cast<QData>(w[0]) | (static_cast<QData>(w[1]) << 32); }
template <std::size_t N> static void put(VlWide<N>& v, const uint32_t* w) { for (std::size_t i = 0; i < N; ++i) v.at(i) = w[i]; }
static void show(uint64_t v) { std::printf(" %x %x 0 0", static_cast<uint32_t>(v), static_cast<uint32_t>(v >> 32)); }
template <std::size_t N> static void show(const VlWide<N>& v) { for (std::size_t i = 0; i < 4; ++i) std::printf(" %x", i < N ? v.at(i) : 0u); }
"#,
    );
    let _ = writeln!(c, "int main(int argc, char** argv) {{");
    c.push_str("    if (argc < 2) return 1;\n    std::FILE* f = std::fopen(argv[1], \"r\");\n    if (!f) return 1;\n");
    let _ = writeln!(c, "    const std::unique_ptr<VerilatedContext> ctx{{new VerilatedContext}};");
    let _ = writeln!(c, "    {top}* top = new {top}{{ctx.get()}};");
    c.push_str("    unsigned cycles = 0;\n    if (std::fscanf(f, \"%u\", &cycles) != 1) return 2;\n");
    c.push_str("    for (unsigned cyc = 0; cyc < cycles; ++cyc) {\n        uint32_t w[4];\n");
    for p in stimulus_inputs(m) {
        c.push_str("        for (int i = 0; i < 4; ++i) if (std::fscanf(f, \"%x\", &w[i]) != 1) return 3;\n");
        let _ = writeln!(c, "        put(top->{}, w);", m.signal(p).name);
    }
    let clk = m.clk.map(|c| m.signal(c).name.clone());
    if let Some(clk) = &clk {
        let _ = writeln!(c, "        top->{clk} = 0;");
    }
    c.push_str("        top->eval();\n");
    for p in outputs(m) {
        let _ = writeln!(c, "        show(top->{});", m.signal(p).name);
    }
    c.push_str("        std::printf(\"\\n\");\n");
    if let Some(clk) = &clk {
        let _ = writeln!(c, "        top->{clk} = 1;\n        top->eval();");
    }
    c.push_str("    }\n    top->final();\n    delete top;\n    std::fclose(f);\n    return 0;\n}\n");
    c
}

/// Builds the module with Verilator (warnings are fatal) and runs it for `stimulus.len()`
/// cycles; `stimulus[c][i]` is the bit pattern of input `i` (see [`stimulus_inputs`]) in cycle
/// `c`. Returns the output bit patterns per cycle (see [`outputs`]).
pub fn run(m: &Module, stimulus: &[Vec<u128>]) -> Result<Vec<Vec<u128>>, String> {
    run_text(m, &emit_verilog(m), stimulus)
}

/// [`run`] on `text`, another Verilog form of `m` with the same top module and ports (the
/// partitioned form, say).
pub fn run_text(m: &Module, text: &str, stimulus: &[Vec<u128>]) -> Result<Vec<Vec<u128>>, String> {
    let dir = scratch("vl");
    let vfile = dir.join(format!("{}.v", m.name));
    std::fs::write(&vfile, text).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("main.cpp"), driver_cpp(m)).map_err(|e| e.to_string())?;
    // Verilator 5.006's hierarchical build trips its own -Wall (an unused variable in the
    // wrapper it writes for a hier block): a text with hier blocks is linted with -Wall on its
    // own, then built hierarchically with the default warnings, as `tachyon sim` builds it.
    let hierarchical = text.contains("/*verilator hier_block*/");
    if hierarchical {
        let lint = lint_file(&vfile);
        if !lint.is_empty() {
            return Err(format!("verilator lint failed in {}:\n{lint}", dir.display()));
        }
    }
    let build = Command::new("verilator")
        .args(["--cc", "--exe", "--build", "-O0", "-j", "1", "--Mdir", "obj"])
        .args(if hierarchical { &["--hierarchical"][..] } else { &["-Wall"][..] })
        .args(["-MAKEFLAGS", "OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0"])
        .arg(&vfile)
        .arg("main.cpp")
        .current_dir(&dir)
        .output()
        .map_err(|e| e.to_string())?;
    let log = format!("{}{}", String::from_utf8_lossy(&build.stdout), String::from_utf8_lossy(&build.stderr));
    if !build.status.success() || log.contains("%Warning") || log.contains("%Error") {
        return Err(format!("verilator build failed in {}:\n{log}", dir.display()));
    }
    let mut stim = format!("{}\n", stimulus.len());
    for cycle in stimulus {
        for v in cycle {
            for i in 0..4 {
                let _ = write!(stim, "{:x} ", (v >> (32 * i)) as u32);
            }
        }
        stim.push('\n');
    }
    std::fs::write(dir.join("stim.txt"), stim).map_err(|e| e.to_string())?;
    let exe = dir.join("obj").join(format!("V{}", m.name));
    let out = Command::new(&exe).arg("stim.txt").current_dir(&dir).output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!("simulation failed ({:?}) in {}", out.status.code(), dir.display()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut rows = Vec::new();
    for line in text.lines() {
        let words: Vec<u32> = line
            .split_whitespace()
            .map(|w| u32::from_str_radix(w, 16))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        rows.push(words.chunks(4).map(|c| c.iter().rev().fold(0u128, |acc, &w| (acc << 32) | u128::from(w))).collect());
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(rows)
}
