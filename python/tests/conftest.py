"""Shared helpers of the Python tests: seeded numpy networks with a known answer, and the command
line binary to compare against."""

import os
import pathlib
import shutil

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def tanh_net(d_in, width, seed, uses=None):
    """A random tanh layer x ↦ tanh(W x + b) (numpy, batch first). ``uses`` masks the inputs it sees:
    a network blind to an input is a negative control."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((d_in, width))
    if uses is not None:
        w = w * np.asarray(uses, dtype=float)[:, None]
    b = 0.5 * rng.standard_normal(width)
    return lambda x: np.tanh(np.asarray(x) @ w + b)


def box(n, seed, hi=(1.0, 0.6)):
    """N seeded base points in [0, hi₁] × [0, hi₂]."""
    return np.random.default_rng(seed).uniform(0.0, 1.0, (n, len(hi))) * np.asarray(hi)


@pytest.fixture(scope="session")
def cli():
    """The `netmatch` binary: $NETMATCH_CLI (CI sets it, so a missing binary fails there), else the
    release build of this checkout, else the test is skipped with the reason."""
    given = os.environ.get("NETMATCH_CLI")
    if given:
        assert pathlib.Path(given).is_file(), f"NETMATCH_CLI={given} does not exist"
        return given
    built = ROOT / "target" / "release" / "netmatch"
    if built.is_file():
        return str(built)
    found = shutil.which("netmatch")
    if found:
        return found
    pytest.skip("no netmatch binary: build it with `cargo build --release` or set NETMATCH_CLI")


def require_gpu():
    """Whether a missing adapter must fail (CI sets NETMATCH_REQUIRE_GPU=1) rather than skip."""
    return os.environ.get("NETMATCH_REQUIRE_GPU") == "1"
