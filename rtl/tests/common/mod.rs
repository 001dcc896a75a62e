//! Shared test support: a random netlist generator and wrappers around Verilator and yosys.
#![allow(dead_code)]

pub mod fixtures;
pub mod gen;
pub mod rng;
#[macro_use]
pub mod tools;
pub mod verilator;
