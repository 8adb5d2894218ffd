"""compare and embed: verdicts with a known answer, the command line's numbers on the same files,
progress, errors, and the report directory."""

import json
import math
import subprocess
import warnings

import numpy as np
import pytest

import netmatch
from conftest import box, require_gpu, tanh_net

N = 1000


def pair(blind, seed=0):
    """Two random tanh networks (D = 8 and 12) of the same 2-D input, recorded with netmatch.record
    (the Python twin of the CLI's `--synthetic equivalent` / `blind`): A blind to x₂ is the control."""
    x = box(N, 21 + seed)
    a = netmatch.record(tanh_net(2, 8, 101 + seed, [1, 0 if blind else 1]), x, sigma=0.01, m=32, seed=1 + seed)
    b = netmatch.record(tanh_net(2, 12, 202 + seed), x, sigma=0.01, m=32, seed=2 + seed)
    return a, b


@pytest.fixture(scope="module")
def equivalent_report():
    a, b = pair(blind=False)
    return a, b, netmatch.compare(a, b, backend="cpu", progress=False)


def test_two_networks_of_the_same_input_are_equivalent_and_a_blind_one_is_not(equivalent_report):
    _, _, r = equivalent_report
    assert r.verdict == "equivalent", r.summary()
    a, b = pair(blind=True)
    control = netmatch.compare(a, b, backend="cpu", progress=False)
    assert control.verdict == "not_equivalent", control.summary()
    assert control.reasons


def test_report_exposes_every_number_and_the_arrays(equivalent_report):
    a, b, r = equivalent_report
    d = r.to_dict()
    assert d["verdict"] == r.verdict
    assert r["transform"]["rmse_ab"] == d["transform"]["rmse_ab"]
    assert r.transform == d["transform"] and r.eps == d["eps"]
    k = d["parameters"]["k"]
    assert r.coords_a.shape == (N, k + 1) and r.coords_b.shape == (N, k + 1)
    assert r.eigenvalues_a.shape == (k + 1,) and r.r_k_b.shape == (k,)
    assert r.aligned_a.shape == r.matched_b.shape
    rows = r.held_out
    assert rows.dtype == np.int64 and len(set(rows.tolist())) == len(rows)
    np.testing.assert_array_equal(r.true_b, b.obs[rows])
    np.testing.assert_array_equal(r.true_a, a.obs[rows])
    rmse = math.sqrt(((r.predicted_b - r.true_b) ** 2).sum() / ((r.true_b - r.true_b.mean(0)) ** 2).sum())
    assert rmse == pytest.approx(r.transform["rmse_ab"], rel=1e-9)
    assert set(r.arrays) >= {"coords_a", "aligned_a", "r_k_a", "predicted_b", "held_out"}
    assert "equivalent" in repr(r) and "verdict" in r.summary()
    with pytest.raises(AttributeError):
        r.no_such_field


def test_save_writes_the_cli_directory_and_refuses_to_overwrite(equivalent_report, tmp_path):
    _, _, r = equivalent_report
    out = tmp_path / "report"
    files = r.save(out)
    names = {p.split("/")[-1] for p in files}
    assert {"report.json", "report.npz", "embeddings.png", "embeddings.svg"} <= names
    assert json.loads((out / "report.json").read_text())["verdict"] == r.verdict
    with np.load(out / "report.npz") as z:
        np.testing.assert_array_equal(z["coords_a"], r.coords_a)
    with pytest.raises(ValueError, match="`dir`.*refusing to overwrite — pass force=True"):
        r.save(out)
    r.save(out, force=True)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def strip_run(report):
    """report.json without what differs between two runs of the same computation: timings."""
    report.pop("seconds", None)
    for side in ("a", "b"):
        report[side].pop("seconds", None)
    report.pop("total_seconds", None)
    report.pop("tool", None)
    return report


def assert_close(x, y, path="report"):
    """Equal structure, equal strings, numbers within 1e-9 relative."""
    if isinstance(x, dict):
        assert set(x) == set(y), f"{path}: keys {sorted(set(x) ^ set(y))}"
        for k in x:
            assert_close(x[k], y[k], f"{path}.{k}")
    elif isinstance(x, list):
        assert len(x) == len(y), f"{path}: lengths {len(x)} vs {len(y)}"
        for i, (u, v) in enumerate(zip(x, y)):
            assert_close(u, v, f"{path}[{i}]")
    elif isinstance(x, float) or isinstance(y, float):
        assert x == pytest.approx(y, rel=1e-9, abs=1e-300), f"{path}: {x} vs {y}"
    else:
        assert x == y, f"{path}: {x!r} vs {y!r}"


