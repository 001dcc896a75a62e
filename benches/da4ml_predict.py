"""da4ml 0.6.0's emulator (`CombLogic.predict`, one thread) on an HGQ2 checkpoint: prints
`SECONDS | INFERENCES_PER_S` (the best of REPEATS runs over N random vectors) for the Markdown
rows of benches/predict.sh and benches/cosim_rate.sh. Run with the Python of the scratch
virtualenv ../shared/tools/anchor_qor.sh makes.

    python da4ml_predict.py N MODEL.keras REPEATS
"""

import sys
import time

import numpy as np
import keras
import hgq  # noqa: F401  (registers the HGQ2 layers)
from da4ml.converter import trace_model
from da4ml.trace import HWConfig, comb_trace

n, path, repeats = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
m = keras.models.load_model(path, compile=False)
inp, o = trace_model(m, hwconf=HWConfig(1, -1, -1), solver_options={"hard_dc": 2})
comb = comb_trace(inp, o)
x = np.random.default_rng(0).normal(size=(n, 16))
comb.predict(x[:1000], n_threads=1)
best = 1e9
for _ in range(repeats):
    t = time.perf_counter()
    comb.predict(x, n_threads=1)
    best = min(best, time.perf_counter() - t)
print(f"{best:.2f} | {n / best:,.0f}")
