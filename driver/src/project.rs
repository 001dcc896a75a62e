//! `tachyon build`: model → quantized IR → pipelined netlist → Verilog + reports, written
//! atomically (into a temporary sibling folder renamed at the end, so a failure never leaves a
//! half-written project).
//!
//! A project is self-contained: it stores the model it was built from ([`MODEL_FILE`], or the
//! decomposed [`DECOMPOSED_MODEL`]) and the quantized model ([`QMODEL_FILE`], the reference
//! interpreter's input), so `sim`, `report`, `synth` and the flows never read the original
//! model file again and never recompile it ([`load`]). Only partitioned synthesis needs the
//! netlist, which [`netlist`] regenerates from the stored quantized model (deterministic; it is
//! checked against `rtl/<top>.v`).

pub use crate::manifest::{read_manifest, Manifest};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use tachyon_hls::{Design, HlsOptions};
use tachyon_quantize::{Config, QModel};

/// Where `tachyon build --decompose` stores the decomposed model in the project folder.
pub const DECOMPOSED_MODEL: &str = "model.td.onnx";
/// Where `tachyon build` stores the model it compiled, in the project folder.
pub const MODEL_FILE: &str = "model.onnx";
/// The quantized model (serialized [`QModel`]) in the project folder.
pub const QMODEL_FILE: &str = "qmodel.json";

/// Options of `tachyon build`.
#[derive(Clone, Debug)]
pub struct BuildOptions {
    pub model: PathBuf,
    pub config: Option<PathBuf>,
    pub clock_ns: Option<f64>,
    pub board: Option<String>,
    pub top: String,
    pub out: PathBuf,
    pub force: bool,
    /// Shapes of graph inputs replacing the model file's (`--input-shape`); stored in the
    /// manifest, so every later command reads the model the same way.
    pub input_shapes: Vec<tachyon_frontend::InputShape>,
}

/// Everything produced in memory by a build.
#[derive(Clone)]
pub struct Built {
    pub qmodel: QModel,
    pub design: Design,
    pub verilog: String,
    pub manifest: Manifest,
    /// Graph inputs compiled with another shape than the file's (a batch axis taken out, or
    /// `--input-shape`), for the build output.
    pub input_notes: Vec<tachyon_frontend::InputNote>,
    /// What the user should know about the design (`crate::warnings`), filled by `build`.
    pub warnings: Vec<String>,
}

/// Reads, quantizes and lowers a model (no files written).
pub fn compile(model: &Path, config: &Config, clock_ns: f64, top: &str, board: Option<String>) -> Result<Built> {
    let graph = crate::source::load_graph(model)?;
    compile_graph(&graph, model, config, clock_ns, top, board)
}

/// [`compile`] of an imported graph; `model` names the model in messages.
fn compile_graph(
    graph: &tachyon_frontend::Graph,
    model: &Path,
    config: &Config,
    clock_ns: f64,
    top: &str,
    board: Option<String>,
) -> Result<Built> {
    let qmodel = tachyon_quantize::lower(graph, config)?;
    let mut built = synthesize(qmodel, model, config, clock_ns, top, board)?;
    built.input_notes = graph.input_notes.clone();
    Ok(built)
}