@pytest.mark.parametrize("blind", [False, True])
def test_python_and_the_cli_agree_on_the_same_files(cli, tmp_path, blind):
    a, b = pair(blind=blind, seed=5)
    pa, pb = tmp_path / "a.npz", tmp_path / "b.npz"
    a.save(pa)
    b.save(pb)
    out = tmp_path / "cli"
    run = subprocess.run(
        [cli, "compare", "--a", str(pa), "--b", str(pb), "--backend", "cpu", "--quiet", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    from_cli = json.loads((out / "report.json").read_text())
    r = netmatch.compare(str(pa), str(pb), backend="cpu", progress=False)
    assert r.verdict == from_cli["verdict"]
    assert_close(strip_run(r.to_dict()), strip_run(from_cli))
    with np.load(out / "report.npz") as z:
        arrays = r.arrays
        assert set(z.files) == set(arrays)
        for name in z.files:
            np.testing.assert_allclose(arrays[name], z[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_progress_reaches_a_callback_and_its_exception_is_raised():
    a, b = pair(blind=False, seed=1)
    events = []
    netmatch.compare(a, b, backend="cpu", progress=events.append)
    kinds = {e["kind"] for e in events}
    assert {"step", "finished"} <= kinds, kinds
    steps = [e for e in events if e["kind"] == "step"]
    assert all(0 <= e["done"] <= e["total"] for e in steps)

    def boom(event):
        raise KeyError("stop here")

    with pytest.raises(KeyError, match="stop here"):
        netmatch.compare(a, b, backend="cpu", progress=boom)
    with pytest.raises(ValueError, match="progress"):
        netmatch.compare(a, b, backend="cpu", progress="loud")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(predict_rmse=2.0), "predict_rmse"),
        (dict(equivalent_rmse=0.2), "`not_equivalent_rmse`: must be at least equivalent_rmse"),
        (dict(k=1), "`k`"),
        (dict(folds=1), "folds"),
        (dict(eps=-1.0), "eps"),
        (dict(eps="widest"), "eps"),
        (dict(neurons="some"), "neurons"),
        (dict(neurons=99), "neurons"),
        (dict(d=0), "`d`"),
        (dict(backend="tpu"), "backend"),
        (dict(test_fraction=0.9), "test_fraction"),
    ],
)
def test_bad_parameters_raise_value_error_naming_them(kwargs, match):
    a, b = pair(blind=False, seed=2)
    with pytest.raises(ValueError, match=match):
        netmatch.compare(a, b, backend=kwargs.pop("backend", "cpu"), progress=False, **kwargs)


def test_networks_of_different_inputs_are_refused():
    a, b = pair(blind=False, seed=3)
    small = netmatch.Observations(a.obs[:500], bursts=a.bursts[:500], sigma=a.sigma)
    with pytest.raises(ValueError, match="same base inputs: A has N = 500, B has N = 1000"):
        netmatch.compare(small, b, backend="cpu", progress=False)
    with pytest.raises(TypeError, match="Observations or the path"):
        netmatch.compare(a.obs, b, backend="cpu")


def test_the_wrappers_defaults_are_the_librarys():
    import inspect

    from netmatch import _native

    for fn, defaults in ((netmatch.compare, _native.compare_defaults()), (netmatch.embed, _native.embed_defaults())):
        sig = inspect.signature(fn).parameters
        for name, value in defaults.items():
            assert sig[name].default == value, f"{fn.__name__}({name}=...) defaults to {sig[name].default!r}, the library to {value!r}"


def test_embed_gives_the_cli_numbers(cli, tmp_path):
    a, _ = pair(blind=False, seed=4)
    path = tmp_path / "a.npz"
    a.save(path)
    out = tmp_path / "e.npz"
    run = subprocess.run([cli, "embed", "--input", str(path), "--backend", "cpu", "--out", str(out)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    e = netmatch.embed(path, backend="cpu", progress=False)
    assert e.converged and e.coords.shape == (N, 11)
    with np.load(out) as z:
        np.testing.assert_allclose(e.eigenvalues, z["eigenvalues"], rtol=1e-9)
        np.testing.assert_allclose(e.coords, z["coords"], rtol=1e-9, atol=1e-12)
    assert e.eps == pytest.approx(json.loads(run.stdout)["eps"], rel=1e-12)
    with pytest.raises(ValueError, match="alpha"):
        netmatch.embed(a, alpha=2.0, backend="cpu")
    with pytest.raises(netmatch.ConvergenceError, match="allow_unconverged"):
        netmatch.embed(a, backend="cpu", max_matvecs=12, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", netmatch.NetmatchWarning)
        loose = netmatch.embed(a, backend="cpu", max_matvecs=12, allow_unconverged=True, progress=False)
    assert not loose.converged


def test_the_gpu_path_gives_the_same_verdict():
    info = netmatch.info()
    if not info["adapters"]:
        if require_gpu():
            pytest.fail("NETMATCH_REQUIRE_GPU=1 but no GPU adapter is visible")
        pytest.skip("no GPU adapter")
    x = box(400, 9)
    a = netmatch.record(tanh_net(2, 8, 7), x, sigma=0.01, m=16, seed=1)
    b = netmatch.record(tanh_net(2, 12, 8), x, sigma=0.01, m=16, seed=2)
    on_cpu = netmatch.compare(a, b, backend="cpu", progress=False)
    on_gpu = netmatch.compare(a, b, backend="gpu", progress=False)
    assert on_gpu.to_dict()["backend"] == "gpu"
    assert on_gpu.verdict == on_cpu.verdict


def test_ctrl_c_stops_a_running_comparison():
    import _thread
    import threading
    import time

    a, b = pair(blind=False, seed=6)
    start = time.monotonic()
    netmatch.compare(a, b, backend="cpu", progress=False)
    full = time.monotonic() - start
    # What Ctrl-C does: the signal flag is set on the main thread, which is computing in Rust with the
    # GIL released; the library stops at its next step or eigensolver cycle.
    timer = threading.Timer(full / 5, _thread.interrupt_main)
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        netmatch.compare(a, b, backend="cpu", progress=False)
    stopped = time.monotonic() - start
    timer.join()
    assert stopped < 0.8 * full, f"stopped after {stopped:.2f} s of a {full:.2f} s comparison"
