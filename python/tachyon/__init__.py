"""Tachyon from Python: convert a quantized model, predict bit-exactly, build, co-simulate.

::

    import tachyon
    prj = tachyon.convert("model.keras", clock_ns=5.0)   # or an ONNX/QONNX path, a Keras model
    y = prj.predict(X)          # the reference interpreter: the hardware's outputs, bit for bit
    prj.build("out/")           # the project `tachyon build` writes
    res = prj.sim(X)            # Verilator co-simulation against the interpreter
    prj.report()                # per-layer report (HTML in Jupyter)

Everything runs on the same Rust crates as the ``tachyon`` command (installed with the wheel);
errors are :class:`TachyonError` with the command line's message.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from tachyon import _native
from tachyon._native import TachyonError

__all__ = ["convert", "Project", "SimResult", "Report", "TachyonError", "__version__"]
__version__: str = _native.__version__

PathLike = Union[str, "os.PathLike[str]"]


def _keras_bytes(model: Any) -> tuple[bytes, str]:
    """A live Keras/HGQ2 model exported in this process with HGQ2's own quantized values."""
    try:
        from tachyon_export.exporter import export_model
    except ImportError as e:
        raise TachyonError(
            "a Keras model needs Tachyon's exporter in this Python: pip install ./exporter (from the Tachyon "
            "repository) with hgq2==0.2.0 keras==3.15.1 jax==0.10.2, or run scripts/python-env.sh"
        ) from e
    try:
        proto = export_model(model)
    except Exception as e:  # the exporter's errors name the layer; keep them as Tachyon errors
        raise TachyonError(f"{getattr(model, 'name', 'model')}: {e}") from e
    return proto.SerializeToString(), f"{getattr(model, 'name', 'model')}.keras"


def _is_keras(model: Any) -> bool:
    mod = type(model).__module__
    return mod.split(".")[0] in ("keras", "hgq", "tf_keras") or (
        hasattr(model, "layers") and hasattr(model, "save") and hasattr(model, "get_config")
    )


def _model_bytes(model: Any) -> tuple[bytes, str]:
    """ONNX bytes and a name for any model :func:`convert` takes."""
    if isinstance(model, (bytes, bytearray)):
        return bytes(model), "model.onnx"
    if isinstance(model, (str, os.PathLike)):
        path = os.fspath(model)
        # A .keras file is exported by the exporter run with this very Python, unless told otherwise.
        env = os.environ.setdefault("TACHYON_PYTHON", sys.executable)
        try:
            return _native.read_model(path), path
        finally:
            if env == sys.executable and os.environ.get("TACHYON_PYTHON") == sys.executable:
                del os.environ["TACHYON_PYTHON"]
    if hasattr(model, "SerializeToString"):  # onnx.ModelProto
        name = getattr(getattr(model, "graph", None), "name", "") or "model"
        return model.SerializeToString(), f"{name}.onnx"
    inner = getattr(model, "model", None)
    if inner is not None and hasattr(inner, "SerializeToString"):  # qonnx ModelWrapper
        name = getattr(getattr(inner, "graph", None), "name", "") or "model"
        return inner.SerializeToString(), f"{name}.onnx"
    if _is_keras(model):
        return _keras_bytes(model)
    raise TachyonError(
        f"convert: cannot read a {type(model).__name__}; give a path (.onnx or .keras), ONNX bytes, an "
        "onnx.ModelProto, a qonnx ModelWrapper or a Keras/HGQ2 model"
    )


def convert(
    model: Any,
    config: PathLike | dict[str, Any] | None = None,
    clock_ns: float | None = None,
    board: str | None = None,
    top: str = "tachyon_top",
    input_shape: str | list[str] | None = None,
) -> Project:
    """Compiles a model: the quantized model, its pipelined design and Verilog, in memory.

    ``model``: a path (ONNX/QONNX, or an HGQ2 ``.keras`` file), ONNX bytes, an ``onnx.ModelProto``,
    a qonnx ``ModelWrapper``, or a live Keras/HGQ2 model. ``config``: a Tachyon config (path or
    dict, as ``tachyon build -c``). ``clock_ns``: the target clock (default: the board's, else 5).
    ``board``: a board or part name (``tachyon boards``). ``input_shape``: as ``--input-shape``
    (e.g. ``"1,16"`` or ``["x=1,16"]``).
    """
    data, name = _model_bytes(model)
    shapes = [input_shape] if isinstance(input_shape, str) else list(input_shape or [])
    with tempfile.TemporaryDirectory(prefix="tachyon-config-") as tmp:
        cfg: str | None
        if isinstance(config, dict):
            cfg = os.path.join(tmp, "config.json")
            Path(cfg).write_text(json.dumps(config))
        else:
            cfg = os.fspath(config) if config is not None else None
        try:
            compiled = _native.compile(data, name, cfg, clock_ns, board, top, shapes)
        except TachyonError as e:
            if isinstance(config, dict) and cfg is not None:
                raise TachyonError(str(e).replace(cfg, "config dict")) from None
            raise
    return Project(compiled, name)


@dataclasses.dataclass(frozen=True)
class SimResult:
    """What a co-simulation found (``tachyon sim``'s summary)."""

    vectors: int
    mismatches: int
    first_mismatches: list[str]
    latency_cycles: int
    expected_latency_cycles: int
    ii_cycles: int
    build_seconds: float
    run_seconds: float
    max_abs_diff: float | None
    argmax_agreement: float | None
    compared_rows: int | None
    layer_errors: list[dict[str, Any]]
    warnings: list[str]

    @property
    def ok(self) -> bool:
        """No mismatching output and the latency the report promised."""
        return self.mismatches == 0 and self.latency_cycles == self.expected_latency_cycles

    @classmethod
    def from_json(cls, text: str) -> SimResult:
        d = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: d.get(k, [] if k in ("first_mismatches", "layer_errors", "warnings") else None) for k in names})


