//! yosys `synth_xilinx`: the resource figures of a design as yosys counts them (LUT6 sites,
//! flip-flops, carry chains, SRLs, DSPs, block RAMs), flat (`-flatten`, the way figures are
//! compared across tools) or over the distinct part modules of a partitioned design (each
//! synthesized once, in parallel processes, and counted per instance).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// yosys' cell counts of a design.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub lut: u64,
    pub ff: u64,
    pub carry: u64,
    pub srl: u64,
    pub dsp: u64,
    pub bram: u64,
}

/// Sums the cell counts of yosys' `stat` output.
pub fn parse_stat(text: &str) -> Counts {
    let mut c = Counts::default();
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let (Some(cell), Some(n)) = (it.next(), it.next()) else { continue };
        let Ok(n) = n.parse::<u64>() else { continue };
        let is = |p: &str| cell.starts_with(p);
        // LUT6_2 (the ternary adders' dual-output LUTs) takes one LUT6 site like a LUT6.
        if (cell.len() == 4 && is("LUT") && cell.as_bytes()[3].is_ascii_digit()) || cell == "LUT6_2" {
            c.lut += n;
        } else if ["FDRE", "FDSE", "FDCE", "FDPE"].contains(&cell) {
            c.ff += n;
        } else if cell == "CARRY4" || cell == "CARRY8" {
            c.carry += n;
        } else if is("SRL") {
            c.srl += n;
        } else if is("DSP48E") {
            c.dsp += n;
        } else if is("RAMB18") || is("RAMB36") {
            c.bram += n;
        }
    }
    c
}

/// Sums the cell counts of the whole hierarchy in the output of yosys' `stat -top`: the part
/// after `design hierarchy`, where each module's cells are multiplied by its instances.
pub fn parse_hierarchy_stat(text: &str) -> Option<Counts> {
    // The totals follow the instance list (whose module names could look like cell names).
    let (_, hierarchy) = text.split_once("=== design hierarchy ===")?;
    let (_, totals) = hierarchy.split_once("Number of cells:")?;
    Some(parse_stat(totals))
}

/// One synthesis: the counts, yosys' version and the wall time.
pub struct Synthesis {
    pub counts: Counts,
    pub version: String,
    pub seconds: f64,
}

/// The families `synth_xilinx -family` takes.
pub const FAMILIES: [&str; 4] = ["xcup", "xcu", "xc7", "xc6s"];

/// yosys' version line, or an error saying how to install it.
pub fn version() -> Result<String> {
    match Command::new("yosys").arg("-V").output() {
        Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).trim().to_string()),
        _ => bail!("yosys is not installed (Debian/Ubuntu: apt-get install -y yosys; or run scripts/setup.sh)"),
    }
}

/// yosys' version, after checking that `family` is one `synth_xilinx` takes.
fn version_for(family: &str) -> Result<String> {
    let version = version()?;
    if !FAMILIES.contains(&family) {
        bail!("unknown family '{family}': use xcup (UltraScale+), xcu (UltraScale) or xc7 (7 series)");
    }
    Ok(version)
}

