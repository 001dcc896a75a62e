//! Benchmark of the jet transformer (examples/transformer): builds it at a 2.5 ns clock, runs
//! the float model (same graph and weights, no activation quantizers) on N particle inputs,
//! co-simulates the RTL on the same inputs against the interpreter, and prints compile time,
//! latency, II, the resource estimate, mismatches and the argmax agreement with the float model.
//!
//! ```text
//! cargo run --release --bin transformer_bench -- [N=1000] [--small | --medium] [--config FILE]
//!     [--no-sim] [--yosys] [--partitioned]
//! ```
//!
//! `--small` uses a 4-token, d = 4 encoder (quick), `--medium` an 8-token, d = 8, one-block one;
//! the default is the shipped 16×16, d = 16, 2-head, 2-block model. `--no-sim` stops after the
//! build (the full-size Verilator build takes about 15 minutes). `--yosys` also runs
//! `benches/qor.sh` (yosys `synth_xilinx -family xcup -flatten`) on the RTL, `--partitioned`
//! the same synthesis on the design's distinct parts (`tachyon synth --partitioned`; the only
//! way for the full-size design). `--config` replaces the example's config (e.g.
//! `examples/transformer/transformer_ii2.json`). Work files go to
//! `target/bench-transformer[-small|-medium]/`.

