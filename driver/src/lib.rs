//! The Tachyon driver: what the `tachyon` commands do, as a library the CLI and the Python
//! package both call (neither re-implements a step).
//!
//! A *project folder* (the `-o` of `tachyon build`) holds `rtl/<top>.v`, `report.json`,
//! `model.txt`, `tachyon.json` (the manifest: config, clock, board, bus layout), the harness
//! sources, the AXI-Stream wrapper and the Vivado files.
//!
//! * [`project`] — build (model → quantized IR → netlist → files, written atomically) and load;
//! * [`manifest`] — `tachyon.json`, what every command after `build` reads;
//! * [`source`] — reading a model: ONNX as it is, HGQ2 `.keras` through the Python exporter;
//! * [`sim`] / [`axis`] — Verilator co-simulation of the core / of its AXI-Stream wrapper
//!   against the reference interpreter;
//! * [`post_synth`] — the same co-simulation of the netlist yosys synthesizes (`--post-synth`);
//! * [`synth`] — yosys figures beside the estimate;
//! * [`report`] / [`html`] — the project's reports as typed values, and the self-contained HTML page;
//! * [`warnings`] — what a user must know about a built design (constant outputs, costly reuse);
//! * [`decompose`] — Mixed-TD priced by this driver's compiler;
//! * [`flows`] — the Vivado and iCE40 flows of a project.

pub mod axis;
pub mod decompose;
pub mod flows;
pub mod html;
pub mod manifest;
pub mod post_synth;
pub mod project;
pub mod report;
pub mod sim;
pub mod source;
pub mod synth;
pub mod warnings;
