"""Observations from arrays: the same checks and messages as the files the command line reads."""

import numpy as np
import pytest

import netmatch
from conftest import box, tanh_net


def burst_arrays(n=60, m=8, seed=0):
    x = box(n, seed)
    net = tanh_net(2, 5, seed + 1)
    rng = np.random.default_rng(seed + 2)
    xb = x[:, None, :] + 0.01 * rng.standard_normal((n, m, 2))
    return net(x), net(xb.reshape(n * m, 2)).reshape(n, m, 5), x


def file_message(tmp_path, **arrays):
    """The message the file reader gives for the same arrays (without the path prefix)."""
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError) as e:
        netmatch.Observations.load(str(path))
    return str(e.value).split(": ", 1)[1]


def test_valid_arrays_of_any_float_dtype_are_accepted_and_read_back():
    obs, bursts, x = burst_arrays()
    o = netmatch.Observations(obs.astype(np.float32), bursts=bursts.tolist(), sigma=0.01, inputs=x)
    assert (o.n, o.dim, o.m, o.sigma) == (60, 5, 8, 0.01)
    assert len(o) == 60
    np.testing.assert_array_equal(o.obs, obs.astype(np.float32).astype(np.float64))
    np.testing.assert_array_equal(o.bursts, bursts)
    np.testing.assert_array_equal(o.inputs, x)
    assert o.jacobians is None and o.outputs is None
    # Views of the validated data, not copies, and read-only.
    assert not o.bursts.flags.writeable and not o.bursts.flags.owndata
    with pytest.raises(ValueError):
        o.obs[0, 0] = np.nan
    assert "N = 60, D = 5, bursts M = 8" in repr(o)


def test_one_dimensional_obs_is_one_column_as_in_a_file():
    rng = np.random.default_rng(3)
    t = np.linspace(0, 1, 50)
    obs = np.sin(3 * t)
    bursts = np.sin(3 * (t[:, None] + 0.01 * rng.standard_normal((50, 4))))[:, :, None]
    o = netmatch.Observations(obs, bursts=bursts)
    assert (o.n, o.dim) == (50, 1)


@pytest.mark.parametrize(
    "change, expect",
    [
        (lambda a: a.update(bursts=a["bursts"][:, :, :3]), "`bursts` must be N×M×D = 60×M×5"),
        (lambda a: a.update(bursts=a["bursts"][:, :1]), "M ≥ 2"),
        (lambda a: a.update(inputs=a["inputs"][:10]), "`inputs` must be N×… with N = 60 rows"),
        (lambda a: a["obs"].__setitem__((4, 2), np.nan), "non-finite value in `obs` at flat index 22"),
        (lambda a: a["bursts"].__setitem__((0, 0, 0), np.inf), "non-finite value in `bursts` at flat index 0"),
        (lambda a: a.update(obs=np.zeros((60, 5, 2))), "`obs` must be 1-D or 2-D"),
        (lambda a: a.update(bursts=a["bursts"] + 50.0), "`bursts` do not surround `obs`"),
    ],
)
def test_bad_arrays_raise_value_error_with_the_files_message(tmp_path, change, expect):
    obs, bursts, x = burst_arrays()
    arrays = {"obs": obs, "bursts": bursts, "inputs": x}
    change(arrays)
    with pytest.raises(ValueError) as e:
        netmatch.Observations(arrays["obs"], bursts=arrays["bursts"], inputs=arrays["inputs"])
    assert expect in str(e.value)
    from_file = file_message(tmp_path, **arrays)
    assert expect in from_file
    # The same words, whichever way the arrays arrive (the file's message names the file instead of
    # "shape error"/the array class).
    assert from_file.split("`", 1)[1] in str(e.value)


def test_bursts_or_jacobians_exactly_one_and_sigma_checked():
    obs, bursts, _ = burst_arrays()
    with pytest.raises(ValueError, match="not both"):
        netmatch.Observations(obs, bursts=bursts, jacobians=np.ones((60, 5, 2)))
    with pytest.raises(ValueError, match="bursts.*jacobians"):
        netmatch.Observations(obs)
    with pytest.raises(ValueError, match="sigma"):
        netmatch.Observations(obs, bursts=bursts, sigma=-1.0)
    with pytest.raises(ValueError, match="sigma"):
        netmatch.Observations(obs, bursts=bursts, sigma=float("nan"))
    with pytest.raises(ValueError, match="`jacobians` must be N×D×d = 60×5×d"):
        netmatch.Observations(obs, jacobians=np.ones((60, 4, 2)))
    with pytest.raises(ValueError, match="could not convert"):
        netmatch.Observations("not an array", bursts=bursts)


def test_save_and_load_round_trip(tmp_path):
    obs, bursts, x = burst_arrays()
    o = netmatch.Observations(obs, bursts=bursts, sigma=0.01, inputs=x, outputs=obs[:, :2])
    path = tmp_path / "a.npz"
    o.save(str(path))
    back = netmatch.Observations.load(str(path))
    for name in ("obs", "bursts", "inputs", "outputs"):
        np.testing.assert_array_equal(getattr(back, name), getattr(o, name))
    assert back.sigma == 0.01 and back.source == str(path)
    with pytest.raises(OSError):
        netmatch.Observations.load(str(tmp_path / "missing.npz"))
    with pytest.raises(ValueError, match="unknown extension"):
        netmatch.Observations.load(str(tmp_path / "a.txt"))


def test_burst_dim_is_declared_checked_and_kept():
    obs, bursts, _ = burst_arrays()
    o = netmatch.Observations(obs, bursts=bursts, burst_dim=2)
    assert o.burst_dim == 2
    assert netmatch.Observations(o.obs, bursts=o.bursts).burst_dim is None
    with pytest.raises(ValueError, match="burst_dim"):
        netmatch.Observations(o.obs, bursts=o.bursts, burst_dim=0)
    with pytest.raises(ValueError, match="columns"):
        netmatch.Observations(o.obs, jacobians=np.ones((60, 5, 2)), burst_dim=3)
