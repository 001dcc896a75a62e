//! Tachyon's integration tests, one module per area, linked into one test binary (each test
//! binary links the whole project, so one binary instead of many saves most of the build time
//! of `cargo test`).

#[macro_use]
mod common;

mod activations;
mod axis_stream;
mod board_flow;
mod cli;
mod cnn;
mod decompose;
mod design_hashes;
mod differential;
mod example_model;
mod exporter;
mod fixed_ops;
mod float_ops;
mod float_scales;
mod hardware_strategies;
mod hgq2;
mod hostile_models;
mod import_door;
mod mutation;
mod plan;
mod planted_bugs;
mod post_synth;
mod python_package;
mod qdq;
mod quantizers;
mod report_html;
mod set_models;
mod shared_models;
mod snapshots;
mod structural_ops;
mod transformer;
mod warnings;
