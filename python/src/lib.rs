//! `tachyon._native`: the Python package's native module, a thin layer over the same crates as
//! the command line. The Python side (`python/tachyon/`) gives it a typed, documented face;
//! here every call maps to one driver function, errors become `tachyon.TachyonError` carrying
//! the CLI's message, and long work releases the GIL.

use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::{Path, PathBuf};
use tachyon_driver::project::{BuildOptions, Built};
use tachyon_quantize::interp;

pyo3::create_exception!(
    _native,
    TachyonError,
    PyException,
    "An error from Tachyon (a model it cannot compile, a tool that failed, a project that is not there): \
     the message is the command line's."
);

fn err(e: anyhow::Error) -> PyErr {
    TachyonError::new_err(format!("{e:#}"))
}

/// A compiled model: the quantized model, its pipelined design and Verilog, in memory.
#[pyclass(module = "tachyon._native", frozen)]
struct Compiled {
    options: BuildOptions,
    bytes: Vec<u8>,
    built: Built,
    /// The interpreter compiled for `predict` (`None`: bounds beyond i64, the plain interpreter).
    plan: Option<tachyon_quantize::plan::Plan>,
}

/// Reads a model file's ONNX bytes (a `.keras` file goes through the exporter).
#[pyfunction]
fn read_model(py: Python<'_>, path: PathBuf) -> PyResult<Py<PyBytes>> {
    let bytes = py.detach(|| tachyon_driver::source::read_model(&path)).map_err(err)?;
    Ok(PyBytes::new(py, &bytes).unbind())
}

/// Compiles ONNX `bytes`; `name` names the model in messages and in the project.
#[pyfunction]
#[allow(clippy::too_many_arguments)]
#[pyo3(signature = (bytes, name, config=None, clock_ns=None, board=None, top="tachyon_top".to_string(), input_shapes=vec![]))]
fn compile(
    py: Python<'_>,
    bytes: &[u8],
    name: PathBuf,
    config: Option<PathBuf>,
    clock_ns: Option<f64>,
    board: Option<String>,
    top: String,
    input_shapes: Vec<String>,
) -> PyResult<Compiled> {
    let input_shapes = input_shapes
        .iter()
        .map(|s| s.parse::<tachyon_frontend::InputShape>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TachyonError::new_err(format!("input_shape: {e}")))?;
    let options =
        BuildOptions { model: name, config, clock_ns, board, top, out: PathBuf::new(), force: true, input_shapes };
    let bytes = bytes.to_vec();
    let built = py.detach(|| tachyon_driver::project::compile_model(&options, &bytes)).map_err(err)?;
    let plan = tachyon_quantize::plan::Plan::new(&built.qmodel);
    Ok(Compiled { options, bytes, built, plan })
}

#[pymethods]
impl Compiled {
    /// Numbers of input and output values per inference (the model's float tensors, as the
    /// ONNX graph has them).
    #[getter]
    fn input_len(&self) -> usize {
        self.built.qmodel.prologue.input_shape.iter().product()
    }

    #[getter]
    fn output_len(&self) -> usize {
        self.built.qmodel.output_shape.iter().product()
    }

