"""Side-by-side reference: da4ml 0.6.0 on the exact jet MLP weights of ../shared/tools/make_jet_qonnx.py
(seed 0: 16-64-32-32-5, weights/biases on the fixed<8,3> grid, input fixed<16,6>, ReLU -> ufixed<8,3>
truncated, logits fixed<16,6>), pipelined with a given `latency_cutoff` (da4ml's own delay units;
7 gives the 6 stages at 5 ns of the hardware-quality issue), Verilog written to OUT_DIR.

Run it in a scratch virtualenv that has da4ml and numpy (never inside this repository):
    python3 -m venv /tmp/da4ml && /tmp/da4ml/bin/pip install da4ml==0.6.0
    /tmp/da4ml/bin/python benches/da4ml_compare.py OUT_DIR LATENCY_CUTOFF
then measure OUT_DIR/src with ../shared/tools/qor.sh. benches/run.sh does this when DA4ML_PYTHON
points at that interpreter. Note that da4ml wraps on overflow where the QONNX model saturates.
"""
import sys
import numpy as np
from da4ml.trace import FixedVariableArray, HWConfig, comb_trace, to_pipeline
from da4ml.codegen import RTLModel

out, cutoff = sys.argv[1], float(sys.argv[2])
# The weights of make_jet_qonnx.py (same generator, same order of draws).
rng = np.random.default_rng(0)
sizes = [16, 64, 32, 32, 5]
wbits, wint = 8, 3
wf = wbits - wint
lo, hi = -(2 ** (wbits - 1)), 2 ** (wbits - 1) - 1
Ws, bs = [], []
for n_in, n_out in zip(sizes[:-1], sizes[1:]):
    wi = np.clip(np.round(rng.normal(0, np.sqrt(2 / n_in), (n_in, n_out)) * 2**wf), lo, hi)
    bi = np.clip(np.round(rng.normal(0, 0.1, n_out) * 2**wf), lo, hi)
    Ws.append(wi / 2**wf)
    bs.append(bi / 2**wf)

inp = FixedVariableArray.from_kif(np.ones(16, dtype=np.int64), np.full(16, 5), np.full(16, 10), hwconf=HWConfig(1, -1, -1))
x = inp
for i, (W, b) in enumerate(zip(Ws, bs)):
    x = x @ W + b
    if i < len(Ws) - 1:
        x = x.relu(i=np.full(x.shape, 3), f=np.full(x.shape, 5), round_mode='TRN')
    else:
        x = x.quantize(k=np.ones(x.shape, dtype=np.int64), i=np.full(x.shape, 5), f=np.full(x.shape, 10))
comb = comb_trace(inp, x)
pipe = to_pipeline(comb, latency_cutoff=cutoff, verbose=False)
RTLModel(pipe, 'jet', out, flavor='verilog', latency_cutoff=cutoff, print_latency=False).write()
