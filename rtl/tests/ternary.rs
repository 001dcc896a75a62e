//! Ternary adders (`Expr::Add3`) and gated adders (`Expr::GatedAdd`): random operand widths,
//! signs, shifts, negations and gates, in both fabrics. The portable and the UltraScale text
//! must lint clean and match `Sim` exactly in Verilator; the UltraScale form must map to exactly
//! one LUT6_2 per bit (a ternary adder's from the second-lowest shift up), and the netlist yosys
//! maps it to, simulated by Icarus with yosys' own models of LUT6_2 and CARRY8 (not Tachyon's),
//! must match `Sim` too.

#[macro_use]
mod common;

use std::process::Command;

use common::rng::Rng;
use common::tools::{lint, scratch, skip_without, write_verilog};
use common::verilator::{outputs, run, sim_outputs, stimulus_inputs};
use tachyon_rtl::bits::fits;
use tachyon_rtl::{Addend, Expr, Fabric, Gated, Module};

/// The addends' negations: every pattern with at most two negated.
const NEGATIONS: [[bool; 3]; 7] = [
    [false, false, false],
    [true, false, false],
    [false, true, false],
    [false, false, true],
    [true, true, false],
    [true, false, true],
    [false, true, true],
];

/// Ternary adders, gated adders and ternary adders with a gated addend over six inputs (signed
/// and unsigned, 1 to 33 bits) and two gates, with random shifts, each registered to an output.
/// Most results are sized to the exact sum; every fourth is narrower (wraps). Returns the module
/// and the LUT6_2 count its UltraScale form must have.
fn fixture(name: &str, fabric: Fabric, seed: u64) -> (Module, u64) {
    let mut rng = Rng::new(seed);
    let mut m = Module::new(name);
    m.fabric = fabric;
    m.add_clock();
    let widths = [1u32, 5, 8, 13, 20, 33];
    let ins: Vec<_> = widths.iter().enumerate().map(|(i, &w)| m.add_input(&format!("x{i}"), w, i % 2 == 1)).collect();
    let gates = [m.add_input("g0", 1, false), m.add_input("g1", 1, false)];
    let mut luts = 0u64;
    for k in 0..28usize {
        let neg = NEGATIONS[k % NEGATIONS.len()];
        let t: [Addend; 3] = std::array::from_fn(|i| Addend {
            sig: ins[rng.below(ins.len() as u64) as usize],
            shift: if k % 5 == 0 { 0 } else { rng.below(7) as u32 },
            neg: neg[i],
        });
        let (lo, hi) = sum_range(&m, &t.map(|d| (d, false)));
        let w = width(lo, hi, t.iter().map(|d| d.shift).max().unwrap_or(0), k);
        luts += u64::from(w - Addend::logic_start(&t));
        registered_output(&mut m, &format!("sum{k}"), w, lo < 0, Expr::Add3(t));
    }
    // Gated adders: negations none, first, second; gates the same or different.
    for k in 0..15usize {
        let neg = [[false, false], [true, false], [false, true]][k % 3];
        let t: [Gated; 2] = std::array::from_fn(|i| Gated {
            gate: gates[(i + k / 3) % 2],
            term: Addend {
                sig: ins[rng.below(ins.len() as u64) as usize],
                shift: if k % 5 == 0 { 0 } else { rng.below(4) as u32 },
                neg: neg[i],
            },
        });
        let (lo, hi) = sum_range(&m, &t.map(|g| (g.term, true)));
        let w = width(lo, hi, t.iter().map(|g| g.term.shift).max().unwrap_or(0), k);
        luts += u64::from(w);
        registered_output(&mut m, &format!("gsum{k}"), w, lo < 0, Expr::GatedAdd(t));
    }
    // Ternary adders with a gated third addend (its shift the highest).
    for k in 0..14usize {
        let neg = NEGATIONS[k % NEGATIONS.len()];
        let mut t: [Addend; 3] = std::array::from_fn(|i| Addend {
            sig: ins[rng.below(ins.len() as u64) as usize],
            shift: if k % 5 == 0 { 0 } else { rng.below(5) as u32 },
            neg: neg[i],
        });
        t[2].shift = t[0].shift.max(t[1].shift) + (k % 3) as u32;
        let (lo, hi) = sum_range(&m, &[(t[0], false), (t[1], false), (t[2], true)]);
        let w = width(lo, hi, t[2].shift, k);
        luts += u64::from(w - Addend::logic_start(&t));
        registered_output(&mut m, &format!("tsum{k}"), w, lo < 0, Expr::Add3Gated { t, gate: gates[k % 2] });
    }
    tachyon_rtl::verify(&m).expect("fixture verifies");
    (m, luts)
}