/// Lowers a quantized model to the pipelined netlist and its Verilog: what [`compile`] does
/// after quantizing, and what [`netlist`] reruns on a project's stored quantized model.
fn synthesize(
    qmodel: QModel,
    model: &Path,
    config: &Config,
    clock_ns: f64,
    top: &str,
    board: Option<String>,
) -> Result<Built> {
    // The board's family sets how much slower than the UltraScale+ model its logic is, and
    // whether the Verilog may instantiate UltraScale primitives.
    let part = board.as_deref().map(tachyon_boards::find).transpose().map_err(|e| anyhow::anyhow!(e))?;
    let target = tachyon_hls::Target {
        clock_ns,
        top: top.to_string(),
        delay_scale: part.as_ref().and_then(|p| p.delay_scale).unwrap_or(1.0),
        board: board.clone(),
        family: part.as_ref().map_or("xcup", |p| p.family.as_str()).to_string(),
    };
    let opts = HlsOptions::resolve(&qmodel, config, target).map_err(|e| anyhow::anyhow!("{}: {e}", model.display()))?;
    let design = tachyon_hls::synthesize(&qmodel, &opts);
    tachyon_rtl::verify(&design.module)
        .map_err(|e| anyhow::anyhow!("internal error: generated netlist is invalid: {e}"))?;
    let verilog = tachyon_rtl::emit_rtl(&design.module);
    let manifest = Manifest {
        tachyon_version: env!("CARGO_PKG_VERSION").into(),
        model: PathBuf::from(MODEL_FILE),
        source: std::fs::canonicalize(model).unwrap_or_else(|_| model.to_path_buf()),
        config: serde_json::to_value(config)?,
        clock_ns,
        board,
        top: top.to_string(),
        latency_cycles: design.latency,
        ii_cycles: design.ii,
        inputs: design.inputs.clone(),
        outputs: design.outputs.clone(),
        frame: design.frame.clone(),
        input_shapes: vec![],
    };
    Ok(Built { qmodel, design, verilog, manifest, input_notes: vec![], warnings: vec![] })
}

fn load_config(path: Option<&Path>) -> Result<Config> {
    match path {
        Some(p) => Config::load(p).map_err(|e| anyhow::anyhow!(e)),
        None => Ok(Config::default()),
    }
}

/// `tachyon build`. The model's bytes are stored in the project ([`MODEL_FILE`]); a model file
/// inside the output folder (a model an earlier build stored there, rebuilt with `force`) keeps
/// its place in the new project, so the manifest keeps pointing at it.
pub fn build(o: &BuildOptions) -> Result<Built> {
    let bytes = crate::source::read_model(&o.model)?;
    let inside = match (std::fs::canonicalize(&o.model), std::fs::canonicalize(&o.out)) {
        (Ok(m), Ok(out)) => m.strip_prefix(&out).ok().map(Path::to_path_buf),
        _ => None,
    };
    let file = inside.filter(|_| !crate::source::is_keras(&o.model)).unwrap_or_else(|| PathBuf::from(MODEL_FILE));
    build_from(o, &file, &bytes, false)
}

/// `tachyon build` of a model held in memory (`bytes`, such as the model `tachyon build
/// --decompose` makes): stored in the project as OUT/`file` together with the rest of the
/// project (all or nothing: a failure leaves neither), and the manifest points to it. `file`
/// is relative to OUT and must not be one of the project's own files; `o.model` is where it
/// came from (for information only).
pub fn build_with_model(o: &BuildOptions, file: &Path, bytes: &[u8]) -> Result<Built> {
    build_from(o, file, bytes, true)
}

/// Builds from `bytes`, stored in the project as `file`. `in_project`: the model exists only
/// in the project (its external data, if any, is read relative to the project), not at
/// `o.model`.
fn build_from(o: &BuildOptions, file: &Path, bytes: &[u8], in_project: bool) -> Result<Built> {
    if o.out.exists() && !o.force {
        bail!("output folder {} already exists; pass --force to replace it", o.out.display());
    }
    let plain = file.components().all(|c| matches!(c, std::path::Component::Normal(_)));
    if !plain || file.as_os_str().is_empty() {
        bail!("internal error: the model's place in the project {} is not a relative path", file.display());
    }
    let at = if in_project {
        // Where the model will be once the project is in place (messages, external data).
        let name = o.out.file_name().with_context(|| format!("{} is not a folder name", o.out.display()))?;
        let parent = o.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let at = match std::fs::canonicalize(parent) {
            Ok(p) => p.join(name),
            Err(_) => std::path::absolute(&o.out)
                .with_context(|| format!("cannot make {} an absolute path", o.out.display()))?,
        }
        .join(file);
        Some(at)
    } else {
        None
    };
    let mut built = compile_at(o, bytes, at.as_deref())?;
    write_built(o, &mut built, file, bytes)?;
    Ok(built)
}

/// Everything `tachyon build` does but writing the project: the model's `bytes` (from
/// `o.model`, which names it in messages) read, quantized, lowered to Verilog, and the
/// warnings found. [`write_built`] then writes the project.
pub fn compile_model(o: &BuildOptions, bytes: &[u8]) -> Result<Built> {
    compile_at(o, bytes, None)
}

