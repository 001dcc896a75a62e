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
use std::path::Path;
use tachyon_quantize::interp;
use tachyon_testbenches::{AxisRun, PortElem, TopInterface};

pub use tachyon_rtl::wrappers::axis::{byte_width, fifo_depth, wrapper_name, wrapper_path};

/// What an AXI-Stream co-simulation found.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct AxisSummary {
    /// Probabilities of source valid and sink ready per cycle.
    pub p_valid: f64,
    pub p_ready: f64,
    pub vectors: usize,
    /// Output beats received (must equal `vectors`).
    pub received: usize,
    /// Beats whose data differ from the reference interpreter, or arrive out of order.
    pub mismatches: usize,
    #[serde(default)]
    pub first_mismatches: Vec<String>,
    /// Output beats whose tlast differs from their input's.
    pub tlast_errors: usize,
    /// AXI-Stream rule violations seen on m_axis (tvalid dropped or data changed before tready).
    #[serde(default)]
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
    let spinner = tachyon_flows::tools::spinner(&format!("verilator: building the AXI-Stream harness of {}", m.top));
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