    /// The reference interpreter on `rows` inferences of `input_len` float64 values each
    /// (little-endian bytes), returning `rows × output_len` float64 values: the model's outputs as
    /// the hardware computes them, bit for bit.
    fn predict<'py>(&self, py: Python<'py>, x: &[u8], rows: usize) -> PyResult<Bound<'py, PyBytes>> {
        let (n_in, n_out) = (self.input_len(), self.output_len());
        if x.len() != rows * n_in * 8 {
            return Err(TachyonError::new_err(format!(
                "predict: {} bytes are not {rows} rows of {n_in} float64 values",
                x.len()
            )));
        }
        let q = &self.built.qmodel;
        let out = py.detach(|| -> Result<Vec<u8>, String> {
            let mut out = Vec::with_capacity(rows * n_out * 8);
            let mut scratch = tachyon_quantize::plan::Scratch::default();
            // Blocks of rows: the prologue runs once per block where it is element-wise.
            const BLOCK: usize = 4096;
            let mut block = Vec::with_capacity(BLOCK * n_in);
            for (b, bytes) in x.chunks(BLOCK * n_in.max(1) * 8).enumerate() {
                block.clear();
                block.extend(bytes.chunks_exact(8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes"))));
                let block = &block[..];
                let k = block.len() / n_in.max(1);
                let codes = interp::quantize_inputs(q, block, k).map_err(|e| {
                    // Name the first sample that fails, as one sample at a time would.
                    let bad = block.chunks(n_in.max(1)).enumerate().find_map(|(r, x)| {
                        interp::quantize_input(q, x).err().map(|e| format!("sample {}: {e}", b * BLOCK + r))
                    });
                    bad.unwrap_or(e)
                })?;
                for (r, codes) in codes.iter().enumerate() {
                    let out_codes = match &self.plan {
                        Some(p) => p.run(&mut scratch, codes),
                        None => interp::run(q, codes),
                    };
                    let y = interp::dequantize_output(q, &out_codes)
                        .map_err(|e| format!("sample {}: {e}", b * BLOCK + r))?;
                    if y.len() != n_out {
                        return Err(format!("internal error: {} outputs, the model has {n_out}", y.len()));
                    }
                    for v in y {
                        out.extend_from_slice(&v.to_le_bytes());
                    }
                }
            }
            Ok(out)
        });
        let out = out.map_err(|e| TachyonError::new_err(format!("predict: {e}")))?;
        Ok(PyBytes::new(py, &out))
    }

    /// Writes the project (the same folder `tachyon build` writes) into `out`.
    #[pyo3(signature = (out, force=false))]
    fn write(&self, py: Python<'_>, out: PathBuf, force: bool) -> PyResult<()> {
        let mut o = self.options.clone();
        o.out = out;
        o.force = force;
        let file = PathBuf::from(tachyon_driver::project::MODEL_FILE);
        let mut built = self.built.clone();
        py.detach(|| tachyon_driver::project::write_built(&o, &mut built, &file, &self.bytes)).map_err(err)
    }

    /// The project report (what `report.json` holds) as JSON.
    fn report_json(&self) -> PyResult<String> {
        tachyon_driver::project::report_json(&self.built).map_err(err)
    }

    /// The Verilog of the design.
    #[getter]
    fn verilog(&self) -> String {
        self.built.verilog.clone()
    }

    /// The quantized model as text (`model.txt`).
    #[getter]
    fn model_text(&self) -> String {
        self.built.qmodel.to_string()
    }

    /// What the build found the user should know.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.built.warnings.clone()
    }

    /// How the model's inputs were read (a batch axis taken out, an `input_shape`).
    #[getter]
    fn input_notes(&self) -> Vec<String> {
        self.built.input_notes.iter().map(|n| n.to_string()).collect()
    }
}

/// Co-simulates the project in `project` (Verilator against the interpreter; with `post_synth`
/// the netlist yosys synthesizes, in Icarus) and returns the summary as JSON; `inputs`/`expect`
/// are `.npy` files as for `tachyon sim`.
#[pyfunction]
#[pyo3(signature = (project, inputs=None, expect=None, random=None, seed=1, post_synth=false))]
fn sim(
    py: Python<'_>,
    project: PathBuf,
    inputs: Option<PathBuf>,
    expect: Option<PathBuf>,
    random: Option<usize>,
    seed: u64,
    post_synth: bool,
) -> PyResult<String> {
    let o = tachyon_driver::sim::SimOptions { inputs, expect, random, seed, post_synth, ..Default::default() };
    let s = py.detach(|| tachyon_driver::sim::run(&project, &o)).map_err(err)?;
    serde_json::to_string(&s).map_err(|e| err(e.into()))
}

/// The project's self-contained HTML report (what `tachyon report` writes as report.html).
#[pyfunction]
fn report_html(project: PathBuf) -> PyResult<String> {
    tachyon_driver::html::render(Path::new(&project)).map_err(err)
}

/// The `tachyon` command line with `argv` (the program name first); returns the exit code.
#[pyfunction]
fn cli(py: Python<'_>, argv: Vec<String>) -> i32 {
    py.detach(|| tachyon::main(argv))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("TachyonError", m.py().get_type::<TachyonError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Compiled>()?;
    m.add_function(wrap_pyfunction!(read_model, m)?)?;
    m.add_function(wrap_pyfunction!(compile, m)?)?;
    m.add_function(wrap_pyfunction!(sim, m)?)?;
    m.add_function(wrap_pyfunction!(report_html, m)?)?;
    m.add_function(wrap_pyfunction!(cli, m)?)?;
    Ok(())
}
