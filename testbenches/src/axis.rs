//! Verilator co-simulation of an AXI-Stream wrapper under random backpressure.
//!
//! The wrapper has ports `aclk`, `aresetn` (active low), `s_axis_{tvalid,tready,tdata,tlast}` and
//! `m_axis_{tvalid,tready,tdata,tlast}`; `s_axis_tdata` packs the [`TopInterface::inputs`] like the
//! core's `in_data` and is padded to whole bytes, `m_axis_tdata` likewise for the outputs.
//!
//! The harness (`tachyon_axis INPUTS OUTPUTS P_VALID P_READY SEED TLAST_EVERY TIMEOUT`):
//!
//! 1. holds `aresetn` low for [`RESET_CYCLES`] rising edges;
//! 2. before every edge, offers the next vector on `s_axis` with probability `P_VALID/65536` if
//!    none is offered (an offered beat stays, unchanged, until taken), with `tlast` on every
//!    `TLAST_EVERY`-th vector and on the last; drives `m_axis_tready` high with probability
//!    `P_READY/65536`; both from one seeded xorshift generator;
//! 3. records every `m_axis` handshake as a line `o <elements…> <tlast>` and every AXI-Stream
//!    violation of the wrapper as `v <what>` (tvalid dropped or tdata/tlast changed while stalled, a
//!    beat beyond the number of inputs);
//! 4. stops [`DRAIN_CYCLES`] edges after the last expected output, or after TIMEOUT edges without a
//!    handshake, and writes `# summary inputs= accepted= outputs= cycles= min_gap= max_gap=
//!    violations=` (`min_gap`/`max_gap`: fewest/most edges between two accepted inputs).

use std::path::{Path, PathBuf};

use crate::cosim_error::CosimError;
use crate::harness::{drive_code, element_table, read_code, words, DRAIN_CYCLES, MODEL_CLASS, RESET_CYCLES};
use crate::harness_io::{parse_elem, run_harness};
use crate::interface::{PortElem, TopInterface};

/// Edges without any handshake after which the harness gives up.
pub const AXIS_TIMEOUT_CYCLES: u32 = 10_000;

/// How the harness drives the two sides.
#[derive(Clone, Debug, PartialEq)]
pub struct AxisRun {
    /// Probability that the source offers a beat on a cycle when it has none offered.
    pub p_valid: f64,
    /// Probability that the sink is ready on a cycle.
    pub p_ready: f64,
    pub seed: u64,
    /// tlast on every n-th input (0: only on the last).
    pub tlast_every: usize,
}

impl Default for AxisRun {
    fn default() -> Self {
        AxisRun { p_valid: 1.0, p_ready: 1.0, seed: 1, tlast_every: 0 }
    }
}

/// The tlast the harness sends with input `i` of `n`.
pub fn axis_tlast_of(i: usize, n: usize, every: usize) -> bool {
    (every > 0 && (i + 1).is_multiple_of(every)) || i + 1 == n
}

/// What one run saw on `m_axis`.
#[derive(Clone, Debug, PartialEq)]
pub struct AxisResult {
    /// Output elements of every beat taken, in order.
    pub outputs: Vec<Vec<i128>>,
    /// tlast of every beat taken.
    pub tlast: Vec<bool>,
    /// Inputs the wrapper accepted.
    pub accepted: usize,
    /// AXI-Stream violations by the wrapper (at most 20 described).
    pub protocol_errors: Vec<String>,
    pub min_accept_gap: u64,
    pub max_accept_gap: u64,
    /// Rising edges after reset.
    pub cycles: u64,
}

/// A compiled AXI-Stream harness.
#[derive(Debug, Clone)]
pub struct AxisHarness {
    binary: PathBuf,
    iface: TopInterface,
    work_dir: PathBuf,
}

/// Bits of a bus padded to whole bytes.
fn byte_width(bits: u32) -> u32 {
    bits.div_ceil(8) * 8
}

/// The harness C++ for the wrapper `iface.top`.
pub(crate) fn axis_cpp(iface: &TopInterface) -> String {
    let (s_w, m_w) = (byte_width(iface.in_bits()), byte_width(iface.out_bits()));
    let mut tables = format!("// Wrapper `{}`.\n", iface.top);
    tables.push_str(&element_table("IN", &iface.inputs));
    tables.push_str(&element_table("OUT", &iface.outputs));
    tables.push_str(&crate::harness::frame_table(iface));
    tables.push_str(&format!(
        "static const unsigned IN_WORDS = {}, OUT_WORDS = {};\n\
         static const unsigned RESET_CYCLES = {RESET_CYCLES}, DRAIN_CYCLES = {DRAIN_CYCLES};\n",
        words(s_w),
        words(m_w)
    ));
    include_str!("axis_template.cpp")
        .replace("@COMMON@", &crate::harness::common_cpp("tachyon_axis"))
        .replace("@MODEL@", MODEL_CLASS)
        .replace("@TABLES@", &tables)
        .replace("@DRIVE@", &drive_code("s_axis_tdata", s_w))
        .replace("@READ@", &read_code("m_axis_tdata", m_w))
}

