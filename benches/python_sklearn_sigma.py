"""The README's Python quick start with the first network's activation, the burst radius σ and the
seed as arguments: how the verdicts depend on σ for ReLU and tanh scikit-learn networks, and on
networks and data never seen while the quick start was written.

    python benches/python_sklearn_sigma.py relu|tanh SIGMA SEED [unknown]   # venv with the netmatch wheel

`unknown` drops the burst design `record` writes (`burst_dim`), so that d is estimated from the bursts.

Prints: activation, σ, the pair's verdict, the control's verdict, d from each network's bursts, and
the pair's first reason."""

import sys

import numpy as np
from sklearn.neural_network import MLPRegressor

import netmatch

act_a, sigma, s = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(s)
x = rng.uniform(-1, 1, size=(2000, 2))


def task(x):
    return np.c_[np.tanh(x[:, 0] + 0.5 * x[:, 1]), np.sin(2 * x[:, 1]), x[:, 0] * x[:, 1]]


def other(x):
    return task(np.c_[x[:, 0], np.zeros(len(x))])


fit = dict(max_iter=2000, tol=1e-7, n_iter_no_change=50)
net_a = MLPRegressor(hidden_layer_sizes=(64, 64), activation=act_a, random_state=1 + 10 * s, **fit).fit(x, task(x))
net_b = MLPRegressor(hidden_layer_sizes=(32, 32, 32), activation="tanh", random_state=2 + 10 * s, **fit).fit(x, task(x))
control = MLPRegressor(hidden_layer_sizes=(64, 64), activation=act_a, random_state=3 + 10 * s, **fit).fit(x, other(x))
base = rng.uniform(-0.9, 0.9, size=(1000, 2))
a = netmatch.record(net_a.predict, base, sigma=sigma, m=16)
b = netmatch.record(net_b.predict, base, sigma=sigma, m=16)
c = netmatch.record(control.predict, base, sigma=sigma, m=16)
if sys.argv[4:] == ["unknown"]:
    a, b, c = (netmatch.Observations(o.obs, bursts=o.bursts, sigma=o.sigma, inputs=o.inputs) for o in (a, b, c))
r = netmatch.compare(a, b, progress=False)
rc = netmatch.compare(a, c, progress=False)
print(act_a, sigma, r.verdict, rc.verdict, r.intrinsic_dimension, r.reasons[0][:120])
