//! Build-time benchmark (ignored by default): generates a Tachyon-sized
//! design with 5,000 `assign` statements and 2,500 16-bit pipeline registers,
//! builds and runs its harness, and prints the wall times. The Verilog is
//! kept in the work directory, so other Verilator flags can be timed on the
//! exact same input by hand (see `verilator.rs` for the measured table).
//!
//! `cargo test -p tachyon-testbenches --test build_speed -- --ignored --nocapture`

#[macro_use]
mod common;

use std::fmt::Write as _;

use common::{skip_without_verilator, work_dir, Rng};
use tachyon_testbenches::{build_harness, CosimOptions, PortElem, TopInterface};

const N_IN: usize = 64;
const N_OUT: usize = 16;
const WIDTH: usize = 500;
const LAYERS: usize = 10;
const STAGE_EVERY: usize = 2;

/// A layered constant-coefficient network: `LAYERS` layers of `WIDTH` wires
/// (5,000 `assign`s), wire `i` of a layer being `a_i ± b * k` of two signals
/// of the previous layer, so every wire is used and nothing is optimised
/// away. Every `STAGE_EVERY` layers all `WIDTH` wires are registered. The
/// outputs are XOR reductions of the last layer.
fn big_design(rng: &mut Rng) -> String {
    let mut v = String::new();
    let _ = writeln!(
        v,
        "module big (input wire clk, input wire rst, input wire in_valid, input wire [{}:0] in_data,\n\
         \x20           output wire out_valid, output wire [{}:0] out_data);",
        N_IN * 8 - 1,
        N_OUT * 16 - 1
    );
    let mut sources: Vec<String> = Vec::new();
    for i in 0..N_IN {
        let (hi, lo) = (i * 8 + 7, i * 8);
        let _ = writeln!(v, "    wire signed [15:0] x{i} = {{{{8{{in_data[{hi}]}}}}, in_data[{hi}:{lo}]}};");
        sources.push(format!("x{i}"));
    }
    let mut stages = 0;
    for layer in 0..LAYERS {
        let mut next = Vec::with_capacity(WIDTH);
        for i in 0..WIDTH {
            let a = &sources[i % sources.len()];
            let b = &sources[(rng.next_u64() as usize) % sources.len()];
            let k = (rng.next_u64() % 255) as i64 - 127;
            let (op, k) = if k < 0 { ("-", -k) } else { ("+", k) };
            let name = format!("w{layer}_{i}");
            let _ = writeln!(v, "    wire signed [15:0] {name} = {a} {op} {b} * 16'sd{k};");
            next.push(name);
        }
        if (layer + 1) % STAGE_EVERY == 0 {
            for s in &mut next {
                let r = format!("r{s}");
                let _ = writeln!(v, "    reg signed [15:0] {r};\n    always @(posedge clk) {r} <= {s};");
                *s = r;
            }
            stages += 1;
        }
        sources = next;
    }
    let _ = writeln!(v, "    reg [{}:0] valid;", stages - 1);
    let _ =
        writeln!(v, "    always @(posedge clk) valid <= rst ? {stages}'d0 : {{valid[{}:0], in_valid}};", stages - 2);
    let _ = writeln!(v, "    assign out_valid = valid[{}];", stages - 1);
    let mut outs = Vec::new();
    for j in 0..N_OUT {
        let terms: Vec<&str> = sources.iter().skip(j).step_by(N_OUT).map(String::as_str).collect();
        let _ = writeln!(v, "    wire [15:0] y{j} = {};", terms.join(" ^ "));
        outs.push(format!("y{j}"));
    }
    outs.reverse();
    let _ = writeln!(v, "    assign out_data = {{{}}};", outs.join(", "));
    v.push_str("endmodule\n");
    v
}

#[test]
#[ignore]
fn build_speed_5000_assigns() {
    if skip_without_verilator() {
        return;
    }
    let dir = work_dir("build_speed");
    std::fs::create_dir_all(&dir).unwrap();
    let rtl = dir.join("big.v");
    std::fs::write(&rtl, big_design(&mut Rng::new(42))).unwrap();
    let iface = TopInterface {
        top: "big".into(),
        inputs: vec![PortElem::signed(8); N_IN],
        outputs: vec![PortElem::signed(16); N_OUT],
        frame: vec![],
    };
    let h = build_harness(&[rtl], &iface, &CosimOptions { jobs: 2, ..CosimOptions::new(&dir) }).unwrap();
    let mut rng = Rng::new(7);
    let vectors: Vec<_> = (0..10_000).map(|_| rng.vector(&iface.inputs)).collect();
    let r = h.run(&vectors).unwrap();
    println!(
        "big (5000 assigns): build {:.1} s, 10000 vectors in {:.2} s, latency {}, ii {}",
        r.build_seconds, r.run_seconds, r.latency_cycles, r.ii_cycles
    );
    assert_eq!(r.outputs.len(), vectors.len());
}
