//! From a project to a board: Vivado project files (checked by tclsh with the Vivado commands
//! stubbed), `tachyon vivado` without Vivado, and the jet MLP built for every board in the database.

use crate::common::*;
use std::path::Path;
use std::process::Command;

fn tachyon(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tachyon")).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr))
}

/// Vivado's commands as Tcl procedures that log their arguments (one call per line in `calls`),
/// and XDC files sourced with the same stubs, so a typo or a command Vivado does not have fails.
const VIVADO_STUBS: &str = r#"
set calls {}
proc log_call {args} { global calls; lappend calls [join $args " "] }
foreach cmd {read_verilog synth_design write_checkpoint report_utilization report_timing_summary
             opt_design place_design phys_opt_design route_design write_bitstream create_clock
             set_property set_input_delay set_output_delay} {
    proc $cmd {args} "log_call $cmd {*}\$args"
}
proc get_ports {args} { return "port([join $args { }])" }
proc read_xdc {file} { log_call read_xdc $file; uplevel #0 [list source $file] }
proc get_timing_paths {args} { log_call get_timing_paths {*}$args; return {path0} }
proc get_property {name obj} {
    switch -- $name { SLACK { return 0.125 } REQUIREMENT { global clock_ns; return $clock_ns } }
    error "stub get_property: unexpected property $name"
}
"#;

/// Runs `vivado/build.tcl` of `project` in tclsh with `tclargs`; returns (success, logged calls + output).
fn tclsh_build(project: &Path, tclargs: &[&str], out: &Path) -> (bool, String) {
    let driver = format!(
        "{VIVADO_STUBS}\nset argv [list {} out={}]\nset argc [llength $argv]\nsource {}\nputs \"CALLS\"\nforeach c $calls {{ puts $c }}\n",
        tclargs.join(" "),
        out.display(),
        project.join("vivado/build.tcl").display()
    );
    let script = out.with_extension("driver.tcl");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    std::fs::write(&script, driver).unwrap();
    let o = Command::new("tclsh").arg(&script).output().unwrap();
    (o.status.success(), String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr))
}

