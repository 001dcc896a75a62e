//! The Tachyon driver: what the `tachyon` commands do, as a library so tests can call it.
//!
//! A *project folder* (the `-o` of `tachyon build`) holds `rtl/<top>.v`, `report.json`,
//! `model.txt` and `tachyon.json` (the manifest: model path, config, clock — everything `sim`
//! needs to rebuild the same quantized model and reference).

pub mod axis;
pub mod bitstream;
pub mod decompose;
pub mod fuzz;
pub mod html;
pub mod project;
pub mod sim;
pub mod synth;
pub mod tools;
pub mod vivado;
