"""Surrogates of the 8-particle HGQ2 transformers at more particles.

The anchors' 16- and 32-particle checkpoints are held back. This builds the same construction at
N particles from the 8-particle checkpoint: the model is rebuilt from its own config with an input
of N particles, and every weight and quantizer parameter that has a particle axis is tiled along
it (particles 0..7 repeated), so each layer keeps its trained bit widths. The attention then runs
over N particles, the Linformer's projection sums N of them and the dense layer after the flatten
reads N × 16 values. The surrogate is not a trained model (its accuracy means nothing); it measures
how the compiler, the co-simulation and the hardware grow with the particle count.

Vectors are drawn as for ../shared/models/hgq2 (seed 0, N(0, 1) then N(0, 4²)) and the surrogate's
own Keras output is the reference.

    .venv/bin/python benches/particles.py MODEL.keras N OUT_PREFIX
writes OUT_PREFIX.keras, OUT_PREFIX.input.npy and OUT_PREFIX.output.npy.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import hgq  # noqa: F401,E402  (registers HGQ2's layers with Keras)
import keras  # noqa: E402
import numpy as np  # noqa: E402


def tiled(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """`value` repeated along every axis where `shape` is a whole multiple of it."""
    reps = []
    for old, new in zip(value.shape, shape, strict=True):
        if new % old != 0:
            raise ValueError(f"cannot tile {value.shape} to {shape}")
        reps.append(new // old)
    return np.tile(value, reps)


def surrogate(path: str, particles: int) -> keras.Model:
    model = keras.models.load_model(path, compile=False)
    config = model.get_config()
    for layer in config["layers"]:
        # Each layer is built again from the tensors it is called on, at the new shapes.
        layer.pop("build_config", None)
        if layer["class_name"] == "InputLayer":
            shape = layer["config"]["batch_shape"]
            layer["config"]["batch_shape"] = [shape[0], particles, *shape[2:]]
    wide = keras.Model.from_config(config)
    # Quantizers are named by a global counter, so weights pair up by position; the layer and
    # variable names must agree.
    if len(model.weights) != len(wide.weights):
        raise ValueError(f"{path}: the rebuilt model has a different number of weights")
    for w_old, w in zip(model.weights, wide.weights, strict=True):
        if stem(w_old.path) != stem(w.path):
            raise ValueError(f"{path}: weights {w_old.path} and {w.path} do not pair up")
        w.assign(tiled(np.asarray(w_old.numpy()), tuple(w.shape)))
    return wide


def stem(path: str) -> tuple[str, str]:
    """A weight's layer and variable name, without the quantizers' counters."""
    parts = path.split("/")
    return parts[0], parts[-1]


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    path, particles, out = argv[1], int(argv[2]), argv[3]
    model = surrogate(path, particles)
    model.save(f"{out}.keras")
    shape = tuple(model.inputs[0].shape[1:])
    rng = np.random.default_rng(0)
    x = np.concatenate(
        [rng.normal(0, 1, (1000, *shape)), rng.normal(0, 4, (1000, *shape))]
    ).astype(np.float32)
    y = model.predict(x, verbose=0)
    np.save(f"{out}.input.npy", x)
    np.save(f"{out}.output.npy", y.astype(np.float32))
    print(f"{out}.keras: {particles} particles, input {shape}, output {tuple(y.shape[1:])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