/// [`compile_model`] of a model that will live at `at` (messages, external data).
fn compile_at(o: &BuildOptions, bytes: &[u8], at: Option<&Path>) -> Result<Built> {
    let board = match &o.board {
        Some(b) => Some(tachyon_boards::find(b).map_err(|e| anyhow::anyhow!(e))?),
        None => None,
    };
    let clock = o.clock_ns.or(board.as_ref().map(|b| b.schedule_clock_ns.unwrap_or(b.default_clock_ns))).unwrap_or(5.0);
    if !(clock > 0.0 && clock < 1000.0) {
        bail!("--clock-ns {clock} is not a sensible clock period");
    }
    if !tachyon_rtl::names::is_legal_identifier(&o.top) {
        bail!("--top '{}' is not a valid Verilog module name (letters, digits, _; not a keyword)", o.top);
    }
    let config = load_config(o.config.as_deref())?;
    let import = tachyon_frontend::ImportOptions { input_shapes: o.input_shapes.clone() };
    let board_name = board.as_ref().map(|b| b.name.clone());
    let at = at.unwrap_or(&o.model);
    let name = at.file_name().map_or_else(|| at.display().to_string(), |f| f.to_string_lossy().into_owned());
    let phase = tachyon_flows::tools::Phases::new(&format!("{name}: reading"));
    let graph = tachyon_frontend::decode_model_with(bytes, at, &import)?;
    phase.set(&format!("{name}: quantizing, pipelining, writing Verilog"));
    let mut built = compile_graph(&graph, at, &config, clock, &o.top, board_name)?;
    built.manifest.input_shapes = o.input_shapes.clone();
    phase.set(&format!("{name}: checking the design ({} layers)", built.qmodel.layers.len()));
    let (model_at, board_again) = (built.manifest.source.clone(), built.manifest.board.clone());
    built.warnings = crate::warnings::design_warnings(&built, &config, &|c| {
        synthesize(built.qmodel.clone(), &model_at, c, clock, &o.top, board_again.clone())
    })?;
    Ok(built)
}

/// Writes the project of a compiled model into `o.out` (all or nothing), the model's `bytes`
/// stored in it as `file` (relative to `o.out`).
pub fn write_built(o: &BuildOptions, built: &mut Built, file: &Path, bytes: &[u8]) -> Result<()> {
    if o.out.exists() && !o.force {
        bail!("output folder {} already exists; pass --force to replace it", o.out.display());
    }
    let board = match &built.manifest.board {
        Some(b) => Some(tachyon_boards::find(b).map_err(|e| anyhow::anyhow!(e))?),
        None => None,
    };
    built.manifest.model = file.to_path_buf();
    built.manifest.source = std::fs::canonicalize(&o.model).unwrap_or_else(|_| o.model.clone());
    let _phase = tachyon_flows::tools::Phases::new(&format!("writing {}", o.out.display()));
    write_project(built, &o.out, o.force, board.as_ref(), (file, bytes))
}

/// The project report (`report.json`) of a compiled model.
pub fn report_json(b: &Built) -> Result<String> {
    let board = b.manifest.board.as_deref().map(tachyon_boards::find).transpose().map_err(|e| anyhow::anyhow!(e))?;
    let model_file = b.manifest.source.file_name().map(|f| f.to_string_lossy().into_owned());
    crate::report::ProjectReport::new(&b.design.report, board.as_ref()).with_build(&b.warnings, model_file).to_json()
}

fn write_project(
    b: &Built,
    out: &Path,
    force: bool,
    board: Option<&tachyon_boards::Board>,
    model: (&Path, &[u8]),
) -> Result<()> {
    write_project_with(b, out, force, board, model, &mut |path, bytes| std::fs::write(path, bytes))
}

