"""record: order, seeding, batching, make_input, Jacobians, conversions and errors."""

import numpy as np
import pytest

import netmatch
from conftest import box, tanh_net


def test_bursts_are_the_network_at_seeded_perturbations_in_order():
    x = box(40, 1)
    net = tanh_net(2, 6, 2)
    o = netmatch.record(net, x, sigma=0.05, m=5, seed=7, batch=13, progress=False)
    assert (o.n, o.dim, o.m, o.sigma) == (40, 6, 5, 0.05)
    # The burst design (2 input directions) is recorded: it is the intrinsic dimension d.
    assert o.burst_dim == 2
    np.testing.assert_array_equal(o.obs, net(x))
    np.testing.assert_array_equal(o.inputs, x)
    xi = np.random.default_rng(7).standard_normal((40, 5, 2))
    np.testing.assert_allclose(o.bursts, net((x[:, None, :] + 0.05 * xi).reshape(-1, 2)).reshape(40, 5, 6), rtol=1e-15)
    # The batch size changes nothing; the seed changes the bursts.
    again = netmatch.record(net, x, sigma=0.05, m=5, seed=7, batch=1000, progress=False)
    np.testing.assert_array_equal(again.bursts, o.bursts)
    other = netmatch.record(net, x, sigma=0.05, m=5, seed=8, progress=False)
    assert not np.array_equal(other.bursts, o.bursts)


def test_make_input_maps_intrinsic_points_to_network_inputs():
    angles = np.linspace(0, 2 * np.pi, 60, endpoint=False)
    seen = []

    def render(t):  # angle → a tiny 2×3 "image" (a list of arrays, as a renderer might return)
        seen.append(t.shape)
        return [np.outer([np.cos(a[0]), np.sin(a[0])], [1.0, 2.0, 3.0]) for a in t]

    def net(images):
        return np.asarray(images).reshape(len(images), -1)[:, :4]

    o = netmatch.record(net, angles, sigma=0.01, m=4, make_input=render, batch=50, progress=False)
    assert (o.n, o.dim) == (60, 4)
    assert all(s[1] == 1 and s[0] <= 50 for s in seen)
    np.testing.assert_allclose(o.obs[:, 0], np.cos(angles))


def test_jacobians_from_fn_or_a_second_callable():
    w = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])

    def act(x):
        return np.tanh(x @ w)

    def jac(x):
        s = 1 - np.tanh(x @ w) ** 2  # k×D
        return s[:, :, None] * w.T[None, :, :]  # k×D×d

    x = box(30, 4)
    both = netmatch.record(lambda x: (act(x), jac(x)), x, sigma=0.1, jacobians=True, progress=False)
    split = netmatch.record(act, x, sigma=0.1, jacobians=jac, progress=False)
    assert both.bursts is None and both.jacobians.shape == (30, 3, 2)
    np.testing.assert_array_equal(both.jacobians, split.jacobians)
    np.testing.assert_array_equal(both.obs, act(x))
    with pytest.raises(ValueError, match="k×D×d"):
        netmatch.record(act, x, jacobians=lambda x: jac(x)[:, :, :1], progress=False)
    with pytest.raises(ValueError, match=r"\(activations, jacobians\)"):
        netmatch.record(act, x, jacobians=True, progress=False)


class FakeTensor:
    """What a PyTorch tensor offers: detach(), cpu(), numpy()."""

    def __init__(self, a):
        self.a = a

    def detach(self):
        return self

    def cpu(self):
        return self

    def numpy(self):
        return self.a


def test_tensor_like_results_are_converted_and_saved(tmp_path):
    x = box(25, 5)
    net = tanh_net(2, 3, 6)
    path = tmp_path / "net.npz"
    o = netmatch.record(lambda x: FakeTensor(net(x).astype(np.float32)), x, sigma=0.01, m=3, save=path, progress=False)
    back = netmatch.Observations.load(str(path))
    np.testing.assert_array_equal(back.bursts, o.bursts)
    assert back.burst_dim == o.burst_dim == 2


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(m=None), ValueError, "burst size"),
        (dict(m=1), ValueError, "burst size"),
        (dict(sigma=0.0), ValueError, "sigma"),
        (dict(batch=0), ValueError, "batch"),
        (dict(base=np.zeros((1, 2))), ValueError, "N ≥ 2"),
        (dict(base=np.full((5, 2), np.nan)), ValueError, "non-finite"),
        (dict(fn=lambda x: np.ones((3, 2))), ValueError, "for a batch of"),
        (dict(fn=lambda x: "text"), TypeError, "not convertible"),
        (dict(fn=42), TypeError, "callable"),
        (dict(make_input=lambda x: x[:1]), ValueError, "make_input returned"),
        (dict(jacobians="yes"), TypeError, "jacobians"),
    ],
)
def test_bad_calls_say_what_is_wrong(kwargs, error, match):
    args = dict(fn=tanh_net(2, 3, 1), base=box(20, 1), sigma=0.01, m=4, progress=False)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        netmatch.record(**args)


def test_progress_events_cover_every_batch():
    events = []
    netmatch.record(tanh_net(2, 3, 1), box(20, 1), sigma=0.01, m=4, batch=30, progress=events.append)
    steps = [e for e in events if e["kind"] == "step"]
    assert len(steps) == 4 and events[-1]["kind"] == "finished"  # 20 + 80 points in batches of 30