/// Writes the harness into `work_dir` and compiles it with `rtl_files` (wrapper and core).
pub fn build_axis_harness(
    rtl_files: &[PathBuf],
    iface: &TopInterface,
    work_dir: &Path,
) -> Result<AxisHarness, CosimError> {
    iface.validate()?;
    if !crate::verilator::available() {
        return Err(CosimError::VerilatorMissing);
    }
    std::fs::create_dir_all(work_dir).map_err(CosimError::io(work_dir))?;
    let work_dir = std::fs::canonicalize(work_dir).map_err(CosimError::io(work_dir))?;
    let mut rtl = Vec::with_capacity(rtl_files.len());
    for f in rtl_files {
        rtl.push(std::fs::canonicalize(f).map_err(CosimError::io(f))?);
    }
    let cpp = work_dir.join("tachyon_axis.cpp");
    std::fs::write(&cpp, axis_cpp(iface)).map_err(CosimError::io(&cpp))?;
    let binary = crate::verilator::build(
        &work_dir,
        &rtl,
        &cpp,
        &iface.top,
        crate::verilator::Flags { jobs: 2, trace: false, optimize: false, lint: false },
    )?;
    Ok(AxisHarness { binary, iface: iface.clone(), work_dir })
}

impl AxisHarness {
    /// Streams `vectors` through the wrapper as `run` says.
    pub fn run(&self, vectors: &[Vec<i128>], run: &AxisRun) -> Result<AxisResult, CosimError> {
        let p = |x: f64| ((x.clamp(0.0, 1.0) * 65536.0).round() as u64).to_string();
        let args: Vec<std::ffi::OsString> = [
            p(run.p_valid),
            p(run.p_ready),
            run.seed.to_string(),
            run.tlast_every.to_string(),
            AXIS_TIMEOUT_CYCLES.to_string(),
        ]
        .into_iter()
        .map(Into::into)
        .collect();
        let (written, out_path) = run_harness(&self.binary, &self.work_dir, vectors, &self.iface.inputs, &args)?;
        parse(&written, &self.iface.outputs, &out_path)
    }
}

/// Parses the harness output.
fn parse(text: &str, outputs: &[PortElem], path: &Path) -> Result<AxisResult, CosimError> {
    let malformed = |line: usize, reason: String| CosimError::Malformed { path: path.into(), line, reason };
    let mut r = AxisResult {
        outputs: vec![],
        tlast: vec![],
        accepted: 0,
        protocol_errors: vec![],
        min_accept_gap: 0,
        max_accept_gap: 0,
        cycles: 0,
    };
    let mut summary = None;
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if let Some(rest) = line.strip_prefix("v ") {
            r.protocol_errors.push(rest.to_string());
        } else if let Some(rest) = line.strip_prefix("o ") {
            let toks: Vec<&str> = rest.split_whitespace().collect();
            if toks.len() != outputs.len() + 1 {
                return Err(malformed(n, format!("{} values, expected {} and tlast", toks.len(), outputs.len())));
            }
            let values = toks.iter().zip(outputs).map(|(t, e)| parse_elem(t, e)).collect::<Result<Vec<_>, _>>();
            r.outputs.push(values.map_err(|e| malformed(n, e))?);
            r.tlast.push(toks[outputs.len()] == "1");
        } else if let Some(rest) = line.strip_prefix("# summary ") {
            let mut fields = std::collections::HashMap::new();
            for kv in rest.split_whitespace() {
                let (k, v) = kv.split_once('=').ok_or_else(|| malformed(n, format!("{kv:?} is not key=value")))?;
                fields.insert(k, v.parse::<u64>().map_err(|_| malformed(n, format!("{k} = {v:?}")))?);
            }
            summary = Some(fields);
        } else {
            return Err(malformed(n, format!("unexpected line {line:?}")));
        }
    }
    let s = summary.ok_or_else(|| malformed(text.lines().count(), "no `# summary` line".into()))?;
    let get = |k: &str| s.get(k).copied().ok_or_else(|| malformed(0, format!("summary lacks `{k}`")));
    r.accepted = get("accepted")? as usize;
    r.cycles = get("cycles")?;
    r.min_accept_gap = get("min_gap")?;
    r.max_accept_gap = get("max_gap")?;
    let violations = get("violations")? as usize;
    if violations > r.protocol_errors.len() {
        r.protocol_errors.push(format!("… {} more", violations - r.protocol_errors.len()));
    }
    if get("outputs")? as usize != r.outputs.len() {
        return Err(malformed(0, "summary output count differs from the beats written".into()));
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_lines_and_summary_are_parsed() {
        let outs = [PortElem::signed(8), PortElem::unsigned(4)];
        let text = "o -3 15 0\nv cycle 9: m_axis_tvalid dropped before the beat was taken\no 127 0 1\n\
                    # summary inputs=2 accepted=2 outputs=2 cycles=40 min_gap=1 max_gap=3 violations=1\n";
        let r = parse(text, &outs, Path::new("o.txt")).unwrap();
        assert_eq!(r.outputs, vec![vec![-3, 15], vec![127, 0]]);
        assert_eq!(r.tlast, vec![false, true]);
        assert_eq!(r.protocol_errors.len(), 1);
        assert_eq!((r.min_accept_gap, r.max_accept_gap, r.cycles), (1, 3, 40));
        assert!(parse("o 1 2\n# summary outputs=1\n", &outs, Path::new("o.txt")).is_err());
        let cpp = axis_cpp(&TopInterface {
            top: "t_axis".into(),
            inputs: outs.to_vec(),
            outputs: outs.to_vec(),
            frame: vec![],
        });
        assert!(cpp.contains("top->s_axis_tdata = w[0];") && !cpp.contains('@'));
        assert!(axis_tlast_of(3, 10, 4) && !axis_tlast_of(2, 10, 4) && axis_tlast_of(9, 10, 0));
    }
}
