//! `tachyon bitstream OUT/ --board icebreaker`: the open-source iCE40 flow, end to end.
//!
//! The core gets a board top (template `ice40_top.v`: a UART bridge on the board's own pins from
//! `boards.json` — send the input bytes, receive the output bytes; see its header), then
//! yosys `synth_ice40` → nextpnr-ice40 (placement, routing, timing against the board oscillator)
//! → icepack → `OUT/ice40/<top>_<board>.bin`. nextpnr's JSON report gives the achieved Fmax and
//! the utilization; `OUT/ice40/summary.json` keeps them for `tachyon report`.
//!
//! Everything is made in a scratch folder that replaces `OUT/ice40/` only when the `.bin` exists;
//! on failure it becomes `OUT/ice40.failed/` (the tools' logs, no bitstream) and an earlier
//! `OUT/ice40/` is left as it was.

use crate::project::Manifest;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tachyon_boards::Board;

const TEMPLATE: &str = include_str!("ice40_top.v");
/// UART speed of the board top.
pub const BAUD: f64 = 115_200.0;

/// Options of `tachyon bitstream`.
#[derive(Clone, Debug, Default)]
pub struct BitstreamOptions {
    /// The board (default: the project's, if it is an iCE40 board).
    pub board: Option<String>,
    /// nextpnr's placement seed.
    pub seed: Option<u64>,
    /// Timing target in MHz instead of the board oscillator's (e.g. for a top with a PLL).
    pub freq_mhz: Option<f64>,
}

/// What the flow produced, saved as `OUT/ice40/summary.json`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct BitstreamSummary {
    pub board: String,
    pub part: String,
    /// The board top's module name.
    pub top: String,
    pub bin: PathBuf,
    pub bin_bytes: u64,
    /// Achieved and required frequency (MHz) of the clock, from nextpnr.
    pub fmax_mhz: f64,
    pub constraint_mhz: f64,
    /// nextpnr utilization: cell type → (used, available).
    pub utilization: Utilization,
    /// yosys cell counts after synth_ice40 (SB_LUT4, SB_CARRY, SB_DFF*, SB_MAC16, SB_RAM40_4K).
    pub yosys: BTreeMap<String, u64>,
    /// Wall time of yosys, nextpnr and icepack.
    pub seconds: BTreeMap<String, f64>,
}

/// nextpnr's device flag and package of an iCE40 part string (`ice40up5k-sg48` → `up5k`, `sg48`).
pub fn device_and_package(part: &str) -> Result<(String, String)> {
    let (dev, pkg) = part.split_once('-').unwrap_or((part, ""));
    match dev.strip_prefix("ice40") {
        Some(d) if !d.is_empty() && !pkg.is_empty() => Ok((d.to_string(), pkg.to_string())),
        _ => bail!("part '{part}' is not an iCE40 part string like ice40up5k-sg48 (fix boards/data/boards.json)"),
    }
}

/// Bits needed to count up to `n` (at least 1).
fn count_bits(n: u32) -> u32 {
    (32 - n.leading_zeros()).max(1)
}

/// The board top's module name.
pub fn top_name(core: &str, board: &Board) -> String {
    let b: String = board.name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("{core}_{b}")
}