class Report:
    """The per-layer report of a design (``report.json``): latency, widths, estimated resources."""

    def __init__(self, data: dict[str, Any], html: str | None) -> None:
        self.data = data
        self._html = html

    @property
    def layers(self) -> list[dict[str, Any]]:
        """One entry per layer: name, kind, stages, output widths, estimate (lut, ff, dsp, ...)."""
        layers: list[dict[str, Any]] = self.data["layers"]
        return layers

    @property
    def total(self) -> dict[str, int]:
        """Estimated resources of the whole design."""
        total: dict[str, int] = self.data["total"]
        return total

    @property
    def latency_cycles(self) -> int:
        return int(self.data["latency_cycles"])

    @property
    def latency_ns(self) -> float:
        return float(self.data["latency_ns"])

    @property
    def ii_cycles(self) -> int:
        return int(self.data["ii_cycles"])

    def __repr__(self) -> str:
        t = self.total
        return (
            f"<tachyon.Report {self.data.get('model', '')}: {self.latency_cycles} cycles = {self.latency_ns} ns, "
            f"II {self.ii_cycles}, LUT {t.get('lut')} FF {t.get('ff')} DSP {t.get('dsp')}, {len(self.layers)} layers>"
        )

    def _repr_html_(self) -> str:
        return self._html if self._html is not None else f"<pre>{self!r}</pre>"


class Project:
    """A compiled model (made by :func:`convert`)."""

    def __init__(self, compiled: _native.Compiled, name: str) -> None:
        self._c = compiled
        self.name = name
        #: The project folder, once :meth:`build` (or :meth:`sim`) wrote one.
        self.path: Path | None = None
        self._scratch: str | None = None

    def __del__(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)

    def __repr__(self) -> str:
        return f"<tachyon.Project {self.name}: {self._c.input_len} inputs → {self._c.output_len} outputs>"

    @property
    def input_len(self) -> int:
        """Values per inference in."""
        return self._c.input_len

    @property
    def output_len(self) -> int:
        """Values per inference out."""
        return self._c.output_len

    @property
    def verilog(self) -> str:
        return self._c.verilog

    @property
    def warnings(self) -> list[str]:
        return self._c.warnings

    def _rows(self, x: npt.ArrayLike, what: str) -> npt.NDArray[np.float64]:
        a = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
        n = self._c.input_len
        if a.ndim == 0 or a.size % n != 0 or (a.ndim > 1 and int(np.prod(a.shape[1:])) != n):
            raise TachyonError(f"{what}: an array of shape {a.shape} is not N inferences of {n} values")
        return a.reshape(-1, n)

    def predict(self, x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """The bit-exact reference interpreter: the outputs the hardware computes, as floats.

        ``x``: one inference (``input_len`` values) or ``N`` of them (first axis); returns
        ``(N, output_len)`` (or ``(output_len,)`` for a one-dimensional ``x``).
        """
        rows = self._rows(x, "predict")
        raw = self._c.predict(rows.tobytes(), rows.shape[0])
        y = np.frombuffer(raw, dtype="<f8").reshape(rows.shape[0], self._c.output_len)
        return y[0] if np.ndim(x) == 1 else y

    def build(self, out: PathLike, force: bool = False) -> Path:
        """Writes the project (what ``tachyon build`` writes) into ``out`` and returns its path."""
        path = Path(out)
        if path.exists() and not force:
            raise TachyonError(f"output folder {path} already exists; pass force=True to replace it")
        self._c.write(path, force)
        self.path = path
        return path

    def _project(self) -> Path:
        if self.path is None:
            self._scratch = tempfile.mkdtemp(prefix="tachyon-project-")
            self.build(Path(self._scratch) / "prj")
        assert self.path is not None
        return self.path

    def sim(
        self,
        x: npt.ArrayLike | None = None,
        expect: npt.ArrayLike | None = None,
        n_random: int | None = None,
        seed: int = 1,
        post_synth: bool = False,
    ) -> SimResult:
        """Verilator co-simulation of the built design against the interpreter, on the rows of ``x``
        and/or ``n_random`` random vectors over the full input ranges (1000 when ``x`` is None);
        with ``expect`` (e.g. Keras's outputs) also ``max_abs_diff`` and ``argmax_agreement``.
        With ``post_synth``, the design as yosys synthesizes it, simulated with yosys' cell models
        in Icarus (``tachyon sim --post-synth``; slow, give few vectors).
        Builds into a temporary folder first if :meth:`build` was not called.
        """
        prj = self._project()
        with tempfile.TemporaryDirectory(prefix="tachyon-sim-") as tmp:
            xs = es = None
            if x is not None:
                xs = os.path.join(tmp, "inputs.npy")
                np.save(xs, self._rows(x, "sim"))
            if expect is not None:
                if x is None:
                    raise TachyonError("sim: expect needs x, the inputs it belongs to")
                es = os.path.join(tmp, "expect.npy")
                e = np.asarray(expect, dtype=np.float64)
                np.save(es, e.reshape(e.shape[0], -1) if e.ndim > 1 else e.reshape(1, -1))
            return SimResult.from_json(_native.sim(prj, xs, es, n_random, seed, post_synth))

    def report(self) -> Report:
        """The per-layer report; in Jupyter it shows as the HTML report (``tachyon report``)."""
        data = json.loads(self._c.report_json())
        return Report(data, _native.report_html(self._project()))
