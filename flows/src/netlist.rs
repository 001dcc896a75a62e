//! The design as synthesized, for simulation: yosys `synth_xilinx` (AMD/Xilinx families) or
//! `synth_ice40` writes the flattened gate-level netlist — `LUT6_2` with the INIT values the
//! ternary adders compute, `CARRY8`, `FDRE`, `DSP48E2`; `SB_LUT4`, `SB_CARRY`, `SB_DFF*` on
//! iCE40 — and yosys' own simulation models of those cells (`cells_sim.v` in yosys' data
//! folder, used unmodified) let a simulator run the hardware that reaches the FPGA.
//!
//! The netlist is kept in the work folder with a key of what made it (yosys' version, the
//! command, the sources; `synth.json`); [`synthesize`] reuses it while the key holds, so a second simulation
//! of the same design skips yosys, and a netlist altered on purpose ([`plant_lut_init`], for
//! tests that a wrong cell is caught) is simulated as altered.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A synthesized netlist and what a simulator needs besides it.
#[derive(Clone, Debug)]
pub struct Netlist {
    /// `write_verilog -noattr` of the flattened top (multi-bit nets split into bits, which
    /// event-driven simulators schedule much faster).
    pub netlist: PathBuf,
    /// yosys' simulation models of the family's cells, as installed with yosys.
    pub models: PathBuf,
    /// Defines for reading the models: iCE40's models give input ports default values unless
    /// `NO_ICE40_DEFAULT_ASSIGNMENTS` is set, which Icarus cannot parse (yosys connects every
    /// port anyway).
    pub defines: Vec<String>,
    /// yosys' cell counts (`stat`), by cell type.
    pub cells: BTreeMap<String, u64>,
    /// The yosys command: `synth_xilinx -family xcup -flatten -top …` or `synth_ice40 …`.
    pub command: String,
    /// What differs from the synthesis for the FPGA, for the user (e.g. `-nodsp`).
    pub notes: Vec<String>,
    /// Wall time of yosys (0 when the netlist was reused).
    pub seconds: f64,
    /// The netlist of an earlier call was reused (same yosys, script and sources).
    pub reused: bool,
}

/// yosys' data folder: `YOSYS_DATDIR`, `yosys-config --datdir`, or `share/yosys` beside the
/// `yosys` binary.
pub fn datdir() -> Result<PathBuf> {
    if let Some(d) = std::env::var_os("YOSYS_DATDIR") {
        return Ok(PathBuf::from(d));
    }
    if let Ok(o) = Command::new("yosys-config").arg("--datdir").output() {
        let d = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
        if o.status.success() && d.is_dir() {
            return Ok(d);
        }
    }
    let found = std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join("yosys")).find(|b| b.is_file()))
        .context("yosys is not installed (Debian/Ubuntu: apt-get install -y yosys; or run scripts/setup.sh)")?;
    let bin = std::fs::canonicalize(&found).unwrap_or(found);
    match bin.parent().and_then(Path::parent).map(|p| p.join("share/yosys")) {
        Some(s) if s.is_dir() => Ok(s),
        _ => bail!("cannot find yosys' data folder beside {}: set YOSYS_DATDIR", bin.display()),
    }
}

/// The synthesis command for `family` (`xcup`, `xcu`, `xc7`, `xc6s` or `ice40`) and the models
/// file under yosys' data folder; `dsp`: multiplications may use the DSP blocks (SB_MAC16 on
/// iCE40 with `-dsp`; without it, `-nodsp` for the AMD/Xilinx families); `options`: more
/// `synth_xilinx` options (see [`WITHOUT_MODEL`]).
pub fn synth_command(family: &str, top: &str, dsp: bool, options: &[&str]) -> Result<(String, &'static str)> {
    match family {
        "ice40" => Ok((format!("synth_ice40 -top {top}{}", if dsp { " -dsp" } else { "" }), "ice40/cells_sim.v")),
        f if crate::yosys::FAMILIES.contains(&f) => {
            let mut o: Vec<&str> = options.to_vec();
            if !dsp {
                o.push("-nodsp");
            }
            o.sort();
            o.dedup();
            let o: String = o.iter().map(|s| format!(" {s}")).collect();
            Ok((format!("synth_xilinx -family {f} -flatten{o} -top {top}"), "xilinx/cells_sim.v"))
        }
        f => bail!("unknown family '{f}': use xcup (UltraScale+), xcu (UltraScale), xc7 (7 series) or ice40"),
    }
}