/// The generated TCL and XDC parse and run in tclsh with stubbed Vivado commands, name the
/// board's part and the clock period, and write results.txt; the axis and board variants read
/// their sources; bad arguments are refused with a message.
#[test]
fn vivado_tcl_passes_tclsh_with_stubbed_commands() {
    if !have_tclsh() {
        return;
    }
    let out = scratch("vivado_tcl");
    let model = repo().join("examples/tiny_mlp/tiny_mlp.onnx");
    let (ok, text) = tachyon(&["build", model.to_str().unwrap(), "--board", "zcu102", "-o", out.to_str().unwrap()]);
    assert!(ok, "{text}");
    for f in ["vivado/build.tcl", "vivado/tachyon_top.xdc", "vivado/tachyon_top_axis.xdc"] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let runs = out.join("runs");
    let (ok, text) = tclsh_build(&out, &[], &runs.join("core"));
    assert!(ok, "tclsh build.tcl:\n{text}");
    let calls = text.split("CALLS\n").nth(1).unwrap();
    assert!(calls.contains("read_verilog ") && calls.contains("/rtl/tachyon_top.v"), "{calls}");
    assert!(
        calls.contains(
            "synth_design -top tachyon_top -part xczu9eg-ffvb1156-2-e -mode out_of_context -verilog_define SYNTHESIS"
        ),
        "part and out-of-context synthesis:\n{calls}"
    );
    assert!(calls.contains("create_clock -period 3.333 -name clk port(clk)"), "clock from the board:\n{calls}");
    for step in ["opt_design", "place_design", "route_design", "report_timing_summary", "report_utilization"] {
        assert!(calls.lines().any(|l| l.starts_with(step)), "{step} missing:\n{calls}");
    }
    assert!(!calls.contains("write_bitstream"), "no bitstream out of context:\n{calls}");
    let results =
        tachyon_flows::vivado::parse_results(&std::fs::read_to_string(runs.join("core/results.txt")).unwrap());
    assert_eq!(results.part, "xczu9eg-ffvb1156-2-e");
    assert_eq!(results.clock_ns, 3.333);
    assert_eq!(results.wns_ns, Some(0.125));
    assert_eq!(results.fmax_mhz, Some(311.7));
    assert_eq!(results.status, "met");

    // --clock-ns overrides the board's clock; part= overrides the part.
    let out2 = scratch("vivado_tcl_clock");
    let (ok, text) = tachyon(&[
        "build",
        model.to_str().unwrap(),
        "--board",
        "vcu118",
        "--clock-ns",
        "4",
        "-o",
        out2.to_str().unwrap(),
    ]);
    assert!(ok, "{text}");
    let (ok, text) = tclsh_build(&out2, &["part=xcvu9p-flga2104-2-i"], &out2.join("runs/core"));
    assert!(ok, "{text}");
    assert!(text.contains("-part xcvu9p-flga2104-2-i") && text.contains("create_clock -period 4.000"), "{text}");

    // The axis variant synthesizes the wrapper with its own clock port.
    let (ok, text) = tclsh_build(&out, &["variant=axis"], &runs.join("axis"));
    assert!(ok, "{text}");
    assert!(text.contains("synth_design -top tachyon_top_axis") && text.contains("/axis/tachyon_top_axis.v"), "{text}");
    assert!(text.contains("create_clock -period 3.333 -name aclk port(aclk)"), "{text}");

    // A full-board top: normal synthesis and a bitstream.
    let board_v = runs.join("board_top.v");
    let board_xdc = runs.join("pins.xdc");
    std::fs::write(&board_v, "module board_top; endmodule\n").unwrap();
    std::fs::write(&board_xdc, "create_clock -period 3.333 -name sys [get_ports sys_clk]\n").unwrap();
    let args = [
        "variant=board".to_string(),
        "top=board_top".to_string(),
        format!("board_files={}", board_v.display()),
        format!("board_xdc={}", board_xdc.display()),
    ];
    let args: Vec<&str> = args.iter().map(|s| s.as_str()).collect();
    let (ok, text) = tclsh_build(&out, &args, &runs.join("board"));
    assert!(ok, "{text}");
    assert!(
        text.contains("synth_design -top board_top -part xczu9eg-ffvb1156-2-e -verilog_define SYNTHESIS\n"),
        "{text}"
    );
    assert!(text.contains("write_bitstream -force") && text.contains("board_top.bit"), "{text}");

    // Mistakes are refused by name.
    let (ok, text) = tclsh_build(&out, &["variant=nope"], &runs.join("nope"));
    assert!(!ok && text.contains("unknown variant 'nope'"), "{text}");
    let (ok, text) = tclsh_build(&out, &["variant=board"], &runs.join("nope"));
    assert!(!ok && text.contains("variant=board needs top=NAME"), "{text}");
    let (ok, text) = tclsh_build(&out, &["clock"], &runs.join("nope"));
    assert!(!ok && text.contains("is not key=value"), "{text}");
}

