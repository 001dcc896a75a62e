//! The AXI-Stream wrapper around a project's fixed-latency core: `OUT/axis/<top>_axis.v`.
//!
//! The wrapper (template `axis_wrapper.v`, whose header comment is the specification) gives the
//! core tvalid/tready/tdata/tlast on both sides. The core cannot stall, so backpressure is handled
//! by credits: an input is accepted only while fewer than [`fifo_depth`] vectors are outstanding
//! and at most once every II cycles; results wait in a FIFO in which every outstanding vector owns
//! an entry, so nothing is lost or duplicated whatever the downstream does.
//!
//! It lives in `OUT/axis/`, not `OUT/rtl/`, because `rtl/` is what resource figures and the lint
//! of the core read (every `.v` there, top found automatically).
//!
//! [`cosim`] drives the wrapper with Verilator under random valid/ready on both sides and checks
//! every output against the reference interpreter.

use crate::project::Manifest;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use tachyon_quantize::interp;
use tachyon_testbenches::{AxisRun, PortElem, TopInterface};

const TEMPLATE: &str = include_str!("axis_wrapper.v");

/// The wrapper's module name.
pub fn wrapper_name(top: &str) -> String {
    format!("{top}_axis")
}

/// The wrapper's path relative to the project folder.
pub fn wrapper_path(top: &str) -> PathBuf {
    PathBuf::from("axis").join(format!("{}.v", wrapper_name(top)))
}

/// FIFO entries (a power of two ≥ 2): enough for `latency / ii + 2` outstanding vectors, the
/// most a core with that latency and II holds while the wrapper accepts at full rate.
pub fn fifo_depth(latency: u32, ii: u32) -> u32 {
    (latency / ii.max(1) + 2).next_power_of_two()
}

/// Bits of a bus padded to whole bytes (AXI-Stream tdata widths are byte multiples).
pub fn byte_width(bits: u32) -> u32 {
    bits.div_ceil(8) * 8
}

/// The wrapper's Verilog for the core described by `m`.
pub fn verilog(m: &Manifest, model: &str) -> String {
    let in_bits: u32 = m.inputs.iter().map(|e| e.width).sum();
    let out_bits: u32 = m.outputs.iter().map(|e| e.width).sum();
    let (s_w, m_w) = (byte_width(in_bits), byte_width(out_bits));
    let depth = fifo_depth(m.latency_cycles, m.ii_cycles);
    let aw = depth.trailing_zeros();
    let in_data = if s_w == in_bits {
        format!("    wire [{}:0] core_in_data = s_axis_tdata;\n", in_bits - 1)
    } else {
        format!(
            "    // Bits {s_w_m1}:{in_bits} of s_axis_tdata are padding and ignored.\n    \
             /* verilator lint_off UNUSEDSIGNAL */\n    wire [{s_w_m1}:0] s_data = s_axis_tdata;\n    \
             /* verilator lint_on UNUSEDSIGNAL */\n    wire [{in_m1}:0] core_in_data = s_data[{in_m1}:0];\n",
            s_w_m1 = s_w - 1,
            in_m1 = in_bits - 1
        )
    };
    let m_data = if m_w == out_bits {
        "data_mem[read_ptr]".to_string()
    } else {
        format!("{{{}'d0, data_mem[read_ptr]}}", m_w - out_bits)
    };
    let ii_gate = if m.ii_cycles <= 1 {
        "    wire ii_open = 1'b1;\n".to_string()
    } else {
        let w = 32 - (m.ii_cycles - 1).leading_zeros();
        format!(
            "    // II gate: after an accept, the core needs {ii} cycles before the next input.\n    \
             reg [{wm1}:0] ii_wait;\n    always @(posedge aclk) begin\n        if (core_rst) begin\n            \
             ii_wait <= {w}'d0;\n        end else if (s_fire) begin\n            ii_wait <= {w}'d{iim1};\n        \
             end else if (ii_wait != {w}'d0) begin\n            ii_wait <= ii_wait - 1'b1;\n        end\n    end\n    \
             wire ii_open = ii_wait == {w}'d0;\n",
            ii = m.ii_cycles,
            wm1 = w - 1,
            iim1 = m.ii_cycles - 1
        )
    };
    TEMPLATE
        .replace("@IN_DATA@", &in_data)
        .replace("@II_GATE@", &ii_gate)
        .replace("@M_DATA@", &m_data)
        .replace("@NAME@", &wrapper_name(&m.top))
        .replace("@CORE@", &m.top)
        .replace("@VERSION@", &m.tachyon_version)
        .replace("@MODEL@", model)
        .replace("@IN_BITS@", &in_bits.to_string())
        .replace("@OUT_BITS@", &out_bits.to_string())
        .replace("@S_W@", &s_w.to_string())
        .replace("@M_W@", &m_w.to_string())
        .replace("@S_MSB@", &(s_w - 1).to_string())
        .replace("@M_MSB@", &(m_w - 1).to_string())
        .replace("@OUT_MSB@", &(out_bits - 1).to_string())
        .replace("@LATENCY@", &m.latency_cycles.to_string())
        .replace("@II@", &m.ii_cycles.max(1).to_string())
        .replace("@DEPTH_M1@", &(depth - 1).to_string())
        .replace("@DEPTH@", &depth.to_string())
        .replace("@AW_M1@", &(aw - 1).to_string())
        .replace("@AW1@", &(aw + 1).to_string())
        .replace("@AW@", &aw.to_string())
}