/// Writes the project through `put` (every file but the harness sources goes through it, so a
/// test can make any of them fail): into a temporary sibling folder first, renamed onto `out` at
/// the end. On any failure the temporary folder is removed and an existing `out` is untouched.
/// `model`: the model file stored in the project too (path relative to `out`, bytes).
fn write_project_with(
    b: &Built,
    out: &Path,
    force: bool,
    board: Option<&tachyon_boards::Board>,
    model: (&Path, &[u8]),
    put: &mut dyn FnMut(&Path, &[u8]) -> std::io::Result<()>,
) -> Result<()> {
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
    let tmp = parent.join(format!(".{name}.tachyon-tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let mut put = |path: PathBuf, bytes: &[u8]| -> Result<()> {
        put(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
    };
    let result = (|| -> Result<()> {
        std::fs::create_dir_all(tmp.join("rtl"))?;
        put(tmp.join("rtl").join(format!("{}.v", b.manifest.top)), b.verilog.as_bytes())?;
        put(tmp.join("report.json"), report_json(b)?.as_bytes())?;
        put(tmp.join("model.txt"), b.qmodel.to_string().as_bytes())?;
        put(tmp.join(QMODEL_FILE), serde_json::to_string(&b.qmodel)?.as_bytes())?;
        put(tmp.join("tachyon.json"), (serde_json::to_string_pretty(&b.manifest)? + "\n").as_bytes())?;
        // The AXI-Stream wrapper feeds one whole input per beat; a stream-style core takes a
        // frame of consecutive pixel beats instead, which the user's pixel source provides.
        if b.manifest.frame.is_none() {
            let axis = tachyon_rtl::wrappers::axis::wrapper_path(&b.manifest.top);
            std::fs::create_dir_all(tmp.join("axis"))?;
            put(
                tmp.join(axis),
                tachyon_rtl::wrappers::axis::verilog(&b.manifest.core(&b.design.report.model)).as_bytes(),
            )?;
        }
        for (rel, text) in
            tachyon_flows::vivado::files(&b.manifest.core(&b.design.report.model), b.manifest.clock_ns, board)?
        {
            if let Some(dir) = rel.parent() {
                std::fs::create_dir_all(tmp.join(dir))?;
            }
            put(tmp.join(rel), text.as_bytes())?;
        }
        let rtl = vec![PathBuf::from("../rtl").join(format!("{}.v", b.manifest.top))];
        let sim = tmp.join("sim");
        tachyon_testbenches::write_harness(&rtl, &b.manifest.interface(), &sim)
            .with_context(|| format!("writing the harness into {}", sim.display()))?;
        {
            let (file, bytes) = model;
            let p = tmp.join(file);
            if p.exists() {
                bail!(
                    "the model cannot be stored as {} in the project: the project has a file of that name",
                    file.display()
                );
            }
            if let Some(dir) = p.parent() {
                std::fs::create_dir_all(dir)?;
            }
            put(p, bytes)?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e.context(format!("writing the project to {}", out.display())));
    }
    if out.exists() && force {
        std::fs::remove_dir_all(out).with_context(|| format!("cannot remove the old {}", out.display()))?;
    }
    std::fs::rename(&tmp, out).with_context(|| format!("cannot move the project into {}", out.display()))?;
    Ok(())
}

/// What a project folder holds besides its manifest: the quantized model.
pub struct Loaded {
    pub qmodel: QModel,
}

/// Reads a project's manifest and its stored quantized model, without recompiling anything.
pub fn load(dir: &Path) -> Result<(Manifest, Loaded)> {
    let m = read_manifest(dir)?;
    let older = || format!("{} was built by an older Tachyon; run tachyon build again", dir.display());
    let path = dir.join(QMODEL_FILE);
    let text = std::fs::read_to_string(&path).with_context(|| format!("{} is missing: {}", path.display(), older()))?;
    let qmodel: QModel =
        serde_json::from_str(&text).with_context(|| format!("{} is malformed: {}", path.display(), older()))?;
    let rtl = dir.join("rtl").join(format!("{}.v", m.top));
    if !rtl.is_file() {
        bail!("{} is missing; run tachyon build again", rtl.display());
    }
    Ok((m, Loaded { qmodel }))
}

/// The project's netlist, regenerated from its stored quantized model and manifest (the model
/// file is not read); an error if it no longer gives `rtl/<top>.v` (a different Tachyon).
pub fn netlist(dir: &Path, m: &Manifest, l: &Loaded) -> Result<Design> {
    let config: Config = serde_json::from_value(m.config.clone()).context("config in tachyon.json")?;
    let built = synthesize(l.qmodel.clone(), &dir.join(&m.model), &config, m.clock_ns, &m.top, m.board.clone())?;
    let on_disk = std::fs::read_to_string(dir.join("rtl").join(format!("{}.v", m.top))).unwrap_or_default();
    if on_disk != built.verilog {
        bail!(
            "{}/rtl/{}.v differs from what its quantized model now compiles to (Tachyon changed since the build); run tachyon build again",
            dir.display(),
            m.top
        );
    }
    Ok(built.design)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Built {
        let dir = std::env::temp_dir().join(format!("tachyon-write-fail-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let model = dir.join("tiny.onnx");
        std::fs::write(&model, prost::Message::encode_to_vec(&tachyon_examples::tiny_mlp(0))).unwrap();
        compile(&model, &Config::default(), 5.0, "tachyon_top", None).unwrap()
    }

    /// Names in `dir` (sorted), to see that nothing partial is left beside the output.
    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    fn model_file() -> (&'static Path, &'static [u8]) {
        (Path::new("model.onnx"), b"model bytes")
    }

    #[test]
    fn a_write_failure_midway_leaves_nothing_behind() {
        let b = tiny();
        let parent = std::env::temp_dir().join(format!("tachyon-write-fail-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&parent);
        std::fs::create_dir_all(&parent).unwrap();
        let out = parent.join("proj");
        // Fail at the first, second, … file: every time an error naming the file, no output
        // folder and no temporary folder.
        for fail_at in 0..4 {
            let mut n = 0;
            let err = write_project_with(&b, &out, false, None, model_file(), &mut |path, bytes| {
                n += 1;
                if n > fail_at {
                    return Err(std::io::Error::other("injected: device full"));
                }
                std::fs::write(path, bytes)
            })
            .unwrap_err();
            let msg = format!("{err:#}");
            assert!(msg.contains("cannot write") && msg.contains("injected"), "{msg}");
            assert!(listing(&parent).is_empty(), "after failing at file {fail_at}: {:?}", listing(&parent));
        }
        // With --force over an existing project, a failure keeps the old project intact.
        write_project(&b, &out, false, None, model_file()).unwrap();
        let before = std::fs::read(out.join("tachyon.json")).unwrap();
        let err = write_project_with(&b, &out, true, None, model_file(), &mut |path, bytes| {
            if path.ends_with("model.txt") {
                return Err(std::io::Error::other("injected: device full"));
            }
            std::fs::write(path, bytes)
        });
        assert!(err.is_err());
        assert_eq!(listing(&parent), vec!["proj".to_string()]);
        assert_eq!(std::fs::read(out.join("tachyon.json")).unwrap(), before);
        // A model stored in the project: failing to write it (the last file) keeps the old
        // project intact too, and leaves no temporary folder.
        let model = (Path::new("model.td.onnx"), &b"onnx bytes"[..]);
        let err = write_project_with(&b, &out, true, None, model, &mut |path, bytes| {
            if path.ends_with("model.td.onnx") {
                return Err(std::io::Error::other("injected: device full"));
            }
            std::fs::write(path, bytes)
        })
        .unwrap_err();
        assert!(format!("{err:#}").contains("model.td.onnx"), "{err:#}");
        assert_eq!(listing(&parent), vec!["proj".to_string()]);
        assert!(!out.join("model.td.onnx").exists());
        write_project(&b, &out, true, None, model).unwrap();
        assert_eq!(std::fs::read(out.join("model.td.onnx")).unwrap(), b"onnx bytes");
        // A name the project itself uses is refused.
        let err = write_project(&b, &out, true, None, (Path::new("report.json"), b"")).unwrap_err();
        assert!(format!("{err:#}").contains("has a file of that name"), "{err:#}");
        assert_eq!(std::fs::read(out.join("model.td.onnx")).unwrap(), b"onnx bytes");
        std::fs::remove_dir_all(&parent).unwrap();
    }
}