/// The board top (Verilog) and the pin constraints (PCF) of the core described by `m`.
pub fn board_files(m: &Manifest, board: &Board, model: &str) -> Result<(String, String)> {
    let pin = |role: &str| {
        board.pins.get(role).cloned().ok_or_else(|| {
            anyhow::anyhow!(
                "board {} has no '{role}' pin in boards/data/boards.json (a UART board top needs clk, uart_rx, \
                 uart_tx, button_n, led_r_n and led_g_n)",
                board.name
            )
        })
    };
    let osc = board.osc_mhz.ok_or_else(|| anyhow::anyhow!("board {} has no osc_mhz in boards.json", board.name))?;
    let cpb = (osc * 1e6 / BAUD).round() as u32;
    let in_bits: u32 = m.inputs.iter().map(|e| e.width).sum();
    let out_bits: u32 = m.outputs.iter().map(|e| e.width).sum();
    let (in_bytes, out_bytes) = (in_bits.div_ceil(8), out_bits.div_ceil(8));
    let (in_cw, out_cw) = (count_bits(in_bytes - 1), count_bits(out_bytes));
    let in_shift =
        if in_bytes == 1 { "rx_data".to_string() } else { format!("{{rx_data, in_buf[{}:8]}}", in_bytes * 8 - 1) };
    let in_data = if in_bytes * 8 == in_bits {
        format!("    wire [{}:0] core_in_data = in_buf;\n", in_bits - 1)
    } else {
        format!(
            "    /* verilator lint_off UNUSEDSIGNAL */\n    wire [{}:0] in_all = in_buf;  // bits above {in_bits} are padding\n    \
             /* verilator lint_on UNUSEDSIGNAL */\n    wire [{m1}:0] core_in_data = in_all[{m1}:0];\n",
            in_bytes * 8 - 1,
            m1 = in_bits - 1
        )
    };
    let out_load = if out_bytes * 8 == out_bits {
        "out_data".to_string()
    } else {
        format!("{{{}'d0, out_data}}", out_bytes * 8 - out_bits)
    };
    let out_shift =
        if out_bytes == 1 { "8'd0".to_string() } else { format!("{{8'd0, out_buf[{}:8]}}", out_bytes * 8 - 1) };
    let board_id = top_name(&m.top, board)[m.top.len() + 1..].to_string();
    let verilog = TEMPLATE
        .replace("@IN_DATA@", &in_data)
        .replace("@IN_SHIFT@", &in_shift)
        .replace("@OUT_LOAD@", &out_load)
        .replace("@OUT_SHIFT@", &out_shift)
        .replace("@BOARD@", &board_id)
        .replace("@CORE@", &m.top)
        .replace("@TOP@", &m.top)
        .replace("@VERSION@", &m.tachyon_version)
        .replace("@MODEL@", model)
        .replace("@BAUD@", &format!("{BAUD}"))
        .replace("@OSC_MHZ@", &format!("{osc}"))
        .replace("@CPB@", &cpb.to_string())
        .replace("@IN_BYTES_M1@", &(in_bytes - 1).to_string())
        .replace("@IN_BYTES@", &in_bytes.to_string())
        .replace("@IN_BITS@", &in_bits.to_string())
        .replace("@IN_MSB@", &(in_bytes * 8 - 1).to_string())
        .replace("@IN_CW1@", &in_cw.to_string())
        .replace("@IN_CW@", &(in_cw - 1).to_string())
        .replace("@OUT_BYTES@", &out_bytes.to_string())
        .replace("@OUT_BITS@", &out_bits.to_string())
        .replace("@OUT_MSB@", &(out_bits - 1).to_string())
        .replace("@OUT_BUF_MSB@", &(out_bytes * 8 - 1).to_string())
        .replace("@OUT_CW1@", &out_cw.to_string())
        .replace("@OUT_CW@", &(out_cw - 1).to_string());
    let pcf = format!(
        "# Pins of {} ({}), from boards/data/boards.json; generated by Tachyon.\n\
         set_io CLK {}\nset_io BTN_N {}\nset_io RX {}\nset_io TX {}\nset_io LEDR_N {}\nset_io LEDG_N {}\n",
        board.name,
        board.part,
        pin("clk")?,
        pin("button_n")?,
        pin("uart_rx")?,
        pin("uart_tx")?,
        pin("led_r_n")?,
        pin("led_g_n")?
    );
    Ok((verilog, pcf))
}

/// Cell type → (used, available), as nextpnr reports utilization.
pub type Utilization = BTreeMap<String, (u64, u64)>;

/// Reads nextpnr's `--report` JSON: (lowest achieved Fmax, its constraint, utilization).
pub fn parse_nextpnr_report(text: &str) -> Result<(f64, f64, Utilization)> {
    let v: serde_json::Value = serde_json::from_str(text).context("nextpnr report is not JSON")?;
    let mut best: Option<(f64, f64)> = None;
    for (_, c) in v["fmax"].as_object().into_iter().flatten() {
        let (Some(a), Some(k)) = (c["achieved"].as_f64(), c["constraint"].as_f64()) else { continue };
        if best.is_none_or(|(b, _)| a < b) {
            best = Some((a, k));
        }
    }
    let (fmax, constraint) = best.ok_or_else(|| anyhow::anyhow!("nextpnr report has no clock in \"fmax\""))?;
    let mut util = BTreeMap::new();
    for (cell, u) in v["utilization"].as_object().into_iter().flatten() {
        if let (Some(used), Some(avail)) = (u["used"].as_u64(), u["available"].as_u64()) {
            util.insert(cell.clone(), (used, avail));
        }
    }
    Ok((fmax, constraint, util))
}