/// What an AXI-Stream co-simulation found.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AxisSummary {
    /// Probabilities of source valid and sink ready per cycle.
    pub p_valid: f64,
    pub p_ready: f64,
    pub vectors: usize,
    /// Output beats received (must equal `vectors`).
    pub received: usize,
    /// Beats whose data differ from the reference interpreter, or arrive out of order.
    pub mismatches: usize,
    pub first_mismatches: Vec<String>,
    /// Output beats whose tlast differs from their input's.
    pub tlast_errors: usize,
    /// AXI-Stream rule violations seen on m_axis (tvalid dropped or data changed before tready).
    pub protocol_errors: Vec<String>,
    /// Smallest and largest number of cycles between accepted inputs.
    pub min_accept_gap: u64,
    pub max_accept_gap: u64,
    pub cycles: u64,
}

/// Co-simulates the wrapper of the project in `dir` with `vectors` under `run` (source valid /
/// sink ready probabilities) and compares every beat with the reference interpreter; the summary
/// is also saved as `dir/sim/axis/results.json`.
pub fn cosim(dir: &Path, vectors: &[Vec<i128>], run: &AxisRun) -> Result<AxisSummary> {
    let (m, built) = crate::project::load(dir)?;
    if m.frame.is_some() {
        bail!(
            "{} is a stream-style design (a frame of pixel beats per input): it has no AXI-Stream wrapper, which \
             feeds one whole input per beat; co-simulate the core with `tachyon sim {}`",
            dir.display(),
            dir.display()
        );
    }
    let wrapper = dir.join(wrapper_path(&m.top));
    if !wrapper.is_file() {
        bail!("{} is missing (project built by an older Tachyon): run tachyon build again", wrapper.display());
    }
    let h = harness(dir, &m)?;
    let res = h.run(vectors, run)?;
    let reference: Vec<Vec<i128>> = vectors.iter().map(|v| interp::run(&built.qmodel, v)).collect();
    let mut first = vec![];
    let mut mismatches = 0;
    for (i, want) in reference.iter().enumerate() {
        let got = res.outputs.get(i);
        if got != Some(want) {
            mismatches += 1;
            if first.len() < 10 {
                first.push(format!("beat {i}: rtl {got:?} reference {want:?}"));
            }
        }
    }
    let tlast_errors = (0..res.tlast.len().min(vectors.len()))
        .filter(|&i| res.tlast[i] != tachyon_testbenches::axis_tlast_of(i, vectors.len(), run.tlast_every))
        .count();
    let summary = AxisSummary {
        p_valid: run.p_valid,
        p_ready: run.p_ready,
        vectors: vectors.len(),
        received: res.outputs.len(),
        mismatches,
        first_mismatches: first,
        tlast_errors,
        protocol_errors: res.protocol_errors,
        min_accept_gap: res.min_accept_gap,
        max_accept_gap: res.max_accept_gap,
        cycles: res.cycles,
    };
    let path = dir.join("sim").join("axis").join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&summary)? + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(summary)
}

/// Builds the Verilator harness of the wrapper in `dir/sim/axis/`.
pub fn harness(dir: &Path, m: &Manifest) -> Result<tachyon_testbenches::AxisHarness> {
    if !tachyon_testbenches::verilator_available() {
        bail!("verilator not found on PATH: install it (apt-get install -y verilator) to co-simulate");
    }
    let pe = |e: &tachyon_hls::BusElem| PortElem { width: e.width, signed: e.signed };
    let iface = TopInterface {
        top: wrapper_name(&m.top),
        inputs: m.inputs.iter().map(pe).collect(),
        outputs: m.outputs.iter().map(pe).collect(),
        frame: vec![],
    };
    let rtl = vec![dir.join("rtl").join(format!("{}.v", m.top)), dir.join(wrapper_path(&m.top))];
    let spinner = crate::tools::spinner(&format!("verilator: building the AXI-Stream harness of {}", m.top));
    let h = tachyon_testbenches::build_axis_harness(&rtl, &iface, &dir.join("sim").join("axis"));
    spinner.finish_and_clear();
    h.with_context(|| format!("building the AXI-Stream co-simulation of {}", dir.display()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn depth_covers_the_outstanding_vectors() {
        assert_eq!(super::fifo_depth(0, 1), 2);
        assert_eq!(super::fifo_depth(2, 1), 4);
        assert_eq!(super::fifo_depth(6, 1), 8);
        assert_eq!(super::fifo_depth(7, 1), 16);
        assert_eq!(super::fifo_depth(12, 4), 8);
        assert_eq!(super::fifo_depth(5, 6), 2);
        assert_eq!(super::byte_width(47), 48);
        assert_eq!(super::byte_width(64), 64);
    }
}
