//! `tachyon inspect`: print the graph as Tachyon understands it, what is unsupported, and the quantized model.

use anyhow::Result;
use std::path::PathBuf;

/// Print the graph as Tachyon understands it, what is unsupported, and the quantized model.
#[derive(clap::Args)]
pub struct Args {
    pub model: PathBuf,
    #[arg(short, long)]
    pub config: Option<PathBuf>,
    /// Shape of one event at a graph input, replacing the file's (as for `tachyon build`).
    #[arg(long, value_name = "SHAPE")]
    pub input_shape: Vec<tachyon_frontend::InputShape>,
}

/// Runs the command.
pub fn run(a: Args) -> Result<()> {
    let Args { model, config, input_shape } = a;
    let import = tachyon_frontend::ImportOptions { input_shapes: input_shape };
    let g = tachyon_driver::source::load_graph_with(&model, &import)?;
    for n in &g.input_notes {
        say!("note: {n}");
    }
    print!("{}", tachyon_frontend::print::dump(&g));
    let un = g.unsupported();
    if !un.is_empty() {
        say!("\n{} unsupported node(s):", un.len());
        for line in tachyon_frontend::error::grouped(&un) {
            say!("{line}");
        }
        return Ok(());
    }
    let cfg = match config {
        Some(p) => tachyon_quantize::Config::load(&p).map_err(|e| anyhow::anyhow!(e))?,
        None => tachyon_quantize::Config::default(),
    };
    match tachyon_quantize::lower(&g, &cfg) {
        Ok(q) => print!("\n{q}"),
        Err(e) => say!("\ncannot be compiled: {e}"),
    }
    Ok(())
}
