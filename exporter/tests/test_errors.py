"""Unsupported layers and missing dependencies give one clear error and write nothing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tachyon_export.cli import main
from tachyon_export.errors import MissingDependencyError, UnsupportedLayerError


def test_unsupported_layer_cli_exit_2_and_no_file(keras: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hgq.layers import QDense

    inp = keras.Input((4,))
    model = keras.Model(inp, QDense(2, name="qd")(keras.layers.Dense(3, name="plain_dense")(inp)))
    src, dst = tmp_path / "m.keras", tmp_path / "m.onnx"
    model.save(src)
    assert main([str(src), str(dst)]) == 2
    err = capsys.readouterr().err
    assert "layer 'plain_dense' of class Dense is not supported" in err
    assert "Supported layer classes:" in err and "QDense" in err and "QMultiHeadAttention" in err
    assert not dst.exists() and list(tmp_path.iterdir()) == [src]


def test_unsupported_activation_names_the_layer(keras: Any) -> None:
    from hgq.layers import QDense

    from tachyon_export.exporter import export_model

    inp = keras.Input((4,))
    model = keras.Model(inp, QDense(2, activation="tanh", name="qt")(inp))
    with pytest.raises(UnsupportedLayerError, match=r"layer 'qt' \(QDense\): activation 'tanh'"):
        export_model(model)


def test_cli_writes_a_model(keras: Any, tmp_path: Path) -> None:
    from hgq.layers import QDense

    inp = keras.Input((4,))
    keras.Model(inp, QDense(2, name="qd")(inp)).save(tmp_path / "m.keras")
    assert main([str(tmp_path / "m.keras"), str(tmp_path / "m.onnx")]) == 0
    import onnx

    proto = onnx.load(str(tmp_path / "m.onnx"))
    assert [n.op_type for n in proto.graph.node] == ["FixedQuant", "MatMul", "Add", "Identity"]


def test_missing_hgq_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from tachyon_export.deps import import_keras

    monkeypatch.setitem(sys.modules, "hgq", None)
    with pytest.raises(MissingDependencyError) as e:
        import_keras()
    assert "scripts/python-env.sh" in str(e.value)
    assert "pip install hgq2==0.2.0 keras==3.15.1 jax==0.10.2" in str(e.value)
    assert e.value.exit_code == 3


def test_cache_reuses_an_export_and_keys_on_the_bytes(keras: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The second export of the same file comes from the cache (byte-identical, no Keras
    needed); a different model is a different key."""
    from hgq.layers import QDense

    from tachyon_export.cache import cache_key

    inp = keras.Input((3,))
    src = tmp_path / "m.keras"
    keras.Model(inp, QDense(2, name="d")(inp)).save(src)
    cache = tmp_path / "cache"
    assert main([str(src), str(tmp_path / "a.onnx"), "--cache", str(cache)]) == 0
    assert "cached" not in capsys.readouterr().out
    assert main([str(src), str(tmp_path / "b.onnx"), "--cache", str(cache)]) == 0
    assert "cached export" in capsys.readouterr().out
    assert (tmp_path / "a.onnx").read_bytes() == (tmp_path / "b.onnx").read_bytes()
    assert [p.name for p in cache.iterdir()] == [f"{cache_key(src)}.onnx"]
    other = tmp_path / "n.keras"
    keras.Model(inp, QDense(3, name="d")(inp)).save(other)
    assert cache_key(other) != cache_key(src)


def test_a_second_export_reuses_xla_compilations(keras: Any, tmp_path: Path) -> None:
    """The CLI keeps JAX's compilations in the cache folder (`xla/`): a retrained model (same
    layers, new weights: a new export key) loads from them and exports the same bytes as
    without any cache."""
    import subprocess

    from hgq.layers import QDense

    inp = keras.Input((5,))
    dense = QDense(3, name="d")
    model = keras.Model(inp, dense(inp))
    model.save(tmp_path / "a.keras")
    dense.kernel.assign(dense.kernel * 2.0)
    model.save(tmp_path / "b.keras")
    cache = tmp_path / "cache"

    def cli(src: str, dst: str, *extra: str) -> None:
        run = subprocess.run(
            [sys.executable, "-m", "tachyon_export", str(tmp_path / src), str(tmp_path / dst), *extra],
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, run.stderr

    cli("a.keras", "a.onnx", "--cache", str(cache))
    compiled = {p.name for p in (cache / "xla").iterdir()}
    assert compiled, "no XLA compilation was kept"
    cli("b.keras", "b.onnx", "--cache", str(cache))
    assert {p.name for p in (cache / "xla").iterdir()} >= compiled
    cli("b.keras", "b_uncached.onnx")
    assert (tmp_path / "b.onnx").read_bytes() == (tmp_path / "b_uncached.onnx").read_bytes()
    assert (tmp_path / "a.onnx").read_bytes() != (tmp_path / "b.onnx").read_bytes()


def test_reference_check_passes_an_exact_export_and_names_a_one_lsb_difference(keras: Any, tmp_path: Path) -> None:
    """`reference_check.py`, which the Rust HGQ2 test runs on each checkpoint's export, accepts
    Keras's own outputs and reports a single output off by one step, with where it is."""
    import onnx
    from hgq.layers import QDense
    from hgq.quantizer import QuantizerConfig

    from tachyon_export.exporter import export_model

    from .reference_check import check

    iq = QuantizerConfig("kif", "datalane", k0=1, i0=2, f0=3, round_mode="RND", overflow_mode="WRAP")
    inp = keras.Input((4,))
    model = keras.Model(inp, QDense(3, iq_conf=iq, name="d")(inp))
    x = np.random.default_rng(3).normal(0, 4, (50, 4)).astype(np.float32)
    y = np.asarray(model.predict(x, verbose=0), dtype=np.float64)
    onnx.save(export_model(model), tmp_path / "m.onnx")
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    assert check(str(tmp_path / "m.onnx"), str(tmp_path / "x.npy"), str(tmp_path / "y.npy")) is None
    y[7, 1] += 2.0**-20
    np.save(tmp_path / "y.npy", y)
    problem = check(str(tmp_path / "m.onnx"), str(tmp_path / "x.npy"), str(tmp_path / "y.npy"))
    assert problem is not None and "1 outputs differ" in problem and "(7, 1)" in problem, problem
