//! The tool flows of a project folder: reads what they need from the manifest and report and
//! passes it to [`tachyon_flows`] as plain parameters.

use crate::project::read_manifest;
use anyhow::Result;
use std::path::Path;
pub use tachyon_flows::ice40::{BitstreamOptions, BitstreamSummary, BAUD};
pub use tachyon_flows::vivado::{Outcome as VivadoOutcome, VivadoOptions};

/// The model's name recorded in `report.json` (the core's name if the report is unreadable).
fn model_name(project: &Path, top: &str) -> String {
    crate::report::read_report(project).map_or_else(|_| top.to_string(), |r| r.design.model)
}

/// `tachyon bitstream`: the open iCE40 flow of the project.
pub fn bitstream(project: &Path, o: &BitstreamOptions) -> Result<BitstreamSummary> {
    let m = read_manifest(project)?;
    let core = m.core(&model_name(project, &m.top));
    tachyon_flows::ice40::run(project, &core, m.board.as_deref(), o)
}

/// `tachyon vivado`: runs the project's Vivado flow, or says how to.
pub fn vivado(project: &Path, o: &VivadoOptions) -> Result<VivadoOutcome> {
    let m = read_manifest(project)?;
    tachyon_flows::vivado::run(project, &m.top, m.board.as_deref(), m.frame.is_some(), o)
}
