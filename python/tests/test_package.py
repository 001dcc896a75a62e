"""convert → predict → build → sim → report on the shipped example and the shared reference models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tachyon


def test_convert_predict_build_sim_on_the_shipped_example(repo: Path, tmp_path: Path, verilator: None) -> None:
    model = repo / "examples/jet_mlp/jet_mlp.onnx"
    x = np.load(repo / "examples/jet_mlp/jet_mlp.input.npy")[:200]
    prj = tachyon.convert(model, clock_ns=5.0)
    assert (prj.input_len, prj.output_len) == (16, 5)
    y = prj.predict(x)
    assert y.shape == (200, 5) and y.dtype == np.float64
    # One inference as a 1-D array gives one row.
    np.testing.assert_array_equal(prj.predict(x[3]), y[3])
    out = prj.build(tmp_path / "prj")
    for f in ("rtl/tachyon_top.v", "report.json", "tachyon.json", "model.onnx", "sim"):
        assert (out / f).exists(), f
    # predict is the RTL bit for bit: the co-simulation compares the RTL with it exactly.
    res = prj.sim(x, expect=y, n_random=100)
    assert res.ok and res.mismatches == 0 and res.vectors == 300, res
    assert res.max_abs_diff == 0.0 and res.argmax_agreement == 1.0
    assert res.latency_cycles == prj.report().latency_cycles and res.ii_cycles == 1


def test_the_cli_installed_with_the_wheel_agrees_with_predict(repo: Path, tmp_path: Path, verilator: None) -> None:
    exe = Path(sys.executable).with_name("tachyon")
    assert exe.exists(), "the wheel installs the tachyon command"
    model = repo / "examples/tiny_mlp/tiny_mlp.onnx"
    prj = tachyon.convert(model)
    x = np.random.default_rng(1).uniform(-4, 4, size=(64, prj.input_len))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", prj.predict(x))
    subprocess.run([exe, "build", model, "-o", tmp_path / "cli"], check=True, capture_output=True)
    r = subprocess.run(
        [exe, "sim", tmp_path / "cli", "--inputs", tmp_path / "x.npy", "--expect", tmp_path / "y.npy"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "mismatches   0" in r.stdout and "max |Δ| 0.000000" in r.stdout, r.stdout
    # Same model, same config: the same Verilog from Python and from the command line.
    assert (tmp_path / "cli/rtl/tachyon_top.v").read_text() == prj.verilog


def test_model_forms_give_the_same_design(repo: Path) -> None:
    onnx = pytest.importorskip("onnx")
    path = repo / "examples/tiny_mlp/tiny_mlp.onnx"
    a = tachyon.convert(path)
    b = tachyon.convert(onnx.load(path))
    c = tachyon.convert(path.read_bytes())
    assert a.verilog == b.verilog == c.verilog
    qonnx_core = pytest.importorskip("qonnx.core.modelwrapper")
    d = tachyon.convert(qonnx_core.ModelWrapper(str(path)))
    assert d.verilog == a.verilog


def test_qonnx_models_predict_equals_the_qonnx_reference(shared_models: Path) -> None:
    # Brevitas's binary MNIST MLP (qonnx-model-zoo): the outputs of qonnx's executor, exactly.
    d = shared_models / "qonnx-model-zoo"
    prj = tachyon.convert(d / "TFC_2W2A.onnx")
    x = np.load(d / "TFC_2W2A.input.npy")
    want = np.load(d / "TFC_2W2A.output.npy")
    got = prj.predict(x)
    np.testing.assert_array_equal(got.astype(np.float32), want.reshape(got.shape).astype(np.float32))
    # The QKeras jet tagger ends in a softmax (a table, so an approximation the model asks for):
    # its argmax agrees with qonnx's float softmax.
    jet = tachyon.convert(d / "qkeras_jettagging.onnx", config={"input": "fixed<40,5>"})
    x = np.load(d / "qkeras_jettagging.input.npy")
    want = np.load(d / "qkeras_jettagging.output.npy").reshape(len(x), -1)
    got = jet.predict(x)
    assert np.mean(np.argmax(got, axis=1) == np.argmax(want, axis=1)) >= 0.99


def test_hgq2_checkpoint_as_a_live_keras_object(shared_models: Path, tmp_path: Path, verilator: None) -> None:
    os.environ.setdefault("KERAS_BACKEND", "jax")  # the exporter's pinned backend
    keras = pytest.importorskip("keras")
    pytest.importorskip("hgq")
    d = shared_models / "hgq2"
    model = keras.models.load_model(d / "jsc_openml_530.keras", compile=False)
    x = np.load(d / "jsc_openml_530.input.npy")
    want = np.load(d / "jsc_openml_530.output.npy")
    prj = tachyon.convert(model, clock_ns=5.0)
    got = prj.predict(x)
    # Keras's own outputs, half of the vectors overflowing the wrap-around quantizers: bit for bit.
    np.testing.assert_array_equal(got, want.reshape(got.shape))
    res = prj.sim(x[:500], expect=want[:500])
    assert res.ok and res.max_abs_diff == 0.0, res


def test_report_as_python_data_and_html(repo: Path) -> None:
    prj = tachyon.convert(repo / "examples/tiny_mlp/tiny_mlp.onnx")
    r = prj.report()
    assert r.layers and all({"name", "kind", "estimate", "stage_out"} <= set(layer) for layer in r.layers)
    assert r.total["lut"] > 0 and r.latency_cycles >= 1 and r.ii_cycles == 1
    html = r._repr_html_()
    assert "<html" in html.lower() and r.layers[0]["name"] in html
    assert json.loads(json.dumps(r.data)) == r.data


def test_errors_are_python_exceptions_with_the_cli_message(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(tachyon.TachyonError, match="nonexistent.onnx"):
        tachyon.convert(tmp_path / "nonexistent.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage")
    with pytest.raises(tachyon.TachyonError, match="bad.onnx"):
        tachyon.convert(bad)
    with pytest.raises(tachyon.TachyonError, match="cannot read a object"):
        tachyon.convert(object())
    prj = tachyon.convert(repo / "examples/tiny_mlp/tiny_mlp.onnx")
    with pytest.raises(tachyon.TachyonError, match="not N inferences of 4 values"):
        prj.predict(np.zeros((3, 5)))
    (tmp_path / "exists").mkdir()
    with pytest.raises(tachyon.TachyonError, match="force=True"):
        prj.build(tmp_path / "exists")
    prj.build(tmp_path / "exists", force=True)
    with pytest.raises(tachyon.TachyonError, match="board"):
        tachyon.convert(repo / "examples/tiny_mlp/tiny_mlp.onnx", board="no-such-board")


def test_config_dict_equals_config_file(repo: Path, tmp_path: Path) -> None:
    cfg = {"layers": {"pool": {"set_reuse": 4}}}
    (tmp_path / "c.json").write_text(json.dumps(cfg))
    model = repo / "examples/deep_set/deep_set.onnx"
    a = tachyon.convert(model, config=cfg)
    b = tachyon.convert(model, config=tmp_path / "c.json")
    assert a.verilog == b.verilog != tachyon.convert(model).verilog
    # A wrong dict is named as such, not by a temporary file.
    with pytest.raises(tachyon.TachyonError, match=r"^config dict: .*unknown field `activation`"):
        tachyon.convert(model, config={"default": {"activation": "fixed<8,2>"}})


def test_the_notebook_example_runs(repo: Path, shared_models: Path, tmp_path: Path, verilator: None) -> None:
    os.environ.setdefault("KERAS_BACKEND", "jax")  # the exporter's pinned backend
    pytest.importorskip("hgq")
    script = repo / "examples/python/hgq2_to_fpga.py"
    r = subprocess.run(
        [sys.executable, script, shared_models / "hgq2/jsc_openml_530.keras", tmp_path / "prj"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "max |Δ| = 0.0" in r.stdout and ", 0 mismatches," in r.stdout, r.stdout
