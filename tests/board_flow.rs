//! From a project to a board: Vivado project files (checked by tclsh with the Vivado commands
//! stubbed), `tachyon vivado` without Vivado, and the jet MLP built for every board in the database.

#[macro_use]
mod common;

use common::*;
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
        calls.contains("synth_design -top tachyon_top -part xczu9eg-ffvb1156-2-e -mode out_of_context"),
        "part and out-of-context synthesis:\n{calls}"
    );
    assert!(calls.contains("create_clock -period 3.333 -name clk port(clk)"), "clock from the board:\n{calls}");
    for step in ["opt_design", "place_design", "route_design", "report_timing_summary", "report_utilization"] {
        assert!(calls.lines().any(|l| l.starts_with(step)), "{step} missing:\n{calls}");
    }
    assert!(!calls.contains("write_bitstream"), "no bitstream out of context:\n{calls}");
    let results = tachyon::vivado::parse_results(&std::fs::read_to_string(runs.join("core/results.txt")).unwrap());
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
    assert!(text.contains("synth_design -top board_top -part xczu9eg-ffvb1156-2-e\n"), "{text}");
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
    if tachyon::tools::available("vivado") {
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