/// Without Vivado, `tachyon vivado` says what to run where and succeeds; an iCE40 project has no
/// Vivado files and is pointed at `tachyon bitstream`.
#[test]
fn vivado_command_without_vivado_prints_instructions() {
    if tachyon_flows::tools::available("vivado") {
        skip_note!("skipped: vivado is installed, so the no-vivado instructions cannot be checked");
        return;
    }
    let out = scratch("vivado_cmd");
    let model = repo().join("examples/tiny_mlp/tiny_mlp.onnx");
    let (ok, text) = tachyon(&["build", model.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(ok, "{text}");
    let tcl = std::fs::read_to_string(out.join("vivado/build.tcl")).unwrap();
    assert!(tcl.contains("set part \"xcvu13p-flga2577-2-e\"") && tcl.contains("no --board given"), "default part");
    let (ok, text) = tachyon(&["vivado", out.to_str().unwrap(), "--variant", "axis"]);
    assert!(ok, "{text}");
    assert!(
        text.contains("vivado is not on PATH") && text.contains("-source build.tcl -tclargs variant=axis"),
        "{text}"
    );
    assert!(text.contains(&format!("cd {}/vivado", out.display())), "{text}");

    let ice = scratch("vivado_ice40");
    let (ok, text) = tachyon(&["build", model.to_str().unwrap(), "--board", "icebreaker", "-o", ice.to_str().unwrap()]);
    assert!(ok, "{text}");
    assert!(!ice.join("vivado").exists());
    let (ok, text) = tachyon(&["vivado", ice.to_str().unwrap()]);
    assert!(!ok && text.contains("iCE40") && text.contains("tachyon bitstream"), "{text}");
}

fn have_tclsh() -> bool {
    let ok =
        Command::new("tclsh").stdin(std::process::Stdio::null()).arg("/dev/null").status().is_ok_and(|s| s.success());
    if !ok {
        skip_note!("skipped: tclsh is not installed (apt-get install -y tcl)");
    }
    ok
}

/// Packs bus elements (element 0 at bit 0) into little-endian bytes.
fn pack(values: &[i128], widths: &[u32]) -> Vec<u8> {
    let total: u32 = widths.iter().sum();
    let mut bytes = vec![0u8; total.div_ceil(8) as usize];
    let mut off = 0;
    for (&v, &w) in values.iter().zip(widths) {
        for b in 0..w {
            if (v >> b) & 1 == 1 {
                bytes[((off + b) / 8) as usize] |= 1 << ((off + b) % 8);
            }
        }
        off += w;
    }
    bytes
}

/// Unpacks little-endian bytes into bus elements of the given widths and signedness.
fn unpack(bytes: &[u8], elems: &[(u32, bool)]) -> Vec<i128> {
    let bit = |i: u32| (bytes[(i / 8) as usize] >> (i % 8)) & 1 == 1;
    let mut off = 0;
    elems
        .iter()
        .map(|&(w, signed)| {
            let mut v: i128 = 0;
            for b in 0..w {
                if bit(off + b) {
                    v |= 1 << b;
                }
            }
            if signed && (v >> (w - 1)) & 1 == 1 {
                v -= 1 << w;
            }
            off += w;
            v
        })
        .collect()
}

/// The iCEBreaker board top (UART bridge) simulated by Icarus with a fast baud rate: bytes sent
/// on RX come back on TX as the reference interpreter's outputs.
fn simulate_board_top(project: &Path, n: usize) {
    if !have("iverilog") {
        return;
    }
    let (m, built) = tachyon_driver::project::load(project).unwrap();
    let board = tachyon_boards::find("icebreaker").unwrap();
    let (verilog, _) = tachyon_flows::ice40::board_files(&m.core("tiny"), &board).unwrap();
    let dir = project.join("uart_sim");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("tachyon_top_icebreaker.v"), verilog).unwrap();
    if have("verilator") {
        let top = ["--top-module", "tachyon_top_icebreaker"];
        let out = Command::new("verilator")
            .args(["--lint-only", "-Wall"])
            .args(top)
            .arg(dir.join("tachyon_top_icebreaker.v"))
            .arg(project.join("rtl/tachyon_top.v"))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && text.trim().is_empty(), "verilator -Wall on the board top:\n{text}");
    }
    let vectors = tachyon_driver::sim::random_vectors(&built.qmodel, n, 3);
    let in_w: Vec<u32> = m.inputs.iter().map(|e| e.width).collect();
    let out_e: Vec<(u32, bool)> = m.outputs.iter().map(|e| (e.width, e.signed)).collect();
    let in_bytes: Vec<u8> = vectors.iter().flat_map(|v| pack(v, &in_w)).collect();
    let per_in = in_w.iter().sum::<u32>().div_ceil(8) as usize;
    let per_out = out_e.iter().map(|e| e.0).sum::<u32>().div_ceil(8) as usize;
    let hex: String = in_bytes.iter().map(|b| format!("{b:02x}\n")).collect();
    std::fs::write(dir.join("in.hex"), hex).unwrap();
    let tb = format!(
        r#"`timescale 1ns/1ps
module tb;
    localparam CPB = 8, NIN = {nin}, PER_IN = {per_in}, PER_OUT = {per_out}, NVEC = {n};
    reg clk = 0, rx = 1;
    wire tx, ledr_n, ledg_n;
    reg [7:0] mem [0:NIN-1];
    integer i, k, b, got;
    reg [7:0] byte_in;
    always #5 clk = ~clk;
    tachyon_top_icebreaker dut (.CLK(clk), .BTN_N(1'b1), .RX(rx), .TX(tx), .LEDR_N(ledr_n), .LEDG_N(ledg_n));
    defparam dut.u_rx.CLKS_PER_BIT = CPB;
    defparam dut.u_tx.CLKS_PER_BIT = CPB;
    task send(input [7:0] v); begin
        rx = 0; repeat (CPB) @(posedge clk);
        for (b = 0; b < 8; b = b + 1) begin rx = v[b]; repeat (CPB) @(posedge clk); end
        rx = 1; repeat (CPB) @(posedge clk);
    end endtask
    task recv; begin
        @(negedge tx); repeat (CPB / 2) @(posedge clk);
        for (b = 0; b < 8; b = b + 1) begin repeat (CPB) @(posedge clk); byte_in[b] = tx; end
        repeat (CPB) @(posedge clk);
        if (tx !== 1'b1) $display("FRAMING");
        $display("B %0d", byte_in);
    end endtask
    initial begin
        $readmemh("in.hex", mem);
        repeat (20) @(posedge clk);
        for (i = 0; i < NVEC; i = i + 1) begin
            fork
                for (k = 0; k < PER_IN; k = k + 1) send(mem[i * PER_IN + k]);
                for (got = 0; got < PER_OUT; got = got + 1) recv;
            join
        end
        if (ledr_n !== 1'b1) $display("OVERRUN");
        $display("DONE");
        $finish;
    end
    initial begin #50000000 $display("TIMEOUT"); $finish; end
endmodule
"#,
        nin = in_bytes.len()
    );
    std::fs::write(dir.join("tb.v"), tb).unwrap();
    let core = project.join("rtl/tachyon_top.v");
    let out = Command::new("iverilog")
        .current_dir(&dir)
        .args(["-o", "tb.vvp", "tb.v", "tachyon_top_icebreaker.v"])
        .arg(&core)
        .output()
        .unwrap();
    assert!(out.status.success(), "iverilog:\n{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new("vvp").current_dir(&dir).args(["-n", "tb.vvp"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("DONE") && !text.contains("TIMEOUT") && !text.contains("FRAMING"), "{text}");
    assert!(!text.contains("OVERRUN"), "{text}");
    let bytes: Vec<u8> = text.lines().filter_map(|l| l.strip_prefix("B ")).map(|b| b.parse().unwrap()).collect();
    assert_eq!(bytes.len(), n * per_out, "{text}");
    for (i, v) in vectors.iter().enumerate() {
        let got = unpack(&bytes[i * per_out..(i + 1) * per_out], &out_e);
        assert_eq!(got, tachyon_quantize::interp::run(&built.qmodel, v), "vector {i} through the UART board top");
    }
}

/// `tachyon bitstream --board icebreaker` on the tiny MLP: a real .bin from yosys, nextpnr-ice40
/// and icepack, nextpnr's report parsed (Fmax meets the 12 MHz oscillator), and the UART board
/// top computes the reference outputs in simulation.
#[test]
fn icebreaker_bitstream_of_tiny_mlp() {
    let out = scratch("ice40_tiny");
    let model = repo().join("examples/tiny_mlp/tiny_mlp.onnx");
    // As the README writes it: a project path relative to the working directory.
    let cwd = out.parent().unwrap();
    let in_cwd = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_tachyon")).args(args).current_dir(cwd).output().unwrap();
        (o.status.success(), String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr))
    };
    let (ok, text) = in_cwd(&["build", model.to_str().unwrap(), "--board", "icebreaker", "-o", "ice40_tiny"]);
    assert!(ok, "{text}");
    simulate_board_top(&out, 6);
    let missing: Vec<&str> =
        ["yosys", "nextpnr-ice40", "icepack"].into_iter().filter(|t| !tachyon_flows::tools::on_path(t)).collect();
    if !missing.is_empty() {
        skip_note!("skipped: {} not installed (run scripts/setup.sh)", missing.join(", "));
        let (ok, text) = tachyon(&["bitstream", out.to_str().unwrap()]);
        assert!(!ok && text.contains("not installed") && text.contains("setup.sh"), "{text}");
        return;
    }
    let (ok, text) = in_cwd(&["bitstream", "ice40_tiny"]);
    assert!(ok, "{text}");
    assert!(text.contains("Fmax") && text.contains("ICESTORM_LC"), "{text}");
    let bin = out.join("ice40/tachyon_top_icebreaker.bin");
    let len = std::fs::metadata(&bin).unwrap().len();
    assert_eq!(len, 104_090, "an iCE40 UP5K bitstream has a fixed size");
    let report = std::fs::read_to_string(out.join("ice40/nextpnr_report.json")).unwrap();
    let (fmax, constraint, util) = tachyon_flows::ice40::parse_nextpnr_report(&report).unwrap();
    assert_eq!(constraint, 12.0);
    assert!(fmax >= constraint, "Fmax {fmax}");
    let (lc, avail) = util["ICESTORM_LC"];
    assert!(lc > 500 && lc <= avail, "{lc} / {avail}");
    let s: tachyon_flows::ice40::BitstreamSummary =
        serde_json::from_str(&std::fs::read_to_string(out.join("ice40/summary.json")).unwrap()).unwrap();
    assert_eq!((s.fmax_mhz, s.bin_bytes), (fmax, len));
    assert!(s.yosys["SB_LUT4"] > 0);
    assert!(!out.join("ice40.failed").exists() && !has_tmp(&out));
    skip_note!("iCE40 tiny_mlp: Fmax {fmax:.2} MHz, {lc}/{avail} LCs, {} s nextpnr", s.seconds["nextpnr"]);

    // A Xilinx board is pointed at `tachyon vivado`; a design too slow for the clock leaves no .bin.
    let (ok, text) = tachyon(&["bitstream", out.to_str().unwrap(), "--board", "vu13p"]);
    assert!(!ok && text.contains("tachyon vivado"), "{text}");
    // A clock the design cannot reach: an error with advice, no .bin, the logs kept aside, the
    // earlier results untouched.
    let (ok, text) = tachyon(&["bitstream", out.to_str().unwrap(), "--freq", "150"]);
    assert!(!ok, "{text}");
    assert!(text.contains("150.00 MHz") && text.contains("--clock-ns") && text.contains("ice40.failed"), "{text}");
    assert!(
        out.join("ice40.failed/nextpnr.log").is_file()
            && !out.join("ice40.failed").join(bin.file_name().unwrap()).exists()
    );
    assert_eq!(std::fs::metadata(&bin).unwrap().len(), len);
    assert!(!has_tmp(&out));
}

fn has_tmp(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains("tmp"))
}

/// The shipped jet MLP builds for every board in the database: the board's clock (or its
/// scheduling clock), its part in report.json and in the Vivado script, the clock in the XDC, a
/// budget warning exactly when the estimate exceeds the part, and lint-clean core + AXI-Stream
/// wrapper.
#[test]
fn jet_mlp_builds_for_every_board() {
    let model = repo().join("examples/jet_mlp/jet_mlp.onnx");
    let boards = tachyon_boards::boards();
    assert!(boards.len() >= 7);
    for board in boards {
        let out = scratch(&format!("jet_{}", board.name));
        let mut o = build_options(&model, &out);
        o.clock_ns = None;
        o.board = Some(board.name.clone());
        let b = tachyon_driver::project::build(&o).unwrap_or_else(|e| panic!("{}: {e:#}", board.name));
        let clock = board.schedule_clock_ns.unwrap_or(board.default_clock_ns);
        assert_eq!(b.manifest.clock_ns, clock, "{}", board.name);
        assert_eq!(b.manifest.board.as_deref(), Some(board.name.as_str()));
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
        assert_eq!(report["board"]["part"], board.part.as_str());
        let t = &b.design.report.total;
        let over = t.lut > board.lut || t.ff > board.ff || t.dsp > board.dsp;
        let warnings = report["warnings"].as_array().unwrap();
        assert_eq!(!warnings.is_empty(), over, "{}: budget warning {warnings:?} for {t:?}", board.name);
        if board.family == "ice40" {
            assert!(!out.join("vivado").exists(), "{}: no Vivado flow for iCE40", board.name);
        } else {
            let tcl = std::fs::read_to_string(out.join("vivado/build.tcl")).unwrap();
            assert!(tcl.contains(&format!("set part \"{}\"", board.part)), "{}", board.name);
            let xdc = std::fs::read_to_string(out.join("vivado/tachyon_top.xdc")).unwrap();
            assert!(xdc.contains(&format!("create_clock -period {clock:.3} -name clk")), "{}:\n{xdc}", board.name);
        }
        if have("verilator") {
            let out_lint = Command::new("verilator")
                .args(["--lint-only", "-Wall"])
                .arg(out.join("rtl/tachyon_top.v"))
                .arg(out.join("axis/tachyon_top_axis.v"))
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out_lint.stderr);
            assert!(out_lint.status.success() && text.trim().is_empty(), "{}: verilator -Wall:\n{text}", board.name);
        }
        let _ = std::fs::remove_dir_all(&out);
    }
}

/// `tachyon vivado` with a `vivado` on PATH: a stand-in that runs build.tcl in tclsh with the
/// stubbed commands (report_utilization writing a sample table) — the command runs the script
/// from the project's vivado/ folder, reads results.txt and the utilization report, and
/// report.html shows them.
#[test]
fn vivado_command_runs_vivado_and_reads_its_reports() {
    if !have_tclsh() {
        return;
    }
    let out = scratch("vivado_fake");
    let model = repo().join("examples/tiny_mlp/tiny_mlp.onnx");
    let (ok, text) = tachyon(&["build", model.to_str().unwrap(), "--board", "vu13p", "-o", out.to_str().unwrap()]);
    assert!(ok, "{text}");
    let bin = scratch("vivado_fake_bin");
    std::fs::create_dir_all(&bin).unwrap();
    let driver = bin.join("driver.tcl");
    std::fs::write(
        &driver,
        format!(
            "{VIVADO_STUBS}\nproc report_utilization {{args}} {{\n    set i [lsearch $args -file]\n    \
             set f [open [lindex $args [expr {{$i + 1}}]] w]\n    \
             puts $f \"| CLB LUTs*    | 1234 |     0 |          0 |   1728000 |  0.07 |\"\n    \
             puts $f \"| CLB Registers |  567 |     0 |          0 |   3456000 |  0.02 |\"\n    \
             puts $f \"| DSPs          |    3 |     0 |          0 |     12288 |  0.02 |\"\n    close $f\n}}\n\
             set script [lindex $argv 0]\nset argv [lrange $argv 1 end]\nset argc [llength $argv]\nsource $script\n"
        ),
    )
    .unwrap();
    let fake = bin.join("vivado");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nif [ \"$1\" = -version ]; then echo 'Vivado v0.0 (stand-in)'; exit 0; fi\nsrc=\"\"\n\
             while [ $# -gt 0 ]; do case \"$1\" in -source) src=$2; shift 2;; -tclargs) shift; break;; *) shift;; esac; done\n\
             exec tclsh {} \"$src\" \"$@\"\n",
            driver.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let run = Command::new(env!("CARGO_BIN_EXE_tachyon"))
        .args(["vivado", out.to_str().unwrap(), "--variant", "axis"])
        .env("PATH", &path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&run.stdout).to_string() + &String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "{text}");
    assert!(text.contains("tachyon_top_axis on xcvu13p-flga2577-2-e at 2.5 ns: met"), "{text}");
    assert!(text.contains("WNS 0.125 ns, Fmax 421.1 MHz"), "{text}");
    assert!(text.contains("post-route: LUT 1234 FF 567 DSP 3"), "{text}");
    assert!(out.join("vivado/out/axis/results.txt").is_file() && out.join("vivado/run.log").is_file());
    let (ok, text) = tachyon(&["report", out.to_str().unwrap()]);
    assert!(ok, "{text}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Vivado (axis)") && html.contains("421.1 MHz"), "report.html shows the Vivado run");
}

#[test]
fn board_commands_have_help() {
    for sub in ["vivado", "bitstream"] {
        let (ok, text) = tachyon(&[sub, "--help"]);
        assert!(ok && text.contains("Usage"), "{sub} --help:\n{text}");
    }
}

/// The board's family drives the delay model: at one clock period, a slower family gets more
/// pipeline stages, and the report's slowest stage is given in that family's delays.
#[test]
fn slower_families_get_more_stages_at_the_same_clock() {
    let dir = scratch("board_delay_scale");
    let model = repo().join("examples/jet_mlp/jet_mlp.onnx");
    let mut stages = vec![];
    for board in ["vu13p", "ku115", "arty-a7"] {
        let mut o = build_options(&model, dir.join(board));
        o.board = Some(board.into());
        o.clock_ns = Some(5.0);
        let b = tachyon_driver::project::build(&o).unwrap();
        assert!(b.design.report.critical_stage_ns <= 5.0 + 1e-9, "{board}: {}", b.design.report.critical_stage_ns);
        stages.push(b.design.latency);
    }
    assert!(stages[0] < stages[1] && stages[1] < stages[2], "stages per board {stages:?}");
}