/// yosys `stat` cell counts of an iCE40 netlist (cells named `SB_…`).
pub fn parse_ice40_stat(text: &str) -> BTreeMap<String, u64> {
    let mut c = BTreeMap::new();
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let (Some(cell), Some(n)) = (it.next(), it.next()) else { continue };
        if let (true, Ok(n)) = (cell.starts_with("SB_"), n.parse::<u64>()) {
            *c.entry(cell.to_string()).or_insert(0) += n;
        }
    }
    c
}

/// Picks the board: `--board`, else the project's; it must be an iCE40 board.
fn pick_board(m: &Manifest, o: &BitstreamOptions, project: &Path) -> Result<Board> {
    let name = o.board.clone().or(m.board.clone()).ok_or_else(|| {
        anyhow::anyhow!("{} names no board: pass --board icebreaker (see tachyon boards)", project.display())
    })?;
    let board = tachyon_boards::find(&name).map_err(anyhow::Error::msg)?;
    if board.family != "ice40" {
        bail!(
            "tachyon bitstream runs the open-source iCE40 flow; {} ({}) is an AMD/Xilinx part: use `tachyon vivado {}`",
            board.name,
            board.part,
            project.display()
        );
    }
    Ok(board)
}

/// Runs the flow for the project in `project`.
pub fn run(project: &Path, o: &BitstreamOptions) -> Result<BitstreamSummary> {
    let m = crate::tools::read_manifest(project)?;
    let board = pick_board(&m, o, project)?;
    let (device, package) = device_and_package(&board.part)?;
    let core = project.join("rtl").join(format!("{}.v", m.top));
    if !core.is_file() {
        bail!("{} is missing: run tachyon build again", core.display());
    }
    for tool in ["yosys", "nextpnr-ice40", "icepack"] {
        if !crate::tools::on_path(tool) {
            bail!("{tool} is not installed: run scripts/setup.sh (Debian/Ubuntu: apt-get install yosys nextpnr-ice40 fpga-icestorm)");
        }
    }
    let model = serde_json::from_str::<serde_json::Value>(
        &std::fs::read_to_string(project.join("report.json")).unwrap_or_default(),
    )
    .ok()
    .and_then(|r| r["model"].as_str().map(String::from))
    .unwrap_or_else(|| m.top.clone());
    let (verilog, pcf) = board_files(&m, &board, &model)?;
    let top = top_name(&m.top, &board);

    let work = project.join(format!(".ice40-tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).with_context(|| format!("cannot create {}", work.display()))?;
    let result = flow(&work, &core, &top, &board, &device, &package, &verilog, &pcf, o);
    let final_dir = project.join("ice40");
    match result {
        Ok(mut s) => {
            if final_dir.exists() {
                std::fs::remove_dir_all(&final_dir)
                    .with_context(|| format!("cannot remove the old {}", final_dir.display()))?;
            }
            std::fs::rename(&work, &final_dir)
                .with_context(|| format!("cannot move the results into {}", final_dir.display()))?;
            let _ = std::fs::remove_dir_all(project.join("ice40.failed"));
            s.bin = final_dir.join(s.bin.file_name().unwrap_or_default());
            std::fs::write(final_dir.join("summary.json"), serde_json::to_string_pretty(&s)? + "\n")
                .with_context(|| format!("cannot write {}/summary.json", final_dir.display()))?;
            Ok(s)
        }
        Err(e) => {
            let failed = project.join("ice40.failed");
            let _ = std::fs::remove_dir_all(&failed);
            let kept = std::fs::rename(&work, &failed).is_ok();
            if !kept {
                let _ = std::fs::remove_dir_all(&work);
            }
            let msg = format!("{e:#}").replace(&work.display().to_string(), &failed.display().to_string());
            bail!("{msg}\n(no bitstream written; the tools' logs are in {})", failed.display())
        }
    }
}

/// yosys → nextpnr → icepack in `work`.
#[allow(clippy::too_many_arguments)]
fn flow(
    work: &Path,
    core: &Path,
    top: &str,
    board: &Board,
    device: &str,
    package: &str,
    verilog: &str,
    pcf: &str,
    o: &BitstreamOptions,
) -> Result<BitstreamSummary> {
    let top_v = work.join(format!("{top}.v"));
    let pcf_path = work.join(format!("{}.pcf", board.name));
    std::fs::write(&top_v, verilog).with_context(|| format!("cannot write {}", top_v.display()))?;
    std::fs::write(&pcf_path, pcf).with_context(|| format!("cannot write {}", pcf_path.display()))?;
    let core = std::fs::canonicalize(core).with_context(|| core.display().to_string())?;
    let mut seconds = BTreeMap::new();
    // DSPs only while the part has enough: yosys maps every wide multiply to an SB_MAC16.
    let mut yosys = BTreeMap::new();
    for dsp in [board.dsp > 0, false] {
        let script = format!(
            "read_verilog \"{}\" \"{}\"; synth_ice40 -top {top}{} -json design.json; tee -o stat.txt stat",
            core.display(),
            top_v.display(),
            if dsp { " -dsp" } else { "" }
        );
        let args = vec!["-q".to_string(), "-p".to_string(), script];
        let t = crate::tools::run_logged("yosys", &args, work, &work.join("yosys.log"), "synth_ice40")?;
        seconds.insert("yosys".to_string(), t);
        yosys = parse_ice40_stat(&std::fs::read_to_string(work.join("stat.txt")).unwrap_or_default());
        if yosys.get("SB_MAC16").copied().unwrap_or(0) <= board.dsp {
            break;
        }
    }
    let osc = o.freq_mhz.or(board.osc_mhz).unwrap_or(1000.0 / board.default_clock_ns);
    let mut args: Vec<String> = vec![
        format!("--{device}"),
        "--package".into(),
        package.into(),
        "--json".into(),
        "design.json".into(),
        "--pcf".into(),
        pcf_path.display().to_string(),
        "--asc".into(),
        "design.asc".into(),
        "--freq".into(),
        format!("{osc}"),
        "--report".into(),
        "nextpnr_report.json".into(),
        // The achieved Fmax is judged below, from the report, with advice.
        "--timing-allow-fail".into(),
    ];
    if let Some(s) = o.seed {
        args.push("--seed".into());
        args.push(s.to_string());
    }
    let t = crate::tools::run_logged("nextpnr-ice40", &args, work, &work.join("nextpnr.log"), "place and route")?;
    seconds.insert("nextpnr".to_string(), t);
    let report = std::fs::read_to_string(work.join("nextpnr_report.json"))
        .context("nextpnr finished but wrote no nextpnr_report.json")?;
    let (fmax, constraint, utilization) = parse_nextpnr_report(&report)?;
    if fmax < constraint {
        bail!(
            "nextpnr reached {fmax:.2} MHz, short of the {constraint:.2} MHz clock of {} (critical path in {}): \
             rebuild the project with a shorter --clock-ns (e.g. half the current one) so the pipeline gets \
             more registers",
            board.name,
            work.join("nextpnr.log").display()
        );
    }
    let bin = work.join(format!("{top}.bin"));
    let args = vec!["design.asc".to_string(), bin.display().to_string()];
    let t = crate::tools::run_logged("icepack", &args, work, &work.join("icepack.log"), "packing the bitstream")?;
    seconds.insert("icepack".to_string(), t);
    let bin_bytes = std::fs::metadata(&bin).with_context(|| format!("icepack wrote no {}", bin.display()))?.len();
    // The intermediate netlist and ASCII bitstream are large and can be remade.
    let _ = std::fs::remove_file(work.join("design.json"));
    let _ = std::fs::remove_file(work.join("design.asc"));
    Ok(BitstreamSummary {
        board: board.name.clone(),
        part: board.part.clone(),
        top: top.to_string(),
        bin,
        bin_bytes,
        fmax_mhz: fmax,
        constraint_mhz: constraint,
        utilization,
        yosys,
        seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nextpnr_report_and_part_strings_are_read() {
        let text = r#"{"utilization": {"ICESTORM_LC": {"available": 5280, "used": 1234},
                        "ICESTORM_RAM": {"available": 30, "used": 0}},
                       "fmax": {"CLK$SB_IO_IN_$glb_clk": {"achieved": 41.57, "constraint": 12.0}}}"#;
        let (f, c, u) = parse_nextpnr_report(text).unwrap();
        assert_eq!((f, c), (41.57, 12.0));
        assert_eq!(u["ICESTORM_LC"], (1234, 5280));
        assert!(parse_nextpnr_report(r#"{"fmax": {}}"#).is_err());
        assert_eq!(device_and_package("ice40up5k-sg48").unwrap(), ("up5k".into(), "sg48".into()));
        assert!(device_and_package("xc7a100tcsg324-1").is_err());
        let s = parse_ice40_stat("   Number of cells: 9\n     SB_LUT4 5\n     SB_DFFR 3\n     SB_CARRY 1\n");
        assert_eq!(s["SB_LUT4"], 5);
        assert_eq!(s.len(), 3);
    }
}