/// The range of a sum of addends over their signals' full ranges (a gated addend may be 0).
fn sum_range(m: &Module, terms: &[(Addend, bool)]) -> (i128, i128) {
    let (mut lo, mut hi) = (0i128, 0i128);
    for (d, gated) in terms {
        let s = m.signal(d.sig);
        let (a, b) = if s.signed {
            (-(1i128 << (s.width - 1)), (1i128 << (s.width - 1)) - 1)
        } else {
            (0, (1i128 << s.width) - 1)
        };
        let (a, b) = if *gated { (a.min(0), b.max(0)) } else { (a, b) };
        let (a, b) = (a << d.shift, b << d.shift);
        if d.neg {
            lo -= b;
            hi -= a;
        } else {
            lo += a;
            hi += b;
        }
    }
    (lo, hi)
}

/// The exact width of `[lo, hi]`, or, for every fourth sum, three bits narrower (it wraps) but
/// above the largest shift.
fn width(lo: i128, hi: i128, top_shift: u32, k: usize) -> u32 {
    let exact = (1..=128).find(|&w| fits(lo, w, lo < 0) && fits(hi, w, lo < 0)).expect("fits 128 bits");
    if k % 4 == 3 {
        (exact - 3).max(top_shift + 1)
    } else {
        exact
    }
}

/// `name = e` on `w` bits, registered to an output port.
fn registered_output(m: &mut Module, name: &str, w: u32, signed: bool, e: Expr) {
    let r = m.wire(name, w, signed, None, e);
    let q = m.reg(&format!("{name}_q"), r, None, None);
    let o = m.add_output(&format!("o_{name}"), w, signed);
    m.assign(o, Expr::Ext(q));
}