/// Runs `yosys -q -l log -p script`; a failure names `what` and carries yosys' error lines.
fn run_script(script: &str, log: &Path, what: &str) -> Result<()> {
    let out = Command::new("yosys").arg("-q").arg("-l").arg(log).arg("-p").arg(script).output();
    let out = out.context("cannot run yosys")?;
    if !out.status.success() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        let errors: Vec<&str> = text.lines().filter(|l| l.contains("ERROR")).take(5).collect();
        bail!("yosys failed on {what}:\n{}{}", errors.join("\n"), String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// Runs `synth_xilinx -family family -flatten` on `files` (top found automatically) with scratch
/// files in `work` (an existing folder); `what` names the design in errors.
pub fn synthesize(files: &[PathBuf], family: &str, work: &Path, what: &str) -> Result<Synthesis> {
    let version = version_for(family)?;
    let stat = work.join("stat.txt");
    let script = format!(
        "read_verilog {}; hierarchy -auto-top; synth_xilinx -family {family} -flatten; tee -o {} stat",
        files.iter().map(|f| format!("\"{}\"", f.display())).collect::<Vec<_>>().join(" "),
        stat.display()
    );
    let spinner = crate::tools::spinner(&format!("yosys: synth_xilinx -family {family}"));
    let start = std::time::Instant::now();
    let ran = run_script(&script, &work.join("yosys.log"), what);
    spinner.finish_and_clear();
    ran?;
    let seconds = start.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(&stat).context("yosys wrote no statistics")?;
    Ok(Synthesis { counts: parse_stat(&text), version, seconds })
}

/// Synthesizes the distinct part modules of a partitioned design, `jobs` yosys processes at a
/// time, and sums every part's counts times its instances: each batch of parts sits under a top
/// that instantiates each part as often as the design does, and `stat -top` multiplies. The top
/// of [`tachyon_rtl::emit_partitioned`] holds only wires and instances, so the sum is what
/// `stat -top` over the whole hierarchy counts, in a fraction of the wall time (the MHA
/// transformer: one process ran 39 CPU-minutes without finishing, two finish in under 10
/// minutes). Batches of ~256 KB of Verilog go out largest first (yosys' start-up and cell
/// libraries cost ~0.3 s a process). A progress bar counts the parts (hidden when stderr is not
/// a terminal). Scratch files go to `work` (an existing folder).
pub fn synthesize_parts(
    parts: &[tachyon_rtl::PartModule],
    family: &str,
    jobs: usize,
    work: &Path,
    what: &str,
) -> Result<Synthesis> {
    let version = version_for(family)?;
    // Batches of parts, each one yosys process: large parts alone, small ones together.
    const BATCH_BYTES: usize = 256 * 1024;
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(parts[i].verilog.len()), i));
    let mut batches: Vec<Vec<usize>> = vec![];
    let mut size = usize::MAX;
    for i in order {
        if size >= BATCH_BYTES {
            batches.push(vec![]);
            size = 0;
        }
        size += parts[i].verilog.len();
        batches.last_mut().expect("a batch was just pushed").push(i);
    }
    let bar = indicatif::ProgressBar::new(parts.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} yosys: synth_xilinx -family {msg} {pos}/{len} parts [{elapsed}]",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.set_message(family.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    let start = std::time::Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let run_batch = |b: usize| -> Result<Counts> {
        let dir = work.join(format!("batch{b}"));
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        // The batch's parts under a top that instantiates each as often as the design does
        // (ports left open and kept: without flattening, yosys synthesizes each module as it is).
        let mut text = String::new();
        let mut top = String::from("module tachyon_batch ();\n");
        for &i in &batches[b] {
            let p = &parts[i];
            text += &p.verilog;
            for k in 0..p.instances {
                top += &format!("    (* keep *) {} u{i}_{k} ();\n", p.name);
            }
        }
        text += &top;
        text += "endmodule\n";
        let file = dir.join("parts.v");
        std::fs::write(&file, &text).with_context(|| format!("cannot write {}", file.display()))?;
        let (stat, log) = (dir.join("stat.txt"), dir.join("yosys.log"));
        let script = format!(
            "read_verilog \"{}\"; hierarchy -top tachyon_batch; synth_xilinx -family {family} -top tachyon_batch; \
             tee -q -o {} stat -top tachyon_batch",
            file.display(),
            stat.display()
        );
        let names: Vec<&str> = batches[b].iter().take(3).map(|&i| parts[i].name.as_str()).collect();
        let more = if batches[b].len() > 3 { ", …" } else { "" };
        run_script(&script, &log, &format!("{what} (part modules {}{more})", names.join(", ")))?;
        let text = std::fs::read_to_string(&stat).context("yosys wrote no statistics")?;
        let counts = parse_hierarchy_stat(&text).context("yosys' statistics have no design hierarchy")?;
        bar.inc(batches[b].len() as u64);
        let _ = std::fs::remove_dir_all(&dir);
        Ok(counts)
    };
    let results: Vec<Result<Counts>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs.clamp(1, batches.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut total = Counts::default();
                    loop {
                        let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if b >= batches.len() {
                            return Ok(total);
                        }
                        match run_batch(b) {
                            Ok(c) => total.add(&c),
                            Err(e) => {
                                // The other workers stop at their next batch.
                                next.store(batches.len(), std::sync::atomic::Ordering::Relaxed);
                                return Err(e);
                            }
                        }
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a yosys worker panicked"))))
            .collect()
    });
    bar.finish_and_clear();
    let mut counts = Counts::default();
    for r in results {
        counts.add(&r?);
    }
    Ok(Synthesis { counts, version, seconds: start.elapsed().as_secs_f64() })
}

impl Counts {
    fn add(&mut self, other: &Counts) {
        self.lut += other.lut;
        self.ff += other.ff;
        self.carry += other.carry;
        self.srl += other.srl;
        self.dsp += other.dsp;
        self.bram += other.bram;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_counts_are_summed_by_kind() {
        let text =
            "   Number of cells:   10\n     CARRY8  3\n     FDRE   7\n     FDSE 1\n     LUT2  4\n     LUT6  5\n     \
                    LUT6_2 9\n     SRL16E 2\n     DSP48E2 1\n     RAMB36E2 2\n     $paramod 3\n";
        let c = parse_stat(text);
        assert_eq!(c, Counts { lut: 18, ff: 8, carry: 3, srl: 2, dsp: 1, bram: 2 });
    }

    /// yosys 0.23's `stat -top` on a top with two instances of one leaf: only the hierarchy's
    /// totals count, and an instance line named like a cell is not one.
    #[test]
    fn hierarchy_stat_counts_the_totals_only() {
        let text = "=== LUT6_top_p0 ===\n   Number of cells: 20\n     CARRY4 3\n     FDRE 9\n     LUT2 8\n\n\
                    === LUT6_top ===\n   Number of cells: 38\n     BUFG 1\n     LUT6_top_p0 2\n\n\
                    === design hierarchy ===\n\n   LUT6_top 1\n     LUT6_top_p0 2\n\n   Number of wires: 31\n\
                    \x20  Number of cells: 76\n     BUFG 1\n     CARRY4 6\n     FDRE 18\n     LUT2 16\n";
        let c = parse_hierarchy_stat(text).expect("a hierarchy");
        assert_eq!(c, Counts { lut: 16, ff: 18, carry: 6, srl: 0, dsp: 0, bram: 0 });
        assert_eq!(parse_hierarchy_stat("=== top ===\n   Number of cells: 3\n     LUT2 3\n"), None);
    }
}