use anyhow::{Context, Result};
use prost::Message;
use std::path::PathBuf;
use std::time::Instant;
use tachyon_examples::set_models::particle_inputs;
use tachyon_examples::transformer::{transformer, transformer_config_dsp, transformer_float, TransformerShape};
use tachyon_frontend::{DType, Tensor};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(1000);
    let small = args.iter().any(|a| a == "--small");
    let medium = args.iter().any(|a| a == "--medium");
    let no_sim = args.iter().any(|a| a == "--no-sim");
    let yosys = args.iter().any(|a| a == "--yosys");
    let partitioned = args.iter().any(|a| a == "--partitioned");
    let config_file = args
        .iter()
        .position(|a| a == "--config")
        .map(|i| PathBuf::from(args.get(i + 1).expect("--config takes a file")));
    let (shape, work) = if small {
        (TransformerShape { tokens: 4, features: 3, d: 4, heads: 2, blocks: 1, ffn: 4, classes: 3 }, "-small")
    } else if medium {
        (TransformerShape { tokens: 8, features: 8, d: 8, heads: 2, blocks: 1, ffn: 16, classes: 5 }, "-medium")
    } else {
        (TransformerShape::jet(), "")
    };
    let variant = config_file
        .as_ref()
        .and_then(|f| f.file_stem())
        .map(|s| format!("-{}", s.to_string_lossy()))
        .unwrap_or_default();
    let work = PathBuf::from(format!("target/bench-transformer{work}{variant}"));
    std::fs::create_dir_all(&work)?;
    let (model, float_model, config) =
        (work.join("transformer.onnx"), work.join("transformer_float.onnx"), work.join("transformer.json"));
    // The full size is the shipped example (examples/transformer, weights of MODEL_SEED); the
    // small and medium encoders keep the seed their earlier figures were measured with.
    let seed = if small || medium { 1 } else { tachyon_examples::generate::MODEL_SEED };
    let bytes = transformer(&shape, seed).encode_to_vec();
    if !(small || medium) {
        let shipped = PathBuf::from("examples/transformer/transformer.onnx");
        if std::fs::read(&shipped).ok().as_deref() != Some(&bytes[..]) {
            anyhow::bail!(
                "{} differs from the example the benchmark builds: regenerate with make-examples",
                shipped.display()
            );
        }
    }
    std::fs::write(&model, bytes)?;
    std::fs::write(&float_model, transformer_float(&shape, seed).encode_to_vec())?;
    match &config_file {
        Some(f) => std::fs::copy(f, &config).map(|_| ()).with_context(|| format!("reading {}", f.display()))?,
        None => std::fs::write(&config, transformer_config_dsp(shape.blocks))?,
    }
    // Inputs and the float model's outputs on them.
    let x = particle_inputs(7, n, shape.tokens, shape.features);
    let per = shape.tokens * shape.features;
    let g = tachyon_frontend::load_model(&float_model)?;
    let mut y = vec![];
    for row in x.chunks(per) {
        let t = Tensor::new(DType::F32, vec![1, shape.tokens, shape.features], row.iter().map(|&v| v as f64).collect());
        let out = tachyon_frontend::eval::run_float(&g, &[t]).map_err(|e| anyhow::anyhow!(e))?;
        y.extend(out[0].data.iter().map(|&v| v as f32));
    }
    let (xi, yo) = (work.join("inputs.npy"), work.join("float_outputs.npy"));
    tachyon_common::npy::write_npy_f32(&xi, &[n, shape.tokens, shape.features], &x)?;
    tachyon_common::npy::write_npy_f32(&yo, &[n, shape.classes], &y)?;
    let out = work.join("project");
    let start = Instant::now();
    let built = tachyon_driver::project::build(&tachyon_driver::project::BuildOptions {
        model: model.clone(),
        config: Some(config),
        clock_ns: Some(2.5),
        board: None,
        top: "tachyon_top".into(),
        out: out.clone(),
        force: true,
        input_shapes: vec![],
    })?;
    let compile = start.elapsed().as_secs_f64();
    let r = &built.design.report;
    println!(
        "transformer {}×{} d={} heads={} blocks={} ffn={}: compile {compile:.1} s; latency {} cycles = {:.1} ns at 2.5 ns, II {}; estimate LUT {} FF {} SRL {} DSP {}",
        shape.tokens,
        shape.features,
        shape.d,
        shape.heads,
        shape.blocks,
        shape.ffn,
        r.latency_cycles,
        r.latency_ns,
        r.ii_cycles,
        r.total.lut,
        r.total.ff,
        r.total.srl,
        r.total.dsp
    );
    let mut by_kind: std::collections::BTreeMap<&str, (u32, u64, u64)> = Default::default();
    for l in &r.layers {
        let e = by_kind.entry(l.kind.as_str()).or_default();
        e.0 = e.0.max(l.cycles);
        e.1 += l.estimate.lut;
        e.2 += l.estimate.dsp;
    }
    for (k, (c, lut, dsp)) in by_kind {
        println!("  {k:<10} deepest layer {c:>3} cycles, LUT {lut:>8}, DSP {dsp:>6}");
    }
    if yosys {
        // benches/qor.sh: ../shared/tools/qor.sh's method, LUT6_2 counted as LUTs.
        let o = std::process::Command::new("bash")
            .arg("benches/qor.sh")
            .arg(out.join("rtl"))
            .output()
            .context("running benches/qor.sh")?;
        if !o.status.success() {
            anyhow::bail!("benches/qor.sh failed:\n{}", String::from_utf8_lossy(&o.stderr));
        }
        print!("yosys synth_xilinx -family xcup -flatten: {}", String::from_utf8_lossy(&o.stdout));
    }
    if partitioned {
        let s = tachyon_driver::synth::run(&out, "xcup", true, 0).context("yosys, partitioned")?;
        let (y, p) = (&s.yosys, s.partitioned.context("a partitioned run reports its partitions")?);
        println!(
            "yosys synth_xilinx -family xcup, partitioned ({} instances of {} modules): LUT {}  FF {}  CARRY {}  SRL {}  DSP {}  BRAM {}  (yosys {:.0} s)",
            p.instances, p.modules, y.lut, y.ff, y.carry, y.srl, y.dsp, y.bram, s.seconds
        );
    }
    if no_sim {
        return Ok(());
    }
    let s = tachyon_driver::sim::run(
        &out,
        &tachyon_driver::sim::SimOptions { inputs: Some(xi), expect: Some(yo), ..Default::default() },
    )
    .context("co-simulation")?;
    println!(
        "co-simulation: {} vectors, {} mismatches, latency {} cycles, Verilator build {:.0} s; argmax agreement with the float model {:.2} % (max |Δ| of the logits {:.4})",
        s.vectors,
        s.mismatches,
        s.latency_cycles,
        s.build_seconds,
        s.argmax_agreement.unwrap_or(0.0) * 100.0,
        s.max_abs_diff.unwrap_or(0.0)
    );
    // A benchmark figure from a design that is not exact is no figure: fail loudly.
    if s.mismatches > 0 || s.latency_cycles != s.expected_latency_cycles {
        anyhow::bail!(
            "co-simulation failed: {} mismatches, latency {} cycles (the report says {})",
            s.mismatches,
            s.latency_cycles,
            s.expected_latency_cycles
        );
    }
    Ok(())
}