/// FNV-1a, 64 bits: a key of the inputs that is the same in every run.
fn fnv(bytes: &[u8], mut h: u64) -> u64 {
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// Cells yosys may instantiate without a simulation model of them in its library (yosys 0.23:
/// the UltraScale DSP block and block RAMs), the `synth_xilinx` option that keeps them out of
/// the netlist, and what is then built from LUTs and flip-flops instead.
pub const WITHOUT_MODEL: [(&str, &str, &str); 3] = [
    ("DSP48E2", "-nodsp", "the multiplications yosys puts in DSPs"),
    ("RAMB18E2", "-nobram", "the memories (tables) yosys puts in block RAM"),
    ("RAMB36E2", "-nobram", "the memories (tables) yosys puts in block RAM"),
];

/// Whether `library` defines module `cell`.
fn has_model(library: &str, cell: &str) -> bool {
    library.match_indices(&format!("module {cell}")).any(|(at, m)| {
        let next = library[at + m.len()..].chars().next();
        !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

/// What `work/synth.json` records of a synthesis, so that a later call can reuse it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Made {
    /// A key of what was asked: yosys' version, family, DSP use, top and the sources' bytes.
    key: String,
    command: String,
    notes: Vec<String>,
}

/// Synthesizes `files` (top `top`) for `family` (see [`synth_command`]) into `work/netlist.v`,
/// or reuses the netlist there when yosys, the request and the sources are those it was made
/// from; `what` names the design in errors. When the netlist instantiates a cell yosys' models
/// lack, the design is synthesized again without it ([`WITHOUT_MODEL`], said in
/// [`Netlist::notes`]); a cell that cannot be kept out is an error naming it.
pub fn synthesize(files: &[PathBuf], top: &str, family: &str, dsp: bool, work: &Path, what: &str) -> Result<Netlist> {
    let version = crate::yosys::version()?;
    let (mut command, models) = synth_command(family, top, dsp, &[])?;
    let models = datdir()?.join(models);
    let library = std::fs::read_to_string(&models).with_context(|| {
        format!("yosys' simulation models {} are missing (reinstall yosys, or set YOSYS_DATDIR)", models.display())
    })?;
    std::fs::create_dir_all(work).with_context(|| format!("cannot create {}", work.display()))?;
    // yosys runs in `work` (where it writes): the sources by absolute path.
    let work = &std::fs::canonicalize(work).with_context(|| work.display().to_string())?;
    let files = files
        .iter()
        .map(|f| std::fs::canonicalize(f).with_context(|| format!("cannot read {}", f.display())))
        .collect::<Result<Vec<_>>>()?;
    let (netlist, stat, made) = (work.join("netlist.v"), work.join("stat.txt"), work.join("synth.json"));
    let mut key = fnv(format!("{version}\n{command}\n").as_bytes(), 0xcbf2_9ce4_8422_2325);
    for f in &files {
        key = fnv(&std::fs::read(f).with_context(|| format!("cannot read {}", f.display()))?, key);
    }
    let key = format!("{key:016x}");
    let defines = if family == "ice40" { vec!["NO_ICE40_DEFAULT_ASSIGNMENTS".to_string()] } else { vec![] };
    let cells = |stat: &Path| parse_cells(&std::fs::read_to_string(stat).unwrap_or_default());
    let earlier = std::fs::read_to_string(&made).ok().and_then(|t| serde_json::from_str::<Made>(&t).ok());
    if let Some(m) = earlier.filter(|m| m.key == key && netlist.is_file() && stat.is_file()) {
        let (command, notes, cells) = (m.command, m.notes, cells(&stat));
        return Ok(Netlist { netlist, models, defines, cells, command, notes, seconds: 0.0, reused: true });
    }
    let _ = std::fs::remove_file(&made);
    let sources: Vec<String> = files.iter().map(|f| format!("\"{}\"", f.display())).collect();
    let yosys = |command: &str| -> Result<f64> {
        let script = format!(
            "read_verilog {}; hierarchy -top {top}; {command}; splitnets; tee -q -o stat.txt stat; \
             write_verilog -noattr netlist.v",
            sources.join(" ")
        );
        let args = vec!["-q".to_string(), "-p".to_string(), script];
        let log = work.join("yosys.log");
        let seconds = crate::tools::run_logged("yosys", &args, work, &log, &format!("{command} on {what}"))?;
        if !netlist.is_file() {
            bail!("yosys wrote no netlist for {what}; see {}", log.display());
        }
        Ok(seconds)
    };
    let mut seconds = yosys(&command)?;
    let mut notes = vec![];
    let missing = |cells: &BTreeMap<String, u64>| -> Vec<String> {
        cells.keys().filter(|c| !has_model(&library, c)).cloned().collect()
    };
    let lacking = missing(&cells(&stat));
    let mut options = vec![];
    for (cell, option, kept_out) in WITHOUT_MODEL {
        if lacking.iter().any(|c| c == cell) && !options.contains(&option) {
            options.push(option);
            notes.push(format!(
                "{version} has no simulation model of {cell}: {kept_out} were synthesized into LUTs ({option}) \
                 for this simulation; the rest of the netlist is as for the FPGA"
            ));
        }
    }
    if !options.is_empty() {
        command = synth_command(family, top, dsp, &options)?.0;
        seconds += yosys(&command)?;
    }
    let lacking = missing(&cells(&stat));
    if !lacking.is_empty() {
        bail!(
            "the netlist of {what} instantiates {} that yosys' models ({}) do not define: it cannot be simulated",
            lacking.join(", "),
            models.display()
        );
    }
    let text = serde_json::to_string_pretty(&Made { key, command: command.clone(), notes: notes.clone() })?;
    std::fs::write(&made, text + "\n").with_context(|| format!("cannot write {}", made.display()))?;
    Ok(Netlist { netlist, models, defines, cells: cells(&stat), command, notes, seconds, reused: false })
}

/// The cell counts of yosys' `stat`: the `CELL COUNT` lines after `Number of cells:`.
pub fn parse_cells(text: &str) -> BTreeMap<String, u64> {
    let mut c = BTreeMap::new();
    let Some((_, cells)) = text.split_once("Number of cells:") else { return c };
    for line in cells.lines().skip(1) {
        let mut it = line.split_whitespace();
        match (it.next(), it.next().map(str::parse::<u64>), it.next()) {
            (Some(cell), Some(Ok(n)), None) => *c.entry(cell.to_string()).or_insert(0) += n,
            _ => break,
        }
    }
    c
}

/// A LUT whose INIT [`plant_lut_init`] changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlantedInit {
    /// The instance name in the netlist.
    pub instance: String,
    pub old: String,
    pub new: String,
}

/// Complements every bit of the INIT (`.INIT(…)`, or `.LUT_INIT(…)` on iCE40) of the `nth`
/// instance of `cell` (e.g. `LUT6_2`) in the netlist at `path`, in place: a wrong
/// synthesized LUT, for tests that simulation after synthesis catches one. `None` when the
/// netlist has fewer such instances.
pub fn plant_lut_init(path: &Path, cell: &str, nth: usize) -> Result<Option<PlantedInit>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header = format!("{cell} #(");
    let starts: Vec<usize> = (0..lines.len()).filter(|&k| lines[k].trim() == header).collect();
    let Some(&at) = starts.get(nth) else { return Ok(None) };
    let Some(k) = (at + 1..lines.len()).find(|&k| lines[k].contains("INIT(")) else { return Ok(None) };
    let line = &lines[k];
    let open = line.find("INIT(").map(|p| p + 5).unwrap_or(0);
    let close = line[open..].find(')').map(|p| p + open).unwrap_or(line.len());
    let old = line[open..close].to_string();
    let Some((width, hex)) = old.split_once("'h") else { bail!("{}: INIT {old} is not hexadecimal", path.display()) };
    let bits: u32 = width.parse().with_context(|| format!("INIT width {width}"))?;
    let flipped: String = hex
        .chars()
        .rev()
        .enumerate()
        .map(|(d, c)| {
            let live = bits.saturating_sub(4 * d as u32).min(4);
            let v = c.to_digit(16).unwrap_or(0) ^ ((1 << live) - 1);
            char::from_digit(v, 16).unwrap_or('0')
        })
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let new = format!("{width}'h{flipped}");
    let instance =
        lines.get(k + 1).map(|l| l.trim().trim_start_matches(") ").trim_end_matches(" (").trim().to_string());
    lines[k] = format!("{}{new}{}", &line[..open], &line[close..]);
    std::fs::write(path, lines.join("\n") + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Some(PlantedInit { instance: instance.unwrap_or_default(), old, new }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_init_complements_the_nth_lut() {
        let dir = std::env::temp_dir().join(format!("tachyon-plant-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("netlist.v");
        let net = "module t;\n  LUT6_2 #(\n    .INIT(64'h000069960000e8e8)\n  ) \\a.u_lut  (\n    .I0(x)\n  );\n\
                   \x20 SB_LUT4 #(\n    .LUT_INIT(16'h5a5a)\n  ) b (\n  );\n  LUT2 #(\n    .INIT(4'h6)\n  ) c (\n  );\nendmodule\n";
        std::fs::write(&p, net).unwrap();
        let got = plant_lut_init(&p, "LUT6_2", 0).unwrap().unwrap();
        assert_eq!(
            got,
            PlantedInit {
                instance: "\\a.u_lut".into(),
                old: "64'h000069960000e8e8".into(),
                new: "64'hffff9669ffff1717".into()
            }
        );
        assert!(std::fs::read_to_string(&p).unwrap().contains(".INIT(64'hffff9669ffff1717)"));
        assert_eq!(plant_lut_init(&p, "SB_LUT4", 0).unwrap().unwrap().new, "16'ha5a5");
        assert_eq!(plant_lut_init(&p, "LUT2", 0).unwrap().unwrap().new, "4'h9");
        assert_eq!(plant_lut_init(&p, "LUT6_2", 1).unwrap(), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn cells_are_counted_from_stat() {
        let stat = "   Number of wires: 9\n   Number of cells:   5\n     CARRY8  1\n     LUT6_2 4\n\n   Estimated number of LCs: 3\n";
        let c = parse_cells(stat);
        assert_eq!(c.into_iter().collect::<Vec<_>>(), vec![("CARRY8".into(), 1), ("LUT6_2".into(), 4)]);
    }

    #[test]
    fn families_choose_the_command_and_models() {
        assert_eq!(
            synth_command("xcup", "top", true, &[]).unwrap(),
            ("synth_xilinx -family xcup -flatten -top top".into(), "xilinx/cells_sim.v")
        );
        let c = synth_command("xc7", "t", false, &["-nobram"]).unwrap().0;
        assert_eq!(c, "synth_xilinx -family xc7 -flatten -nobram -nodsp -top t");
        let c = synth_command("ice40", "t", true, &[]).unwrap();
        assert_eq!(c, ("synth_ice40 -top t -dsp".into(), "ice40/cells_sim.v"));
        assert!(synth_command("ecp5", "t", false, &[]).unwrap_err().to_string().contains("unknown family"));
    }

    #[test]
    fn models_are_found_by_their_exact_name() {
        let lib = "module LUT6_2(output O6);\nendmodule\nmodule FDRE (output Q);\nendmodule\n";
        assert!(has_model(lib, "LUT6_2") && has_model(lib, "FDRE"));
        assert!(!has_model(lib, "LUT6") && !has_model(lib, "DSP48E2"));
    }
}
