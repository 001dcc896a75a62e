//! The `tachyon` command line.

use anyhow::Result;

/// `println!` that ignores a closed stdout (e.g. `tachyon report … | head`) instead of panicking.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($t)*);
    }};
}
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use tachyon::project::{build, BuildOptions};
use tachyon::sim::{run, SimOptions};

#[derive(Parser)]
#[command(
    name = "tachyon",
    version,
    about = "Compile quantized neural networks (ONNX/QONNX) to fully pipelined, bit-exact Verilog"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Compile a model into a project folder: rtl/*.v, report.json, model.txt, a Verilator harness.
    Build {
        /// ONNX or QONNX model file.
        model: PathBuf,
        /// JSON configuration (precision of float models, input type, softmax/sigmoid tables).
        #[arg(short, long)]
        config: Option<PathBuf>,
        /// Target clock period in ns (default: the board's, else 5).
        #[arg(long)]
        clock_ns: Option<f64>,
        /// Target board or part (see `tachyon boards`).
        #[arg(long)]
        board: Option<String>,
        /// Name of the top module.
        #[arg(long, default_value = "tachyon_top")]
        top: String,
        /// Output project folder.
        #[arg(short, long)]
        out: PathBuf,
        /// Replace the output folder if it exists.
        #[arg(long)]
        force: bool,
        /// Decompose the model first (Mixed-TD, see `tachyon decompose`) within this relative
        /// output error (0.01 = 1 %); the decomposed model is stored in the project as
        /// OUT/model.td.onnx (the manifest points to it).
        #[arg(long, value_name = "BUDGET")]
        decompose: Option<f64>,
        /// Calibration inputs of --decompose (.npy, first axis = sample).
        #[arg(long, value_name = "X.npy", requires = "decompose")]
        calib: Option<PathBuf>,
    },
    /// Mixed-TD: decompose Conv/MatMul/Gemm layers (channel, spatial or channel-group SVD, CP)
    /// with quantized factors, choosing per layer the method and rank the hls cost model prices
    /// lowest within an error budget measured on calibration inputs; writes the decomposed QONNX
    /// model.
    Decompose {
        /// ONNX or QONNX model file.
        model: PathBuf,
        /// Largest relative output error of the whole model vs the original (0.01 = 1 %).
        #[arg(long, default_value_t = 0.01)]
        budget: f64,
        /// Calibration inputs (.npy, first axis = sample); default: standard-normal samples.
        #[arg(long)]
        inputs: Option<PathBuf>,
        /// Calibration samples to use.
        #[arg(short = 'n', long, default_value_t = 64)]
        samples: usize,
        /// Held-out inputs (.npy): the final relative output error on them is printed too.
        #[arg(long)]
        validate: Option<PathBuf>,
        /// Bit width of the factors (default: each layer's weight width).
        #[arg(long)]
        bits: Option<u32>,
        /// Bit width of the intermediate activations between factors.
        #[arg(long, default_value_t = 12)]
        act_bits: u32,
        /// Configuration the cost model compiles with (e.g. {"default": {"style": "stream"}}).
        #[arg(short, long)]
        config: Option<PathBuf>,
        /// Clock period of the cost model, ns.
        #[arg(long, default_value_t = 2.5)]
        clock_ns: f64,
        /// Output model file.
        #[arg(short, long)]
        out: PathBuf,
        /// Also write the per-layer results as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// LUTs one cycle of a layer's latency counts for in the cost (0: latency not weighed).
        #[arg(long, default_value_t = 0)]
        latency_luts: u64,
    },
    /// Co-simulate a project with Verilator against the bit-exact reference interpreter.
    Sim {
        /// Project folder made by `tachyon build`.
        project: PathBuf,
        /// Float input samples (.npy, first axis = sample).
        #[arg(long)]
        inputs: Option<PathBuf>,
        /// Float outputs of another implementation for the same samples (.npy): reports max |Δ| and argmax agreement.
        #[arg(long)]
        expect: Option<PathBuf>,
        /// Use only the first N samples of --inputs.
        #[arg(short = 'n', long)]
        limit: Option<usize>,
        /// Add N random vectors over the full input range (default 1000 without --inputs).
        #[arg(long)]
        random: Option<usize>,
        /// Seed of the random vectors.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Idle cycles between vectors (0 = back to back).
        #[arg(long, default_value_t = 0)]
        gap: u32,
        /// Co-simulate the AXI-Stream wrapper (axis/<top>_axis.v) under random backpressure instead:
        /// every output must arrive exactly once, in order, bit-exact (random vectors only).
        #[arg(long)]
        axis: bool,
        /// With --axis: probability that the source offers a vector on a cycle.
        #[arg(long, default_value_t = 0.7)]
        valid_prob: f64,
        /// With --axis: probability that the sink is ready on a cycle.
        #[arg(long, default_value_t = 0.5)]
        ready_prob: f64,
    },
    /// Print the graph as Tachyon understands it, what is unsupported, and the quantized model.
    Inspect {
        model: PathBuf,
        #[arg(short, long)]
        config: Option<PathBuf>,
    },
    /// Print a project's report as a table (with yosys figures once `tachyon synth` has run) and write
    /// OUT/report.html (self-contained: layers, pipeline, widths, estimate vs yosys, co-simulation).
    Report { project: PathBuf },
    /// Synthesize a project with yosys (synth_xilinx) and compare with the estimate (synth.json).
    Synth {
        project: PathBuf,
        /// yosys synth_xilinx family: xcup (UltraScale+), xcu (UltraScale), xc7 (7 series).
        #[arg(long, default_value = "xcup")]
        family: String,
        /// Synthesize the design as distinct part modules under a top (each distinct part once,
        /// every instance counted): for designs too big for flat synthesis.
        #[arg(long)]
        partitioned: bool,
    },
    /// Run the project's Vivado flow (vivado/build.tcl: out-of-context synthesis, implementation,
    /// timing and utilization reports) if vivado is on PATH; otherwise print what to run where.
    Vivado {
        project: PathBuf,
        /// core (the pipelined core, default) or axis (its AXI-Stream wrapper).
        #[arg(long)]
        variant: Option<String>,
        /// Override the part written into build.tcl (from --board at build time).
        #[arg(long)]
        part: Option<String>,
    },
    /// Open-source iCE40 flow: a UART board top around the core, yosys synth_ice40, nextpnr-ice40,
    /// icepack → OUT/ice40/<top>_<board>.bin, with the achieved Fmax and utilization.
    Bitstream {
        project: PathBuf,
        /// iCE40 board (default: the project's --board).
        #[arg(long)]
        board: Option<String>,
        /// nextpnr placement seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Timing target in MHz (default: the board oscillator, 12 MHz on the iCEBreaker).
        #[arg(long)]
        freq: Option<f64>,
    },
    /// List the known boards and parts.
    Boards,
    /// Differential fuzzing: random quantized QONNX models checked at three levels — float QONNX
    /// semantics vs the reference interpreter, and Verilator co-simulation vs the interpreter.
    Fuzz {
        /// Number of random models.
        #[arg(long, default_value_t = 100)]
        models: usize,
        /// Seed of the first model (the others follow: S, S+1, …).
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Vectors per model and level.
        #[arg(long, default_value_t = 100)]
        vectors: usize,
        /// Folder for failing models (fail_<seed>.onnx and fail_<seed>.txt).
        #[arg(short, long, default_value = "fuzz-failures")]
        out: PathBuf,
        /// Skip the Verilator level.
        #[arg(long)]
        no_verilator: bool,
    },
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = dispatch(cli.cmd) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn dispatch(cmd: Cmd) -> Result<()> {
    match cmd {
        Cmd::Build { model, config, clock_ns, board, top, out, force, decompose, calib } => {
            let decomposed = match decompose {
                None => None,
                Some(budget) => {
                    let o = tachyon::decompose::Options {
                        budget,
                        inputs: calib,
                        config: match &config {
                            Some(p) => tachyon_quantize::Config::load(p).map_err(|e| anyhow::anyhow!(e))?,
                            None => Default::default(),
                        },
                        clock_ns: clock_ns.unwrap_or(5.0),
                        ..Default::default()
                    };
                    let d = tachyon::decompose::decompose(&model, &o)?;
                    say!("{}", tachyon::decompose::table(&d));
                    Some(prost::Message::encode_to_vec(&d.model))
                }
            };
            let opts = BuildOptions { model, config, clock_ns, board, top, out: out.clone(), force };
            let b = match &decomposed {
                None => build(&opts)?,
                Some(bytes) => {
                    let file = std::path::Path::new(tachyon::project::DECOMPOSED_MODEL);
                    let b = tachyon::project::build_with_model(&opts, file, bytes)?;
                    say!("wrote the decomposed model {}", out.join(file).display());
                    b
                }
            };
            let r = &b.design.report;
            say!(
                "built {} → {}: {} layers, latency {} cycles ({:.1} ns at {} ns), II {}, estimate LUT {} FF {} DSP {}",
                r.model,
                out.display(),
                r.layers.len(),
                r.latency_cycles,
                r.latency_ns,
                r.clock_ns,
                r.ii_cycles,
                r.total.lut,
                r.total.ff,
                r.total.dsp
            );
            let written: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap_or_default())
                    .unwrap_or_default();
            for w in written["warnings"].as_array().into_iter().flatten() {
                say!("warning: {}", w.as_str().unwrap_or(""));
            }
            if written["board"]["family"] == "ice40" {
                say!(
                    "note: the estimate counts UltraScale+ LUT6s; an iCE40 needs about 1.4 LUT4s per LUT \
                     (tiny MLP: 1,199 → 1,722 SB_LUT4), and `tachyon bitstream {}` gives the real figures",
                    out.display()
                );
            }
            for e in &r.epilogue {
                say!("note: float op {e} has no quantizer after it; it stays outside the hardware (see report.json)");
            }
        }
        Cmd::Decompose {
            model,
            budget,
            inputs,
            samples,
            validate,
            bits,
            act_bits,
            config,
            clock_ns,
            out,
            json,
            latency_luts,
        } => {
            let o = tachyon::decompose::Options {
                budget,
                inputs,
                samples,
                validate,
                weight_bits: bits,
                act_bits,
                config: match &config {
                    Some(p) => tachyon_quantize::Config::load(p).map_err(|e| anyhow::anyhow!(e))?,
                    None => Default::default(),
                },
                clock_ns,
                latency_luts,
            };
            let d = tachyon::decompose::decompose(&model, &o)?;
            say!("{}", tachyon::decompose::table(&d));
            std::fs::write(&out, prost::Message::encode_to_vec(&d.model))
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", out.display()))?;
            if let Some(j) = json {
                std::fs::write(&j, serde_json::to_string_pretty(&d.layers)?)
                    .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", j.display()))?;
            }
            say!("wrote {}", out.display());
        }
        Cmd::Sim { project, axis: true, random, seed, valid_prob, ready_prob, inputs, .. } => {
            if inputs.is_some() {
                anyhow::bail!("--axis takes random vectors only (--random N); drop --inputs");
            }
            let (_, built) = tachyon::project::load(&project)?;
            let vectors = tachyon::sim::random_vectors(&built, random.unwrap_or(1000), seed);
            let run = tachyon_testbenches::AxisRun { p_valid: valid_prob, p_ready: ready_prob, seed, tlast_every: 8 };
            let s = tachyon::axis::cosim(&project, &vectors, &run)?;
            say!("vectors      {} (source valid {valid_prob}, sink ready {ready_prob})", s.vectors);
            say!("received     {}", s.received);
            say!("mismatches   {}", s.mismatches);
            for m in &s.first_mismatches {
                say!("  {m}");
            }
            say!("tlast errors {}", s.tlast_errors);
            say!("protocol     {} violation(s)", s.protocol_errors.len());
            for p in &s.protocol_errors {
                say!("  {p}");
            }
            say!("accept gap   {}..{} cycles, {} cycles in all", s.min_accept_gap, s.max_accept_gap, s.cycles);
            if s.received != s.vectors || s.mismatches > 0 || s.tlast_errors > 0 || !s.protocol_errors.is_empty() {
                anyhow::bail!("AXI-Stream co-simulation failed");
            }
        }
        Cmd::Sim { project, inputs, expect, limit, random, seed, gap, .. } => {
            let s = run(&project, &SimOptions { inputs, expect, limit, random, seed, gap })?;
            say!("vectors      {}", s.vectors);
            say!("mismatches   {}", s.mismatches);
            for m in &s.first_mismatches {
                say!("  {m}");
            }
            say!("latency      {} cycles (report: {})", s.latency_cycles, s.expected_latency_cycles);
            say!("II           {} cycle(s)", s.ii_cycles);
            say!("verilator    build {:.1} s, run {:.2} s", s.build_seconds, s.run_seconds);
            if let (Some(d), Some(a), Some(n)) = (s.max_abs_diff, s.argmax_agreement, s.compared_rows) {
                say!("vs expected  max |Δ| {d:.6}, argmax agreement {:.2} % over {n} samples", a * 100.0);
            }
            if !s.layer_errors.is_empty() {
                say!("fixed vs float per layer (the model's float semantics on the --inputs samples):");
                for e in &s.layer_errors {
                    say!("  {:<28} max |Δ| {:<12.6} rms {:.6}", e.layer, e.max_abs, e.rms);
                }
            }
            if s.mismatches > 0 || s.latency_cycles != s.expected_latency_cycles {
                anyhow::bail!("co-simulation failed: {} mismatching vectors", s.mismatches);
            }
        }
        Cmd::Inspect { model, config } => {
            let g = tachyon_frontend::load_model(&model)?;
            print!("{}", tachyon_frontend::print::dump(&g));
            let un = g.unsupported();
            if !un.is_empty() {
                say!("\n{} unsupported node(s):", un.len());
                for u in un {
                    say!("  - {}: {}", u.node, u.reason);
                }
                return Ok(());
            }
            let cfg = match config {
                Some(p) => tachyon_quantize::Config::load(&p).map_err(|e| anyhow::anyhow!(e))?,
                None => tachyon_quantize::Config::default(),
            };
            match tachyon_quantize::lower(&g, &cfg) {
                Ok(q) => print!("\n{q}"),
                Err(e) => say!("\ncannot be compiled: {e}"),
            }
        }
        Cmd::Report { project } => {
            let text = std::fs::read_to_string(project.join("report.json"))
                .map_err(|e| anyhow::anyhow!("{}/report.json: {e}; run tachyon build first", project.display()))?;
            let r: serde_json::Value = serde_json::from_str(&text)?;
            say!(
                "{:<28} {:<10} {:<9} {:>5} {:>6} {:>7} {:>8} {:>7} {:>4}",
                "layer",
                "kind",
                "style",
                "outs",
                "width",
                "stages",
                "LUT",
                "FF",
                "DSP"
            );
            for l in r["layers"].as_array().into_iter().flatten() {
                // `stream/k`: one output pixel every k cycles.
                let style = match (l["style"].as_str(), l["pixel_interval"].as_u64()) {
                    (Some("stream"), Some(k)) => format!("stream/{k}"),
                    (Some(s), _) => s.to_string(),
                    _ => String::new(),
                };
                say!(
                    "{:<28} {:<10} {:<9} {:>5} {:>6} {:>7} {:>8} {:>7} {:>4}",
                    l["name"].as_str().unwrap_or(""),
                    l["kind"].as_str().unwrap_or(""),
                    style,
                    l["outputs"].to_string(),
                    format!("{}-{}", l["width_min"], l["width_max"]),
                    format!("{}-{}", l["stage_in"], l["stage_out"]),
                    l["estimate"]["lut"].to_string(),
                    l["estimate"]["ff"].to_string(),
                    l["estimate"]["dsp"].to_string()
                );
            }
            let t = &r["total"];
            say!("total: LUT {} FF {} CARRY8 {} DSP {}", t["lut"], t["ff"], t["carry8"], t["dsp"]);
            say!(
                "latency {} cycles = {} ns at {} ns, II {} ({} style, {} inferences/µs); slowest stage ≈ {} ns by the delay model",
                r["latency_cycles"],
                r["latency_ns"],
                r["clock_ns"],
                r["ii_cycles"],
                r["style"].as_str().unwrap_or("parallel"),
                r["throughput_per_us"],
                r["critical_stage_ns"]
            );
            if let Ok(text) = std::fs::read_to_string(project.join("synth.json")) {
                let s: tachyon::synth::SynthSummary = serde_json::from_str(&text)?;
                say!(
                    "yosys ({}): LUT {} FF {} CARRY {} SRL {} DSP {} BRAM {} — estimate error LUT {:+.1} %, FF {:+.1} %",
                    s.family,
                    s.yosys.lut,
                    s.yosys.ff,
                    s.yosys.carry,
                    s.yosys.srl,
                    s.yosys.dsp,
                    s.yosys.bram,
                    s.lut_error * 100.0,
                    s.ff_error * 100.0
                );
            }
            let read = |p: PathBuf| -> Option<serde_json::Value> {
                serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()
            };
            if let Some(s) = read(project.join("sim/results.json")) {
                say!(
                    "co-simulation: {} vectors, {} mismatches, latency {} cycles, II {}",
                    s["vectors"],
                    s["mismatches"],
                    s["latency_cycles"],
                    s["ii_cycles"]
                );
            }
            if let Some(s) = read(project.join("sim/axis/results.json")) {
                say!(
                    "AXI-Stream: {} vectors, {} received, {} mismatches, {} protocol errors",
                    s["vectors"],
                    s["received"],
                    s["mismatches"],
                    s["protocol_errors"].as_array().map_or(0, |a| a.len())
                );
            }
            if let Some(s) = read(project.join("ice40/summary.json")) {
                say!(
                    "iCE40 ({}): Fmax {:.2} MHz (required {} MHz), logic cells {} of {}",
                    s["board"].as_str().unwrap_or(""),
                    s["fmax_mhz"].as_f64().unwrap_or(0.0),
                    s["constraint_mhz"],
                    s["utilization"]["ICESTORM_LC"][0],
                    s["utilization"]["ICESTORM_LC"][1]
                );
            }
            let html = tachyon::html::write(&project)?;
            say!("wrote {}", html.display());
        }
        Cmd::Synth { project, family, partitioned } => {
            let s = tachyon::synth::run(&project, &family, partitioned)?;
            say!("{:<10} {:>9} {:>9} {:>7} {:>6} {:>5} {:>5}", "", "LUT", "FF", "CARRY", "SRL", "DSP", "BRAM");
            for (name, c) in [("yosys", &s.yosys), ("estimate", &s.estimate)] {
                say!("{:<10} {:>9} {:>9} {:>7} {:>6} {:>5} {:>5}", name, c.lut, c.ff, c.carry, c.srl, c.dsp, c.bram);
            }
            say!(
                "estimate error: LUT {:+.1} %, FF {:+.1} % (vs FF + SRL); {} -family {}{} in {:.0} s; saved to synth.json",
                s.lut_error * 100.0,
                s.ff_error * 100.0,
                s.yosys_version,
                s.family,
                s.partitioned.map_or(String::new(), |p| format!(
                    " partitioned ({} instances of {} modules)",
                    p.instances, p.modules
                )),
                s.seconds
            );
        }
        Cmd::Vivado { project, variant, part } => {
            match tachyon::vivado::run(&project, &tachyon::vivado::VivadoOptions { variant, part })? {
                tachyon::vivado::Outcome::NotInstalled { instructions } => say!("{instructions}"),
                tachyon::vivado::Outcome::Ran(r) => {
                    let fmt = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v}"));
                    say!("vivado {} on {} at {} ns: {} in {:.0} s", r.top, r.part, r.clock_ns, r.status, r.seconds);
                    say!("WNS {} ns, Fmax {} MHz", fmt(r.wns_ns), fmt(r.fmax_mhz));
                    let u = &r.utilization;
                    say!("post-route: LUT {} FF {} DSP {} BRAM36 {} URAM {}", u.lut, u.ff, u.dsp, u.bram36, u.uram);
                    say!("reports in {}", r.out_dir.display());
                }
            }
        }
        Cmd::Bitstream { project, board, seed, freq } => {
            let o = tachyon::bitstream::BitstreamOptions { board, seed, freq_mhz: freq };
            let s = tachyon::bitstream::run(&project, &o)?;
            say!("bitstream   {} ({} bytes)", s.bin.display(), s.bin_bytes);
            say!(
                "timing      Fmax {:.2} MHz achieved, {:.2} MHz required ({})",
                s.fmax_mhz,
                s.constraint_mhz,
                if s.fmax_mhz >= s.constraint_mhz { "met" } else { "FAILED" }
            );
            for (cell, (used, avail)) in &s.utilization {
                if *used > 0 {
                    say!("utilization {cell:<16} {used:>6} / {avail}");
                }
            }
            say!(
                "board top   {} on {} ({}): UART {} baud, see the header of ice40/{}.v",
                s.top,
                s.board,
                s.part,
                tachyon::bitstream::BAUD,
                s.top
            );
            if s.fmax_mhz < s.constraint_mhz {
                anyhow::bail!("nextpnr did not meet the {:.2} MHz clock of {}", s.constraint_mhz, s.board);
            }
        }
        Cmd::Fuzz { models, seed, vectors, out, no_verilator } => {
            let s = tachyon::fuzz::run_campaign(models, seed, vectors, &out, !no_verilator)?;
            say!("{s}");
            if s.failed() > 0 {
                anyhow::bail!("{} of {} models failed; see {}", s.failed(), s.models, out.display());
            }
        }
        Cmd::Boards => {
            say!(
                "{:<12} {:<24} {:>9} {:>9} {:>6} {:>6} {:>8}",
                "name",
                "part",
                "LUT",
                "FF",
                "DSP",
                "BRAM36",
                "clock ns"
            );
            for b in tachyon_boards::boards() {
                say!(
                    "{:<12} {:<24} {:>9} {:>9} {:>6} {:>6} {:>8}",
                    b.name,
                    b.part,
                    b.lut,
                    b.ff,
                    b.dsp,
                    b.bram36,
                    b.default_clock_ns
                );
            }
        }
    }
    Ok(())
}