fn stimulus(m: &Module, cycles: usize, seed: u64) -> Vec<Vec<u128>> {
    let mut rng = Rng::new(seed);
    let ins = stimulus_inputs(m);
    (0..cycles)
        .map(|c| {
            ins.iter()
                .map(|&p| {
                    let w = m.signal(p).width;
                    // Extremes now and then: all zeros, all ones, the sign bit alone.
                    match c % 7 {
                        0 => 0,
                        1 => (1u128 << w) - 1,
                        2 => 1u128 << (w - 1),
                        _ => rng.pattern(w),
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn ternary_adders_lint_clean_in_both_fabrics() {
    if skip_without("verilator") {
        return;
    }
    for fabric in [Fabric::Generic, Fabric::UltraScale] {
        let (m, _) = fixture("add3_lint", fabric, 1);
        let text = lint(&m);
        assert!(text.is_empty(), "{fabric:?}:\n{text}");
    }
}

#[test]
fn ternary_adders_match_sim_in_verilator() {
    if skip_without("verilator") {
        return;
    }
    for (fabric, seed) in [(Fabric::Generic, 2), (Fabric::UltraScale, 3), (Fabric::UltraScale, 4)] {
        let (m, _) = fixture("add3_sim", fabric, seed);
        let stim = stimulus(&m, 60, seed);
        let expected = sim_outputs(&m, &stim);
        let got = run(&m, &stim).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got, expected, "{fabric:?}, seed {seed}\n{}", tachyon_rtl::dump(&m));
    }
}

/// The UltraScale form as yosys maps it: one LUT6_2 per adder bit from `L` up and nothing else
/// besides the registers and carry chains, and the mapped netlist computes what `Sim` does when
/// run on yosys' own primitive models.
#[test]
fn ternary_adders_map_to_lut6_2_and_agree_with_yosys_models() {
    if skip_without("yosys") || skip_without("iverilog") {
        return;
    }
    let models = std::path::Path::new("/usr/share/yosys/xilinx/cells_sim.v");
    if !models.exists() {
        skip_note!("skipped: yosys' Xilinx models ({}) not found", models.display());
        return;
    }
    let (m, luts) = fixture("add3_yosys", Fabric::UltraScale, 5);
    let dir = scratch("add3-yosys");
    let src = write_verilog(&dir, &m);
    let script = format!(
        "read_verilog {}; synth_xilinx -family xcup -flatten -top {}; tee -o stat.txt stat; write_verilog -noattr net.v",
        src.display(),
        m.name
    );
    let out = Command::new("yosys").args(["-q", "-p", &script]).current_dir(&dir).output().expect("run yosys");
    assert!(out.status.success(), "yosys: {}", String::from_utf8_lossy(&out.stderr));
    let stat = std::fs::read_to_string(dir.join("stat.txt")).expect("stat");
    let count = |cell: &str| -> u64 {
        stat.lines()
            .filter_map(|l| {
                let mut w = l.split_whitespace();
                (w.next() == Some(cell)).then(|| w.next().and_then(|n| n.parse::<u64>().ok())).flatten()
            })
            .sum()
    };
    assert_eq!(count("LUT6_2"), luts, "{stat}");
    let other_luts: u64 = (1..=6).map(|k| count(&format!("LUT{k}"))).sum();
    assert_eq!(other_luts, 0, "ternary adders need no other LUTs:\n{stat}");

    // Icarus testbench: apply each stimulus row, clock, compare the registered sums.
    let stim = stimulus(&m, 40, 6);
    let expected = sim_outputs(&m, &stim);
    let (ins, outs) = (stimulus_inputs(&m), outputs(&m));
    let mut tb = String::from("module tb;\n    reg clk = 0;\n");
    for &p in &ins {
        let s = m.signal(p);
        tb += &format!("    reg [{}:0] {};\n", s.width - 1, s.name);
    }
    for &o in &outs {
        let s = m.signal(o);
        tb += &format!("    wire [{}:0] {};\n", s.width - 1, s.name);
    }
    let conns: Vec<String> = m.ports.iter().map(|&p| format!(".{0}({0})", m.signal(p).name)).collect();
    tb += &format!("    {} dut ({});\n    integer bad = 0;\n    initial begin\n", m.name, conns.join(", "));
    // Outputs read at cycle c + 1 show the sums of row c (one register).
    for (c, row) in stim.iter().enumerate() {
        for (&p, &v) in ins.iter().zip(row) {
            let s = m.signal(p);
            tb += &format!("        {} = {}'h{:x};\n", s.name, s.width, v);
        }
        tb += "        #1 clk = 1; #1 clk = 0;\n";
        for (&o, &e) in outs.iter().zip(&expected[(c + 1).min(stim.len() - 1)]) {
            if c + 1 >= stim.len() {
                break;
            }
            let s = m.signal(o);
            tb += &format!(
                "        if ({0} !== {1}'h{2:x}) begin bad = bad + 1; $display(\"row {3} {0} = %h, expected {2:x}\", {0}); end\n",
                s.name, s.width, e, c
            );
        }
    }
    tb += "        $display(\"bad=%0d\", bad);\n        $finish;\n    end\nendmodule\n";
    std::fs::write(dir.join("tb.v"), tb).expect("write tb");
    let out = Command::new("iverilog")
        .args(["-g2012", "-o", "sim", "tb.v", "net.v"])
        .arg(models)
        .current_dir(&dir)
        .output()
        .expect("run iverilog");
    assert!(out.status.success(), "iverilog: {}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new("vvp").arg("sim").current_dir(&dir).output().expect("run vvp");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("bad=0"), "{text}");
}
