"""Small HGQ2 models built here, exported, and checked against the Keras model's own
`predict` bit for bit: WRAP overflow, pruned elements, RND ties, SAT_SYM weights, folded batch
norm, einsum equations, QSum/QAdd broadcasting, reshapes, and softmax/attention with a real
(non-constant) inverse table."""

from __future__ import annotations

from typing import Any

import numpy as np

from tachyon_export import semantics

from .conftest import set_kif


def check(keras: Any, model: Any, x: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    from tachyon_export.exporter import export_model

    want = np.asarray(model.predict(x, verbose=0), dtype=np.float64)
    proto = export_model(model)
    got = semantics.run(proto, {proto.graph.input[0].name: x})["output"]
    assert got.shape == want.shape
    assert np.abs(got - want).max() == 0.0, np.argwhere(got != want)[:5]
    return want


def test_qdense_wrap_pruned_ties_sat_sym(keras: Any) -> None:
    from hgq.layers import QDense
    from hgq.quantizer import QuantizerConfig

    rng = np.random.default_rng(0)
    iq = QuantizerConfig("kif", "datalane", k0=1, i0=2, f0=2, round_mode="RND", overflow_mode="WRAP")
    kq = QuantizerConfig("kbi", "weight", k0=1, b0=3, i0=0, round_mode="RND", overflow_mode="SAT_SYM")
    inp = keras.Input((6,))
    d1 = QDense(5, activation="relu", iq_conf=iq, kq_conf=kq, name="d1")
    d2 = QDense(3, iq_conf=iq, kq_conf=kq, name="d2")
    model = keras.Model(inp, d2(d1(inp)))
    i = np.array([[2, 1, 0, 3, -2, 1]])
    f = np.array([[2, 3, 1, 0, 0, 4]])
    k = np.array([[1, 1, 0, 1, 1, 1]])  # element 4: k+i+f = -1, pruned; element 2 unsigned
    set_kif(d1.iq, k, i, f)
    set_kif(d2.iq, 1, np.array([[1, 2, 3, 1, 2]]), np.array([[2, 1, 0, 3, 1]]))
    d1.kernel.assign(rng.uniform(-3, 3, (6, 5)).astype(np.float32))  # SAT_SYM clips to ±(1 − 2^-f)
    d1.bias.assign(rng.normal(0, 1, 5).astype(np.float32))
    d2.kernel.assign(rng.uniform(-3, 3, (5, 3)).astype(np.float32))
    wild = rng.normal(0, 10, (200, 6))  # overflows the WRAP input quantizer
    ties = (rng.integers(-20, 20, (200, 6)) + 0.5) * 2.0 ** -f  # exact ±0.5-code ties
    x = np.concatenate([wild, ties]).astype(np.float32)
    check(keras, model, x)
    q = d1.kq.quantizer  # the SAT_SYM kernel really saturated somewhere
    assert np.abs(np.asarray(d1.qkernel)).max() == float(np.max(2.0 ** np.asarray(q.i) - 2.0 ** -np.asarray(q.f)))


def test_particle_model_batchnorm_sum_add_reshape(keras: Any) -> None:
    from hgq.layers import QAdd, QDense, QEinsumDense, QEinsumDenseBatchnorm, QSum

    rng = np.random.default_rng(1)
    inp = keras.Input((5, 4))
    bn = QEinsumDenseBatchnorm("bnc,cC->bnC", (5, 6), bias_axes="C", activation="relu", name="bn")
    h = bn(inp)
    pooled = QSum(axes=1, scale=0.25, keepdims=True, name="pool")(h)
    h = QAdd(name="add")([h, pooled])
    h = keras.layers.Permute((2, 1), name="perm")(h)  # (6, 5)
    h = keras.layers.Reshape((3, 10), name="resh")(h)
    h = QEinsumDense("bnc,cde->bnde", (3, 2, 4), bias_axes="de", name="ein")(h)
    h = keras.layers.Flatten(name="flat")(h)
    out = QDense(3, name="out")(h)
    model = keras.Model(inp, out)
    model.predict(np.zeros((1, 5, 4), np.float32), verbose=0)
    bn.moving_mean.assign(rng.normal(0, 1, 6).astype(np.float32))
    bn.moving_variance.assign(rng.uniform(0.2, 3, 6).astype(np.float32))
    bn.bn_gamma.assign(rng.uniform(0.5, 2, 6).astype(np.float32))
    x = rng.normal(0, 3, (300, 5, 4)).astype(np.float32)
    y = check(keras, model, x)
    assert np.unique(y).size > 10


def test_softmax_with_inverse_table(keras: Any) -> None:
    from hgq.layers import QSoftmax
    from hgq.quantizer import QuantizerConfig

    rng = np.random.default_rng(2)
    inp = keras.Input((3, 5))
    sm = QSoftmax(
        axis=-1,
        exp_iq_conf=QuantizerConfig("kif", "datalane", k0=0, i0=3, f0=3, overflow_mode="SAT"),
        inv_iq_conf=QuantizerConfig("kif", "datalane", k0=0, i0=3, f0=4, overflow_mode="SAT"),
        exp_oq_conf=QuantizerConfig("kif", "table", k0=0, i0=1, f0=6),
        inv_oq_conf=QuantizerConfig("kif", "table", k0=0, i0=1, f0=6),
        name="sm",
    )
    model = keras.Model(inp, sm(inp))
    x = rng.normal(0, 2, (300, 3, 5)).astype(np.float32)
    check(keras, model, x)
    from tachyon_export.exporter import export_model

    ops = [n.op_type for n in export_model(model).graph.node]
    assert ops.count("Lookup") == 2 and "ReduceSum" in ops


def test_attention_layers(keras: Any) -> None:
    from hgq.layers import QLinformerAttention, QMultiHeadAttention
    from hgq.quantizer import QuantizerConfig

    rng = np.random.default_rng(3)
    inv_iq = QuantizerConfig("kif", "datalane", k0=0, i0=3, f0=3, overflow_mode="SAT")
    inp = keras.Input((4, 6))
    mha = QMultiHeadAttention(num_heads=2, key_dim=4, softmax_inv_iq_conf=inv_iq, name="mha")
    lin = QLinformerAttention(num_heads=1, lin_kv_proj_dim=2, key_dim=4, name="lin")
    h = mha(inp, inp)
    out = lin(h, inp, inp)
    model = keras.Model(inp, out)
    x = rng.normal(0, 2, (200, 4, 6)).astype(np.float32)
    y = check(keras, model, x)
    assert np.unique(y).size > 10
    from tachyon_export.exporter import export_model

    names = [n.name for n in export_model(model).graph.node]
    assert "mha/softmax/inv" in names  # a real inverse table, not the constant case


def test_conv_layers(keras: Any) -> None:
    from hgq.layers import QConv1D, QConv2D

    rng = np.random.default_rng(4)
    inp1 = keras.Input((9, 3))
    h = QConv1D(4, 3, strides=2, padding="same", activation="relu", name="c1")(inp1)
    h = QConv1D(4, 2, dilation_rate=2, padding="valid", groups=2, name="c1b")(h)
    check(keras, keras.Model(inp1, h), rng.normal(0, 3, (100, 9, 3)).astype(np.float32))
    inp2 = keras.Input((6, 5, 2))
    h2 = QConv2D(3, (3, 2), strides=(1, 2), padding="same", name="c2")(inp2)
    h2 = QConv2D(2, 2, padding="valid", activation="relu", name="c2b")(h2)
    check(keras, keras.Model(inp2, h2), rng.normal(0, 3, (100, 6, 5, 2)).astype(np.float32))


def test_table_activations(keras: Any) -> None:
    """`QUnaryFunctionLUT` with homogeneous quantizers (one exact table, `oq` included), with a
    per-element input quantizer (a union-grid table and a per-element `oq`), and the affine
    variant."""
    from hgq.layers import QAffinedUnaryFunctionLUT, QDense, QUnaryFunctionLUT
    from hgq.quantizer import QuantizerConfig

    rng = np.random.default_rng(5)
    iq = QuantizerConfig("kif", "datalane", k0=1, i0=2, f0=3, round_mode="RND", overflow_mode="SAT")
    inp = keras.Input((6,))
    h = QDense(5, name="d")(inp)
    t1 = QUnaryFunctionLUT("tanh", iq_conf=iq, name="t1")
    t2 = QUnaryFunctionLUT("sigmoid", name="t2")
    t3 = QAffinedUnaryFunctionLUT("tanh", iq_conf=iq, name="t3")
    out = QDense(3, name="o")(t3(t2(t1(h))))
    model = keras.Model(inp, out)
    x = rng.normal(0, 3, (300, 6)).astype(np.float32)
    model.predict(x[:1], verbose=0)
    t3.scale.assign(np.array([1.3], np.float32))
    t3.bias.assign(np.array([-0.2], np.float32))
    check(keras, model, x)
    from tachyon_export.exporter import export_model

    assert [n.op_type for n in export_model(model).graph.node].count("Lookup") == 3
    set_kif(t2.iq, 1, np.array([[1, 2, 0, 1, 3]]), np.array([[2, 3, 4, 1, 2]]))  # heterogeneous
    y = check(keras, model, x)
    assert np.unique(y).size > 50


def test_merges_and_pooling(keras: Any) -> None:
    """The element-wise merges (`QSubtract`, `QMultiply`, `QMaximum`, `QMinimum`,
    `QAveragePow2`), `QMeanPow2`, and max/average pooling, windowed and global."""
    from hgq.layers import (
        QAveragePooling1D,
        QAveragePow2,
        QConv1D,
        QGlobalAveragePooling1D,
        QGlobalMaxPooling1D,
        QMaximum,
        QMaxPooling1D,
        QMeanPow2,
        QMinimum,
        QMultiply,
        QSubtract,
    )

    rng = np.random.default_rng(6)
    inp = keras.Input((8, 3))
    a = QConv1D(4, 3, padding="same", name="ca")(inp)
    b = QConv1D(4, 1, name="cb")(inp)
    m = QMaximum(name="max")([QSubtract(name="sub")([a, b]), QMultiply(name="mul")([a, b])])
    m = QMinimum(name="min")([m, QAveragePow2(name="avg")([a, b])])
    p = QMaxPooling1D(2, padding="same", name="mp")(m)  # 8 → 4
    q = QAveragePooling1D(2, name="ap")(m)  # 8 → 4
    g1 = QGlobalMaxPooling1D(name="gmax")(p)
    g2 = QGlobalAveragePooling1D(name="gavg")(q)
    s = QMeanPow2(axes=1, name="mean")(q)
    out = QAveragePow2(name="avg2")([g1, g2, s])
    model = keras.Model(inp, out)
    x = rng.normal(0, 2, (300, 8, 3)).astype(np.float32)
    y = check(keras, model, x)
    assert np.unique(y).size > 50


def test_average_pooling_over_three_is_refused(keras: Any) -> None:
    from hgq.layers import QAveragePooling1D

    from tachyon_export.errors import UnsupportedLayerError
    from tachyon_export.exporter import export_model

    inp = keras.Input((9, 2))
    model = keras.Model(inp, QAveragePooling1D(3, name="ap3")(inp))
    try:
        export_model(model)
    except UnsupportedLayerError as e:
        assert "ap3" in str(e) and "power-of-two" in str(e), str(e)
    else:
        raise AssertionError("average pooling over 3 exported")


def test_batchnorm_and_einsum(keras: Any) -> None:
    """A stand-alone `QBatchNormalization` (quantized scale and offset) and a two-input
    `QEinsum` (a product of two activations)."""
    from hgq.layers import QBatchNormalization, QDense, QEinsum

    rng = np.random.default_rng(7)
    inp = keras.Input((4, 5))
    bn = QBatchNormalization(name="bn")
    h = bn(inp)
    a = QDense(3, name="da")(h)
    b = QDense(3, name="db")(h)
    out = QEinsum("bnc,bmc->bnm", name="ein")([a, b])
    model = keras.Model(inp, out)
    model.predict(np.zeros((1, 4, 5), np.float32), verbose=0)
    bn.moving_mean.assign(rng.normal(0, 1, 5).astype(np.float32))
    bn.moving_variance.assign(rng.uniform(0.2, 3, 5).astype(np.float32))
    bn.bn_gamma.assign(rng.uniform(0.5, 2, 5).astype(np.float32))
    y = check(keras, model, rng.normal(0, 2, (200, 4, 5)).astype(np.float32))
    assert np.unique(y).size > 50
